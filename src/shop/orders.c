/* orders.c — see orders.h. */
#include "shop/orders.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "db/cart_repo.h"
#include "db/tx.h"
#include "events/activity.h"
#include "jobs/outbox.h"
#include "shop/account_book.h"
#include "shop/accounts.h"
#include "shop/audit.h"
#include "shop/catalog.h"
#include "shop/pricing.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PLACE_AGAIN 2           /* another request placed this key first: read it */
#define REFUSED 3               /* a business refusal: e says why */
#define LOW_STOCK 3

static const char STORE_DOWN[] = "Orders are unavailable for a moment. Nothing was charged or changed; please try again.";

/* ---------- states: the one table of allowed moves ---------- */

static const struct move {
    const char *from, *to;
} moves[] = {
    {"pending_payment", "paid"},   {"pending_payment", "cancelled"},
    {"paid", "shipped"},           {"paid", "refunded"},
    {"cod_confirmed", "shipped"},  {"cod_confirmed", "cancelled"},
    {"shipped", "delivered"},      {"shipped", "refunded"},
    {"delivered", "refunded"},
};

bool orders_move_allowed(const char *from, const char *to)
{
    for (size_t i = 0; i < sizeof moves / sizeof *moves; i++)
        if (!strcmp(moves[i].from, from) && !strcmp(moves[i].to, to)) return true;
    return false;
}

static const char *status_text(const char *s)
{
    if (!strcmp(s, "pending_payment")) return "waiting for payment";
    if (!strcmp(s, "paid")) return "paid";
    if (!strcmp(s, "cod_confirmed")) return "confirmed (pay on delivery)";
    if (!strcmp(s, "shipped")) return "on its way";
    if (!strcmp(s, "delivered")) return "delivered";
    if (!strcmp(s, "cancelled")) return "cancelled";
    if (!strcmp(s, "refunded")) return "refunded";
    return s;
}

/* ---------- helpers ---------- */

static void new_number(char out[13])
{
    /* Crockford's alphabet: no I, L, O, U to misread on a phone call */
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    out[0] = 'S';
    out[1] = 'E';
    for (int i = 2; i < 12; i++) out[i] = alphabet[randombytes_uniform(32)];
    out[12] = '\0';
}

static void link_hash(const char *number, const char *token, char out[SECRET_HASH_HEX])
{
    char msg[128];
    int n = snprintf(msg, sizeof msg, "%s:%s", number, token);
    secret_hash_hex("order-link", msg, (size_t)n, out);
}

void orders_link_token(const char *number, char out[SECRET_TOKEN_CHARS])
{
    /* keyed by SECRET_KEY: only the shop can make it, and it can make it
     * again for every mail about the order (the database keeps only its
     * hash, access_hash) */
    unsigned char key[SECRET_KEY_BYTES], mac[32];
    secret_subkey("order-link-token", key);
    crypto_generichash(mac, sizeof mac, (const unsigned char *)number, strlen(number), key, sizeof key);
    sodium_memzero(key, sizeof key);
    sodium_bin2base64(out, SECRET_TOKEN_CHARS, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool orders_token_ok(const order_row *o, const char *token)
{
    if (!token || !*token || strlen(token) > 64) return false;
    char h[SECRET_HASH_HEX];
    link_hash(o->number, token, h);
    return secret_equal(h, o->access_hash);
}

/* The order's mail context: what the confirmation and status mails show. */
static json_t *mail_ctx(db_conn *c, const order_row *o)
{
    json_t *lines = json_array();
    static __thread order_line_row rows[ORDER_MAX_LINES];
    int n = order_repo_lines(c, o->id, rows, ORDER_MAX_LINES);
    char amount[MONEY_FORMAT_MAX];
    for (int i = 0; i < n; i++) {
        money_format(money_make(rows[i].line_total, o->currency), amount, sizeof amount);
        json_array_append_new(lines, json_pack("{s:s,s:s,s:s,s:s,s:i,s:s}", "name", rows[i].product_name, "brand",
                                               rows[i].brand_name, "size", rows[i].size_label, "colour",
                                               rows[i].colour_name, "quantity", rows[i].quantity, "total", amount));
    }
    char sub[MONEY_FORMAT_MAX], ship[MONEY_FORMAT_MAX], tax[MONEY_FORMAT_MAX], total[MONEY_FORMAT_MAX];
    money_format(money_make(o->subtotal, o->currency), sub, sizeof sub);
    money_format(money_make(o->shipping, o->currency), ship, sizeof ship);
    money_format(money_make(o->tax, o->currency), tax, sizeof tax);
    money_format(money_make(o->total, o->currency), total, sizeof total);
    json_t *ctx = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "number", o->number,
                            "status", o->status, "status_text", status_text(o->status), "lines", lines, "subtotal", sub,
                            "shipping", ship, "tax", tax, "total", total, "ship_name", o->ship_name, "ship_line1",
                            o->ship_line1, "ship_line2", o->ship_line2, "ship_city", o->ship_city, "ship_postcode",
                            o->ship_postcode, "ship_country", address_country_name(o->ship_country), "payment",
                            !strcmp(o->payment_method, "cod") ? "cash on delivery" : "card", "express",
                            !strcmp(o->shipping_method, "express"));
    /* the link to the order (and its invoice): a guest's carries its token */
    char token[SECRET_TOKEN_CHARS] = "";
    if (!o->user_id) orders_link_token(o->number, token);
    json_object_set_new(ctx, "link_query", json_string(token[0] ? "?t=" : ""));
    json_object_set_new(ctx, "token", json_string(token));
    return ctx;
}

/* The mail's key ends with ":<number>" (the admin portal finds an order's
 * mails by it: outbox_repo_about); note: what the shop tells the shopper
 * with this step (a tracking number), or NULL. */
static int mail_order(db_tx *tx, const order_row *o, const char *tmpl, const char *key_kind, const char *note)
{
    json_t *ctx = mail_ctx(db_tx_conn(tx), o);
    if (note && *note) json_object_set_new(ctx, "note", json_string(note));
    json_t *payload = json_pack("{s:s,s:s,s:o}", "to", o->email, "template", tmpl, "ctx", ctx);
    char key[128];
    snprintf(key, sizeof key, "%s:%s", key_kind, o->number);
    int rc = outbox_add(tx, "mail.send", key, payload, 0);
    json_decref(payload);
    return rc;
}

static int queue_invoice(db_tx *tx, const order_row *o)
{
    char key[64];
    snprintf(key, sizeof key, "invoice:%s", o->number);
    json_t *payload = json_pack("{s:s}", "number", o->number);
    int rc = outbox_add(tx, "orders.invoice", key, payload, 0);
    json_decref(payload);
    return rc;
}

/* An order's step for MongoDB (order_activity and the analytics counters),
 * through the outbox like its mails: committed with the order, delivered by
 * the worker even if this process dies right after the commit. */
static int queue_event(db_tx *tx, const order_row *o, const char *kind)
{
    char key[64];
    snprintf(key, sizeof key, "event:%s:%s", kind, o->number);
    json_t *payload = json_pack("{s:s,s:s,s:I,s:I}", "event", kind, "order", o->number, "total", (json_int_t)o->total,
                                "time_ms", (json_int_t)queue_now_ms());
    if (o->user_id) json_object_set_new(payload, "uid", json_integer(o->user_id));
    int rc = outbox_add(tx, "orders.event", key, payload, 0);
    json_decref(payload);
    return rc;
}

job_result orders_event_job(const job *j, char *err, size_t errlen)
{
    const char *kind = json_string_value(json_object_get(j->payload, "event"));
    const char *number = json_string_value(json_object_get(j->payload, "order"));
    if (!kind || !number) {
        snprintf(err, errlen, "orders.event: needs event and order");
        return JOB_FAILED;
    }
    char *line = json_dumps(j->payload, JSON_COMPACT);
    if (!line) abort();
    size_t len = strlen(line);
    const char *lines[1] = {line};
    int rc = events_push_lines(lines, &len, 1);
    free(line);
    if (rc != 0) {
        snprintf(err, errlen, "orders.event: the durable Redis refused the event");
        return JOB_RETRY;
    }
    return JOB_DONE;
}

/* ---------- placing an order ---------- */

struct place {
    const checkout_request *r;
    char email[255];
    order_placed *out;
    shop_error *e;
};

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int place_tx(db_tx *tx, void *arg)
{
    struct place *p = arg;
    const checkout_request *r = p->r;
    db_conn *c = db_tx_conn(tx);

    /* 1. the bag, locked: a second request for the same checkout waits here
     *    for the first, then finds its order below */
    int64_t cart_id = 0, owner = 0;
    int found = r->user_id ? cart_repo_find_user(c, r->user_id, &cart_id, NULL, true)
                           : (r->cart_public_id && text_is_lower_hex(r->cart_public_id, 32)
                                  ? cart_repo_find_public(c, r->cart_public_id, &cart_id, &owner, true)
                                  : 0);
    if (found < 0) return DB_TX_FAILED;
    if (found == 1 && !r->user_id && owner) found = 0;

    /* 2. this checkout was placed already: the same order */
    order_row existing;
    int ex = order_repo_by_key(c, r->idempotency_key, &existing);
    if (ex < 0) return DB_TX_FAILED;
    if (ex == 1) {
        /* the same shopper, or for a guest the same bag: a key that
         * reached anyone else opens nothing */
        if (existing.user_id != r->user_id || (!r->user_id && existing.cart_id != cart_id)) {
            shop_fail(p->e, SHOP_CONFLICT, NULL, "This checkout form was used already. Please reload the page.");
            return REFUSED;
        }
        p->out->existed = true;
        text_copy(p->out->number, sizeof p->out->number, existing.number);
        text_copy(p->out->status, sizeof p->out->status, existing.status);
        text_copy(p->out->payment_method, sizeof p->out->payment_method, existing.payment_method);
        return DB_TX_OK;
    }

    /* 3. what is bought: the bag's active lines */
    static __thread cart_row lines[CART_MAX_LINES];
    int n = found == 1 ? cart_repo_lines(c, cart_id, lines, CART_MAX_LINES) : 0;
    if (n < 0) return DB_TX_FAILED;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!lines[i].saved_for_later) lines[m++] = lines[i];
    if (m == 0) {
        shop_fail(p->e, SHOP_INVALID, NULL, "Your bag is empty.");
        return REFUSED;
    }

    /* 4. lock the variants in id order, then check every line */
    int64_t ids[CART_MAX_LINES];
    for (int i = 0; i < m; i++) ids[i] = lines[i].variant_id;
    qsort(ids, (size_t)m, sizeof *ids, cmp_id);
    static __thread locked_variant v[CART_MAX_LINES];
    int nv = order_repo_lock_variants(c, ids, m, v);
    if (nv < 0) return DB_TX_FAILED;
    pricing_line pl[CART_MAX_LINES];
    const locked_variant *lv[CART_MAX_LINES];
    buf problems = BUF_INIT;
    int nproblems = 0;
    char currency[4] = "";
    for (int i = 0; i < m; i++) {
        lv[i] = NULL;
        for (int k = 0; k < nv; k++)
            if (v[k].id == lines[i].variant_id) lv[i] = &v[k];
        const char *what = lines[i].product_name;
        if (!lv[i] || !lv[i]->active) {
            buf_printf(&problems, "%s%s is no longer sold.", nproblems++ ? " " : "", what);
        } else if (lv[i]->stock < lines[i].quantity) {
            if (lv[i]->stock <= 0)
                buf_printf(&problems, "%s%s in %s is sold out.", nproblems++ ? " " : "", what, lv[i]->size_label);
            else
                buf_printf(&problems, "%sOnly %lld left of %s in %s.", nproblems++ ? " " : "", (long long)lv[i]->stock,
                           what, lv[i]->size_label);
        }
        if (lv[i]) {
            if (!currency[0]) text_copy(currency, sizeof currency, lv[i]->currency);
            pl[i] = (pricing_line){.unit_price = lv[i]->price, .quantity = lines[i].quantity, .tax_class = lv[i]->tax_class};
        }
    }
    if (nproblems) {
        shop_fail(p->e, SHOP_CONFLICT, "lines", "%s Change your bag and try again.", buf_cstr(&problems));
        buf_free(&problems);
        return REFUSED;
    }
    buf_free(&problems);

    /* 5. the totals, worked out now, from the catalogue */
    quote q;
    if (pricing_quote(pl, m, currency, r->shipping_method, &q, p->e) != SHOP_OK) return REFUSED;
    if (r->expected_total >= 0 && r->expected_total != q.total.minor) {
        char now[MONEY_FORMAT_MAX];
        money_format(q.total, now, sizeof now);
        shop_fail(p->e, SHOP_CONFLICT, "total",
                  "Prices changed while you were checking out: the total is now %s. Please review your order again.", now);
        return REFUSED;
    }

    /* 6. take the stock (conditional: it can never go below zero) */
    for (int i = 0; i < m; i++) {
        int took = order_repo_take_stock(c, lv[i]->id, lines[i].quantity);
        if (took < 0) return DB_TX_FAILED;
        if (took == 0) { /* cannot happen under the lock; refuse rather than oversell */
            shop_fail(p->e, SHOP_CONFLICT, "lines", "%s in %s sold out just now.", lv[i]->product_name, lv[i]->size_label);
            return REFUSED;
        }
    }

    /* 7. the order, its lines, payment record and history */
    bool card = !strcmp(r->payment_method, "card");
    order_row o = {0};
    new_number(o.number);
    o.user_id = r->user_id;
    o.cart_id = cart_id;
    text_copy(o.email, sizeof o.email, p->email);
    text_copy(o.status, sizeof o.status, card ? "pending_payment" : "cod_confirmed");
    text_copy(o.payment_method, sizeof o.payment_method, card ? "card" : "cod");
    text_copy(o.currency, sizeof o.currency, currency);
    o.subtotal = q.subtotal.minor;
    o.shipping = q.shipping.minor;
    o.tax = q.tax.minor;
    o.total = q.total.minor;
    text_copy(o.shipping_method, sizeof o.shipping_method, r->shipping_method);
    const address_row *a = &r->address;
    text_copy(o.ship_name, sizeof o.ship_name, a->full_name);
    text_copy(o.ship_line1, sizeof o.ship_line1, a->line1);
    text_copy(o.ship_line2, sizeof o.ship_line2, a->line2);
    text_copy(o.ship_city, sizeof o.ship_city, a->city);
    text_copy(o.ship_region, sizeof o.ship_region, a->region);
    text_copy(o.ship_postcode, sizeof o.ship_postcode, a->postcode);
    text_copy(o.ship_country, sizeof o.ship_country, a->country);
    text_copy(o.ship_phone, sizeof o.ship_phone, a->phone);
    if (card) o.expires_at = (int64_t)time(NULL) + (int64_t)cfg.card_order_minutes * 60;
    int64_t order_id = 0;
    int ins = -2;
    for (int attempt = 0; attempt < 3 && ins == -2; attempt++) {
        orders_link_token(o.number, p->out->access_token);
        link_hash(o.number, p->out->access_token, o.access_hash);
        ins = order_repo_insert(c, &o, r->idempotency_key, &order_id);
        if (ins == -2) {
            /* the key (another tab committed meanwhile) or, very rarely, the number */
            order_row other;
            if (order_repo_by_key(c, r->idempotency_key, &other) == 1) return PLACE_AGAIN;
            new_number(o.number);
        }
    }
    if (ins < 0) return ins == -2 ? PLACE_AGAIN : DB_TX_FAILED;
    o.id = order_id;
    for (int i = 0; i < m; i++) {
        order_line_row l = {.variant_id = lv[i]->id, .product_id = lv[i]->product_id, .unit_price = lv[i]->price,
                            .quantity = lines[i].quantity, .line_total = pl[i].line_total, .tax_rate_bp = pl[i].rate_bp,
                            .tax = pl[i].tax};
        text_copy(l.sku, sizeof l.sku, lv[i]->sku);
        text_copy(l.product_name, sizeof l.product_name, lv[i]->product_name);
        text_copy(l.product_slug, sizeof l.product_slug, lv[i]->product_slug);
        text_copy(l.brand_name, sizeof l.brand_name, lv[i]->brand_name);
        text_copy(l.size_label, sizeof l.size_label, lv[i]->size_label);
        text_copy(l.colour_name, sizeof l.colour_name, lv[i]->colour_name);
        if (order_repo_insert_line(c, order_id, &l) < 0) return DB_TX_FAILED;
        if (cart_repo_remove(c, cart_id, lv[i]->id) < 0) return DB_TX_FAILED;
    }
    payment_row pay = {.order_id = order_id, .amount = o.total};
    text_copy(pay.provider, sizeof pay.provider, card ? "stripe" : "cod");
    text_copy(pay.currency, sizeof pay.currency, currency);
    text_copy(pay.status, sizeof pay.status, "pending");
    int64_t pay_id;
    if (order_repo_insert_payment(c, &pay, &pay_id) < 0) return DB_TX_FAILED;
    if (order_repo_event(c, order_id, NULL, o.status, r->user_id ? "shopper" : "guest",
                         card ? "placed, waiting for the card payment" : "placed, cash on delivery") < 0)
        return DB_TX_FAILED;

    /* 8. after commit: mails, invoice, analytics, fresh catalogue pages */
    if (!card && (mail_order(tx, &o, "order_confirmation", "order-confirmation", NULL) < 0 || queue_invoice(tx, &o) < 0))
        return DB_TX_FAILED;
    for (int i = 0; i < m; i++) {
        int64_t left = lv[i]->stock - lines[i].quantity;
        if (left <= LOW_STOCK && cfg.staff_alert_email && cfg.staff_alert_email[0]) {
            /* one alert per order that leaves a size this low (a restock
             * and a later sell-down alert again) */
            char key[96];
            snprintf(key, sizeof key, "low-stock:%lld:%s", (long long)lv[i]->id, o.number);
            json_t *payload = json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:I}}", "to", cfg.staff_alert_email, "template",
                                        "low_stock", "ctx", "product", lv[i]->product_name, "size", lv[i]->size_label,
                                        "sku", lv[i]->sku, "left", (json_int_t)left);
            int rc = outbox_add(tx, "mail.send", key, payload, 0);
            json_decref(payload);
            if (rc < 0) return DB_TX_FAILED;
        }
    }
    if (queue_event(tx, &o, "order") < 0) return DB_TX_FAILED;
    /* the pages that show this stock, after commit: the products' pages;
     * listings only when a size sells out (catalog.h) */
    catalog_stock_change taken[CART_MAX_LINES];
    for (int i = 0; i < m; i++) taken[i] = (catalog_stock_change){lines[i].variant_id, -(int64_t)lines[i].quantity};
    if (catalog_stock_changed(tx, taken, m) < 0) return DB_TX_FAILED;

    text_copy(p->out->number, sizeof p->out->number, o.number);
    text_copy(p->out->status, sizeof p->out->status, o.status);
    text_copy(p->out->payment_method, sizeof p->out->payment_method, o.payment_method);
    if (r->user_id) p->out->access_token[0] = '\0';
    return DB_TX_OK;
}

shop_status orders_place(const checkout_request *r, order_placed *out, shop_error *e)
{
    memset(out, 0, sizeof *out);
    struct place p = {.r = r, .out = out, .e = e};
    if (accounts_normalise_email(r->email, p.email, sizeof p.email) < 0)
        return shop_fail(e, SHOP_INVALID, "email", "Enter an e-mail address like name@example.com for your receipt.");
    address_row a = r->address;
    if (address_validate(&a, e) != SHOP_OK) return e->status;
    if (!pricing_shipping_method_valid(r->shipping_method))
        return shop_fail(e, SHOP_INVALID, "shipping_method", "Choose standard or express delivery.");
    if (!r->payment_method || (strcmp(r->payment_method, "cod") && strcmp(r->payment_method, "card")))
        return shop_fail(e, SHOP_INVALID, "payment_method", "Choose how to pay.");
    if (!strcmp(r->payment_method, "card") && (!cfg.stripe_secret_key || !cfg.stripe_secret_key[0]))
        return shop_fail(e, SHOP_INVALID, "payment_method", "Card payments are unavailable right now: choose cash on delivery.");
    if (!r->idempotency_key || strlen(r->idempotency_key) != 43)
        return shop_fail(e, SHOP_INVALID, NULL, "This checkout form is incomplete. Please reload the page.");
    for (const char *k = r->idempotency_key; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '-' || *k == '_'))
            return shop_fail(e, SHOP_INVALID, NULL, "This checkout form is incomplete. Please reload the page.");
    checkout_request copy = *r;
    copy.address = a;
    p.r = &copy;
    for (int attempt = 0; attempt < 3; attempt++) {
        int rc = db_tx_run(place_tx, &p);
        if (rc == DB_TX_OK) return SHOP_OK;
        if (rc == REFUSED) return e->status;
        if (rc != PLACE_AGAIN) break;
    }
    return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
}

/* ---------- reading ---------- */

static bool may_see(const order_row *o, const order_viewer *who)
{
    if (who->staff) return true;
    if (who->user_id && o->user_id == who->user_id) return true;
    return orders_token_ok(o, who->token);
}

shop_status orders_view(const char *number, const order_viewer *who, order_view *out, shop_error *e)
{
    memset(out, 0, sizeof *out);
    db_conn *c = db_conn_get();
    if (!c) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    int r = order_repo_by_number(c, number, false, &out->order);
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 0 || !may_see(&out->order, who))
        return shop_fail(e, SHOP_NOT_FOUND, NULL, "We could not find that order. Check the link, or sign in.");
    out->nlines = order_repo_lines(c, out->order.id, out->lines, ORDER_MAX_LINES);
    out->has_payment = order_repo_payment(c, out->order.id, &out->payment) == 1;
    out->nevents = order_repo_events(c, out->order.id, out->events, 32);
    if (out->nlines < 0 || out->nevents < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    const char *s = out->order.status;
    out->can_cancel = !strcmp(s, "pending_payment") || !strcmp(s, "cod_confirmed") || !strcmp(s, "paid");
    return SHOP_OK;
}

shop_status orders_of_user(int64_t user_id, order_row *out, int max, int offset, int *count, shop_error *e)
{
    db_conn *c = db_conn_get();
    int n = c ? order_repo_for_user(c, user_id, out, max, offset) : -1;
    if (n < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    *count = n;
    return SHOP_OK;
}

/* ---------- moving an order ---------- */

struct move_arg {
    const char *number, *to, *actor, *note;
    shop_error *e;
    int64_t refunded;          /* a refund that happened at the provider */
    const char *event_id;      /* a webhook event: recorded in the same unit, so it is handled once */
    const char *event_type;
    const audit_actor *who;    /* a person (staff, a command line): the audit row, in the same unit */
};

/* The audit log's name of a move ("order.ship"). */
static const char *move_action(const char *to)
{
    if (!strcmp(to, "shipped")) return "order.ship";
    if (!strcmp(to, "delivered")) return "order.deliver";
    if (!strcmp(to, "cancelled")) return "order.cancel";
    if (!strcmp(to, "refunded")) return "order.refund";
    if (!strcmp(to, "paid")) return "order.pay";
    return "order.move";
}

/* What a reviewer of the audit log needs of an order around a move. */
static json_t *move_json(const char *status, const payment_row *pay, bool has_pay)
{
    json_t *j = json_pack("{s:s}", "status", status);
    if (has_pay) {
        json_object_set_new(j, "payment", json_string(pay->status));
        json_object_set_new(j, "refunded", json_integer(pay->refunded_amount));
    }
    return j;
}

static int return_stock(db_tx *tx, int64_t order_id)
{
    db_conn *c = db_tx_conn(tx);
    static __thread order_line_row rows[ORDER_MAX_LINES];
    int n = order_repo_lines(c, order_id, rows, ORDER_MAX_LINES);
    if (n < 0) return -1;
    catalog_stock_change back[ORDER_MAX_LINES];
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!rows[i].variant_id) continue; /* the variant was deleted since */
        if (order_repo_return_stock(c, rows[i].variant_id, rows[i].quantity) < 0) return -1;
        back[k++] = (catalog_stock_change){rows[i].variant_id, rows[i].quantity};
    }
    /* the pages that show this stock, after commit (only the products', and
     * listings only where a size comes back from sold out) */
    return catalog_stock_changed(tx, back, k);
}

/* Everything a move changes besides the order's status and history:
 * stock back, the payment record (pay, when there is one, is updated to
 * what it becomes), reviews verified, the mail, the event. */
static int move_effects(db_tx *tx, const struct move_arg *a, order_row *o, bool not_shipped, payment_row *pay)
{
    db_conn *c = db_tx_conn(tx);
    if ((!strcmp(a->to, "cancelled") || !strcmp(a->to, "refunded")) && not_shipped && return_stock(tx, o->id) < 0)
        return DB_TX_FAILED;
    const char *payment_to = !strcmp(a->to, "cancelled") ? "cancelled"
                             : !strcmp(a->to, "refunded") ? "refunded"
                             : !strcmp(a->to, "paid")     ? "succeeded"
                                                          : NULL;
    if (pay && payment_to) {
        int64_t refunded = !strcmp(a->to, "refunded") ? a->refunded : 0;
        if (order_repo_payment_status(c, pay->id, payment_to, refunded) < 0) return DB_TX_FAILED;
        text_copy(pay->status, sizeof pay->status, payment_to);
        pay->refunded_amount = refunded;
    }
    if (!strcmp(a->to, "delivered") && order_repo_verify_reviews(c, o->id) < 0) return DB_TX_FAILED;
    text_copy(o->status, sizeof o->status, a->to);
    if (!strcmp(a->to, "paid")) {
        /* the confirmation waited for the money */
        if (mail_order(tx, o, "order_confirmation", "order-confirmation", NULL) < 0 || queue_invoice(tx, o) < 0)
            return DB_TX_FAILED;
    } else {
        char kind[48];
        snprintf(kind, sizeof kind, "order-%s", a->to);
        if (mail_order(tx, o, "order_status", kind, a->note) < 0) return DB_TX_FAILED;
    }
    return queue_event(tx, o, a->to) < 0 ? DB_TX_FAILED : DB_TX_OK;
}

static int move_tx(db_tx *tx, void *arg)
{
    struct move_arg *a = arg;
    db_conn *c = db_tx_conn(tx);
    order_row o;
    int r = order_repo_by_number(c, a->number, true, &o);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0) {
        shop_fail(a->e, SHOP_NOT_FOUND, NULL, "No order %s.", a->number);
        return REFUSED;
    }
    if (a->event_id) {
        /* the event and its effect commit together: a crash in between
         * leaves neither, and the provider's redelivery does it again */
        int first = order_repo_webhook_first(c, "stripe", a->event_id, a->event_type);
        if (first < 0) return DB_TX_FAILED;
        if (first == 0) return DB_TX_OK; /* a redelivery: acknowledged, not redone */
    }
    if (!strcmp(o.status, a->to)) return DB_TX_OK; /* already there: a repeat is harmless */
    if (!orders_move_allowed(o.status, a->to)) {
        shop_fail(a->e, SHOP_CONFLICT, "status", "Order %s is %s: it cannot be %s now.", o.number, status_text(o.status),
                  a->to);
        return REFUSED;
    }
    char from[20];
    text_copy(from, sizeof from, o.status);
    if (order_repo_set_status(c, o.id, a->to) < 0) return DB_TX_FAILED;
    if (order_repo_event(c, o.id, from, a->to, a->actor, a->note) < 0) return DB_TX_FAILED;
    payment_row pay;
    bool has_pay = order_repo_payment(c, o.id, &pay) == 1;
    json_t *before = a->who ? move_json(from, &pay, has_pay) : NULL;
    bool not_shipped = !strcmp(from, "pending_payment") || !strcmp(from, "paid") || !strcmp(from, "cod_confirmed");
    int rc = move_effects(tx, a, &o, not_shipped, has_pay ? &pay : NULL);
    if (rc == DB_TX_OK && a->who) {
        /* the person who did it, in the same unit of work as the move */
        json_t *after = move_json(a->to, &pay, has_pay);
        if (a->note[0]) json_object_set_new(after, "note", json_string(a->note));
        if (audit_record(tx, a->who, move_action(a->to), "order", o.number, before, after) < 0) rc = DB_TX_FAILED;
        json_decref(after);
    }
    json_decref(before);
    return rc;
}

static shop_status move_for(const char *number, const char *to, const char *actor, const char *note, int64_t refunded,
                            const webhook_event *ev, const audit_actor *who, shop_error *e)
{
    struct move_arg a = {number, to,      actor, note ? note : "", e, refunded, ev ? ev->id : NULL,
                         ev ? ev->type : NULL, who};
    int rc = db_tx_run(move_tx, &a);
    if (rc == DB_TX_OK) return SHOP_OK;
    if (rc == REFUSED) return e->status;
    return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
}

static shop_status transition(const char *number, const char *to, const char *actor, const char *note,
                              const audit_actor *who, shop_error *e)
{
    db_conn *c = db_conn_get();
    order_row o;
    int r = c ? order_repo_by_number(c, number, false, &o) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 0) return shop_fail(e, SHOP_NOT_FOUND, NULL, "No order %s.", number);
    if (!orders_move_allowed(o.status, to) && strcmp(o.status, to)) {
        if (!strcmp(o.status, "paid") && !strcmp(to, "cancelled"))
            return shop_fail(e, SHOP_CONFLICT, "status", "Order %s is paid: refund it instead of cancelling it.",
                             o.number);
        return shop_fail(e, SHOP_CONFLICT, "status", "Order %s is %s: it cannot be %s now.", o.number,
                         status_text(o.status), to);
    }
    payment_row pay;
    bool has_pay = order_repo_payment(c, o.id, &pay) == 1;
    int64_t refunded = 0;
    if (has_pay && !strcmp(pay.provider, "stripe") && pay.provider_ref[0]) {
        const payment_provider *prov = payment_provider_named("stripe");
        payment_result pr;
        char idem[64];
        /* the money first: a refund that fails leaves the order as it is */
        if (!strcmp(to, "refunded")) {
            snprintf(idem, sizeof idem, "refund-%s", o.number);
            pay_status ps = prov->refund(pay.provider_ref, o.total, idem, &pr);
            if (ps != PAY_OK) {
                log_warn("orders: refund of %s failed: %s", o.number, pr.error);
                return shop_fail(e, ps == PAY_RETRY ? SHOP_UNAVAILABLE : SHOP_CONFLICT, NULL,
                                 "The refund could not be made at the card provider; nothing changed. Try again later.");
            }
            refunded = o.total;
        } else if (!strcmp(to, "cancelled") && !strcmp(o.status, "pending_payment")) {
            snprintf(idem, sizeof idem, "cancel-%s", o.number);
            if (prov->cancel(pay.provider_ref, idem, &pr) != PAY_OK)
                log_warn("orders: cancelling the payment of %s at the provider failed: %s", o.number, pr.error);
        }
    } else if (!strcmp(to, "refunded")) {
        refunded = o.total; /* cash on delivery: handed back outside the shop, recorded here */
    }
    return move_for(number, to, actor, note, refunded, NULL, who, e);
}

shop_status orders_transition(const char *number, const char *to, const char *actor, const char *note, shop_error *e)
{
    return transition(number, to, actor, note, NULL, e);
}

/* A line of text for the shopper: at most max bytes of plain text. */
static bool note_ok(const char *s, size_t max) { return strlen(s) <= max && text_plain(s, false); }

shop_status orders_transition_audited(const char *number, const char *to, const char *actor, const char *note,
                                      const char *tracking, const audit_actor *who, shop_error *e)
{
    if (!note) note = "";
    if (!tracking) tracking = "";
    if (!note_ok(note, ORDER_NOTE_MAX))
        return shop_fail(e, SHOP_INVALID, "note", "Keep the note to one line of at most %d characters.", ORDER_NOTE_MAX);
    if (!note_ok(tracking, ORDER_TRACKING_MAX))
        return shop_fail(e, SHOP_INVALID, "tracking", "A tracking number is one line of at most %d characters.",
                         ORDER_TRACKING_MAX);
    if (tracking[0] && strcmp(to, "shipped"))
        return shop_fail(e, SHOP_INVALID, "tracking", "A tracking number goes with shipping the order.");
    char full[ORDER_NOTE_MAX + ORDER_TRACKING_MAX + 16];
    if (tracking[0]) snprintf(full, sizeof full, "Tracking: %s%s%s", tracking, note[0] ? " · " : "", note);
    else snprintf(full, sizeof full, "%s", note);
    return transition(number, to, actor, full, who, e);
}

/* ---------- mails again ---------- */

struct resend {
    const char *number, *which;
    const audit_actor *who;
    shop_error *e;
};

static int resend_tx(db_tx *tx, void *arg)
{
    struct resend *a = arg;
    db_conn *c = db_tx_conn(tx);
    order_row o;
    int r = order_repo_by_number(c, a->number, true, &o);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0) {
        shop_fail(a->e, SHOP_NOT_FOUND, NULL, "No order %s.", a->number);
        return REFUSED;
    }
    static __thread order_event_row events[64];
    int n = order_repo_events(c, o.id, events, 64);
    if (n < 0) return DB_TX_FAILED;
    bool confirmed = false;
    const char *note = NULL;
    for (int i = 0; i < n; i++) {
        if (!strcmp(events[i].to, "paid") || !strcmp(events[i].to, "cod_confirmed")) confirmed = true;
        if (!strcmp(events[i].to, o.status)) note = events[i].note; /* the step's own note (a tracking number) */
    }
    const char *tmpl;
    char kind[48];
    if (!strcmp(a->which, "confirmation")) {
        if (!confirmed) {
            shop_fail(a->e, SHOP_CONFLICT, "mail", "Order %s was never confirmed (it is unpaid): there is no confirmation to send.",
                      o.number);
            return REFUSED;
        }
        tmpl = "order_confirmation";
        snprintf(kind, sizeof kind, "order-confirmation");
        note = NULL;
    } else {
        if (strcmp(o.status, "shipped") && strcmp(o.status, "delivered") && strcmp(o.status, "cancelled") &&
            strcmp(o.status, "refunded")) {
            shop_fail(a->e, SHOP_CONFLICT, "mail", "Order %s is %s: its last mail is the confirmation. Send that again instead.",
                      o.number, status_text(o.status));
            return REFUSED;
        }
        tmpl = "order_status";
        snprintf(kind, sizeof kind, "order-%s", o.status);
    }
    /* a key of its own, so the queue sends it again (the first mail's key is
     * remembered as done); it still ends with ":<number>" */
    char key_kind[96];
    snprintf(key_kind, sizeof key_kind, "%s-resend-%lld%08x", kind, (long long)queue_now_ms(), randombytes_random());
    if (mail_order(tx, &o, tmpl, key_kind, note) < 0) return DB_TX_FAILED;
    json_t *after = json_pack("{s:s,s:s}", "mail", kind, "to", o.email);
    int rc = audit_record(tx, a->who, "order.resend_mail", "order", o.number, NULL, after);
    json_decref(after);
    return rc < 0 ? DB_TX_FAILED : DB_TX_OK;
}

shop_status orders_resend_mail(const char *number, const char *which, const audit_actor *who, shop_error *e)
{
    if (!which || (strcmp(which, "confirmation") && strcmp(which, "status")))
        return shop_fail(e, SHOP_INVALID, "mail", "Choose the confirmation or the last status mail.");
    struct resend a = {number, which, who, e};
    int rc = db_tx_run(resend_tx, &a);
    if (rc == DB_TX_OK) return SHOP_OK;
    if (rc == REFUSED) return e->status;
    return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
}

/* ---------- card payments ---------- */

shop_status orders_card_payment(const char *number, const order_viewer *who, payment_result *out, shop_error *e)
{
    order_view *v = malloc(sizeof *v);
    if (!v) abort();
    shop_status st = orders_view(number, who, v, e);
    if (st != SHOP_OK) goto done;
    if (strcmp(v->order.payment_method, "card") || !v->has_payment) {
        st = shop_fail(e, SHOP_CONFLICT, NULL, "This order is not paid by card.");
        goto done;
    }
    if (strcmp(v->order.status, "pending_payment")) {
        st = shop_fail(e, SHOP_CONFLICT, NULL, "This order is %s.", status_text(v->order.status));
        goto done;
    }
    memset(out, 0, sizeof *out);
    if (v->payment.provider_ref[0] && v->payment.client_secret[0]) {
        text_copy(out->ref, sizeof out->ref, v->payment.provider_ref);
        text_copy(out->client_secret, sizeof out->client_secret, v->payment.client_secret);
        out->amount = v->payment.amount;
        text_copy(out->currency, sizeof out->currency, v->payment.currency);
        st = SHOP_OK;
        goto done;
    }
    char idem[64];
    snprintf(idem, sizeof idem, "pi-%s", v->order.number);
    pay_status ps = payment_provider_named("stripe")->initiate(
        &(payment_request){.amount = v->order.total, .currency = v->order.currency, .order_number = v->order.number,
                           .idempotency_key = idem, .email = v->order.email},
        out);
    if (ps != PAY_OK) {
        log_warn("orders: starting the card payment of %s failed: %s", v->order.number, out->error);
        st = shop_fail(e, ps == PAY_RETRY ? SHOP_UNAVAILABLE : SHOP_CONFLICT, NULL,
                       "The card payment could not be started. Nothing was charged; please try again in a moment, or "
                       "cancel the order.");
        goto done;
    }
    db_conn *c = db_conn_get();
    if (!c || order_repo_set_payment(c, v->payment.id, out->ref, out->client_secret) < 0) {
        st = shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
        goto done;
    }
    st = SHOP_OK;
done:
    free(v);
    return st;
}

/* The one way a card payment becomes "paid": under the order's lock, for
 * the exact amount, once. */
static shop_status mark_paid(const char *number, const char *ref, int64_t amount, const char *currency,
                             const char *actor, const webhook_event *ev, shop_error *e)
{
    db_conn *c = db_conn_get();
    order_row o;
    int r = c ? order_repo_by_number(c, number, false, &o) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 0) return shop_fail(e, SHOP_NOT_FOUND, NULL, "No order %s.", number);
    if (amount != o.total || strcasecmp(currency, o.currency)) {
        log_error("orders: payment %s for %s is %lld %s, the order is %lld %s: not marked paid", ref, number,
                  (long long)amount, currency, (long long)o.total, o.currency);
        return shop_fail(e, SHOP_CONFLICT, NULL, "The payment does not match the order.");
    }
    if (!strcmp(o.status, "cancelled")) {
        /* the money came after the order expired: give it back */
        payment_result pr;
        char idem[64];
        snprintf(idem, sizeof idem, "late-refund-%s", o.number);
        pay_status ps = payment_provider_named("stripe")->refund(ref, amount, idem, &pr);
        log_warn("orders: payment for cancelled order %s arrived; refund %s", o.number, ps == PAY_OK ? "made" : pr.error);
        return SHOP_OK;
    }
    return move_for(number, "paid", actor, "card payment confirmed", 0, ev, NULL, e);
}

shop_status orders_card_return(const char *number, const order_viewer *who, bool *paid, shop_error *e)
{
    *paid = false;
    order_view *v = malloc(sizeof *v);
    if (!v) abort();
    shop_status st = orders_view(number, who, v, e);
    if (st == SHOP_OK && !strcmp(v->order.status, "pending_payment") && v->payment.provider_ref[0]) {
        const payment_provider *prov = payment_provider_named("stripe");
        payment_result pr;
        pay_status ps = prov->status(v->payment.provider_ref, &pr);
        if (ps == PAY_OK && !strcmp(pr.provider_status, "requires_confirmation")) {
            /* the card form collected the card but left confirming to us */
            char idem[64];
            snprintf(idem, sizeof idem, "confirm-%s", number);
            ps = prov->confirm(v->payment.provider_ref, idem, &pr);
        }
        if (ps == PAY_OK && pr.state == PAY_STATE_SUCCEEDED)
            st = mark_paid(number, pr.ref, pr.amount, pr.currency, who->user_id ? "shopper" : "guest", NULL, e);
        if (st == SHOP_OK) st = orders_view(number, who, v, e);
    }
    if (st == SHOP_OK) *paid = strcmp(v->order.status, "pending_payment") && strcmp(v->order.status, "cancelled");
    free(v);
    return st;
}

shop_status orders_payment_event(const webhook_event *ev, shop_error *e)
{
    db_conn *c = db_conn_get();
    if (!c) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    /* find the order by the payment's reference (not by what metadata claims) */
    payment_row pay;
    int r = ev->ref[0] ? order_repo_payment_by_ref(c, "stripe", ev->ref, &pay) : 0;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 0) {
        log_warn("orders: webhook %s (%s) for an unknown payment %s", ev->id, ev->type, ev->ref);
        return shop_fail(e, SHOP_NOT_FOUND, NULL, "unknown payment");
    }
    order_row o;
    if (order_repo_by_id(c, pay.order_id, false, &o) != 1) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (ev->order_number[0] && strcmp(ev->order_number, o.number))
        return shop_fail(e, SHOP_CONFLICT, NULL, "the event's order does not match its payment");
    /* exactly once per event id (a redelivery is acknowledged, not redone):
     * a payment is recorded with its effect in one unit of work (move_tx) */
    if (ev->state == PAY_STATE_SUCCEEDED) return mark_paid(o.number, ev->ref, ev->amount, ev->currency, "webhook", ev, e);
    if (ev->state == PAY_STATE_REFUNDED) {
        /* refunded at the provider (its dashboard): record it, money already back */
        if (strcmp(o.status, "paid") && strcmp(o.status, "shipped") && strcmp(o.status, "delivered")) {
            int first = order_repo_webhook_first(c, "stripe", ev->id, ev->type);
            return first < 0 ? shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN) : SHOP_OK;
        }
        return move_for(o.number, "refunded", "webhook", "refunded at the card provider", o.total, ev, NULL, e);
    }
    int first = order_repo_webhook_first(c, "stripe", ev->id, ev->type);
    if (first < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (first > 0 && (ev->state == PAY_STATE_FAILED || ev->state == PAY_STATE_CANCELLED))
        log_info("orders: payment of %s %s (the shopper may try again until it expires)", o.number, ev->type);
    return SHOP_OK;
}

/* ---------- jobs ---------- */

/* Popularity follows sales: once an hour the products whose orders moved
 * meanwhile get their sold count from the orders that stand (popularity
 * moves with it) and their listings refreshed. Not in the checkout: there
 * it would lock the product row for every sale (each checkout of a shoe
 * waiting for the one before it), and refreshing listings on every sale
 * would throw the cached "most popular" listings away under a stream of
 * orders. */
#define POPULARITY_WINDOW 3600
#define POPULARITY_MAX 500

struct popularity {
    int64_t ids[POPULARITY_MAX];
    int n;
};

static int popularity_tx(db_tx *tx, void *arg)
{
    struct popularity *p = arg;
    db_conn *c = db_tx_conn(tx);
    for (int i = 0; i < p->n; i++)
        if (order_repo_refresh_sold(c, p->ids[i]) < 0 || catalog_product_changed(tx, p->ids[i], true) < 0)
            return DB_TX_FAILED;
    return DB_TX_OK;
}

job_result orders_popularity_job(const job *j, char *err, size_t errlen)
{
    (void)j;
    db_conn *c = db_conn_get();
    struct popularity *p = malloc(sizeof *p);
    if (!p) abort();
    /* a little more than the schedule's period, so no sale falls between two runs */
    p->n = c ? order_repo_products_moved(c, POPULARITY_WINDOW + 300, p->ids, POPULARITY_MAX) : -1;
    int rc = p->n < 0 ? DB_TX_FAILED : p->n == 0 ? DB_TX_OK : db_tx_run(popularity_tx, p);
    free(p);
    if (rc != DB_TX_OK) {
        snprintf(err, errlen, "orders.popularity: %s", db_last_error());
        return JOB_RETRY;
    }
    return JOB_DONE;
}

job_result orders_expire_job(const job *j, char *err, size_t errlen)
{
    (void)j;
    db_conn *c = db_conn_get();
    int64_t ids[100];
    int n = c ? order_repo_expired(c, ids, 100) : -1;
    if (n < 0) {
        snprintf(err, errlen, "orders.expire: %s", db_last_error());
        return JOB_RETRY;
    }
    for (int i = 0; i < n; i++) {
        order_row o;
        if (order_repo_by_id(c, ids[i], false, &o) != 1) continue;
        payment_row pay;
        shop_error e;
        /* paid after all (the webhook is late)? then it is not expired */
        if (order_repo_payment(c, o.id, &pay) == 1 && pay.provider_ref[0]) {
            payment_result pr;
            if (payment_provider_named("stripe")->status(pay.provider_ref, &pr) == PAY_OK &&
                pr.state == PAY_STATE_SUCCEEDED) {
                mark_paid(o.number, pr.ref, pr.amount, pr.currency, "system", NULL, &e);
                continue;
            }
        }
        if (orders_transition(o.number, "cancelled", "system", "unpaid: expired", &e) == SHOP_OK)
            log_info("orders: %s expired unpaid; its stock is back", o.number);
    }
    return JOB_DONE;
}
