/* dashboard_repo.c — see dashboard_repo.h. */
#include "db/dashboard_repo.h"

#include "core/buf.h"
#include "core/text.h"

#include <string.h>

int dashboard_repo_days(db_conn *c, int64_t since_unix, const char *currency, dash_day_row *out, int max)
{
    /* one pass over orders_created (created_at, status, currency, total):
     * the refund sum is an index lookup per counted order (payments_order) */
    db_stmt *st = db_prepare(
        c, "SELECT DATE_FORMAT(o.created_at, '%Y-%m-%d') AS d, "
           "CAST(SUM(o.status IN (" DASH_COUNTED ")) AS SIGNED), "
           "CAST(COALESCE(SUM(IF(o.status IN (" DASH_COUNTED "), o.total - (SELECT COALESCE(SUM(p.refunded_amount), 0) "
           "FROM payments p WHERE p.order_id = o.id), 0)), 0) AS SIGNED), "
           "CAST(SUM(o.status IN ('cancelled','refunded')) AS SIGNED), "
           "CAST(SUM(o.status = 'pending_payment') AS SIGNED) "
           "FROM orders o WHERE o.created_at >= FROM_UNIXTIME(?) AND o.currency = ? GROUP BY d ORDER BY d");
    if (!st) return -1;
    db_bind_int64(st, 0, since_unix);
    db_bind_text(st, 1, currency, -1);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) {
        dash_day_row *r = &out[n++];
        memset(r, 0, sizeof *r);
        text_copy(r->day, sizeof r->day, db_col_text(st, 0, NULL));
        r->orders = db_col_int64(st, 1);
        r->revenue = db_col_int64(st, 2);
        r->lost = db_col_int64(st, 3);
        r->waiting = db_col_int64(st, 4);
    }
    db_reset(st);
    return n;
}

static int read_top(db_stmt *st, int64_t since_unix, const char *currency, dash_top_row *out, int max, bool sizes)
{
    if (!st) return -1;
    db_bind_int64(st, 0, since_unix);
    db_bind_text(st, 1, currency, -1);
    db_bind_int64(st, 2, max);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) {
        dash_top_row *r = &out[n++];
        memset(r, 0, sizeof *r);
        if (sizes) {
            text_copy(r->size, sizeof r->size, db_col_text(st, 0, NULL));
        } else {
            r->product_id = db_col_int64(st, 0);
            text_copy(r->name, sizeof r->name, db_col_text(st, 1, NULL));
            text_copy(r->slug, sizeof r->slug, db_col_text(st, 2, NULL));
            text_copy(r->brand, sizeof r->brand, db_col_text(st, 3, NULL));
        }
        r->units = db_col_int64(st, sizes ? 1 : 4);
        r->revenue = db_col_int64(st, sizes ? 2 : 5);
    }
    db_reset(st);
    return n;
}

int dashboard_repo_top_products(db_conn *c, int64_t since_unix, const char *currency, dash_top_row *out, int max)
{
    /* the orders of the range (orders_created), their lines by order id;
     * names as sold (a product renamed since still adds up under its id) */
    db_stmt *st = db_prepare(
        c, "SELECT COALESCE(ol.product_id, 0) AS pid, MAX(ol.product_name), MAX(ol.product_slug), MAX(ol.brand_name), "
           "CAST(SUM(ol.quantity) AS SIGNED) AS units, CAST(SUM(ol.line_total) AS SIGNED) AS rev "
           "FROM orders o JOIN order_lines ol ON ol.order_id = o.id "
           "WHERE o.created_at >= FROM_UNIXTIME(?) AND o.currency = ? AND o.status IN (" DASH_COUNTED ") "
           "GROUP BY pid ORDER BY units DESC, rev DESC, pid LIMIT ?");
    return read_top(st, since_unix, currency, out, max, false);
}

int dashboard_repo_top_sizes(db_conn *c, int64_t since_unix, const char *currency, dash_top_row *out, int max)
{
    db_stmt *st = db_prepare(
        c, "SELECT ol.size_label, CAST(SUM(ol.quantity) AS SIGNED) AS units, CAST(SUM(ol.line_total) AS SIGNED) AS rev "
           "FROM orders o JOIN order_lines ol ON ol.order_id = o.id "
           "WHERE o.created_at >= FROM_UNIXTIME(?) AND o.currency = ? AND o.status IN (" DASH_COUNTED ") "
           "GROUP BY ol.size_label ORDER BY units DESC, rev DESC, ol.size_label LIMIT ?");
    return read_top(st, since_unix, currency, out, max, true);
}

int dashboard_repo_stock_counts(db_conn *c, int low_max, int64_t *sold_out, int64_t *low)
{
    /* a range of idx_variants_stock, then the product's active flag */
    db_stmt *st = db_prepare(c, "SELECT CAST(COALESCE(SUM(v.stock = 0), 0) AS SIGNED), "
                                "CAST(COALESCE(SUM(v.stock > 0), 0) AS SIGNED) FROM variants v "
                                "JOIN products p ON p.id = v.product_id AND p.active = 1 WHERE v.stock <= ?");
    if (!st) return -1;
    db_bind_int64(st, 0, low_max);
    int r = db_exec(st) < 0 ? -1 : db_fetch(st);
    if (r == 1) {
        *sold_out = db_col_int64(st, 0);
        *low = db_col_int64(st, 1);
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}

#define VARIANT_COLS                                                                                                   \
    "SELECT v.id, v.product_id, v.sku, p.name, p.slug, v.size_label, co.name, v.width, v.stock, "                      \
    "COALESCE(s.units, 0) AS sold, v.size_value FROM variants v "                                                      \
    "JOIN products p ON p.id = v.product_id AND p.active = 1 JOIN colours co ON co.id = v.colour_id "                  \
    "LEFT JOIN sold s ON s.product_id = v.product_id "

int dashboard_repo_stock_list(db_conn *c, int64_t since_unix, int low_max, int max_each, dash_variant_row *out)
{
    /* Ranked by the pairs each product sold since since_unix, counted from
     * the orders themselves: products.sold_count is refreshed by an hourly
     * job, and the shoe selling now is the one whose empty shelf matters. */
    db_stmt *st = db_prepare(c, "WITH sold AS (SELECT ol.product_id, SUM(ol.quantity) AS units FROM orders o "
                                "JOIN order_lines ol ON ol.order_id = o.id WHERE o.created_at >= FROM_UNIXTIME(?) "
                                "AND o.status IN (" DASH_COUNTED ") GROUP BY ol.product_id) "
                                "(" VARIANT_COLS "WHERE v.stock = 0 ORDER BY sold DESC, p.sold_count DESC, p.name, "
                                "v.size_value LIMIT ?) UNION ALL (" VARIANT_COLS "WHERE v.stock BETWEEN 1 AND ? "
                                "ORDER BY sold DESC, v.stock, p.sold_count DESC, p.name, v.size_value LIMIT ?)");
    if (!st) return -1;
    db_bind_int64(st, 0, since_unix);
    db_bind_int64(st, 1, max_each);
    db_bind_int64(st, 2, low_max);
    db_bind_int64(st, 3, max_each);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < 2 * max_each && db_fetch(st) == 1) {
        dash_variant_row *r = &out[n++];
        memset(r, 0, sizeof *r);
        r->variant_id = db_col_int64(st, 0);
        r->product_id = db_col_int64(st, 1);
        text_copy(r->sku, sizeof r->sku, db_col_text(st, 2, NULL));
        text_copy(r->product, sizeof r->product, db_col_text(st, 3, NULL));
        text_copy(r->slug, sizeof r->slug, db_col_text(st, 4, NULL));
        text_copy(r->size, sizeof r->size, db_col_text(st, 5, NULL));
        text_copy(r->colour, sizeof r->colour, db_col_text(st, 6, NULL));
        text_copy(r->width, sizeof r->width, db_col_text(st, 7, NULL));
        r->stock = db_col_int64(st, 8);
    }
    db_reset(st);
    return n;
}

int dashboard_repo_size_stock(db_conn *c, const char *const *size_keys, int n, dash_size_row *out, int max)
{
    if (n <= 0) return 0;
    /* per product and size: its best stock over colours and widths (0: a
     * shopper filtering by the size no longer finds the shoe); then per
     * size. A range of idx_variants_size_stock per key. */
    buf sql = BUF_INIT;
    buf_puts(&sql, "SELECT t.size_key, MIN(t.label), CAST(SUM(t.best = 0) AS SIGNED), CAST(SUM(t.best > 0) AS SIGNED), "
                   "GROUP_CONCAT(IF(t.best = 0, t.name, NULL) ORDER BY t.sold DESC, t.name SEPARATOR '\n') "
                   "FROM (SELECT v.size_key, MIN(v.size_label) AS label, v.product_id, MAX(v.stock) AS best, "
                   "MAX(p.name) AS name, MAX(p.sold_count) AS sold FROM variants v "
                   "JOIN products p ON p.id = v.product_id AND p.active = 1 WHERE v.size_key IN (?");
    for (int i = 1; i < n; i++) buf_puts(&sql, ", ?");
    buf_puts(&sql, ") GROUP BY v.size_key, v.product_id) t GROUP BY t.size_key");
    db_stmt *st = db_prepare(c, buf_cstr(&sql));
    buf_free(&sql);
    if (!st) return -1;
    for (int i = 0; i < n; i++) db_bind_text(st, i, size_keys[i], -1);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int k = 0;
    while (k < max && db_fetch(st) == 1) {
        dash_size_row *r = &out[k++];
        memset(r, 0, sizeof *r);
        text_copy(r->size_key, sizeof r->size_key, db_col_text(st, 0, NULL));
        text_copy(r->label, sizeof r->label, db_col_text(st, 1, NULL));
        r->sold_out_products = db_col_int64(st, 2);
        r->in_stock_products = db_col_int64(st, 3);
        /* names joined by newlines (product names are one line); the
         * first three */
        const char *names = db_col_text(st, 4, NULL);
        while (names && *names && r->nexamples < 3) {
            size_t len = strcspn(names, "\n");
            char *dst = r->examples[r->nexamples++];
            size_t cut = len < sizeof r->examples[0] - 1 ? len : sizeof r->examples[0] - 1;
            memcpy(dst, names, cut);
            dst[cut] = '\0';
            names += len;
            if (*names) names++;
        }
    }
    db_reset(st);
    return k;
}
