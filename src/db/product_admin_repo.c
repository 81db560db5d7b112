/* product_admin_repo.c — see product_admin_repo.h. */
#include "db/product_admin_repo.h"

#include "core/buf.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *col_dup(arena *a, db_stmt *st, int col)
{
    size_t n;
    const char *s = db_col_text(st, col, &n);
    return arena_strndup(a, s, n);
}

/* Execute and fetch one row: 1 (the row is ready; db_reset after reading),
 * 0 none, -1 error. */
static int exec_one(db_stmt *st)
{
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int r = db_fetch(st);
    if (r != 1) db_reset(st);
    return r;
}

static int exec_done(db_stmt *st)
{
    int rc = db_exec(st);
    db_reset(st);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The list                                                             */

/* The names shown beside each row come from scalar subqueries, so a locking
 * read elsewhere never has to lock brands or categories (as in
 * order_repo.c). The variant figures are one grouped derived table. */
#define LIST_FROM                                                                                                  \
    " FROM products p LEFT JOIN (SELECT product_id, SUM(stock) AS total, COUNT(*) AS n, SUM(stock > 0) AS cells_in," \
    " SUM(stock BETWEEN 1 AND 3) AS cells_low FROM variants GROUP BY product_id) v ON v.product_id = p.id"

/* Bound in this order by bind_where: the category (twice: the CTE's anchor
 * and "is it set"), q (four times), brand (twice), active (twice). */
#define LIST_CTE                                                                                                   \
    "WITH RECURSIVE sub (id) AS (SELECT id FROM categories WHERE id = ?"                                         \
    " UNION ALL SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id) "
#define LIST_WHERE                                                                                                 \
    " WHERE (? IS NULL OR p.category_id IN (SELECT id FROM sub))"                                                \
    " AND (? IS NULL OR p.name LIKE ? OR p.slug LIKE ? OR EXISTS (SELECT 1 FROM variants x"                       \
    "   WHERE x.product_id = p.id AND x.sku LIKE ?))"                                                             \
    " AND (? IS NULL OR p.brand_id = ?) AND (? IS NULL OR p.active = ?)"

static const char *const stock_conditions[PA_STOCK_STATES] = {
    [PA_STOCK_ANY] = "",
    [PA_STOCK_IN] = " AND v.total > 0",
    [PA_STOCK_LOW] = " AND v.cells_low > 0",
    [PA_STOCK_PARTLY] = " AND v.cells_in > 0 AND v.cells_in < v.n",
    [PA_STOCK_OUT] = " AND v.n > 0 AND v.total = 0",
    [PA_STOCK_NO_SIZES] = " AND v.n IS NULL",
};
static const char *const sort_columns[PA_SORTS] = {
    [PA_SORT_NAME] = "p.name",
    [PA_SORT_PRICE] = "p.price",
    [PA_SORT_STOCK] = "COALESCE(v.total, 0)",
    [PA_SORT_UPDATED] = "p.updated_at",
};

/* LIKE '%q%' with q's own wildcards taken literally. */
static const char *like_pattern(arena *a, const char *q)
{
    char *esc = db_like_escape(q);
    const char *out = arena_printf(a, "%%%s%%", esc);
    free(esc);
    return out;
}

static void bind_opt_int(db_stmt *st, int idx, bool set, int64_t v)
{
    if (set) db_bind_int64(st, idx, v);
    else db_bind_null(st, idx);
}

static int bind_where(db_stmt *st, arena *a, const pa_list_query *q)
{
    int i = 0;
    bind_opt_int(st, i++, q->category_id > 0, q->category_id);
    bind_opt_int(st, i++, q->category_id > 0, q->category_id);
    const char *like = q->q && *q->q ? like_pattern(a, q->q) : NULL;
    for (int k = 0; k < 4; k++) {
        if (like) db_bind_text(st, i++, like, -1);
        else db_bind_null(st, i++);
    }
    bind_opt_int(st, i++, q->brand_id > 0, q->brand_id);
    bind_opt_int(st, i++, q->brand_id > 0, q->brand_id);
    bind_opt_int(st, i++, q->active >= 0, q->active > 0);
    bind_opt_int(st, i++, q->active >= 0, q->active > 0);
    return i;
}

int pa_product_list(db_conn *c, arena *a, const pa_list_query *q, pa_product **out, int *n, int64_t *total)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    if (q->stock < 0 || q->stock >= PA_STOCK_STATES || q->sort < 0 || q->sort >= PA_SORTS) return -1;
    buf sql = BUF_INIT;
    buf_puts(&sql, LIST_CTE "SELECT COUNT(*)" LIST_FROM LIST_WHERE);
    buf_puts(&sql, stock_conditions[q->stock]);
    db_stmt *st = db_prepare(c, buf_cstr(&sql));
    int r = -1;
    if (st) {
        bind_where(st, a, q);
        if ((r = exec_one(st)) == 1) {
            *total = db_col_int64(st, 0);
            db_reset(st);
        }
    }
    if (r < 0) {
        buf_free(&sql);
        return -1;
    }
    buf_reset(&sql);
    buf_puts(&sql, LIST_CTE "SELECT p.id, p.slug, p.name, p.price, COALESCE(p.compare_at_price, -1), p.currency,"
                   " p.active, p.featured, p.version, p.brand_id, p.category_id,"
                   " (SELECT b.name FROM brands b WHERE b.id = p.brand_id),"
                   " (SELECT cc.name FROM categories cc WHERE cc.id = p.category_id),"
                   " DATE_FORMAT(p.updated_at, '%Y-%m-%d %H:%i'), COALESCE(v.total, 0), COALESCE(v.n, 0),"
                   " COALESCE(v.cells_in, 0), COALESCE(v.cells_low, 0), p.gender, p.tax_class" LIST_FROM LIST_WHERE);
    buf_puts(&sql, stock_conditions[q->stock]);
    buf_puts(&sql, " ORDER BY ");
    buf_puts(&sql, sort_columns[q->sort]);
    buf_puts(&sql, q->desc ? " DESC, p.id DESC" : ", p.id");
    buf_puts(&sql, " LIMIT ? OFFSET ?");
    st = db_prepare(c, buf_cstr(&sql));
    buf_free(&sql);
    if (!st) return -1;
    int i = bind_where(st, a, q);
    db_bind_int64(st, i++, q->limit);
    db_bind_int64(st, i, q->offset);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int rows = (int)db_nrows(st);
    *out = rows ? arena_alloc(a, (size_t)rows * sizeof **out) : NULL;
    while (*n < rows && (r = db_fetch(st)) == 1) {
        pa_product *p = &(*out)[(*n)++];
        p->id = db_col_int64(st, 0);
        p->slug = col_dup(a, st, 1);
        p->name = col_dup(a, st, 2);
        p->price = db_col_int64(st, 3);
        p->compare_at = db_col_int64(st, 4);
        p->currency = col_dup(a, st, 5);
        p->active = db_col_int64(st, 6) != 0;
        p->featured = db_col_int64(st, 7) != 0;
        p->version = db_col_int64(st, 8);
        p->brand_id = db_col_int64(st, 9);
        p->category_id = db_col_int64(st, 10);
        p->brand_name = col_dup(a, st, 11);
        p->category_name = col_dup(a, st, 12);
        p->updated_at = col_dup(a, st, 13);
        p->stock_total = db_col_int64(st, 14);
        p->variants = db_col_int64(st, 15);
        p->cells_in_stock = db_col_int64(st, 16);
        p->cells_low = db_col_int64(st, 17);
        p->gender = col_dup(a, st, 18);
        p->tax_class = col_dup(a, st, 19);
        p->description = p->material = p->tags = "";
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* One product                                                          */

#define PRODUCT_COLS                                                                                               \
    "p.id, p.version, p.slug, p.name, p.description, p.brand_id, p.category_id, p.price,"                         \
    " COALESCE(p.compare_at_price, -1), p.currency, p.gender, p.material, p.tags, p.tax_class, p.active, p.featured," \
    " COALESCE((SELECT b.name FROM brands b WHERE b.id = p.brand_id), ''),"                                       \
    " COALESCE((SELECT cc.name FROM categories cc WHERE cc.id = p.category_id), ''),"                             \
    " DATE_FORMAT(p.updated_at, '%Y-%m-%d %H:%i'),"                                                              \
    " (SELECT COALESCE(SUM(stock), 0) FROM variants v WHERE v.product_id = p.id),"                                \
    " (SELECT COUNT(*) FROM variants v WHERE v.product_id = p.id)"

int pa_product_get(db_conn *c, arena *a, int64_t id, bool lock, pa_product *out)
{
    db_stmt *st = db_prepare(c, lock ? "SELECT " PRODUCT_COLS " FROM products p WHERE p.id = ? FOR UPDATE"
                                     : "SELECT " PRODUCT_COLS " FROM products p WHERE p.id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    int r = exec_one(st);
    if (r != 1) return r;
    memset(out, 0, sizeof *out);
    out->id = db_col_int64(st, 0);
    out->version = db_col_int64(st, 1);
    out->slug = col_dup(a, st, 2);
    out->name = col_dup(a, st, 3);
    out->description = col_dup(a, st, 4);
    out->brand_id = db_col_int64(st, 5);
    out->category_id = db_col_int64(st, 6);
    out->price = db_col_int64(st, 7);
    out->compare_at = db_col_int64(st, 8);
    out->currency = col_dup(a, st, 9);
    out->gender = col_dup(a, st, 10);
    out->material = col_dup(a, st, 11);
    out->tags = col_dup(a, st, 12);
    out->tax_class = col_dup(a, st, 13);
    out->active = db_col_int64(st, 14) != 0;
    out->featured = db_col_int64(st, 15) != 0;
    out->brand_name = col_dup(a, st, 16);
    out->category_name = col_dup(a, st, 17);
    out->updated_at = col_dup(a, st, 18);
    out->stock_total = db_col_int64(st, 19);
    out->variants = db_col_int64(st, 20);
    db_reset(st);
    return 1;
}

int pa_product_by_slug(db_conn *c, const char *slug, int64_t *id)
{
    db_stmt *st = db_prepare(c, "SELECT id FROM products WHERE slug = ?");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    int r = exec_one(st);
    if (r == 1) {
        *id = db_col_int64(st, 0);
        db_reset(st);
    }
    return r;
}

/* The form's fields in the order both statements bind them. */
static int bind_fields(db_stmt *st, const pa_product *p)
{
    int i = 0;
    db_bind_text(st, i++, p->slug, -1);
    db_bind_text(st, i++, p->name, -1);
    db_bind_text(st, i++, p->description, -1);
    db_bind_int64(st, i++, p->brand_id);
    db_bind_int64(st, i++, p->category_id);
    db_bind_int64(st, i++, p->price);
    if (p->compare_at < 0) db_bind_null(st, i++);
    else db_bind_int64(st, i++, p->compare_at);
    db_bind_text(st, i++, p->gender, -1);
    db_bind_text(st, i++, p->material, -1);
    db_bind_text(st, i++, p->tags, -1);
    db_bind_text(st, i++, p->tax_class, -1);
    db_bind_int64(st, i++, p->active ? 1 : 0);
    db_bind_int64(st, i++, p->featured ? 1 : 0);
    return i;
}

int pa_product_insert(db_conn *c, const pa_product *p, int64_t *id)
{
    db_stmt *st = db_prepare(c, "INSERT INTO products (slug, name, description, brand_id, category_id, price,"
                                " compare_at_price, gender, material, tags, tax_class, active, featured, currency,"
                                " version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)");
    if (!st) return -1;
    int i = bind_fields(st, p);
    db_bind_text(st, i, p->currency, -1);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    *id = (int64_t)db_insert_id(st);
    db_reset(st);
    return 0;
}

int pa_product_update(db_conn *c, const pa_product *p)
{
    db_stmt *st = db_prepare(c, "UPDATE products SET slug = ?, name = ?, description = ?, brand_id = ?, category_id = ?,"
                                " price = ?, compare_at_price = ?, gender = ?, material = ?, tags = ?, tax_class = ?,"
                                " active = ?, featured = ?, version = version + 1 WHERE id = ? AND version = ?");
    if (!st) return -1;
    int i = bind_fields(st, p);
    db_bind_int64(st, i++, p->id);
    db_bind_int64(st, i, p->version);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    /* affected rows counts rows found (the connection's CLIENT_FOUND_ROWS is
     * off: changed rows), so a save that changes nothing still moves the
     * version: version = version + 1 always changes the row */
    int r = db_affected_rows(st) == 1 ? 1 : 0;
    db_reset(st);
    return r;
}

int pa_product_set_price(db_conn *c, int64_t id, int64_t price, int64_t compare_at)
{
    db_stmt *st = db_prepare(c, "UPDATE products SET price = ?, compare_at_price = ?, version = version + 1 WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, price);
    if (compare_at < 0) db_bind_null(st, 1);
    else db_bind_int64(st, 1, compare_at);
    db_bind_int64(st, 2, id);
    return exec_done(st);
}

int pa_product_set_active(db_conn *c, int64_t id, bool active)
{
    db_stmt *st = db_prepare(c, "UPDATE products SET active = ?, version = version + 1 WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, active ? 1 : 0);
    db_bind_int64(st, 1, id);
    return exec_done(st);
}

int pa_ref_get(db_conn *c, arena *a, enum pa_ref kind, int64_t id, const char **name, const char **slug)
{
    static const char *const sql[] = {
        [PA_BRAND] = "SELECT name, slug FROM brands WHERE id = ?",
        [PA_CATEGORY] = "SELECT name, slug FROM categories WHERE id = ?",
        [PA_COLOUR] = "SELECT name, slug FROM colours WHERE id = ?",
    };
    if (kind < PA_BRAND || kind > PA_COLOUR) return -1;
    db_stmt *st = db_prepare(c, sql[kind]);
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    int r = exec_one(st);
    if (r == 1) {
        *name = col_dup(a, st, 0);
        *slug = col_dup(a, st, 1);
        db_reset(st);
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* Old slugs                                                            */

int pa_redirect_add(db_conn *c, const char *old_slug, int64_t product_id)
{
    db_stmt *st = db_prepare(c, "INSERT INTO product_slug_redirects (old_slug, product_id) VALUES (?, ?)"
                                " ON DUPLICATE KEY UPDATE product_id = VALUES(product_id), created_at = CURRENT_TIMESTAMP");
    if (!st) return -1;
    db_bind_text(st, 0, old_slug, -1);
    db_bind_int64(st, 1, product_id);
    return exec_done(st);
}

int pa_redirect_remove(db_conn *c, const char *slug)
{
    db_stmt *st = db_prepare(c, "DELETE FROM product_slug_redirects WHERE old_slug = ?");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    return exec_done(st);
}

/* ------------------------------------------------------------------ */
/* Variants                                                             */

#define VARIANT_COLS                                                                                               \
    "v.id, v.product_id, v.colour_id, v.stock, CAST(v.size_value * 10 AS SIGNED), v.sku, v.size_system,"         \
    " v.size_label, v.width, co.name, co.slug, co.hex"

static void read_variant(arena *a, db_stmt *st, pa_variant *v)
{
    memset(v, 0, sizeof *v);
    v->id = db_col_int64(st, 0);
    v->product_id = db_col_int64(st, 1);
    v->colour_id = db_col_int64(st, 2);
    v->stock = db_col_int64(st, 3);
    v->size_tenths = (int)db_col_int64(st, 4);
    v->sku = col_dup(a, st, 5);
    v->size_system = col_dup(a, st, 6);
    v->size_label = col_dup(a, st, 7);
    v->width = col_dup(a, st, 8);
    v->colour_name = col_dup(a, st, 9);
    v->colour_slug = col_dup(a, st, 10);
    v->colour_hex = col_dup(a, st, 11);
}

int pa_variants_of(db_conn *c, arena *a, int64_t product_id, pa_variant **out, int *n)
{
    *out = NULL;
    *n = 0;
    db_stmt *st = db_prepare(c, "SELECT " VARIANT_COLS " FROM variants v JOIN colours co ON co.id = v.colour_id"
                                " WHERE v.product_id = ? ORDER BY co.position, co.id, v.size_system + 0, v.size_value,"
                                " v.width + 0");
    if (!st) return -1;
    db_bind_int64(st, 0, product_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int rows = (int)db_nrows(st), r = 0;
    *out = rows ? arena_alloc(a, (size_t)rows * sizeof **out) : NULL;
    while (*n < rows && (r = db_fetch(st)) == 1) read_variant(a, st, &(*out)[(*n)++]);
    db_reset(st);
    return r < 0 ? -1 : 0;
}

int pa_variant_get(db_conn *c, arena *a, int64_t id, const char *sku, bool lock, pa_variant *out)
{
    /* the colour and the product by scalar subqueries: FOR UPDATE locks only the variant */
#define VARIANT_ONE                                                                                                \
    "SELECT v.id, v.product_id, v.colour_id, v.stock, CAST(v.size_value * 10 AS SIGNED), v.sku, v.size_system,"   \
    " v.size_label, v.width, (SELECT co.name FROM colours co WHERE co.id = v.colour_id),"                         \
    " (SELECT co.slug FROM colours co WHERE co.id = v.colour_id), (SELECT co.hex FROM colours co WHERE co.id = v.colour_id)," \
    " (SELECT p.slug FROM products p WHERE p.id = v.product_id), (SELECT p.name FROM products p WHERE p.id = v.product_id)" \
    " FROM variants v WHERE "
    static const char *const sql[2][2] = {
        {VARIANT_ONE "v.id = ?", VARIANT_ONE "v.id = ? FOR UPDATE"},
        {VARIANT_ONE "v.sku = ?", VARIANT_ONE "v.sku = ? FOR UPDATE"},
    };
#undef VARIANT_ONE
    db_stmt *st = db_prepare(c, sql[id > 0 ? 0 : 1][lock ? 1 : 0]);
    if (!st) return -1;
    if (id > 0) db_bind_int64(st, 0, id);
    else db_bind_text(st, 0, sku ? sku : "", -1);
    int r = exec_one(st);
    if (r != 1) return r;
    read_variant(a, st, out);
    out->product_slug = col_dup(a, st, 12);
    out->product_name = col_dup(a, st, 13);
    db_reset(st);
    return 1;
}

int pa_variants_lock(db_conn *c, const int64_t *ids, int n, int64_t *product_ids, int64_t *stock)
{
    /* one at a time in ascending id order (the caller sorts): a few dozen
     * cells of one product at most, and the same order the orders lock in */
    for (int i = 0; i < n; i++) {
        db_stmt *st = db_prepare(c, "SELECT product_id, stock FROM variants WHERE id = ? FOR UPDATE");
        if (!st) return -1;
        db_bind_int64(st, 0, ids[i]);
        int r = exec_one(st);
        if (r < 0) return -1;
        product_ids[i] = r == 1 ? db_col_int64(st, 0) : 0;
        stock[i] = r == 1 ? db_col_int64(st, 1) : -1;
        if (r == 1) db_reset(st);
    }
    return 0;
}

int pa_variant_set_stock(db_conn *c, int64_t id, int64_t stock)
{
    db_stmt *st = db_prepare(c, "UPDATE variants SET stock = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, stock);
    db_bind_int64(st, 1, id);
    return exec_done(st);
}

/* ------------------------------------------------------------------ */
/* Stock adjustments                                                    */

int pa_adjustment_add(db_conn *c, const pa_adjustment *adj)
{
    db_stmt *st = db_prepare(c, "INSERT INTO stock_adjustments (variant_id, reason, delta, stock_before, stock_after,"
                                " note, actor_id, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return -1;
    db_bind_int64(st, 0, adj->variant_id);
    db_bind_text(st, 1, adj->reason, -1);
    db_bind_int64(st, 2, adj->delta);
    db_bind_int64(st, 3, adj->stock_before);
    db_bind_int64(st, 4, adj->stock_after);
    db_bind_text(st, 5, adj->note ? adj->note : "", -1);
    if (adj->actor_id > 0) db_bind_int64(st, 6, adj->actor_id);
    else db_bind_null(st, 6);
    db_bind_text(st, 7, adj->actor, -1);
    return exec_done(st);
}

int pa_adjustments_of(db_conn *c, arena *a, int64_t variant_id, int offset, int max, pa_adjustment **out, int *n,
                      int64_t *total)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    db_stmt *st = db_prepare(c, "SELECT COUNT(*) FROM stock_adjustments WHERE variant_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, variant_id);
    int r = exec_one(st);
    if (r < 0) return -1;
    if (r == 1) {
        *total = db_col_int64(st, 0);
        db_reset(st);
    }
    st = db_prepare(c, "SELECT id, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s'), reason, delta, stock_before, stock_after, note,"
                       " COALESCE(actor_id, 0), actor FROM stock_adjustments WHERE variant_id = ?"
                       " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?");
    if (!st) return -1;
    db_bind_int64(st, 0, variant_id);
    db_bind_int64(st, 1, max);
    db_bind_int64(st, 2, offset);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int rows = (int)db_nrows(st);
    *out = rows ? arena_alloc(a, (size_t)rows * sizeof **out) : NULL;
    r = 0;
    while (*n < rows && (r = db_fetch(st)) == 1) {
        pa_adjustment *x = &(*out)[(*n)++];
        x->id = db_col_int64(st, 0);
        x->variant_id = variant_id;
        x->at = col_dup(a, st, 1);
        x->reason = col_dup(a, st, 2);
        x->delta = db_col_int64(st, 3);
        x->stock_before = db_col_int64(st, 4);
        x->stock_after = db_col_int64(st, 5);
        x->note = col_dup(a, st, 6);
        x->actor_id = db_col_int64(st, 7);
        x->actor = col_dup(a, st, 8);
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}
