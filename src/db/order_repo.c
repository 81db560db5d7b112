/* order_repo.c — see order_repo.h. */
#include "db/order_repo.h"

#include "core/buf.h"
#include "core/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ER_DUP_ENTRY 1062

/* "?,?,?" for n placeholders (n ≤ ORDER_MAX_LINES): statements are built from
 * this fixed fragment, never from values. */
static void placeholders(char *out, size_t outlen, int n)
{
    size_t k = 0;
    for (int i = 0; i < n && k + 3 < outlen; i++) {
        if (i) out[k++] = ',';
        out[k++] = '?';
    }
    out[k] = '\0';
}

int order_repo_lock_variants(db_conn *c, const int64_t *ids, int n, locked_variant *out)
{
    if (n <= 0 || n > ORDER_MAX_LINES) return n == 0 ? 0 : -1;
    char ph[ORDER_MAX_LINES * 2 + 1], sql[1600];
    placeholders(ph, sizeof ph, n);
    /* FOR UPDATE locks the rows of every table the statement joins, so it
     * joins nothing: only the variants are locked — their stock is what two
     * checkouts must not both take. Everything else (the product's price,
     * name, tax class; brand and colour names) comes from scalar
     * subqueries, which a locking read does not lock (MariaDB 10.11; MySQL
     * documents the same), in the same round trip. Joined, every checkout of
     * a product, a brand or a colour waited for the one before it to commit
     * (the checkout benchmark, bench/checkout_bench.py, found the lock waits
     * there). A price changed by staff after this read does not reach this
     * order: the shopper pays what they saw and the total was checked. */
    snprintf(sql, sizeof sql,
             "SELECT v.id, v.product_id, v.stock, "
             "(SELECT p.price FROM products p WHERE p.id = v.product_id), "
             "(SELECT p.active FROM products p WHERE p.id = v.product_id), v.sku, "
             "(SELECT p.name FROM products p WHERE p.id = v.product_id), "
             "(SELECT p.slug FROM products p WHERE p.id = v.product_id), "
             "COALESCE((SELECT b.name FROM products p JOIN brands b ON b.id = p.brand_id WHERE p.id = v.product_id), ''), "
             "v.size_label, COALESCE((SELECT co.name FROM colours co WHERE co.id = v.colour_id), ''), "
             "(SELECT p.tax_class FROM products p WHERE p.id = v.product_id), "
             "(SELECT p.currency FROM products p WHERE p.id = v.product_id) "
             "FROM variants v WHERE v.id IN (%s) ORDER BY v.id FOR UPDATE",
             ph);
    db_stmt *st = db_prepare(c, sql);
    if (!st) return -1;
    for (int i = 0; i < n; i++) db_bind_int64(st, i, ids[i]);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int k = 0;
    while (k < n && db_fetch(st) == 1) {
        locked_variant *v = &out[k++];
        memset(v, 0, sizeof *v);
        v->id = db_col_int64(st, 0);
        v->product_id = db_col_int64(st, 1);
        v->stock = db_col_int64(st, 2);
        v->price = db_col_int64(st, 3);
        v->active = db_col_int64(st, 4) != 0;
        text_copy(v->sku, sizeof v->sku, db_col_text(st, 5, NULL));
        text_copy(v->product_name, sizeof v->product_name, db_col_text(st, 6, NULL));
        text_copy(v->product_slug, sizeof v->product_slug, db_col_text(st, 7, NULL));
        text_copy(v->brand_name, sizeof v->brand_name, db_col_text(st, 8, NULL));
        text_copy(v->size_label, sizeof v->size_label, db_col_text(st, 9, NULL));
        text_copy(v->colour_name, sizeof v->colour_name, db_col_text(st, 10, NULL));
        text_copy(v->tax_class, sizeof v->tax_class, db_col_text(st, 11, NULL));
        text_copy(v->currency, sizeof v->currency, db_col_text(st, 12, NULL));
    }
    db_reset(st);
    return k;
}

int order_repo_take_stock(db_conn *c, int64_t variant_id, int qty)
{
    db_stmt *st = db_prepare(c, "UPDATE variants SET stock = stock - ? WHERE id = ? AND stock >= ?");
    if (!st) return -1;
    db_bind_int64(st, 0, qty);
    db_bind_int64(st, 1, variant_id);
    db_bind_int64(st, 2, qty);
    long long n = db_run_count(st);
    return n < 0 ? -1 : n == 1;
}

int order_repo_return_stock(db_conn *c, int64_t variant_id, int qty)
{
    db_stmt *st = db_prepare(c, "UPDATE variants SET stock = stock + ? WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, qty);
    db_bind_int64(st, 1, variant_id);
    return db_run(st);
}

int order_repo_refresh_sold(db_conn *c, int64_t product_id)
{
    /* pairs in orders that stand (not cancelled, not refunded); popularity
     * moves by ten a pair (signed arithmetic: the columns are unsigned and a
     * sale given back lowers it; never below 0). The assignments run left to
     * right: popularity still sees the old sold_count. */
    db_stmt *st = db_prepare(
        c, "UPDATE products p SET "
           "p.popularity = GREATEST(0, CAST(p.popularity AS SIGNED) + 10 * (CAST(COALESCE((SELECT SUM(l.quantity) "
           "FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.product_id = p.id "
           "AND o.status NOT IN ('cancelled', 'refunded')), 0) AS SIGNED) - CAST(p.sold_count AS SIGNED))), "
           "p.sold_count = COALESCE((SELECT SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id "
           "WHERE l.product_id = p.id AND o.status NOT IN ('cancelled', 'refunded')), 0) "
           "WHERE p.id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, product_id);
    return db_run(st);
}

int order_repo_insert(db_conn *c, const order_row *o, const char *idempotency_key, int64_t *id_out)
{
    db_stmt *st = db_prepare(
        c, "INSERT INTO orders (number, user_id, cart_id, email, status, payment_method, currency, subtotal, shipping, tax, total, "
           "shipping_method, ship_name, ship_line1, ship_line2, ship_city, ship_region, ship_postcode, ship_country, "
           "ship_phone, idempotency_key, access_hash, expires_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
           "IF(? > 0, FROM_UNIXTIME(?), NULL))");
    if (!st) return -1;
    int i = 0;
    db_bind_text(st, i++, o->number, -1);
    if (o->user_id) db_bind_int64(st, i++, o->user_id);
    else db_bind_null(st, i++);
    if (o->cart_id) db_bind_int64(st, i++, o->cart_id);
    else db_bind_null(st, i++);
    db_bind_text(st, i++, o->email, -1);
    db_bind_text(st, i++, o->status, -1);
    db_bind_text(st, i++, o->payment_method, -1);
    db_bind_text(st, i++, o->currency, -1);
    db_bind_int64(st, i++, o->subtotal);
    db_bind_int64(st, i++, o->shipping);
    db_bind_int64(st, i++, o->tax);
    db_bind_int64(st, i++, o->total);
    db_bind_text(st, i++, o->shipping_method, -1);
    db_bind_text(st, i++, o->ship_name, -1);
    db_bind_text(st, i++, o->ship_line1, -1);
    db_bind_text(st, i++, o->ship_line2, -1);
    db_bind_text(st, i++, o->ship_city, -1);
    db_bind_text(st, i++, o->ship_region, -1);
    db_bind_text(st, i++, o->ship_postcode, -1);
    db_bind_text(st, i++, o->ship_country, -1);
    db_bind_text(st, i++, o->ship_phone, -1);
    db_bind_text(st, i++, idempotency_key, -1);
    db_bind_text(st, i++, o->access_hash, -1);
    db_bind_int64(st, i++, o->expires_at);
    db_bind_int64(st, i++, o->expires_at);
    if (db_exec(st) < 0) {
        db_reset(st);
        return db_last_errno() == ER_DUP_ENTRY ? -2 : -1;
    }
    *id_out = (int64_t)db_insert_id(st);
    db_reset(st);
    return 0;
}

int order_repo_insert_line(db_conn *c, int64_t order_id, const order_line_row *l)
{
    db_stmt *st = db_prepare(c, "INSERT INTO order_lines (order_id, variant_id, product_id, sku, product_name, "
                                "product_slug, brand_name, size_label, colour_name, unit_price, quantity, line_total, "
                                "tax_rate_bp, tax) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return -1;
    int i = 0;
    db_bind_int64(st, i++, order_id);
    db_bind_int64(st, i++, l->variant_id);
    db_bind_int64(st, i++, l->product_id);
    db_bind_text(st, i++, l->sku, -1);
    db_bind_text(st, i++, l->product_name, -1);
    db_bind_text(st, i++, l->product_slug, -1);
    db_bind_text(st, i++, l->brand_name, -1);
    db_bind_text(st, i++, l->size_label, -1);
    db_bind_text(st, i++, l->colour_name, -1);
    db_bind_int64(st, i++, l->unit_price);
    db_bind_int64(st, i++, l->quantity);
    db_bind_int64(st, i++, l->line_total);
    db_bind_int64(st, i++, l->tax_rate_bp);
    db_bind_int64(st, i++, l->tax);
    return db_run(st);
}

int order_repo_insert_payment(db_conn *c, const payment_row *p, int64_t *id_out)
{
    db_stmt *st = db_prepare(c, "INSERT INTO payments (order_id, provider, provider_ref, amount, currency, status) "
                                "VALUES (?, ?, ?, ?, ?, ?)");
    if (!st) return -1;
    db_bind_int64(st, 0, p->order_id);
    db_bind_text(st, 1, p->provider, -1);
    if (p->provider_ref[0]) db_bind_text(st, 2, p->provider_ref, -1);
    else db_bind_null(st, 2);
    db_bind_int64(st, 3, p->amount);
    db_bind_text(st, 4, p->currency, -1);
    db_bind_text(st, 5, p->status, -1);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    *id_out = (int64_t)db_insert_id(st);
    db_reset(st);
    return 0;
}

int order_repo_set_payment(db_conn *c, int64_t payment_id, const char *ref, const char *client_secret)
{
    db_stmt *st = db_prepare(c, "UPDATE payments SET provider_ref = ?, client_secret = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_text(st, 0, ref, -1);
    db_bind_text(st, 1, client_secret ? client_secret : "", -1);
    db_bind_int64(st, 2, payment_id);
    return db_run(st);
}

int order_repo_payment_status(db_conn *c, int64_t payment_id, const char *status, int64_t refunded_amount)
{
    db_stmt *st = db_prepare(c, "UPDATE payments SET status = ?, refunded_amount = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_text(st, 0, status, -1);
    db_bind_int64(st, 1, refunded_amount);
    db_bind_int64(st, 2, payment_id);
    return db_run(st);
}

int order_repo_event(db_conn *c, int64_t order_id, const char *from, const char *to, const char *actor, const char *note)
{
    db_stmt *st = db_prepare(c, "INSERT INTO order_events (order_id, from_status, to_status, actor, note) VALUES (?, ?, ?, ?, ?)");
    if (!st) return -1;
    db_bind_int64(st, 0, order_id);
    if (from) db_bind_text(st, 1, from, -1);
    else db_bind_null(st, 1);
    db_bind_text(st, 2, to, -1);
    db_bind_text(st, 3, actor, -1);
    db_bind_text(st, 4, note ? note : "", -1);
    return db_run(st);
}

int order_repo_set_status(db_conn *c, int64_t order_id, const char *status)
{
    db_stmt *st = db_prepare(c, "UPDATE orders SET status = ?, expires_at = IF(? = 'pending_payment', expires_at, NULL) "
                                "WHERE id = ?");
    if (!st) return -1;
    db_bind_text(st, 0, status, -1);
    db_bind_text(st, 1, status, -1);
    db_bind_int64(st, 2, order_id);
    return db_run(st);
}

#define ORDER_COLS                                                                                                   \
    "id, number, COALESCE(user_id, 0), COALESCE(cart_id, 0), email, status, payment_method, currency, subtotal, shipping, tax, total, "    \
    "shipping_method, ship_name, ship_line1, ship_line2, ship_city, ship_region, ship_postcode, ship_country, "     \
    "ship_phone, access_hash, UNIX_TIMESTAMP(created_at), COALESCE(UNIX_TIMESTAMP(expires_at), 0)"

static void read_order(db_stmt *st, order_row *o)
{
    memset(o, 0, sizeof *o);
    int i = 0;
    o->id = db_col_int64(st, i++);
    text_copy(o->number, sizeof o->number, db_col_text(st, i++, NULL));
    o->user_id = db_col_int64(st, i++);
    o->cart_id = db_col_int64(st, i++);
    text_copy(o->email, sizeof o->email, db_col_text(st, i++, NULL));
    text_copy(o->status, sizeof o->status, db_col_text(st, i++, NULL));
    text_copy(o->payment_method, sizeof o->payment_method, db_col_text(st, i++, NULL));
    text_copy(o->currency, sizeof o->currency, db_col_text(st, i++, NULL));
    o->subtotal = db_col_int64(st, i++);
    o->shipping = db_col_int64(st, i++);
    o->tax = db_col_int64(st, i++);
    o->total = db_col_int64(st, i++);
    text_copy(o->shipping_method, sizeof o->shipping_method, db_col_text(st, i++, NULL));
    text_copy(o->ship_name, sizeof o->ship_name, db_col_text(st, i++, NULL));
    text_copy(o->ship_line1, sizeof o->ship_line1, db_col_text(st, i++, NULL));
    text_copy(o->ship_line2, sizeof o->ship_line2, db_col_text(st, i++, NULL));
    text_copy(o->ship_city, sizeof o->ship_city, db_col_text(st, i++, NULL));
    text_copy(o->ship_region, sizeof o->ship_region, db_col_text(st, i++, NULL));
    text_copy(o->ship_postcode, sizeof o->ship_postcode, db_col_text(st, i++, NULL));
    text_copy(o->ship_country, sizeof o->ship_country, db_col_text(st, i++, NULL));
    text_copy(o->ship_phone, sizeof o->ship_phone, db_col_text(st, i++, NULL));
    text_copy(o->access_hash, sizeof o->access_hash, db_col_text(st, i++, NULL));
    o->created_at = db_col_int64(st, i++);
    o->expires_at = db_col_int64(st, i++);
}

static int one_order(db_stmt *st, order_row *out)
{
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int r = db_fetch(st);
    if (r == 1) read_order(st, out);
    db_reset(st);
    return r < 0 ? -1 : r;
}

int order_repo_by_key(db_conn *c, const char *key, order_row *out)
{
    db_stmt *st = db_prepare(c, "SELECT " ORDER_COLS " FROM orders WHERE idempotency_key = ?");
    if (!st) return -1;
    db_bind_text(st, 0, key, -1);
    return one_order(st, out);
}

int order_repo_by_number(db_conn *c, const char *number, bool lock, order_row *out)
{
    db_stmt *st = db_prepare(c, lock ? "SELECT " ORDER_COLS " FROM orders WHERE number = ? FOR UPDATE"
                                     : "SELECT " ORDER_COLS " FROM orders WHERE number = ?");
    if (!st) return -1;
    db_bind_text(st, 0, number, -1);
    return one_order(st, out);
}

int order_repo_by_id(db_conn *c, int64_t id, bool lock, order_row *out)
{
    db_stmt *st = db_prepare(c, lock ? "SELECT " ORDER_COLS " FROM orders WHERE id = ? FOR UPDATE"
                                     : "SELECT " ORDER_COLS " FROM orders WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    return one_order(st, out);
}

int order_repo_lines(db_conn *c, int64_t order_id, order_line_row *out, int max)
{
    db_stmt *st = db_prepare(c, "SELECT COALESCE(variant_id, 0), COALESCE(product_id, 0), sku, product_name, "
                                "product_slug, brand_name, size_label, colour_name, unit_price, quantity, line_total, "
                                "tax_rate_bp, tax FROM order_lines WHERE order_id = ? ORDER BY id");
    if (!st) return -1;
    db_bind_int64(st, 0, order_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) {
        order_line_row *l = &out[n++];
        memset(l, 0, sizeof *l);
        l->variant_id = db_col_int64(st, 0);
        l->product_id = db_col_int64(st, 1);
        text_copy(l->sku, sizeof l->sku, db_col_text(st, 2, NULL));
        text_copy(l->product_name, sizeof l->product_name, db_col_text(st, 3, NULL));
        text_copy(l->product_slug, sizeof l->product_slug, db_col_text(st, 4, NULL));
        text_copy(l->brand_name, sizeof l->brand_name, db_col_text(st, 5, NULL));
        text_copy(l->size_label, sizeof l->size_label, db_col_text(st, 6, NULL));
        text_copy(l->colour_name, sizeof l->colour_name, db_col_text(st, 7, NULL));
        l->unit_price = db_col_int64(st, 8);
        l->quantity = (int)db_col_int64(st, 9);
        l->line_total = db_col_int64(st, 10);
        l->tax_rate_bp = (int)db_col_int64(st, 11);
        l->tax = db_col_int64(st, 12);
    }
    db_reset(st);
    return n;
}

#define PAYMENT_COLS "id, order_id, provider, COALESCE(provider_ref, ''), COALESCE(client_secret, ''), amount, refunded_amount, currency, status"

static int one_payment(db_stmt *st, payment_row *p)
{
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int r = db_fetch(st);
    if (r == 1) {
        memset(p, 0, sizeof *p);
        p->id = db_col_int64(st, 0);
        p->order_id = db_col_int64(st, 1);
        text_copy(p->provider, sizeof p->provider, db_col_text(st, 2, NULL));
        text_copy(p->provider_ref, sizeof p->provider_ref, db_col_text(st, 3, NULL));
        text_copy(p->client_secret, sizeof p->client_secret, db_col_text(st, 4, NULL));
        p->amount = db_col_int64(st, 5);
        p->refunded_amount = db_col_int64(st, 6);
        text_copy(p->currency, sizeof p->currency, db_col_text(st, 7, NULL));
        text_copy(p->status, sizeof p->status, db_col_text(st, 8, NULL));
    }
    db_reset(st);
    return r < 0 ? -1 : r;
}

int order_repo_payment(db_conn *c, int64_t order_id, payment_row *out)
{
    db_stmt *st = db_prepare(c, "SELECT " PAYMENT_COLS " FROM payments WHERE order_id = ? ORDER BY id DESC LIMIT 1");
    if (!st) return -1;
    db_bind_int64(st, 0, order_id);
    return one_payment(st, out);
}

int order_repo_payment_by_ref(db_conn *c, const char *provider, const char *ref, payment_row *out)
{
    db_stmt *st = db_prepare(c, "SELECT " PAYMENT_COLS " FROM payments WHERE provider = ? AND provider_ref = ?");
    if (!st) return -1;
    db_bind_text(st, 0, provider, -1);
    db_bind_text(st, 1, ref, -1);
    return one_payment(st, out);
}

int order_repo_for_user(db_conn *c, int64_t user_id, order_row *out, int max, int offset)
{
    db_stmt *st = db_prepare(c, "SELECT " ORDER_COLS " FROM orders WHERE user_id = ? ORDER BY created_at DESC, id DESC "
                                "LIMIT ? OFFSET ?");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_int64(st, 1, max);
    db_bind_int64(st, 2, offset);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) read_order(st, &out[n++]);
    db_reset(st);
    return n;
}

int order_repo_recent(db_conn *c, const char *status, order_row *out, int max)
{
    db_stmt *st = db_prepare(c, status ? "SELECT " ORDER_COLS " FROM orders WHERE status = ? ORDER BY id DESC LIMIT ?"
                                       : "SELECT " ORDER_COLS " FROM orders ORDER BY id DESC LIMIT ?");
    if (!st) return -1;
    int i = 0;
    if (status) db_bind_text(st, i++, status, -1);
    db_bind_int64(st, i, max);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) read_order(st, &out[n++]);
    db_reset(st);
    return n;
}

int order_repo_expired(db_conn *c, int64_t *ids, int max)
{
    db_stmt *st = db_prepare(c, "SELECT id FROM orders WHERE status = 'pending_payment' AND expires_at IS NOT NULL "
                                "AND expires_at < NOW() ORDER BY expires_at LIMIT ?");
    if (!st) return -1;
    db_bind_int64(st, 0, max);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) ids[n++] = db_col_int64(st, 0);
    db_reset(st);
    return n;
}

int order_repo_products_moved(db_conn *c, int seconds, int64_t *ids, int max)
{
    /* sold, or given back (a cancel, an expiry), in the window */
    db_stmt *st = db_prepare(c, "SELECT DISTINCT l.product_id FROM order_events e JOIN order_lines l "
                                "ON l.order_id = e.order_id WHERE e.created_at >= NOW(6) - INTERVAL ? SECOND "
                                "AND l.product_id IS NOT NULL ORDER BY l.product_id LIMIT ?");
    if (!st) return -1;
    db_bind_int64(st, 0, seconds);
    db_bind_int64(st, 1, max);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) ids[n++] = db_col_int64(st, 0);
    db_reset(st);
    return n;
}

int order_repo_events(db_conn *c, int64_t order_id, order_event_row *out, int max)
{
    db_stmt *st = db_prepare(c, "SELECT COALESCE(from_status, ''), to_status, actor, note, UNIX_TIMESTAMP(created_at) "
                                "FROM order_events WHERE order_id = ? ORDER BY id");
    if (!st) return -1;
    db_bind_int64(st, 0, order_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) {
        order_event_row *e = &out[n++];
        text_copy(e->from, sizeof e->from, db_col_text(st, 0, NULL));
        text_copy(e->to, sizeof e->to, db_col_text(st, 1, NULL));
        text_copy(e->actor, sizeof e->actor, db_col_text(st, 2, NULL));
        text_copy(e->note, sizeof e->note, db_col_text(st, 3, NULL));
        e->at = db_col_int64(st, 4);
    }
    db_reset(st);
    return n;
}

int order_repo_webhook_first(db_conn *c, const char *provider, const char *event_id, const char *type)
{
    db_stmt *st = db_prepare(c, "INSERT IGNORE INTO webhook_events (provider, event_id, type) VALUES (?, ?, ?)");
    if (!st) return -1;
    db_bind_text(st, 0, provider, -1);
    db_bind_text(st, 1, event_id, -1);
    db_bind_text(st, 2, type, -1);
    long long n = db_run_count(st);
    return n < 0 ? -1 : n == 1;
}

int order_repo_verify_reviews(db_conn *c, int64_t order_id)
{
    db_stmt *st = db_prepare(c, "UPDATE reviews r JOIN order_lines ol ON ol.product_id = r.product_id "
                                "JOIN orders o ON o.id = ol.order_id SET r.verified_purchase = 1 "
                                "WHERE o.id = ? AND o.user_id IS NOT NULL AND r.user_id = o.user_id");
    if (!st) return -1;
    db_bind_int64(st, 0, order_id);
    return db_run(st);
}

/* ---------- the admin portal's order list ---------- */

/* The WHERE clause from fixed fragments, in the order search_binds binds. */
static void search_where(buf *sql, const order_filter *f)
{
    buf_puts(sql, " WHERE 1 = 1");
    /* numbers are stored upper-case; people type them any way */
    if (f->q && *f->q) buf_puts(sql, " AND (o.number = UPPER(?) OR o.email LIKE CONCAT(?, '%'))");
    if (f->status && *f->status) buf_puts(sql, " AND o.status = ?");
    if (f->since > 0) buf_puts(sql, " AND o.created_at >= FROM_UNIXTIME(?)");
    if (f->until > 0) buf_puts(sql, " AND o.created_at < FROM_UNIXTIME(?)");
    if (f->user_id > 0) buf_puts(sql, " AND o.user_id = ?");
}

static int search_binds(db_stmt *st, const order_filter *f)
{
    int i = 0;
    if (f->q && *f->q) {
        db_bind_text(st, i++, f->q, -1);
        char *esc = db_like_escape(f->q);
        db_bind_text(st, i++, esc, -1);
        free(esc);
    }
    if (f->status && *f->status) db_bind_text(st, i++, f->status, -1);
    if (f->since > 0) db_bind_int64(st, i++, f->since);
    if (f->until > 0) db_bind_int64(st, i++, f->until);
    if (f->user_id > 0) db_bind_int64(st, i++, f->user_id);
    return i;
}

int order_repo_search(db_conn *c, const order_filter *f, const char *sort, bool desc, int offset, int max,
                      order_summary *out, int64_t *total)
{
    static const struct {
        const char *name, *column;
    } sorts[] = {{"created", "o.created_at"}, {"total", "o.total"}, {"number", "o.number"},
                 {"status", "o.status"},      {"email", "o.email"}};
    const char *column = sorts[0].column;
    for (size_t i = 0; sort && i < sizeof sorts / sizeof *sorts; i++)
        if (!strcmp(sort, sorts[i].name)) column = sorts[i].column;
    /* the number matching comes with every row (a window over the whole
     * match, before LIMIT): one statement, one round trip */
    buf sql = BUF_INIT;
    buf_puts(&sql, "SELECT o.id, COALESCE(o.user_id, 0), o.number, o.email, o.ship_name, o.status, o.payment_method, "
                   "o.currency, o.total, COALESCE((SELECT SUM(l.quantity) FROM order_lines l WHERE l.order_id = o.id), 0), "
                   "UNIX_TIMESTAMP(o.created_at), COUNT(*) OVER () FROM orders o");
    search_where(&sql, f);
    buf_printf(&sql, " ORDER BY %s %s, o.id DESC LIMIT ? OFFSET ?", column, desc ? "DESC" : "ASC");
    db_stmt *st = db_prepare(c, buf_cstr(&sql));
    buf_free(&sql);
    if (!st) return -1;
    int i = search_binds(st, f);
    db_bind_int64(st, i++, max);
    db_bind_int64(st, i, offset);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    if (total) *total = 0; /* (also past the last page: nothing there to count with) */
    int n = 0;
    while (n < max && db_fetch(st) == 1) {
        order_summary *o = &out[n++];
        memset(o, 0, sizeof *o);
        o->id = db_col_int64(st, 0);
        o->user_id = db_col_int64(st, 1);
        text_copy(o->number, sizeof o->number, db_col_text(st, 2, NULL));
        text_copy(o->email, sizeof o->email, db_col_text(st, 3, NULL));
        text_copy(o->ship_name, sizeof o->ship_name, db_col_text(st, 4, NULL));
        text_copy(o->status, sizeof o->status, db_col_text(st, 5, NULL));
        text_copy(o->payment_method, sizeof o->payment_method, db_col_text(st, 6, NULL));
        text_copy(o->currency, sizeof o->currency, db_col_text(st, 7, NULL));
        o->total = db_col_int64(st, 8);
        o->items = (int)db_col_int64(st, 9);
        o->created_at = db_col_int64(st, 10);
        if (total) *total = db_col_int64(st, 11);
    }
    db_reset(st);
    return n;
}
