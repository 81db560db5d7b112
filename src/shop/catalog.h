/* catalog.h — the shop's catalogue rules: what a shopper may ask for
 * (filters, sorting, paging), and what they get back (view models).
 *
 * Free of HTTP and of SQL: callers hand in parameters through a getter
 * (a query string, a JSON API call or a test all look the same here), and
 * the SQL lives in db/catalog_repo.c. Results are jansson objects because
 * both consumers want exactly that: the Mustache templates render them and
 * the JSON API serialises them. Every money amount is an integer in minor
 * units plus a preformatted display string.
 *
 * Shapes (keys always present unless marked optional):
 *   money   = {"amount": 12999, "currency": "GBP", "display": "£129.99"}
 *   product_card = {"id", "slug", "name", "brand": {"slug","name"}, "price": money,
 *                   "compare_at": money|null, "on_sale": bool, "image": {"url","alt"},
 *                   "rating": {"average": 4.3 (1 decimal), "count": 12, "stars": "★★★★☆"},
 *                   "colours": [{"name","hex"}], "in_stock": bool, "url": "/products/<slug>"}
 *   listing = {"products": [product_card], "total", "page", "pages", "per_page",
 *              "has_prev", "has_next", "prev_page", "next_page",
 *              "filters": {echo of the parsed filter, as query-string values},
 *              "facets": {"sizes": [{"value":"uk-9","label":"UK 9","count","selected"}],
 *                         "brands": [{"value","label","count","selected"}],
 *                         "colours": [{"value","label","hex","count","selected"}],
 *                         "genders": [{"value","label","count","selected"}],
 *                         "price": {"min": money, "max": money}},
 *              "sorts": [{"value","label","selected"}]}
 *   product = product_card + {"description", "material", "gender", "tags": [..],
 *              "category": {"slug","name","url"}, "breadcrumbs": [{"name","url"}],
 *              "images": [{"url","alt"}],
 *              "options": [{"colour": {"name","slug","hex"}, "sizes": [
 *                  {"variant_id","sku","label":"UK 9","system":"UK","value":"uk-9","width":"Standard",
 *                   "stock", "sold_out": bool, "low_stock": bool, "stock_label": "Only 2 left"|"In stock"|"Sold out"}]}],
 *              "reviews": [{"id","rating","stars","title","body","author","verified","created_at"}],
 *              "size_guide": [{"uk","eu","us","cm"}]}
 *   category tree = [{"id","slug","name","url","children":[...]}]
 */
#ifndef SHOEASE_SHOP_CATALOG_H
#define SHOEASE_SHOP_CATALOG_H

#include "core/arena.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define CATALOG_MAX_MULTI 16      /* values per multi-valued filter */
#define CATALOG_DEFAULT_PER_PAGE 24
#define CATALOG_MAX_PER_PAGE 60   /* page size is capped, never trusted */
#define CATALOG_MAX_PAGE 10000

enum catalog_sort { SORT_RELEVANCE, SORT_NEWEST, SORT_PRICE_ASC, SORT_PRICE_DESC, SORT_RATING, SORT_POPULAR };

typedef struct catalog_filter {
    const char *category;                     /* category slug (includes its subtree); NULL = all */
    const char *q;                            /* full-text search; NULL = none */
    const char *brands[CATALOG_MAX_MULTI];    int nbrands;    /* brand slugs */
    const char *colours[CATALOG_MAX_MULTI];   int ncolours;   /* colour slugs */
    const char *sizes[CATALOG_MAX_MULTI];     int nsizes;     /* size values like "uk-9" */
    const char *gender;                       /* men|women|kids|unisex; NULL = any */
    int64_t price_min, price_max;             /* minor units; -1 = unbounded */
    enum catalog_sort sort;
    int page, per_page;
} catalog_filter;

/* How parameters reach the parser: `get` returns the value(s) of `name`
 * (for multi-valued filters the caller may pass comma-separated values). */
typedef const char *(*catalog_param_fn)(void *ctx, const char *name);

/* Parse and validate. Unknown sizes/brands are not errors (they just match
 * nothing); malformed values are: negative or non-numeric prices, a page that
 * is not a positive integer, an unknown sort. Returns 0, or -1 with a
 * shopper-readable message in err (→ HTTP 400). Strings are copied into pool. */
int catalog_filter_parse(catalog_filter *f, arena *pool, catalog_param_fn get, void *ctx, char *err, size_t errlen);

/* Results. NULL on a store error (logged); catalog_product returns NULL with
 * *not_found set when the slug does not exist or is inactive. Caller owns the
 * returned reference. A page beyond the last is clamped to the last page. */
json_t *catalog_list(const catalog_filter *f);
json_t *catalog_product(const char *slug, bool *not_found);
json_t *catalog_category(const char *slug, bool *not_found);   /* {"slug","name","url","breadcrumbs","children"} */
json_t *catalog_category_tree(void);
json_t *catalog_home(void);   /* {"featured":[card],"new_arrivals":[card],"categories":tree} */

/* Money in minor units → display string ("£129.99") per CURRENCY. */
json_t *catalog_money(int64_t amount);

#endif
