/* catalog_repo.c — see catalog_repo.h. */
#include "db/catalog_repo.h"

#include "core/buf.h"
#include "core/log.h"
#include "db/db.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static const char *col_dup(arena *a, db_stmt *st, int col)
{
    size_t n;
    const char *s = db_col_text(st, col, &n);
    return arena_strndup(a, s, n);
}

/* Grow an arena array to hold one more element (old memory stays in the
 * arena until it is freed; arrays here are small). */
static void *grow(arena *a, void *arr, int n, int *cap, size_t elem)
{
    if (n < *cap) return arr;
    int nc = *cap ? *cap * 2 : 16;
    void *na = arena_alloc(a, (size_t)nc * elem);
    if (n) memcpy(na, arr, (size_t)n * elem);
    *cap = nc;
    return na;
}

/* Execute, fetch one row, read int columns; returns 1 row, 0 none, -1 error. */
static int exec_fetch(db_stmt *st)
{
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    int r = db_fetch(st);
    if (r != 1) db_reset(st);
    return r;
}

/* ------------------------------------------------------------------ */
/* Listing SQL, assembled from fragments by filter presence             */

enum {
    M_CATEGORY = 1, M_Q = 2, M_BRANDS = 4, M_COLOURS = 8, M_SIZES = 16, M_GENDER = 32,
    M_COMBINATIONS = 64
};

enum sql_kind {
    K_COUNT, K_PRICE, K_FACET_SIZES, K_FACET_BRANDS, K_FACET_COLOURS, K_FACET_GENDERS,
    K_LIST /* + enum catalog_sort */, K_KINDS = K_LIST + SORT_POPULAR + 1
};

#define SEARCH_COLS "p.name, p.description, p.tags, p.search_text"

/* Columns of a product card (repo_card), 13 of them; table aliases p, b. */
#define CARD_COLS                                                                                       \
    "p.id, p.slug, p.name, b.slug, b.name, p.price, p.compare_at_price, p.currency, p.rating_avg,"      \
    " p.rating_count,"                                                                                  \
    " (SELECT CONCAT(i.url, '\x1f', i.alt) FROM product_images i WHERE i.product_id = p.id"             \
    "   ORDER BY i.position, i.id LIMIT 1),"                                                            \
    " (SELECT GROUP_CONCAT(CONCAT(c.name, '\x1f', c.hex, '\x1f', c.slug) ORDER BY c.position, c.id"     \
    "   SEPARATOR '\x1e') FROM colours c"                                                               \
    "   WHERE c.id IN (SELECT v.colour_id FROM variants v WHERE v.product_id = p.id)),"                 \
    " EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.stock > 0)"
#define CARD_NCOLS 13
#define CARD_FROM " FROM products p JOIN brands b ON b.id = p.brand_id"

static unsigned query_mask(const repo_query *q)
{
    const catalog_filter *f = q->f;
    unsigned m = 0;
    if (f->category && *f->category) m |= M_CATEGORY;
    if (q->terms && *q->terms) m |= M_Q;
    if (f->nbrands > 0) m |= M_BRANDS;
    if (f->ncolours > 0) m |= M_COLOURS;
    if (f->nsizes > 0) m |= M_SIZES;
    if (f->gender && *f->gender) m |= M_GENDER;
    return m;
}

/* A search with nothing searchable in it matches no product. */
static bool matches_nothing(const repo_query *q) { return q->f->q && *q->f->q && (!q->terms || !*q->terms); }

static void append_list_placeholders(buf *b)
{
    for (int i = 0; i < CATALOG_MAX_MULTI; i++) buf_puts(b, i ? ",?" : "?");
}

/* The WHERE clause; bind_where binds its parameters in the same order. */
static void append_where(buf *b, unsigned mask, bool with_price)
{
    buf_puts(b, " WHERE p.active = 1");
    if (with_price) buf_puts(b, " AND p.price BETWEEN ? AND ?");
    if (mask & M_CATEGORY)
        buf_puts(b, " AND p.category_id IN (WITH RECURSIVE sub (id, depth) AS ("
                    "SELECT id, 0 FROM categories WHERE slug = ?"
                    " UNION ALL SELECT c.id, sub.depth + 1 FROM categories c JOIN sub ON c.parent_id = sub.id"
                    " WHERE sub.depth < 16) SELECT id FROM sub)");
    if (mask & M_Q) buf_puts(b, " AND MATCH (" SEARCH_COLS ") AGAINST (? IN BOOLEAN MODE)");
    if (mask & M_BRANDS) {
        buf_puts(b, " AND p.brand_id IN (SELECT fb.id FROM brands fb WHERE fb.slug IN (");
        append_list_placeholders(b);
        buf_puts(b, "))");
    }
    if (mask & M_COLOURS) {
        buf_puts(b, " AND p.id IN (SELECT fv.product_id FROM variants fv JOIN colours fc ON fc.id = fv.colour_id"
                    " WHERE fc.slug IN (");
        append_list_placeholders(b);
        buf_puts(b, "))");
    }
    if (mask & M_SIZES) {
        buf_puts(b, " AND p.id IN (SELECT sv.product_id FROM variants sv WHERE sv.stock > 0 AND sv.size_key IN (");
        append_list_placeholders(b);
        buf_puts(b, "))");
    }
    if (mask & M_GENDER) buf_puts(b, " AND p.gender = ?");
}

static void bind_list(db_stmt *st, int *i, const char *const *values, int n)
{
    for (int k = 0; k < CATALOG_MAX_MULTI; k++) {
        if (k < n) db_bind_text(st, (*i)++, values[k], -1);
        else db_bind_null(st, (*i)++);
    }
}

static int bind_where(db_stmt *st, int i, unsigned mask, bool with_price, const repo_query *q)
{
    const catalog_filter *f = q->f;
    if (with_price) {
        db_bind_int64(st, i++, f->price_min < 0 ? 0 : f->price_min);
        db_bind_int64(st, i++, f->price_max < 0 ? INT64_MAX : f->price_max);
    }
    if (mask & M_CATEGORY) db_bind_text(st, i++, f->category, -1);
    if (mask & M_Q) db_bind_text(st, i++, q->terms, -1);
    if (mask & M_BRANDS) bind_list(st, &i, f->brands, f->nbrands);
    if (mask & M_COLOURS) bind_list(st, &i, f->colours, f->ncolours);
    if (mask & M_SIZES) bind_list(st, &i, f->sizes, f->nsizes);
    if (mask & M_GENDER) db_bind_text(st, i++, f->gender, -1);
    return i;
}

static const char *order_by(enum catalog_sort sort, unsigned mask)
{
    switch (sort) {
    case SORT_RELEVANCE:
        return (mask & M_Q) ? " ORDER BY MATCH (" SEARCH_COLS ") AGAINST (? IN BOOLEAN MODE) DESC,"
                              " p.popularity DESC, p.id DESC"
                            : " ORDER BY p.featured DESC, p.popularity DESC, p.id DESC";
    case SORT_NEWEST: return " ORDER BY p.created_at DESC, p.id DESC";
    case SORT_PRICE_ASC: return " ORDER BY p.price ASC, p.id ASC";
    case SORT_PRICE_DESC: return " ORDER BY p.price DESC, p.id DESC";
    case SORT_RATING: return " ORDER BY p.rating_avg DESC, p.rating_count DESC, p.id DESC";
    case SORT_POPULAR: return " ORDER BY p.popularity DESC, p.id DESC";
    }
    return " ORDER BY p.id DESC";
}

static void build_sql(buf *b, int kind, unsigned mask)
{
    switch (kind) {
    case K_COUNT:
        buf_puts(b, "SELECT COUNT(*) FROM products p");
        append_where(b, mask, true);
        break;
    case K_PRICE:
        buf_puts(b, "SELECT MIN(p.price), MAX(p.price), COUNT(*) FROM products p");
        append_where(b, mask, false);
        break;
    case K_FACET_SIZES:
        buf_puts(b, "SELECT v.size_key, v.size_system, MIN(v.size_value), COUNT(DISTINCT v.product_id)"
                    " FROM variants v JOIN products p ON p.id = v.product_id");
        append_where(b, mask, true);
        buf_puts(b, " AND v.stock > 0 GROUP BY v.size_key, v.size_system ORDER BY v.size_system, MIN(v.size_value)");
        break;
    case K_FACET_BRANDS:
        buf_puts(b, "SELECT b.slug, b.name, COUNT(*) FROM products p JOIN brands b ON b.id = p.brand_id");
        append_where(b, mask, true);
        buf_puts(b, " GROUP BY b.id, b.slug, b.name ORDER BY b.name, b.id");
        break;
    case K_FACET_COLOURS:
        buf_puts(b, "SELECT c.slug, c.name, c.hex, COUNT(DISTINCT v.product_id)"
                    " FROM variants v JOIN colours c ON c.id = v.colour_id JOIN products p ON p.id = v.product_id");
        append_where(b, mask, true);
        buf_puts(b, " GROUP BY c.id, c.slug, c.name, c.hex, c.position ORDER BY c.position, c.id");
        break;
    case K_FACET_GENDERS:
        buf_puts(b, "SELECT p.gender, COUNT(*) FROM products p");
        append_where(b, mask, true);
        buf_puts(b, " GROUP BY p.gender ORDER BY p.gender");
        break;
    default:
        buf_puts(b, "SELECT " CARD_COLS CARD_FROM);
        append_where(b, mask, true);
        buf_puts(b, order_by((enum catalog_sort)(kind - K_LIST), mask));
        buf_puts(b, " LIMIT ? OFFSET ?");
        break;
    }
}

/* Each distinct statement is built once per process and never freed, so
 * repeated builds are avoided (db_prepare caches by the SQL text). */
static pthread_mutex_t sql_lock = PTHREAD_MUTEX_INITIALIZER;
static char *sql_table[K_KINDS][M_COMBINATIONS];

static const char *sql_for(int kind, unsigned mask)
{
    pthread_mutex_lock(&sql_lock);
    if (!sql_table[kind][mask]) {
        buf b = BUF_INIT;
        build_sql(&b, kind, mask);
        sql_table[kind][mask] = buf_detach(&b);
    }
    const char *s = sql_table[kind][mask];
    pthread_mutex_unlock(&sql_lock);
    return s;
}

static db_stmt *prepare_kind(int kind, unsigned mask)
{
    db_conn *c = db_conn_get();
    if (!c) return NULL;
    return db_prepare(c, sql_for(kind, mask));
}

/* ------------------------------------------------------------------ */
/* Listing                                                              */

static void read_card(arena *a, db_stmt *st, int base, repo_card *c)
{
    memset(c, 0, sizeof *c);
    c->id = db_col_int64(st, base + 0);
    c->slug = col_dup(a, st, base + 1);
    c->name = col_dup(a, st, base + 2);
    c->brand_slug = col_dup(a, st, base + 3);
    c->brand_name = col_dup(a, st, base + 4);
    c->price = db_col_int64(st, base + 5);
    c->compare_at = db_col_is_null(st, base + 6) ? -1 : db_col_int64(st, base + 6);
    snprintf(c->currency, sizeof c->currency, "%s", db_col_text(st, base + 7, NULL));
    c->rating_avg = db_col_double(st, base + 8);
    c->rating_count = db_col_int64(st, base + 9);
    const char *img = col_dup(a, st, base + 10);
    char *sep = strchr(img, '\x1f');
    if (sep) {
        *sep = '\0';
        c->image_alt = sep + 1;
    } else {
        c->image_alt = "";
    }
    c->image_url = img;
    c->colours = col_dup(a, st, base + 11);
    c->in_stock = db_col_int64(st, base + 12) != 0;
}

static int fetch_cards(arena *a, db_stmt *st, repo_card **out, int *n)
{
    int cap = 0, r;
    *out = NULL;
    *n = 0;
    while ((r = db_fetch(st)) == 1) {
        *out = grow(a, *out, *n, &cap, sizeof **out);
        read_card(a, st, 0, &(*out)[(*n)++]);
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}

int repo_count_products(const repo_query *q, int64_t *total)
{
    *total = 0;
    if (matches_nothing(q)) return 0;
    unsigned mask = query_mask(q);
    db_stmt *st = prepare_kind(K_COUNT, mask);
    if (!st) return -1;
    bind_where(st, 0, mask, true, q);
    int r = exec_fetch(st);
    if (r < 0) return -1;
    if (r == 1) {
        *total = db_col_int64(st, 0);
        db_reset(st);
    }
    return 0;
}

int repo_list_products(arena *a, const repo_query *q, int64_t offset, int limit, repo_card **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (matches_nothing(q)) return 0;
    unsigned mask = query_mask(q);
    enum catalog_sort sort = q->f->sort;
    if (sort < SORT_RELEVANCE || sort > SORT_POPULAR) sort = SORT_RELEVANCE;
    db_stmt *st = prepare_kind(K_LIST + (int)sort, mask);
    if (!st) return -1;
    int i = bind_where(st, 0, mask, true, q);
    if (sort == SORT_RELEVANCE && (mask & M_Q)) db_bind_text(st, i++, q->terms, -1);
    db_bind_int64(st, i++, limit);
    db_bind_int64(st, i++, offset);
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    return fetch_cards(a, st, out, n);
}

int repo_facet_counts(arena *a, const repo_query *q, enum repo_facet_kind kind, repo_facet **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (matches_nothing(q)) return 0;
    unsigned mask = query_mask(q);
    int sql_kind;
    switch (kind) {
    case FACET_SIZES: mask &= ~(unsigned)M_SIZES; sql_kind = K_FACET_SIZES; break;
    case FACET_BRANDS: mask &= ~(unsigned)M_BRANDS; sql_kind = K_FACET_BRANDS; break;
    case FACET_COLOURS: mask &= ~(unsigned)M_COLOURS; sql_kind = K_FACET_COLOURS; break;
    default: mask &= ~(unsigned)M_GENDER; sql_kind = K_FACET_GENDERS; break;
    }
    db_stmt *st = prepare_kind(sql_kind, mask);
    if (!st) return -1;
    bind_where(st, 0, mask, true, q);
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    int cap = 0, r;
    while ((r = db_fetch(st)) == 1) {
        *out = grow(a, *out, *n, &cap, sizeof **out);
        repo_facet *fa = &(*out)[(*n)++];
        memset(fa, 0, sizeof *fa);
        fa->value = col_dup(a, st, 0);
        fa->hex = "";
        switch (kind) {
        case FACET_SIZES: {
            char label[32];
            catalog_size_label(fa->value, label, sizeof label);
            fa->label = arena_strdup(a, label);
            fa->count = db_col_int64(st, 3);
            break;
        }
        case FACET_BRANDS:
            fa->label = col_dup(a, st, 1);
            fa->count = db_col_int64(st, 2);
            break;
        case FACET_COLOURS:
            fa->label = col_dup(a, st, 1);
            fa->hex = col_dup(a, st, 2);
            fa->count = db_col_int64(st, 3);
            break;
        case FACET_GENDERS:
            fa->label = fa->value;
            fa->count = db_col_int64(st, 1);
            break;
        }
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}

int repo_price_range(const repo_query *q, int64_t *min, int64_t *max, int64_t *n)
{
    *min = *max = *n = 0;
    if (matches_nothing(q)) return 0;
    unsigned mask = query_mask(q);
    db_stmt *st = prepare_kind(K_PRICE, mask);
    if (!st) return -1;
    bind_where(st, 0, mask, false, q);
    int r = exec_fetch(st);
    if (r < 0) return -1;
    if (r == 1) {
        *min = db_col_int64(st, 0);
        *max = db_col_int64(st, 1);
        *n = db_col_int64(st, 2);
        db_reset(st);
    }
    return 0;
}

int repo_brand_name(arena *a, const char *slug, const char **name)
{
    db_stmt *st = db_prepare(db_conn_get(), "SELECT name FROM brands WHERE slug = ?");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    int r = exec_fetch(st);
    if (r == 1) {
        *name = col_dup(a, st, 0);
        db_reset(st);
    }
    return r;
}

int repo_colour_info(arena *a, const char *slug, const char **name, const char **hex)
{
    db_stmt *st = db_prepare(db_conn_get(), "SELECT name, hex FROM colours WHERE slug = ?");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    int r = exec_fetch(st);
    if (r == 1) {
        *name = col_dup(a, st, 0);
        *hex = col_dup(a, st, 1);
        db_reset(st);
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* Product page                                                         */

int repo_product_by_slug(arena *a, const char *slug, repo_product *out)
{
    static const char sql[] =
        "SELECT " CARD_COLS ", p.description, p.material, p.gender, p.tags,"
        " DATE_FORMAT(p.created_at, '%Y-%m-%dT%H:%i:%sZ'), p.category_id" CARD_FROM
        " WHERE p.slug = ? AND p.active = 1";
    db_stmt *st = db_prepare(db_conn_get(), sql);
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    int r = exec_fetch(st);
    if (r != 1) return r;
    memset(out, 0, sizeof *out);
    read_card(a, st, 0, &out->card);
    out->description = col_dup(a, st, CARD_NCOLS);
    out->material = col_dup(a, st, CARD_NCOLS + 1);
    out->gender = col_dup(a, st, CARD_NCOLS + 2);
    out->tags = col_dup(a, st, CARD_NCOLS + 3);
    out->created_at = col_dup(a, st, CARD_NCOLS + 4);
    out->category_id = db_col_int64(st, CARD_NCOLS + 5);
    db_reset(st);
    return 1;
}

int repo_product_variants(arena *a, int64_t product_id, repo_variant **out, int *n)
{
    static const char sql[] =
        "SELECT v.id, v.sku, v.size_system, v.size_value, v.size_label, v.size_key, v.width, v.stock,"
        " c.id, c.slug, c.name, c.hex FROM variants v JOIN colours c ON c.id = v.colour_id"
        " WHERE v.product_id = ? ORDER BY c.position, c.id, v.size_system, v.size_value, v.width";
    *out = NULL;
    *n = 0;
    db_stmt *st = db_prepare(db_conn_get(), sql);
    if (!st) return -1;
    db_bind_int64(st, 0, product_id);
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    int cap = 0, r;
    while ((r = db_fetch(st)) == 1) {
        *out = grow(a, *out, *n, &cap, sizeof **out);
        repo_variant *v = &(*out)[(*n)++];
        v->id = db_col_int64(st, 0);
        v->sku = col_dup(a, st, 1);
        v->size_system = col_dup(a, st, 2);
        v->size_value = db_col_double(st, 3);
        v->size_label = col_dup(a, st, 4);
        v->size_key = col_dup(a, st, 5);
        v->width = col_dup(a, st, 6);
        v->stock = db_col_int64(st, 7);
        v->colour_id = db_col_int64(st, 8);
        v->colour_slug = col_dup(a, st, 9);
        v->colour_name = col_dup(a, st, 10);
        v->colour_hex = col_dup(a, st, 11);
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}

int repo_product_images(arena *a, int64_t product_id, repo_image **out, int *n)
{
    *out = NULL;
    *n = 0;
    db_stmt *st = db_prepare(db_conn_get(), "SELECT url, alt, COALESCE(colour_id, 0) FROM product_images"
                                            " WHERE product_id = ? ORDER BY position, id");
    if (!st) return -1;
    db_bind_int64(st, 0, product_id);
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    int cap = 0, r;
    while ((r = db_fetch(st)) == 1) {
        *out = grow(a, *out, *n, &cap, sizeof **out);
        repo_image *im = &(*out)[(*n)++];
        im->url = col_dup(a, st, 0);
        im->alt = col_dup(a, st, 1);
        im->colour_id = db_col_int64(st, 2);
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}

int repo_product_reviews(arena *a, int64_t product_id, int limit, repo_review **out, int *n)
{
    *out = NULL;
    *n = 0;
    db_stmt *st = db_prepare(db_conn_get(),
                             "SELECT id, rating, title, body, author_name, verified_purchase,"
                             " DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') FROM reviews"
                             " WHERE product_id = ? AND status = 'approved' ORDER BY created_at DESC, id DESC LIMIT ?");
    if (!st) return -1;
    db_bind_int64(st, 0, product_id);
    db_bind_int64(st, 1, limit);
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    int cap = 0, r;
    while ((r = db_fetch(st)) == 1) {
        *out = grow(a, *out, *n, &cap, sizeof **out);
        repo_review *rv = &(*out)[(*n)++];
        rv->id = db_col_int64(st, 0);
        rv->rating = db_col_int64(st, 1);
        rv->title = col_dup(a, st, 2);
        rv->body = col_dup(a, st, 3);
        rv->author = col_dup(a, st, 4);
        rv->verified = db_col_int64(st, 5) != 0;
        rv->created_at = col_dup(a, st, 6);
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Categories and home                                                  */

int repo_categories(arena *a, repo_category **out, int *n)
{
    *out = NULL;
    *n = 0;
    db_stmt *st = db_prepare(db_conn_get(), "SELECT id, COALESCE(parent_id, 0), slug, name FROM categories"
                                            " ORDER BY COALESCE(parent_id, 0), position, name, id");
    if (!st) return -1;
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    int cap = 0, r;
    while ((r = db_fetch(st)) == 1) {
        *out = grow(a, *out, *n, &cap, sizeof **out);
        repo_category *c = &(*out)[(*n)++];
        c->id = db_col_int64(st, 0);
        c->parent_id = db_col_int64(st, 1);
        c->slug = col_dup(a, st, 2);
        c->name = col_dup(a, st, 3);
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}

int repo_home_cards(arena *a, enum repo_home_kind kind, int limit, repo_card **out, int *n)
{
    static const char featured[] = "SELECT " CARD_COLS CARD_FROM
                                   " WHERE p.active = 1 AND p.featured = 1 ORDER BY p.popularity DESC, p.id DESC LIMIT ?";
    static const char newest[] = "SELECT " CARD_COLS CARD_FROM
                                 " WHERE p.active = 1 ORDER BY p.created_at DESC, p.id DESC LIMIT ?";
    *out = NULL;
    *n = 0;
    db_stmt *st = db_prepare(db_conn_get(), kind == HOME_FEATURED ? featured : newest);
    if (!st) return -1;
    db_bind_int64(st, 0, limit);
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    return fetch_cards(a, st, out, n);
}

/* ------------------------------------------------------------------ */
/* Store-owner writes                                                   */

/* Lock a row by a unique key: 1 found (*id set), 0 not found, -1 error. */
static int lock_id(db_conn *c, const char *sql, const char *key, int64_t num_key, int64_t *id)
{
    db_stmt *st = db_prepare(c, sql);
    if (!st) return -1;
    if (key) db_bind_text(st, 0, key, -1);
    else db_bind_int64(st, 0, num_key);
    int r = exec_fetch(st);
    if (r == 1) {
        *id = db_col_int64(st, 0);
        db_reset(st);
    }
    return r;
}

static int simple_exec(db_stmt *st)
{
    int rc = db_exec(st);
    db_reset(st);
    return rc;
}

static int recompute_rating(db_conn *c, int64_t product_id)
{
    db_stmt *st = db_prepare(c, "UPDATE products p SET"
                                " p.rating_count = (SELECT COUNT(*) FROM reviews r WHERE r.product_id = p.id AND r.status = 'approved'),"
                                " p.rating_avg = COALESCE((SELECT ROUND(AVG(r.rating), 2) FROM reviews r"
                                "   WHERE r.product_id = p.id AND r.status = 'approved'), 0)"
                                " WHERE p.id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, product_id);
    return simple_exec(st);
}

/* Finish a write transaction: commit on rc == 0, else roll back. */
static int finish_tx(db_conn *c, int rc)
{
    if (rc == CATALOG_OK) {
        if (db_commit(c) < 0) {
            db_rollback(c);
            return CATALOG_ERR_STORE;
        }
        return CATALOG_OK;
    }
    db_rollback(c);
    return rc;
}

int repo_set_stock(const char *sku, int64_t n)
{
    db_conn *c = db_conn_get();
    if (!c || db_begin(c) < 0) return CATALOG_ERR_STORE;
    int64_t id = 0;
    int r = lock_id(c, "SELECT id FROM variants WHERE sku = ? FOR UPDATE", sku, 0, &id);
    int rc = r < 0 ? CATALOG_ERR_STORE : r == 0 ? CATALOG_ERR_NOT_FOUND : CATALOG_OK;
    if (rc == CATALOG_OK) {
        db_stmt *st = db_prepare(c, "UPDATE variants SET stock = ? WHERE id = ?");
        if (!st) rc = CATALOG_ERR_STORE;
        else {
            db_bind_int64(st, 0, n);
            db_bind_int64(st, 1, id);
            if (simple_exec(st) < 0) rc = CATALOG_ERR_STORE;
        }
    }
    return finish_tx(c, rc);
}

int repo_set_price(const char *slug, int64_t price, int64_t compare_at)
{
    db_conn *c = db_conn_get();
    if (!c || db_begin(c) < 0) return CATALOG_ERR_STORE;
    int64_t id = 0;
    int r = lock_id(c, "SELECT id FROM products WHERE slug = ? FOR UPDATE", slug, 0, &id);
    int rc = r < 0 ? CATALOG_ERR_STORE : r == 0 ? CATALOG_ERR_NOT_FOUND : CATALOG_OK;
    if (rc == CATALOG_OK) {
        db_stmt *st = db_prepare(c, "UPDATE products SET price = ?, compare_at_price = ? WHERE id = ?");
        if (!st) rc = CATALOG_ERR_STORE;
        else {
            db_bind_int64(st, 0, price);
            if (compare_at < 0) db_bind_null(st, 1);
            else db_bind_int64(st, 1, compare_at);
            db_bind_int64(st, 2, id);
            if (simple_exec(st) < 0) rc = CATALOG_ERR_STORE;
        }
    }
    return finish_tx(c, rc);
}

int repo_add_review(const char *slug, int rating, const char *title, const char *body, const char *author,
                    const char *status, bool verified, int64_t *id_out)
{
    db_conn *c = db_conn_get();
    if (!c || db_begin(c) < 0) return CATALOG_ERR_STORE;
    int64_t pid = 0;
    /* The product row is locked first (as in moderation) so aggregates of
     * concurrent review changes are computed one after the other. */
    int r = lock_id(c, "SELECT id FROM products WHERE slug = ? FOR UPDATE", slug, 0, &pid);
    int rc = r < 0 ? CATALOG_ERR_STORE : r == 0 ? CATALOG_ERR_NOT_FOUND : CATALOG_OK;
    if (rc == CATALOG_OK) {
        db_stmt *st = db_prepare(c, "INSERT INTO reviews (product_id, rating, title, body, author_name,"
                                    " verified_purchase, status) VALUES (?, ?, ?, ?, ?, ?, ?)");
        if (!st) rc = CATALOG_ERR_STORE;
        else {
            db_bind_int64(st, 0, pid);
            db_bind_int64(st, 1, rating);
            db_bind_text(st, 2, title, -1);
            db_bind_text(st, 3, body, -1);
            db_bind_text(st, 4, author, -1);
            db_bind_int64(st, 5, verified ? 1 : 0);
            db_bind_text(st, 6, status, -1);
            if (db_exec(st) < 0) rc = CATALOG_ERR_STORE;
            else if (id_out) *id_out = (int64_t)db_insert_id(st);
            db_reset(st);
        }
    }
    if (rc == CATALOG_OK && strcmp(status, "approved") == 0 && recompute_rating(c, pid) < 0) rc = CATALOG_ERR_STORE;
    return finish_tx(c, rc);
}

int repo_moderate_review(int64_t id, const char *status)
{
    db_conn *c = db_conn_get();
    if (!c || db_begin(c) < 0) return CATALOG_ERR_STORE;
    int64_t pid = 0, locked = 0;
    int r = lock_id(c, "SELECT product_id FROM reviews WHERE id = ?", NULL, id, &pid);
    int rc = r < 0 ? CATALOG_ERR_STORE : r == 0 ? CATALOG_ERR_NOT_FOUND : CATALOG_OK;
    if (rc == CATALOG_OK && lock_id(c, "SELECT id FROM products WHERE id = ? FOR UPDATE", NULL, pid, &locked) != 1)
        rc = CATALOG_ERR_STORE;
    if (rc == CATALOG_OK) {
        db_stmt *st = db_prepare(c, "UPDATE reviews SET status = ? WHERE id = ?");
        if (!st) rc = CATALOG_ERR_STORE;
        else {
            db_bind_text(st, 0, status, -1);
            db_bind_int64(st, 1, id);
            if (simple_exec(st) < 0) rc = CATALOG_ERR_STORE;
        }
    }
    if (rc == CATALOG_OK && recompute_rating(c, pid) < 0) rc = CATALOG_ERR_STORE;
    return finish_tx(c, rc);
}

/* ------------------------------------------------------------------ */
/* Seeding                                                              */

int repo_meta_get(const char *key, char *out, size_t outlen)
{
    db_stmt *st = db_prepare(db_conn_get(), "SELECT meta_value FROM app_meta WHERE meta_key = ?");
    if (!st) return -1;
    db_bind_text(st, 0, key, -1);
    int r = exec_fetch(st);
    if (r == 1) {
        snprintf(out, outlen, "%s", db_col_text(st, 0, NULL));
        db_reset(st);
    }
    return r;
}

int repo_meta_set(const char *key, const char *value)
{
    db_stmt *st = db_prepare(db_conn_get(), "INSERT INTO app_meta (meta_key, meta_value) VALUES (?, ?)"
                                            " ON DUPLICATE KEY UPDATE meta_value = VALUES(meta_value)");
    if (!st) return -1;
    db_bind_text(st, 0, key, -1);
    db_bind_text(st, 1, value, -1);
    return simple_exec(st);
}

int repo_count_rows(const char *table, int64_t *n)
{
    static const char *const tables[][2] = {
        {"categories", "SELECT COUNT(*) FROM categories"},
        {"brands", "SELECT COUNT(*) FROM brands"},
        {"colours", "SELECT COUNT(*) FROM colours"},
        {"products", "SELECT COUNT(*) FROM products"},
        {"variants", "SELECT COUNT(*) FROM variants"},
        {"product_images", "SELECT COUNT(*) FROM product_images"},
        {"reviews", "SELECT COUNT(*) FROM reviews"},
    };
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        if (strcmp(tables[i][0], table) != 0) continue;
        db_stmt *st = db_prepare(db_conn_get(), tables[i][1]);
        if (!st) return -1;
        int r = exec_fetch(st);
        if (r < 0) return -1;
        *n = r == 1 ? db_col_int64(st, 0) : 0;
        if (r == 1) db_reset(st);
        return 0;
    }
    log_error("catalog_repo: no table %s to count", table);
    return -1;
}

int repo_wipe_catalogue(void)
{
    static const char *const deletes[] = {
        "DELETE FROM reviews", "DELETE FROM product_images", "DELETE FROM variants", "DELETE FROM products",
        "DELETE FROM brands", "DELETE FROM colours",
    };
    db_conn *c = db_conn_get();
    if (!c) return -1;
    for (size_t i = 0; i < sizeof deletes / sizeof *deletes; i++) {
        db_stmt *st = db_prepare(c, deletes[i]);
        if (!st || simple_exec(st) < 0) return -1;
    }
    /* Categories reference their parent: delete leaves until none are left. */
    for (int depth = 0; depth < 64; depth++) {
        db_stmt *st = db_prepare(c, "DELETE FROM categories WHERE id NOT IN"
                                    " (SELECT parent_id FROM (SELECT DISTINCT parent_id FROM categories"
                                    "  WHERE parent_id IS NOT NULL) AS parents)");
        if (!st || db_exec(st) < 0) { if (st) db_reset(st); return -1; }
        uint64_t gone = db_affected_rows(st);
        db_reset(st);
        if (gone == 0) break;
    }
    return 0;
}

static int64_t insert_id_or_fail(db_stmt *st)
{
    if (!st) return -1;
    int64_t id = db_exec(st) < 0 ? -1 : (int64_t)db_insert_id(st);
    db_reset(st);
    return id;
}

int64_t repo_insert_category(int64_t parent_id, const char *slug, const char *name, int position)
{
    db_stmt *st = db_prepare(db_conn_get(), "INSERT INTO categories (parent_id, slug, name, position) VALUES (?, ?, ?, ?)");
    if (!st) return -1;
    if (parent_id > 0) db_bind_int64(st, 0, parent_id);
    else db_bind_null(st, 0);
    db_bind_text(st, 1, slug, -1);
    db_bind_text(st, 2, name, -1);
    db_bind_int64(st, 3, position);
    return insert_id_or_fail(st);
}

int64_t repo_insert_brand(const char *slug, const char *name)
{
    db_stmt *st = db_prepare(db_conn_get(), "INSERT INTO brands (slug, name) VALUES (?, ?)");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    db_bind_text(st, 1, name, -1);
    return insert_id_or_fail(st);
}

int64_t repo_insert_colour(const char *slug, const char *name, const char *hex, int position)
{
    db_stmt *st = db_prepare(db_conn_get(), "INSERT INTO colours (slug, name, hex, position) VALUES (?, ?, ?, ?)");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    db_bind_text(st, 1, name, -1);
    db_bind_text(st, 2, hex, -1);
    db_bind_int64(st, 3, position);
    return insert_id_or_fail(st);
}

int64_t repo_insert_product(const repo_new_product *p)
{
    db_stmt *st = db_prepare(db_conn_get(),
                             "INSERT INTO products (slug, name, description, brand_id, category_id, price,"
                             " compare_at_price, currency, gender, material, tags, active, featured, popularity,"
                             " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?,"
                             " UTC_TIMESTAMP() - INTERVAL ? SECOND, UTC_TIMESTAMP() - INTERVAL ? SECOND)");
    if (!st) return -1;
    db_bind_text(st, 0, p->slug, -1);
    db_bind_text(st, 1, p->name, -1);
    db_bind_text(st, 2, p->description, -1);
    db_bind_int64(st, 3, p->brand_id);
    db_bind_int64(st, 4, p->category_id);
    db_bind_int64(st, 5, p->price);
    if (p->compare_at < 0) db_bind_null(st, 6);
    else db_bind_int64(st, 6, p->compare_at);
    db_bind_text(st, 7, p->currency, -1);
    db_bind_text(st, 8, p->gender, -1);
    db_bind_text(st, 9, p->material, -1);
    db_bind_text(st, 10, p->tags, -1);
    db_bind_int64(st, 11, p->featured ? 1 : 0);
    db_bind_int64(st, 12, p->popularity);
    db_bind_int64(st, 13, p->age_seconds);
    db_bind_int64(st, 14, p->age_seconds / 2);
    return insert_id_or_fail(st);
}

int repo_insert_variant(int64_t product_id, int64_t colour_id, const char *sku, const char *system,
                        double size_value, const char *size_label, const char *width, int64_t stock)
{
    db_stmt *st = db_prepare(db_conn_get(),
                             "INSERT INTO variants (product_id, colour_id, sku, size_system, size_value, size_label,"
                             " width, stock) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return -1;
    char value[16];
    snprintf(value, sizeof value, "%.1f", size_value);
    db_bind_int64(st, 0, product_id);
    db_bind_int64(st, 1, colour_id);
    db_bind_text(st, 2, sku, -1);
    db_bind_text(st, 3, system, -1);
    db_bind_text(st, 4, value, -1);
    db_bind_text(st, 5, size_label, -1);
    db_bind_text(st, 6, width, -1);
    db_bind_int64(st, 7, stock);
    return simple_exec(st);
}

int repo_insert_image(int64_t product_id, int64_t colour_id, const char *url, const char *alt, int position)
{
    db_stmt *st = db_prepare(db_conn_get(), "INSERT INTO product_images (product_id, colour_id, url, alt, position)"
                                            " VALUES (?, ?, ?, ?, ?)");
    if (!st) return -1;
    db_bind_int64(st, 0, product_id);
    if (colour_id > 0) db_bind_int64(st, 1, colour_id);
    else db_bind_null(st, 1);
    db_bind_text(st, 2, url, -1);
    db_bind_text(st, 3, alt, -1);
    db_bind_int64(st, 4, position);
    return simple_exec(st);
}

int repo_insert_review_seed(int64_t product_id, int rating, const char *title, const char *body, const char *author,
                            bool verified, const char *status, int64_t age_seconds)
{
    db_stmt *st = db_prepare(db_conn_get(),
                             "INSERT INTO reviews (product_id, rating, title, body, author_name, verified_purchase,"
                             " status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP() - INTERVAL ? SECOND)");
    if (!st) return -1;
    db_bind_int64(st, 0, product_id);
    db_bind_int64(st, 1, rating);
    db_bind_text(st, 2, title, -1);
    db_bind_text(st, 3, body, -1);
    db_bind_text(st, 4, author, -1);
    db_bind_int64(st, 5, verified ? 1 : 0);
    db_bind_text(st, 6, status, -1);
    db_bind_int64(st, 7, age_seconds);
    return simple_exec(st);
}

int repo_recompute_all_ratings(void)
{
    db_stmt *st = db_prepare(db_conn_get(),
                             "UPDATE products p LEFT JOIN (SELECT product_id, COUNT(*) AS n, ROUND(AVG(rating), 2) AS avg"
                             " FROM reviews WHERE status = 'approved' GROUP BY product_id) r ON r.product_id = p.id"
                             " SET p.rating_count = COALESCE(r.n, 0), p.rating_avg = COALESCE(r.avg, 0)");
    if (!st) return -1;
    return simple_exec(st);
}

int repo_each_product_image(repo_image_fn fn, void *ctx)
{
    db_stmt *st = db_prepare(db_conn_get(),
                             "SELECT i.url, b.name, c.slug, COALESCE(co.hex, '#8a8d91') FROM product_images i"
                             " JOIN products p ON p.id = i.product_id JOIN brands b ON b.id = p.brand_id"
                             " JOIN categories c ON c.id = p.category_id LEFT JOIN colours co ON co.id = i.colour_id"
                             " WHERE i.url LIKE '/media/products/%' ORDER BY i.id");
    if (!st) return -1;
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    int r;
    while ((r = db_fetch(st)) == 1)
        fn(ctx, db_col_text(st, 0, NULL), db_col_text(st, 1, NULL), db_col_text(st, 2, NULL), db_col_text(st, 3, NULL));
    db_reset(st);
    return r < 0 ? -1 : 0;
}
