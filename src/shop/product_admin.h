/* product_admin.h — the catalogue as staff change it: products (the edit
 * form, bulk activation, prices), variants as a size grid (a whole size run
 * at once), stock adjustments with a reason and their history. The admin
 * portal (views/admin_products.c) and the store-owner commands (`shoease
 * product set-stock / set-price`, cmd/product.c) both come here: one path
 * for every write.
 *
 *   product_errors errs;
 *   int64_t id;
 *   audit_actor who = admin_actor(req);
 *   if (product_admin_create(&who, &form, &id, &errs) != SHOP_OK)
 *       → the form again, errs.e[i].message beside errs.e[i].field
 *
 *   stock_change c = {.variant_id = 42, .reason = STOCK_RECEIVED, .amount = 12, .seen = -1};
 *   if (stock_adjust(&who, &c, &after, &e) != SHOP_OK) → e.message beside e.field
 *
 * What it guarantees:
 *   - every write is ONE unit of work (db/tx.h) with its audit row(s)
 *     (before → after) and, for stock, its stock_adjustments row: nothing is
 *     half-saved, nothing changes without its record;
 *   - in that unit of work it tells the catalogue what changed
 *     (catalog_stock_changed / catalog_product_changed*), so the storefront's
 *     cached pages show the change as soon as it has committed;
 *   - a product edit names the version it started from; if someone saved
 *     the product meanwhile the save is refused (SHOP_CONFLICT) and the
 *     caller gets the values saved now;
 *   - a slug change keeps the old address answering (301, product_slug_redirects);
 *   - input is checked here (the forms' fields as typed), each problem
 *     reported on its field; money is parsed with money.h into minor units. */
#ifndef SHOEASE_SHOP_PRODUCT_ADMIN_H
#define SHOEASE_SHOP_PRODUCT_ADMIN_H

#include "core/arena.h"
#include "db/product_admin_repo.h"
#include "shop/audit.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

#define PRODUCT_NAME_MAX 160           /* characters */
#define PRODUCT_SLUG_MAX 120
#define PRODUCT_DESCRIPTION_MAX 10000
#define PRODUCT_MATERIAL_MAX 255
#define PRODUCT_TAGS_MAX 20            /* tags per product */
#define PRODUCT_TAG_MAX 40             /* characters per tag */
#define PRODUCT_BULK_MAX 200           /* products per bulk action */
#define SIZE_RUN_MAX_CELLS 240         /* sizes × widths in one run */
#define STOCK_NOTE_MAX 255

/* Several problems at once, one per field, so a form shows each beside
 * its field. The first one's status is the outcome's. e[i].field points
 * into field[i] (or at a constant): do not copy the struct. */
#define PRODUCT_ERRORS_MAX 24
typedef struct product_errors {
    int n;
    shop_error e[PRODUCT_ERRORS_MAX];
    char field[PRODUCT_ERRORS_MAX][32];
} product_errors;

/* ---------- products ---------- */

/* The edit form's fields as typed (NULL = absent). */
typedef struct product_form {
    const char *name, *slug, *brand_id, *category_id, *gender, *description, *material, *tags;
    const char *price, *compare_at;    /* major units as typed: "89.99" */
    const char *tax_class;             /* standard | reduced | zero */
    const char *version;               /* the version the form showed (edits only) */
    bool active, featured;
} product_form;

/* Check the form's fields (no database): p gets the values (strings in a;
 * an empty slug is made from the name; tags trimmed, lower-cased, without
 * repeats, joined by ","), errs every problem. SHOP_OK or SHOP_INVALID.
 * That the brand and category exist and the slug is free is checked when
 * saving. */
shop_status product_form_check(const product_form *f, arena *a, pa_product *p, product_errors *errs);

shop_status product_admin_list(const pa_list_query *q, arena *a, pa_product **rows, int *n, int64_t *total,
                               shop_error *e);
shop_status product_admin_get(int64_t id, arena *a, pa_product *out, shop_error *e);
shop_status product_admin_create(const audit_actor *who, const product_form *f, int64_t *id, product_errors *errs);
/* SHOP_CONFLICT: someone saved the product after the form's version; *current
 * (strings in a) is what is saved now, nothing was changed. *changed:
 * false when the form held what was saved already (nothing written). */
shop_status product_admin_update(const audit_actor *who, int64_t id, const product_form *f, arena *a,
                                 pa_product *current, bool *changed, product_errors *errs);
/* Activate or deactivate products (at most PRODUCT_BULK_MAX); *changed: how
 * many were not so already. One unit of work, an audit row per product. */
shop_status product_admin_set_active(const audit_actor *who, const int64_t *ids, int n, bool active, int *changed,
                                     shop_error *e);
/* A price from the command line (minor units; compare_at -1: none). */
shop_status product_admin_set_price(const audit_actor *who, const char *slug, int64_t price, int64_t compare_at,
                                    shop_error *e);

/* What the forms offer: brands by name, colours by position (categories:
 * taxonomy_tree, shop/taxonomy_admin.h). Strings in a. */
typedef struct pa_choice {
    int64_t id;
    const char *name, *slug, *hex;
} pa_choice;
typedef struct pa_choices {
    pa_choice *brands, *colours;
    int nbrands, ncolours;
} pa_choices;
shop_status product_admin_choices(arena *a, pa_choices *out, shop_error *e);

/* ---------- the size grid ---------- */

shop_status product_admin_variants(int64_t product_id, arena *a, pa_variant **out, int *n, shop_error *e);

/* A size run as typed: one colour, sizes from..to (whole or half sizes) in
 * steps of 1 or 0.5, in each of the widths, every cell starting with the
 * same stock. SKUs: <prefix>-<COLOUR>-<SYSTEM><size×10>-<width initial>,
 * e.g. SE00042-BLACK-UK095-S. */
typedef struct size_run_form {
    const char *colour_id, *system, *from, *to, *step, *stock, *sku_prefix;
    const char *widths[3];
    int nwidths;
} size_run_form;
typedef struct size_run {
    int64_t colour_id, stock;
    const char *system;                /* "UK", "EU", "US" */
    char sku_prefix[25];               /* "": SE<product id, 5 digits> */
    int ncells;
    struct size_run_cell {
        int tenths;                    /* 95 = 9.5 */
        const char *width;
    } cells[SIZE_RUN_MAX_CELLS];
} size_run;
/* Check and expand a run (no database). SHOP_OK or SHOP_INVALID (errs). */
shop_status size_run_plan(const size_run_form *f, size_run *out, product_errors *errs);
/* "UK 9.5" / "EU 42" for a size (out at least 16 bytes). */
void size_label(const char *system, int tenths, char *out, size_t outlen);
/* Add the run's cells that the product does not have yet (one unit of
 * work: all or none; a SKU already used elsewhere refuses the whole run).
 * *added, *existing: cells made, cells left as they were. */
shop_status size_run_add(const audit_actor *who, int64_t product_id, const size_run_form *f, int *added,
                         int *existing, product_errors *errs);

/* ---------- stock ---------- */

enum stock_reason { STOCK_RECEIVED, STOCK_DAMAGED, STOCK_RECOUNT, STOCK_RETURNED, STOCK_CORRECTION, STOCK_REASONS };
bool stock_reason_parse(const char *s, enum stock_reason *r);
const char *stock_reason_name(enum stock_reason r);    /* "received" */
const char *stock_reason_label(enum stock_reason r);   /* "Received (a delivery)" */

/* A change of one variant's stock. */
typedef struct stock_change {
    int64_t variant_id;                /* or, when 0, by sku */
    const char *sku;
    enum stock_reason reason;
    bool absolute;                     /* amount is the count now (a recount) */
    int64_t amount;                    /* else the change: +12, -2 */
    int64_t seen;                      /* absolute: the stock the form showed, -1: not checked */
    const char *note;                  /* optional, at most STOCK_NOTE_MAX characters */
} stock_change;

/* "+12", "-2", "12" (spaces around allowed) → the change. */
bool stock_parse_change(const char *s, int64_t *delta);
/* Does c fit its reason and the limits, given the stock now? *after the
 * new stock. Received and returned pairs add, damaged ones take away, a
 * recount may also confirm the count; stock stays in 0..CATALOG_STOCK_MAX.
 * e->field: "change" or "set_to" (or "note"). */
shop_status stock_change_check(const stock_change *c, int64_t current, int64_t *after, shop_error *e);
shop_status stock_adjust(const audit_actor *who, const stock_change *c, int64_t *after, shop_error *e);

/* The grid's cells as typed: the count and the count the page showed. */
typedef struct stock_cell {
    int64_t variant_id;
    const char *count, *seen;
} stock_cell;
/* Save the cells whose count differs from what the page showed, all with
 * one reason (one unit of work: all or none). A cell that changed since
 * the page was shown (a sale) refuses the save: SHOP_CONFLICT. Errors name
 * the field "stock_<variant id>". *changed: cells saved. */
shop_status stock_grid_save(const audit_actor *who, int64_t product_id, const stock_cell *cells, int n,
                            enum stock_reason reason, const char *note, int *changed, product_errors *errs);

/* A variant (with its product's name and slug) and a page of its history,
 * newest first. */
shop_status stock_history(int64_t variant_id, int offset, int max, arena *a, pa_variant *v, pa_adjustment **rows,
                          int *n, int64_t *total, shop_error *e);

#endif
