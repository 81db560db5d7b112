/* taxonomy_repo.h — the statements of the store owner's categories, brands
 * and colours (tables of migrations/0002), for shop/taxonomy_admin.c. The
 * storefront reads the same tables through catalog_repo.h.
 *
 *   arena *a = arena_new();
 *   tax_row *rows; int n;
 *   if (tax_repo_lock_categories(db_tx_conn(tx), a, &rows, &n) < 0) return DB_TX_FAILED;   // the whole tree, locked
 *   …check the move…
 *   int r = tax_repo_update(db_tx_conn(tx), TAX_CATEGORY, &changed);   // 0, TAX_REPO_DUPLICATE, -1
 *
 * Rules: statements only, on the caller's connection (writers: its unit of
 * work's, db/tx.h); never begin or commit. SQL is chosen from fixed
 * strings per kind and sort column, never built from input. Strings of
 * rows live in the caller's arena. */
#ifndef SHOEASE_DB_TAXONOMY_REPO_H
#define SHOEASE_DB_TAXONOMY_REPO_H

#include "core/arena.h"
#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum tax_kind { TAX_CATEGORY = 0, TAX_BRAND, TAX_COLOUR } tax_kind;

/* A write refused by a unique key (the slug). */
#define TAX_REPO_DUPLICATE 2
/* A delete refused by a foreign key (something uses the row after all). */
#define TAX_REPO_IN_USE 3

typedef struct tax_row {
    int64_t id;
    int64_t parent_id;        /* categories: 0 = top level */
    int64_t position;         /* categories, colours */
    const char *slug, *name;
    const char *hex;          /* colours: "#1f2a44"; else "" */
    int64_t uses;             /* products in it (categories: directly), with it (brands), in it (colours) */
} tax_row;

/* Every category (parent, position, name order) with the number of
 * products directly in it. *rows in a. 0 or -1. */
int tax_repo_categories(db_conn *c, arena *a, tax_row **rows, int *n);
/* Every category, locked (SELECT … FOR UPDATE), uses not read: whoever
 * changes the tree holds all of it, so two moves at once cannot make a
 * cycle between them. 0 or -1. */
int tax_repo_lock_categories(db_conn *c, arena *a, tax_row **rows, int *n);

/* Brands or colours: those whose name or slug contain q (NULL: all),
 * sorted by sort ("name", "slug", "uses", "position"; others: name), at
 * most max from offset; *total how many match. Count read, or -1. */
int tax_repo_search(db_conn *c, arena *a, tax_kind kind, const char *q, const char *sort, bool desc, int offset,
                    int max, tax_row *out, int64_t *total);

/* One row by id with its uses; lock: FOR UPDATE. 1, 0 none, -1. */
int tax_repo_get(db_conn *c, arena *a, tax_kind kind, int64_t id, bool lock, tax_row *out);
/* Is slug used by another row of kind than except_id? 1, 0, -1. */
int tax_repo_slug_taken(db_conn *c, tax_kind kind, const char *slug, int64_t except_id);

/* A category's earlier slugs (category_slug_redirects, migrations/0014):
 * old_slug now leads to category_id (replacing where it led before); a
 * slug a category takes is no old address any more. 0 or -1. */
int tax_repo_category_redirect_add(db_conn *c, const char *old_slug, int64_t category_id);
int tax_repo_category_redirect_remove(db_conn *c, const char *slug);

/* Writes: id, parent_id, position, slug, name, hex of row as the kind has
 * them. 0, TAX_REPO_DUPLICATE, or -1. tax_repo_insert sets row->id. */
int tax_repo_insert(db_conn *c, tax_kind kind, tax_row *row);
int tax_repo_update(db_conn *c, tax_kind kind, const tax_row *row);
/* 0, TAX_REPO_IN_USE, or -1. */
int tax_repo_delete(db_conn *c, tax_kind kind, int64_t id);

/* What uses a row, read with shared locks (so it holds until commit):
 * products (categories, brands), variants (colours), child categories
 * (categories). 0 or -1. */
int tax_repo_usage(db_conn *c, tax_kind kind, int64_t id, int64_t *uses, int64_t *children);

#endif
