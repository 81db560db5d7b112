/* test_money.c — shop/money.c: checked arithmetic (overflow and currency
 * mismatches are refused, never wrapped), VAT-inclusive tax and percentage
 * rounding, formatting and parsing of shoppers' amounts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "shop/money.h"

static money gbp(int64_t minor) { return money_make(minor, "GBP"); }

static void test_make(void **state)
{
    (void)state;
    money m = money_make(1299, "gbp");
    assert_int_equal(m.minor, 1299);
    assert_string_equal(m.currency, "GBP");
    assert_true(money_currency_valid("EUR"));
    assert_true(money_currency_valid("chf"));
    static const char *const bad[] = {NULL, "", "GB", "GBPX", "GB1", "£", "G P"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false(money_currency_valid(bad[i]));
        assert_string_equal(money_make(5, bad[i]).currency, "");
    }
    assert_true(money_same_currency(gbp(1), money_make(2, "gbp")));
    assert_false(money_same_currency(gbp(1), money_make(1, "EUR")));
    assert_false(money_same_currency(money_make(1, "x"), money_make(1, "y")));   /* two invalid ones */
}

static void test_add_sub(void **state)
{
    (void)state;
    money out = gbp(-7);
    assert_true(money_add(gbp(1299), gbp(501), &out));
    assert_int_equal(out.minor, 1800);
    assert_string_equal(out.currency, "GBP");
    assert_true(money_sub(gbp(500), gbp(1299), &out));
    assert_int_equal(out.minor, -799);

    /* the INT64 edges: exactly reachable is fine, one more is refused */
    assert_true(money_add(gbp(INT64_MAX - 1), gbp(1), &out));
    assert_int_equal(out.minor, INT64_MAX);
    out = gbp(42);
    assert_false(money_add(gbp(INT64_MAX), gbp(1), &out));
    assert_int_equal(out.minor, 42);                      /* untouched */
    assert_false(money_add(gbp(INT64_MIN), gbp(-1), &out));
    assert_true(money_add(gbp(INT64_MIN), gbp(INT64_MAX), &out));
    assert_int_equal(out.minor, -1);
    assert_false(money_sub(gbp(INT64_MIN), gbp(1), &out));
    assert_false(money_sub(gbp(0), gbp(INT64_MIN), &out));  /* -INT64_MIN */
    assert_false(money_sub(gbp(INT64_MAX), gbp(-1), &out));
    assert_true(money_sub(gbp(-1), gbp(INT64_MAX), &out));
    assert_int_equal(out.minor, INT64_MIN);
    assert_int_equal(out.minor, INT64_MIN);

    /* pounds and euros never add up; an invalid currency never does */
    out = gbp(42);
    assert_false(money_add(gbp(1), money_make(1, "EUR"), &out));
    assert_false(money_sub(gbp(1), money_make(1, "USD"), &out));
    assert_false(money_add(money_make(1, "??"), money_make(1, "??"), &out));
    assert_int_equal(out.minor, 42);
}

static void test_mul(void **state)
{
    (void)state;
    money out;
    assert_true(money_mul(gbp(8999), 3, &out));
    assert_int_equal(out.minor, 26997);
    assert_true(money_mul(gbp(8999), 0, &out));
    assert_int_equal(out.minor, 0);
    assert_true(money_mul(gbp(-250), 4, &out));
    assert_int_equal(out.minor, -1000);
    assert_true(money_mul(gbp(INT64_MAX), 1, &out));
    assert_true(money_mul(gbp(INT64_MAX), -1, &out));
    assert_int_equal(out.minor, -INT64_MAX);
    out = gbp(42);
    assert_false(money_mul(gbp(INT64_MAX), 2, &out));
    assert_false(money_mul(gbp(INT64_MIN), -1, &out));
    assert_false(money_mul(gbp(INT64_MAX / 2 + 1), 2, &out));
    assert_false(money_mul(gbp(4611686018427387904LL), 2, &out));   /* 2^62 × 2 */
    assert_false(money_mul(gbp(3037000500LL), 3037000500LL, &out));   /* just over sqrt(2^63) squared */
    assert_false(money_mul(money_make(5, ""), 2, &out));
    assert_int_equal(out.minor, 42);
    assert_true(money_mul(gbp(INT64_MIN / 2), 2, &out));
    assert_int_equal(out.minor, INT64_MIN);
}

/* UK VAT at 20 % on VAT-inclusive prices: tax = gross / 6, to the
 * nearest penny, a half up. */
static void test_tax_included(void **state)
{
    (void)state;
    static const struct { int64_t gross, rate_bp, tax; } table[] = {
        {1299, 2000, 217},    /* 216.5 → 217: a half goes up */
        {1, 2000, 0},         /* 0.17 */
        {3, 2000, 1},         /* 0.5 → 1 */
        {5, 2000, 1},         /* 0.83 */
        {6, 2000, 1},
        {0, 2000, 0},
        {12000, 2000, 2000},
        {8999, 2000, 1500},   /* 1499.83 */
        {8997, 2000, 1500},   /* 1499.5 → 1500 */
        {8996, 2000, 1499},   /* 1499.33 */
        {1050, 500, 50},      /* 5 % reduced rate: 1050 / 21 = 50 */
        {1061, 500, 51},      /* 50.52 */
        {1299, 0, 0},         /* zero-rated (children's shoes) */
        {-1299, 2000, -217},  /* a refund mirrors its sale */
        {-3, 2000, -1},
        {INT64_MAX, 2000, 1537228672809129301LL},   /* (2^63-1)/6 = ...301.17: no overflow on the way */
        {INT64_MIN, 2000, -1537228672809129301LL},  /* -...301.33 */
        {100, 10000, 50},     /* 100 %: half of the gross */
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        money tax = gbp(-999);
        assert_true(money_tax_included(gbp(table[i].gross), table[i].rate_bp, &tax));
        if (tax.minor != table[i].tax)
            fail_msg("gross %lld at %lld bp: tax %lld, want %lld", (long long)table[i].gross,
                     (long long)table[i].rate_bp, (long long)tax.minor, (long long)table[i].tax);
        assert_string_equal(tax.currency, "GBP");
    }
    money tax = gbp(42);
    assert_false(money_tax_included(gbp(100), -1, &tax));
    assert_false(money_tax_included(gbp(100), MONEY_RATE_BP_MAX + 1, &tax));
    assert_false(money_tax_included(money_make(100, "1"), 2000, &tax));
    assert_int_equal(tax.minor, 42);

    /* per line: the tax of the line total, not the unit's tax times the
     * quantity (3 × 1299 = 3897 → 649.5 → 650, where 3 × 217 = 651) */
    money line;
    assert_true(money_mul(gbp(1299), 3, &line));
    assert_true(money_tax_included(line, 2000, &tax));
    assert_int_equal(tax.minor, 650);
}

static void test_percent(void **state)
{
    (void)state;
    money out;
    assert_true(money_percent(gbp(10000), 1000, &out));   /* 10 % of £100 */
    assert_int_equal(out.minor, 1000);
    assert_true(money_percent(gbp(1299), 1500, &out));    /* 194.85 → 195 */
    assert_int_equal(out.minor, 195);
    assert_true(money_percent(gbp(1), 5000, &out));       /* 0.5 → 1 */
    assert_int_equal(out.minor, 1);
    assert_true(money_percent(gbp(1), 4999, &out));       /* 0.4999 → 0 */
    assert_int_equal(out.minor, 0);
    assert_true(money_percent(gbp(-1), 5000, &out));      /* -0.5 → -1 */
    assert_int_equal(out.minor, -1);
    assert_true(money_percent(gbp(1299), -1000, &out));   /* -129.9 → -130 */
    assert_int_equal(out.minor, -130);
    assert_true(money_percent(gbp(INT64_MAX), 10000, &out));
    assert_int_equal(out.minor, INT64_MAX);
    assert_true(money_percent(gbp(INT64_MIN), 10000, &out));
    assert_int_equal(out.minor, INT64_MIN);
    out = gbp(42);
    assert_false(money_percent(gbp(INT64_MAX), 10001, &out));   /* does not fit */
    assert_false(money_percent(gbp(INT64_MIN), -10000, &out));
    assert_false(money_percent(money_make(1, NULL), 100, &out));
    assert_int_equal(out.minor, 42);
}

static void test_format(void **state)
{
    (void)state;
    static const struct { int64_t minor; const char *cur, *want; } table[] = {
        {12999, "GBP", "£129.99"},
        {500, "EUR", "€5.00"},
        {99, "USD", "$0.99"},
        {1234, "CHF", "CHF 12.34"},
        {1234, "chf", "CHF 12.34"},
        {0, "GBP", "£0.00"},
        {5, "GBP", "£0.05"},
        {-5, "GBP", "-£0.05"},
        {-350, "GBP", "-£3.50"},
        {99999, "GBP", "£999.99"},
        {100000, "GBP", "£1,000.00"},
        {129999, "GBP", "£1,299.99"},
        {-129999, "EUR", "-€1,299.99"},
        {123456789, "USD", "$1,234,567.89"},
        {100000000, "GBP", "£1,000,000.00"},
        {INT64_MAX, "GBP", "£92,233,720,368,547,758.07"},
        {INT64_MIN, "JPY", "-JPY 92,233,720,368,547,758.08"},
        {1299, "", "£12.99"},           /* invalid currency: the shop's default */
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        char out[MONEY_FORMAT_MAX];
        size_t n = money_format(money_make(table[i].minor, table[i].cur), out, sizeof out);
        assert_string_equal(out, table[i].want);
        assert_int_equal(n, strlen(table[i].want));
    }
    /* cut to fit, always terminated; nothing written with outlen 0 */
    char small[6] = "zzzzz";
    assert_int_equal(money_format(gbp(129999), small, sizeof small), 5);
    assert_string_equal(small, "£1,2");
    assert_int_equal(money_format(gbp(1), small, 0), 0);
    assert_string_equal(small, "£1,2");
}

static void test_parse(void **state)
{
    (void)state;
    static const struct { const char *in; int64_t want; } ok[] = {
        {"12", 1200}, {"12.99", 1299}, {"49.9", 4990}, {"0", 0}, {"0.01", 1}, {"007.50", 750},
        {" 50 ", 5000}, {"\t50.5\t", 5050}, {"1000000000000", MONEY_PARSE_LIMIT},
        {"999999999999.99", 99999999999999LL},
        {"1000000000000.01", MONEY_PARSE_LIMIT},          /* clamped */
        {"99999999999999999999999999999", MONEY_PARSE_LIMIT},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        int64_t v = -1;
        if (!money_parse_major(ok[i].in, &v) || v != ok[i].want)
            fail_msg("'%s' → %lld, want %lld", ok[i].in, (long long)v, (long long)ok[i].want);
    }
    static const char *const bad[] = {
        NULL, "", " ", "-1", "+1", "1.", ".5", "1.234", "1,000", "12abc", "1e3", "0x10", "£12", "1 2", "1..2", "nan",
        "12.9 9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t v = 77;
        if (money_parse_major(bad[i], &v)) fail_msg("'%s' accepted as %lld", bad[i] ? bad[i] : "(null)", (long long)v);
        assert_int_equal(v, 77);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make),    cmocka_unit_test(test_add_sub), cmocka_unit_test(test_mul),
        cmocka_unit_test(test_tax_included), cmocka_unit_test(test_percent), cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
