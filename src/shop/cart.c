/* cart.c — see cart.h. */
#include "shop/cart.h"

#include "core/config.h"
#include "core/text.h"
#include "db/tx.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char STORE_DOWN[] = "Your bag is unavailable for a moment. Nothing was changed; please try again.";

static void new_public_id(char out[33])
{
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(out, 33, rnd, sizeof rnd);
}

/* The owner's open cart: 1 found (*id), 0 none, -1 error. */
static int find(db_conn *c, const cart_owner *o, int64_t *id, char public_id[33], bool lock)
{
    if (o->user_id) return cart_repo_find_user(c, o->user_id, id, public_id, lock);
    if (!o->public_id[0] || !text_is_lower_hex(o->public_id, 32)) return 0;
    int64_t uid = 0;
    int r = cart_repo_find_public(c, o->public_id, id, &uid, lock);
    if (r == 1 && uid != 0) return 0; /* a shopper's bag is never a guest's */
    if (r == 1 && public_id) memcpy(public_id, o->public_id, 33);
    return r;
}

static void fill(cart *out, cart_row *rows, int n)
{
    for (int i = 0; i < n; i++) {
        cart_line *l = &out->lines[i];
        memset(l, 0, sizeof *l);
        l->row = rows[i];
        l->line_total = rows[i].unit_price * rows[i].quantity; /* ≤ 10 × a price capped by the catalogue */
        l->price_changed = rows[i].unit_price != rows[i].price_at_add;
        l->unavailable = !rows[i].active;
        l->sold_out = rows[i].active && rows[i].stock <= 0;
        l->short_stock = rows[i].active && rows[i].stock > 0 && rows[i].stock < rows[i].quantity;
        if (rows[i].saved_for_later) {
            out->saved++;
            continue;
        }
        out->active++;
        out->items += rows[i].quantity;
        out->subtotal += l->line_total;
        if (!out->currency[0]) text_copy(out->currency, sizeof out->currency, rows[i].currency);
        if (l->unavailable || l->sold_out || l->short_stock) out->problems = true;
        if (rows[i].restored) out->restored++;
    }
    out->n = n;
}

shop_status cart_load(const cart_owner *o, cart *out, shop_error *e)
{
    memset(out, 0, sizeof *out);
    text_copy(out->currency, sizeof out->currency, cfg.currency ? cfg.currency : "GBP");
    db_conn *c = db_conn_get();
    if (!c) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    int r = find(c, o, &out->id, out->public_id, false);
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 0) return SHOP_OK;
    static __thread cart_row rows[CART_MAX_LINES];
    int n = cart_repo_lines(c, out->id, rows, CART_MAX_LINES);
    if (n < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    out->currency[0] = '\0';
    fill(out, rows, n);
    if (!out->currency[0]) text_copy(out->currency, sizeof out->currency, cfg.currency ? cfg.currency : "GBP");
    return SHOP_OK;
}

static shop_status stock_message(shop_error *e, const variant_row *v, int64_t wanted)
{
    if (v->stock <= 0)
        return shop_fail(e, SHOP_CONFLICT, "variant_id", "%s in %s is sold out.", v->product_name, v->size_label);
    return shop_fail(e, SHOP_CONFLICT, "quantity", "Only %lld left of %s in %s%s.", (long long)v->stock,
                     v->product_name, v->size_label, wanted > v->stock ? "" : "");
}

struct add {
    cart_owner *o;
    int64_t variant_id;
    int quantity;
    shop_error *e;
    shop_status st;
};

static int add_tx(db_tx *tx, void *arg)
{
    struct add *a = arg;
    db_conn *c = db_tx_conn(tx);
    variant_row v;
    int r = cart_repo_variant(c, a->variant_id, &v);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0 || !v.active) {
        a->st = shop_fail(a->e, SHOP_NOT_FOUND, "variant_id", "That shoe or size is no longer sold.");
        return 1;
    }
    int64_t cart_id;
    char pid[33] = "";
    r = find(c, a->o, &cart_id, pid, true);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0) {
        new_public_id(pid);
        int cr = cart_repo_create(c, a->o->user_id, pid, &cart_id);
        /* another tab made the shopper's bag meanwhile: use that one */
        if (cr == -2 && find(c, a->o, &cart_id, pid, true) != 1) return DB_TX_FAILED;
        if (cr == -1) return DB_TX_FAILED;
    }
    cart_row line;
    int have = cart_repo_line(c, cart_id, a->variant_id, &line);
    if (have < 0) return DB_TX_FAILED;
    int64_t wanted = (int64_t)a->quantity + (have == 1 && !line.saved_for_later ? line.quantity : 0);
    if (wanted > cfg.max_line_quantity) {
        a->st = shop_fail(a->e, SHOP_INVALID, "quantity", "You can have at most %d pairs of one size in your bag.",
                          cfg.max_line_quantity);
        return 1;
    }
    if (wanted > v.stock) {
        a->st = stock_message(a->e, &v, wanted);
        return 1;
    }
    /* a line keeps the price it was first added at, to show a change later */
    int64_t price_at_add = have == 1 ? line.price_at_add : v.price;
    if (cart_repo_put(c, cart_id, a->variant_id, (int)wanted, price_at_add, false, false) < 0) return DB_TX_FAILED;
    if (!a->o->user_id) memcpy(a->o->public_id, pid, 33);
    a->st = SHOP_OK;
    return DB_TX_OK;
}

shop_status cart_add(cart_owner *o, int64_t variant_id, int quantity, shop_error *e)
{
    if (quantity < 1 || quantity > cfg.max_line_quantity)
        return shop_fail(e, SHOP_INVALID, "quantity", "Choose between 1 and %d pairs.", cfg.max_line_quantity);
    struct add a = {o, variant_id, quantity, e, SHOP_OK};
    int rc = db_tx_run(add_tx, &a);
    if (rc == DB_TX_OK || rc == 1) return a.st;
    return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
}

struct change {
    const cart_owner *o;
    int64_t variant_id;
    int quantity;      /* update */
    int op;            /* 0 update, 1 remove, 2 save, 3 unsave, 4 dismiss restored */
    shop_error *e;
    shop_status st;
};

static int change_tx(db_tx *tx, void *arg)
{
    struct change *ch = arg;
    db_conn *c = db_tx_conn(tx);
    int64_t cart_id;
    int r = find(c, ch->o, &cart_id, NULL, true);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0) {
        ch->st = shop_fail(ch->e, SHOP_NOT_FOUND, NULL, "Your bag is empty.");
        return 1;
    }
    if (ch->op == 4) {
        ch->st = SHOP_OK;
        return cart_repo_clear_restored(c, cart_id) == 0 ? DB_TX_OK : DB_TX_FAILED;
    }
    cart_row line;
    r = cart_repo_line(c, cart_id, ch->variant_id, &line);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0) {
        ch->st = shop_fail(ch->e, SHOP_NOT_FOUND, NULL, "That item is not in your bag any more.");
        return 1;
    }
    if (ch->op == 1 || (ch->op == 0 && ch->quantity == 0)) {
        ch->st = SHOP_OK;
        return cart_repo_remove(c, cart_id, ch->variant_id) >= 0 ? DB_TX_OK : DB_TX_FAILED;
    }
    if (ch->op == 2 || ch->op == 3) {
        if (ch->op == 3) {
            /* back into the bag: it must be buyable */
            variant_row v;
            if (cart_repo_variant(c, ch->variant_id, &v) != 1) return DB_TX_FAILED;
            if (!v.active || v.stock < line.quantity) {
                ch->st = !v.active ? shop_fail(ch->e, SHOP_CONFLICT, NULL, "That shoe is no longer sold.")
                                   : stock_message(ch->e, &v, line.quantity);
                return 1;
            }
        }
        ch->st = SHOP_OK;
        return cart_repo_set_saved(c, cart_id, ch->variant_id, ch->op == 2) == 0 ? DB_TX_OK : DB_TX_FAILED;
    }
    if (ch->quantity > line.quantity) {
        variant_row v;
        if (cart_repo_variant(c, ch->variant_id, &v) != 1) return DB_TX_FAILED;
        if (ch->quantity > v.stock) {
            ch->st = stock_message(ch->e, &v, ch->quantity);
            return 1;
        }
    }
    ch->st = SHOP_OK;
    return cart_repo_set_quantity(c, cart_id, ch->variant_id, ch->quantity) == 0 ? DB_TX_OK : DB_TX_FAILED;
}

static shop_status change(const cart_owner *o, int64_t variant_id, int quantity, int op, shop_error *e)
{
    struct change ch = {o, variant_id, quantity, op, e, SHOP_OK};
    int rc = db_tx_run(change_tx, &ch);
    if (rc == DB_TX_OK || rc == 1) return ch.st;
    return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
}

shop_status cart_update(const cart_owner *o, int64_t variant_id, int quantity, shop_error *e)
{
    if (quantity < 0 || quantity > cfg.max_line_quantity)
        return shop_fail(e, SHOP_INVALID, "quantity", "Choose between 0 and %d pairs.", cfg.max_line_quantity);
    return change(o, variant_id, quantity, 0, e);
}

shop_status cart_remove(const cart_owner *o, int64_t variant_id, shop_error *e) { return change(o, variant_id, 0, 1, e); }

shop_status cart_save_for_later(const cart_owner *o, int64_t variant_id, bool saved, shop_error *e)
{
    return change(o, variant_id, 0, saved ? 2 : 3, e);
}

shop_status cart_dismiss_restored(const cart_owner *o, shop_error *e) { return change(o, 0, 0, 4, e); }

int cart_items(const cart_owner *o)
{
    db_conn *c = db_conn_get();
    if (!c) return -1;
    int64_t id;
    int r = find(c, o, &id, NULL, false);
    if (r <= 0) return r;
    return cart_repo_count(c, id);
}

struct merge {
    const char *guest;
    int64_t user_id;
    cart_merge *out;
};

static int merge_tx(db_tx *tx, void *arg)
{
    struct merge *m = arg;
    db_conn *c = db_tx_conn(tx);
    memset(m->out, 0, sizeof *m->out);
    int64_t guest_id = 0, user_cart = 0, owner = 0;
    int g = m->guest && text_is_lower_hex(m->guest, 32) ? cart_repo_find_public(c, m->guest, &guest_id, &owner, true) : 0;
    if (g < 0) return DB_TX_FAILED;
    if (g == 1 && owner != 0) g = 0; /* not a guest's bag */
    int u = cart_repo_find_user(c, m->user_id, &user_cart, m->out->public_id, true);
    if (u < 0) return DB_TX_FAILED;
    if (g == 0) return DB_TX_OK; /* nothing from this visit: the shopper's bag as it was */
    if (u == 0) {
        /* no bag of their own: this visit's becomes theirs */
        if (cart_repo_claim(c, guest_id, m->user_id) < 0) return DB_TX_FAILED;
        text_copy(m->out->public_id, sizeof m->out->public_id, m->guest);
        static __thread cart_row gl[CART_MAX_LINES];
        int n = cart_repo_lines(c, guest_id, gl, CART_MAX_LINES);
        m->out->from_visit = n < 0 ? 0 : n;
        return DB_TX_OK;
    }
    static __thread cart_row older[CART_MAX_LINES], visit[CART_MAX_LINES];
    int no = cart_repo_lines(c, user_cart, older, CART_MAX_LINES);
    int nv = cart_repo_lines(c, guest_id, visit, CART_MAX_LINES);
    if (no < 0 || nv < 0) return DB_TX_FAILED;
    /* the older bag's lines are now "brought back"… */
    for (int i = 0; i < no; i++) {
        bool in_visit = false;
        for (int k = 0; k < nv; k++)
            if (visit[k].variant_id == older[i].variant_id) in_visit = true;
        if (in_visit || older[i].saved_for_later) continue;
        if (cart_repo_put(c, user_cart, older[i].variant_id, older[i].quantity, older[i].price_at_add, false, true) < 0)
            return DB_TX_FAILED;
        m->out->restored++;
    }
    /* …and this visit's lines take their place with the quantities chosen now */
    for (int k = 0; k < nv && no + k < CART_MAX_LINES; k++) {
        if (cart_repo_put(c, user_cart, visit[k].variant_id, visit[k].quantity, visit[k].price_at_add,
                          visit[k].saved_for_later, false) < 0)
            return DB_TX_FAILED;
        m->out->from_visit++;
    }
    return cart_repo_set_status(c, guest_id, "merged") == 0 ? DB_TX_OK : DB_TX_FAILED;
}

shop_status cart_merge_at_sign_in(const char *guest_public_id, int64_t user_id, cart_merge *out, shop_error *e)
{
    struct merge m = {guest_public_id, user_id, out};
    if (db_tx_run(merge_tx, &m) != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}
