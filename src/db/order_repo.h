/* order_repo.h — the SQL of orders, their lines, payments, state history
 * and handled webhooks (migrations/0006). Plain rows; every function takes
 * the connection (a unit of work's) and never begins or commits. 0 / -1
 * (store error, logged) unless documented otherwise. */
#ifndef SHOEASE_DB_ORDER_REPO_H
#define SHOEASE_DB_ORDER_REPO_H

#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

#define ORDER_MAX_LINES 50

typedef struct order_row {
    int64_t id;
    char number[13];
    int64_t user_id;
    int64_t cart_id;                 /* the bag it was placed from (0: unknown) */
    char email[255];
    char status[20];
    char payment_method[8];
    char currency[4];
    int64_t subtotal, shipping, tax, total;
    char shipping_method[10];
    char ship_name[101], ship_line1[121], ship_line2[121], ship_city[81], ship_region[81], ship_postcode[17],
        ship_country[3], ship_phone[17];
    char access_hash[65];
    int64_t created_at, expires_at;  /* unix seconds (0: none) */
} order_row;

typedef struct order_line_row {
    int64_t variant_id, product_id;
    char sku[65], product_name[161], product_slug[121], brand_name[81], size_label[17], colour_name[41];
    int64_t unit_price;
    int quantity;
    int64_t line_total;
    int tax_rate_bp;
    int64_t tax;
} order_line_row;

typedef struct payment_row {
    int64_t id, order_id;
    char provider[8];
    char provider_ref[101];
    char client_secret[201];
    int64_t amount, refunded_amount;
    char currency[4];
    char status[12];
} payment_row;

/* A variant locked for an order (SELECT … FOR UPDATE, in id order). */
typedef struct locked_variant {
    int64_t id, product_id, stock, price;
    bool active;
    char sku[65], product_name[161], product_slug[121], brand_name[81], size_label[17], colour_name[41], tax_class[12];
    char currency[4];
} locked_variant;

/* Lock the variants (ids sorted ascending by the caller: a fixed order, so
 * two orders never deadlock on each other). Count found, or -1. */
int order_repo_lock_variants(db_conn *c, const int64_t *ids, int n, locked_variant *out);
/* stock -= qty where stock ≥ qty: 1 done, 0 not enough (never negative). */
int order_repo_take_stock(db_conn *c, int64_t variant_id, int qty);
int order_repo_return_stock(db_conn *c, int64_t variant_id, int qty);
/* A product's sold_count from the orders that stand, popularity moved with
 * it (the hourly orders.popularity job; never in a checkout, where it
 * would lock the product row for every sale). */
int order_repo_refresh_sold(db_conn *c, int64_t product_id);

/* -2: the idempotency key or the number exists already. */
int order_repo_insert(db_conn *c, const order_row *o, const char *idempotency_key, int64_t *id_out);
int order_repo_insert_line(db_conn *c, int64_t order_id, const order_line_row *l);
int order_repo_insert_payment(db_conn *c, const payment_row *p, int64_t *id_out);
int order_repo_set_payment(db_conn *c, int64_t payment_id, const char *ref, const char *client_secret);
int order_repo_payment_status(db_conn *c, int64_t payment_id, const char *status, int64_t refunded_amount);
int order_repo_event(db_conn *c, int64_t order_id, const char *from, const char *to, const char *actor, const char *note);
int order_repo_set_status(db_conn *c, int64_t order_id, const char *status);

/* Lookups: 1 found, 0 not. lock: FOR UPDATE. */
int order_repo_by_key(db_conn *c, const char *idempotency_key, order_row *out);
int order_repo_by_number(db_conn *c, const char *number, bool lock, order_row *out);
int order_repo_lines(db_conn *c, int64_t order_id, order_line_row *out, int max);   /* count or -1 */
int order_repo_payment(db_conn *c, int64_t order_id, payment_row *out);           /* the latest */
int order_repo_payment_by_ref(db_conn *c, const char *provider, const char *ref, payment_row *out);
/* A user's orders, newest first. Count or -1. */
int order_repo_for_user(db_conn *c, int64_t user_id, order_row *out, int max, int offset);
/* The newest orders (status NULL: any). Count or -1. */
int order_repo_recent(db_conn *c, const char *status, order_row *out, int max);
/* Unpaid card orders past their expiry (ids). Count or -1. */
int order_repo_expired(db_conn *c, int64_t *ids, int max);
/* Products whose orders changed state in the last `seconds` (so their sold
 * counts and popularity moved), at most max, by id. Count or -1. */
int order_repo_products_moved(db_conn *c, int seconds, int64_t *ids, int max);
int order_repo_by_id(db_conn *c, int64_t id, bool lock, order_row *out);
/* State history: (from, to, actor, note, at) per row. Count or -1. */
typedef struct order_event_row {
    char from[20], to[20], actor[61], note[256];
    int64_t at;
} order_event_row;
int order_repo_events(db_conn *c, int64_t order_id, order_event_row *out, int max);

/* A webhook event id seen for the first time: 1, already handled: 0. */
int order_repo_webhook_first(db_conn *c, const char *provider, const char *event_id, const char *type);

/* Reviews of products in a delivered order by its buyer become verified. */
int order_repo_verify_reviews(db_conn *c, int64_t order_id);

/* ---------- the admin portal's order list (migrations/0011) ---------- */

typedef struct order_filter {
    const char *q;                  /* an order number (exact) or the start of the buyer's e-mail address */
    const char *status;             /* exact, or NULL */
    int64_t since, until;           /* placed in [since, until): unix seconds, 0 = open */
    int64_t user_id;                /* one buyer's orders, or 0 */
} order_filter;

/* One row of the list: what the table and its CSV show. */
typedef struct order_summary {
    int64_t id, user_id;
    char number[13];
    char email[255];
    char ship_name[101];
    char status[20];
    char payment_method[8];
    char currency[4];
    int64_t total;
    int items;                      /* pairs */
    int64_t created_at;             /* unix seconds */
} order_summary;

/* sort: "created", "total", "number", "status" or "email" (anything else:
 * "created"); ties newest first. At most max rows from offset; *total (may
 * be NULL) the number matching (0 for a page past the last). Count read,
 * or -1. */
int order_repo_search(db_conn *c, const order_filter *f, const char *sort, bool desc, int offset, int max,
                      order_summary *out, int64_t *total);

#endif
