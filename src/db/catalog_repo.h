/* catalog_repo.h — all SQL of the catalogue (tables of migrations/0002).
 *
 * Readers return plain rows whose strings live in the caller's arena; the
 * view models are built from them in shop/catalog.c. Every statement is
 * prepared with '?' placeholders.
 *
 * A listing is ONE statement (repo_listing): the active products of the
 * category (and its subtree) that match the search, each with what its
 * card, the sort orders and the facets need, and the facet filters (brand,
 * colour, size, gender) as flag columns rather than conditions. The caller
 * (shop/catalog.c) counts the facets, applies the price range, sorts and
 * pages from those rows. Per-variant facts come from columns that
 * migrations/0003 keeps on the product row by trigger (stock_sizes,
 * colour_ids, card_image_*), so no statement groups variants per page.
 * The SQL is assembled from a fixed vocabulary of fragments chosen by
 * WHICH filters are present (never by their values): multi-valued
 * filters always bind CATALOG_MAX_MULTI placeholders (unused ones NULL),
 * a category subtree REPO_CATEGORY_IDS_MAX ids. That bounds the distinct
 * statements at 6 sorts × 128 masks, each built once per process and
 * cached per connection by db_prepare.
 *
 * Functions return 0 on success and -1 on a store error (logged), unless
 * documented otherwise. Readers use the thread's connection; writers take
 * the connection of the caller's unit of work (db/tx.h) and never begin,
 * commit or roll back. */
#ifndef SHOEASE_DB_CATALOG_REPO_H
#define SHOEASE_DB_CATALOG_REPO_H

#include "core/arena.h"
#include "db/db.h"
#include "shop/catalog.h"

#include <stdbool.h>
#include <stdint.h>

/* One product as a listing card shows it. */
typedef struct repo_card {
    int64_t id;
    const char *slug, *name, *brand_slug, *brand_name;
    int64_t price, compare_at;        /* minor units; compare_at -1 = none */
    char currency[4];
    double rating_avg;
    int64_t rating_count;
    const char *image_url, *image_alt; /* "" when the product has no image */
    const char *colours;               /* records "name\x1fhex\x1fslug" joined by \x1e, in colour order;
                                          NULL from repo_read_product_page (its variants have them) */
    bool in_stock;                     /* some variant has stock > 0 */
} repo_card;

typedef struct repo_product {
    repo_card card;
    const char *description, *material, *gender, *tags, *created_at; /* created_at ISO 8601 UTC */
    int64_t category_id;
} repo_product;

typedef struct repo_variant {
    int64_t id, stock, colour_id;
    const char *sku, *size_system, *size_label, *size_key, *width;
    double size_value;
    const char *colour_slug, *colour_name, *colour_hex;
} repo_variant;

typedef struct repo_image {
    const char *url, *alt;
    int64_t colour_id;                 /* 0 = whole product */
} repo_image;

typedef struct repo_review {
    int64_t id, rating;
    const char *title, *body, *author, *created_at;  /* ISO 8601 UTC */
    bool verified;
    const char *reply, *replied_at;  /* the shop's reply and when (ISO 8601 UTC); NULL: none */
} repo_review;

typedef struct repo_category {
    int64_t id, parent_id;             /* parent_id 0 = top level */
    const char *slug, *name;
} repo_category;

/* A parsed filter plus its search terms (catalog_search_terms; "" = none). */
typedef struct repo_query {
    const catalog_filter *f;
    const char *terms;
} repo_query;

/* ---- Listing ---- */
/* At most this many category ids are bound; a bigger subtree is walked in
 * SQL (a recursive CTE from the slug) instead. */
#define REPO_CATEGORY_IDS_MAX 64

/* One candidate product of a listing (see the top of this file). Strings
 * live in the caller's arena. */
typedef struct repo_listing_row {
    int64_t id, brand_id, price, compare_at;   /* compare_at -1 = none */
    char currency[4];
    double rating_avg;
    int64_t rating_hundredths;                 /* rating_avg exactly, ×100 (sorting) */
    int64_t rating_count;
    const char *slug, *name, *image_url, *image_alt;
    const char *stock_sizes;                   /* "uk-10,uk-7": size_keys with stock > 0 */
    const char *colour_ids;                    /* "3,7": colours of all its variants */
    const char *gender;
    /* sort keys; only those of the query's sort are read (others 0/"") */
    bool featured;
    int64_t popularity;
    const char *created_at;                    /* "YYYY-MM-DD HH:MM:SS" (sorts as text) */
    double relevance;                          /* search relevance (sort relevance with q) */
    /* the facet filters: does the product pass it (true when it is not set) */
    bool brand_ok, colour_ok, size_ok, gender_ok;
} repo_listing_row;

/* The candidates of q. category_ids (ncategory_ids of them, at most
 * REPO_CATEGORY_IDS_MAX) is the category filter's subtree when the caller
 * has resolved it; with ncategory_ids 0 the slug in q->f->category is
 * resolved in SQL. Rows come in no particular order. */
int repo_listing(arena *a, const repo_query *q, const int64_t *category_ids, int ncategory_ids,
                 repo_listing_row **out, int *n);

/* Reference data: every brand ordered by (name, id) (the brand facet's
 * order), every colour ordered by (position, id). */
typedef struct repo_brand {
    int64_t id;
    const char *slug, *name;
} repo_brand;
typedef struct repo_colour {
    int64_t id, position;
    const char *slug, *name, *hex;
} repo_colour;
int repo_brands(arena *a, repo_brand **out, int *n);
int repo_colours(arena *a, repo_colour **out, int *n);

/* Names for selected values that have no products in the facet. */
int repo_brand_name(arena *a, const char *slug, const char **name);            /* 1 found, 0 not */
int repo_colour_info(arena *a, const char *slug, const char **name, const char **hex);

/* ---- Product page ---- */
/* Everything a product page shows, in one statement. card.colours is NULL
 * and card.in_stock unset: the variants have both. Variants come ordered
 * by colour (position, id), size system, size, width; images by
 * (position, id); at most review_limit approved reviews, newest first. */
typedef struct repo_product_page {
    repo_product product;
    repo_variant *variants;
    repo_image *images;
    repo_review *reviews;
    int nvariants, nimages, nreviews;
} repo_product_page;
/* 1 found (active), 0 not found, -1 error. */
int repo_read_product_page(arena *a, const char *slug, int review_limit, repo_product_page *out);

/* ---- Categories and home ---- */
/* All categories ordered by (parent, position, name). */
int repo_categories(arena *a, repo_category **out, int *n);
enum repo_home_kind { HOME_FEATURED, HOME_NEWEST };
int repo_home_cards(arena *a, enum repo_home_kind kind, int limit, repo_card **out, int *n);
/* Cards of the active products among slugs (at most REPO_SLUGS_MAX), in no
 * particular order. */
#define REPO_SLUGS_MAX 20
int repo_cards_by_slugs(arena *a, const char *const *slugs, int n, repo_card **out, int *nout);
/* The current slug of the active product that used to be at old_slug
 * (product_slug_redirects, migrations/0009): 1 found, 0 not, -1 error. */
int repo_slug_redirect(const char *old_slug, char *to, size_t tolen);
/* The same for a category (category_slug_redirects, migrations/0014). */
int repo_category_slug_redirect(const char *old_slug, char *to, size_t tolen);
/* A product's brand slug and gender: 1 found, 0 not, -1 error. */
int repo_product_facts(const char *slug, char *brand, size_t brandlen, char *gender, size_t genderlen);

/* ---- Store-owner writes ----
 * Statements only, on the caller's unit of work's connection (db/tx.h:
 * shop/catalog_admin.c runs them with db_tx_run). 0 (CATALOG_OK), or
 * CATALOG_ERR_NOT_FOUND / CATALOG_ERR_STORE. Each locks the row it changes
 * (SELECT … FOR UPDATE) and reports what the caller needs to invalidate
 * cached pages. */
/* (Stock and prices: db/product_admin_repo.h.) */
/* user_id: the shopper who wrote it (0: added by the store owner). */
int repo_add_review(db_conn *c, const char *slug, int rating, const char *title, const char *body, const char *author,
                    const char *status, bool verified, int64_t user_id, int64_t *product_id, int64_t *id_out);
int repo_moderate_review(db_conn *c, int64_t id, const char *status, int64_t *product_id);

/* ---- What a change means for cached pages (inside the unit of work) ---- */
/* Per variant: its product, its stock as this transaction sees it (its own
 * change included), and whether the product's stock_sizes (migrations/0003:
 * kept by trigger, what listings show) still lists the variant's size.
 * Strings in a. Count found (at most n), or -1. */
typedef struct repo_stock_fact {
    int64_t variant_id, product_id, category_id, stock;
    bool size_listed;
    const char *product_slug;
} repo_stock_fact;
int repo_stock_facts(db_conn *c, arena *a, const int64_t *variant_ids, int n, repo_stock_fact *out);
/* A product's slug and category: 1 found, 0 not, -1 error. */
int repo_product_ref(db_conn *c, arena *a, int64_t product_id, const char **slug, int64_t *category_id);
/* The slugs from a category up to its top-level ancestor (at most max).
 * Count, or -1. */
int repo_category_path(db_conn *c, arena *a, int64_t category_id, const char **slugs, int max);

/* ---- Seeding (statements only, inside the caller's unit of work) ---- */
int repo_meta_get(db_conn *c, const char *key, char *out, size_t outlen);   /* 1 found, 0 absent, -1 error */
int repo_meta_set(db_conn *c, const char *key, const char *value);
int repo_count_rows(db_conn *c, const char *table, int64_t *n);   /* table: one of the catalogue tables */
int repo_wipe_catalogue(db_conn *c);                              /* DELETE all catalogue rows */
int64_t repo_insert_category(db_conn *c, int64_t parent_id, const char *slug, const char *name, int position);
int64_t repo_insert_brand(db_conn *c, const char *slug, const char *name);
int64_t repo_insert_colour(db_conn *c, const char *slug, const char *name, const char *hex, int position);
typedef struct repo_new_product {
    const char *slug, *name, *description, *currency, *gender, *material, *tags;
    int64_t brand_id, category_id, price, compare_at;  /* compare_at -1 = none */
    bool featured;
    int64_t popularity;
    int64_t age_seconds;          /* created_at = now - age */
} repo_new_product;
int64_t repo_insert_product(db_conn *c, const repo_new_product *p);
/* The new variant's id, or -1 (db_last_errno() 1062: the SKU or the option exists). */
int64_t repo_insert_variant(db_conn *c, int64_t product_id, int64_t colour_id, const char *sku, const char *system,
                            double size_value, const char *size_label, const char *width, int64_t stock);
int repo_insert_image(db_conn *c, int64_t product_id, int64_t colour_id, const char *url, const char *alt, int position);
int repo_insert_review_seed(db_conn *c, int64_t product_id, int rating, const char *title, const char *body,
                            const char *author, bool verified, const char *status, int64_t age_seconds);
/* Recompute rating_avg/rating_count of every product from approved reviews. */
int repo_recompute_all_ratings(db_conn *c);

/* Image files for every product×colour image under /media/products/:
 * calls fn with what a generator needs to draw it. */
typedef void (*repo_image_fn)(void *ctx, const char *url, const char *brand_name, const char *category_slug,
                              const char *colour_hex);
int repo_each_product_image(repo_image_fn fn, void *ctx);

#endif
