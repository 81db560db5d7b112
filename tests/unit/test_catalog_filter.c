/* test_catalog_filter.c — the catalogue rules that need no database: the
 * shopper's filter parameters (accept / reject / clamp), search-term
 * sanitising, money formatting, stock labels, stars and page arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/text.h"
#include "shop/catalog.h"

/* A query as name/value pairs, read through the catalog_param_fn getter. */
struct params {
    const char *kv[32];
};

static const char *getter(void *ctx, const char *name)
{
    struct params *p = ctx;
    for (int i = 0; p->kv[i]; i += 2)
        if (!strcmp(p->kv[i], name)) return p->kv[i + 1];
    return NULL;
}

static arena *pool;
static char err[256];

static int parse(catalog_filter *f, struct params p)
{
    return catalog_filter_parse(f, pool, getter, &p, err, sizeof err);
}

#define PARAMS(...) ((struct params){{__VA_ARGS__, NULL}})

static int setup(void **state)
{
    (void)state;
    pool = arena_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(pool);
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    catalog_filter f;
    assert_int_equal(parse(&f, PARAMS(NULL)), 0);
    assert_null(f.category);
    assert_null(f.q);
    assert_null(f.gender);
    assert_int_equal(f.nbrands + f.ncolours + f.nsizes, 0);
    assert_int_equal(f.price_min, -1);
    assert_int_equal(f.price_max, -1);
    assert_int_equal(f.sort, SORT_RELEVANCE);
    assert_int_equal(f.page, 1);
    assert_int_equal(f.per_page, CATALOG_DEFAULT_PER_PAGE);
    /* empty values, as an empty form field sends them, count as absent */
    assert_int_equal(parse(&f, PARAMS("page", "", "price_min", "", "sort", "", "q", "  ", "brand", "")), 0);
    assert_int_equal(f.page, 1);
    assert_int_equal(f.price_min, -1);
    assert_null(f.q);
    assert_int_equal(f.nbrands, 0);
}

static void test_page(void **state)
{
    (void)state;
    catalog_filter f;
    assert_int_equal(parse(&f, PARAMS("page", "abc")), -1);
    assert_string_equal(err, "page must be a whole number");
    assert_int_equal(parse(&f, PARAMS("page", "2.5")), -1);
    assert_string_equal(err, "page must be a whole number");
    assert_int_equal(parse(&f, PARAMS("page", "-1")), -1);
    assert_string_equal(err, "page must be 1 or more");
    assert_int_equal(parse(&f, PARAMS("page", "1e3")), -1);
    assert_string_equal(err, "page must be a whole number");
    assert_int_equal(parse(&f, PARAMS("page", "0")), -1);
    assert_string_equal(err, "page must be 1 or more");
    assert_int_equal(parse(&f, PARAMS("page", "3")), 0);
    assert_int_equal(f.page, 3);
    assert_int_equal(parse(&f, PARAMS("page", "007")), 0);
    assert_int_equal(f.page, 7);
    /* huge pages are clamped, never an error (catalog_list clamps further) */
    assert_int_equal(parse(&f, PARAMS("page", "1000000000")), 0);
    assert_int_equal(f.page, CATALOG_MAX_PAGE);
    assert_int_equal(parse(&f, PARAMS("page", "99999999999999999999999999")), 0);
    assert_int_equal(f.page, CATALOG_MAX_PAGE);
    assert_int_equal(parse(&f, PARAMS("page", "10001")), 0);
    assert_int_equal(f.page, CATALOG_MAX_PAGE);
}

static void test_per_page(void **state)
{
    (void)state;
    catalog_filter f;
    assert_int_equal(parse(&f, PARAMS("per_page", "12")), 0);
    assert_int_equal(f.per_page, 12);
    assert_int_equal(parse(&f, PARAMS("per_page", "1000")), 0);
    assert_int_equal(f.per_page, CATALOG_MAX_PER_PAGE);
    assert_int_equal(parse(&f, PARAMS("per_page", "123456789012345")), 0);
    assert_int_equal(f.per_page, CATALOG_MAX_PER_PAGE);
    assert_int_equal(parse(&f, PARAMS("per_page", "ten")), -1);
    assert_string_equal(err, "per_page must be a whole number");
    assert_int_equal(parse(&f, PARAMS("per_page", "0")), -1);
}

static void test_prices(void **state)
{
    (void)state;
    catalog_filter f;
    /* major units as typed: 50 means 50.00 */
    assert_int_equal(parse(&f, PARAMS("price_min", "50", "price_max", "149.99")), 0);
    assert_int_equal(f.price_min, 5000);
    assert_int_equal(f.price_max, 14999);
    assert_int_equal(parse(&f, PARAMS("price_min", "49.9")), 0);
    assert_int_equal(f.price_min, 4990);
    assert_int_equal(parse(&f, PARAMS("price_max", "0")), 0);
    assert_int_equal(f.price_max, 0);
    assert_int_equal(parse(&f, PARAMS("price_min", " 20 ")), 0);
    assert_int_equal(f.price_min, 2000);
    /* min above max: swapped */
    assert_int_equal(parse(&f, PARAMS("price_min", "100", "price_max", "20")), 0);
    assert_int_equal(f.price_min, 2000);
    assert_int_equal(f.price_max, 10000);
    /* huge: clamped */
    assert_int_equal(parse(&f, PARAMS("price_max", "99999999999999999999999")), 0);
    assert_int_equal(f.price_max, CATALOG_PRICE_LIMIT);

    assert_int_equal(parse(&f, PARAMS("price_min", "-5")), -1);
    assert_string_equal(err, "price_min must not be negative");
    assert_int_equal(parse(&f, PARAMS("price_max", "-0.01")), -1);
    assert_string_equal(err, "price_max must not be negative");
    static const char *const bad[] = {"abc", "1.234", "1e3", "50.", ".5", "£50", "5,00", "0x10", "+5", "1 2", "NaN"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(parse(&f, PARAMS("price_min", bad[i])), -1);
        assert_string_equal(err, "price_min must be an amount like 50 or 49.99");
    }
}

static void test_sort(void **state)
{
    (void)state;
    catalog_filter f;
    static const struct { const char *name; enum catalog_sort sort; } ok[] = {
        {"relevance", SORT_RELEVANCE}, {"newest", SORT_NEWEST}, {"price_asc", SORT_PRICE_ASC},
        {"price_desc", SORT_PRICE_DESC}, {"rating", SORT_RATING}, {"popular", SORT_POPULAR},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        assert_int_equal(parse(&f, PARAMS("sort", ok[i].name)), 0);
        assert_int_equal(f.sort, ok[i].sort);
        assert_string_equal(catalog_sort_name(ok[i].sort), ok[i].name);
    }
    assert_int_equal(parse(&f, PARAMS("sort", "cheapest")), -1);
    assert_non_null(strstr(err, "sort must be one of"));
    assert_int_equal(parse(&f, PARAMS("sort", "PRICE_ASC")), -1);
    assert_int_equal(parse(&f, PARAMS("sort", "price_asc; DROP TABLE products")), -1);
}

static void test_lists(void **state)
{
    (void)state;
    catalog_filter f;
    assert_int_equal(parse(&f, PARAMS("brand", "Oakmoor, marlowe,,oakmoor ,", "colour", "black", "size",
                                      "UK-9.0,uk-9.5, uk 10,uk-09")),
                     0);
    assert_int_equal(f.nbrands, 2);   /* lower-cased, trimmed, empties and duplicates dropped */
    assert_string_equal(f.brands[0], "oakmoor");
    assert_string_equal(f.brands[1], "marlowe");
    assert_int_equal(f.ncolours, 1);
    assert_string_equal(f.colours[0], "black");
    assert_int_equal(f.nsizes, 3);    /* "uk-09" is "uk-9" again */
    assert_string_equal(f.sizes[0], "uk-9");
    assert_string_equal(f.sizes[1], "uk-9.5");
    assert_string_equal(f.sizes[2], "uk-10");

    /* at most CATALOG_MAX_MULTI values; unknown values are kept (they match nothing) */
    char many[1024] = "";
    for (int i = 0; i < 40; i++) snprintf(many + strlen(many), sizeof many - strlen(many), "b%d,", i);
    assert_int_equal(parse(&f, PARAMS("brand", many, "size", "huge-999,not a size")), 0);
    assert_int_equal(f.nbrands, CATALOG_MAX_MULTI);
    assert_int_equal(f.nsizes, 2);

    /* an over-long value cannot name anything: it is kept (cut to whole
     * UTF-8 characters) so that it matches nothing, never dropped, which
     * would widen the listing to every brand */
    char longv[200];
    memset(longv, 'x', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    assert_int_equal(parse(&f, PARAMS("brand", longv)), 0);
    assert_int_equal(f.nbrands, 1);
    assert_true(strlen(f.brands[0]) < 100);
    char longu[200];
    for (size_t i = 0; i + 2 < sizeof longu; i += 2) { longu[i] = '\xc3'; longu[i + 1] = '\xa9'; } /* é… */
    longu[sizeof longu - 2] = '\0';
    assert_int_equal(parse(&f, PARAMS("brand", longu)), 0);
    assert_int_equal(f.nbrands, 1);
    assert_true(text_valid_utf8(f.brands[0], strlen(f.brands[0])));

    assert_int_equal(parse(&f, PARAMS("gender", "Women", "category", "Men-Running")), 0);
    assert_string_equal(f.gender, "women");
    assert_string_equal(f.category, "men-running");
    assert_int_equal(parse(&f, PARAMS("brand", "caf\xc3")), -1);   /* not UTF-8 */
    assert_string_equal(err, "brand must be valid UTF-8 text");
}

static void test_query_text(void **state)
{
    (void)state;
    catalog_filter f;
    char longq[1000];
    memset(longq, 'a', sizeof longq - 1);
    longq[sizeof longq - 1] = '\0';
    assert_int_equal(parse(&f, PARAMS("q", longq)), 0);
    assert_int_equal(strlen(f.q), CATALOG_MAX_QUERY_BYTES);
    /* cut at a character boundary: 199 ASCII bytes then a 2-byte é */
    char utf[400];
    memset(utf, 'b', 199);
    strcpy(utf + 199, "\xc3\xa9 more text");
    assert_int_equal(parse(&f, PARAMS("q", utf)), 0);
    assert_int_equal(strlen(f.q), 199);
    assert_int_equal(parse(&f, PARAMS("q", "bad \xff bytes")), -1);
    assert_string_equal(err, "q must be valid UTF-8 text");
    assert_int_equal(parse(&f, PARAMS("q", "tab\there\x01")), 0);
    assert_string_equal(f.q, "tab here");   /* control characters become spaces, then trimmed */
}

static void test_search_terms(void **state)
{
    (void)state;
    char out[1024];
    assert_int_equal(catalog_search_terms("Leather boots", out, sizeof out), 2);
    assert_string_equal(out, "+leather* +boots*");
    /* every boolean-mode operator is stripped */
    assert_int_equal(catalog_search_terms("+shoe -boot \"suede\" (red) ~blue* @3 <low >high", out, sizeof out), 7);
    assert_string_equal(out, "+shoe* +boot* +suede* +red* +blue* +low* +high*");
    assert_null(strpbrk(out, "\"()~@<>-"));
    /* short words and stop words are not in the index: dropped */
    assert_int_equal(catalog_search_terms("the shoes for a UK 9 run", out, sizeof out), 2);
    assert_string_equal(out, "+shoes* +run*");
    assert_int_equal(catalog_search_terms("!!! ++ -- a", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(catalog_search_terms(NULL, out, sizeof out), 0);
    /* UTF-8 letters are word characters; invalid bytes separate */
    assert_int_equal(catalog_search_terms("Café espadrille", out, sizeof out), 2);
    assert_string_equal(out, "+café* +espadrille*");
    assert_int_equal(catalog_search_terms("red\xff\xfeshoe", out, sizeof out), 2);
    assert_string_equal(out, "+red* +shoe*");
    /* women's → women (the "s" is too short) */
    assert_int_equal(catalog_search_terms("women's sandals", out, sizeof out), 2);
    assert_string_equal(out, "+women* +sandals*");
    /* at most CATALOG_MAX_TERMS terms, and never past the output buffer */
    assert_int_equal(catalog_search_terms("one two three four five six seven eight nine ten", out, sizeof out),
                     CATALOG_MAX_TERMS);
    char small[16];
    assert_true(catalog_search_terms("alpha beta gamma", small, sizeof small) <= 2);
    assert_true(strlen(small) < sizeof small);
    /* only the first CATALOG_MAX_QUERY_BYTES bytes are read */
    char longq[600];
    memset(longq, 'z', sizeof longq - 1);
    longq[sizeof longq - 1] = '\0';
    assert_int_equal(catalog_search_terms(longq, out, sizeof out), 1);
    assert_int_equal(strlen(out), CATALOG_MAX_QUERY_BYTES + 2);
}

/* The money rules themselves are tested in test_money.c; here the
 * catalogue's view of them: {"amount","currency","display"}. */
static void test_money(void **state)
{
    (void)state;
    char out[64];
    json_t *m = catalog_money_in(8999, "EUR");
    assert_int_equal(json_integer_value(json_object_get(m, "amount")), 8999);
    assert_string_equal(json_string_value(json_object_get(m, "currency")), "EUR");
    assert_string_equal(json_string_value(json_object_get(m, "display")), "€89.99");
    json_decref(m);
    m = catalog_money(100);   /* CURRENCY not loaded in this test: GBP */
    assert_string_equal(json_string_value(json_object_get(m, "display")), "£1.00");
    assert_string_equal(json_string_value(json_object_get(m, "currency")), "GBP");
    json_decref(m);
    m = catalog_money_in(-129999, "bad!");   /* an invalid code: CURRENCY */
    assert_string_equal(json_string_value(json_object_get(m, "display")), "-£1,299.99");
    json_decref(m);

    catalog_price_param(5000, out, sizeof out);
    assert_string_equal(out, "50");
    catalog_price_param(4999, out, sizeof out);
    assert_string_equal(out, "49.99");
    catalog_price_param(5050, out, sizeof out);
    assert_string_equal(out, "50.50");
}

static void test_labels(void **state)
{
    (void)state;
    char out[64];
    bool sold_out, low;
    assert_string_equal(catalog_stock_label(0, &sold_out, &low, out, sizeof out), "Sold out");
    assert_true(sold_out);
    assert_false(low);
    assert_string_equal(catalog_stock_label(1, &sold_out, &low, out, sizeof out), "Only 1 left");
    assert_false(sold_out);
    assert_true(low);
    assert_string_equal(catalog_stock_label(3, &sold_out, &low, out, sizeof out), "Only 3 left");
    assert_true(low);
    assert_string_equal(catalog_stock_label(4, &sold_out, &low, out, sizeof out), "In stock");
    assert_false(sold_out);
    assert_false(low);

    catalog_stars(4.3, out, sizeof out);
    assert_string_equal(out, "★★★★☆");
    catalog_stars(4.5, out, sizeof out);
    assert_string_equal(out, "★★★★★");
    catalog_stars(0, out, sizeof out);
    assert_string_equal(out, "☆☆☆☆☆");
    catalog_stars(7, out, sizeof out);
    assert_string_equal(out, "★★★★★");
    catalog_stars(2.49, out, sizeof out);
    assert_string_equal(out, "★★☆☆☆");

    assert_true(catalog_size_label("uk-9", out, sizeof out));
    assert_string_equal(out, "UK 9");
    assert_true(catalog_size_label("eu-42.5", out, sizeof out));
    assert_string_equal(out, "EU 42.5");
    assert_false(catalog_size_label("nine", out, sizeof out));
    assert_string_equal(out, "");
    assert_false(catalog_size_label("uk-9.55", out, sizeof out));
}

static void test_clamp(void **state)
{
    (void)state;
    int pages;
    assert_int_equal(catalog_clamp_page(1, 0, 24, &pages), 1);
    assert_int_equal(pages, 1);
    assert_int_equal(catalog_clamp_page(CATALOG_MAX_PAGE, 245, 24, &pages), 11);
    assert_int_equal(pages, 11);
    assert_int_equal(catalog_clamp_page(5, 240, 24, &pages), 5);
    assert_int_equal(pages, 10);
    assert_int_equal(catalog_clamp_page(11, 240, 24, &pages), 10);
    assert_int_equal(catalog_clamp_page(0, 240, 24, &pages), 1);
    assert_int_equal(catalog_clamp_page(2, 25, 24, &pages), 2);
    assert_int_equal(pages, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_page),  cmocka_unit_test(test_per_page),
        cmocka_unit_test(test_prices),       cmocka_unit_test(test_sort),  cmocka_unit_test(test_lists),
        cmocka_unit_test(test_query_text),   cmocka_unit_test(test_search_terms),
        cmocka_unit_test(test_money),        cmocka_unit_test(test_labels), cmocka_unit_test(test_clamp),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
