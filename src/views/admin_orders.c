/* admin_orders.c — the admin portal's orders.
 *
 *   GET  ADMIN_PATH/orders                      list: q (number or e-mail), status, from/to (dates), sort, page, csv=1
 *   GET  ADMIN_PATH/orders/{number}             one order: lines, totals, address, payment, history, mails, actions
 *   POST ADMIN_PATH/orders/{number}/move        ship (note, tracking), deliver, cancel
 *   POST ADMIN_PATH/orders/{number}/refund      through the payment provider (the password again: STAFF_DANGER)
 *   POST ADMIN_PATH/orders/{number}/resend      the confirmation or the last status mail
 *   GET  ADMIN_PATH/orders/{number}/invoice     the PDF (order_pages.c's order_invoice: staff may see any)
 *
 * Every change goes through shop/orders.h (the one place states live),
 * which writes the audit row in the change's own unit of work. Who may call
 * these (staff, hidden, CSRF, the password again) is the route table's. */
#include "views/views.h"

#include "core/config.h"
#include "core/text.h"
#include "shop/account_book.h"
#include "shop/catalog.h"
#include "shop/orders.h"
#include "shop/orders_admin.h"
#include "views/admin_ui.h"
#include "views/forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------- the list ---------- */

/* "2026-11-24" → that day's first second (UTC). false when it is not a date. */
static bool parse_day(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%d", &tm) : NULL;
    if (!end || *end || tm.tm_year < 100 || tm.tm_year > 1100) return false;
    int y = tm.tm_year, m = tm.tm_mon, d = tm.tm_mday;
    time_t t = timegm(&tm);
    struct tm back;
    /* 2026-02-31 is not a day (timegm would make it 3 March) */
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_year != y || back.tm_mon != m || back.tm_mday != d)
        return false;
    *out = (int64_t)t;
    return true;
}

/* "12.99" (a spreadsheet's number) from minor units. */
static const char *major(http_request *req, int64_t minor)
{
    int64_t a = minor < 0 ? -minor : minor;
    return arena_printf(req->pool, "%s%lld.%02lld", minor < 0 ? "-" : "", (long long)(a / 100), (long long)(a % 100));
}

static const char *state_badge(const char *status)
{
    if (!strcmp(status, "paid") || !strcmp(status, "cod_confirmed") || !strcmp(status, "delivered")) return "ok";
    if (!strcmp(status, "pending_payment") || !strcmp(status, "shipped")) return "warn";
    return "bad";
}

void admin_orders(http_request *req, http_response *res)
{
    static const char *const sortable[] = {"created", "number", "email", "status", "total", NULL};
    admin_list lp;
    admin_list_read(req, sortable, "created", true, &lp);
    const char *status = req_query(req, "status"), *from = req_query(req, "from"), *to = req_query(req, "to");
    order_filter f = {.q = lp.q};
    json_t *problems = json_object();
    if (status && *status) {
        if (orders_state_valid(status)) f.status = status;
        else json_object_set_new(problems, "status", json_string("Choose one of the states in the list."));
    }
    if (from && *from && !parse_day(from, &f.since))
        json_object_set_new(problems, "from", json_string("A date like 2026-11-24."));
    if (to && *to) {
        if (parse_day(to, &f.until)) f.until += 86400; /* the whole day */
        else json_object_set_new(problems, "to", json_string("A date like 2026-11-24."));
    }
    if (f.since && f.until && f.until <= f.since)
        json_object_set_new(problems, "to", json_string("The last day comes on or after the first."));
    bool bad = json_object_size(problems) > 0;
    int max = lp.csv ? 10000 : lp.per_page;
    order_summary *rows = calloc((size_t)max, sizeof *rows);
    if (!rows) abort();
    int n = 0;
    int64_t total = 0;
    shop_error e;
    if (!bad && orders_search(&f, lp.sort, lp.desc, lp.offset, max, rows, &n, &total, &e) != SHOP_OK) {
        free(rows);
        json_decref(problems);
        view_shop_error(req, res, &e);
        return;
    }
    if (lp.csv && !bad) {
        static const char *const header[] = {"number", "placed (UTC)", "e-mail", "name", "status", "payment", "pairs",
                                             "total", "currency"};
        json_t *out = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(out, json_pack("[s,s,s,s,s,s,i,s,s]", rows[i].number,
                                                 admin_time(req, rows[i].created_at), rows[i].email, rows[i].ship_name,
                                                 rows[i].status, rows[i].payment_method, rows[i].items,
                                                 major(req, rows[i].total), rows[i].currency));
        free(rows);
        json_decref(problems);
        admin_csv(req, res, "orders.csv", header, 9, out);
        json_decref(out);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        const order_summary *o = &rows[i];
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:o}", "number", o->number, "url",
                                              admin_url(req, arena_printf(req->pool, "/orders/%s", o->number)),
                                              "placed", admin_time(req, o->created_at), "email", o->email, "name",
                                              o->ship_name, "status", orders_state_label(o->status), "badge",
                                              state_badge(o->status), "payment",
                                              !strcmp(o->payment_method, "cod") ? "Cash on delivery" : "Card", "items",
                                              o->items, "total", catalog_money_in(o->total, o->currency)));
    }
    free(rows);
    json_t *states = json_array();
    for (int i = 0; orders_states[i]; i++)
        json_array_append_new(states, json_pack("{s:s,s:s,s:b}", "value", orders_states[i], "label",
                                                orders_state_label(orders_states[i]), "selected",
                                                f.status && !strcmp(f.status, orders_states[i])));
    json_t *sort = json_pack("{s:o,s:o,s:o,s:o,s:o}", "created", admin_sort_link(req, &lp, "created"), "number",
                             admin_sort_link(req, &lp, "number"), "email", admin_sort_link(req, &lp, "email"), "status",
                             admin_sort_link(req, &lp, "status"), "total", admin_sort_link(req, &lp, "total"));
    json_t *ctx = json_pack("{s:s,s:o,s:o,s:o,s:o,s:s,s:s,s:s,s:b,s:o}", "page_title", "Orders", "rows", list, "pages",
                            admin_pages(req, &lp, total), "states", states, "sort", sort, "q", lp.q ? lp.q : "", "from",
                            from ? from : "", "to", to ? to : "", "empty", n == 0, "problems", problems);
    admin_page(req, res, bad ? 422 : 200, "admin/orders", "orders", ctx);
}

/* ---------- one order ---------- */

/* The form a refusal is about ("move", "refund", "resend") and the refusal. */
typedef struct form_problem {
    const char *form;
    const shop_error *e;
} form_problem;

static json_t *money_of(int64_t amount, const char *currency) { return catalog_money_in(amount, currency); }

static json_t *lines_json(const order_view *v)
{
    json_t *lines = json_array();
    for (int i = 0; i < v->nlines; i++) {
        const order_line_row *l = &v->lines[i];
        json_array_append_new(lines, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:o,s:o}", "name", l->product_name,
                                               "brand", l->brand_name, "slug", l->product_slug, "sku", l->sku, "size",
                                               l->size_label, "colour", l->colour_name, "quantity", l->quantity,
                                               "unit_price", money_of(l->unit_price, v->order.currency), "line_total",
                                               money_of(l->line_total, v->order.currency)));
    }
    return lines;
}

static json_t *history_json(http_request *req, const order_view *v)
{
    json_t *events = json_array();
    for (int i = 0; i < v->nevents; i++) {
        const order_event_row *ev = &v->events[i];
        json_array_append_new(events, json_pack("{s:s,s:s,s:s,s:s,s:s}", "at", admin_time(req, ev->at), "from",
                                                ev->from[0] ? orders_state_label(ev->from) : "—", "to",
                                                orders_state_label(ev->to), "actor", ev->actor, "note", ev->note));
    }
    return events;
}

static json_t *mails_json(http_request *req, const char *number, bool *ok)
{
    outbox_subject_row rows[50];
    int n = 0;
    shop_error e;
    json_t *mails = json_array();
    *ok = orders_mails(number, rows, 50, &n, &e) == SHOP_OK;
    for (int i = 0; i < n; i++) {
        const outbox_subject_row *m = &rows[i];
        /* the key before ":<number>": what the mail was ("order-shipped", "order-shipped-resend-…") */
        const char *colon = strrchr(m->key, ':');
        const char *kind = arena_strndup(req->pool, m->key, colon ? (size_t)(colon - m->key) : strlen(m->key));
        const char *outcome = !strcmp(m->outcome, "done") ? "sent"
                              : !strcmp(m->outcome, "dead") ? "failed (dead letter)"
                              : m->sent_at ? "queued" : "waiting";
        json_array_append_new(mails, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:b,s:b}", "kind", kind, "to", m->to,
                                               "template", m->tmpl, "created", admin_time(req, m->created_at),
                                               "finished", admin_time(req, m->finished_at), "outcome", outcome,
                                               "sends", m->send_count, "done", !strcmp(m->outcome, "done"), "dead",
                                               !strcmp(m->outcome, "dead")));
    }
    return mails;
}

/* What was typed into a field of the refused form (else ""). */
static const char *typed(http_request *req, const form_problem *p, const char *form, const char *name)
{
    const char *v = p && !strcmp(p->form, form) ? req_form(req, name) : NULL;
    return v ? v : "";
}

/* A field of one of the page's forms: ids are the form's ("move-note"),
 * as several forms on the page have a note. */
static json_t *form_field(json_t *f, const char *form)
{
    json_object_set_new(f, "id", json_sprintf("%s-%s", form, json_string_value(json_object_get(f, "name"))));
    return f;
}

/* {action, fields, error}: the refusal beside the field it names, or above
 * the form (view_form_error). Steals fields. */
static json_t *action_form(http_request *req, const char *base, const char *form, json_t *fields,
                           const form_problem *p)
{
    json_t *f = json_pack("{s:s,s:o,s:b}", "action", arena_printf(req->pool, "%s/%s", base, form), "fields", fields,
                          "error", 0);
    if (p && !strcmp(p->form, form)) view_form_error(f, fields, p->e);
    return f;
}

static void order_page(http_request *req, http_response *res, const char *number, int status, const form_problem *p)
{
    order_view *v = malloc(sizeof *v);
    if (!v) abort();
    shop_error e;
    if (orders_view(number, &(order_viewer){.staff = true}, v, &e) != SHOP_OK) {
        free(v);
        view_shop_error(req, res, &e);
        return;
    }
    const order_row *o = &v->order;
    const char *base = admin_url(req, arena_printf(req->pool, "/orders/%s", o->number));

    /* what can be done from here (orders.c decides again when it is done) */
    static const struct {
        const char *to, *label;
    } moves[] = {{"shipped", "Ship"}, {"delivered", "Mark delivered"}, {"cancelled", "Cancel (stock goes back)"}};
    const char *typed_to = p && !strcmp(p->form, "move") ? req_form(req, "to") : NULL;
    json_t *move_options = json_array();
    bool can_ship = false;
    for (size_t i = 0; i < sizeof moves / sizeof *moves; i++)
        if (orders_move_allowed(o->status, moves[i].to)) {
            bool selected = typed_to ? !strcmp(typed_to, moves[i].to) : json_array_size(move_options) == 0;
            json_array_append_new(move_options, admin_option(moves[i].to, moves[i].label, selected));
            if (!strcmp(moves[i].to, "shipped")) can_ship = true;
        }
    bool confirmed = false;
    for (int i = 0; i < v->nevents; i++)
        if (!strcmp(v->events[i].to, "paid") || !strcmp(v->events[i].to, "cod_confirmed")) confirmed = true;
    bool status_mail = !strcmp(o->status, "shipped") || !strcmp(o->status, "delivered") ||
                       !strcmp(o->status, "cancelled") || !strcmp(o->status, "refunded");
    bool can_refund = orders_move_allowed(o->status, "refunded");
    bool has_invoice = strcmp(o->status, "pending_payment") && strcmp(o->status, "cancelled");
    json_t *forms = json_object();
    if (json_array_size(move_options)) {
        json_t *fields = json_array();
        json_array_append_new(fields, form_field(admin_select("to", "What happens", move_options, true, NULL), "move"));
        if (can_ship)
            json_array_append_new(fields, form_field(admin_field("tracking", "Tracking number (when shipping)", "text",
                                                                 typed(req, p, "move", "tracking"), false, NULL,
                                                                 ORDER_TRACKING_MAX),
                                                     "move"));
        json_array_append_new(fields, form_field(admin_field("note", "Note for the customer", "text",
                                                             typed(req, p, "move", "note"), false,
                                                             "Shown on their order page and in the mail they get.",
                                                             ORDER_NOTE_MAX),
                                                 "move"));
        json_object_set_new(forms, "move", action_form(req, base, "move", fields, p));
    } else {
        json_decref(move_options);
    }
    if (can_refund) {
        json_t *fields = json_array();
        json_array_append_new(fields, form_field(admin_field("note", "Note for the customer", "text",
                                                             typed(req, p, "refund", "note"), false, NULL,
                                                             ORDER_NOTE_MAX),
                                                 "refund"));
        json_object_set_new(forms, "refund", action_form(req, base, "refund", fields, p));
    }
    if (confirmed || status_mail) {
        json_t *options = json_array();
        if (status_mail)
            json_array_append_new(options, admin_option("status", arena_printf(req->pool, "The last status mail (%s)",
                                                                               orders_state_label(o->status)),
                                                        true));
        if (confirmed) json_array_append_new(options, admin_option("confirmation", "The order confirmation", !status_mail));
        json_t *fields = json_array();
        json_array_append_new(fields, form_field(admin_select("mail", "Which mail", options, true, NULL), "resend"));
        json_object_set_new(forms, "resend", action_form(req, base, "resend", fields, p));
    }

    json_t *payment = json_null();
    if (v->has_payment)
        payment = json_pack("{s:s,s:s,s:o,s:o,s:s,s:b}", "provider",
                            !strcmp(v->payment.provider, "stripe") ? "Stripe (card)" : "Cash on delivery", "reference",
                            v->payment.provider_ref[0] ? v->payment.provider_ref : "—", "amount",
                            money_of(v->payment.amount, v->payment.currency), "refunded",
                            money_of(v->payment.refunded_amount, v->payment.currency), "status", v->payment.status,
                            "was_refunded", v->payment.refunded_amount > 0);
    bool mails_ok;
    json_t *mails = mails_json(req, o->number, &mails_ok);

    json_t *ctx = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "page_title",
                            arena_printf(req->pool, "Order %s", o->number), "number", o->number, "status",
                            orders_state_label(o->status), "badge", state_badge(o->status), "placed",
                            admin_time(req, o->created_at), "email", o->email, "payment_method",
                            !strcmp(o->payment_method, "cod") ? "Cash on delivery" : "Card", "delivery",
                            !strcmp(o->shipping_method, "express") ? "Express" : "Standard", "guest", o->user_id == 0);
    if (o->user_id)
        json_object_set_new(ctx, "customer_url",
                            json_string(admin_url(req, arena_printf(req->pool, "/customers/%lld", (long long)o->user_id))));
    json_object_set_new(ctx, "lines", lines_json(v));
    json_object_set_new(ctx, "subtotal", money_of(o->subtotal, o->currency));
    json_object_set_new(ctx, "shipping", money_of(o->shipping, o->currency));
    json_object_set_new(ctx, "tax", money_of(o->tax, o->currency));
    json_object_set_new(ctx, "total", money_of(o->total, o->currency));
    json_object_set_new(ctx, "address",
                        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "name", o->ship_name, "line1", o->ship_line1,
                                  "line2", o->ship_line2, "city", o->ship_city, "region", o->ship_region, "postcode",
                                  o->ship_postcode, "country", address_country_name(o->ship_country)
                                                                   ? address_country_name(o->ship_country)
                                                                   : o->ship_country,
                                  "phone", o->ship_phone));
    json_object_set_new(ctx, "payment", payment);
    json_object_set_new(ctx, "history", history_json(req, v));
    json_object_set_new(ctx, "mails", mails);
    json_object_set_new(ctx, "mails_unavailable", json_boolean(!mails_ok));
    json_object_set_new(ctx, "no_mails", json_boolean(mails_ok && json_array_size(mails) == 0));
    json_object_set_new(ctx, "has_mails", json_boolean(json_array_size(mails) > 0));
    json_object_set_new(ctx, "nothing_to_do", json_boolean(json_object_size(forms) == 0));
    json_object_set_new(ctx, "forms", forms);
    json_object_set_new(ctx, "card_refund", json_boolean(v->has_payment && !strcmp(v->payment.provider, "stripe")));
    json_object_set_new(ctx, "has_invoice", json_boolean(has_invoice));
    json_object_set_new(ctx, "base", json_string(base));
    json_object_set_new(ctx, "audit_url",
                        json_string(admin_url(req, arena_printf(req->pool, "/audit?entity=order&q=%s", o->number))));
    free(v);
    admin_page(req, res, status, "admin/order", "orders", ctx);
}

void admin_order(http_request *req, http_response *res) { order_page(req, res, req_param(req, "number"), 200, NULL); }

/* The order history's name for who moved it: "staff:<id>". */
static const char *staff_actor(http_request *req, const audit_actor *who)
{
    return arena_printf(req->pool, "staff:%lld", (long long)who->user_id);
}

static void refused(http_request *req, http_response *res, const char *form, const shop_error *e)
{
    if (e->status == SHOP_NOT_FOUND || e->status == SHOP_UNAVAILABLE) {
        view_shop_error(req, res, e);
        return;
    }
    form_problem p = {form, e};
    order_page(req, res, req_param(req, "number"), view_error_status(e), &p);
}

void admin_order_move(http_request *req, http_response *res)
{
    const char *number = req_param(req, "number"), *to = req_form(req, "to");
    shop_error e;
    if (!to || (strcmp(to, "shipped") && strcmp(to, "delivered") && strcmp(to, "cancelled"))) {
        shop_fail(&e, SHOP_INVALID, "to", "Choose what happens to the order: ship, deliver or cancel.");
        refused(req, res, "move", &e);
        return;
    }
    audit_actor who = admin_actor(req);
    if (orders_transition_audited(number, to, staff_actor(req, &who), req_form(req, "note"), req_form(req, "tracking"), &who,
                                  &e) != SHOP_OK) {
        refused(req, res, "move", &e);
        return;
    }
    const char *what = !strcmp(to, "shipped")     ? "shipped"
                       : !strcmp(to, "delivered") ? "marked delivered"
                                                  : "cancelled, and its stock is back on the shelf";
    admin_done(req, res, arena_printf(req->pool, "/orders/%s", number),
               arena_printf(req->pool, "Order %s is %s. The customer gets a mail.", number, what));
}

void admin_order_refund(http_request *req, http_response *res)
{
    const char *number = req_param(req, "number");
    shop_error e;
    audit_actor who = admin_actor(req);
    if (orders_transition_audited(number, "refunded", staff_actor(req, &who), req_form(req, "note"), NULL, &who, &e) !=
        SHOP_OK) {
        refused(req, res, "refund", &e);
        return;
    }
    admin_done(req, res, arena_printf(req->pool, "/orders/%s", number),
               arena_printf(req->pool, "Order %s is refunded in full; unshipped pairs are back in stock. The customer "
                                       "gets a mail.",
                            number));
}

void admin_order_resend(http_request *req, http_response *res)
{
    const char *number = req_param(req, "number"), *which = req_form(req, "mail");
    shop_error e;
    audit_actor who = admin_actor(req);
    if (orders_resend_mail(number, which, &who, &e) != SHOP_OK) {
        refused(req, res, "resend", &e);
        return;
    }
    admin_done(req, res, arena_printf(req->pool, "/orders/%s", number),
               arena_printf(req->pool, "The %s mail of order %s is on its way again.",
                            !strcmp(which, "confirmation") ? "confirmation" : "last status", number));
}
