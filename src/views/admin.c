/* admin.c — the admin portal's own pages: the audit log and the "your
 * password, please" page before dangerous actions (the front page is the
 * dashboard: admin_dashboard.c). The
 * screens of each area live beside it (admin_*.c); what they share is in
 * admin_ui.h. Every route is in app.c's admin table: mounted under
 * ADMIN_PATH, hidden (anyone but staff gets the ordinary 404), personal,
 * CSRF-checked. */
#include "views/views.h"

#include "core/config.h"
#include "core/text.h"
#include "shop/audit.h"
#include "views/admin_ui.h"
#include "views/forms.h"
#include "web/pipeline.h"
#include "web/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------- the audit log ---------- */

static const char *when(http_request *req, int64_t at_us)
{
    time_t t = (time_t)(at_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char out[32];
    strftime(out, sizeof out, "%Y-%m-%d %H:%M:%S", &tm);
    return arena_strdup(req->pool, out);
}

/* What changed: the keys whose values differ, {key, before, after} with
 * values as compact JSON text. */
static json_t *changes(const char *before_json, const char *after_json)
{
    json_t *b = before_json ? json_loads(before_json, 0, NULL) : NULL;
    json_t *a = after_json ? json_loads(after_json, 0, NULL) : NULL;
    json_t *out = json_array();
    json_t *keys = json_object();
    const char *k;
    json_t *v;
    if (json_is_object(b)) json_object_foreach(b, k, v) json_object_set(keys, k, json_true());
    if (json_is_object(a)) json_object_foreach(a, k, v) json_object_set(keys, k, json_true());
    json_object_foreach(keys, k, v) {
        json_t *x = json_is_object(b) ? json_object_get(b, k) : NULL, *y = json_is_object(a) ? json_object_get(a, k) : NULL;
        if (x && y && json_equal(x, y)) continue;
        char *xs = x ? json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        char *ys = y ? json_dumps(y, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        json_array_append_new(out, json_pack("{s:s,s:s,s:s}", "key", k, "before", xs ? xs : "—", "after", ys ? ys : "—"));
        free(xs);
        free(ys);
    }
    json_decref(keys);
    json_decref(a);
    json_decref(b);
    return out;
}

void admin_audit(http_request *req, http_response *res)
{
    admin_list lp;
    admin_list_read(req, NULL, "at", true, &lp);
    audit_filter f = {.q = lp.q, .entity = req_query(req, "entity"), .action = req_query(req, "action")};
    long long actor = 0;
    const char *a = req_query(req, "actor");
    if (a && text_parse_int64(a, 1, 1LL << 53, &actor)) f.actor_id = actor;
    int max = lp.csv ? 5000 : lp.per_page;
    audit_entry *rows = calloc((size_t)max, sizeof *rows);
    if (!rows) abort();
    int n = 0;
    int64_t total = 0;
    shop_error e;
    if (audit_search(&f, lp.offset, max, rows, &n, &total, &e) != SHOP_OK) {
        free(rows);
        view_shop_error(req, res, &e);
        return;
    }
    if (lp.csv) {
        static const char *const header[] = {"id", "at (UTC)", "actor", "ip", "action", "entity", "entity id", "before",
                                             "after"};
        json_t *out = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(out, json_pack("[I,s,s,s,s,s,s,s,s]", (json_int_t)rows[i].id, when(req, rows[i].at_us),
                                                 rows[i].actor, rows[i].ip, rows[i].action, rows[i].entity,
                                                 rows[i].entity_id, rows[i].before_json ? rows[i].before_json : "",
                                                 rows[i].after_json ? rows[i].after_json : ""));
        audit_entries_free(rows, n);
        free(rows);
        admin_csv(req, res, "audit-log.csv", header, 9, out);
        json_decref(out);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "id", (json_int_t)rows[i].id, "at",
                                              when(req, rows[i].at_us), "actor", rows[i].actor, "ip", rows[i].ip,
                                              "action", rows[i].action, "entity", rows[i].entity, "entity_id",
                                              rows[i].entity_id, "changes",
                                              changes(rows[i].before_json, rows[i].after_json)));
    audit_entries_free(rows, n);
    free(rows);
    json_t *ctx = json_pack("{s:s,s:o,s:o,s:s,s:s,s:s,s:b}", "page_title", "Audit log", "rows", list, "pages",
                            admin_pages(req, &lp, total), "q", lp.q ? lp.q : "", "entity", f.entity ? f.entity : "",
                            "action", f.action ? f.action : "", "empty", n == 0);
    admin_page(req, res, 200, "admin/audit", "audit", ctx);
}

/* ---------- the password again (policy reauth; web/pipeline.h) ---------- */

static void reauth_page(http_request *req, http_response *res, const char *error)
{
    /* the same form again, with the password: every field but the token
     * and the password (both come fresh) */
    json_t *fields = json_array();
    req_form(req, "csrf_token"); /* parses the body */
    for (int i = 0; i < req->nform; i++) {
        const char *k = req->form[i].name;
        if (!strcmp(k, "csrf_token") || !strcmp(k, "confirm_password")) continue;
        json_array_append_new(fields, json_pack("{s:s,s:s}", "name", k, "value", req->form[i].value));
    }
    const char *action = req->raw_uri && req->raw_uri[0] == '/' ? req->raw_uri : req->path;
    json_t *ctx = json_pack("{s:s,s:s,s:o,s:s}", "page_title", "Confirm it is you", "action", action, "fields", fields,
                            "back", admin_url(req, "/"));
    if (error) json_object_set_new(ctx, "error", json_string(error));
    admin_page(req, res, 403, "admin/confirm", NULL, ctx);
}

void admin_views_init(void) { pipeline_set_reauth_page(reauth_page); }
