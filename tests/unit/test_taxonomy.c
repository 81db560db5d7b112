/* test_taxonomy.c — the rules of the admin portal's categories, brands and
 * colours that need no database (shop/taxonomy_admin.h): slugs as the
 * storefront and the tables' CHECKs have them, slugs made from names,
 * colour swatches. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "shop/taxonomy_admin.h"

static void test_slug_valid(void **state)
{
    (void)state;
    const char *good[] = {"men", "trail-running", "a", "uk-9", "2026-collection", "x1-y2-z3"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) assert_true(taxonomy_slug_valid(good[i], 80));
    /* the CHECK's pattern: ^[a-z0-9]+(-[a-z0-9]+)*$ */
    const char *bad[] = {"", "-men", "men-", "trail--running", "Men", "trail running", "trail_running", "café",
                         "a/b", "a.b", "%2e"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_false(taxonomy_slug_valid(bad[i], 80));
    char long_slug[82];
    memset(long_slug, 'a', 81);
    long_slug[81] = '\0';
    assert_false(taxonomy_slug_valid(long_slug, 80));
    long_slug[80] = '\0';
    assert_true(taxonomy_slug_valid(long_slug, 80));
    assert_false(taxonomy_slug_valid(long_slug, 40));   /* colours are shorter */
    assert_false(taxonomy_slug_valid(NULL, 80));
}

static void test_slug_from(void **state)
{
    (void)state;
    char out[81];
    taxonomy_slug_from("Trail Running", out, sizeof out);
    assert_string_equal(out, "trail-running");
    taxonomy_slug_from("  Kids' shoes & boots!  ", out, sizeof out);
    assert_string_equal(out, "kids-shoes-boots");
    taxonomy_slug_from("Café Noir", out, sizeof out);   /* non-ASCII letters separate words */
    assert_string_equal(out, "caf-noir");
    taxonomy_slug_from("——", out, sizeof out);
    assert_string_equal(out, "");
    taxonomy_slug_from("ABC123", out, sizeof out);
    assert_string_equal(out, "abc123");
    char small[6];
    taxonomy_slug_from("ab cd ef", small, sizeof small);   /* cut to fit, never a hyphen at the end */
    assert_string_equal(small, "ab-cd");
    assert_true(taxonomy_slug_valid(small, 5));
}

static void test_hex(void **state)
{
    (void)state;
    assert_true(taxonomy_hex_valid("#1f2a44"));
    assert_true(taxonomy_hex_valid("#ABCDEF"));
    assert_false(taxonomy_hex_valid("1f2a44"));
    assert_false(taxonomy_hex_valid("#1f2a4"));
    assert_false(taxonomy_hex_valid("#1f2a444"));
    assert_false(taxonomy_hex_valid("#1g2a44"));
    assert_false(taxonomy_hex_valid("#fff"));
    assert_false(taxonomy_hex_valid(""));
    assert_false(taxonomy_hex_valid(NULL));
    assert_false(taxonomy_hex_valid("red"));
}

static void test_nouns(void **state)
{
    (void)state;
    assert_string_equal(taxonomy_noun(TAX_CATEGORY), "category");
    assert_string_equal(taxonomy_noun(TAX_BRAND), "brand");
    assert_string_equal(taxonomy_noun(TAX_COLOUR), "colour");
}

static tax_node node(int64_t id, int64_t parent, int depth)
{
    tax_node n = {0};
    n.row.id = id;
    n.row.parent_id = parent;
    n.depth = depth;
    return n;
}

static void test_within(void **state)
{
    (void)state;
    /* 1 ─ 2 ─ 3, 4 */
    tax_node nodes[] = {node(1, 0, 0), node(2, 1, 1), node(3, 2, 2), node(4, 0, 0)};
    assert_true(taxonomy_within(nodes, 4, 3, 1));
    assert_true(taxonomy_within(nodes, 4, 3, 3));
    assert_true(taxonomy_within(nodes, 4, 2, 1));
    assert_false(taxonomy_within(nodes, 4, 1, 3));
    assert_false(taxonomy_within(nodes, 4, 4, 1));
    assert_false(taxonomy_within(nodes, 4, 99, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slug_valid), cmocka_unit_test(test_slug_from), cmocka_unit_test(test_hex),
        cmocka_unit_test(test_nouns),      cmocka_unit_test(test_within),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
