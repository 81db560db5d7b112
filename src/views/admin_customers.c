/* admin_customers.c — the admin portal's people.
 *
 *   GET  ADMIN_PATH/customers                          shoppers: q (e-mail or name), status, sort, page, csv=1
 *   GET  ADMIN_PATH/customers/{id}                     one account: figures, sessions, addresses, orders
 *   POST ADMIN_PATH/customers/{id}/disable|enable      (disabling ends every session of the account)
 *   POST ADMIN_PATH/customers/{id}/end-sessions        sign them out everywhere
 *   GET  ADMIN_PATH/users                              staff accounts, or any account found by q (superuser)
 *   POST ADMIN_PATH/users/{id}/role                    shopper | staff | superuser (superuser, the password again)
 *
 * The changes are shop/customers_admin.h's and shop/staff.h's, each one unit
 * of work with its audit row; a role is part of every session, so after a
 * role change the user's sessions end and the new role applies at once.
 * Who may call these is the route table's (staff; superuser for users). */
#include "views/views.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "shop/catalog.h"
#include "shop/customers_admin.h"
#include "shop/orders_admin.h"
#include "shop/staff.h"
#include "views/admin_ui.h"
#include "views/forms.h"
#include "web/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t path_id(http_request *req)
{
    long long id = 0;
    text_parse_int64(req_param(req, "id"), 1, 1LL << 62, &id); /* checked by the route's policy */
    return id;
}

static const char *factor_label(const char *f)
{
    return !strcmp(f, "totp") ? "authenticator app" : !strcmp(f, "sms") ? "text message" : "none";
}

static json_t *person_json(http_request *req, const customer_row *c, const char *url_base)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:s,s:I,s:o,s:s}", "id", (json_int_t)c->id, "email", c->email,
                     "name", c->name, "role", c->role, "status", c->status, "disabled", !strcmp(c->status, "disabled"),
                     "verified", c->verified, "two_step", factor_label(c->second_factor), "joined",
                     admin_time(req, c->created_at), "orders", (json_int_t)c->orders, "spent",
                     catalog_money(c->spent), "url",
                     admin_url(req, arena_printf(req->pool, "%s/%lld", url_base, (long long)c->id)));
}

/* A page of accounts (the CSV: up to 10,000), or NULL after answering with
 * the refusal. Free it. */
static customer_row *people(http_request *req, http_response *res, const admin_list *lp, const customer_filter *f,
                            int *n, int64_t *total)
{
    int max = lp->csv ? 10000 : lp->per_page;
    customer_row *rows = calloc((size_t)max, sizeof *rows);
    if (!rows) abort();
    shop_error e;
    if (customers_search(f, lp->sort, lp->desc, lp->offset, max, rows, n, total, &e) != SHOP_OK) {
        free(rows);
        view_shop_error(req, res, &e);
        return NULL;
    }
    return rows;
}

/* ---------- customers ---------- */

void admin_customers(http_request *req, http_response *res)
{
    static const char *const sortable[] = {"joined", "email", "name", "orders", "spent", NULL};
    admin_list lp;
    admin_list_read(req, sortable, "joined", true, &lp);
    const char *status = req_query(req, "status");
    customer_filter f = {.q = lp.q, .role = "shopper"};
    if (status && (!strcmp(status, "active") || !strcmp(status, "disabled"))) f.status = status;
    int n = 0;
    int64_t total = 0;
    customer_row *rows = people(req, res, &lp, &f, &n, &total);
    if (!rows) return;
    if (lp.csv) {
        static const char *const header[] = {"id", "e-mail", "name", "status", "verified", "joined (UTC)", "orders",
                                             "spent", "currency"};
        json_t *out = json_array();
        for (int i = 0; i < n; i++) {
            const customer_row *c = &rows[i];
            json_array_append_new(out, json_pack("[I,s,s,s,b,s,I,s,s]", (json_int_t)c->id, c->email, c->name, c->status,
                                                 c->verified, admin_time(req, c->created_at), (json_int_t)c->orders,
                                                 arena_printf(req->pool, "%lld.%02lld", (long long)(c->spent / 100),
                                                              (long long)(c->spent % 100)),
                                                 cfg.currency ? cfg.currency : "GBP"));
        }
        free(rows);
        admin_csv(req, res, "customers.csv", header, 9, out);
        json_decref(out);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(list, person_json(req, &rows[i], "/customers"));
    free(rows);
    json_t *sort = json_pack("{s:o,s:o,s:o,s:o,s:o}", "joined", admin_sort_link(req, &lp, "joined"), "email",
                             admin_sort_link(req, &lp, "email"), "name", admin_sort_link(req, &lp, "name"), "orders",
                             admin_sort_link(req, &lp, "orders"), "spent", admin_sort_link(req, &lp, "spent"));
    json_t *ctx = json_pack("{s:s,s:o,s:o,s:o,s:s,s:b,s:b,s:b}", "page_title", "Customers", "rows", list, "pages",
                            admin_pages(req, &lp, total), "sort", sort, "q", lp.q ? lp.q : "", "empty", n == 0,
                            "only_active", f.status && !strcmp(f.status, "active"), "only_disabled",
                            f.status && !strcmp(f.status, "disabled"));
    admin_page(req, res, 200, "admin/customers", "customers", ctx);
}

static void customer_page(http_request *req, http_response *res, int status, const shop_error *problem)
{
    customer_detail *d = malloc(sizeof *d);
    if (!d) abort();
    shop_error e;
    if (customers_get(path_id(req), d, &e) != SHOP_OK) {
        free(d);
        view_shop_error(req, res, &e);
        return;
    }
    const customer_row *c = &d->account;
    json_t *orders = json_array();
    for (int i = 0; i < d->norders; i++) {
        const order_summary *o = &d->orders[i];
        json_array_append_new(orders, json_pack("{s:s,s:s,s:s,s:s,s:i,s:o}", "number", o->number, "url",
                                                admin_url(req, arena_printf(req->pool, "/orders/%s", o->number)),
                                                "placed", admin_time(req, o->created_at), "status",
                                                orders_state_label(o->status), "items", o->items, "total",
                                                catalog_money_in(o->total, o->currency)));
    }
    json_t *addresses = json_array();
    for (int i = 0; i < d->naddresses; i++) {
        const address_row *a = &d->addresses[i];
        const char *country = address_country_name(a->country);
        json_array_append_new(addresses, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "name", a->full_name,
                                                   "line1", a->line1, "line2", a->line2, "city", a->city, "region",
                                                   a->region, "postcode", a->postcode, "country",
                                                   country ? country : a->country, "phone", a->phone, "default",
                                                   a->is_default));
    }
    /* signed in where: the sessions' devices (never their keys) */
    json_t *sessions = session_list(c->id, NULL), *devices = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(sessions, i, s) {
        json_array_append_new(devices, json_pack("{s:s?,s:s?,s:s}", "device",
                                                 json_string_value(json_object_get(s, "device")), "ip",
                                                 json_string_value(json_object_get(s, "ip")), "seen",
                                                 admin_time(req, json_integer_value(json_object_get(s, "seen")))));
    }
    json_t *ctx = json_pack("{s:s,s:o,s:o,s:o,s:o,s:b,s:b,s:b,s:s,s:s}", "page_title", c->email, "person",
                            person_json(req, c, "/customers"), "orders", orders, "addresses", addresses, "devices",
                            devices, "sessions_unknown", sessions == NULL, "shopper", !strcmp(c->role, "shopper"),
                            "has_orders", d->norders > 0, "base",
                            admin_url(req, arena_printf(req->pool, "/customers/%lld", (long long)c->id)), "audit_url",
                            admin_url(req, arena_printf(req->pool, "/audit?entity=user&q=%lld", (long long)c->id)));
    json_object_set_new(ctx, "all_orders",
                        json_string(admin_url(req, arena_printf(req->pool, "/orders?q=%s", c->email))));
    json_object_set_new(ctx, "more_orders", json_boolean(c->orders > d->norders));
    json_decref(sessions);
    if (problem) json_object_set_new(ctx, "action_error", json_string(problem->message));
    free(d);
    admin_page(req, res, status, "admin/customer", "customers", ctx);
}

void admin_customer(http_request *req, http_response *res) { customer_page(req, res, 200, NULL); }

static void customer_change(http_request *req, http_response *res, const char *status)
{
    int64_t id = path_id(req);
    audit_actor who = admin_actor(req);
    shop_error e;
    int ended = 0;
    shop_status st = status ? customers_set_status(&who, id, status, session_end_all, &ended, &e)
                            : customers_end_sessions(&who, id, session_end_all, &ended, &e);
    if (st != SHOP_OK) {
        if (e.status == SHOP_NOT_FOUND) view_shop_error(req, res, &e);
        else customer_page(req, res, view_error_status(&e), &e);
        return;
    }
    const char *done = !status ? arena_printf(req->pool, "Signed out everywhere: %d session%s ended.", ended,
                                              ended == 1 ? "" : "s")
                       : !strcmp(status, "disabled")
                           ? arena_printf(req->pool, "The account is disabled: it cannot sign in, and %d session%s ended.",
                                          ended, ended == 1 ? "" : "s")
                           : "The account is active again: its owner can sign in.";
    admin_done(req, res, arena_printf(req->pool, "/customers/%lld", (long long)id), done);
}

void admin_customer_disable(http_request *req, http_response *res) { customer_change(req, res, "disabled"); }
void admin_customer_enable(http_request *req, http_response *res) { customer_change(req, res, "active"); }
void admin_customer_end_sessions(http_request *req, http_response *res) { customer_change(req, res, NULL); }

/* ---------- users and roles (superuser) ---------- */

static void users_page(http_request *req, http_response *res, int status, const shop_error *problem,
                       int64_t problem_id)
{
    static const char *const sortable[] = {"joined", "email", "name", NULL};
    admin_list lp;
    admin_list_read(req, sortable, "email", false, &lp);
    /* staff by default; a search finds any account (to make someone staff) */
    customer_filter f = {.q = lp.q, .role = lp.q ? NULL : "staff"};
    int n = 0;
    int64_t total = 0;
    customer_row *rows = people(req, res, &lp, &f, &n, &total);
    if (!rows) return;
    if (lp.csv && !problem) {
        static const char *const header[] = {"id", "e-mail", "name", "role", "status", "two-step sign-in", "joined (UTC)"};
        json_t *out = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(out, json_pack("[I,s,s,s,s,s,s]", (json_int_t)rows[i].id, rows[i].email, rows[i].name,
                                                 rows[i].role, rows[i].status, factor_label(rows[i].second_factor),
                                                 admin_time(req, rows[i].created_at)));
        free(rows);
        admin_csv(req, res, "users.csv", header, 7, out);
        json_decref(out);
        return;
    }
    static const char *const roles[] = {"shopper", "staff", "superuser"};
    int64_t me = req->session ? req->session->user_id : 0;
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        json_t *p = person_json(req, &rows[i], "/customers");
        json_t *options = json_array();
        for (int k = 0; k < 3; k++)
            json_array_append_new(options, json_pack("{s:s,s:b}", "value", roles[k], "selected",
                                                     !strcmp(rows[i].role, roles[k])));
        json_object_set_new(p, "roles", options);
        json_object_set_new(p, "action",
                            json_string(admin_url(req, arena_printf(req->pool, "/users/%lld/role", (long long)rows[i].id))));
        json_object_set_new(p, "me", json_boolean(rows[i].id == me));
        if (problem && problem_id == rows[i].id) json_object_set_new(p, "role_error", json_string(problem->message));
        json_array_append_new(list, p);
    }
    free(rows);
    json_t *sort = json_pack("{s:o,s:o,s:o}", "joined", admin_sort_link(req, &lp, "joined"), "email",
                             admin_sort_link(req, &lp, "email"), "name", admin_sort_link(req, &lp, "name"));
    json_t *ctx = json_pack("{s:s,s:o,s:o,s:o,s:s,s:b,s:b}", "page_title", "Users and roles", "rows", list, "pages",
                            admin_pages(req, &lp, total), "sort", sort, "q", lp.q ? lp.q : "", "empty", n == 0,
                            "searching", lp.q != NULL);
    if (problem && !problem_id) json_object_set_new(ctx, "users_error", json_string(problem->message));
    admin_page(req, res, status, "admin/users", "users", ctx);
}

void admin_users(http_request *req, http_response *res) { users_page(req, res, 200, NULL, 0); }

void admin_user_role(http_request *req, http_response *res)
{
    int64_t id = path_id(req);
    const char *role = req_form(req, "role");
    audit_actor who = admin_actor(req);
    shop_error e;
    customer_detail *d = malloc(sizeof *d);
    if (!d) abort();
    shop_status st = customers_get(id, d, &e);
    char was[16] = "", email[255] = "";
    if (st == SHOP_OK) {
        text_copy(was, sizeof was, d->account.role);
        text_copy(email, sizeof email, d->account.email);
    }
    free(d);
    if (st != SHOP_OK) {
        view_shop_error(req, res, &e);
        return;
    }
    if (staff_set_role(&who, id, role ? role : "", &e) != SHOP_OK) {
        if (e.status == SHOP_NOT_FOUND) view_shop_error(req, res, &e);
        else users_page(req, res, view_error_status(&e), &e, id);
        return;
    }
    if (!strcmp(was, role)) {
        admin_done(req, res, "/users", arena_printf(req->pool, "%s is %s already: nothing changed.", email, role));
        return;
    }
    /* the role lives in each of their sessions: end them all, so the new
     * one applies at once (they sign in again) */
    bool me = req->session && req->session->user_id == id;
    int ended = session_end_all(id, NULL);
    if (ended < 0) {
        log_error("admin: user %lld is %s now, but their sessions could not be ended", (long long)id, role);
        res_error(req, res, 503,
                  "The role is changed, but their sessions could not be ended (the session store failed): until they "
                  "sign out or their sessions expire, they keep the old role.");
        return;
    }
    if (me) {
        /* this very session was one of them */
        res_redirect(res, 303, "/account/login");
        return;
    }
    admin_done(req, res, "/users",
               arena_printf(req->pool, "%s is now %s; %d session%s ended, so the new role applies at once.", email,
                            role, ended, ended == 1 ? "" : "s"));
}
