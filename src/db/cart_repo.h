/* cart_repo.h — the SQL of carts (migrations/0006). Plain rows; every
 * function takes the connection and never begins or commits. 0 / -1
 * (store error, logged) unless documented otherwise. */
#ifndef SHOEASE_DB_CART_REPO_H
#define SHOEASE_DB_CART_REPO_H

#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

#define CART_MAX_LINES 50

/* A line with what the cart page needs about its variant now. */
typedef struct cart_row {
    int64_t variant_id, product_id;
    int quantity;
    bool saved_for_later, restored;
    int64_t price_at_add;
    int64_t unit_price;             /* the product's price now */
    char currency[4];
    int64_t stock;                  /* the variant's stock now */
    bool active;                    /* the product is on sale */
    char sku[65], product_name[161], product_slug[121], brand_name[81], size_label[17], colour_name[41];
    char image_url[256];
    char tax_class[12];
} cart_row;

/* The open cart of a user / by public id: 1 found (*cart_id), 0 none. */
int cart_repo_find_user(db_conn *c, int64_t user_id, int64_t *cart_id, char public_id[33], bool lock);
int cart_repo_find_public(db_conn *c, const char *public_id, int64_t *cart_id, int64_t *user_id, bool lock);
/* A new open cart (user_id 0: a guest's). -2: the user has an open cart already. */
int cart_repo_create(db_conn *c, int64_t user_id, const char *public_id, int64_t *cart_id);
int cart_repo_set_status(db_conn *c, int64_t cart_id, const char *status);
int cart_repo_claim(db_conn *c, int64_t cart_id, int64_t user_id);

/* Lines, active ones first (newest first), then saved ones. Count or -1. */
int cart_repo_lines(db_conn *c, int64_t cart_id, cart_row *out, int max);
/* One line: 1 found, 0 not. */
int cart_repo_line(db_conn *c, int64_t cart_id, int64_t variant_id, cart_row *out);
/* Insert or set a line's quantity (and its flags). */
int cart_repo_put(db_conn *c, int64_t cart_id, int64_t variant_id, int quantity, int64_t price_at_add, bool saved,
                  bool restored);
int cart_repo_set_quantity(db_conn *c, int64_t cart_id, int64_t variant_id, int quantity);
int cart_repo_set_saved(db_conn *c, int64_t cart_id, int64_t variant_id, bool saved);
/* 1 removed, 0 no such line. */
int cart_repo_remove(db_conn *c, int64_t cart_id, int64_t variant_id);
int cart_repo_clear_restored(db_conn *c, int64_t cart_id);
/* Items (sum of quantities) in the active lines. -1 on error. */
int cart_repo_count(db_conn *c, int64_t cart_id);

/* A variant as the cart needs it to add it: 1 found, 0 not. */
typedef struct variant_row {
    int64_t id, product_id, stock, price;
    bool active;
    char sku[65], size_label[17], product_name[161];
} variant_row;
int cart_repo_variant(db_conn *c, int64_t variant_id, variant_row *out);

#endif
