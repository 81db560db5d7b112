/* catalog_repo.c — see catalog_repo.h. */
#include "db/catalog_repo.h"

#include "core/buf.h"
#include "core/log.h"
#include "core/text.h"
#include "db/db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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
    M_CATEGORY_IDS = 64,   /* the category's subtree is bound as ids (else a recursive CTE finds it) */
    M_COMBINATIONS = 128
};

#define K_KINDS (SORT_POPULAR + 1)   /* one listing statement per sort and mask */

#define SEARCH_COLS "p.name, p.description, p.tags, p.search_text"

/* Columns of a product card (repo_card), 14 of them; table aliases p, b.
 * Image, colours and stock come from the columns migration 0003 keeps on
 * the product row. */
#define CARD_COLS                                                                                       \
    "p.id, p.slug, p.name, b.slug, b.name, p.price, p.compare_at_price, p.currency, p.rating_avg,"      \
    " p.rating_count, p.card_image_url, p.card_image_alt,"                                              \
    " (SELECT GROUP_CONCAT(CONCAT(c.name, '\x1f', c.hex, '\x1f', c.slug) ORDER BY c.position, c.id"     \
    "   SEPARATOR '\x1e') FROM colours c WHERE FIND_IN_SET(c.id, p.colour_ids)),"                       \
    " p.stock_sizes <> ''"
#define CARD_NCOLS 14
#define CARD_FROM " FROM products p JOIN brands b ON b.id = p.brand_id"

static unsigned query_mask(const repo_query *q, int ncategory_ids)
{
    const catalog_filter *f = q->f;
    unsigned m = 0;
    if (f->category && *f->category) m |= ncategory_ids > 0 ? M_CATEGORY_IDS : M_CATEGORY;
    if (q->terms && *q->terms) m |= M_Q;
    if (f->nbrands > 0) m |= M_BRANDS;
    if (f->ncolours > 0) m |= M_COLOURS;
    if (f->nsizes > 0) m |= M_SIZES;
    if (f->gender && *f->gender) m |= M_GENDER;
    return m;
}

/* A search with nothing searchable in it matches no product. */
static bool matches_nothing(const repo_query *q) { return q->f->q && *q->f->q && (!q->terms || !*q->terms); }

static void append_placeholders(buf *b, int n)
{
    for (int i = 0; i < n; i++) buf_puts(b, i ? ",?" : "?");
}

/* The listing statement. Its rows are the candidates: every active product
 * in the category (with its subtree) that matches the search. The facet
 * filters (brand, colour, size, gender) are not conditions but flag
 * columns, because each facet is counted under every filter except its
 * own; shop/catalog.c counts the facets, sorts and pages from these rows,
 * so the whole listing is one round trip. The flags are the same
 * fragments the filters always were, so they match exactly as before
 * (collation included). The price filter is plain integer arithmetic and
 * is applied in C. bind_listing binds the parameters in the same order. */
static void build_listing_sql(buf *b, enum catalog_sort sort, unsigned mask)
{
    buf_puts(b, "SELECT p.id, p.slug, p.name, p.brand_id, p.price, p.compare_at_price, p.currency, p.rating_avg,"
                " p.rating_count, p.card_image_url, p.card_image_alt, p.stock_sizes, p.colour_ids, p.gender");
    /* two sort keys beyond the ones above (price, rating, id), NULL when
     * this sort needs fewer: see repo_listing_row */
    if (sort == SORT_RELEVANCE && (mask & M_Q))
        buf_puts(b, ", MATCH (" SEARCH_COLS ") AGAINST (? IN BOOLEAN MODE), p.popularity");
    else if (sort == SORT_RELEVANCE)
        buf_puts(b, ", p.featured, p.popularity");
    else if (sort == SORT_NEWEST)
        buf_puts(b, ", p.created_at, NULL");
    else if (sort == SORT_POPULAR)
        buf_puts(b, ", NULL, p.popularity");
    else
        buf_puts(b, ", NULL, NULL");
    /* the facet filters as one number: bit 1 brand, 2 colour, 4 size,
     * 8 gender, each set when the product passes that filter (or it is not
     * set). IS TRUE turns the NULL of "x IN (..., NULL)" into 0. */
    buf_puts(b, ", 0");
    if (mask & M_BRANDS) {
        buf_puts(b, " + (p.brand_id IN (SELECT fb.id FROM brands fb WHERE fb.slug IN (");
        append_placeholders(b, CATALOG_MAX_MULTI);
        buf_puts(b, ")) IS TRUE)");
    } else {
        buf_puts(b, " + 1");
    }
    if (mask & M_COLOURS) {
        buf_puts(b, " + 2 * (p.id IN (SELECT fv.product_id FROM variants fv JOIN colours fc ON fc.id = fv.colour_id"
                    " WHERE fc.slug IN (");
        append_placeholders(b, CATALOG_MAX_MULTI);
        buf_puts(b, ")) IS TRUE)");
    } else {
        buf_puts(b, " + 2");
    }
    if (mask & M_SIZES) {
        buf_puts(b, " + 4 * (p.id IN (SELECT sv.product_id FROM variants sv WHERE sv.stock > 0 AND sv.size_key IN (");
        append_placeholders(b, CATALOG_MAX_MULTI);
        buf_puts(b, ")) IS TRUE)");
    } else {
        buf_puts(b, " + 4");
    }
    buf_puts(b, mask & M_GENDER ? " + 8 * ((p.gender = ?) IS TRUE)" : " + 8");

    buf_puts(b, " FROM products p WHERE p.active = 1");
    if (mask & M_CATEGORY_IDS) {
        buf_puts(b, " AND p.category_id IN (");
        append_placeholders(b, REPO_CATEGORY_IDS_MAX);
        buf_puts(b, ")");
    } else if (mask & M_CATEGORY) {
        buf_puts(b, " AND p.category_id IN (WITH RECURSIVE sub (id, depth) AS ("
                    "SELECT id, 0 FROM categories WHERE slug = ?"
                    " UNION ALL SELECT c.id, sub.depth + 1 FROM categories c JOIN sub ON c.parent_id = sub.id"
                    " WHERE sub.depth < 16) SELECT id FROM sub)");
    }
    if (mask & M_Q) buf_puts(b, " AND MATCH (" SEARCH_COLS ") AGAINST (? IN BOOLEAN MODE)");
}

static void bind_list(db_stmt *st, int *i, const char *const *values, int n)
{
    for (int k = 0; k < CATALOG_MAX_MULTI; k++) {
        if (k < n) db_bind_text(st, (*i)++, values[k], -1);
        else db_bind_null(st, (*i)++);
    }
}

static void bind_listing(db_stmt *st, enum catalog_sort sort, unsigned mask, const repo_query *q,
                         const int64_t *category_ids, int ncategory_ids)
{
    const catalog_filter *f = q->f;
    int i = 0;
    if (sort == SORT_RELEVANCE && (mask & M_Q)) db_bind_text(st, i++, q->terms, -1);
    if (mask & M_BRANDS) bind_list(st, &i, f->brands, f->nbrands);
    if (mask & M_COLOURS) bind_list(st, &i, f->colours, f->ncolours);
    if (mask & M_SIZES) bind_list(st, &i, f->sizes, f->nsizes);
    if (mask & M_GENDER) db_bind_text(st, i++, f->gender, -1);
    if (mask & M_CATEGORY_IDS) {
        for (int k = 0; k < REPO_CATEGORY_IDS_MAX; k++) {
            if (k < ncategory_ids) db_bind_int64(st, i++, category_ids[k]);
            else db_bind_null(st, i++);
        }
    } else if (mask & M_CATEGORY) {
        db_bind_text(st, i++, f->category, -1);
    }
    if (mask & M_Q) db_bind_text(st, i++, q->terms, -1);
}

/* Each distinct statement is built once per process and never freed, so
 * repeated builds are avoided (db_prepare caches by the SQL text). */
static pthread_mutex_t sql_lock = PTHREAD_MUTEX_INITIALIZER;
static char *sql_table[K_KINDS][M_COMBINATIONS];

static const char *listing_sql(enum catalog_sort sort, unsigned mask)
{
    pthread_mutex_lock(&sql_lock);
    if (!sql_table[sort][mask]) {
        buf b = BUF_INIT;
        build_listing_sql(&b, sort, mask);
        sql_table[sort][mask] = buf_detach(&b);
    }
    const char *s = sql_table[sort][mask];
    pthread_mutex_unlock(&sql_lock);
    return s;
}

/* ------------------------------------------------------------------ */
/* Listing                                                              */

/* "4.35" (a DECIMAL(3,2)) → 435, exactly. */
static int64_t decimal_hundredths(const char *s)
{
    int64_t whole = 0, frac = 0;
    int digits = 0;
    bool neg = *s == '-';
    if (neg) s++;
    while (*s >= '0' && *s <= '9') whole = whole * 10 + (*s++ - '0');
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9' && digits < 2) { frac = frac * 10 + (*s++ - '0'); digits++; }
    }
    while (digits++ < 2) frac *= 10;
    int64_t v = whole * 100 + frac;
    return neg ? -v : v;
}

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
    text_copy(c->currency, sizeof c->currency, db_col_text(st, base + 7, NULL));
    c->rating_avg = db_col_double(st, base + 8);
    c->rating_count = db_col_int64(st, base + 9);
    c->image_url = col_dup(a, st, base + 10);
    c->image_alt = col_dup(a, st, base + 11);
    c->colours = db_col_is_null(st, base + 12) ? NULL : col_dup(a, st, base + 12);
    c->in_stock = db_col_int64(st, base + 13) != 0;
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

int repo_listing(arena *a, const repo_query *q, const int64_t *category_ids, int ncategory_ids,
                 repo_listing_row **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (matches_nothing(q)) return 0;
    if (ncategory_ids > REPO_CATEGORY_IDS_MAX) ncategory_ids = 0;   /* too many: let SQL walk the tree */
    unsigned mask = query_mask(q, ncategory_ids);
    enum catalog_sort sort = q->f->sort;
    if (sort < SORT_RELEVANCE || sort > SORT_POPULAR) sort = SORT_RELEVANCE;
    db_conn *c = db_conn_get();
    db_stmt *st = c ? db_prepare(c, listing_sql(sort, mask)) : NULL;
    if (!st) return -1;
    bind_listing(st, sort, mask, q, category_ids, ncategory_ids);
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    uint64_t rows = db_nrows(st);
    int cap = rows > 0 && rows < 1000000 ? (int)rows : 0, r;
    if (cap) *out = arena_alloc(a, (size_t)cap * sizeof **out);
    while ((r = db_fetch(st)) == 1) {
        *out = grow(a, *out, *n, &cap, sizeof **out);
        repo_listing_row *p = &(*out)[(*n)++];
        p->id = db_col_int64(st, 0);
        p->slug = col_dup(a, st, 1);
        p->name = col_dup(a, st, 2);
        p->brand_id = db_col_int64(st, 3);
        p->price = db_col_int64(st, 4);
        p->compare_at = db_col_is_null(st, 5) ? -1 : db_col_int64(st, 5);
        text_copy(p->currency, sizeof p->currency, db_col_text(st, 6, NULL));
        const char *rating = db_col_text(st, 7, NULL);
        p->rating_avg = strtod(rating, NULL);
        p->rating_hundredths = decimal_hundredths(rating);
        p->rating_count = db_col_int64(st, 8);
        p->created_at = "";
        p->image_url = col_dup(a, st, 9);
        p->image_alt = col_dup(a, st, 10);
        p->stock_sizes = col_dup(a, st, 11);
        p->colour_ids = col_dup(a, st, 12);
        p->gender = col_dup(a, st, 13);
        switch (sort) {
        case SORT_RELEVANCE:
            if (mask & M_Q) p->relevance = db_col_double(st, 14);
            else p->featured = db_col_int64(st, 14) != 0;
            p->popularity = db_col_int64(st, 15);
            break;
        case SORT_NEWEST: p->created_at = col_dup(a, st, 14); break;
        case SORT_POPULAR: p->popularity = db_col_int64(st, 15); break;
        default: break;
        }
        int64_t flags = db_col_int64(st, 16);
        p->brand_ok = flags & 1;
        p->colour_ok = flags & 2;
        p->size_ok = flags & 4;
        p->gender_ok = flags & 8;
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}

int repo_brands(arena *a, repo_brand **out, int *n)
{
    *out = NULL;
    *n = 0;
    db_stmt *st = db_prepare(db_conn_get(), "SELECT id, slug, name FROM brands ORDER BY name, id");
    if (!st) return -1;
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    int cap = 0, r;
    while ((r = db_fetch(st)) == 1) {
        *out = grow(a, *out, *n, &cap, sizeof **out);
        repo_brand *b = &(*out)[(*n)++];
        b->id = db_col_int64(st, 0);
        b->slug = col_dup(a, st, 1);
        b->name = col_dup(a, st, 2);
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}

int repo_colours(arena *a, repo_colour **out, int *n)
{
    *out = NULL;
    *n = 0;
    db_stmt *st = db_prepare(db_conn_get(), "SELECT id, slug, name, hex, position FROM colours ORDER BY position, id");
    if (!st) return -1;
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    int cap = 0, r;
    while ((r = db_fetch(st)) == 1) {
        *out = grow(a, *out, *n, &cap, sizeof **out);
        repo_colour *c = &(*out)[(*n)++];
        c->id = db_col_int64(st, 0);
        c->slug = col_dup(a, st, 1);
        c->name = col_dup(a, st, 2);
        c->hex = col_dup(a, st, 3);
        c->position = db_col_int64(st, 4);
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
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

/* The whole product page in one statement: the product (kind 0), its
 * variants (1), images (2) and newest approved reviews with the shop's
 * replies (3), one UNION ALL
 * branch each. Column n of a branch lines up with column n of the others,
 * so every position holds either one numeric type throughout or at least
 * one string (then MariaDB returns every value of it as its own text,
 * e.g. "9.5"); a DECIMAL next to integers would turn 4 into "4.00".
 * UNION ALL promises no row order, so the rows are ordered here: variants
 * by colour (position, id), size system, size, width (the ENUM positions,
 * selected as numbers); images by (position, id); reviews newest first. */
#define PRODUCT_PAGE_FROM(t, alias) " FROM products p JOIN " t " " alias " ON " alias ".product_id = p.id"
static const char product_page_sql[] =
    "SELECT 0, p.id, p.slug, p.name, b.slug, b.name, p.price, p.compare_at_price, p.currency, p.rating_count,"
    " p.card_image_url, p.card_image_alt, p.description, p.material, p.gender, p.tags,"
    " DATE_FORMAT(p.created_at, '%Y-%m-%dT%H:%i:%sZ'), p.category_id, p.rating_avg"
    " FROM products p JOIN brands b ON b.id = p.brand_id WHERE p.slug = ? AND p.active = 1"
    " UNION ALL SELECT 1, v.id, v.sku, v.size_system, v.size_value, v.size_label, v.stock, v.size_key, v.width,"
    " c.id, c.slug, c.name, c.hex, c.position, v.size_system + 0, v.width + 0, NULL, NULL, NULL"
    PRODUCT_PAGE_FROM("variants", "v") " JOIN colours c ON c.id = v.colour_id WHERE p.slug = ? AND p.active = 1"
    " UNION ALL SELECT 2, i.id, i.url, i.alt, COALESCE(i.colour_id, 0), i.position, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
    PRODUCT_PAGE_FROM("product_images", "i") " WHERE p.slug = ? AND p.active = 1"
    " UNION ALL (SELECT 3, r.id, r.rating, r.title, r.body, r.author_name, r.verified_purchase,"
    " DATE_FORMAT(r.created_at, '%Y-%m-%dT%H:%i:%sZ'), r.reply_text, NULL,"
    " DATE_FORMAT(r.replied_at, '%Y-%m-%dT%H:%i:%sZ'), NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL" PRODUCT_PAGE_FROM("reviews", "r") " WHERE p.slug = ? AND p.active = 1 AND r.status = 'approved'"
    " ORDER BY r.created_at DESC, r.id DESC LIMIT ?)";

typedef struct variant_key {
    int64_t colour_position, system, width;
} variant_key;

typedef struct image_key {
    int64_t position, id;
} image_key;

/* Sort keys ride along in parallel arrays; the sorts below move whole
 * (row, key) pairs. */
typedef struct variant_row { repo_variant v; variant_key k; } variant_row;
typedef struct image_row { repo_image i; image_key k; } image_row;

static int cmp_variant_row(const void *x, const void *y)
{
    const variant_row *a = x, *b = y;
    if (a->k.colour_position != b->k.colour_position) return a->k.colour_position < b->k.colour_position ? -1 : 1;
    if (a->v.colour_id != b->v.colour_id) return a->v.colour_id < b->v.colour_id ? -1 : 1;
    if (a->k.system != b->k.system) return a->k.system < b->k.system ? -1 : 1;
    if (a->v.size_value != b->v.size_value) return a->v.size_value < b->v.size_value ? -1 : 1;
    if (a->k.width != b->k.width) return a->k.width < b->k.width ? -1 : 1;
    return a->v.id < b->v.id ? -1 : a->v.id > b->v.id;
}

static int cmp_image_row(const void *x, const void *y)
{
    const image_row *a = x, *b = y;
    if (a->k.position != b->k.position) return a->k.position < b->k.position ? -1 : 1;
    return a->k.id < b->k.id ? -1 : a->k.id > b->k.id;
}

static int cmp_review(const void *x, const void *y)
{
    const repo_review *a = x, *b = y;
    int c = strcmp(a->created_at, b->created_at);
    if (c) return -c;
    return a->id > b->id ? -1 : a->id < b->id;
}

int repo_read_product_page(arena *a, const char *slug, int review_limit, repo_product_page *out)
{
    memset(out, 0, sizeof *out);
    db_stmt *st = db_prepare(db_conn_get(), product_page_sql);
    if (!st) return -1;
    for (int i = 0; i < 4; i++) db_bind_text(st, i, slug, -1);
    db_bind_int64(st, 4, review_limit);
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    variant_row *vr = NULL;
    image_row *ir = NULL;
    int vcap = 0, icap = 0, rcap = 0, r;
    bool found = false;
    while ((r = db_fetch(st)) == 1) {
        switch (db_col_int64(st, 0)) {
        case 0: {
            repo_product *p = &out->product;
            repo_card *c = &p->card;
            found = true;
            c->id = db_col_int64(st, 1);
            c->slug = col_dup(a, st, 2);
            c->name = col_dup(a, st, 3);
            c->brand_slug = col_dup(a, st, 4);
            c->brand_name = col_dup(a, st, 5);
            c->price = db_col_int64(st, 6);
            c->compare_at = db_col_is_null(st, 7) ? -1 : db_col_int64(st, 7);
            text_copy(c->currency, sizeof c->currency, db_col_text(st, 8, NULL));
            c->rating_count = db_col_int64(st, 9);
            c->image_url = col_dup(a, st, 10);
            c->image_alt = col_dup(a, st, 11);
            p->description = col_dup(a, st, 12);
            p->material = col_dup(a, st, 13);
            p->gender = col_dup(a, st, 14);
            p->tags = col_dup(a, st, 15);
            p->created_at = col_dup(a, st, 16);
            p->category_id = db_col_int64(st, 17);
            c->rating_avg = db_col_double(st, 18);
            break;
        }
        case 1: {
            vr = grow(a, vr, out->nvariants, &vcap, sizeof *vr);
            variant_row *row = &vr[out->nvariants++];
            repo_variant *v = &row->v;
            v->id = db_col_int64(st, 1);
            v->sku = col_dup(a, st, 2);
            v->size_system = col_dup(a, st, 3);
            v->size_value = db_col_double(st, 4);
            v->size_label = col_dup(a, st, 5);
            v->stock = db_col_int64(st, 6);
            v->size_key = col_dup(a, st, 7);
            v->width = col_dup(a, st, 8);
            v->colour_id = db_col_int64(st, 9);
            v->colour_slug = col_dup(a, st, 10);
            v->colour_name = col_dup(a, st, 11);
            v->colour_hex = col_dup(a, st, 12);
            row->k.colour_position = db_col_int64(st, 13);
            row->k.system = db_col_int64(st, 14);
            row->k.width = db_col_int64(st, 15);
            break;
        }
        case 2: {
            ir = grow(a, ir, out->nimages, &icap, sizeof *ir);
            image_row *row = &ir[out->nimages++];
            row->k.id = db_col_int64(st, 1);
            row->i.url = col_dup(a, st, 2);
            row->i.alt = col_dup(a, st, 3);
            row->i.colour_id = db_col_int64(st, 4);
            row->k.position = db_col_int64(st, 5);
            break;
        }
        case 3: {
            out->reviews = grow(a, out->reviews, out->nreviews, &rcap, sizeof *out->reviews);
            repo_review *rv = &out->reviews[out->nreviews++];
            rv->id = db_col_int64(st, 1);
            rv->rating = db_col_int64(st, 2);
            rv->title = col_dup(a, st, 3);
            rv->body = col_dup(a, st, 4);
            rv->author = col_dup(a, st, 5);
            rv->verified = db_col_int64(st, 6) != 0;
            rv->created_at = col_dup(a, st, 7);
            /* the shop's reply (migrations/0010): text and date, or none */
            rv->reply = db_col_is_null(st, 8) ? NULL : col_dup(a, st, 8);
            rv->replied_at = rv->reply ? col_dup(a, st, 10) : NULL;
            break;
        }
        }
    }
    db_reset(st);
    if (r < 0) return -1;
    if (!found) return 0;
    if (out->nvariants > 1) qsort(vr, (size_t)out->nvariants, sizeof *vr, cmp_variant_row);
    if (out->nimages > 1) qsort(ir, (size_t)out->nimages, sizeof *ir, cmp_image_row);
    if (out->nreviews > 1) qsort(out->reviews, (size_t)out->nreviews, sizeof *out->reviews, cmp_review);
    if (out->nvariants) out->variants = arena_alloc(a, (size_t)out->nvariants * sizeof *out->variants);
    for (int i = 0; i < out->nvariants; i++) out->variants[i] = vr[i].v;
    if (out->nimages) out->images = arena_alloc(a, (size_t)out->nimages * sizeof *out->images);
    for (int i = 0; i < out->nimages; i++) out->images[i] = ir[i].i;
    return 1;
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

int repo_cards_by_slugs(arena *a, const char *const *slugs, int n, repo_card **out, int *nout)
{
    /* always REPO_SLUGS_MAX placeholders (unused ones NULL): one statement */
    static const char sql[] = "SELECT " CARD_COLS CARD_FROM " WHERE p.active = 1 AND p.slug IN "
                              "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    *out = NULL;
    *nout = 0;
    if (n > REPO_SLUGS_MAX) n = REPO_SLUGS_MAX;
    if (n <= 0) return 0;
    db_stmt *st = db_prepare(db_conn_get(), sql);
    if (!st) return -1;
    for (int i = 0; i < REPO_SLUGS_MAX; i++) {
        if (i < n) db_bind_text(st, i, slugs[i], -1);
        else db_bind_null(st, i);
    }
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    return fetch_cards(a, st, out, nout);
}

int repo_product_facts(const char *slug, char *brand, size_t brandlen, char *gender, size_t genderlen)
{
    db_stmt *st = db_prepare(db_conn_get(), "SELECT b.slug, p.gender FROM products p JOIN brands b ON b.id = p.brand_id"
                                            " WHERE p.slug = ?");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    int r = exec_fetch(st);
    if (r == 1) {
        text_copy(brand, brandlen, db_col_text(st, 0, NULL));
        text_copy(gender, genderlen, db_col_text(st, 1, NULL));
        db_reset(st);
    }
    return r;
}

/* One text column of a one-key lookup (an old slug's current slug): 1
 * found (to set), 0 not, -1 error. */
static int slug_of(const char *sql, const char *key, char *to, size_t tolen)
{
    db_conn *c = db_conn_get();
    db_stmt *st = c ? db_prepare(c, sql) : NULL;
    if (!st) return -1;
    db_bind_text(st, 0, key, -1);
    int r = exec_fetch(st);
    if (r == 1) {
        text_copy(to, tolen, db_col_text(st, 0, NULL));
        db_reset(st);
    }
    return r;
}

int repo_slug_redirect(const char *old_slug, char *to, size_t tolen)
{
    return slug_of("SELECT p.slug FROM product_slug_redirects r JOIN products p ON p.id = r.product_id"
                   " WHERE r.old_slug = ? AND p.active = 1",
                   old_slug, to, tolen);
}

int repo_category_slug_redirect(const char *old_slug, char *to, size_t tolen)
{
    return slug_of("SELECT k.slug FROM category_slug_redirects r JOIN categories k ON k.id = r.category_id"
                   " WHERE r.old_slug = ?",
                   old_slug, to, tolen);
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

/* A row locked by a unique key, as CATALOG_OK / CATALOG_ERR_NOT_FOUND /
 * CATALOG_ERR_STORE. */
static int lock_result(int r) { return r < 0 ? CATALOG_ERR_STORE : r == 0 ? CATALOG_ERR_NOT_FOUND : CATALOG_OK; }

int repo_add_review(db_conn *c, const char *slug, int rating, const char *title, const char *body, const char *author,
                    const char *status, bool verified, int64_t user_id, int64_t *product_id, int64_t *id_out)
{
    /* The product row is locked first (as in moderation) so aggregates of
     * concurrent review changes are computed one after the other. */
    int rc = lock_result(lock_id(c, "SELECT id FROM products WHERE slug = ? FOR UPDATE", slug, 0, product_id));
    if (rc != CATALOG_OK) return rc;
    db_stmt *st = db_prepare(c, "INSERT INTO reviews (product_id, rating, title, body, author_name,"
                                " verified_purchase, status, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return CATALOG_ERR_STORE;
    db_bind_int64(st, 0, *product_id);
    db_bind_int64(st, 1, rating);
    db_bind_text(st, 2, title, -1);
    db_bind_text(st, 3, body, -1);
    db_bind_text(st, 4, author, -1);
    db_bind_int64(st, 5, verified ? 1 : 0);
    db_bind_text(st, 6, status, -1);
    if (user_id > 0) db_bind_int64(st, 7, user_id);
    else db_bind_null(st, 7);
    if (db_exec(st) < 0) rc = CATALOG_ERR_STORE;
    else if (id_out) *id_out = (int64_t)db_insert_id(st);
    db_reset(st);
    if (rc == CATALOG_OK && strcmp(status, "approved") == 0 && recompute_rating(c, *product_id) < 0) rc = CATALOG_ERR_STORE;
    return rc;
}

int repo_moderate_review(db_conn *c, int64_t id, const char *status, int64_t *product_id)
{
    int64_t locked = 0;
    int rc = lock_result(lock_id(c, "SELECT product_id FROM reviews WHERE id = ?", NULL, id, product_id));
    if (rc == CATALOG_OK && lock_id(c, "SELECT id FROM products WHERE id = ? FOR UPDATE", NULL, *product_id, &locked) != 1)
        rc = CATALOG_ERR_STORE;
    if (rc != CATALOG_OK) return rc;
    db_stmt *st = db_prepare(c, "UPDATE reviews SET status = ? WHERE id = ?");
    if (!st) return CATALOG_ERR_STORE;
    db_bind_text(st, 0, status, -1);
    db_bind_int64(st, 1, id);
    if (simple_exec(st) < 0 || recompute_rating(c, *product_id) < 0) return CATALOG_ERR_STORE;
    return CATALOG_OK;
}

/* ------------------------------------------------------------------ */
/* What a change means for cached pages                                  */

#define STOCK_FACTS_CHUNK 16

int repo_stock_facts(db_conn *c, arena *a, const int64_t *variant_ids, int n, repo_stock_fact *out)
{
    /* always STOCK_FACTS_CHUNK placeholders (unused ones NULL): one statement */
    static const char sql[] = "SELECT v.id, v.product_id, v.stock, FIND_IN_SET(v.size_key, p.stock_sizes) > 0, p.slug,"
                              " p.category_id FROM variants v JOIN products p ON p.id = v.product_id"
                              " WHERE v.id IN (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    int found = 0;
    for (int start = 0; start < n; start += STOCK_FACTS_CHUNK) {
        db_stmt *st = db_prepare(c, sql);
        if (!st) return -1;
        for (int i = 0; i < STOCK_FACTS_CHUNK; i++) {
            if (start + i < n) db_bind_int64(st, i, variant_ids[start + i]);
            else db_bind_null(st, i);
        }
        if (db_exec(st) < 0) { db_reset(st); return -1; }
        int r;
        while ((r = db_fetch(st)) == 1 && found < n) {
            repo_stock_fact *f = &out[found++];
            f->variant_id = db_col_int64(st, 0);
            f->product_id = db_col_int64(st, 1);
            f->stock = db_col_int64(st, 2);
            f->size_listed = db_col_int64(st, 3) != 0;
            f->product_slug = col_dup(a, st, 4);
            f->category_id = db_col_int64(st, 5);
        }
        db_reset(st);
        if (r < 0) return -1;
    }
    return found;
}

int repo_product_ref(db_conn *c, arena *a, int64_t product_id, const char **slug, int64_t *category_id)
{
    db_stmt *st = db_prepare(c, "SELECT slug, category_id FROM products WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, product_id);
    int r = exec_fetch(st);
    if (r == 1) {
        *slug = col_dup(a, st, 0);
        *category_id = db_col_int64(st, 1);
        db_reset(st);
    }
    return r;
}

int repo_category_path(db_conn *c, arena *a, int64_t category_id, const char **slugs, int max)
{
    db_stmt *st = db_prepare(c, "WITH RECURSIVE path (id, parent_id, slug, depth) AS ("
                                " SELECT id, parent_id, slug, 0 FROM categories WHERE id = ?"
                                " UNION ALL SELECT c.id, c.parent_id, c.slug, path.depth + 1 FROM categories c"
                                " JOIN path ON c.id = path.parent_id WHERE path.depth < 16)"
                                " SELECT slug FROM path ORDER BY depth");
    if (!st) return -1;
    db_bind_int64(st, 0, category_id);
    if (db_exec(st) < 0) { db_reset(st); return -1; }
    int n = 0, r;
    while ((r = db_fetch(st)) == 1)
        if (n < max) slugs[n++] = col_dup(a, st, 0);
    db_reset(st);
    return r < 0 ? -1 : n;
}

/* ------------------------------------------------------------------ */
/* Seeding                                                              */

int repo_meta_get(db_conn *c, const char *key, char *out, size_t outlen)
{
    db_stmt *st = db_prepare(c, "SELECT meta_value FROM app_meta WHERE meta_key = ?");
    if (!st) return -1;
    db_bind_text(st, 0, key, -1);
    int r = exec_fetch(st);
    if (r == 1) {
        snprintf(out, outlen, "%s", db_col_text(st, 0, NULL));
        db_reset(st);
    }
    return r;
}

int repo_meta_set(db_conn *c, const char *key, const char *value)
{
    db_stmt *st = db_prepare(c, "INSERT INTO app_meta (meta_key, meta_value) VALUES (?, ?)"
                                            " ON DUPLICATE KEY UPDATE meta_value = VALUES(meta_value)");
    if (!st) return -1;
    db_bind_text(st, 0, key, -1);
    db_bind_text(st, 1, value, -1);
    return simple_exec(st);
}

int repo_count_rows(db_conn *c, const char *table, int64_t *n)
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
        db_stmt *st = db_prepare(c, tables[i][1]);
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

int repo_wipe_catalogue(db_conn *c)
{
    static const char *const deletes[] = {
        "DELETE FROM reviews", "DELETE FROM product_images", "DELETE FROM variants", "DELETE FROM products",
        "DELETE FROM brands", "DELETE FROM colours",
    };
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

int64_t repo_insert_category(db_conn *c, int64_t parent_id, const char *slug, const char *name, int position)
{
    db_stmt *st = db_prepare(c, "INSERT INTO categories (parent_id, slug, name, position) VALUES (?, ?, ?, ?)");
    if (!st) return -1;
    if (parent_id > 0) db_bind_int64(st, 0, parent_id);
    else db_bind_null(st, 0);
    db_bind_text(st, 1, slug, -1);
    db_bind_text(st, 2, name, -1);
    db_bind_int64(st, 3, position);
    return insert_id_or_fail(st);
}

int64_t repo_insert_brand(db_conn *c, const char *slug, const char *name)
{
    db_stmt *st = db_prepare(c, "INSERT INTO brands (slug, name) VALUES (?, ?)");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    db_bind_text(st, 1, name, -1);
    return insert_id_or_fail(st);
}

int64_t repo_insert_colour(db_conn *c, const char *slug, const char *name, const char *hex, int position)
{
    db_stmt *st = db_prepare(c, "INSERT INTO colours (slug, name, hex, position) VALUES (?, ?, ?, ?)");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    db_bind_text(st, 1, name, -1);
    db_bind_text(st, 2, hex, -1);
    db_bind_int64(st, 3, position);
    return insert_id_or_fail(st);
}

int64_t repo_insert_product(db_conn *c, const repo_new_product *p)
{
    db_stmt *st = db_prepare(c,
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

int64_t repo_insert_variant(db_conn *c, int64_t product_id, int64_t colour_id, const char *sku, const char *system,
                            double size_value, const char *size_label, const char *width, int64_t stock)
{
    db_stmt *st = db_prepare(c,
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
    return insert_id_or_fail(st);
}

int repo_insert_image(db_conn *c, int64_t product_id, int64_t colour_id, const char *url, const char *alt, int position)
{
    db_stmt *st = db_prepare(c, "INSERT INTO product_images (product_id, colour_id, url, alt, position)"
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

int repo_insert_review_seed(db_conn *c, int64_t product_id, int rating, const char *title, const char *body,
                            const char *author, bool verified, const char *status, int64_t age_seconds)
{
    db_stmt *st = db_prepare(c,
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

int repo_recompute_all_ratings(db_conn *c)
{
    db_stmt *st = db_prepare(c,
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
