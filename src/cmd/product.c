/* product.c — the store owner's catalogue commands:
 *
 *   shoease product set-stock SKU N [--reason R] [--note TEXT]
 *   shoease product set-price SLUG AMOUNT_MINOR [COMPARE_AT_MINOR]
 *   shoease product show SLUG                      (JSON, as the API sends it)
 *   shoease review add SLUG RATING TITLE BODY AUTHOR [--status approved|pending|rejected]
 *   shoease review moderate ID approved|pending|rejected
 *
 * Stock and prices go through shop/product_admin.h, the admin portal's
 * path: the same checks, a stock adjustment in the variant's history and
 * an audit row by "cli:<user>", cached pages refreshed.
 *
 * Exit status: 0 done, 1 refused or failed (message on stderr), 2 usage. */
#include "cmd/cmd.h"

#include "core/config.h"
#include "core/text.h"
#include "db/db.h"
#include "shop/audit.h"
#include "shop/catalog.h"
#include "shop/product_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage_product(void)
{
    fprintf(stderr, "usage: shoease product set-stock SKU N [--reason R] [--note TEXT]\n"
                    "       shoease product set-price SLUG AMOUNT_MINOR [COMPARE_AT_MINOR]\n"
                    "       shoease product show SLUG\n"
                    "amounts are whole numbers in minor units (pence): 8999 is 89.99\n"
                    "set-stock sets the count (a recount unless --reason says received, damaged, returned or\n"
                    "correction); it is kept in the size's stock history and the audit log\n");
    return 2;
}

static int usage_review(void)
{
    fprintf(stderr, "usage: shoease review add SLUG RATING TITLE BODY AUTHOR [--status approved|pending|rejected]\n"
                    "       shoease review moderate ID approved|pending|rejected\n"
                    "a review added here is approved unless --status says otherwise\n");
    return 2;
}

static int report(int rc, const char *what)
{
    if (rc == CATALOG_OK) return 0;
    fprintf(stderr, "%s: %s\n", what, catalog_last_error());
    return 1;
}

static int set_stock(int argc, char **argv)
{
    long long n;
    stock_change c = {.sku = argv[0], .reason = STOCK_RECOUNT, .absolute = true, .seen = -1};
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) return usage_product();
        if (!strcmp(argv[i], "--reason")) {
            if (!stock_reason_parse(argv[i + 1], &c.reason)) {
                fprintf(stderr, "product set-stock: --reason is received, damaged, recount, returned or correction\n");
                return 1;
            }
        } else if (!strcmp(argv[i], "--note")) {
            c.note = argv[i + 1];
        } else {
            return usage_product();
        }
    }
    if (!text_parse_int64(argv[1], 0, CATALOG_STOCK_MAX, &n)) {
        fprintf(stderr, "product set-stock: N must be a whole number from 0 to %d, not '%s'\n", CATALOG_STOCK_MAX, argv[1]);
        return 1;
    }
    c.amount = n;
    audit_actor me = audit_cli_actor();
    shop_error e;
    int64_t after;
    if (stock_adjust(&me, &c, &after, &e) != SHOP_OK) {
        fprintf(stderr, "product set-stock: %s\n", e.message);
        return 1;
    }
    printf("stock of %s is now %lld\n", argv[0], (long long)after);
    return 0;
}

static int set_price(int argc, char **argv)
{
    long long price, compare_at = -1;
    if (!text_parse_int64(argv[1], 0, CATALOG_PRICE_LIMIT, &price)) {
        fprintf(stderr, "product set-price: AMOUNT_MINOR must be a whole number of minor units (8999 for 89.99), not '%s'\n",
                argv[1]);
        return 1;
    }
    if (argc > 2 && !text_parse_int64(argv[2], 0, CATALOG_PRICE_LIMIT, &compare_at)) {
        fprintf(stderr, "product set-price: COMPARE_AT_MINOR must be a whole number of minor units, not '%s'\n", argv[2]);
        return 1;
    }
    audit_actor me = audit_cli_actor();
    shop_error e;
    if (product_admin_set_price(&me, argv[0], price, compare_at, &e) != SHOP_OK) {
        fprintf(stderr, "product set-price: %s\n", e.message);
        return 1;
    }
    char p[MONEY_FORMAT_MAX], c[MONEY_FORMAT_MAX];
    money_format(money_make(price, cfg.currency), p, sizeof p);
    printf("price of %s is now %s", argv[0], p);
    if (compare_at >= 0) {
        money_format(money_make(compare_at, cfg.currency), c, sizeof c);
        printf(" (was %s)", c);
    }
    printf("\n");
    return 0;
}

static int show(const char *slug)
{
    bool not_found = false;
    json_t *p = catalog_product(slug, &not_found);
    if (!p) {
        fprintf(stderr, not_found ? "product show: no active product %s\n" : "product show: the catalogue store failed (%s)\n",
                not_found ? slug : db_last_error());
        return 1;
    }
    char *s = json_dumps(p, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(p);
    if (!s) return 1;
    puts(s);
    free(s);
    return 0;
}

int cmd_product(int argc, char **argv)
{
    int rc;
    if (argc >= 4 && !strcmp(argv[1], "set-stock")) rc = set_stock(argc - 2, argv + 2);
    else if ((argc == 4 || argc == 5) && !strcmp(argv[1], "set-price")) rc = set_price(argc - 2, argv + 2);
    else if (argc == 3 && !strcmp(argv[1], "show")) rc = show(argv[2]);
    else return usage_product();
    db_conn_close();
    return rc;
}

static int review_add(int argc, char **argv)
{
    enum catalog_review_status status = REVIEW_APPROVED;
    if (argc == 7) {
        if (strcmp(argv[5], "--status") != 0 || !catalog_review_status_parse(argv[6], &status)) return usage_review();
    } else if (argc != 5) {
        return usage_review();
    }
    long long rating;
    if (!text_parse_int64(argv[1], 1, 5, &rating)) {
        fprintf(stderr, "review add: RATING must be a whole number from 1 to 5, not '%s'\n", argv[1]);
        return 1;
    }
    int64_t id = 0;
    if (report(catalog_add_review(argv[0], (int)rating, argv[2], argv[3], argv[4], status, &id), "review add")) return 1;
    printf("review %lld added to %s (%s)\n", (long long)id, argv[0], catalog_review_status_name(status));
    return 0;
}

static int review_moderate(char **argv)
{
    long long id;
    enum catalog_review_status status;
    if (!text_parse_int64(argv[0], 1, INT64_MAX, &id)) {
        fprintf(stderr, "review moderate: ID must be a review number, not '%s'\n", argv[0]);
        return 1;
    }
    if (!catalog_review_status_parse(argv[1], &status)) return usage_review();
    /* the portal's path: one unit of work with its audit row, by the person at the terminal */
    audit_actor me = audit_cli_actor();
    shop_error e;
    if (catalog_moderate_review(&me, id, status, &e) != SHOP_OK) {
        fprintf(stderr, "review moderate: %s\n", e.message);
        return 1;
    }
    printf("review %lld is now %s\n", id, argv[1]);
    return 0;
}

int cmd_review(int argc, char **argv)
{
    int rc;
    if (argc >= 2 && !strcmp(argv[1], "add")) rc = review_add(argc - 2, argv + 2);
    else if (argc == 4 && !strcmp(argv[1], "moderate")) rc = review_moderate(argv + 2);
    else return usage_review();
    db_conn_close();
    return rc;
}
