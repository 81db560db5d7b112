/* fuzz_product_admin.c — what staff type into the product form, the size
 * run form and a stock adjustment (shop/product_admin.h). The input is
 * split at newlines into the fields. Never crash; whatever passes keeps the
 * rules the database and the shop rely on: a valid slug, a price above 0
 * and a compare-at price above it, tags lower-case without repeats or
 * spaces around commas, 1..SIZE_RUN_MAX_CELLS whole or half sizes in
 * known widths, a stock change within ±9,999,999. */
#include "core/text.h"
#include "shop/product_admin.h"
#include "shop/taxonomy_admin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS 16

static void check_product(const char *const *f)
{
    product_form form = {.name = f[0], .slug = f[1], .brand_id = f[2], .category_id = f[3], .gender = f[4],
                         .description = f[5], .material = f[6], .tags = f[7], .price = f[8], .compare_at = f[9],
                         .tax_class = f[10], .active = f[11][0] & 1, .featured = f[11][0] & 2};
    arena *a = arena_new();
    pa_product p;
    product_errors *errs = malloc(sizeof *errs);
    shop_status st = product_form_check(&form, a, &p, errs);
    if ((st == SHOP_OK) != (errs->n == 0)) abort();
    for (int i = 0; i < errs->n; i++)
        if (!errs->e[i].message[0] || (errs->e[i].field && errs->e[i].field != errs->field[i])) abort();
    if (st == SHOP_OK) {
        if (!taxonomy_slug_valid(p.slug, PRODUCT_SLUG_MAX)) abort();
        if (p.price <= 0 || (p.compare_at != -1 && p.compare_at <= p.price)) abort();
        if (!*p.name || !text_plain(p.name, false) || !text_plain(p.tags, false)) abort();
        if (strstr(p.tags, ", ") || strstr(p.tags, " ,") || strstr(p.tags, ",,") || p.tags[0] == ',') abort();
        for (const char *t = p.tags; *t; t++)
            if (*t >= 'A' && *t <= 'Z') abort();
    }
    free(errs);
    arena_free(a);
}

static void check_run(const char *const *f)
{
    size_run_form form = {.colour_id = f[0], .system = f[1], .from = f[2], .to = f[3], .step = f[4], .stock = f[5],
                          .sku_prefix = f[6], .widths = {f[7], f[8], f[9]}, .nwidths = (unsigned char)f[10][0] % 4};
    size_run *run = malloc(sizeof *run);
    product_errors *errs = malloc(sizeof *errs);
    if (size_run_plan(&form, run, errs) == SHOP_OK) {
        if (run->ncells < 1 || run->ncells > SIZE_RUN_MAX_CELLS || run->stock < 0) abort();
        for (int i = 0; i < run->ncells; i++) {
            if (run->cells[i].tenths % 5 || run->cells[i].tenths <= 0 || run->cells[i].tenths > 600) abort();
            const char *w = run->cells[i].width;
            if (strcmp(w, "Standard") && strcmp(w, "Narrow") && strcmp(w, "Wide")) abort();
        }
        if (strlen(run->sku_prefix) > 24 || strspn(run->sku_prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
                                                strlen(run->sku_prefix))
            abort();
        char label[16];
        size_label(run->system, run->cells[0].tenths, label, sizeof label);
        if (!*label) abort();
    }
    free(errs);
    free(run);
}

static void check_stock(const char *const *f)
{
    int64_t delta = 0;
    if (stock_parse_change(f[0], &delta) && (delta > 9999999 || delta < -9999999)) abort();
    long long current = (unsigned char)f[1][0] * 1000;
    stock_change c = {.variant_id = 1, .absolute = f[2][0] & 1, .amount = delta, .seen = -1, .note = f[3]};
    if (!stock_reason_parse(f[4], &c.reason)) c.reason = (enum stock_reason)((unsigned char)f[2][0] % STOCK_REASONS);
    int64_t after = -1;
    shop_error e;
    if (stock_change_check(&c, current, &after, &e) == SHOP_OK && (after < 0 || after > 1000000)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = '\0';
    const char *f[FIELDS];
    int n = 0;
    char *p = in;
    while (n < FIELDS) {
        f[n++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
    }
    while (n < FIELDS) f[n++] = "";
    check_product(f);
    check_run(f);
    check_stock(f);
    free(in);
    return 0;
}
