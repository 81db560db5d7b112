/* product_admin_repo.h — the SQL of the admin portal's catalogue screens:
 * products as staff list and edit them, their variants (the size grid),
 * stock adjustments and the old slugs of renamed products
 * (migrations/0002, 0009).
 *
 *   db_conn *c = db_tx_conn(tx);
 *   pa_product p;
 *   if (pa_product_get(c, a, id, true, &p) != 1) return …;      // locked for this unit of work
 *   p.price = 8999;
 *   if (pa_product_update(c, &p) < 0) return DB_TX_FAILED;      // version + 1
 *
 * Rules: statements are prepared from fixed fragments ('?' for every
 * value; the list's ORDER BY and stock condition are picked from tables
 * here, never written from input); writers take the caller's unit of
 * work's connection (db/tx.h) and never begin, commit or roll back;
 * strings read live in the caller's arena. 0 / -1 (a store error, logged;
 * db_last_errno() tells a duplicate key, 1062) unless said otherwise. */
#ifndef SHOEASE_DB_PRODUCT_ADMIN_REPO_H
#define SHOEASE_DB_PRODUCT_ADMIN_REPO_H

#include "core/arena.h"
#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

/* A product as the edit form shows it; the list reads the same struct
 * (without description, material and tags). */
typedef struct pa_product {
    int64_t id, version, brand_id, category_id;
    int64_t price, compare_at;                    /* minor units; compare_at -1 = none */
    const char *slug, *name, *description, *material, *tags, *gender, *tax_class, *currency;
    bool active, featured;
    /* read only */
    const char *brand_name, *category_name, *updated_at;  /* "YYYY-MM-DD HH:MM" UTC */
    int64_t stock_total, variants, cells_in_stock, cells_low;
} pa_product;

/* ---- the list ---- */
enum pa_sort { PA_SORT_NAME, PA_SORT_PRICE, PA_SORT_STOCK, PA_SORT_UPDATED, PA_SORTS };
enum pa_stock_state {
    PA_STOCK_ANY,
    PA_STOCK_IN,        /* some pairs in stock */
    PA_STOCK_LOW,       /* a size with 1 to 3 pairs left ("Only 2 left" on the shop) */
    PA_STOCK_PARTLY,    /* some sizes sold out, others not */
    PA_STOCK_OUT,       /* sizes, none in stock */
    PA_STOCK_NO_SIZES,  /* no variants yet */
    PA_STOCK_STATES
};
typedef struct pa_list_query {
    const char *q;                 /* in the name, the slug or a SKU; NULL: any */
    int64_t category_id;           /* with its subtree; 0: any */
    int64_t brand_id;              /* 0: any */
    int active;                    /* -1 any, 0 inactive, 1 active */
    enum pa_stock_state stock;
    enum pa_sort sort;
    bool desc;
    int offset, limit;
} pa_list_query;
int pa_product_list(db_conn *c, arena *a, const pa_list_query *q, pa_product **out, int *n, int64_t *total);

/* ---- one product ---- */
/* 1 found, 0 not, -1. lock: SELECT … FOR UPDATE (the product row only). */
int pa_product_get(db_conn *c, arena *a, int64_t id, bool lock, pa_product *out);
/* The id of the product with this slug (collation: any case): 1, 0, -1. */
int pa_product_by_slug(db_conn *c, const char *slug, int64_t *id);
/* Insert p (version 1); *id the new id. */
int pa_product_insert(db_conn *c, const pa_product *p, int64_t *id);
/* Every field of the form, version + 1, WHERE id AND version = p->version:
 * 1 updated, 0 the version moved on, -1. */
int pa_product_update(db_conn *c, const pa_product *p);
/* Price and compare-at (-1: none) / the active flag, version + 1. */
int pa_product_set_price(db_conn *c, int64_t id, int64_t price, int64_t compare_at);
int pa_product_set_active(db_conn *c, int64_t id, bool active);

/* The name and slug of a brand, a category or a colour: 1, 0 (no such), -1. */
enum pa_ref { PA_BRAND, PA_CATEGORY, PA_COLOUR };
int pa_ref_get(db_conn *c, arena *a, enum pa_ref kind, int64_t id, const char **name, const char **slug);

/* ---- old slugs ---- */
/* old_slug answers with product_id's current slug from now on. */
int pa_redirect_add(db_conn *c, const char *old_slug, int64_t product_id);
/* A product took this slug: it is no longer an old address. */
int pa_redirect_remove(db_conn *c, const char *slug);

/* ---- variants ---- */
typedef struct pa_variant {
    int64_t id, product_id, colour_id, stock;
    int size_tenths;                               /* 95 = 9.5 */
    const char *sku, *size_system, *size_label, *width;
    const char *colour_name, *colour_slug, *colour_hex;
    const char *product_slug, *product_name;       /* pa_variant_get only */
} pa_variant;
/* A product's variants by colour (position), size system, size, width. */
int pa_variants_of(db_conn *c, arena *a, int64_t product_id, pa_variant **out, int *n);
/* 1, 0, -1; lock: the variant row FOR UPDATE. By id, or by SKU (id 0). */
int pa_variant_get(db_conn *c, arena *a, int64_t id, const char *sku, bool lock, pa_variant *out);
/* Lock these variants (ids ascending, as the orders lock them) and read
 * their stock: out[i] for ids[i]; -1 stock for an id that is not found. */
int pa_variants_lock(db_conn *c, const int64_t *ids, int n, int64_t *product_ids, int64_t *stock);
int pa_variant_set_stock(db_conn *c, int64_t id, int64_t stock);

/* ---- stock adjustments ---- */
typedef struct pa_adjustment {
    int64_t id, variant_id, delta, stock_before, stock_after, actor_id;
    const char *at, *reason, *note, *actor;        /* at: "YYYY-MM-DD HH:MM:SS" UTC */
} pa_adjustment;
int pa_adjustment_add(db_conn *c, const pa_adjustment *adj);
/* Newest first; *total of the variant's. */
int pa_adjustments_of(db_conn *c, arena *a, int64_t variant_id, int offset, int max, pa_adjustment **out, int *n,
                      int64_t *total);

#endif
