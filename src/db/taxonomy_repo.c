/* taxonomy_repo.c — see taxonomy_repo.h. */
#include "db/taxonomy_repo.h"

#include <stdlib.h>
#include <string.h>

/* MariaDB's error numbers the callers are told about. */
#define ER_DUP_ENTRY 1062
#define ER_ROW_IS_REFERENCED_2 1451

/* The statements of each kind, as fixed strings. */
typedef struct kind_sql {
    const char *get, *get_lock;
    const char *slug_taken;
    const char *insert, *update, *delete_;
    const char *uses;
} kind_sql;

#define CAT_COLS "t.id, COALESCE(t.parent_id, 0), t.position, t.slug, t.name, ''," \
                 " (SELECT COUNT(*) FROM products p WHERE p.category_id = t.id)"
#define BRAND_COLS "t.id, 0, 0, t.slug, t.name, '', (SELECT COUNT(*) FROM products p WHERE p.brand_id = t.id)"
#define COLOUR_COLS "t.id, 0, t.position, t.slug, t.name, t.hex," \
                    " (SELECT COUNT(DISTINCT v.product_id) FROM variants v WHERE v.colour_id = t.id)"

static const kind_sql kinds[] = {
    [TAX_CATEGORY] = {
        .get = "SELECT " CAT_COLS " FROM categories t WHERE t.id = ?",
        .get_lock = "SELECT t.id, COALESCE(t.parent_id, 0), t.position, t.slug, t.name, '', 0"
                    " FROM categories t WHERE t.id = ? FOR UPDATE",
        .slug_taken = "SELECT 1 FROM categories WHERE slug = ? AND id <> ? LIMIT 1",
        .insert = "INSERT INTO categories (parent_id, position, slug, name) VALUES (?, ?, ?, ?)",
        .update = "UPDATE categories SET parent_id = ?, position = ?, slug = ?, name = ? WHERE id = ?",
        .delete_ = "DELETE FROM categories WHERE id = ?",
        .uses = "SELECT COUNT(*) FROM products WHERE category_id = ? LOCK IN SHARE MODE",
    },
    [TAX_BRAND] = {
        .get = "SELECT " BRAND_COLS " FROM brands t WHERE t.id = ?",
        .get_lock = "SELECT t.id, 0, 0, t.slug, t.name, '', 0 FROM brands t WHERE t.id = ? FOR UPDATE",
        .slug_taken = "SELECT 1 FROM brands WHERE slug = ? AND id <> ? LIMIT 1",
        .insert = "INSERT INTO brands (slug, name) VALUES (?, ?)",
        .update = "UPDATE brands SET slug = ?, name = ? WHERE id = ?",
        .delete_ = "DELETE FROM brands WHERE id = ?",
        .uses = "SELECT COUNT(*) FROM products WHERE brand_id = ? LOCK IN SHARE MODE",
    },
    [TAX_COLOUR] = {
        .get = "SELECT " COLOUR_COLS " FROM colours t WHERE t.id = ?",
        .get_lock = "SELECT t.id, 0, t.position, t.slug, t.name, t.hex, 0 FROM colours t WHERE t.id = ? FOR UPDATE",
        .slug_taken = "SELECT 1 FROM colours WHERE slug = ? AND id <> ? LIMIT 1",
        .insert = "INSERT INTO colours (position, slug, name, hex) VALUES (?, ?, ?, ?)",
        .update = "UPDATE colours SET position = ?, slug = ?, name = ?, hex = ? WHERE id = ?",
        .delete_ = "DELETE FROM colours WHERE id = ?",
        .uses = "SELECT COUNT(*) FROM variants WHERE colour_id = ? LOCK IN SHARE MODE",
    },
};

/* The columns of a row in the order of the *_COLS above. */
static void read_row(arena *a, db_stmt *st, tax_row *r)
{
    r->id = db_col_int64(st, 0);
    r->parent_id = db_col_int64(st, 1);
    r->position = db_col_int64(st, 2);
    r->slug = db_col_arena(st, 3, a);
    r->name = db_col_arena(st, 4, a);
    r->hex = db_col_arena(st, 5, a);
    r->uses = db_col_int64(st, 6);
}

static int read_all(db_stmt *st, arena *a, tax_row **rows, int *n)
{
    *rows = NULL;
    *n = 0;
    if (!st) return -1;
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int cap = 0, r;
    while ((r = db_fetch(st)) == 1) {
        if (*n == cap) {
            int nc = cap ? cap * 2 : 32;
            tax_row *grown = arena_alloc(a, (size_t)nc * sizeof *grown);
            if (*n) memcpy(grown, *rows, (size_t)*n * sizeof *grown);
            *rows = grown;
            cap = nc;
        }
        read_row(a, st, &(*rows)[(*n)++]);
    }
    db_reset(st);
    return r < 0 ? -1 : 0;
}

int tax_repo_categories(db_conn *c, arena *a, tax_row **rows, int *n)
{
    return read_all(db_prepare(c, "SELECT " CAT_COLS " FROM categories t"
                                  " ORDER BY COALESCE(t.parent_id, 0), t.position, t.name, t.id"),
                    a, rows, n);
}

int tax_repo_lock_categories(db_conn *c, arena *a, tax_row **rows, int *n)
{
    return read_all(db_prepare(c, "SELECT t.id, COALESCE(t.parent_id, 0), t.position, t.slug, t.name, '', 0"
                                  " FROM categories t ORDER BY t.id FOR UPDATE"),
                    a, rows, n);
}

/* The search statements: kind × sort column × direction, each a fixed
 * string. */
static const char *const sort_names[] = {"name", "slug", "uses", "position"};
#define NSORTS 4
#define WHERE_Q " WHERE (? IS NULL OR INSTR(t.name, ?) > 0 OR INSTR(t.slug, ?) > 0)"
#define SEARCH(cols, table, order) "SELECT " cols " FROM " table " t" WHERE_Q " ORDER BY " order " LIMIT ? OFFSET ?"
#define SEARCHES(cols, table)                                                                                   \
    {{SEARCH(cols, table, "t.name, t.id"), SEARCH(cols, table, "t.name DESC, t.id DESC")},                    \
     {SEARCH(cols, table, "t.slug, t.id"), SEARCH(cols, table, "t.slug DESC, t.id DESC")},                    \
     {SEARCH(cols, table, "7, t.name, t.id"), SEARCH(cols, table, "7 DESC, t.name, t.id")},                   \
     {SEARCH(cols, table, "3, t.name, t.id"), SEARCH(cols, table, "3 DESC, t.name, t.id")}}
static const char *const searches[3][NSORTS][2] = {
    [TAX_CATEGORY] = SEARCHES(CAT_COLS, "categories"),
    [TAX_BRAND] = SEARCHES(BRAND_COLS, "brands"),
    [TAX_COLOUR] = SEARCHES(COLOUR_COLS, "colours"),
};
static const char *const counts[3] = {
    [TAX_CATEGORY] = "SELECT COUNT(*) FROM categories t" WHERE_Q,
    [TAX_BRAND] = "SELECT COUNT(*) FROM brands t" WHERE_Q,
    [TAX_COLOUR] = "SELECT COUNT(*) FROM colours t" WHERE_Q,
};

int tax_repo_search(db_conn *c, arena *a, tax_kind kind, const char *q, const char *sort, bool desc, int offset,
                    int max, tax_row *out, int64_t *total)
{
    int s = 0;
    for (int i = 0; sort && i < NSORTS; i++)
        if (!strcmp(sort, sort_names[i])) s = i;
    if (q && !*q) q = NULL;
    db_stmt *st = db_prepare(c, counts[kind]);
    if (!st) return -1;
    for (int i = 0; i < 3; i++) {
        if (q) db_bind_text(st, i, q, -1);
        else db_bind_null(st, i);
    }
    int r = db_exec(st) < 0 ? -1 : db_fetch(st);
    *total = r == 1 ? db_col_int64(st, 0) : 0;
    db_reset(st);
    if (r < 0) return -1;
    if (!(st = db_prepare(c, searches[kind][s][desc ? 1 : 0]))) return -1;
    for (int i = 0; i < 3; i++) {
        if (q) db_bind_text(st, i, q, -1);
        else db_bind_null(st, i);
    }
    db_bind_int64(st, 3, max);
    db_bind_int64(st, 4, offset);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && (r = db_fetch(st)) == 1) read_row(a, st, &out[n++]);
    db_reset(st);
    return r < 0 ? -1 : n;
}

int tax_repo_get(db_conn *c, arena *a, tax_kind kind, int64_t id, bool lock, tax_row *out)
{
    db_stmt *st = db_prepare(c, lock ? kinds[kind].get_lock : kinds[kind].get);
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    int r = db_exec(st) < 0 ? -1 : db_fetch(st);
    if (r == 1) read_row(a, st, out);
    db_reset(st);
    return r;
}

int tax_repo_slug_taken(db_conn *c, tax_kind kind, const char *slug, int64_t except_id)
{
    db_stmt *st = db_prepare(c, kinds[kind].slug_taken);
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    db_bind_int64(st, 1, except_id);
    int r = db_exec(st) < 0 ? -1 : db_fetch(st);
    db_reset(st);
    return r;
}

int tax_repo_category_redirect_add(db_conn *c, const char *old_slug, int64_t category_id)
{
    db_stmt *st = db_prepare(c, "INSERT INTO category_slug_redirects (old_slug, category_id) VALUES (?, ?) "
                                "ON DUPLICATE KEY UPDATE category_id = VALUES(category_id), created_at = CURRENT_TIMESTAMP");
    if (!st) return -1;
    db_bind_text(st, 0, old_slug, -1);
    db_bind_int64(st, 1, category_id);
    return db_run(st);
}

int tax_repo_category_redirect_remove(db_conn *c, const char *slug)
{
    db_stmt *st = db_prepare(c, "DELETE FROM category_slug_redirects WHERE old_slug = ?");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    return db_run(st);
}

/* Bind a row's columns as the kind's insert/update takes them; returns the
 * next index. */
static int bind_row(db_stmt *st, tax_kind kind, const tax_row *row)
{
    int i = 0;
    if (kind == TAX_CATEGORY) {
        if (row->parent_id > 0) db_bind_int64(st, i++, row->parent_id);
        else db_bind_null(st, i++);
    }
    if (kind != TAX_BRAND) db_bind_int64(st, i++, row->position);
    db_bind_text(st, i++, row->slug, -1);
    db_bind_text(st, i++, row->name, -1);
    if (kind == TAX_COLOUR) db_bind_text(st, i++, row->hex, -1);
    return i;
}

static int write_result(db_stmt *st)
{
    int rc = db_exec(st);
    db_reset(st);
    if (rc == 0) return 0;
    unsigned e = db_last_errno();
    return e == ER_DUP_ENTRY ? TAX_REPO_DUPLICATE : e == ER_ROW_IS_REFERENCED_2 ? TAX_REPO_IN_USE : -1;
}

int tax_repo_insert(db_conn *c, tax_kind kind, tax_row *row)
{
    db_stmt *st = db_prepare(c, kinds[kind].insert);
    if (!st) return -1;
    bind_row(st, kind, row);
    int rc = db_exec(st);
    if (rc == 0) row->id = (int64_t)db_insert_id(st);
    db_reset(st);
    if (rc == 0) return 0;
    return db_last_errno() == ER_DUP_ENTRY ? TAX_REPO_DUPLICATE : -1;
}

int tax_repo_update(db_conn *c, tax_kind kind, const tax_row *row)
{
    db_stmt *st = db_prepare(c, kinds[kind].update);
    if (!st) return -1;
    int i = bind_row(st, kind, row);
    db_bind_int64(st, i, row->id);
    int rc = write_result(st);
    return rc == TAX_REPO_IN_USE ? -1 : rc;
}

int tax_repo_delete(db_conn *c, tax_kind kind, int64_t id)
{
    db_stmt *st = db_prepare(c, kinds[kind].delete_);
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    int rc = write_result(st);
    return rc == TAX_REPO_DUPLICATE ? -1 : rc;
}

/* One row, one integer: 0 (with *v) or -1. */
static int count_of(db_conn *c, const char *sql, int64_t id, int64_t *v)
{
    db_stmt *st = db_prepare(c, sql);
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    int r = db_exec(st) < 0 ? -1 : db_fetch(st);
    if (r == 1) *v = db_col_int64(st, 0);
    db_reset(st);
    return r == 1 ? 0 : -1;
}

int tax_repo_usage(db_conn *c, tax_kind kind, int64_t id, int64_t *uses, int64_t *children)
{
    *children = 0;
    if (count_of(c, kinds[kind].uses, id, uses) < 0) return -1;
    if (kind == TAX_CATEGORY &&
        count_of(c, "SELECT COUNT(*) FROM categories WHERE parent_id = ? LOCK IN SHARE MODE", id, children) < 0)
        return -1;
    return 0;
}
