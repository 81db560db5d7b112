/* admin_ui.h — what every screen of the admin portal shares: its address,
 * its page (layout, navigation, the staff member's role), list pages in
 * the manner of Django admin's (search, filters, sorting, pages, CSV), and
 * the actor for the audit log.
 *
 *   admin_list lp;
 *   admin_list_read(req, (const char *const[]){"created", "total", "number", NULL}, "created", true, &lp);
 *   … ask the shop layer for rows lp.offset .. lp.offset + lp.per_page, and the total …
 *   if (lp.csv) { admin_csv(req, res, "orders.csv", header, ncols, rows); return; }
 *   json_t *ctx = json_pack("{s:s,s:o,s:o}", "page_title", "Orders", "rows", rows, "pages", admin_pages(req, &lp, total));
 *   admin_page(req, res, 200, "admin/orders", "orders", ctx);
 *
 * Who may call a screen (staff / superuser, hidden behind ADMIN_PATH,
 * CSRF, the password again for dangerous actions) is the route table's
 * (app.c: admin routes), enforced before the handler. */
#ifndef SHOEASE_VIEWS_ADMIN_UI_H
#define SHOEASE_VIEWS_ADMIN_UI_H

#include "http/http.h"
#include "shop/audit.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define ADMIN_PER_PAGE 50
#define ADMIN_CSV_MAX_ROWS 50000

/* ADMIN_PATH + suffix ("/orders" → "/staff-…/orders"), in the request's pool. */
const char *admin_url(http_request *req, const char *suffix);

/* The person doing this, for audit_record: the signed-in staff member and
 * the client's address. */
audit_actor admin_actor(http_request *req);

/* Render an admin template (its own layout: templates/admin/layout.mustache)
 * with the portal's navigation (nav: the section to mark current, e.g.
 * "orders"), the admin base path, the staff member's name and role, the
 * CSRF token and any one-time message. Consumes ctx. */
void admin_page(http_request *req, http_response *res, int status, const char *tmpl, const char *nav, json_t *ctx);

/* A list page's parameters from the query string: q (search), sort (one of
 * sortable, else dflt; "-name" sorts descending), page (1…), csv=1. */
typedef struct admin_list {
    const char *q;
    const char *sort;        /* one of sortable */
    bool desc;
    int page, per_page, offset;
    bool csv;
} admin_list;
void admin_list_read(http_request *req, const char *const *sortable, const char *dflt, bool dflt_desc, admin_list *out);

/* {page, pages, total, from, to, prev, next, csv}: links keep the other
 * query parameters. */
json_t *admin_pages(http_request *req, const admin_list *lp, int64_t total);
/* The sort links of a column: {url, current, desc}. */
json_t *admin_sort_link(http_request *req, const admin_list *lp, const char *column);

/* Answer text/csv (RFC 4180) as a download: header[ncols], then rows (an
 * array of arrays of strings or numbers). Cells a spreadsheet would run as
 * a formula (=, +, -, @, tab, CR first) are prefixed with '. */
void admin_csv(http_request *req, http_response *res, const char *filename, const char *const *header, int ncols,
               json_t *rows);

/* A moment as the portal shows it: "2026-11-24 14:05" (UTC), in the
 * request's pool; "—" for 0 (never). */
const char *admin_time(http_request *req, int64_t unix_seconds);

/* A form field for the account/field partial: view_field plus its id
 * (= name), required, a hint (NULL: none) and a maxlength (0: none). */
json_t *admin_field(const char *name, const char *label, const char *type, const char *value, bool required,
                    const char *hint, int maxlength);
/* The same as a <select>; options [{code, label, selected}] are stolen.
 * admin_option makes one. */
json_t *admin_select(const char *name, const char *label, json_t *options, bool required, const char *hint);
json_t *admin_option(const char *code, const char *label, bool selected);

/* One-time message and redirect back into the portal (suffix as admin_url). */
void admin_done(http_request *req, http_response *res, const char *suffix, const char *message);

#endif
