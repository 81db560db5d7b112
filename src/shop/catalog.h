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
 *
 * Additions beyond the shapes above (extra keys, never renamed ones):
 *   listing.filters is always the full set of keys below, "" when unset,
 *     plus "query": the URL-encoded query string of the set filters
 *     without page (for pagination links: "?{{filters.query}}&page=3").
 *   product adds "created_at" (ISO 8601 UTC); reviews add "date"
 *     ("3 May 2025") and, when the shop answered, "reply": {"text",
 *     "created_at", "date"}; every size adds "width_label" ("" for Standard,
 *     else "Wide"/"Narrow"); product.category adds "id"; card colours add
 *     "slug"; catalog_category_shared adds "id" and "parent" ({"slug","name","url"}
 *     or null). An unknown gender in the filter simply matches nothing.
 *   breadcrumbs are the links leading to a page, starting with Home and
 *     not including the page itself (a product's end with its category).
 *
 * Query parameters (names as they appear in a query string):
 *   category   category slug (the route usually supplies it)
 *   q          search text; at most CATALOG_MAX_QUERY_BYTES bytes are used
 *              (cut at a UTF-8 boundary), turned into required prefix terms
 *              by catalog_search_terms (operators are stripped)
 *   brand, colour, size   comma-separated lists (or repeated, joined by the
 *              caller), at most CATALOG_MAX_MULTI values; sizes like "uk-9.5"
 *   gender     men|women|kids|unisex (anything else matches nothing)
 *   price_min, price_max  in MAJOR units as a shopper types them:
 *              "50" means 50.00 (5000 minor), "49.99" → 4999; at most two
 *              decimals; negative or non-numeric → error; if min > max
 *              they are swapped
 *   sort       relevance|newest|price_asc|price_desc|rating|popular
 *              (default relevance; without q it means featured first)
 *   page       whole number >= 1; above CATALOG_MAX_PAGE it is clamped,
 *              and catalog_list clamps it to the last page
 *   per_page   whole number >= 1, capped at CATALOG_MAX_PER_PAGE
 * An empty value (as an empty form field sends) counts as absent.
 *
 * Facets follow the usual rule: each facet is counted under every filter
 * except its own (so picking one brand still shows the other brands with
 * their counts); a selected value is listed even when its count is 0.
 * The size facet counts only variants with stock > 0.
 */
#ifndef SHOEASE_SHOP_CATALOG_H
#define SHOEASE_SHOP_CATALOG_H

#include "core/arena.h"
#include "shop/money.h"
#include "shop/result.h"

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
json_t *catalog_category_tree(void);
json_t *catalog_home(void);
/* Product cards for these slugs (at most 20), in the given order; products
 * that are gone or inactive are left out. NULL on a store error. */
json_t *catalog_cards_by_slugs(const char *const *slugs, int n);   /* {"featured":[card],"new_arrivals":[card],"categories":tree} */

/* The same, for a caller that has read the version of the reference data
 * (cached_page.refs_version after a page-cache miss: the tag "global",
 * page_cache.h). The reference data every page needs — the category tree,
 * the brands, the colours — is then read once per worker thread and
 * version rather than on every call; it is read after the version was, so
 * it is never older than the version it is kept under. Products, prices,
 * stock, reviews and the listing itself are read on every call.
 * version < 0 (unknown; Redis down): everything is read, as above. */
json_t *catalog_list_at(const catalog_filter *f, int64_t version);
json_t *catalog_product_at(const char *slug, int64_t version, bool *not_found);
json_t *catalog_category_tree_at(int64_t version);
json_t *catalog_home_at(int64_t version);
/* catalog_category_tree_at without the copy: a new reference to this
 * thread's tree for `version`, which the caller must not change (copy a
 * node to mark it). For the page header, rendered on every page. */
json_t *catalog_category_tree_shared(int64_t version);
/* The category with this slug — {"id","slug","name","url","breadcrumbs",
 * "children","parent"} — as a new reference to this thread's node for
 * `version`, which the caller must not change; NULL with *not_found set
 * when no category has the slug. For the listing page, rendered on every
 * category miss. */
json_t *catalog_category_shared(const char *slug, int64_t version, bool *not_found);

/* Money in minor units → display string ("£129.99") per CURRENCY. */
json_t *catalog_money(int64_t amount);

/* ---- Helpers (pure, no database; unit-tested) ---- */

#define CATALOG_MAX_QUERY_BYTES 200   /* longer search text is cut */
#define CATALOG_MAX_TERMS 8           /* search words used */

/* As catalog_money for an explicit ISO 4217 code (a product's own; an
 * invalid one means CURRENCY). Formatting and parsing are money.h's:
 * money_format, and money_parse_major for price_min/price_max. */
json_t *catalog_money_in(int64_t amount, const char *currency);
/* The highest price a shopper's filter or a store owner may give. */
#define CATALOG_PRICE_LIMIT MONEY_PARSE_LIMIT
/* Minor units → query-string value in major units: 5000 → "50", 4999 → "49.99". */
void catalog_price_param(int64_t minor, char *out, size_t outlen);

const char *catalog_sort_name(enum catalog_sort sort);   /* "price_asc" */
bool catalog_sort_parse(const char *s, enum catalog_sort *sort);

/* "In stock" / "Only 2 left" (1..3) / "Sold out" (0); sets the two flags. */
const char *catalog_stock_label(int64_t stock, bool *sold_out, bool *low_stock, char *out, size_t outlen);
/* Average rating → five stars, rounded to the nearest whole: 4.3 → "★★★★☆". */
void catalog_stars(double average, char *out, size_t outlen);
/* "uk-9.5" → "UK 9.5". False (out = "") when value is not system-number. */
bool catalog_size_label(const char *value, char *out, size_t outlen);
/* Normalise a size value as shoppers may type it: "UK-9.0" → "uk-9". */
void catalog_size_normalise(const char *in, char *out, size_t outlen);

/* Shopper text → a MATCH ... AGAINST (... IN BOOLEAN MODE) string: every
 * word (letters/digits, any non-ASCII UTF-8 letter) becomes a required
 * prefix term "+word*"; every other byte separates words, so no boolean
 * operator (+ - < > ( ) ~ * " @) ever reaches the server. Words shorter than
 * three bytes and the server's stop words are dropped (they are not in the
 * index, and a required one would match nothing); at most
 * CATALOG_MAX_TERMS words. Returns the number of terms (0: nothing
 * searchable, out = ""). Invalid UTF-8 bytes are separators. */
int catalog_search_terms(const char *q, char *out, size_t outlen);

/* Page arithmetic: pages = max(1, ceil(total / per_page)); page clamped
 * into [1, pages]. Returns the clamped page. */
int catalog_clamp_page(int page, int64_t total, int per_page, int *pages);

/* ---- Cached pages after a change (shop/catalog_admin.c) ----
 * Whoever changes what catalogue pages show does it inside a unit of work
 * (db/tx.h) and tells the catalogue there, after its statements: these
 * read what they need in the same transaction and register the page-cache
 * bumps (page_cache.h's tags) as an after-commit hook, so no page shows the
 * old value once the transaction has committed, and pages the change did
 * not touch stay cached. 0, or -1 on a store error (return DB_TX_FAILED).
 *
 * catalog_stock_changed: the stock of these variants changed by delta (new
 * minus old: -quantity for an order line, +quantity for a cancel or a
 * return; several entries for one variant add up). Always refreshes the
 * products' pages (p:<slug>: stock labels, sold-out sizes). The listings
 * (l:<each category up to the top>, l:*all) only when what they show
 * changed — a product's in-stock sizes (stock_sizes, migrations/0003) —
 * which happens only when a variant crosses zero: a sale of one of five
 * pairs leaves every listing cached. The delta is what makes that
 * decidable inside the transaction (it cannot read the stock as it was
 * before its own change). A size that sells out while another variant of
 * the same product still has it (another colour or width) changes no
 * listing either; a restock from zero always refreshes them.
 *
 * catalog_product_changed: anything else about one product that its page
 * shows (its reviews, "verified purchase"), with listings when cards or
 * sorting show it too (price, rating, name, image, popularity). */
typedef struct db_tx db_tx;
typedef struct catalog_stock_change {
    int64_t variant_id;
    int64_t delta;
} catalog_stock_change;
int catalog_stock_changed(db_tx *tx, const catalog_stock_change *changes, int n);
int catalog_product_changed(db_tx *tx, int64_t product_id, bool listings);
/* An edit that may have moved the product: as catalog_product_changed with
 * listings, and also the page at old_slug and the listings of
 * old_category_id (NULL / 0: unchanged), all in one bump. */
int catalog_product_changed_from(db_tx *tx, int64_t product_id, const char *old_slug, int64_t old_category_id);

/* A renamed product's old address: the current slug of the ACTIVE product
 * that used to be at old_slug (migrations/0009), for a 301. 1 found (to
 * set), 0 none, -1 store error. */
int catalog_redirect_slug(const char *old_slug, char *to, size_t tolen);
/* The same for a renamed category: its current slug (1), 0, -1. */
int catalog_redirect_category_slug(const char *old_slug, char *to, size_t tolen);

/* ---- Store-owner writes (shop/catalog_admin.c) ----
 * Each runs as ONE unit of work (db_tx_run) and refreshes the cached pages
 * it changed after the commit (above). They return CATALOG_OK or a negative
 * catalog_result; catalog_last_error() then says why in words fit for the
 * store owner. */
enum catalog_result { CATALOG_OK = 0, CATALOG_ERR_STORE = -1, CATALOG_ERR_NOT_FOUND = -2, CATALOG_ERR_INVALID = -3 };
enum catalog_review_status { REVIEW_PENDING, REVIEW_APPROVED, REVIEW_REJECTED };

#define CATALOG_REVIEW_TITLE_MAX 120    /* characters */
#define CATALOG_REVIEW_BODY_MAX 5000
#define CATALOG_REVIEW_AUTHOR_MAX 80
#define CATALOG_STOCK_MAX 1000000

const char *catalog_last_error(void);
bool catalog_review_status_parse(const char *s, enum catalog_review_status *status);
const char *catalog_review_status_name(enum catalog_review_status status);

/* Stock and prices are set through shop/product_admin.h (stock_adjust,
 * product_admin_set_price): one path for the portal and the commands. */
/* Add a review (rating 1..5; title, author 1..max characters, body up to
 * CATALOG_REVIEW_BODY_MAX; valid UTF-8, no control characters but newlines
 * and tabs in the body). verified_purchase is always false here: only the
 * order code may set it. An approved review updates the product's rating
 * aggregate in the same transaction. *id_out (may be NULL) gets the id. */
int catalog_add_review(const char *slug, int rating, const char *title, const char *body, const char *author,
                       enum catalog_review_status status, int64_t *id_out);
/* ---- Review moderation: the admin portal and `shoease review moderate`
 * share these (one path). Each is ONE unit of work: the change, the
 * product's rating aggregate, an audit row per review changed ("review.
 * moderate": status before → after; "review.reply": the reply before →
 * after) by who (admin_actor, or audit_cli_actor() for a command), and the
 * product page's refresh after the commit (listings too when the rating
 * changed). A review already in the asked-for status is left alone (no
 * row). Failures are shop_errors: SHOP_INVALID, SHOP_NOT_FOUND (naming the
 * review), SHOP_UNAVAILABLE. */
struct audit_actor;
#define CATALOG_REVIEW_REPLY_MAX 2000   /* characters */
#define CATALOG_MODERATE_MAX 100        /* reviews per bulk action */
shop_status catalog_moderate_review(const struct audit_actor *who, int64_t id, enum catalog_review_status status,
                                    shop_error *e);
/* Several at once (at most CATALOG_MODERATE_MAX; all or none); *changed
 * (may be NULL) how many changed status. */
shop_status catalog_moderate_reviews(const struct audit_actor *who, const int64_t *ids, int n,
                                     enum catalog_review_status status, int *changed, shop_error *e);
/* The shop's reply shown under the review on the product page (once the
 * review is approved), signed by author (the staff member's name): up to
 * CATALOG_REVIEW_REPLY_MAX characters of text, line breaks allowed; an
 * empty text removes the reply. */
shop_status catalog_reply_review(const struct audit_actor *who, int64_t id, const char *text, const char *author,
                                 shop_error *e);

#endif
