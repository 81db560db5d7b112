/* catalog_admin.c — the store owner's catalogue writes (see catalog.h),
 * and what any catalogue change means for cached pages.
 *
 * Validation happens here; each write is one unit of work (db_tx_run) of
 * statements in db/catalog_repo.c; inside it the change registers the
 * page-cache bumps of exactly the tags it touched (catalog_stock_changed,
 * catalog_product_changed), run after the commit. (Kept apart from
 * catalog.c so that code which only parses filters does not link the
 * cache.) */
#include "shop/catalog.h"

#include "cache/page_cache.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/text.h"
#include "db/catalog_repo.h"
#include "db/review_repo.h"
#include "db/tx.h"
#include "shop/audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread char last_error[256];

const char *catalog_last_error(void) { return last_error; }

__attribute__((format(printf, 2, 3))) static int fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

static const char *const status_names[] = {"pending", "approved", "rejected"};

bool catalog_review_status_parse(const char *s, enum catalog_review_status *status)
{
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, status_names[i])) { *status = (enum catalog_review_status)i; return true; }
    return false;
}

const char *catalog_review_status_name(enum catalog_review_status status)
{
    return status >= REVIEW_PENDING && status <= REVIEW_REJECTED ? status_names[status] : "pending";
}

/* ------------------------------------------------------------------ */
/* Cached pages after a change                                          */

#define PATH_MAX_DEPTH 16

/* The tags to bump once the transaction commits: a set of strings. */
typedef struct bumps {
    int n, cap;
    char **tags;
} bumps;

static void bumps_free(void *arg)
{
    bumps *b = arg;
    for (int i = 0; i < b->n; i++) free(b->tags[i]);
    free(b->tags);
    free(b);
}

static int bumps_add(bumps *b, const char *tag)
{
    for (int i = 0; i < b->n; i++)
        if (!strcmp(b->tags[i], tag)) return 0;
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 8;
        char **t = realloc(b->tags, (size_t)cap * sizeof *t);
        if (!t) return -1;
        b->tags = t;
        b->cap = cap;
    }
    if (!(b->tags[b->n] = strdup(tag))) return -1;
    b->n++;
    return 0;
}

static void bumps_run(void *arg)
{
    bumps *b = arg;
    if (page_cache_bump((const char *const *)b->tags, b->n) < 0)
        log_warn("catalog: change committed but the page cache could not be invalidated (Redis unreachable)");
}

/* A product's page; with listings, also the listings of its category and
 * every ancestor, and those of all products. */
static int add_product(db_conn *c, arena *a, bumps *b, const char *slug, int64_t category_id, bool listings)
{
    char tag[PAGE_TAG_MAX];
    if (page_tag_product(tag, sizeof tag, slug) && bumps_add(b, tag) < 0) return -1;
    if (!listings) return 0;
    const char *path[PATH_MAX_DEPTH];
    int n = repo_category_path(c, a, category_id, path, PATH_MAX_DEPTH);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++)
        if (page_tag_listing(tag, sizeof tag, path[i]) && bumps_add(b, tag) < 0) return -1;
    return bumps_add(b, PAGE_TAG_ALL_LISTINGS);
}

/* Register b to run after the commit (it is freed either way). */
static int after_commit(db_tx *tx, bumps *b)
{
    if (b->n == 0) {
        bumps_free(b);
        return 0;
    }
    return db_tx_after_commit(tx, bumps_run, b, bumps_free);
}

/* Does this change move a variant across zero: "in stock" ↔ "sold out"? */
static bool crosses_zero(int64_t after, int64_t delta)
{
    int64_t before = after - delta;
    return (before > 0) != (after > 0);
}

int catalog_stock_changed(db_tx *tx, const catalog_stock_change *changes, int n)
{
    if (n <= 0) return 0;
    db_conn *c = db_tx_conn(tx);
    arena *a = arena_new();
    bumps *b = calloc(1, sizeof *b);
    int64_t *ids = arena_alloc(a, (size_t)n * sizeof *ids), *deltas = arena_alloc(a, (size_t)n * sizeof *deltas);
    repo_stock_fact *facts = arena_alloc(a, (size_t)n * sizeof *facts);
    int nids = 0, rc = -1;
    if (!b) goto out;
    /* one entry per variant, its deltas added up */
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < nids && ids[k] != changes[i].variant_id) k++;
        if (k == nids) {
            ids[nids] = changes[i].variant_id;
            deltas[nids++] = 0;
        }
        deltas[k] += changes[i].delta;
    }
    int nf = repo_stock_facts(c, a, ids, nids, facts);
    if (nf < 0) goto out;
    /* per product: its page always; its listings when a variant crossed
     * zero and the listings' view of it (stock_sizes, kept by trigger in
     * this same transaction) changed. A sell-out changed nothing there if
     * the size is still listed (another variant has it); a restock from
     * zero may add a size we cannot see was listed before: refresh. */
    for (int i = 0; i < nf; i++) {
        bool listings = false, seen = false;
        for (int j = 0; j < i && !seen; j++) seen = facts[j].product_id == facts[i].product_id;
        if (seen) continue;
        for (int j = i; j < nf; j++) {
            if (facts[j].product_id != facts[i].product_id) continue;
            int k = 0;
            while (k < nids && ids[k] != facts[j].variant_id) k++;
            if (k < nids && crosses_zero(facts[j].stock, deltas[k]) && (facts[j].stock > 0 || !facts[j].size_listed))
                listings = true;
        }
        if (add_product(c, a, b, facts[i].product_slug, facts[i].category_id, listings) < 0) goto out;
    }
    rc = after_commit(tx, b);
    b = NULL;
out:
    if (b) bumps_free(b);
    arena_free(a);
    return rc;
}

/* The product as it is now and, after an edit that moved it, where it was:
 * one set of tags, bumped at once. */
static int product_changed(db_tx *tx, int64_t product_id, bool listings, const char *old_slug, int64_t old_category_id)
{
    db_conn *c = db_tx_conn(tx);
    arena *a = arena_new();
    bumps *b = calloc(1, sizeof *b);
    const char *slug;
    int64_t category_id;
    int rc = -1;
    if (b) {
        int r = repo_product_ref(c, a, product_id, &slug, &category_id);
        if (r == 0) rc = 0; /* no such product: no page shows it */
        else if (r == 1 && add_product(c, a, b, slug, category_id, listings) == 0) rc = 0;
        if (rc == 0 && r == 1 && (old_slug || old_category_id > 0) &&
            add_product(c, a, b, old_slug ? old_slug : slug, old_category_id > 0 ? old_category_id : category_id,
                        true) < 0)
            rc = -1;
    }
    if (rc == 0) {
        rc = after_commit(tx, b);
        b = NULL;
    }
    if (b) bumps_free(b);
    arena_free(a);
    return rc;
}

int catalog_product_changed(db_tx *tx, int64_t product_id, bool listings)
{
    return product_changed(tx, product_id, listings, NULL, 0);
}

int catalog_product_changed_from(db_tx *tx, int64_t product_id, const char *old_slug, int64_t old_category_id)
{
    return product_changed(tx, product_id, true, old_slug, old_category_id);
}

/* ------------------------------------------------------------------ */
/* Store-owner writes                                                   */

static int store_error(int rc, const char *what, const char *key)
{
    if (rc == CATALOG_ERR_NOT_FOUND) return fail(rc, "no %s %s", what, key);
    return fail(rc, "the catalogue store failed; nothing was changed");
}

static bool key_ok(const char *s, size_t max)
{
    return s && *s && strlen(s) <= max && text_valid_utf8(s, strlen(s));
}

/* The outcome of a unit of work: CATALOG_OK, or why not. */
static int finish(int rc, const char *what, const char *key)
{
    if (rc == DB_TX_OK) {
        last_error[0] = '\0';
        return CATALOG_OK;
    }
    return store_error(rc == CATALOG_ERR_NOT_FOUND ? rc : CATALOG_ERR_STORE, what, key);
}

/* Text a shopper wrote: valid UTF-8, min..max characters, no control
 * characters (newlines and tabs allowed where multiline). */
static bool text_ok(const char *what, const char *s, size_t min, size_t max, bool multiline)
{
    if (!s || !text_valid_utf8(s, strlen(s))) {
        fail(CATALOG_ERR_INVALID, "%s must be valid UTF-8 text", what);
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\r' || *p == '\t'))) || *p == 0x7f) {
            fail(CATALOG_ERR_INVALID, "%s must not contain control characters", what);
            return false;
        }
    }
    const char *t = s;
    while (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t') t++;
    size_t n = text_utf8_chars(s);
    if ((min > 0 && !*t) || n < min || n > max) {
        fail(CATALOG_ERR_INVALID, "%s must be %zu to %zu characters", what, min, max);
        return false;
    }
    return true;
}

struct add_review {
    const char *slug, *title, *body, *author, *status;
    int rating;
    int64_t *id_out;
};

static int add_review_tx(db_tx *tx, void *arg)
{
    struct add_review *a = arg;
    int64_t product_id;
    /* verified_purchase: false — only the order code may set it (see migrations/0002). */
    int rc = repo_add_review(db_tx_conn(tx), a->slug, a->rating, a->title, a->body, a->author, a->status, false, 0,
                             &product_id, a->id_out);
    if (rc != CATALOG_OK) return rc;
    /* the page's reviews; cards show the rating (and sort by it) */
    return catalog_product_changed(tx, product_id, true) < 0 ? DB_TX_FAILED : DB_TX_OK;
}

int catalog_add_review(const char *slug, int rating, const char *title, const char *body, const char *author,
                       enum catalog_review_status status, int64_t *id_out)
{
    if (!key_ok(slug, 120)) return fail(CATALOG_ERR_INVALID, "product slug must be 1 to 120 characters");
    if (rating < 1 || rating > 5) return fail(CATALOG_ERR_INVALID, "rating must be a whole number from 1 to 5");
    if (!text_ok("title", title, 1, CATALOG_REVIEW_TITLE_MAX, false) ||
        !text_ok("review text", body, 1, CATALOG_REVIEW_BODY_MAX, true) ||
        !text_ok("author name", author, 1, CATALOG_REVIEW_AUTHOR_MAX, false))
        return CATALOG_ERR_INVALID;
    if (status < REVIEW_PENDING || status > REVIEW_REJECTED) return fail(CATALOG_ERR_INVALID, "unknown review status");
    struct add_review a = {slug, title, body, author, catalog_review_status_name(status), rating, id_out};
    return finish(db_tx_run(add_review_tx, &a), "product", slug);
}

/* ---- review moderation (the portal and the command line) ---- */

#define REVIEW_REFUSED 2   /* a unit of work's "tell them": e is filled */

static const char REVIEWS_DOWN[] = "Reviews are unavailable for a moment. Nothing was changed; please try again.";

static void review_key(char *key, size_t n, int64_t id) { snprintf(key, n, "%lld", (long long)id); }

struct moderate {
    const audit_actor *who;
    const int64_t *ids;
    int n;
    const char *status;
    int changed;
    shop_error *e;
};

static int moderate_tx(db_tx *tx, void *arg)
{
    struct moderate *m = arg;
    db_conn *c = db_tx_conn(tx);
    arena *a = arena_new();
    int rc = DB_TX_OK;
    m->changed = 0;
    for (int i = 0; i < m->n && rc == DB_TX_OK; i++) {
        review_row r;
        char key[24];
        review_key(key, sizeof key, m->ids[i]);
        int got = review_repo_lock(c, a, m->ids[i], &r);
        if (got <= 0) {
            if (got == 0) shop_fail(m->e, SHOP_NOT_FOUND, NULL, "There is no review %s (any more).", key);
            rc = got == 0 ? REVIEW_REFUSED : DB_TX_FAILED;
            break;
        }
        if (!strcmp(r.status, m->status)) continue;   /* already so: nothing to write or record */
        int64_t product_id;
        if (repo_moderate_review(c, m->ids[i], m->status, &product_id) != CATALOG_OK) {
            rc = DB_TX_FAILED;
            break;
        }
        json_t *before = json_pack("{s:s,s:s}", "status", r.status, "product", r.product_slug);
        json_t *after = json_pack("{s:s,s:s}", "status", m->status, "product", r.product_slug);
        int ar = audit_record(tx, m->who, "review.moderate", "review", key, before, after);
        json_decref(before);
        json_decref(after);
        /* the page's reviews; cards show the rating (and sort by it) */
        if (ar < 0 || catalog_product_changed(tx, product_id, true) < 0) rc = DB_TX_FAILED;
        else m->changed++;
    }
    arena_free(a);
    return rc;
}

shop_status catalog_moderate_reviews(const audit_actor *who, const int64_t *ids, int n,
                                     enum catalog_review_status status, int *changed, shop_error *e)
{
    if (n <= 0) return shop_fail(e, SHOP_INVALID, "ids", "Choose at least one review.");
    if (n > CATALOG_MODERATE_MAX)
        return shop_fail(e, SHOP_INVALID, "ids", "Choose at most %d reviews at a time.", CATALOG_MODERATE_MAX);
    for (int i = 0; i < n; i++)
        if (ids[i] <= 0) return shop_fail(e, SHOP_INVALID, "ids", "A review number is a positive whole number.");
    if (status < REVIEW_PENDING || status > REVIEW_REJECTED)
        return shop_fail(e, SHOP_INVALID, "status", "Unknown review status.");
    struct moderate m = {who, ids, n, catalog_review_status_name(status), 0, e};
    int rc = db_tx_run(moderate_tx, &m);
    if (rc == REVIEW_REFUSED) return e->status;
    if (rc != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, "%s", REVIEWS_DOWN);
    if (changed) *changed = m.changed;
    return SHOP_OK;
}

shop_status catalog_moderate_review(const audit_actor *who, int64_t id, enum catalog_review_status status,
                                    shop_error *e)
{
    return catalog_moderate_reviews(who, &id, 1, status, NULL, e);
}

struct reply {
    const audit_actor *who;
    int64_t id;
    const char *text, *author;   /* text NULL: remove */
    shop_error *e;
};

static int reply_tx(db_tx *tx, void *arg)
{
    struct reply *p = arg;
    db_conn *c = db_tx_conn(tx);
    arena *a = arena_new();
    review_row r;
    char key[24];
    review_key(key, sizeof key, p->id);
    int rc = DB_TX_FAILED;
    int got = review_repo_lock(c, a, p->id, &r);
    if (got == 0) {
        shop_fail(p->e, SHOP_NOT_FOUND, NULL, "There is no review %s (any more).", key);
        rc = REVIEW_REFUSED;
    } else if (got == 1 && !(r.reply_text == NULL && p->text == NULL) &&
               !(r.reply_text && p->text && !strcmp(r.reply_text, p->text))) {
        json_t *before = r.reply_text ? json_pack("{s:s,s:s}", "reply", r.reply_text, "reply_author", r.reply_author)
                                      : json_pack("{s:n}", "reply");
        json_t *after = p->text ? json_pack("{s:s,s:s}", "reply", p->text, "reply_author", p->author)
                                : json_pack("{s:n}", "reply");
        if (review_repo_set_reply(c, p->id, p->text, p->author, p->who->user_id) == 0 &&
            audit_record(tx, p->who, "review.reply", "review", key, before, after) == 0 &&
            catalog_product_changed(tx, r.product_id, false) == 0)   /* the page only: cards show no replies */
            rc = DB_TX_OK;
        json_decref(before);
        json_decref(after);
    } else if (got == 1) {
        rc = DB_TX_OK;   /* the same reply again: nothing to write */
    }
    arena_free(a);
    return rc;
}

shop_status catalog_reply_review(const audit_actor *who, int64_t id, const char *text, const char *author,
                                 shop_error *e)
{
    if (id <= 0) return shop_fail(e, SHOP_INVALID, NULL, "A review number is a positive whole number.");
    const char *t = text ? text : "";
    while (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t') t++;
    size_t len = strlen(t);
    while (len && (t[len - 1] == ' ' || t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == '\t')) len--;
    char *reply = len ? strndup(t, len) : NULL;
    if (len && !reply) abort();
    shop_status st = SHOP_OK;
    /* the rules of a review's own text (text_ok), said the portal's way */
    if (reply && !text_ok("The reply", reply, 1, CATALOG_REVIEW_REPLY_MAX, true))
        st = shop_fail(e, SHOP_INVALID, "reply", "%s.", last_error);
    if (st == SHOP_OK) {
        struct reply p = {who, id, reply, author && *author ? author : "The shop", e};
        int rc = db_tx_run(reply_tx, &p);
        if (rc == REVIEW_REFUSED) st = e->status;
        else if (rc != DB_TX_OK) st = shop_fail(e, SHOP_UNAVAILABLE, NULL, "%s", REVIEWS_DOWN);
    }
    free(reply);
    return st;
}
