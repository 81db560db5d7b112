/* cart.c — the bag and the checkout pages.
 *
 *   GET  /cart                              the bag
 *   GET  /cart/add?variant_id=&quantity=    "add this?" (the product page's form
 *                                           without JavaScript; site.js posts directly)
 *   POST /cart/add                          add a size
 *   POST /cart/lines/{variant}/quantity     change a line (0 removes it)
 *   POST /cart/lines/{variant}/remove | save | unsave
 *   GET  /checkout                          address, delivery, payment, review
 *   POST /checkout                          place the order (shop/orders.h)
 *
 * Who may call what (CSRF, rate limits) is the route table's (app.c). The
 * bag's size is kept in the session for the header (MariaDB has the truth). */
#include "views/views.h"

#include "core/config.h"
#include "core/text.h"
#include "events/activity.h"
#include "http/policy.h"
#include "shop/account_book.h"
#include "shop/accounts.h"
#include "shop/cart.h"
#include "shop/orders.h"
#include "shop/pricing.h"
#include "views/forms.h"
#include "web/session.h"

#include <stdlib.h>
#include <string.h>

static cart_owner owner_of(http_request *req)
{
    cart_owner o = {0};
    const web_session *s = req->session;
    if (s && s->level == SESSION_FULL) o.user_id = s->user_id;
    else if (s) memcpy(o.public_id, s->cart, sizeof o.public_id);
    return o;
}

/* After a change: the header's count, and a guest's bag id. */
static void remember(http_request *req, const cart_owner *o)
{
    int items = cart_items(o);
    session_set_cart(req, o->user_id ? "" : o->public_id, items > 0 ? items : 0);
}

static json_t *money_json(int64_t minor, const char *currency) { return catalog_money_in(minor, currency); }

static json_t *line_json(const cart_line *l, const char *currency)
{
    const cart_row *r = &l->row;
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:o,s:o,s:b,s:b,s:b,s:b,s:b,s:b}", "variant_id",
                          (json_int_t)r->variant_id, "name", r->product_name, "brand", r->brand_name, "size",
                          r->size_label, "colour", r->colour_name, "url",
                          "", "image", r->image_url, "quantity", r->quantity, "unit_price",
                          money_json(r->unit_price, currency), "line_total", money_json(l->line_total, currency),
                          "price_changed", l->price_changed, "unavailable", l->unavailable, "sold_out", l->sold_out,
                          "short_stock", l->short_stock, "restored", r->restored, "saved", r->saved_for_later);
    char url[160];
    snprintf(url, sizeof url, "/products/%s", r->product_slug);
    json_object_set_new(o, "url", json_string(url));
    if (l->price_changed) json_object_set_new(o, "was", money_json(r->price_at_add, currency));
    if (l->short_stock) json_object_set_new(o, "stock", json_integer(r->stock));
    /* the quantity choices: 1 … the cap (a <select>, works without JS) */
    json_t *choices = json_array();
    for (int q = 1; q <= cfg.max_line_quantity; q++)
        json_array_append_new(choices, json_pack("{s:i,s:b}", "value", q, "selected", q == r->quantity));
    json_object_set_new(o, "choices", choices);
    return o;
}

static json_t *cart_json(const cart *c)
{
    json_t *active = json_array(), *saved = json_array();
    for (int i = 0; i < c->n; i++)
        json_array_append_new(c->lines[i].row.saved_for_later ? saved : active, line_json(&c->lines[i], c->currency));
    pricing_line pl[CART_MAX_LINES];
    int m = 0;
    for (int i = 0; i < c->n; i++)
        if (!c->lines[i].row.saved_for_later)
            pl[m++] = (pricing_line){.unit_price = c->lines[i].row.unit_price, .quantity = c->lines[i].row.quantity,
                                     .tax_class = c->lines[i].row.tax_class};
    quote q;
    shop_error e;
    /* "restored" is a section ({{#restored}} notice): a boolean, as the
     * template engine takes every number — 0 too — for true */
    json_t *out = json_pack("{s:o,s:o,s:i,s:b,s:b,s:b,s:b,s:b}", "lines", active, "saved", saved, "items", c->items,
                            "empty", c->active == 0, "has_saved", c->saved > 0, "restored", c->restored > 0,
                            "problems", c->problems, "has_lines", c->active > 0);
    if (pricing_quote(pl, m, c->currency, "standard", &q, &e) == SHOP_OK) {
        json_object_set_new(out, "subtotal", money_json(q.subtotal.minor, c->currency));
        json_object_set_new(out, "shipping", money_json(q.shipping.minor, c->currency));
        json_object_set_new(out, "total", money_json(q.total.minor, c->currency));
        json_object_set_new(out, "tax", money_json(q.tax.minor, c->currency));
        json_object_set_new(out, "free_shipping", json_boolean(q.free_shipping));
        if (q.to_free_shipping > 0)
            json_object_set_new(out, "to_free_shipping", money_json(q.to_free_shipping, c->currency));
    }
    return out;
}

/* The caller's bag (free() it), or NULL with the error page answered. */
static cart *bag_of(http_request *req, http_response *res, cart_owner *o)
{
    *o = owner_of(req);
    cart *c = malloc(sizeof *c);
    if (!c) abort();
    shop_error e;
    if (cart_load(o, c, &e) != SHOP_OK) {
        free(c);
        view_shop_error(req, res, &e);
        return NULL;
    }
    return c;
}

static void cart_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    cart_owner o;
    cart *c = bag_of(req, res, &o);
    if (!c) return;
    json_t *ctx = json_pack("{s:s,s:o}", "page_title", "Your bag", "cart", cart_json(c));
    if (e) json_object_set_new(ctx, "error", json_string(e->message));
    /* the header's number follows what the page shows */
    if (req->session && req->session->cart_items != c->items) session_set_cart(req, o.user_id ? "" : c->public_id, c->items);
    free(c);
    view_page(req, res, status, "cart/cart", ctx);
}

void cart_show(http_request *req, http_response *res) { cart_page(req, res, 200, NULL); }

/* A whole number from the form: dflt when the field is absent, -1 (which
 * every quantity check refuses with its message) when it is there but not
 * a number of pairs: "two", "", 99999999999. */
static int int_form(http_request *req, const char *name, int dflt)
{
    const char *v = req_form(req, name);
    if (!v) v = req_query(req, name);
    if (!v) return dflt;
    long long n;
    return text_parse_int64(v, -1, 1000, &n) ? (int)n : -1;
}

void cart_add_confirm(http_request *req, http_response *res)
{
    const char *variant = req_query(req, "variant_id");
    long long vid;
    if (!variant || !*variant) {
        /* the product page's form sent without choosing a size */
        const char *back = req_header(req, "Referer");
        view_page(req, res, 422, "account/message",
                  json_pack("{s:s,s:s,s:s,s:s,s:s}", "page_title", "Choose a size", "heading", "Choose a size first",
                            "message", "Pick your size on the product page, then add it to your bag.", "link",
                            back && strstr(back, "/products/") ? strstr(back, "/products/") : "/shoes", "link_text",
                            "Back to the shoe"));
        return;
    }
    if (!text_parse_int64(variant, 1, 1LL << 31, &vid)) {
        res_error(req, res, 400, "The size chosen is not valid.");
        return;
    }
    int qty = int_form(req, "quantity", 1);
    if (qty < 1 || qty > cfg.max_line_quantity) qty = 1;
    view_page(req, res, 200, "cart/add",
              json_pack("{s:s,s:I,s:i}", "page_title", "Add to your bag", "variant_id", (json_int_t)vid, "quantity", qty));
}

void cart_add_post(http_request *req, http_response *res)
{
    cart_owner o = owner_of(req);
    shop_error e;
    long long vid;
    const char *v = req_form(req, "variant_id");
    if (!v || !text_parse_int64(v, 1, 1LL << 31, &vid)) {
        res_error(req, res, 422, "Choose a size first.");
        return;
    }
    if (cart_add(&o, vid, int_form(req, "quantity", 1), &e) != SHOP_OK) {
        cart_page(req, res, view_error_status(&e), &e);
        return;
    }
    remember(req, &o);
    /* the dashboard's funnel (analytics "add_to_cart") */
    events_emit(json_pack("{s:s,s:I}", "event", "add_to_cart", "variant", (json_int_t)vid));
    view_done(req, res, "/cart", "Added to your bag.");
}

static int64_t line_param(http_request *req)
{
    long long vid;
    return text_parse_int64(req_param(req, "variant"), 1, 1LL << 31, &vid) ? vid : 0;
}

static void line_change(http_request *req, http_response *res, int op)
{
    cart_owner o = owner_of(req);
    shop_error e;
    int64_t vid = line_param(req);
    shop_status st;
    const char *done;
    switch (op) {
    case 0:
        st = cart_update(&o, vid, int_form(req, "quantity", -1), &e);
        done = "Your bag is updated.";
        break;
    case 1:
        st = cart_remove(&o, vid, &e);
        done = "Removed from your bag.";
        break;
    case 2:
        st = cart_save_for_later(&o, vid, true, &e);
        done = "Saved for later.";
        break;
    default:
        st = cart_save_for_later(&o, vid, false, &e);
        done = "Moved back to your bag.";
        break;
    }
    if (st != SHOP_OK) {
        cart_page(req, res, view_error_status(&e), &e);
        return;
    }
    remember(req, &o);
    view_done(req, res, "/cart", done);
}

void cart_line_quantity(http_request *req, http_response *res) { line_change(req, res, 0); }
void cart_line_remove(http_request *req, http_response *res) { line_change(req, res, 1); }
void cart_line_save(http_request *req, http_response *res) { line_change(req, res, 2); }
void cart_line_unsave(http_request *req, http_response *res) { line_change(req, res, 3); }

void cart_dismiss(http_request *req, http_response *res)
{
    cart_owner o = owner_of(req);
    shop_error e;
    cart_dismiss_restored(&o, &e);
    res_redirect(res, 303, "/cart");
}

/* ---------- checkout ---------- */

static const char *field(http_request *req, const char *name)
{
    const char *v = req_form(req, name);
    if (!v && !policy_method_changes_state(req->method)) v = req_query(req, name);
    return v;
}

static const char *field_fn(void *ctx, const char *name) { return field(ctx, name); }

static json_t *address_fields(http_request *req, const address_row *dflt)
{
    json_t *f = json_array();
    struct { const char *name, *label, *auto_, *value; bool required; } spec[] = {
        {"full_name", "Full name", "name", dflt ? dflt->full_name : NULL, true},
        {"line1", "Address", "address-line1", dflt ? dflt->line1 : NULL, true},
        {"line2", "Address line 2", "address-line2", dflt ? dflt->line2 : NULL, false},
        {"city", "Town or city", "address-level2", dflt ? dflt->city : NULL, true},
        {"region", "County or region", "address-level1", dflt ? dflt->region : NULL, false},
        {"postcode", "Postcode", "postal-code", dflt ? dflt->postcode : NULL, true},
        {"phone", "Phone (for the courier)", "tel", dflt ? dflt->phone : NULL, false},
    };
    for (size_t i = 0; i < sizeof spec / sizeof *spec; i++) {
        const char *typed = field(req, spec[i].name);
        json_t *x = view_field(spec[i].name, spec[i].label, !strcmp(spec[i].name, "phone") ? "tel" : "text",
                               typed ? typed : spec[i].value, spec[i].auto_);
        json_object_set_new(x, "required", json_boolean(spec[i].required));
        json_array_append_new(f, x);
    }
    return f;
}

static json_t *countries_json(const char *chosen)
{
    json_t *a = json_array();
    for (int i = 0; i < address_country_count; i++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:b}", "code", address_countries[i].code, "name",
                                           address_countries[i].name,
                                           "selected", chosen ? !strcmp(chosen, address_countries[i].code)
                                                              : !strcmp(address_countries[i].code, "GB")));
    return a;
}

static void checkout_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    cart_owner o;
    cart *c = bag_of(req, res, &o);
    if (!c) return;
    if (c->active == 0) {
        free(c);
        res_redirect(res, 303, "/cart");
        return;
    }
    /* the checkout shown with a bag (not again with a refused form): the
     * dashboard's funnel (analytics "checkout") */
    if (!e) events_emit(json_pack("{s:s}", "event", "checkout"));
    const char *ship = field(req, "shipping_method");
    if (!pricing_shipping_method_valid(ship)) ship = "standard";
    const char *pay = field(req, "payment_method");
    bool card_ok = cfg.stripe_secret_key && cfg.stripe_secret_key[0];
    if (!pay || (strcmp(pay, "cod") && strcmp(pay, "card"))) pay = card_ok ? "card" : "cod";
    /* both delivery options' totals, so the choice never surprises */
    pricing_line pl[CART_MAX_LINES];
    int m = 0;
    for (int i = 0; i < c->n; i++)
        if (!c->lines[i].row.saved_for_later)
            pl[m++] = (pricing_line){.unit_price = c->lines[i].row.unit_price, .quantity = c->lines[i].row.quantity,
                                     .tax_class = c->lines[i].row.tax_class};
    quote qs, qe;
    shop_error pe;
    if (pricing_quote(pl, m, c->currency, "standard", &qs, &pe) != SHOP_OK ||
        pricing_quote(pl, m, c->currency, "express", &qe, &pe) != SHOP_OK) {
        free(c);
        view_shop_error(req, res, &pe);
        return;
    }
    const quote *q = !strcmp(ship, "express") ? &qe : &qs;
    char key[44];
    if (session_checkout_key(req, key) != 0) {
        free(c);
        res_error(req, res, 503, "Checkout is unavailable for a moment. Please try again.");
        return;
    }
    json_t *ctx = json_pack("{s:s,s:o,s:s,s:b,s:b,s:b,s:b,s:b}", "page_title", "Checkout", "cart", cart_json(c), "key",
                            key, "standard", !strcmp(ship, "standard"), "express", !strcmp(ship, "express"), "cod",
                            !strcmp(pay, "cod"), "card", !strcmp(pay, "card"), "card_ok", card_ok);
    json_object_set_new(ctx, "standard_price", money_json(qs.shipping.minor, c->currency));
    json_object_set_new(ctx, "express_price", money_json(qe.shipping.minor, c->currency));
    json_object_set_new(ctx, "standard_total", money_json(qs.total.minor, c->currency));
    json_object_set_new(ctx, "express_total", money_json(qe.total.minor, c->currency));
    json_object_set_new(ctx, "standard_free", json_boolean(qs.free_shipping));
    json_object_set_new(ctx, "total", money_json(q->total.minor, c->currency));
    json_object_set_new(ctx, "subtotal", money_json(q->subtotal.minor, c->currency));
    json_object_set_new(ctx, "shipping", money_json(q->shipping.minor, c->currency));
    json_object_set_new(ctx, "tax", money_json(q->tax.minor, c->currency));
    json_object_set_new(ctx, "expected_standard", json_integer(qs.total.minor));
    json_object_set_new(ctx, "expected_express", json_integer(qe.total.minor));
    free(c);

    /* where to: the address book (verified shoppers), or a new address */
    const web_session *s = req->session;
    address_row book[ADDRESS_MAX];
    int nbook = 0;
    shop_error be;
    if (s && s->level == SESSION_FULL && s->verified) address_list(s->user_id, book, ADDRESS_MAX, &nbook, &be);
    const char *chosen = field(req, "address_id");
    json_t *addresses = json_array();
    for (int i = 0; i < nbook; i++) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)book[i].id);
        bool sel = chosen ? !strcmp(chosen, id) : i == 0;
        json_array_append_new(addresses, json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "id", id, "name", book[i].full_name,
                                                   "line1", book[i].line1, "city", book[i].city, "postcode",
                                                   book[i].postcode, "selected", sel));
    }
    bool use_new = nbook == 0 || (chosen && !strcmp(chosen, "new"));
    json_object_set_new(ctx, "addresses", addresses);
    json_object_set_new(ctx, "has_book", json_boolean(nbook > 0));
    json_object_set_new(ctx, "use_new", json_boolean(use_new));
    json_t *fields = address_fields(req, NULL);
    json_object_set_new(ctx, "countries", countries_json(field(req, "country")));
    json_t *contact = json_array();
    if (!(s && s->level == SESSION_FULL)) {
        json_array_append_new(contact, view_field("email", "E-mail address (for your receipt)", "email",
                                                  field(req, "email"), "email"));
        json_object_set_new(ctx, "guest", json_true());
    }
    if (e) {
        view_form_error(ctx, fields, e);
        view_form_error(ctx, contact, e);
        /* a message placed on a field above need not show twice */
        if (e->field && json_object_get(ctx, "error") && strcmp(e->field, "lines") && strcmp(e->field, "total") &&
            strcmp(e->field, "shipping_method") && strcmp(e->field, "payment_method"))
            json_object_del(ctx, "error");
    }
    json_object_set_new(ctx, "fields", fields);
    json_object_set_new(ctx, "contact", contact);
    view_page(req, res, status, "cart/checkout", ctx);
}

void checkout_show(http_request *req, http_response *res) { checkout_page(req, res, 200, NULL); }

void checkout_place(http_request *req, http_response *res)
{
    const web_session *s = req->session;
    checkout_request r = {0};
    cart_owner o = owner_of(req);
    r.user_id = o.user_id;
    r.cart_public_id = o.public_id;
    r.shipping_method = field(req, "shipping_method");
    r.payment_method = field(req, "payment_method");
    r.idempotency_key = field(req, "checkout_key");
    const char *expected = field(req, r.shipping_method && !strcmp(r.shipping_method, "express") ? "expected_express"
                                                                                                  : "expected_standard");
    long long exp = 0;
    shop_error e;
    if (!expected || !text_parse_int64(expected, 0, 1LL << 53, &exp)) {
        /* the total the shopper reviewed is part of the form: without it we
         * cannot know what they agreed to pay */
        shop_fail(&e, SHOP_INVALID, NULL, "This checkout form is incomplete. Please reload the page.");
        checkout_page(req, res, view_error_status(&e), &e);
        return;
    }
    r.expected_total = exp;
    account me;
    if (s && s->level == SESSION_FULL) {
        if (accounts_get(s->user_id, &me, &e) != SHOP_OK) {
            view_shop_error(req, res, &e);
            return;
        }
        r.email = me.email;
    } else {
        r.email = field(req, "email");
    }
    const char *address_id = field(req, "address_id");
    long long aid;
    if (address_id && strcmp(address_id, "new") && s && s->level == SESSION_FULL && s->verified &&
        text_parse_int64(address_id, 1, 1LL << 53, &aid)) {
        if (address_get(s->user_id, aid, &r.address, &e) != SHOP_OK) {
            checkout_page(req, res, view_error_status(&e), &e);
            return;
        }
    } else if (address_from_fields(&r.address, field_fn, req, &e) != SHOP_OK) {
        checkout_page(req, res, view_error_status(&e), &e);
        return;
    }
    order_placed placed;
    if (orders_place(&r, &placed, &e) != SHOP_OK) {
        checkout_page(req, res, view_error_status(&e), &e);
        return;
    }
    session_new_checkout_key(req);
    remember(req, &o);
    char token[SECRET_TOKEN_CHARS] = "";
    if (!r.user_id) {
        /* a guest's order opens with its link (also when this key placed it before) */
        orders_link_token(placed.number, token);
        session_remember_order(req, placed.number, token);
    }
    const char *t = token[0] ? arena_printf(req->pool, "?t=%s", token) : "";
    if (!strcmp(placed.payment_method, "card") && !strcmp(placed.status, "pending_payment")) {
        res_redirect(res, 303, arena_printf(req->pool, "/checkout/pay/%s%s", placed.number, t));
        return;
    }
    view_done(req, res, arena_printf(req->pool, "/orders/%s%s", placed.number, t),
              placed.existed ? "This order was placed already: here it is." : "Thank you! Your order is placed.");
}
