/* admin_ui.c — see admin_ui.h. */
#include "views/admin_ui.h"

#include "core/buf.h"
#include "core/config.h"
#include "core/text.h"
#include "http/router.h"
#include "views/forms.h"
#include "views/views.h"
#include "web/session.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const char *admin_url(http_request *req, const char *suffix)
{
    return arena_printf(req->pool, "%s%s", cfg.admin_path, suffix ? suffix : "");
}

audit_actor admin_actor(http_request *req)
{
    audit_actor a = {0};
    a.user_id = req->session ? req->session->user_id : 0;
    text_copy(a.ip, sizeof a.ip, req->client_ip ? req->client_ip : "");
    return a;
}

/* The sections of the portal, in the order of the navigation; superuser
 * only where marked. A section appears once its screens exist (routes in
 * app.c). */
static const struct {
    const char *key, *label, *suffix;
    bool superuser;
} sections[] = {
    {"home", "Dashboard", "/", false},
    {"orders", "Orders", "/orders", false},
    {"products", "Products", "/products", false},
    {"categories", "Categories", "/categories", false},
    {"brands", "Brands", "/brands", false},
    {"colours", "Colours", "/colours", false},
    {"reviews", "Reviews", "/reviews", false},
    {"customers", "Customers", "/customers", false},
    {"jobs", "Jobs", "/jobs", false},
    {"users", "Users", "/users", true},
    {"audit", "Audit log", "/audit", false},
};

void admin_page(http_request *req, http_response *res, int status, const char *tmpl, const char *nav, json_t *ctx)
{
    const web_session *s = req->session;
    bool superuser = s && !strcmp(s->role, "superuser");
    json_t *items = json_array();
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
        if (sections[i].superuser && !superuser) continue;
        const char *url = admin_url(req, sections[i].suffix);
        /* only sections whose list page is routed (a screen not built yet is not linked) */
        if (!router_has_get(url)) continue;
        json_array_append_new(items, json_pack("{s:s,s:s,s:b}", "label", sections[i].label, "url", url, "current",
                                               nav && !strcmp(nav, sections[i].key)));
    }
    json_object_set_new(ctx, "admin_nav", items);
    json_object_set_new(ctx, "admin", json_string(cfg.admin_path));
    json_object_set_new(ctx, "superuser", json_boolean(superuser));
    json_object_set_new(ctx, "staff_name", json_string(s && s->name[0] ? s->name : "staff"));
    view_page(req, res, status, tmpl, ctx);
}

const char *admin_time(http_request *req, int64_t unix_seconds)
{
    if (unix_seconds <= 0) return "—";
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    char out[32];
    gmtime_r(&t, &tm);
    strftime(out, sizeof out, "%Y-%m-%d %H:%M", &tm);
    return arena_strdup(req->pool, out);
}

json_t *admin_field(const char *name, const char *label, const char *type, const char *value, bool required,
                    const char *hint, int maxlength)
{
    json_t *f = view_field(name, label, type, value, "off");
    json_object_set_new(f, "id", json_string(name));
    json_object_set_new(f, "required", json_boolean(required));
    json_object_set_new(f, "select", json_false());
    json_object_set_new(f, "inputmode", json_false());
    json_object_set_new(f, "maxlength", maxlength > 0 ? json_integer(maxlength) : json_false());
    if (hint) json_object_set_new(f, "hint", json_string(hint));
    return f;
}

json_t *admin_select(const char *name, const char *label, json_t *options, bool required, const char *hint)
{
    json_t *f = admin_field(name, label, "select", NULL, required, hint, 0);
    json_object_set_new(f, "select", json_true());
    json_object_set_new(f, "options", options);
    return f;
}

json_t *admin_option(const char *code, const char *label, bool selected)
{
    return json_pack("{s:s,s:s,s:b}", "code", code, "label", label, "selected", selected);
}

void admin_done(http_request *req, http_response *res, const char *suffix, const char *message)
{
    view_done(req, res, admin_url(req, suffix), message);
}

void admin_list_read(http_request *req, const char *const *sortable, const char *dflt, bool dflt_desc, admin_list *out)
{
    memset(out, 0, sizeof *out);
    const char *q = req_query(req, "q");
    out->q = q && *q && strlen(q) <= 200 && text_valid_utf8(q, strlen(q)) ? q : NULL;
    out->sort = dflt;
    out->desc = dflt_desc;
    const char *s = req_query(req, "sort");
    if (s && *s) {
        bool desc = s[0] == '-';
        const char *name = desc ? s + 1 : s;
        for (int i = 0; sortable && sortable[i]; i++)
            if (!strcmp(sortable[i], name)) {
                out->sort = sortable[i];
                out->desc = desc;
            }
    }
    long long page = 1;
    const char *p = req_query(req, "page");
    if (!p || !text_parse_int64(p, 1, 1000000, &page)) page = 1;
    out->page = (int)page;
    out->per_page = ADMIN_PER_PAGE;
    out->csv = (p = req_query(req, "csv")) && !strcmp(p, "1");
    if (out->csv) {
        out->page = 1;
        out->per_page = ADMIN_CSV_MAX_ROWS;
    }
    out->offset = (out->page - 1) * out->per_page;
}

/* This page's URL with one parameter set to value (NULL: removed) and the
 * page reset unless it is the page being set. */
static const char *with_param(http_request *req, const char *name, const char *value)
{
    const http_kv *kv;
    int n = req_query_pairs(req, &kv);
    buf b = BUF_INIT;
    buf_puts(&b, req->path);
    char sep = '?';
    for (int i = 0; i < n; i++) {
        if (!strcmp(kv[i].name, name) || !strcmp(kv[i].name, "csv") || (strcmp(name, "page") && !strcmp(kv[i].name, "page")))
            continue;
        buf_putc(&b, sep);
        sep = '&';
        buf_append_percent(&b, kv[i].name, NULL);
        buf_putc(&b, '=');
        buf_append_percent(&b, kv[i].value, NULL);
    }
    if (value) {
        buf_putc(&b, sep);
        buf_append_percent(&b, name, NULL);
        buf_putc(&b, '=');
        buf_append_percent(&b, value, NULL);
    }
    const char *out = arena_strdup(req->pool, buf_cstr(&b));
    buf_free(&b);
    return out;
}

json_t *admin_pages(http_request *req, const admin_list *lp, int64_t total)
{
    int64_t pages = total > 0 ? (total + lp->per_page - 1) / lp->per_page : 1;
    int64_t from = total > 0 ? (int64_t)lp->offset + 1 : 0;
    int64_t to = (int64_t)lp->offset + lp->per_page < total ? (int64_t)lp->offset + lp->per_page : total;
    json_t *o = json_pack("{s:i,s:I,s:I,s:I,s:I,s:b,s:s}", "page", lp->page, "pages", (json_int_t)pages, "total",
                          (json_int_t)total, "from", (json_int_t)from, "to", (json_int_t)to, "several", pages > 1,
                          "csv", with_param(req, "csv", "1"));
    char num[24];
    if (lp->page > 1) {
        snprintf(num, sizeof num, "%d", lp->page - 1);
        json_object_set_new(o, "prev", json_string(with_param(req, "page", num)));
    }
    if (lp->page < pages) {
        snprintf(num, sizeof num, "%d", lp->page + 1);
        json_object_set_new(o, "next", json_string(with_param(req, "page", num)));
    }
    return o;
}

json_t *admin_sort_link(http_request *req, const admin_list *lp, const char *column)
{
    bool current = lp->sort && !strcmp(lp->sort, column);
    /* a click on the current column turns it round */
    const char *value = current && !lp->desc ? arena_printf(req->pool, "-%s", column) : column;
    return json_pack("{s:s,s:b,s:b}", "url", with_param(req, "sort", value), "current", current, "desc",
                     current && lp->desc);
}

static void csv_cell(buf *b, const char *s)
{
    bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
    /* a negative number is a number, not a formula */
    if (s[0] == '-' && s[1] >= '0' && s[1] <= '9') {
        long long v;
        if (text_parse_int64(s, -(1LL << 62), 1LL << 62, &v)) formula = false;
    }
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (quote) buf_putc(b, '"');
    if (formula) buf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '"') buf_putc(b, '"');
        buf_putc(b, *p);
    }
    if (quote) buf_putc(b, '"');
}

void admin_csv(http_request *req, http_response *res, const char *filename, const char *const *header, int ncols,
               json_t *rows)
{
    buf b = BUF_INIT;
    for (int i = 0; i < ncols; i++) {
        if (i) buf_putc(&b, ',');
        csv_cell(&b, header[i]);
    }
    buf_puts(&b, "\r\n");
    size_t r;
    json_t *row;
    json_array_foreach(rows, r, row) {
        for (int i = 0; i < ncols; i++) {
            if (i) buf_putc(&b, ',');
            json_t *v = json_array_get(row, (size_t)i);
            char num[32];
            const char *s = "";
            if (json_is_string(v)) s = json_string_value(v);
            else if (json_is_integer(v)) {
                snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
                s = num;
            } else if (json_is_true(v)) s = "yes";
            else if (json_is_false(v)) s = "no";
            csv_cell(&b, s);
        }
        buf_puts(&b, "\r\n");
    }
    res_header(res, "Content-Disposition", arena_printf(req->pool, "attachment; filename=\"%s\"", filename));
    res_bytes(res, 200, "text/csv; charset=utf-8", b.data ? b.data : "", b.len);
    buf_free(&b);
}
