/* cart_repo.c — see cart_repo.h. */
#include "db/cart_repo.h"

#include "core/text.h"

#include <string.h>

#define ER_DUP_ENTRY 1062

int cart_repo_find_user(db_conn *c, int64_t user_id, int64_t *cart_id, char public_id[33], bool lock)
{
    db_stmt *st = db_prepare(c, lock ? "SELECT id, public_id FROM carts WHERE open_user_id = ? FOR UPDATE"
                                     : "SELECT id, public_id FROM carts WHERE open_user_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int r = db_fetch(st);
    if (r == 1) {
        *cart_id = db_col_int64(st, 0);
        if (public_id) text_copy(public_id, 33, db_col_text(st, 1, NULL));
    }
    db_reset(st);
    return r < 0 ? -1 : r;
}

int cart_repo_find_public(db_conn *c, const char *public_id, int64_t *cart_id, int64_t *user_id, bool lock)
{
    db_stmt *st = db_prepare(c, lock ? "SELECT id, COALESCE(user_id, 0) FROM carts WHERE public_id = ? AND status = 'open' FOR UPDATE"
                                     : "SELECT id, COALESCE(user_id, 0) FROM carts WHERE public_id = ? AND status = 'open'");
    if (!st) return -1;
    db_bind_text(st, 0, public_id, -1);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int r = db_fetch(st);
    if (r == 1) {
        *cart_id = db_col_int64(st, 0);
        if (user_id) *user_id = db_col_int64(st, 1);
    }
    db_reset(st);
    return r < 0 ? -1 : r;
}

int cart_repo_create(db_conn *c, int64_t user_id, const char *public_id, int64_t *cart_id)
{
    db_stmt *st = db_prepare(c, "INSERT INTO carts (public_id, user_id) VALUES (?, ?)");
    if (!st) return -1;
    db_bind_text(st, 0, public_id, -1);
    if (user_id) db_bind_int64(st, 1, user_id);
    else db_bind_null(st, 1);
    if (db_exec(st) < 0) {
        db_reset(st);
        return db_last_errno() == ER_DUP_ENTRY ? -2 : -1;
    }
    *cart_id = (int64_t)db_insert_id(st);
    db_reset(st);
    return 0;
}

int cart_repo_set_status(db_conn *c, int64_t cart_id, const char *status)
{
    db_stmt *st = db_prepare(c, "UPDATE carts SET status = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_text(st, 0, status, -1);
    db_bind_int64(st, 1, cart_id);
    return db_run(st);
}

int cart_repo_claim(db_conn *c, int64_t cart_id, int64_t user_id)
{
    db_stmt *st = db_prepare(c, "UPDATE carts SET user_id = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_int64(st, 1, cart_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return db_last_errno() == ER_DUP_ENTRY ? -2 : -1;
    }
    db_reset(st);
    return 0;
}

#define LINE_COLS                                                                                                 \
    "l.variant_id, v.product_id, l.quantity, l.saved_for_later, l.restored, l.price_at_add, p.price, p.currency, " \
    "v.stock, p.active, v.sku, p.name, p.slug, b.name, v.size_label, co.name, p.card_image_url, p.tax_class"
#define LINE_FROM                                                                                                 \
    " FROM cart_lines l JOIN variants v ON v.id = l.variant_id JOIN products p ON p.id = v.product_id "           \
    "JOIN brands b ON b.id = p.brand_id JOIN colours co ON co.id = v.colour_id"

static void read_line(db_stmt *st, cart_row *r)
{
    memset(r, 0, sizeof *r);
    r->variant_id = db_col_int64(st, 0);
    r->product_id = db_col_int64(st, 1);
    r->quantity = (int)db_col_int64(st, 2);
    r->saved_for_later = db_col_int64(st, 3) != 0;
    r->restored = db_col_int64(st, 4) != 0;
    r->price_at_add = db_col_int64(st, 5);
    r->unit_price = db_col_int64(st, 6);
    text_copy(r->currency, sizeof r->currency, db_col_text(st, 7, NULL));
    r->stock = db_col_int64(st, 8);
    r->active = db_col_int64(st, 9) != 0;
    text_copy(r->sku, sizeof r->sku, db_col_text(st, 10, NULL));
    text_copy(r->product_name, sizeof r->product_name, db_col_text(st, 11, NULL));
    text_copy(r->product_slug, sizeof r->product_slug, db_col_text(st, 12, NULL));
    text_copy(r->brand_name, sizeof r->brand_name, db_col_text(st, 13, NULL));
    text_copy(r->size_label, sizeof r->size_label, db_col_text(st, 14, NULL));
    text_copy(r->colour_name, sizeof r->colour_name, db_col_text(st, 15, NULL));
    text_copy(r->image_url, sizeof r->image_url, db_col_text(st, 16, NULL));
    text_copy(r->tax_class, sizeof r->tax_class, db_col_text(st, 17, NULL));
}

int cart_repo_lines(db_conn *c, int64_t cart_id, cart_row *out, int max)
{
    db_stmt *st = db_prepare(c, "SELECT " LINE_COLS LINE_FROM " WHERE l.cart_id = ? "
                                "ORDER BY l.saved_for_later, l.added_at DESC, l.variant_id LIMIT ?");
    if (!st) return -1;
    db_bind_int64(st, 0, cart_id);
    db_bind_int64(st, 1, max);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) read_line(st, &out[n++]);
    db_reset(st);
    return n;
}

int cart_repo_line(db_conn *c, int64_t cart_id, int64_t variant_id, cart_row *out)
{
    db_stmt *st = db_prepare(c, "SELECT " LINE_COLS LINE_FROM " WHERE l.cart_id = ? AND l.variant_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, cart_id);
    db_bind_int64(st, 1, variant_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int r = db_fetch(st);
    if (r == 1) read_line(st, out);
    db_reset(st);
    return r < 0 ? -1 : r;
}

int cart_repo_put(db_conn *c, int64_t cart_id, int64_t variant_id, int quantity, int64_t price_at_add, bool saved,
                  bool restored)
{
    db_stmt *st = db_prepare(c, "INSERT INTO cart_lines (cart_id, variant_id, quantity, price_at_add, saved_for_later, "
                                "restored) VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), "
                                "saved_for_later = VALUES(saved_for_later), restored = VALUES(restored)");
    if (!st) return -1;
    db_bind_int64(st, 0, cart_id);
    db_bind_int64(st, 1, variant_id);
    db_bind_int64(st, 2, quantity);
    db_bind_int64(st, 3, price_at_add);
    db_bind_int64(st, 4, saved);
    db_bind_int64(st, 5, restored);
    return db_run(st);
}

int cart_repo_set_quantity(db_conn *c, int64_t cart_id, int64_t variant_id, int quantity)
{
    db_stmt *st = db_prepare(c, "UPDATE cart_lines SET quantity = ?, restored = 0 WHERE cart_id = ? AND variant_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, quantity);
    db_bind_int64(st, 1, cart_id);
    db_bind_int64(st, 2, variant_id);
    return db_run(st);
}

int cart_repo_set_saved(db_conn *c, int64_t cart_id, int64_t variant_id, bool saved)
{
    db_stmt *st = db_prepare(c, "UPDATE cart_lines SET saved_for_later = ?, restored = 0 WHERE cart_id = ? AND variant_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, saved);
    db_bind_int64(st, 1, cart_id);
    db_bind_int64(st, 2, variant_id);
    return db_run(st);
}

int cart_repo_remove(db_conn *c, int64_t cart_id, int64_t variant_id)
{
    db_stmt *st = db_prepare(c, "DELETE FROM cart_lines WHERE cart_id = ? AND variant_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, cart_id);
    db_bind_int64(st, 1, variant_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = (int)db_affected_rows(st);
    db_reset(st);
    return n > 0;
}

int cart_repo_clear_restored(db_conn *c, int64_t cart_id)
{
    db_stmt *st = db_prepare(c, "UPDATE cart_lines SET restored = 0 WHERE cart_id = ? AND restored = 1");
    if (!st) return -1;
    db_bind_int64(st, 0, cart_id);
    return db_run(st);
}

int cart_repo_count(db_conn *c, int64_t cart_id)
{
    db_stmt *st = db_prepare(c, "SELECT COALESCE(SUM(quantity), 0) FROM cart_lines WHERE cart_id = ? AND saved_for_later = 0");
    if (!st) return -1;
    db_bind_int64(st, 0, cart_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = db_fetch(st) == 1 ? (int)db_col_int64(st, 0) : 0;
    db_reset(st);
    return n;
}

int cart_repo_variant(db_conn *c, int64_t variant_id, variant_row *out)
{
    db_stmt *st = db_prepare(c, "SELECT v.id, v.product_id, v.stock, p.price, p.active, v.sku, v.size_label, p.name "
                                "FROM variants v JOIN products p ON p.id = v.product_id WHERE v.id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, variant_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int r = db_fetch(st);
    if (r == 1) {
        memset(out, 0, sizeof *out);
        out->id = db_col_int64(st, 0);
        out->product_id = db_col_int64(st, 1);
        out->stock = db_col_int64(st, 2);
        out->price = db_col_int64(st, 3);
        out->active = db_col_int64(st, 4) != 0;
        text_copy(out->sku, sizeof out->sku, db_col_text(st, 5, NULL));
        text_copy(out->size_label, sizeof out->size_label, db_col_text(st, 6, NULL));
        text_copy(out->product_name, sizeof out->product_name, db_col_text(st, 7, NULL));
    }
    db_reset(st);
    return r < 0 ? -1 : r;
}
