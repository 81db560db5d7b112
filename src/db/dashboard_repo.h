/* dashboard_repo.h — the admin dashboard's statements: read only, each
 * figure one statement over an index (migrations/0013), grouped in SQL so
 * no figure reads a row per order or per product (no N+1).
 *
 *   dash_day_row days[31];
 *   int n = dashboard_repo_days(c, since_unix, "GBP", days, 31);   // one row per UTC day with orders
 *   dash_top_row top[5];
 *   n = dashboard_repo_top_products(c, since_unix, "GBP", top, 5);
 *
 * What counts as a sale is fixed here, in one place (DASH_COUNTED): an
 * order that is paid, cash-on-delivery confirmed, shipped or delivered.
 * Cancelled and refunded orders count nothing; an order waiting for its
 * card payment is not a sale yet. Revenue is the counted orders' totals
 * (lines + delivery, VAT included) less anything refunded of them. Days are
 * UTC (the connection's time zone is UTC: db/mariadb.c). Counts returned
 * are rows read, or -1 (db_last_error()). */
#ifndef SHOEASE_DB_DASHBOARD_REPO_H
#define SHOEASE_DB_DASHBOARD_REPO_H

#include "db/db.h"

#include <stdint.h>

/* the order states that are sales */
#define DASH_COUNTED "'paid','cod_confirmed','shipped','delivered'"

typedef struct dash_day_row {
    char day[11];                 /* "2026-11-30" (UTC) */
    int64_t orders;               /* counted orders placed that day */
    int64_t revenue;              /* their totals less refunds, minor units */
    int64_t lost;                 /* orders placed that day now cancelled or refunded */
    int64_t waiting;              /* placed that day, still waiting for the card payment */
} dash_day_row;

/* Orders placed since since_unix (a UTC midnight) in currency, per day,
 * oldest first. */
int dashboard_repo_days(db_conn *c, int64_t since_unix, const char *currency, dash_day_row *out, int max);

typedef struct dash_top_row {
    int64_t product_id;           /* 0: the product was deleted since */
    char name[641];               /* as sold (the order line's snapshot); sizes: the columns' characters × 4 (UTF-8) */
    char slug[121];
    char brand[321];
    char size[65];                /* top sizes: "UK 9.5" */
    int64_t units;
    int64_t revenue;              /* the lines' totals */
} dash_top_row;

/* The products (top_sizes: the sizes) that sold the most pairs in counted
 * orders since since_unix, most first (ties: more revenue first). */
int dashboard_repo_top_products(db_conn *c, int64_t since_unix, const char *currency, dash_top_row *out, int max);
int dashboard_repo_top_sizes(db_conn *c, int64_t since_unix, const char *currency, dash_top_row *out, int max);

typedef struct dash_variant_row {
    int64_t variant_id, product_id;
    char sku[257];
    char product[641];
    char slug[121];
    char size[65];
    char colour[161];
    char width[9];                /* "Standard", "Wide", "Narrow" */
    int64_t stock;
} dash_variant_row;

/* How many variants of active products are sold out (stock 0) and how
 * many are low (1 … low_max). */
int dashboard_repo_stock_counts(db_conn *c, int low_max, int64_t *sold_out, int64_t *low);
/* Those variants: up to max_each sold out, then up to max_each low; the
 * products that sold most pairs since since_unix first within each (from
 * the orders, not the hourly sold_count), then fewest left. */
int dashboard_repo_stock_list(db_conn *c, int64_t since_unix, int low_max, int max_each, dash_variant_row *out);

typedef struct dash_size_row {
    char size_key[13];            /* "uk-9.5": the listings' size filter value */
    char label[65];               /* "UK 9.5" */
    int64_t sold_out_products;    /* active products that have this size, but none of it in stock */
    int64_t in_stock_products;    /* active products with this size in stock (any colour or width) */
    char examples[3][641];        /* up to three of the sold-out products, best sellers first */
    int nexamples;
} dash_size_row;

/* For each of the n size keys (values like "uk-9"): which active products
 * have it and which have sold out of it. Rows for sizes no product has are
 * left out. */
int dashboard_repo_size_stock(db_conn *c, const char *const *size_keys, int n, dash_size_row *out, int max);

#endif
