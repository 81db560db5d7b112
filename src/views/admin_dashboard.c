/* admin_dashboard.c — the admin portal's front page: the dashboard.
 *
 *   GET <ADMIN_PATH>/            today and the last 30 days (UTC)
 *   GET <ADMIN_PATH>/?top=today  the top products and sizes of today
 *
 * The figures come from shop/dashboard.h (what each one means is said
 * there). The charts are SVG drawn on the server: this file only works out
 * the geometry (bars, grid lines, labels) and templates/admin/dashboard
 * draws it, so every text in a chart is escaped like any other, and the
 * page needs no script. Each chart has a title and a description, and its
 * numbers are in a table as well. */
#include "views/views.h"

#include "core/buf.h"
#include "core/text.h"
#include "shop/dashboard.h"
#include "shop/money.h"
#include "views/admin_ui.h"
#include "views/forms.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The revenue chart's drawing area, in SVG user units (the page scales it
 * to its width). */
#define CHART_W 480
#define CHART_H 200
#define CHART_LEFT 64 /* y labels */
#define CHART_RIGHT 6
#define CHART_TOP 10
#define CHART_BOTTOM 24 /* x labels */
#define CHART_GRID 4    /* horizontal grid lines above zero */

/* the funnel: one bar per step */
#define FUNNEL_W 480
#define FUNNEL_ROW 40
#define FUNNEL_LABEL 140

/* coordinates to a tenth of a unit: short attributes */
static double r1(double v) { return (double)llround(v * 10.0) / 10.0; }

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* "2026-11-03" → "3 Nov" */
static const char *short_day(http_request *req, const char *day)
{
    int y, m, d;
    if (sscanf(day, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12) return day;
    return arena_printf(req->pool, "%d %s", d, months[m - 1]);
}

static json_t *money_of(const dashboard *d, int64_t minor) { return catalog_money_in(minor, d->currency); }

/* An axis label: "£1,250" (whole amounts without pence). */
static const char *axis_money(http_request *req, const dashboard *d, int64_t minor)
{
    char out[MONEY_FORMAT_MAX];
    size_t n = money_format(money_make(minor, d->currency), out, sizeof out);
    if (n > 3 && !strcmp(out + n - 3, ".00")) out[n - 3] = '\0';
    return arena_strdup(req->pool, out);
}

/* The smallest 1, 2, 2.5 or 5 × 10^k (minor units, at least 1.00) whose
 * CHART_GRID steps reach max. */
static int64_t grid_step(int64_t max)
{
    int64_t want = (max + CHART_GRID - 1) / CHART_GRID;
    if (want < 100) return 100;
    for (int64_t p = 100;; p *= 10) {
        static const int64_t mult[] = {10, 20, 25, 50};
        for (int i = 0; i < 4; i++)
            if (p * mult[i] / 10 >= want) return p * mult[i] / 10;
        if (p > INT64_MAX / 100) return want;
    }
}

static json_t *revenue_chart(http_request *req, const dashboard *d)
{
    int64_t max = 0, best_day = -1;
    for (int i = 0; i < DASH_DAYS; i++)
        if (d->days[i].revenue > max) {
            max = d->days[i].revenue;
            best_day = i;
        }
    int64_t step = grid_step(max), top = step * CHART_GRID;
    const int plot_w = CHART_W - CHART_LEFT - CHART_RIGHT, plot_h = CHART_H - CHART_TOP - CHART_BOTTOM;
    const double slot = (double)plot_w / DASH_DAYS;
    json_t *bars = json_array(), *grid = json_array(), *xlabels = json_array();
    for (int i = 0; i < DASH_DAYS; i++) {
        const dash_day_row *day = &d->days[i];
        int64_t rev = day->revenue > 0 ? day->revenue : 0;
        double h = (double)rev * plot_h / (double)top;
        if (rev > 0 && h < 1) h = 1; /* a sale is never an invisible bar */
        char amount[MONEY_FORMAT_MAX];
        money_format(money_make(day->revenue, d->currency), amount, sizeof amount);
        const char *title = arena_printf(req->pool, "%s: %s, %lld order%s", short_day(req, day->day), amount,
                                         (long long)day->orders, day->orders == 1 ? "" : "s");
        json_array_append_new(bars, json_pack("{s:f,s:f,s:f,s:f,s:s,s:b}", "x", r1(CHART_LEFT + i * slot + slot * 0.15),
                                              "y", r1(CHART_TOP + plot_h - h), "w", r1(slot * 0.7), "h", r1(h), "title", title,
                                              "today", i == DASH_DAYS - 1));
        /* a label every 7 days, ending today (right-aligned: the last
         * one would run off the edge centred) */
        if ((DASH_DAYS - 1 - i) % 7 == 0) {
            bool last = i == DASH_DAYS - 1;
            json_array_append_new(xlabels, json_pack("{s:f,s:i,s:s,s:s}", "x",
                                                     last ? CHART_W - CHART_RIGHT : r1(CHART_LEFT + i * slot + slot / 2),
                                                     "y", CHART_H - 6, "label", short_day(req, day->day), "anchor",
                                                     last ? "end" : "middle"));
        }
    }
    for (int g = 0; g <= CHART_GRID; g++) {
        double y = CHART_TOP + plot_h - (double)g * plot_h / CHART_GRID;
        json_array_append_new(grid, json_pack("{s:f,s:f,s:s}", "y", r1(y), "ty", r1(y + 4), "label",
                                              axis_money(req, d, step * g)));
    }
    char total[MONEY_FORMAT_MAX], best[MONEY_FORMAT_MAX];
    money_format(money_make(d->month.revenue, d->currency), total, sizeof total);
    const char *desc;
    if (best_day >= 0) {
        money_format(money_make(max, d->currency), best, sizeof best);
        desc = arena_printf(req->pool, "%s over the 30 days from %s to %s; the best day was %s with %s.", total,
                            short_day(req, d->since), short_day(req, d->today), short_day(req, d->days[best_day].day),
                            best);
    } else {
        desc = arena_printf(req->pool, "No sales in the 30 days from %s to %s.", short_day(req, d->since),
                            short_day(req, d->today));
    }
    return json_pack("{s:i,s:i,s:i,s:i,s:i,s:o,s:o,s:o,s:s}", "w", CHART_W, "h", CHART_H, "left", CHART_LEFT, "lx",
                     CHART_LEFT - 6, "right", CHART_W - CHART_RIGHT, "bars", bars, "grid", grid, "xlabels", xlabels,
                     "desc", desc);
}

/* The funnel as horizontal bars, each as long as its count against the
 * first step's; the conversion from the step before beside it. */
static json_t *funnel_chart(http_request *req, const dashboard_funnel_step *steps, const char *id, const char *title)
{
    long long max = 0;
    for (int i = 0; i < DASH_FUNNEL_STEPS; i++)
        if (steps[i].count > max) max = steps[i].count;
    const int bar_max = FUNNEL_W - FUNNEL_LABEL - 110; /* room for the count after the bar */
    json_t *rows = json_array();
    buf desc = BUF_INIT;
    for (int i = 0; i < DASH_FUNNEL_STEPS; i++) {
        double w = max > 0 ? (double)steps[i].count * bar_max / (double)max : 0;
        if (steps[i].count > 0 && w < 2) w = 2;
        int y = i * FUNNEL_ROW;
        const char *rate = "";
        if (i > 0) {
            int pm = dashboard_rate_permille(steps[i].count, steps[i - 1].count);
            rate = steps[i - 1].count > 0 ? arena_printf(req->pool, "%d.%d %%", pm / 10, pm % 10) : "–";
        }
        char num[TEXT_INT64_DIGITS];
        text_format_int64(steps[i].count, num);
        json_array_append_new(rows, json_pack("{s:s,s:s,s:I,s:s,s:i,s:i,s:i,s:f,s:f,s:i,s:b}", "label", steps[i].label,
                                              "kind", steps[i].kind, "count", (json_int_t)steps[i].count, "rate",
                                              rate, "ty", y + 24, "by", y + 8, "bx", FUNNEL_LABEL, "bw", r1(w), "cx",
                                              r1(FUNNEL_LABEL + w + 6), "bh", 24, "first", i == 0));
        buf_printf(&desc, "%s%s: %s", i ? "; " : "", steps[i].label, num);
    }
    json_t *out = json_pack("{s:s,s:s,s:i,s:i,s:o,s:s}", "id", id, "title", title, "w", FUNNEL_W, "h",
                            DASH_FUNNEL_STEPS * FUNNEL_ROW, "steps", rows, "desc", buf_cstr(&desc));
    buf_free(&desc);
    return out;
}

static json_t *totals_json(const dashboard *d, const dashboard_totals *t)
{
    return json_pack("{s:I,s:o,s:o,s:I,s:I}", "orders", (json_int_t)t->orders, "revenue", money_of(d, t->revenue),
                     "average", money_of(d, t->average), "lost", (json_int_t)t->lost, "waiting",
                     (json_int_t)t->waiting);
}

/* The portal's screens the dashboard links to (views/admin_products.c):
 * a product, its sizes and stock, one size's stock adjustment. */
static const char *product_url(http_request *req, int64_t id, const char *rest)
{
    return admin_url(req, arena_printf(req->pool, "/products/%lld%s", (long long)id, rest));
}

static json_t *top_json(http_request *req, const dashboard *d, const dash_top_row *rows, int n, bool sizes)
{
    json_t *out = json_array();
    int64_t max = n > 0 && rows[0].units > 0 ? rows[0].units : 1;
    for (int i = 0; i < n; i++) {
        json_t *o = json_pack("{s:i,s:I,s:o,s:i}", "rank", i + 1, "units", (json_int_t)rows[i].units, "revenue",
                              money_of(d, rows[i].revenue), "share", (int)(rows[i].units * 100 / max));
        if (sizes) {
            json_object_set_new(o, "name", json_string(rows[i].size));
        } else {
            json_object_set_new(o, "name", json_string(rows[i].name));
            json_object_set_new(o, "brand", json_string(rows[i].brand));
            if (rows[i].product_id && rows[i].slug[0]) {
                json_object_set_new(o, "slug", json_string(rows[i].slug));
                json_object_set_new(o, "url", json_string(product_url(req, rows[i].product_id, "")));
            }
        }
        json_array_append_new(out, o);
    }
    return out;
}

static json_t *stock_json(http_request *req, const dashboard *d, bool sold_out)
{
    json_t *out = json_array();
    for (int i = 0; i < d->nstock; i++) {
        const dash_variant_row *v = &d->stock[i];
        if ((v->stock == 0) != sold_out) continue;
        json_array_append_new(
            out, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "sku", v->sku, "product", v->product, "slug", v->slug,
                           "size", v->size, "colour", v->colour, "width", strcmp(v->width, "Standard") ? v->width : "",
                           "stock", (json_int_t)v->stock, "sizes_url", product_url(req, v->product_id, "/variants"),
                           "adjust_url",
                           admin_url(req, arena_printf(req->pool, "/variants/%lld/stock", (long long)v->variant_id))));
    }
    return out;
}

static json_t *demand_json(const dashboard *d)
{
    json_t *out = json_array();
    for (int i = 0; i < d->ndemand; i++) {
        const dashboard_demand *x = &d->demand[i];
        json_t *ex = json_array();
        for (int k = 0; k < x->nexamples; k++) json_array_append_new(ex, json_string(x->examples[k]));
        json_array_append_new(out, json_pack("{s:s,s:s,s:I,s:I,s:I,s:o,s:b}", "size", x->label, "key", x->size_key,
                                             "asks", (json_int_t)x->asks, "sold_out",
                                             (json_int_t)x->sold_out_products, "in_stock",
                                             (json_int_t)x->in_stock_products, "examples", ex, "more",
                                             x->sold_out_products > x->nexamples));
    }
    return out;
}

static json_t *days_json(http_request *req, const dashboard *d)
{
    json_t *out = json_array();
    for (int i = DASH_DAYS - 1; i >= 0; i--) {
        const dash_day_row *r = &d->days[i];
        json_array_append_new(out, json_pack("{s:s,s:s,s:I,s:o,s:o,s:I}", "day", r->day, "label",
                                             short_day(req, r->day), "orders", (json_int_t)r->orders, "revenue",
                                             money_of(d, r->revenue), "average",
                                             money_of(d, r->orders ? (r->revenue + r->orders / 2) / r->orders : 0),
                                             "lost", (json_int_t)r->lost));
    }
    return out;
}

void admin_dashboard(http_request *req, http_response *res)
{
    const char *top = req_query(req, "top");
    dashboard_query q = {.top_today = top && !strcmp(top, "today")};
    dashboard *d = malloc(sizeof *d);
    if (!d) abort();
    shop_error e;
    if (dashboard_load(&q, d, &e) != SHOP_OK) {
        free(d);
        view_shop_error(req, res, &e);
        return;
    }
    json_t *ctx = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:b}", "page_title", "Dashboard", "today", d->today,
                            "today_label", short_day(req, d->today), "since", d->since, "since_label",
                            short_day(req, d->since), "day", totals_json(d, &d->day), "month",
                            totals_json(d, &d->month), "chart", revenue_chart(req, d), "days", days_json(req, d),
                            "top_today", d->top_today);
    json_object_set_new(ctx, "top_today_url", json_string(admin_url(req, "/?top=today")));
    json_object_set_new(ctx, "top_month_url", json_string(admin_url(req, "/")));
    json_object_set_new(ctx, "top_products", top_json(req, d, d->top_products, d->ntop_products, false));
    json_object_set_new(ctx, "top_sizes", top_json(req, d, d->top_sizes, d->ntop_sizes, true));
    json_object_set_new(ctx, "sold_out_total", json_integer(d->sold_out_total));
    json_object_set_new(ctx, "low_total", json_integer(d->low_total));
    json_object_set_new(ctx, "low_max", json_integer(DASH_LOW_STOCK));
    json_object_set_new(ctx, "sold_out", stock_json(req, d, true));
    json_object_set_new(ctx, "low", stock_json(req, d, false));
    json_object_set_new(ctx, "analytics_ok", json_boolean(d->analytics_ok));
    if (d->analytics_ok) {
        json_object_set_new(ctx, "funnels",
                            json_pack("[o,o]", funnel_chart(req, d->funnel_day, "funnel-today", "Today"),
                                      funnel_chart(req, d->funnel_month, "funnel-30", "Last 30 days")));
        json_object_set_new(ctx, "demand", demand_json(d));
    }
    /* a table only when it has rows */
    static const char *const lists[] = {"top_products", "top_sizes", "low", "sold_out", "demand"};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        json_object_set_new(ctx, arena_printf(req->pool, "any_%s", lists[i]),
                            json_boolean(json_array_size(json_object_get(ctx, lists[i])) > 0));
    free(d);
    admin_page(req, res, 200, "admin/dashboard", "home", ctx);
}
