/* dashboard.h — the store owner's figures for the admin dashboard: today
 * and the last 30 days, as plain C values (no HTML, no SQL).
 *
 *   dashboard *d = malloc(sizeof *d);
 *   shop_error e;
 *   if (dashboard_load(&(dashboard_query){.top_today = false}, d, &e) != SHOP_OK) → 503 with e.message
 *   … d->today.revenue, d->days[0 … DASH_DAYS-1], d->top_products, d->funnel_month …
 *   free(d);
 *
 * What the numbers mean (said once here, shown on the page):
 *   - Days are UTC days; "today" is the current UTC day so far, "30 days"
 *     is today and the 29 days before it. An order belongs to the day it
 *     was placed.
 *   - A sale is an order that is paid, cash-on-delivery confirmed, shipped
 *     or delivered (db/dashboard_repo.h: DASH_COUNTED). Revenue is their
 *     totals (VAT and delivery included) less what was refunded of them;
 *     cancelled and refunded orders count nothing, card orders still
 *     waiting for the payment are counted apart ("waiting"). Average order
 *     value = revenue / orders, to the penny (a half away from zero).
 *   - Top products and sizes: pairs sold in those orders (order lines).
 *   - Stock: variants (colour × size × width) of active products with
 *     nothing left, and with 1 … DASH_LOW_STOCK left.
 *   - Funnel: MongoDB's daily analytics counters (events/writer.h): product
 *     page views → adds to the bag → checkout pages shown with a bag →
 *     orders placed. Counts of events, not of distinct shoppers.
 *   - Sizes asked for but out of stock: how often listings were shown
 *     filtered by a size (counter "size_filter") in the 30 days, for the
 *     sizes that some active shoe offers but has none left of (in any
 *     colour or width), so shoppers filtering by it no longer find it.
 * MariaDB failing is an error (SHOP_UNAVAILABLE); MongoDB failing is not:
 * analytics_ok is false and the funnel and demand are empty. */
#ifndef SHOEASE_SHOP_DASHBOARD_H
#define SHOEASE_SHOP_DASHBOARD_H

#include "db/dashboard_repo.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

#define DASH_DAYS 30
#define DASH_TOP 5               /* top products */
#define DASH_TOP_SIZES 8
#define DASH_LOW_STOCK 3         /* "low": 1 … 3 left (the shop's "Only N left") */
#define DASH_STOCK_LISTED 20     /* variants listed of each kind (sold out, low) */
#define DASH_DEMAND 8            /* sizes listed under demand */
#define DASH_FUNNEL_STEPS 4

typedef struct dashboard_query {
    bool top_today;              /* the top lists for today (else the 30 days) */
} dashboard_query;

typedef struct dashboard_totals {
    int64_t orders;              /* sales */
    int64_t revenue;             /* minor units */
    int64_t average;             /* revenue / orders, 0 without orders */
    int64_t lost;                /* placed, then cancelled or refunded */
    int64_t waiting;             /* card orders waiting for the payment */
} dashboard_totals;

typedef struct dashboard_funnel_step {
    const char *kind;            /* the analytics counter: "product_view", "add_to_cart", "checkout", "order" */
    const char *label;           /* "Product views" … */
    long long count;
} dashboard_funnel_step;

typedef struct dashboard_demand {
    char size_key[13];
    char label[65];
    long long asks;              /* listings shown filtered by this size, 30 days */
    int64_t sold_out_products, in_stock_products;
    char examples[3][641];
    int nexamples;
} dashboard_demand;

typedef struct dashboard {
    char today[11], since[11];   /* UTC days, "2026-11-30" */
    char currency[4];
    dashboard_totals day, month;
    dash_day_row days[DASH_DAYS];              /* oldest first, every day (zeros where none) */
    bool top_today;
    dash_top_row top_products[DASH_TOP];
    int ntop_products;
    dash_top_row top_sizes[DASH_TOP_SIZES];
    int ntop_sizes;
    int64_t sold_out_total, low_total;         /* all of them */
    dash_variant_row stock[2 * DASH_STOCK_LISTED]; /* sold out first (stock 0), then low */
    int nstock;
    bool analytics_ok;                         /* MongoDB answered */
    dashboard_funnel_step funnel_day[DASH_FUNNEL_STEPS], funnel_month[DASH_FUNNEL_STEPS];
    dashboard_demand demand[DASH_DEMAND];      /* most asked for first */
    int ndemand;
} dashboard;

shop_status dashboard_load(const dashboard_query *q, dashboard *out, shop_error *e);

/* The percentage of from that reached to, in tenths of a percent (a
 * funnel's conversion): 1234 views → 56 adds is 45 (4.5 %). 0 when from
 * is 0. */
int dashboard_rate_permille(long long to, long long from);

#endif
