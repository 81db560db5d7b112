/* catalog_repo.h — all SQL of the catalogue (tables of migrations/0002).
 *
 * Readers return plain rows whose strings live in the caller's arena; the
 * view models are built from them in shop/catalog.c. Every statement is
 * prepared with '?' placeholders. Listing queries are assembled from a
 * fixed vocabulary of fragments chosen by WHICH filters are present (never
 * by their values): multi-valued filters always bind CATALOG_MAX_MULTI
 * placeholders (unused ones NULL), so there is a bounded number of distinct
 * statements, each built once per process and cached per connection by
 * db_prepare: 64 filter combinations (category, q, brands, colours, sizes,
 * gender; the price range is always bound) × (6 sorts + count + price) plus
 * 4 facets × 32 = at most 640 per connection, reached only if every
 * combination is requested. (Conditions of the form "? IS NULL OR ..." were
 * measured and rejected: they stop MariaDB from using the semi-join and
 * index plans that EXPLAIN shows for these fragments.)
 *
 * Functions return 0 on success and -1 on a store error (logged), unless
 * documented otherwise. */
#ifndef SHOEASE_DB_CATALOG_REPO_H
#define SHOEASE_DB_CATALOG_REPO_H

#include "core/arena.h"
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
    const char *colours;               /* records "name\x1fhex\x1fslug" joined by \x1e, in colour order */
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
} repo_review;

typedef struct repo_category {
    int64_t id, parent_id;             /* parent_id 0 = top level */
    const char *slug, *name;
} repo_category;

typedef struct repo_facet {
    const char *value, *label, *hex;   /* hex only for colours ("" otherwise) */
    int64_t count;
} repo_facet;

/* A parsed filter plus its search terms (catalog_search_terms; "" = none). */
typedef struct repo_query {
    const catalog_filter *f;
    const char *terms;
} repo_query;

/* ---- Listing ---- */
int repo_count_products(const repo_query *q, int64_t *total);
int repo_list_products(arena *a, const repo_query *q, int64_t offset, int limit, repo_card **out, int *n);
enum repo_facet_kind { FACET_SIZES, FACET_BRANDS, FACET_COLOURS, FACET_GENDERS };
int repo_facet_counts(arena *a, const repo_query *q, enum repo_facet_kind kind, repo_facet **out, int *n);
/* min/max price of the listing without its price filter; *n = products */
int repo_price_range(const repo_query *q, int64_t *min, int64_t *max, int64_t *n);
/* Names for selected values that have no products in the facet. */
int repo_brand_name(arena *a, const char *slug, const char **name);            /* 1 found, 0 not */
int repo_colour_info(arena *a, const char *slug, const char **name, const char **hex);

/* ---- Product page ---- */
/* 1 found (active), 0 not found, -1 error. */
int repo_product_by_slug(arena *a, const char *slug, repo_product *out);
int repo_product_variants(arena *a, int64_t product_id, repo_variant **out, int *n);
int repo_product_images(arena *a, int64_t product_id, repo_image **out, int *n);
int repo_product_reviews(arena *a, int64_t product_id, int limit, repo_review **out, int *n);

/* ---- Categories and home ---- */
/* All categories ordered by (parent, position, name). */
int repo_categories(arena *a, repo_category **out, int *n);
enum repo_home_kind { HOME_FEATURED, HOME_NEWEST };
int repo_home_cards(arena *a, enum repo_home_kind kind, int limit, repo_card **out, int *n);

/* ---- Store-owner writes: each one transaction; 0, or CATALOG_ERR_* ---- */
int repo_set_stock(const char *sku, int64_t n);
int repo_set_price(const char *slug, int64_t price, int64_t compare_at);
int repo_add_review(const char *slug, int rating, const char *title, const char *body, const char *author,
                    const char *status, bool verified, int64_t *id_out);
int repo_moderate_review(int64_t id, const char *status);

/* ---- Seeding (the caller runs the transaction) ---- */
int repo_meta_get(const char *key, char *out, size_t outlen);   /* 1 found, 0 absent, -1 error */
int repo_meta_set(const char *key, const char *value);
int repo_count_rows(const char *table, int64_t *n);   /* table: one of the catalogue tables */
int repo_wipe_catalogue(void);                        /* DELETE all catalogue rows (in the caller's tx) */
int64_t repo_insert_category(int64_t parent_id, const char *slug, const char *name, int position);
int64_t repo_insert_brand(const char *slug, const char *name);
int64_t repo_insert_colour(const char *slug, const char *name, const char *hex, int position);
typedef struct repo_new_product {
    const char *slug, *name, *description, *currency, *gender, *material, *tags;
    int64_t brand_id, category_id, price, compare_at;  /* compare_at -1 = none */
    bool featured;
    int64_t popularity;
    int64_t age_seconds;          /* created_at = now - age */
} repo_new_product;
int64_t repo_insert_product(const repo_new_product *p);
int repo_insert_variant(int64_t product_id, int64_t colour_id, const char *sku, const char *system,
                        double size_value, const char *size_label, const char *width, int64_t stock);
int repo_insert_image(int64_t product_id, int64_t colour_id, const char *url, const char *alt, int position);
int repo_insert_review_seed(int64_t product_id, int rating, const char *title, const char *body, const char *author,
                            bool verified, const char *status, int64_t age_seconds);
/* Recompute rating_avg/rating_count of every product from approved reviews. */
int repo_recompute_all_ratings(void);

/* Image files for every product×colour image under /media/products/:
 * calls fn with what a generator needs to draw it. */
typedef void (*repo_image_fn)(void *ctx, const char *url, const char *brand_name, const char *category_slug,
                              const char *colour_hex);
int repo_each_product_image(repo_image_fn fn, void *ctx);

#endif
