/* cart.h — the shopping bag: a guest's (bound to their session by the
 * cart's public id) or a signed-in shopper's. MariaDB holds the truth.
 *
 *   cart_owner o = {.user_id = uid};                  // or {.public_id = "…"} for a guest
 *   shop_error e;
 *   if (cart_add(&o, variant_id, 1, &e) != SHOP_OK) → e.message ("Only 2 left in UK 9")
 *   cart *c = malloc(sizeof *c);  cart_load(&o, c, &e);  …  free(c);
 *
 * Rules: a line holds 1 to MAX_LINE_QUANTITY pairs; stock is checked when a
 * line is added or raised, and again when the order is placed (orders.h);
 * a price that changed since the line was added is flagged ("was £X, now
 * £Y"); saved-for-later lines are kept but not bought. At sign-in the
 * guest's bag merges into the shopper's: the quantities chosen in this
 * visit win (never summed), lines from an older bag stay, marked restored,
 * and the shopper is told what happened. */
#ifndef SHOEASE_SHOP_CART_H
#define SHOEASE_SHOP_CART_H

#include "db/cart_repo.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct cart_owner {
    int64_t user_id;          /* a signed-in shopper, or 0 */
    char public_id[33];       /* a guest's cart ("" when none yet); filled by cart_add for a new one */
} cart_owner;

typedef struct cart_line {
    cart_row row;
    int64_t line_total;       /* unit_price × quantity */
    bool price_changed;       /* unit_price ≠ price_at_add */
    bool unavailable;         /* the product is no longer sold */
    bool sold_out;            /* stock 0 */
    bool short_stock;         /* stock < quantity (but not 0) */
} cart_line;

typedef struct cart {
    int64_t id;
    char public_id[33];
    cart_line lines[CART_MAX_LINES];   /* active lines first, then saved ones */
    int n, active, saved;
    int items;                /* pairs in the active lines */
    int64_t subtotal;         /* active lines, VAT included */
    char currency[4];
    bool problems;            /* some active line cannot be bought as it is */
    int restored;             /* active lines brought back from an older bag */
} cart;

/* The owner's bag (empty, id 0, when there is none). */
shop_status cart_load(const cart_owner *o, cart *out, shop_error *e);
/* Add quantity pairs of a variant (added to a line already there). Makes
 * the bag when needed: a guest's public id is then written to o. */
shop_status cart_add(cart_owner *o, int64_t variant_id, int quantity, shop_error *e);
/* Set a line's quantity (0 removes it). */
shop_status cart_update(const cart_owner *o, int64_t variant_id, int quantity, shop_error *e);
shop_status cart_remove(const cart_owner *o, int64_t variant_id, shop_error *e);
shop_status cart_save_for_later(const cart_owner *o, int64_t variant_id, bool saved, shop_error *e);
/* The "was brought back" marks have been seen. */
shop_status cart_dismiss_restored(const cart_owner *o, shop_error *e);
/* Pairs in the active lines, 0 when no bag, -1 on a store error. */
int cart_items(const cart_owner *o);

typedef struct cart_merge {
    int from_visit;           /* lines of this visit's bag now in the shopper's */
    int restored;             /* lines of the shopper's older bag kept */
    char public_id[33];       /* the shopper's bag */
} cart_merge;
/* At sign-in: merge the guest's bag (may be "") into the user's. */
shop_status cart_merge_at_sign_in(const char *guest_public_id, int64_t user_id, cart_merge *out, shop_error *e);

#endif
