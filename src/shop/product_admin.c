/* product_admin.c — see product_admin.h. */
#include "shop/product_admin.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "db/catalog_repo.h"
#include "db/tx.h"
#include "shop/catalog.h"
#include "shop/money.h"
#include "shop/taxonomy_admin.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A unit of work's "tell them" outcome (db/tx.h: codes > 0): errs / e filled. */
enum { TX_REFUSED = 1 };

static const char STORE_DOWN[] = "The catalogue is unavailable for a moment. Nothing was changed; please try again.";

__attribute__((format(printf, 4, 5))) static void add_error(product_errors *errs, shop_status st, const char *field,
                                                            const char *fmt, ...)
{
    if (errs->n >= PRODUCT_ERRORS_MAX) return;
    int i = errs->n++;
    shop_error *e = &errs->e[i];
    memset(e, 0, sizeof *e);
    e->status = st;
    if (field) {
        text_copy(errs->field[i], sizeof errs->field[i], field);
        e->field = errs->field[i];
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

static shop_status outcome(const product_errors *errs) { return errs->n ? errs->e[0].status : SHOP_OK; }

/* The result of a unit of work whose refusals are in errs. */
static shop_status finish(int rc, product_errors *errs)
{
    if (rc == DB_TX_OK) return SHOP_OK;
    if (rc == TX_REFUSED && errs->n) return outcome(errs);
    errs->n = 0;
    add_error(errs, SHOP_UNAVAILABLE, NULL, "%s", STORE_DOWN);
    return SHOP_UNAVAILABLE;
}

static const char *id_text(arena *a, int64_t id) { return arena_printf(a, "%lld", (long long)id); }

/* s without ASCII white space around it, in a; "" for NULL. */
static const char *trimmed(arena *a, const char *s)
{
    if (!s) return "";
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) n--;
    return arena_strndup(a, s, n);
}

/* A text field: trimmed, plain text, min..max characters. */
static const char *check_text(product_errors *errs, arena *a, const char *field, const char *label, const char *in,
                              size_t min, size_t max, bool multiline)
{
    const char *s = trimmed(a, in);
    if (!text_plain(s, multiline)) {
        add_error(errs, SHOP_INVALID, field, "%s has characters that cannot be used (control characters).", label);
        return s;
    }
    size_t n = text_utf8_chars(s);
    if (min > 0 && n == 0) add_error(errs, SHOP_INVALID, field, "%s is required.", label);
    else if (n < min || n > max) add_error(errs, SHOP_INVALID, field, "%s must be %zu to %zu characters.", label, min, max);
    return s;
}

static bool parse_id(const char *s, int64_t *out)
{
    long long v;
    if (!s || !text_parse_int64(s, 1, 4294967295LL, &v)) return false;
    *out = v;
    return true;
}

static bool one_of(const char *s, const char *const *allowed)
{
    for (int i = 0; s && allowed[i]; i++)
        if (!strcmp(s, allowed[i])) return true;
    return false;
}

static const char *money_text(arena *a, int64_t minor, const char *currency)
{
    char out[MONEY_FORMAT_MAX];
    money_format(money_make(minor, currency && *currency ? currency : cfg.currency), out, sizeof out);
    return arena_strdup(a, out);
}

/* ------------------------------------------------------------------ */
/* Checking the product form                                            */

static const char *const genders[] = {"men", "women", "kids", "unisex", NULL};
static const char *const tax_classes[] = {"standard", "reduced", "zero", NULL};

/* Tags as typed ("Running, road ,trail") → "running,road,trail". */
static const char *check_tags(product_errors *errs, arena *a, const char *in)
{
    const char *s = trimmed(a, in);
    if (!text_plain(s, false)) {
        add_error(errs, SHOP_INVALID, "tags", "The tags have characters that cannot be used (control characters).");
        return "";
    }
    char *out = arena_alloc(a, strlen(s) + 1);
    size_t o = 0;
    int n = 0;
    for (const char *p = s; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *tag = (char *)trimmed(a, arena_strndup(a, p, len));
        for (char *t = tag; *t; t++)
            if (*t >= 'A' && *t <= 'Z') *t = (char)(*t - 'A' + 'a');
        p += len + (end ? 1 : 0);
        if (!*tag) continue;
        if (text_utf8_chars(tag) > PRODUCT_TAG_MAX) {
            add_error(errs, SHOP_INVALID, "tags", "A tag may have at most %d characters (\"%.40s…\").", PRODUCT_TAG_MAX,
                      tag);
            return "";
        }
        /* once each */
        bool seen = false;
        for (const char *q = out; *q && !seen;) {
            size_t ql = strcspn(q, ",");
            seen = ql == strlen(tag) && !strncmp(q, tag, ql);
            q += ql + (q[ql] == ',');
        }
        if (seen) continue;
        if (++n > PRODUCT_TAGS_MAX) {
            add_error(errs, SHOP_INVALID, "tags", "At most %d tags.", PRODUCT_TAGS_MAX);
            return "";
        }
        if (o) out[o++] = ',';
        memcpy(out + o, tag, strlen(tag));
        o += strlen(tag);
        out[o] = '\0';
    }
    return out;
}

/* A price as typed (major units) → minor units; -1 when empty and optional. */
static int64_t check_price(product_errors *errs, arena *a, const char *field, const char *in, bool required)
{
    const char *s = trimmed(a, in);
    int64_t minor;
    if (!*s) {
        if (required) add_error(errs, SHOP_INVALID, field, "Enter the price, e.g. 89.99.");
        return -1;
    }
    if (!money_parse_major(s, &minor)) {
        add_error(errs, SHOP_INVALID, field, "Enter an amount like 89.99: digits, with at most two after the point.");
        return -1;
    }
    if (minor == 0) {
        add_error(errs, SHOP_INVALID, field, "The price must be more than 0.");
        return -1;
    }
    return minor;
}

shop_status product_form_check(const product_form *f, arena *a, pa_product *p, product_errors *errs)
{
    memset(p, 0, sizeof *p);
    errs->n = 0;
    p->currency = cfg.currency;
    p->name = check_text(errs, a, "name", "The name", f->name, 1, PRODUCT_NAME_MAX, false);
    bool name_ok = errs->n == 0;

    const char *slug = trimmed(a, f->slug);
    if (!*slug && name_ok) {
        char made[PRODUCT_SLUG_MAX + 1];
        taxonomy_slug_from(p->name, made, sizeof made);
        size_t n = strlen(made);
        while (n && made[n - 1] == '-') made[--n] = '\0';
        slug = arena_strdup(a, made);
    }
    if (!*slug) {
        if (name_ok) add_error(errs, SHOP_INVALID, "slug", "Enter the product's address, e.g. trail-runner-2.");
    } else if (!taxonomy_slug_valid(slug, PRODUCT_SLUG_MAX)) {
        add_error(errs, SHOP_INVALID, "slug",
                  "Use lower-case letters a–z, digits and single hyphens between them (e.g. trail-runner-2), at most "
                  "%d.",
                  PRODUCT_SLUG_MAX);
    }
    p->slug = slug;

    if (!parse_id(trimmed(a, f->brand_id), &p->brand_id)) add_error(errs, SHOP_INVALID, "brand_id", "Choose a brand.");
    if (!parse_id(trimmed(a, f->category_id), &p->category_id))
        add_error(errs, SHOP_INVALID, "category_id", "Choose a category.");
    p->gender = trimmed(a, f->gender);
    if (!one_of(p->gender, genders)) add_error(errs, SHOP_INVALID, "gender", "Choose who the shoe is for.");
    p->description = check_text(errs, a, "description", "The description", f->description, 0,
                                PRODUCT_DESCRIPTION_MAX, true);
    p->material = check_text(errs, a, "material", "The material", f->material, 0, PRODUCT_MATERIAL_MAX, false);
    p->tags = check_tags(errs, a, f->tags);

    p->price = check_price(errs, a, "price", f->price, true);
    p->compare_at = check_price(errs, a, "compare_at", f->compare_at, false);
    if (p->price > 0 && p->compare_at > 0 && p->compare_at <= p->price)
        add_error(errs, SHOP_INVALID, "compare_at",
                  "The compare-at price is the \"was\" price shown crossed out: it must be higher than the price (%s). "
                  "Leave it empty for none.",
                  money_text(a, p->price, p->currency));

    p->tax_class = trimmed(a, f->tax_class);
    if (!one_of(p->tax_class, tax_classes)) add_error(errs, SHOP_INVALID, "tax_class", "Choose a VAT rate.");
    p->active = f->active;
    p->featured = f->featured;
    return outcome(errs);
}

/* ------------------------------------------------------------------ */
/* Products                                                             */

/* What a reviewer of the audit log needs to see of a product. */
static json_t *product_json(arena *a, const pa_product *p)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:b,s:b,s:I}", "name", p->name, "slug", p->slug,
                     "brand", p->brand_name ? p->brand_name : "", "category", p->category_name ? p->category_name : "",
                     "gender", p->gender, "description", p->description, "material", p->material, "tags", p->tags,
                     "price", money_text(a, p->price, p->currency), "compare_at",
                     p->compare_at >= 0 ? json_string(money_text(a, p->compare_at, p->currency)) : json_null(),
                     "tax_class", p->tax_class, "active", p->active, "featured", p->featured, "version",
                     (json_int_t)p->version);
}

/* Keep only what changed (and the version) in both. */
static void only_changes(json_t *before, json_t *after)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(before, tmp, k, v) {
        if (strcmp(k, "version") && json_equal(v, json_object_get(after, k))) {
            json_object_del(after, k);
            json_object_del(before, k);
        }
    }
}

/* The brand and category exist (their names into p). 0, or -1. */
static int refs_check(db_conn *c, arena *a, pa_product *p, product_errors *errs)
{
    const char *slug;
    int r = pa_ref_get(c, a, PA_BRAND, p->brand_id, &p->brand_name, &slug);
    if (r < 0) return -1;
    if (r == 0) add_error(errs, SHOP_INVALID, "brand_id", "That brand does not exist (any more): choose another.");
    r = pa_ref_get(c, a, PA_CATEGORY, p->category_id, &p->category_name, &slug);
    if (r < 0) return -1;
    if (r == 0) add_error(errs, SHOP_INVALID, "category_id", "That category does not exist (any more): choose another.");
    return 0;
}

/* Is the slug another product's? 0 (errs says so when it is), or -1. */
static int slug_free(db_conn *c, const char *slug, int64_t self, product_errors *errs)
{
    int64_t other;
    int r = pa_product_by_slug(c, slug, &other);
    if (r < 0) return -1;
    if (r == 1 && other != self)
        add_error(errs, SHOP_INVALID, "slug", "Another product already has the address /products/%s: choose another.",
                  slug);
    return 0;
}

shop_status product_admin_list(const pa_list_query *q, arena *a, pa_product **rows, int *n, int64_t *total,
                               shop_error *e)
{
    db_conn *c = db_conn_get();
    if (!c || pa_product_list(c, a, q, rows, n, total) < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}

shop_status product_admin_get(int64_t id, arena *a, pa_product *out, shop_error *e)
{
    db_conn *c = db_conn_get();
    int r = c ? pa_product_get(c, a, id, false, out) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 0) return shop_fail(e, SHOP_NOT_FOUND, NULL, "There is no product %lld.", (long long)id);
    return SHOP_OK;
}

struct save {
    const audit_actor *who;
    arena *a;
    pa_product *p;             /* the checked form */
    int64_t id, version;       /* an edit: the product and the form's version */
    pa_product *current;       /* an edit refused as stale: what is saved now */
    bool changed;
    product_errors *errs;
};

static int create_tx(db_tx *tx, void *arg)
{
    struct save *s = arg;
    db_conn *c = db_tx_conn(tx);
    s->errs->n = 0;
    if (refs_check(c, s->a, s->p, s->errs) < 0 || slug_free(c, s->p->slug, 0, s->errs) < 0) return DB_TX_FAILED;
    if (s->errs->n) return TX_REFUSED;
    if (pa_product_insert(c, s->p, &s->id) < 0) {
        if (db_last_errno() != 1062) return DB_TX_FAILED;
        /* taken meanwhile by another save */
        add_error(s->errs, SHOP_INVALID, "slug", "Another product already has the address /products/%s: choose another.",
                  s->p->slug);
        return TX_REFUSED;
    }
    pa_product saved;
    if (pa_redirect_remove(c, s->p->slug) < 0 || pa_product_get(c, s->a, s->id, false, &saved) != 1) return DB_TX_FAILED;
    json_t *after = product_json(s->a, &saved);
    int rc = audit_record(tx, s->who, "product.create", "product", id_text(s->a, s->id), NULL, after);
    json_decref(after);
    if (rc < 0 || catalog_product_changed(tx, s->id, true) < 0) return DB_TX_FAILED;
    return DB_TX_OK;
}

shop_status product_admin_create(const audit_actor *who, const product_form *f, int64_t *id, product_errors *errs)
{
    arena *a = arena_new();
    pa_product p;
    shop_status st = product_form_check(f, a, &p, errs);
    if (st == SHOP_OK) {
        p.version = 1;
        struct save s = {.who = who, .a = a, .p = &p, .errs = errs};
        st = finish(db_tx_run(create_tx, &s), errs);
        if (st == SHOP_OK) *id = s.id;
    }
    arena_free(a);
    return st;
}

static int update_tx(db_tx *tx, void *arg)
{
    struct save *s = arg;
    db_conn *c = db_tx_conn(tx);
    s->errs->n = 0;
    s->changed = false;
    pa_product cur;
    int r = pa_product_get(c, s->a, s->id, true, &cur);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0) {
        add_error(s->errs, SHOP_NOT_FOUND, NULL, "This product does not exist (any more).");
        return TX_REFUSED;
    }
    if (cur.version != s->version) {
        *s->current = cur;
        add_error(s->errs, SHOP_CONFLICT, NULL,
                  "Someone else saved this product after you opened it (version %lld, now %lld), so your changes were "
                  "NOT saved. The form shows what is saved now; make your changes again and save.",
                  (long long)s->version, (long long)cur.version);
        return TX_REFUSED;
    }
    if (refs_check(c, s->a, s->p, s->errs) < 0 || slug_free(c, s->p->slug, s->id, s->errs) < 0) return DB_TX_FAILED;
    if (s->errs->n) return TX_REFUSED;
    s->p->id = s->id;
    s->p->version = cur.version;
    s->p->currency = cur.currency;
    json_t *before = product_json(s->a, &cur), *wanted = product_json(s->a, s->p);
    bool same = json_equal(before, wanted);
    json_decref(wanted);
    if (same) {
        json_decref(before);
        return DB_TX_OK;   /* nothing to write, nothing to record */
    }
    bool moved = strcmp(cur.slug, s->p->slug) != 0;
    pa_product saved;
    r = pa_product_update(c, s->p);
    if (r == 1 && moved && (pa_redirect_add(c, cur.slug, s->id) < 0 || pa_redirect_remove(c, s->p->slug) < 0)) r = -1;
    if (r == 1 && pa_product_get(c, s->a, s->id, false, &saved) != 1) r = -1;
    if (r != 1) {
        json_decref(before);
        return DB_TX_FAILED;   /* 0 cannot happen under the row lock */
    }
    json_t *after = product_json(s->a, &saved);
    only_changes(before, after);
    int rc = audit_record(tx, s->who, "product.update", "product", id_text(s->a, s->id), before, after);
    json_decref(before);
    json_decref(after);
    /* the page at the old address and the old category's listings too */
    if (rc < 0 || catalog_product_changed_from(tx, s->id, moved ? cur.slug : NULL,
                                               cur.category_id != s->p->category_id ? cur.category_id : 0) < 0)
        return DB_TX_FAILED;
    s->changed = true;
    return DB_TX_OK;
}

shop_status product_admin_update(const audit_actor *who, int64_t id, const product_form *f, arena *a,
                                 pa_product *current, bool *changed, product_errors *errs)
{
    pa_product p;
    *changed = false;
    shop_status st = product_form_check(f, a, &p, errs);
    long long version;
    if (!f->version || !text_parse_int64(f->version, 1, 4294967295LL, &version)) {
        add_error(errs, SHOP_INVALID, NULL, "The form is missing its version: reload the page and make your changes again.");
        st = outcome(errs);
    }
    if (st != SHOP_OK) return st;
    struct save s = {.who = who, .a = a, .p = &p, .id = id, .version = version, .current = current, .errs = errs};
    st = finish(db_tx_run(update_tx, &s), errs);
    *changed = st == SHOP_OK && s.changed;
    return st;
}

struct set_active {
    const audit_actor *who;
    const int64_t *ids;
    int n;
    bool active;
    int changed;
};

static int set_active_tx(db_tx *tx, void *arg)
{
    struct set_active *s = arg;
    db_conn *c = db_tx_conn(tx);
    arena *a = arena_new();
    int rc = DB_TX_OK;
    s->changed = 0;
    for (int i = 0; i < s->n && rc == DB_TX_OK; i++) {
        pa_product cur;
        int r = pa_product_get(c, a, s->ids[i], true, &cur);
        if (r < 0) rc = DB_TX_FAILED;
        if (r != 1 || cur.active == s->active) continue;   /* gone, or already so */
        if (pa_product_set_active(c, cur.id, s->active) < 0) {
            rc = DB_TX_FAILED;
            break;
        }
        json_t *before = json_pack("{s:s,s:b,s:I}", "slug", cur.slug, "active", cur.active, "version", (json_int_t)cur.version);
        json_t *after = json_pack("{s:s,s:b,s:I}", "slug", cur.slug, "active", s->active, "version",
                                  (json_int_t)cur.version + 1);
        if (audit_record(tx, s->who, s->active ? "product.activate" : "product.deactivate", "product",
                         id_text(a, cur.id), before, after) < 0 ||
            catalog_product_changed(tx, cur.id, true) < 0)
            rc = DB_TX_FAILED;
        json_decref(before);
        json_decref(after);
        s->changed++;
    }
    arena_free(a);
    return rc;
}

static int cmp_id(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

shop_status product_admin_set_active(const audit_actor *who, const int64_t *ids, int n, bool active, int *changed,
                                     shop_error *e)
{
    *changed = 0;
    if (n <= 0) return shop_fail(e, SHOP_INVALID, "ids", "Tick the products to change first.");
    if (n > PRODUCT_BULK_MAX) return shop_fail(e, SHOP_INVALID, "ids", "At most %d products at once.", PRODUCT_BULK_MAX);
    /* in id order, once each: two bulk saves never wait for each other in a circle */
    int64_t sorted[PRODUCT_BULK_MAX];
    memcpy(sorted, ids, (size_t)n * sizeof *ids);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_id);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || sorted[i] != sorted[i - 1]) sorted[m++] = sorted[i];
    struct set_active s = {who, sorted, m, active, 0};
    if (db_tx_run(set_active_tx, &s) != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    *changed = s.changed;
    return SHOP_OK;
}

struct set_price {
    const audit_actor *who;
    const char *slug;
    int64_t price, compare_at;
    shop_error *e;
};

static int set_price_tx(db_tx *tx, void *arg)
{
    struct set_price *s = arg;
    db_conn *c = db_tx_conn(tx);
    arena *a = arena_new();
    int64_t id;
    pa_product cur, saved;
    int rc = DB_TX_FAILED;
    int r = pa_product_by_slug(c, s->slug, &id);
    if (r == 1) r = pa_product_get(c, a, id, true, &cur);
    if (r == 0) {
        shop_fail(s->e, SHOP_NOT_FOUND, NULL, "There is no product %s.", s->slug);
        rc = TX_REFUSED;
    } else if (r == 1 && pa_product_set_price(c, id, s->price, s->compare_at) == 0 &&
               pa_product_get(c, a, id, false, &saved) == 1) {
        json_t *before = product_json(a, &cur), *after = product_json(a, &saved);
        only_changes(before, after);
        if (audit_record(tx, s->who, "product.price", "product", id_text(a, id), before, after) == 0 &&
            catalog_product_changed(tx, id, true) == 0)
            rc = DB_TX_OK;
        json_decref(before);
        json_decref(after);
    }
    arena_free(a);
    return rc;
}

shop_status product_admin_set_price(const audit_actor *who, const char *slug, int64_t price, int64_t compare_at,
                                    shop_error *e)
{
    if (!taxonomy_slug_valid(slug, PRODUCT_SLUG_MAX)) return shop_fail(e, SHOP_INVALID, "slug", "'%.120s' is not a product slug.", slug);
    if (price <= 0 || price > CATALOG_PRICE_LIMIT) return shop_fail(e, SHOP_INVALID, "price", "The price must be more than 0.");
    if (compare_at != -1 && (compare_at <= price || compare_at > CATALOG_PRICE_LIMIT))
        return shop_fail(e, SHOP_INVALID, "compare_at", "The compare-at price must be higher than the price.");
    struct set_price s = {who, slug, price, compare_at, e};
    int rc = db_tx_run(set_price_tx, &s);
    if (rc == DB_TX_OK) return SHOP_OK;
    if (rc == TX_REFUSED) return e->status;
    return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
}

shop_status product_admin_choices(arena *a, pa_choices *out, shop_error *e)
{
    memset(out, 0, sizeof *out);
    repo_brand *b;
    repo_colour *cols;
    int nb, ncol;
    if (repo_brands(a, &b, &nb) < 0 || repo_colours(a, &cols, &ncol) < 0)
        return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    out->brands = arena_alloc(a, (size_t)(nb + 1) * sizeof *out->brands);
    for (int i = 0; i < nb; i++) out->brands[i] = (pa_choice){.id = b[i].id, .name = b[i].name, .slug = b[i].slug};
    out->nbrands = nb;
    out->colours = arena_alloc(a, (size_t)(ncol + 1) * sizeof *out->colours);
    for (int i = 0; i < ncol; i++)
        out->colours[i] = (pa_choice){.id = cols[i].id, .name = cols[i].name, .slug = cols[i].slug, .hex = cols[i].hex};
    out->ncolours = ncol;
    return SHOP_OK;
}

/* ------------------------------------------------------------------ */
/* The size grid                                                        */

shop_status product_admin_variants(int64_t product_id, arena *a, pa_variant **out, int *n, shop_error *e)
{
    db_conn *c = db_conn_get();
    if (!c || pa_variants_of(c, a, product_id, out, n) < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}

static const char *const size_systems[] = {"UK", "EU", "US", NULL};
static const char *const widths[] = {"Standard", "Narrow", "Wide", NULL};

/* "9", "9.5", "09.0" → tenths (95); only whole and half sizes. */
static bool parse_size(const char *s, int *tenths)
{
    int whole = 0, digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 3) whole = whole * 10 + (*s++ - '0'), digits++;
    if (!digits) return false;
    int half = 0;
    if (*s == '.') {
        s++;
        if (*s == '5') half = 5;
        else if (*s != '0') return false;
        s++;
    }
    if (*s) return false;
    *tenths = whole * 10 + half;
    return true;
}

void size_label(const char *system, int tenths, char *out, size_t outlen)
{
    if (tenths % 10) snprintf(out, outlen, "%s %d.%d", system, tenths / 10, tenths % 10);
    else snprintf(out, outlen, "%s %d", system, tenths / 10);
}

shop_status size_run_plan(const size_run_form *f, size_run *out, product_errors *errs)
{
    arena *a = arena_new();
    memset(out, 0, sizeof *out);
    errs->n = 0;
    if (!parse_id(trimmed(a, f->colour_id), &out->colour_id)) add_error(errs, SHOP_INVALID, "colour_id", "Choose a colour.");
    const char *system = trimmed(a, f->system);
    for (int i = 0; size_systems[i]; i++)
        if (!strcasecmp(system, size_systems[i])) out->system = size_systems[i];
    if (!out->system) add_error(errs, SHOP_INVALID, "system", "Choose UK, EU or US sizes.");
    /* the sizes each system has (half sizes included) */
    int lo = out->system && !strcmp(out->system, "EU") ? 100 : 5, hi = out->system && !strcmp(out->system, "EU") ? 600 : 200;
    int from = 0, to = 0, step = 0;
    bool from_ok = parse_size(trimmed(a, f->from), &from) && from >= lo && from <= hi;
    bool to_ok = parse_size(trimmed(a, f->to), &to) && to >= lo && to <= hi;
    char lo_text[16], hi_text[16];
    snprintf(lo_text, sizeof lo_text, lo % 10 ? "%d.5" : "%d", lo / 10);
    snprintf(hi_text, sizeof hi_text, "%d", hi / 10);
    if (!from_ok)
        add_error(errs, SHOP_INVALID, "from", "Enter the first size: a whole or half size from %s to %s, e.g. 6 or 6.5.",
                  lo_text, hi_text);
    if (!to_ok)
        add_error(errs, SHOP_INVALID, "to", "Enter the last size: a whole or half size from %s to %s, e.g. 11.", lo_text,
                  hi_text);
    const char *st = trimmed(a, f->step);
    if (!strcmp(st, "1")) step = 10;
    else if (!strcmp(st, "0.5") || !strcmp(st, ".5")) step = 5;
    else add_error(errs, SHOP_INVALID, "step", "Choose whole sizes (1) or half sizes too (0.5).");
    if (from_ok && to_ok && to < from) add_error(errs, SHOP_INVALID, "to", "The last size must not be smaller than the first.");

    const char *chosen[3];
    int nw = 0;
    for (int i = 0; i < f->nwidths && i < 3; i++) {
        const char *w = trimmed(a, f->widths[i]), *known = NULL;
        for (int k = 0; widths[k]; k++)
            if (!strcasecmp(w, widths[k])) known = widths[k];
        bool dup = false;
        for (int k = 0; k < nw; k++) dup = dup || chosen[k] == known;
        if (!known) {
            add_error(errs, SHOP_INVALID, "widths", "Widths are Standard, Narrow and Wide.");
            nw = -1;
            break;
        }
        if (!dup) chosen[nw++] = known;
    }
    if (nw == 0) add_error(errs, SHOP_INVALID, "widths", "Tick at least one width.");

    long long stock = 0;
    const char *s = trimmed(a, f->stock);
    if (*s && !text_parse_int64(s, 0, CATALOG_STOCK_MAX, &stock))
        add_error(errs, SHOP_INVALID, "stock", "Enter the pairs each size starts with: a whole number from 0 to %d.",
                  CATALOG_STOCK_MAX);
    out->stock = stock;

    const char *prefix = trimmed(a, f->sku_prefix);
    if (*prefix) {
        size_t n = strlen(prefix);
        bool ok = n <= 24 && prefix[0] != '-' && prefix[n - 1] != '-';
        char *up = arena_strdup(a, prefix);
        for (char *p = up; *p && ok; p++) {
            if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
            ok = (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-';
        }
        if (!ok)
            add_error(errs, SHOP_INVALID, "sku_prefix",
                      "A SKU prefix has letters A–Z, digits and hyphens (not at either end), at most 24.");
        else
            text_copy(out->sku_prefix, sizeof out->sku_prefix, up);
    }

    if (errs->n == 0) {
        int sizes = (to - from) / step + 1;
        if (sizes * nw > SIZE_RUN_MAX_CELLS) {
            add_error(errs, SHOP_INVALID, "to", "That is %d sizes in %d width%s: at most %d cells at once.", sizes, nw,
                      nw == 1 ? "" : "s", SIZE_RUN_MAX_CELLS);
        } else {
            for (int t = from; t <= to; t += step)
                for (int w = 0; w < nw; w++) out->cells[out->ncells++] = (struct size_run_cell){t, chosen[w]};
        }
    }
    arena_free(a);
    return outcome(errs);
}

struct run_add {
    const audit_actor *who;
    int64_t product_id;
    size_run *run;
    int added, existing;
    product_errors *errs;
};

static int run_add_tx(db_tx *tx, void *arg)
{
    struct run_add *s = arg;
    db_conn *c = db_tx_conn(tx);
    arena *a = arena_new();
    s->errs->n = 0;
    s->added = s->existing = 0;
    int rc = DB_TX_FAILED;
    pa_product p;
    pa_variant *have = NULL;
    int nhave = 0;
    const char *colour, *colour_slug;
    json_t *skus = json_array();
    int r = pa_product_get(c, a, s->product_id, true, &p);
    if (r == 0) add_error(s->errs, SHOP_NOT_FOUND, NULL, "This product does not exist (any more).");
    if (r == 1 && (r = pa_ref_get(c, a, PA_COLOUR, s->run->colour_id, &colour, &colour_slug)) == 0)
        add_error(s->errs, SHOP_INVALID, "colour_id", "That colour does not exist (any more): choose another.");
    if (r == 1 && pa_variants_of(c, a, s->product_id, &have, &nhave) < 0) r = -1;
    if (r < 0) goto out;
    if (s->errs->n) {
        rc = TX_REFUSED;
        goto out;
    }
    /* SKU: <prefix>-<COLOUR>-<SYSTEM><size×10>-<width initial> */
    const char *prefix = s->run->sku_prefix[0] ? s->run->sku_prefix : arena_printf(a, "SE%05lld", (long long)p.id);
    char code[11];
    size_t k = 0;
    for (const char *q = colour_slug; *q && k < sizeof code - 1; q++)
        if (*q != '-') code[k++] = *q >= 'a' && *q <= 'z' ? (char)(*q - 'a' + 'A') : *q;
    code[k] = '\0';
    catalog_stock_change changes[SIZE_RUN_MAX_CELLS];
    int nchanges = 0;
    char actor[255];
    if (s->run->stock > 0 && audit_actor_label(tx, s->who, actor, sizeof actor) < 0) goto out;
    for (int i = 0; i < s->run->ncells; i++) {
        const struct size_run_cell *cell = &s->run->cells[i];
        bool exists = false;
        for (int j = 0; j < nhave && !exists; j++)
            exists = have[j].colour_id == s->run->colour_id && !strcmp(have[j].size_system, s->run->system) &&
                     have[j].size_tenths == cell->tenths && !strcmp(have[j].width, cell->width);
        if (exists) {
            s->existing++;
            continue;
        }
        char sku[64], label[16];
        snprintf(sku, sizeof sku, "%s-%s-%s%03d-%c", prefix, code, s->run->system, cell->tenths, cell->width[0]);
        size_label(s->run->system, cell->tenths, label, sizeof label);
        int64_t id = repo_insert_variant(c, p.id, s->run->colour_id, sku, s->run->system, cell->tenths / 10.0, label,
                                         cell->width, s->run->stock);
        if (id < 0) {
            if (db_last_errno() == 1062) {
                add_error(s->errs, SHOP_INVALID, "sku_prefix",
                          "The SKU %s is taken by another shoe: choose another SKU prefix. Nothing was added.", sku);
                rc = TX_REFUSED;
            }
            goto out;
        }
        if (s->run->stock > 0) {
            pa_adjustment adj = {.variant_id = id, .reason = "received", .delta = s->run->stock, .stock_before = 0,
                                 .stock_after = s->run->stock, .note = "first stock of a new size run",
                                 .actor_id = s->who->user_id, .actor = actor};
            if (pa_adjustment_add(c, &adj) < 0) goto out;
            changes[nchanges++] = (catalog_stock_change){id, s->run->stock};
        }
        json_array_append_new(skus, json_string(sku));
        s->added++;
    }
    if (s->added == 0) {
        rc = DB_TX_OK;   /* every cell was there already: nothing written */
        goto out;
    }
    char first[16], last[16];
    size_label(s->run->system, s->run->cells[0].tenths, first, sizeof first);
    size_label(s->run->system, s->run->cells[s->run->ncells - 1].tenths, last, sizeof last);
    json_t *after = json_pack("{s:s,s:s,s:s,s:I,s:O,s:i}", "colour", colour, "from", first, "to", last, "stock_each",
                              (json_int_t)s->run->stock, "skus", skus, "existing", s->existing);
    r = audit_record(tx, s->who, "variant.run", "product", id_text(a, p.id), NULL, after);
    json_decref(after);
    /* new colours and sizes show on the page and, through the swatches
     * and in-stock sizes, on the listings */
    if (r == 0 && catalog_product_changed(tx, p.id, true) == 0 &&
        (nchanges == 0 || catalog_stock_changed(tx, changes, nchanges) == 0))
        rc = DB_TX_OK;
out:
    json_decref(skus);
    arena_free(a);
    return rc;
}

shop_status size_run_add(const audit_actor *who, int64_t product_id, const size_run_form *f, int *added,
                         int *existing, product_errors *errs)
{
    *added = *existing = 0;
    size_run *run = malloc(sizeof *run);
    if (!run) abort();
    shop_status st = size_run_plan(f, run, errs);
    if (st == SHOP_OK) {
        struct run_add s = {who, product_id, run, 0, 0, errs};
        st = finish(db_tx_run(run_add_tx, &s), errs);
        if (st == SHOP_OK) {
            *added = s.added;
            *existing = s.existing;
        }
    }
    free(run);
    return st;
}

/* ------------------------------------------------------------------ */
/* Stock                                                                */

static const struct {
    const char *name, *label;
} reasons[STOCK_REASONS] = {
    [STOCK_RECEIVED] = {"received", "Received (a delivery)"},
    [STOCK_DAMAGED] = {"damaged", "Damaged or lost"},
    [STOCK_RECOUNT] = {"recount", "Recount (counted on the shelf)"},
    [STOCK_RETURNED] = {"returned", "Returned (back on sale)"},
    [STOCK_CORRECTION] = {"correction", "Correction (a mistake put right)"},
};

bool stock_reason_parse(const char *s, enum stock_reason *r)
{
    for (int i = 0; s && i < STOCK_REASONS; i++)
        if (!strcmp(s, reasons[i].name)) {
            *r = (enum stock_reason)i;
            return true;
        }
    return false;
}

const char *stock_reason_name(enum stock_reason r) { return r >= 0 && r < STOCK_REASONS ? reasons[r].name : "correction"; }
const char *stock_reason_label(enum stock_reason r) { return r >= 0 && r < STOCK_REASONS ? reasons[r].label : ""; }

bool stock_parse_change(const char *s, int64_t *delta)
{
    if (!s) return false;
    while (*s == ' ') s++;
    bool neg = *s == '-';
    if (*s == '+' || *s == '-') s++;
    while (*s == ' ') s++;
    long long v = 0;
    int digits = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++digits > 7) return false;
        v = v * 10 + (*s - '0');
    }
    while (*s == ' ') s++;
    if (!digits || *s) return false;
    *delta = neg ? -v : v;
    return true;
}

shop_status stock_change_check(const stock_change *c, int64_t current, int64_t *after, shop_error *e)
{
    const char *field = c->absolute ? "set_to" : "change";
    if (c->note && (!text_plain(c->note, false) || text_utf8_chars(c->note) > STOCK_NOTE_MAX))
        return shop_fail(e, SHOP_INVALID, "note", "A note is at most %d characters of plain text.", STOCK_NOTE_MAX);
    if (c->reason < 0 || c->reason >= STOCK_REASONS) return shop_fail(e, SHOP_INVALID, "reason", "Choose a reason.");
    int64_t now;
    if (c->absolute) {
        if (c->amount < 0 || c->amount > CATALOG_STOCK_MAX)
            return shop_fail(e, SHOP_INVALID, field, "Enter the pairs counted: a whole number from 0 to %d.",
                             CATALOG_STOCK_MAX);
        now = c->amount;
    } else {
        if (c->amount == 0) return shop_fail(e, SHOP_INVALID, field, "Enter a change other than 0, like +12 or -2.");
        now = current + c->amount;
        if (now < 0)
            return shop_fail(e, SHOP_INVALID, field, "Only %lld in stock: taking %lld away would go below zero.",
                             (long long)current, (long long)-c->amount);
        if (now > CATALOG_STOCK_MAX)
            return shop_fail(e, SHOP_INVALID, field, "At most %d pairs of a size.", CATALOG_STOCK_MAX);
    }
    int64_t delta = now - current;
    switch (c->reason) {
    case STOCK_RECEIVED:
    case STOCK_RETURNED:
        if (delta <= 0)
            return shop_fail(e, SHOP_INVALID, field, "%s pairs add to the stock (%lld now): %s.",
                             c->reason == STOCK_RECEIVED ? "Received" : "Returned", (long long)current,
                             c->absolute ? "the count must be higher" : "enter a positive change, like +12");
        break;
    case STOCK_DAMAGED:
        if (delta >= 0)
            return shop_fail(e, SHOP_INVALID, field, "Damaged pairs are taken from the stock (%lld now): %s.",
                             (long long)current, c->absolute ? "the count must be lower" : "enter a negative change, like -2");
        break;
    case STOCK_CORRECTION:
        if (delta == 0) return shop_fail(e, SHOP_INVALID, field, "Nothing to correct: the stock is %lld already.", (long long)current);
        break;
    default:   /* a recount may confirm the count: that is worth recording too */
        break;
    }
    *after = now;
    return SHOP_OK;
}

/* One variant's change inside a unit of work: stock, history row, audit
 * row. The caller tells the catalogue (all changes at once). */
static int apply_change(db_tx *tx, const audit_actor *who, arena *a, const pa_variant *v, enum stock_reason reason,
                        int64_t after, const char *note, const char *actor)
{
    db_conn *c = db_tx_conn(tx);
    pa_adjustment adj = {.variant_id = v->id, .reason = stock_reason_name(reason), .delta = after - v->stock,
                         .stock_before = v->stock, .stock_after = after, .note = note ? note : "",
                         .actor_id = who->user_id, .actor = actor};
    if (pa_variant_set_stock(c, v->id, after) < 0 || pa_adjustment_add(c, &adj) < 0) return -1;
    json_t *before = json_pack("{s:s,s:s,s:I}", "sku", v->sku, "size", v->size_label, "stock", (json_int_t)v->stock);
    json_t *now = json_pack("{s:s,s:s,s:I,s:s,s:I,s:s}", "sku", v->sku, "size", v->size_label, "stock", (json_int_t)after,
                            "reason", adj.reason, "change", (json_int_t)adj.delta, "note", adj.note);
    int rc = audit_record(tx, who, "stock.adjust", "variant", id_text(a, v->id), before, now);
    json_decref(before);
    json_decref(now);
    return rc;
}

struct adjust {
    const audit_actor *who;
    const stock_change *c;
    int64_t after;
    shop_error *e;
};

static int adjust_tx(db_tx *tx, void *arg)
{
    struct adjust *s = arg;
    db_conn *c = db_tx_conn(tx);
    arena *a = arena_new();
    pa_variant v;
    char actor[255];
    int rc = DB_TX_FAILED;
    int r = pa_variant_get(c, a, s->c->variant_id, s->c->sku, true, &v);
    if (r == 0) {
        if (s->c->variant_id > 0) shop_fail(s->e, SHOP_NOT_FOUND, NULL, "This size does not exist (any more).");
        else shop_fail(s->e, SHOP_NOT_FOUND, "sku", "There is no size with the SKU %.64s.", s->c->sku ? s->c->sku : "");
        rc = TX_REFUSED;
    } else if (r == 1 && s->c->absolute && s->c->seen >= 0 && s->c->seen != v.stock) {
        shop_fail(s->e, SHOP_CONFLICT, "set_to",
                  "The stock changed from %lld to %lld since this page was shown (a sale, or someone else's "
                  "adjustment), so nothing was saved. Check your count against %lld and save again.",
                  (long long)s->c->seen, (long long)v.stock, (long long)v.stock);
        rc = TX_REFUSED;
    } else if (r == 1 && stock_change_check(s->c, v.stock, &s->after, s->e) != SHOP_OK) {
        rc = TX_REFUSED;
    } else if (r == 1 && audit_actor_label(tx, s->who, actor, sizeof actor) == 0 &&
               apply_change(tx, s->who, a, &v, s->c->reason, s->after, s->c->note, actor) == 0) {
        catalog_stock_change change = {v.id, s->after - v.stock};
        if (change.delta == 0 || catalog_stock_changed(tx, &change, 1) == 0) rc = DB_TX_OK;
    }
    arena_free(a);
    return rc;
}

shop_status stock_adjust(const audit_actor *who, const stock_change *c, int64_t *after, shop_error *e)
{
    if (c->variant_id <= 0 && (!c->sku || !*c->sku || strlen(c->sku) > 64 || !text_plain(c->sku, false)))
        return shop_fail(e, SHOP_INVALID, "sku", "A SKU is 1 to 64 characters.");
    struct adjust s = {who, c, 0, e};
    int rc = db_tx_run(adjust_tx, &s);
    if (rc == DB_TX_OK) {
        if (after) *after = s.after;
        return SHOP_OK;
    }
    if (rc == TX_REFUSED) return e->status;
    return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
}

struct grid {
    const audit_actor *who;
    int64_t product_id;
    int64_t *ids, *counts, *seen;   /* the changed cells, by id */
    int n;
    enum stock_reason reason;
    const char *note;
    product_errors *errs;
};

static const char *cell_field(arena *a, int64_t id) { return arena_printf(a, "stock_%lld", (long long)id); }

static int grid_tx(db_tx *tx, void *arg)
{
    struct grid *g = arg;
    db_conn *c = db_tx_conn(tx);
    arena *a = arena_new();
    int64_t *products = arena_alloc(a, (size_t)g->n * sizeof *products), *stock = arena_alloc(a, (size_t)g->n * sizeof *stock);
    int64_t *after = arena_alloc(a, (size_t)g->n * sizeof *after);
    catalog_stock_change *changes = arena_alloc(a, (size_t)g->n * sizeof *changes);
    int rc = DB_TX_FAILED, conflicts = 0;
    char actor[255];
    g->errs->n = 0;
    if (pa_variants_lock(c, g->ids, g->n, products, stock) < 0) goto out;
    for (int i = 0; i < g->n; i++) {
        const char *field = cell_field(a, g->ids[i]);
        if (stock[i] < 0 || products[i] != g->product_id) {
            add_error(g->errs, SHOP_NOT_FOUND, field, "This size is not this product's (any more): reload the page.");
        } else if (g->seen[i] >= 0 && stock[i] != g->seen[i]) {
            conflicts++;
            add_error(g->errs, SHOP_CONFLICT, field, "Now %lld: it was %lld when the page was shown, you entered %lld.",
                      (long long)stock[i], (long long)g->seen[i], (long long)g->counts[i]);
        } else {
            stock_change ch = {.variant_id = g->ids[i], .reason = g->reason, .absolute = true, .amount = g->counts[i],
                               .seen = -1, .note = g->note};
            shop_error e;
            if (stock_change_check(&ch, stock[i], &after[i], &e) != SHOP_OK)
                add_error(g->errs, e.status, e.field && !strcmp(e.field, "note") ? "note" : field, "%s", e.message);
        }
    }
    if (conflicts) {
        /* the form's message first: its status is the outcome's */
        product_errors all = *g->errs;
        g->errs->n = 0;
        add_error(g->errs, SHOP_CONFLICT, NULL,
                  "The stock of %d size%s changed since this page was shown (a sale, or someone else's adjustment), so "
                  "nothing was saved. The grid shows the counts now; check and save again.",
                  conflicts, conflicts == 1 ? "" : "s");
        for (int i = 0; i < all.n; i++) add_error(g->errs, all.e[i].status, all.e[i].field, "%s", all.e[i].message);
    }
    if (g->errs->n) {
        rc = TX_REFUSED;
        goto out;
    }
    if (audit_actor_label(tx, g->who, actor, sizeof actor) < 0) goto out;
    for (int i = 0; i < g->n; i++) {
        pa_variant v;
        if (pa_variant_get(c, a, g->ids[i], NULL, false, &v) != 1) goto out;
        if (apply_change(tx, g->who, a, &v, g->reason, after[i], g->note, actor) < 0) goto out;
        changes[i] = (catalog_stock_change){g->ids[i], after[i] - stock[i]};
    }
    if (catalog_stock_changed(tx, changes, g->n) == 0) rc = DB_TX_OK;
out:
    arena_free(a);
    return rc;
}

shop_status stock_grid_save(const audit_actor *who, int64_t product_id, const stock_cell *cells, int n,
                            enum stock_reason reason, const char *note, int *changed, product_errors *errs)
{
    *changed = 0;
    errs->n = 0;
    arena *a = arena_new();
    int64_t *ids = arena_alloc(a, (size_t)(n + 1) * sizeof *ids), *counts = arena_alloc(a, (size_t)(n + 1) * sizeof *counts);
    int64_t *seen = arena_alloc(a, (size_t)(n + 1) * sizeof *seen);
    int m = 0;
    const char *nt = trimmed(a, note);
    for (int i = 0; i < n; i++) {
        long long count, was;
        const char *typed = trimmed(a, cells[i].count);
        if (!text_parse_int64(trimmed(a, cells[i].seen), 0, CATALOG_STOCK_MAX, &was)) was = -1;
        if (!text_parse_int64(typed, 0, CATALOG_STOCK_MAX, &count)) {
            add_error(errs, SHOP_INVALID, cell_field(a, cells[i].variant_id),
                      "Enter the pairs in stock: a whole number from 0 to %d.", CATALOG_STOCK_MAX);
            continue;
        }
        if (count == was) continue;   /* not touched */
        ids[m] = cells[i].variant_id;   /* (was -1: the form showed no count to check against) */
        counts[m] = count;
        seen[m++] = was;
    }
    shop_status st = outcome(errs);
    if (st == SHOP_OK && m > 0) {
        /* lock in id order, as the orders do */
        for (int i = 1; i < m; i++)
            for (int j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
                int64_t t = ids[j]; ids[j] = ids[j - 1]; ids[j - 1] = t;
                t = counts[j]; counts[j] = counts[j - 1]; counts[j - 1] = t;
                t = seen[j]; seen[j] = seen[j - 1]; seen[j - 1] = t;
            }
        struct grid g = {who, product_id, ids, counts, seen, m, reason, *nt ? nt : NULL, errs};
        st = finish(db_tx_run(grid_tx, &g), errs);
        if (st == SHOP_OK) *changed = m;
    }
    arena_free(a);
    return st;
}

shop_status stock_history(int64_t variant_id, int offset, int max, arena *a, pa_variant *v, pa_adjustment **rows,
                          int *n, int64_t *total, shop_error *e)
{
    db_conn *c = db_conn_get();
    int r = c ? pa_variant_get(c, a, variant_id, NULL, false, v) : -1;
    if (r == 0) return shop_fail(e, SHOP_NOT_FOUND, NULL, "There is no size %lld.", (long long)variant_id);
    if (r < 0 || pa_adjustments_of(c, a, variant_id, offset, max, rows, n, total) < 0)
        return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}
