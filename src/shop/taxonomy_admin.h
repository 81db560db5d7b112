/* taxonomy_admin.h — the store owner's categories (a tree), brands and
 * colours: the reference data every storefront page shows (navigation,
 * facets, breadcrumbs, cards).
 *
 *   tax_form f = {.name = "Trail running", .slug = "", .parent = "3", .position = "2"};
 *   int64_t id;
 *   audit_actor who = admin_actor(req);
 *   if (taxonomy_save(&who, TAX_CATEGORY, 0, &f, &id, &e) != SHOP_OK) → e.message beside e.field
 *
 * Rules it keeps:
 *   - names: 1 to 80 characters (colours 40), no control characters,
 *     spaces at the ends dropped; slugs as the storefront's URLs and the
 *     tables' CHECKs have them: lower-case letters and digits in words
 *     joined by single hyphens ("trail-running"), at most 80 bytes
 *     (colours 40), unique per kind; an empty slug is made from the name;
 *     a colour's swatch is "#rrggbb" (stored lower-case); positions are
 *     whole numbers (TAX_POSITION_MAX either way);
 *   - a category's parent exists and is neither the category nor one of
 *     its descendants, and the tree stays at most TAX_MAX_DEPTH deep; every
 *     change of the tree holds the whole tree locked, so two moves at once
 *     cannot make a cycle between them;
 *   - only what nothing uses can be deleted: a category without products
 *     and subcategories, a brand without products, a colour without
 *     variants — otherwise SHOP_CONFLICT says what uses it;
 *   - every write is ONE unit of work with its audit row ("category.create",
 *     "brand.update", "colour.delete", … with before/after), and bumps the
 *     page-cache tag "global" after the commit (every storefront page shows
 *     these), so the shop shows the change at once;
 *   - a save that changes nothing writes nothing (*changed false).
 * Failures are shop_errors (result.h): SHOP_INVALID with the field,
 * SHOP_NOT_FOUND, SHOP_CONFLICT, SHOP_UNAVAILABLE. */
#ifndef SHOEASE_SHOP_TAXONOMY_ADMIN_H
#define SHOEASE_SHOP_TAXONOMY_ADMIN_H

#include "core/arena.h"
#include "db/taxonomy_repo.h"
#include "shop/audit.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

#define TAX_MAX_DEPTH 16            /* the storefront walks at most this many levels */
#define TAX_POSITION_MAX 1000000

/* What a form sends (strings as typed; NULL = empty). */
typedef struct tax_form {
    const char *name, *slug;
    const char *parent;             /* categories: a category id, "" = top level */
    const char *position;           /* categories, colours: "" = 0 */
    const char *hex;                /* colours */
} tax_form;

/* The kind's words for messages and the audit log: "category", "brand", "colour". */
const char *taxonomy_noun(tax_kind kind);

/* Create (id 0) or change (id > 0). *id_out (may be NULL) gets the id;
 * *changed (may be NULL) whether anything was written. */
shop_status taxonomy_save(const audit_actor *who, tax_kind kind, int64_t id, const tax_form *f, int64_t *id_out,
                          bool *changed, shop_error *e);
shop_status taxonomy_delete(const audit_actor *who, tax_kind kind, int64_t id, shop_error *e);

/* ---- reads for the portal ---- */

/* The category tree depth first (parents before their children, siblings
 * by position and name), with what the list shows. Strings in a. */
typedef struct tax_node {
    tax_row row;                    /* row.uses: products directly in it */
    int depth;                      /* 0 = top level */
    int children;
    int64_t subtree_products;       /* products in it and every descendant */
} tax_node;
shop_status taxonomy_tree(arena *a, tax_node **nodes, int *n, shop_error *e);
/* Is `id` `ancestor` or under it (in nodes from taxonomy_tree)? */
bool taxonomy_within(const tax_node *nodes, int n, int64_t id, int64_t ancestor);

/* Brands or colours (see tax_repo_search). */
shop_status taxonomy_search(arena *a, tax_kind kind, const char *q, const char *sort, bool desc, int offset, int max,
                            tax_row *out, int *n, int64_t *total, shop_error *e);
shop_status taxonomy_get(arena *a, tax_kind kind, int64_t id, tax_row *out, shop_error *e);

/* ---- rules (pure; unit-tested) ---- */
/* The slug rule above: a..z 0..9 words joined by single hyphens, 1..max bytes. */
bool taxonomy_slug_valid(const char *s, size_t max);
/* A slug made from a name: ASCII letters and digits lower-cased, anything
 * else one hyphen between words; "" when nothing is left. */
void taxonomy_slug_from(const char *name, char *out, size_t outlen);
/* "#rrggbb" (either case)? */
bool taxonomy_hex_valid(const char *s);

#endif
