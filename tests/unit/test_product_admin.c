/* test_product_admin.c — the checks of shop/product_admin.h that need no
 * database: the product form (each problem on its field, prices parsed to
 * minor units, tags and slugs normalised), size runs (whole and half sizes,
 * widths, the cell limit), stock changes and their reasons. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/config.h"
#include "shop/product_admin.h"

static product_form good(void)
{
    return (product_form){.name = "  Trail Runner 2 ", .slug = "", .brand_id = "3", .category_id = "7",
                          .gender = "women", .description = "Light.\nGrippy.", .material = "Mesh",
                          .tags = " Running, road ,TRAIL, running,, ", .price = "89.99", .compare_at = "",
                          .tax_class = "standard", .active = true};
}

static const char *error_on(const product_errors *errs, const char *field)
{
    for (int i = 0; i < errs->n; i++)
        if (errs->e[i].field && !strcmp(errs->e[i].field, field)) return errs->e[i].message;
    return NULL;
}

static void test_product_form(void **state)
{
    (void)state;
    arena *a = arena_new();
    pa_product p;
    product_errors errs;
    product_form f = good();
    assert_int_equal(product_form_check(&f, a, &p, &errs), SHOP_OK);
    assert_string_equal(p.name, "Trail Runner 2");
    assert_string_equal(p.slug, "trail-runner-2");
    assert_string_equal(p.tags, "running,road,trail");
    assert_int_equal(p.price, 8999);
    assert_int_equal(p.compare_at, -1);
    assert_int_equal(p.brand_id, 3);
    assert_true(p.active && !p.featured);

    f.compare_at = "120";
    assert_int_equal(product_form_check(&f, a, &p, &errs), SHOP_OK);
    assert_int_equal(p.compare_at, 12000);

    /* each problem beside its own field, all at once */
    f = (product_form){.name = " ", .slug = "Bad Slug", .brand_id = "x", .category_id = "", .gender = "aliens",
                       .price = "12.345", .compare_at = "1", .tax_class = "luxury"};
    assert_int_equal(product_form_check(&f, a, &p, &errs), SHOP_INVALID);
    assert_string_equal(error_on(&errs, "name"), "The name is required.");
    assert_non_null(strstr(error_on(&errs, "slug"), "single hyphens"));
    assert_non_null(error_on(&errs, "brand_id"));
    assert_non_null(error_on(&errs, "category_id"));
    assert_non_null(error_on(&errs, "gender"));
    assert_non_null(strstr(error_on(&errs, "price"), "at most two"));
    assert_non_null(error_on(&errs, "tax_class"));
    assert_null(error_on(&errs, "compare_at"));   /* no price to compare with */

    f = good();
    f.price = "60";
    f.compare_at = "55.00";
    assert_int_equal(product_form_check(&f, a, &p, &errs), SHOP_INVALID);
    assert_non_null(strstr(error_on(&errs, "compare_at"), "higher than the price"));
    f.compare_at = "60.00";
    assert_int_equal(product_form_check(&f, a, &p, &errs), SHOP_INVALID);
    f.compare_at = "";
    f.price = "0";
    assert_int_equal(product_form_check(&f, a, &p, &errs), SHOP_INVALID);
    assert_string_equal(error_on(&errs, "price"), "The price must be more than 0.");
    f.price = "-5";
    assert_int_equal(product_form_check(&f, a, &p, &errs), SHOP_INVALID);
    f = good();
    f.name = "bad\x01name";
    assert_int_equal(product_form_check(&f, a, &p, &errs), SHOP_INVALID);
    assert_non_null(error_on(&errs, "name"));
    f = good();
    f.tags = "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u";
    assert_int_equal(product_form_check(&f, a, &p, &errs), SHOP_INVALID);
    assert_non_null(error_on(&errs, "tags"));
    f.tags = "a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a";   /* repeats count once */
    assert_int_equal(product_form_check(&f, a, &p, &errs), SHOP_OK);
    assert_string_equal(p.tags, "a");
    arena_free(a);
}

static void test_size_run(void **state)
{
    (void)state;
    size_run run;
    product_errors errs;
    size_run_form f = {.colour_id = "4", .system = "uk", .from = "6", .to = "11", .step = "0.5", .stock = "5",
                       .sku_prefix = "se-42", .widths = {"Standard", "wide", "Standard"}, .nwidths = 3};
    assert_int_equal(size_run_plan(&f, &run, &errs), SHOP_OK);
    assert_int_equal(run.ncells, 22);   /* 11 sizes × 2 widths (Standard once) */
    assert_int_equal(run.cells[0].tenths, 60);
    assert_string_equal(run.cells[1].width, "Wide");
    assert_int_equal(run.cells[21].tenths, 110);
    assert_string_equal(run.system, "UK");
    assert_string_equal(run.sku_prefix, "SE-42");
    assert_int_equal(run.stock, 5);
    char label[16];
    size_label("UK", 95, label, sizeof label);
    assert_string_equal(label, "UK 9.5");
    size_label("EU", 420, label, sizeof label);
    assert_string_equal(label, "EU 42");

    f.step = "1";
    f.from = "6.5";
    assert_int_equal(size_run_plan(&f, &run, &errs), SHOP_OK);
    assert_int_equal(run.ncells, 10);   /* 6.5, 7.5 … 10.5 */
    assert_int_equal(run.cells[9].tenths, 105);

    size_run_form bad = {.colour_id = "", .system = "JP", .from = "6.3", .to = "x", .step = "2", .stock = "-1",
                         .sku_prefix = "-no", .nwidths = 0};
    assert_int_equal(size_run_plan(&bad, &run, &errs), SHOP_INVALID);
    static const char *const fields[] = {"colour_id", "system", "from", "to", "step", "stock", "sku_prefix", "widths"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) assert_non_null(error_on(&errs, fields[i]));

    size_run_form big = {.colour_id = "1", .system = "EU", .from = "10", .to = "60", .step = "0.5", .widths = {"Standard", "Narrow", "Wide"}, .nwidths = 3};
    assert_int_equal(size_run_plan(&big, &run, &errs), SHOP_INVALID);
    assert_non_null(strstr(error_on(&errs, "to"), "at most"));
    size_run_form back = {.colour_id = "1", .system = "UK", .from = "11", .to = "6", .step = "1", .widths = {"Standard"}, .nwidths = 1};
    assert_int_equal(size_run_plan(&back, &run, &errs), SHOP_INVALID);
    assert_non_null(error_on(&errs, "to"));
}

static void test_stock_changes(void **state)
{
    (void)state;
    int64_t d;
    assert_true(stock_parse_change("+12", &d) && d == 12);
    assert_true(stock_parse_change(" - 2 ", &d) && d == -2);
    assert_true(stock_parse_change("7", &d) && d == 7);
    static const char *const bad[] = {"", "+", "1.5", "twelve", "12345678", "--2", "+-2", "2 3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_false(stock_parse_change(bad[i], &d));

    enum stock_reason r;
    assert_true(stock_reason_parse("damaged", &r) && r == STOCK_DAMAGED);
    assert_false(stock_reason_parse("stolen", &r));

    shop_error e;
    int64_t after;
    stock_change c = {.reason = STOCK_RECEIVED, .amount = 12, .seen = -1};
    assert_int_equal(stock_change_check(&c, 3, &after, &e), SHOP_OK);
    assert_int_equal(after, 15);
    c.amount = -1;
    assert_int_equal(stock_change_check(&c, 3, &after, &e), SHOP_INVALID);
    assert_string_equal(e.field, "change");
    c = (stock_change){.reason = STOCK_DAMAGED, .amount = -4, .seen = -1};
    assert_int_equal(stock_change_check(&c, 3, &after, &e), SHOP_INVALID);   /* below zero */
    assert_non_null(strstr(e.message, "Only 3 in stock"));
    c.amount = -3;
    assert_int_equal(stock_change_check(&c, 3, &after, &e), SHOP_OK);
    assert_int_equal(after, 0);
    c = (stock_change){.reason = STOCK_RECOUNT, .absolute = true, .amount = 3, .seen = -1};
    assert_int_equal(stock_change_check(&c, 3, &after, &e), SHOP_OK);   /* a recount may confirm the count */
    c.reason = STOCK_CORRECTION;
    assert_int_equal(stock_change_check(&c, 3, &after, &e), SHOP_INVALID);
    assert_string_equal(e.field, "set_to");
    c = (stock_change){.reason = STOCK_RETURNED, .absolute = true, .amount = 1000001, .seen = -1};
    assert_int_equal(stock_change_check(&c, 3, &after, &e), SHOP_INVALID);
    c = (stock_change){.reason = STOCK_RECEIVED, .amount = 0, .seen = -1};
    assert_int_equal(stock_change_check(&c, 3, &after, &e), SHOP_INVALID);
    c = (stock_change){.reason = STOCK_RECEIVED, .amount = 1, .seen = -1, .note = "bad\nnote"};
    assert_int_equal(stock_change_check(&c, 3, &after, &e), SHOP_INVALID);
    assert_string_equal(e.field, "note");
}

int main(void)
{
    cfg.currency = "GBP";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_product_form),
        cmocka_unit_test(test_size_run),
        cmocka_unit_test(test_stock_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
