/* dashboard.c — see dashboard.h. Six MariaDB statements (each one figure,
 * grouped in SQL) and two MongoDB aggregations, whatever the shop's size. */
#include "shop/dashboard.h"

#include "core/config.h"
#include "core/text.h"
#include "events/reads.h"
#include "shop/money.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_SECONDS 86400
#define SIZE_ITEMS_MAX 256       /* distinct sizes asked for we add up */
#define DEMAND_CANDIDATES 24     /* the most asked-for sizes looked up in stock */
#define COUNT_ROWS_MAX 4096      /* size_filter rows: days × sizes */

static const struct {
    const char *kind, *label;
} funnel_steps[DASH_FUNNEL_STEPS] = {
    {"product_view", "Product views"},
    {"add_to_cart", "Added to bag"},
    {"checkout", "Checkout started"},
    {"order", "Orders placed"},
};

static void day_text(int64_t unix_s, char out[11])
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static int64_t div_round(int64_t a, int64_t b)
{
    if (b <= 0) return 0;
    return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

int dashboard_rate_permille(long long to, long long from)
{
    if (from <= 0 || to <= 0) return 0;
    return (int)((to * 1000 + from / 2) / from);
}

static void totals_add(dashboard_totals *t, const dash_day_row *r)
{
    t->orders += r->orders;
    t->revenue += r->revenue;
    t->lost += r->lost;
    t->waiting += r->waiting;
}

static void funnel_load(dashboard *d)
{
    const char *kinds[DASH_FUNNEL_STEPS];
    for (int i = 0; i < DASH_FUNNEL_STEPS; i++) {
        kinds[i] = funnel_steps[i].kind;
        d->funnel_day[i] = d->funnel_month[i] =
            (dashboard_funnel_step){.kind = funnel_steps[i].kind, .label = funnel_steps[i].label};
    }
    /* by day and kind: at most 30 × 4 rows */
    enum { ROWS = DASH_DAYS * DASH_FUNNEL_STEPS + 8 };
    events_count *rows = calloc(ROWS, sizeof *rows);
    if (!rows) abort();
    int n = events_analytics_counts(d->since, kinds, DASH_FUNNEL_STEPS, false, rows, ROWS);
    d->analytics_ok = n >= 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < DASH_FUNNEL_STEPS; k++) {
            if (strcmp(rows[i].kind, funnel_steps[k].kind)) continue;
            d->funnel_month[k].count += rows[i].count;
            if (!strcmp(rows[i].day, d->today)) d->funnel_day[k].count += rows[i].count;
        }
    free(rows);
}

static int by_asks(const void *a, const void *b)
{
    const dashboard_demand *x = a, *y = b;
    if (x->asks != y->asks) return x->asks < y->asks ? 1 : -1;
    return strcmp(x->size_key, y->size_key);
}

/* Sizes shoppers filtered listings by (MongoDB), crossed with the sizes
 * active shoes have sold out of (MariaDB). */
static shop_status demand_load(db_conn *c, dashboard *d, shop_error *e)
{
    if (!d->analytics_ok) return SHOP_OK;
    events_count *rows = calloc(COUNT_ROWS_MAX, sizeof *rows);
    dashboard_demand *asked = calloc(SIZE_ITEMS_MAX, sizeof *asked);
    if (!rows || !asked) abort();
    static const char *const kind[] = {"size_filter"};
    int n = events_analytics_counts(d->since, kind, 1, true, rows, COUNT_ROWS_MAX);
    if (n < 0) d->analytics_ok = false;
    int nasked = 0;
    for (int i = 0; i < n; i++) {
        if (!rows[i].item[0] || strlen(rows[i].item) >= sizeof asked[0].size_key) continue;
        int k = 0;
        while (k < nasked && strcmp(asked[k].size_key, rows[i].item)) k++;
        if (k == nasked) {
            if (nasked == SIZE_ITEMS_MAX) continue;
            text_copy(asked[nasked++].size_key, sizeof asked[0].size_key, rows[i].item);
        }
        asked[k].asks += rows[i].count;
    }
    free(rows);
    qsort(asked, (size_t)nasked, sizeof *asked, by_asks);
    int m = nasked < DEMAND_CANDIDATES ? nasked : DEMAND_CANDIDATES;
    shop_status st = SHOP_OK;
    if (m > 0) {
        const char *keys[DEMAND_CANDIDATES];
        for (int i = 0; i < m; i++) keys[i] = asked[i].size_key;
        dash_size_row *sizes = calloc(DEMAND_CANDIDATES, sizeof *sizes);
        if (!sizes) abort();
        int ns = dashboard_repo_size_stock(c, keys, m, sizes, DEMAND_CANDIDATES);
        if (ns < 0) {
            st = shop_fail(e, SHOP_UNAVAILABLE, NULL, "The dashboard is unavailable for a moment.");
        } else {
            /* in the order of asks: the sizes with a sold-out shoe */
            for (int i = 0; i < m && d->ndemand < DASH_DEMAND; i++)
                for (int k = 0; k < ns; k++) {
                    if (strcmp(sizes[k].size_key, asked[i].size_key) || sizes[k].sold_out_products == 0) continue;
                    dashboard_demand *out = &d->demand[d->ndemand++];
                    *out = asked[i];
                    text_copy(out->label, sizeof out->label, sizes[k].label);
                    out->sold_out_products = sizes[k].sold_out_products;
                    out->in_stock_products = sizes[k].in_stock_products;
                    out->nexamples = sizes[k].nexamples;
                    memcpy(out->examples, sizes[k].examples, sizeof out->examples);
                }
        }
        free(sizes);
    }
    free(asked);
    return st;
}

shop_status dashboard_load(const dashboard_query *q, dashboard *d, shop_error *e)
{
    memset(d, 0, sizeof *d);
    text_copy(d->currency, sizeof d->currency, money_currency_valid(cfg.currency) ? cfg.currency : "GBP");
    int64_t now = (int64_t)time(NULL);
    int64_t midnight = now - now % DAY_SECONDS;
    int64_t since = midnight - (DASH_DAYS - 1) * DAY_SECONDS;
    day_text(midnight, d->today);
    day_text(since, d->since);
    d->top_today = q && q->top_today;

    db_conn *c = db_conn_get();
    if (!c) return shop_fail(e, SHOP_UNAVAILABLE, NULL, "The dashboard is unavailable for a moment.");
    dash_day_row rows[DASH_DAYS + 1];
    int n = dashboard_repo_days(c, since, d->currency, rows, DASH_DAYS + 1);
    if (n < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, "The dashboard is unavailable for a moment.");
    /* every day of the chart, zeros where nothing was sold */
    for (int i = 0, k = 0; i < DASH_DAYS; i++) {
        dash_day_row *day = &d->days[i];
        day_text(since + (int64_t)i * DAY_SECONDS, day->day);
        while (k < n && strcmp(rows[k].day, day->day) < 0) k++;
        if (k < n && !strcmp(rows[k].day, day->day)) {
            *day = rows[k];
            totals_add(&d->month, day);
            if (!strcmp(day->day, d->today)) totals_add(&d->day, day);
        }
    }
    d->day.average = div_round(d->day.revenue, d->day.orders);
    d->month.average = div_round(d->month.revenue, d->month.orders);

    int64_t top_since = d->top_today ? midnight : since;
    if ((d->ntop_products = dashboard_repo_top_products(c, top_since, d->currency, d->top_products, DASH_TOP)) < 0 ||
        (d->ntop_sizes = dashboard_repo_top_sizes(c, top_since, d->currency, d->top_sizes, DASH_TOP_SIZES)) < 0 ||
        dashboard_repo_stock_counts(c, DASH_LOW_STOCK, &d->sold_out_total, &d->low_total) < 0 ||
        (d->nstock = dashboard_repo_stock_list(c, since, DASH_LOW_STOCK, DASH_STOCK_LISTED, d->stock)) < 0)
        return shop_fail(e, SHOP_UNAVAILABLE, NULL, "The dashboard is unavailable for a moment.");

    /* MongoDB last: when it is away the page still has everything above */
    funnel_load(d);
    return demand_load(c, d, e);
}
