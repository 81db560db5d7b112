/* taxonomy_admin.c — see taxonomy_admin.h. */
#include "shop/taxonomy_admin.h"

#include "cache/page_cache.h"
#include "core/log.h"
#include "core/text.h"
#include "db/tx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A unit of work's "tell the staff member" outcome (e is filled). */
#define REFUSED 2

static const char STORE_DOWN[] = "The catalogue is unavailable for a moment. Nothing was changed; please try again.";

const char *taxonomy_noun(tax_kind kind)
{
    return kind == TAX_CATEGORY ? "category" : kind == TAX_BRAND ? "brand" : "colour";
}

/* ---------- rules ---------- */

static size_t name_max(tax_kind kind) { return kind == TAX_COLOUR ? 40 : 80; }

bool taxonomy_slug_valid(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        /* a hyphen only between two letters or digits */
        if (!alnum && !(ch == '-' && i > 0 && i + 1 < n && s[i - 1] != '-')) return false;
    }
    return true;
}

void taxonomy_slug_from(const char *name, char *out, size_t outlen)
{
    size_t w = 0;
    bool hyphen = false;
    for (const char *p = name ? name : ""; *p && w + 1 < outlen; p++) {
        char ch = *p;
        if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            if (hyphen && w > 0 && w + 2 < outlen) out[w++] = '-';
            hyphen = false;
            out[w++] = ch;
        } else {
            hyphen = true;
        }
    }
    out[w] = '\0';
}

bool taxonomy_hex_valid(const char *s)
{
    if (!s || strlen(s) != 7 || s[0] != '#') return false;
    for (int i = 1; i < 7; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))) return false;
    }
    return true;
}

/* Spaces at both ends dropped, into a. */
static const char *trimmed(arena *a, const char *s)
{
    if (!s) return "";
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return arena_strndup(a, s, n);
}

/* The form checked and made into a row (into a): SHOP_OK or SHOP_INVALID
 * with the field. */
static shop_status check_form(arena *a, tax_kind kind, const tax_form *f, tax_row *row, shop_error *e)
{
    const char *noun = taxonomy_noun(kind);
    const char *name = trimmed(a, f->name);
    size_t max = name_max(kind), chars = text_utf8_chars(name);
    if (!*name) return shop_fail(e, SHOP_INVALID, "name", "Give the %s a name.", noun);
    if (!text_valid_utf8(name, strlen(name))) return shop_fail(e, SHOP_INVALID, "name", "The name must be plain text.");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return shop_fail(e, SHOP_INVALID, "name", "The name must be one line of text.");
    if (chars > max) return shop_fail(e, SHOP_INVALID, "name", "The name may be at most %zu characters.", max);
    row->name = name;

    const char *slug = trimmed(a, f->slug);
    if (!*slug) {
        char made[81];
        taxonomy_slug_from(name, made, max + 1 < sizeof made ? max + 1 : sizeof made);
        size_t n = strlen(made);
        while (n && made[n - 1] == '-') made[--n] = '\0';   /* cut in the middle of a word break */
        if (!*made)
            return shop_fail(e, SHOP_INVALID, "slug",
                             "Give a slug for the address (like trail-running): the name has no letters or digits "
                             "to make one from.");
        slug = arena_strdup(a, made);
    }
    if (!taxonomy_slug_valid(slug, max))
        return shop_fail(e, SHOP_INVALID, "slug",
                         "Use lower-case letters and digits, with single hyphens between words (like trail-running), "
                         "at most %zu characters.", max);
    row->slug = slug;

    row->position = 0;
    if (kind != TAX_BRAND) {
        const char *pos = trimmed(a, f->position);
        long long v = 0;
        if (*pos && !text_parse_int64(pos, -TAX_POSITION_MAX, TAX_POSITION_MAX, &v))
            return shop_fail(e, SHOP_INVALID, "position", "The position is a whole number from %d to %d.",
                             -TAX_POSITION_MAX, TAX_POSITION_MAX);
        row->position = v;
    }

    row->hex = "";
    if (kind == TAX_COLOUR) {
        const char *hex = trimmed(a, f->hex);
        if (!taxonomy_hex_valid(hex))
            return shop_fail(e, SHOP_INVALID, "hex", "Give the swatch as # and six hex digits, like #1f2a44.");
        char *lower = arena_strdup(a, hex);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
        row->hex = lower;
    }

    row->parent_id = 0;
    if (kind == TAX_CATEGORY) {
        const char *parent = trimmed(a, f->parent);
        long long v = 0;
        if (*parent && !text_parse_int64(parent, 1, 1LL << 32, &v))
            return shop_fail(e, SHOP_INVALID, "parent", "Choose a parent category from the list.");
        row->parent_id = v;
    }
    return SHOP_OK;
}

/* What the audit log keeps of a row. */
static json_t *row_json(tax_kind kind, const tax_row *r)
{
    json_t *o = json_pack("{s:s,s:s}", "name", r->name, "slug", r->slug);
    if (kind == TAX_CATEGORY) {
        json_object_set_new(o, "parent_id", r->parent_id > 0 ? json_integer(r->parent_id) : json_null());
        json_object_set_new(o, "position", json_integer(r->position));
    }
    if (kind == TAX_COLOUR) {
        json_object_set_new(o, "hex", json_string(r->hex));
        json_object_set_new(o, "position", json_integer(r->position));
    }
    return o;
}

static bool same_row(tax_kind kind, const tax_row *a, const tax_row *b)
{
    return !strcmp(a->name, b->name) && !strcmp(a->slug, b->slug) && a->position == b->position &&
           (kind != TAX_CATEGORY || a->parent_id == b->parent_id) && (kind != TAX_COLOUR || !strcmp(a->hex, b->hex));
}

/* ---------- after the commit: every page shows these ---------- */

static void bump_global(void *arg)
{
    (void)arg;
    if (catalog_cache_invalidate() < 0)
        log_warn("taxonomy: change committed but the page cache could not be invalidated (Redis unreachable)");
}

static int audit_and_bump(db_tx *tx, const audit_actor *who, tax_kind kind, const char *verb, int64_t id,
                          const tax_row *before, const tax_row *after)
{
    char action[40], key[24];
    snprintf(action, sizeof action, "%s.%s", taxonomy_noun(kind), verb);
    snprintf(key, sizeof key, "%lld", (long long)id);
    json_t *b = before ? row_json(kind, before) : NULL, *a = after ? row_json(kind, after) : NULL;
    int rc = audit_record(tx, who, action, taxonomy_noun(kind), key, b, a);
    json_decref(b);
    json_decref(a);
    if (rc < 0) return -1;
    return db_tx_after_commit(tx, bump_global, NULL, NULL);
}

/* ---------- the tree ---------- */

static int find(const tax_row *rows, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (rows[i].id == id) return i;
    return -1;
}

/* Levels from the top down to row idx (a top-level row is 1); -1 when the
 * parents loop (cannot happen while every change holds the tree). */
static int depth_of(const tax_row *rows, int n, int idx)
{
    int d = 0;
    for (int i = idx; i >= 0; i = find(rows, n, rows[i].parent_id))
        if (++d > n) return -1;
    return d;
}

/* Levels below row idx, itself included (a leaf is 1). */
static int height_of(const tax_row *rows, int n, int64_t id, int guard)
{
    int h = 0;
    if (guard > TAX_MAX_DEPTH + 1) return guard;
    for (int i = 0; i < n; i++)
        if (rows[i].parent_id == id) {
            int c = height_of(rows, n, rows[i].id, guard + 1);
            if (c > h) h = c;
        }
    return h + 1;
}

/* ---------- saving ---------- */

struct save {
    const audit_actor *who;
    tax_kind kind;
    int64_t id;
    tax_row row;
    bool changed;
    shop_error *e;
};

static int refuse(shop_error *e, shop_status st, const char *field, const char *msg)
{
    shop_fail(e, st, field, "%s", msg);
    return REFUSED;
}

static int gone(shop_error *e, tax_kind kind)
{
    shop_fail(e, SHOP_NOT_FOUND, NULL, "That %s does not exist (any more).", taxonomy_noun(kind));
    return REFUSED;
}

static int slug_taken(struct save *s)
{
    char msg[200];
    snprintf(msg, sizeof msg, "Another %s has the slug %s already: choose another.", taxonomy_noun(s->kind),
             s->row.slug);
    return refuse(s->e, SHOP_INVALID, "slug", msg);
}

/* The parent of a category: it exists, is not the category nor under it,
 * and the tree stays within TAX_MAX_DEPTH. */
static int check_parent(struct save *s, const tax_row *rows, int n)
{
    if (s->row.parent_id == 0) {
        if (s->id > 0 && height_of(rows, n, s->id, 0) > TAX_MAX_DEPTH)
            return refuse(s->e, SHOP_INVALID, "parent", "That would nest categories too deep.");
        return DB_TX_OK;
    }
    int p = find(rows, n, s->row.parent_id);
    if (p < 0) return refuse(s->e, SHOP_INVALID, "parent", "That parent category does not exist (any more).");
    if (s->id > 0)
        for (int i = p, guard = 0; i >= 0 && guard <= n; i = find(rows, n, rows[i].parent_id), guard++)
            if (rows[i].id == s->id)
                return refuse(s->e, SHOP_INVALID, "parent",
                              "A category cannot go under itself or one of its own subcategories.");
    int depth = depth_of(rows, n, p);
    int height = s->id > 0 ? height_of(rows, n, s->id, 0) : 1;
    if (depth < 0 || depth + height > TAX_MAX_DEPTH) {
        char msg[120];
        snprintf(msg, sizeof msg, "That would nest categories more than %d levels deep.", TAX_MAX_DEPTH);
        return refuse(s->e, SHOP_INVALID, "parent", msg);
    }
    return DB_TX_OK;
}

static int save_tx(db_tx *tx, void *arg)
{
    struct save *s = arg;
    db_conn *c = db_tx_conn(tx);
    arena *a = arena_new();
    int rc = DB_TX_FAILED;
    tax_row before = {0};
    bool have_before = false;
    s->changed = false;
    if (s->kind == TAX_CATEGORY) {
        /* the whole tree, locked: the parent check below stays true until commit */
        tax_row *rows;
        int n;
        if (tax_repo_lock_categories(c, a, &rows, &n) < 0) goto out;
        if (s->id > 0) {
            int i = find(rows, n, s->id);
            if (i >= 0) {
                before = rows[i];
                have_before = true;
            }
        }
        if (s->id > 0 && !have_before) {
            rc = gone(s->e, s->kind);
            goto out;
        }
        if ((rc = check_parent(s, rows, n)) != DB_TX_OK) goto out;
        rc = DB_TX_FAILED;
    } else if (s->id > 0) {
        int r = tax_repo_get(c, a, s->kind, s->id, true, &before);
        if (r < 0) goto out;
        if (r == 0) {
            rc = gone(s->e, s->kind);
            goto out;
        }
        have_before = true;
    }
    s->row.id = s->id;
    if (have_before && same_row(s->kind, &before, &s->row)) {
        rc = DB_TX_OK; /* nothing to write, nothing to record */
        goto out;
    }
    int taken = tax_repo_slug_taken(c, s->kind, s->row.slug, s->id);
    if (taken < 0) goto out;
    if (taken) {
        rc = slug_taken(s);
        goto out;
    }
    int w = s->id > 0 ? tax_repo_update(c, s->kind, &s->row) : tax_repo_insert(c, s->kind, &s->row);
    if (w == TAX_REPO_DUPLICATE) {
        rc = slug_taken(s); /* taken meanwhile */
        goto out;
    }
    if (w < 0) goto out;
    /* a category's old address keeps working (301, views/category.c); the
     * slug it takes now is nobody's old address any more */
    if (s->kind == TAX_CATEGORY &&
        (tax_repo_category_redirect_remove(c, s->row.slug) < 0 ||
         (have_before && strcmp(before.slug, s->row.slug) != 0 &&
          tax_repo_category_redirect_add(c, before.slug, s->row.id) < 0)))
        goto out;
    if (audit_and_bump(tx, s->who, s->kind, s->id > 0 ? "update" : "create", s->row.id,
                       have_before ? &before : NULL, &s->row) < 0)
        goto out;
    s->changed = true;
    rc = DB_TX_OK;
out:
    arena_free(a);
    return rc;
}

shop_status taxonomy_save(const audit_actor *who, tax_kind kind, int64_t id, const tax_form *f, int64_t *id_out,
                          bool *changed, shop_error *e)
{
    arena *a = arena_new();
    struct save s = {.who = who, .kind = kind, .id = id, .e = e};
    shop_status st = check_form(a, kind, f, &s.row, e);
    if (st == SHOP_OK) {
        int rc = db_tx_run(save_tx, &s);
        if (rc == REFUSED) st = e->status;
        else if (rc != DB_TX_OK) st = shop_fail(e, SHOP_UNAVAILABLE, NULL, "%s", STORE_DOWN);
    }
    if (st == SHOP_OK) {
        if (id_out) *id_out = s.row.id;
        if (changed) *changed = s.changed;
    }
    arena_free(a);
    return st;
}

/* ---------- deleting ---------- */

struct del {
    const audit_actor *who;
    tax_kind kind;
    int64_t id;
    shop_error *e;
};

static int delete_tx(db_tx *tx, void *arg)
{
    struct del *d = arg;
    db_conn *c = db_tx_conn(tx);
    arena *a = arena_new();
    int rc = DB_TX_FAILED;
    tax_row row;
    int r;
    if (d->kind == TAX_CATEGORY) {
        tax_row *rows;
        int n;
        if (tax_repo_lock_categories(c, a, &rows, &n) < 0) goto out;
        int i = find(rows, n, d->id);
        r = i >= 0;
        if (r) row = rows[i];
    } else {
        r = tax_repo_get(c, a, d->kind, d->id, true, &row);
        if (r < 0) goto out;
    }
    if (r == 0) {
        rc = gone(d->e, d->kind);
        goto out;
    }
    int64_t uses = 0, children = 0;
    if (tax_repo_usage(c, d->kind, d->id, &uses, &children) < 0) goto out;
    if (uses > 0 || children > 0) {
        char msg[240];
        if (d->kind == TAX_CATEGORY)
            snprintf(msg, sizeof msg,
                     "“%s” still has %lld product%s and %lld subcategor%s. Move them to another category first: "
                     "only an empty category can be deleted.",
                     row.name, (long long)uses, uses == 1 ? "" : "s", (long long)children, children == 1 ? "y" : "ies");
        else if (d->kind == TAX_BRAND)
            snprintf(msg, sizeof msg,
                     "“%s” is the brand of %lld product%s. Give them another brand first: only an unused brand can "
                     "be deleted.",
                     row.name, (long long)uses, uses == 1 ? "" : "s");
        else
            snprintf(msg, sizeof msg,
                     "“%s” is the colour of %lld variant%s. Change or remove them first: only an unused colour can "
                     "be deleted.",
                     row.name, (long long)uses, uses == 1 ? "" : "s");
        rc = refuse(d->e, SHOP_CONFLICT, NULL, msg);
        goto out;
    }
    int w = tax_repo_delete(c, d->kind, d->id);
    if (w == TAX_REPO_IN_USE) {
        char msg[120];
        snprintf(msg, sizeof msg, "Something started using this %s meanwhile: it was not deleted.",
                 taxonomy_noun(d->kind));
        rc = refuse(d->e, SHOP_CONFLICT, NULL, msg);
        goto out;
    }
    if (w < 0 || audit_and_bump(tx, d->who, d->kind, "delete", d->id, &row, NULL) < 0) goto out;
    rc = DB_TX_OK;
out:
    arena_free(a);
    return rc;
}

shop_status taxonomy_delete(const audit_actor *who, tax_kind kind, int64_t id, shop_error *e)
{
    struct del d = {who, kind, id, e};
    int rc = db_tx_run(delete_tx, &d);
    if (rc == REFUSED) return e->status;
    if (rc != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, "%s", STORE_DOWN);
    return SHOP_OK;
}

/* ---------- reads ---------- */

/* Append the children of parent (and theirs) to out, depth first. */
static void walk(const tax_row *rows, int n, int64_t parent, int depth, tax_node *out, int *k, bool *placed)
{
    if (depth > TAX_MAX_DEPTH) return;
    /* rows come ordered by (parent, position, name): siblings in order */
    for (int i = 0; i < n; i++) {
        if (rows[i].parent_id != parent || placed[i]) continue;
        placed[i] = true;
        tax_node *node = &out[(*k)++];
        node->row = rows[i];
        node->depth = depth;
        walk(rows, n, rows[i].id, depth + 1, out, k, placed);
    }
}

shop_status taxonomy_tree(arena *a, tax_node **nodes, int *n, shop_error *e)
{
    db_conn *c = db_conn_get();
    tax_row *rows;
    int nrows;
    if (!c || tax_repo_categories(c, a, &rows, &nrows) < 0)
        return shop_fail(e, SHOP_UNAVAILABLE, NULL, "The catalogue is unavailable for a moment.");
    tax_node *out = arena_alloc(a, (size_t)(nrows ? nrows : 1) * sizeof *out);
    bool *placed = arena_alloc(a, (size_t)(nrows ? nrows : 1) * sizeof *placed);
    int k = 0;
    walk(rows, nrows, 0, 0, out, &k, placed);
    /* a row whose parent is missing cannot exist (foreign key); shown at the top if it ever did */
    for (int i = 0; i < nrows; i++)
        if (!placed[i]) {
            placed[i] = true;
            out[k].row = rows[i];
            out[k++].depth = 0;
        }
    for (int i = 0; i < k; i++) {
        out[i].subtree_products = out[i].row.uses;
        out[i].children = 0;
        /* the nodes after i deeper than it are its subtree (depth first) */
        for (int j = i + 1; j < k && out[j].depth > out[i].depth; j++) {
            out[i].subtree_products += out[j].row.uses;
            if (out[j].depth == out[i].depth + 1) out[i].children++;
        }
    }
    *nodes = out;
    *n = k;
    return SHOP_OK;
}

bool taxonomy_within(const tax_node *nodes, int n, int64_t id, int64_t ancestor)
{
    for (int guard = 0; id > 0 && guard <= n; guard++) {
        if (id == ancestor) return true;
        int64_t parent = 0;
        for (int i = 0; i < n; i++)
            if (nodes[i].row.id == id) parent = nodes[i].row.parent_id;
        id = parent;
    }
    return false;
}

shop_status taxonomy_search(arena *a, tax_kind kind, const char *q, const char *sort, bool desc, int offset, int max,
                            tax_row *out, int *n, int64_t *total, shop_error *e)
{
    db_conn *c = db_conn_get();
    int r = c ? tax_repo_search(c, a, kind, q, sort, desc, offset, max, out, total) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, "The catalogue is unavailable for a moment.");
    *n = r;
    return SHOP_OK;
}

shop_status taxonomy_get(arena *a, tax_kind kind, int64_t id, tax_row *out, shop_error *e)
{
    db_conn *c = db_conn_get();
    int r = c ? tax_repo_get(c, a, kind, id, false, out) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, "The catalogue is unavailable for a moment.");
    if (r == 0) return shop_fail(e, SHOP_NOT_FOUND, NULL, "No such %s.", taxonomy_noun(kind));
    return SHOP_OK;
}
