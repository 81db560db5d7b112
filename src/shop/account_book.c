/* account_book.c — see account_book.h. The SQL is in db/user_repo.c
 * (addresses, saved choices) and db/prefs_repo.c (what can be chosen). */
#include "shop/account_book.h"

#include "core/text.h"
#include "db/prefs_repo.h"
#include "db/tx.h"
#include "notify/sms.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char STORE_DOWN[] = "Your saved details are unavailable for a moment. Nothing was changed; please try again shortly.";

/* ---------- countries ---------- */

const address_country address_countries[] = {
    {"GB", "United Kingdom"}, {"AU", "Australia"},   {"AT", "Austria"},       {"BE", "Belgium"},
    {"CA", "Canada"},         {"DK", "Denmark"},     {"FI", "Finland"},       {"FR", "France"},
    {"DE", "Germany"},        {"IE", "Ireland"},     {"IT", "Italy"},         {"NL", "Netherlands"},
    {"NZ", "New Zealand"},    {"PT", "Portugal"},    {"ES", "Spain"},         {"SE", "Sweden"},
    {"US", "United States"},
};
const int address_country_count = (int)(sizeof address_countries / sizeof *address_countries);

const char *address_country_name(const char *code)
{
    for (int i = 0; code && i < address_country_count; i++)
        if (!strcmp(address_countries[i].code, code)) return address_countries[i].name;
    return NULL;
}

/* ---------- checking text ---------- */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 32) : c; }

/* Trim s in place. */
static void trim(char *s)
{
    size_t n = strlen(s), i = 0;
    while (i < n && is_space(s[i])) i++;
    while (n > i && is_space(s[n - 1])) n--;
    memmove(s, s + i, n - i);
    s[n - i] = '\0';
}

/* Valid UTF-8 without C0/C1 control characters or DEL. */
static bool clean_text(const char *s)
{
    size_t n = strlen(s);
    if (!text_valid_utf8(s, n)) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) return false;
        /* U+0080..U+009F are C2 80..C2 9F */
        if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f) return false;
    }
    return true;
}

/* A phone number as typed ("+44 7700 900123", "+1 (415) 555-0123") →
 * without its separators. */
static void strip_phone(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++)
        if (!is_space(*r) && *r != '-' && *r != '(' && *r != ')' && *r != '.') *w++ = *r;
    *w = '\0';
}

/* The letters a UK postcode may have where (the Royal Mail's rules). */
static bool in_set(char c, const char *set) { return c && strchr(set, c) != NULL; }

/* A UK postcode in any case and spacing → "SW1A 1AA". false if it does
 * not have the shape of one: outward code A9, A99, A9A, AA9, AA99 or AA9A,
 * then inward code 9AA. */
static bool uk_postcode(const char *in, char out[17])
{
    char s[8];
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (*p == ' ') continue;
        char c = upper(*p);
        if (!is_upper(c) && !is_digit(c)) return false;
        if (n == 7) return false;
        s[n++] = c;
    }
    s[n] = '\0';
    if (!strcmp(s, "GIR0AA")) {
        snprintf(out, 17, "GIR 0AA");
        return true;
    }
    if (n < 5) return false;
    const char *inward = s + n - 3;
    static const char INWARD_LETTERS[] = "ABDEFGHJLNPQRSTUWXYZ"; /* never C I K M O V */
    if (!is_digit(inward[0]) || !in_set(inward[1], INWARD_LETTERS) || !in_set(inward[2], INWARD_LETTERS))
        return false;
    size_t on = n - 3;
    const char *o = s;
    if (!is_upper(o[0]) || in_set(o[0], "QVX")) return false;
    bool two_letters = is_upper(o[1]);
    if (two_letters && in_set(o[1], "IJZ")) return false;
    bool ok;
    if (on == 2) ok = is_digit(o[1]);                                                    /* A9 */
    else if (on == 3 && !two_letters) ok = is_digit(o[1]) && (is_digit(o[2]) || in_set(o[2], "ABCDEFGHJKPSTUW")); /* A99 A9A */
    else if (on == 3) ok = is_digit(o[2]);                                               /* AA9 */
    else if (on == 4) ok = two_letters && is_digit(o[2]) && (is_digit(o[3]) || in_set(o[3], "ABEHMNPRVWXY")); /* AA99 AA9A */
    else ok = false;
    if (!ok) return false;
    snprintf(out, 17, "%.*s %s", (int)on, s, inward);
    return true;
}

/* Elsewhere: letters, digits, spaces and hyphens (upper-cased, runs of
 * spaces made one). */
static bool other_postcode(const char *in, char out[17])
{
    size_t n = 0;
    bool any = false;
    for (const char *p = in; *p; p++) {
        char c = upper(*p);
        if (c == ' ' && n && out[n - 1] == ' ') continue;
        if (!is_upper(c) && !is_digit(c) && c != ' ' && c != '-') return false;
        if (n == 16) return false;
        any = any || c != ' ';
        out[n++] = c;
    }
    out[n] = '\0';
    return any;
}

struct text_rule {
    const char *field;
    size_t offset, size;     /* where in address_row, and its buffer */
    bool required;
    const char *missing;     /* the message when required and empty */
    const char *what;        /* "the name" for "Use at most N characters for …" */
};

#define AT(m) offsetof(address_row, m), sizeof(((address_row *)0)->m)
static const struct text_rule RULES[] = {
    {"full_name", AT(full_name), true, "Enter the name of the person the parcel is for.", "the name"},
    {"line1", AT(line1), true, "Enter the first line of the address.", "the first line"},
    {"line2", AT(line2), false, NULL, "the second line"},
    {"city", AT(city), true, "Enter the town or city.", "the town or city"},
    {"region", AT(region), false, NULL, "the county, state or region"},
    {"postcode", AT(postcode), true, "Enter the postcode.", "the postcode"},
    {"country", AT(country), true, "Choose the country.", "the country"},
    {"phone", AT(phone), false, NULL, "the phone number"},
};
#define NRULES ((int)(sizeof RULES / sizeof *RULES))

static char *field_of(address_row *a, const struct text_rule *r) { return (char *)a + r->offset; }

static shop_status too_long(const struct text_rule *r, shop_error *e)
{
    if (!strcmp(r->field, "country")) return shop_fail(e, SHOP_INVALID, "country", "Choose one of the countries we deliver to.");
    return shop_fail(e, SHOP_INVALID, r->field, "Use at most %zu characters for %s.", r->size - 1, r->what);
}

shop_status address_validate(address_row *a, shop_error *e)
{
    for (int i = 0; i < NRULES; i++) {
        const struct text_rule *r = &RULES[i];
        char *v = field_of(a, r);
        v[r->size - 1] = '\0';   /* whatever the caller did, a C string */
        trim(v);
        if (!clean_text(v))
            return shop_fail(e, SHOP_INVALID, r->field, "Remove the special characters (line breaks, tabs, control codes).");
        if (r->required && !*v) return shop_fail(e, SHOP_INVALID, r->field, "%s", r->missing);
    }
    /* country first: the postcode's rules depend on it */
    a->country[0] = upper(a->country[0]);
    a->country[1] = a->country[0] ? upper(a->country[1]) : '\0';
    if (!address_country_name(a->country))
        return shop_fail(e, SHOP_INVALID, "country", "Choose one of the countries we deliver to.");
    char pc[17];
    if (!strcmp(a->country, "GB")) {
        if (!uk_postcode(a->postcode, pc))
            return shop_fail(e, SHOP_INVALID, "postcode", "Enter a UK postcode, like SW1A 1AA.");
    } else if (!other_postcode(a->postcode, pc)) {
        return shop_fail(e, SHOP_INVALID, "postcode", "A postcode has only letters, digits, spaces and hyphens.");
    }
    memcpy(a->postcode, pc, sizeof a->postcode);
    strip_phone(a->phone);
    if (a->phone[0] && !sms_number_valid(a->phone))
        return shop_fail(e, SHOP_INVALID, "phone", "Enter the phone number with its country code, like +44 7700 900123.");
    return SHOP_OK;
}

shop_status address_from_fields(address_row *a, address_field_fn get, void *ctx, shop_error *e)
{
    for (int i = 0; i < NRULES; i++) {
        const struct text_rule *r = &RULES[i];
        const char *v = get(ctx, r->field);
        if (!v) v = "";
        while (is_space(*v)) v++;
        size_t n = strlen(v);
        while (n && is_space(v[n - 1])) n--;
        char *dst = field_of(a, r);
        if (!strcmp(r->field, "phone")) {
            /* separators do not count against the length */
            size_t k = 0;
            for (size_t j = 0; j < n; j++) {
                if (is_space(v[j]) || v[j] == '-' || v[j] == '(' || v[j] == ')' || v[j] == '.') continue;
                if (k + 1 >= r->size) return too_long(r, e);
                dst[k++] = v[j];
            }
            dst[k] = '\0';
            continue;
        }
        if (n >= r->size) return too_long(r, e);
        memcpy(dst, v, n);
        dst[n] = '\0';
    }
    return address_validate(a, e);
}

/* ---------- addresses: units of work ---------- */

enum { TX_NOT_FOUND = 1, TX_FULL = 2 };

/* The account's row, locked: its addresses change one writer at a time
 * (the count and the default stay true). 1, 0 no such account, -1. */
static int lock_account(db_conn *c, int64_t user_id)
{
    user_row u;
    return user_repo_by_id(c, user_id, true, &u);
}

struct save_work {
    int64_t user_id;
    const address_row *a;
    int64_t new_id;
};

static int save_tx(db_tx *tx, void *arg)
{
    struct save_work *w = arg;
    db_conn *c = db_tx_conn(tx);
    int r = lock_account(c, w->user_id);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0) return TX_NOT_FOUND;
    int64_t id = 0;
    if (w->a->id) {
        r = address_repo_save(c, w->user_id, w->a, &id);
        if (r == -2) return TX_NOT_FOUND;
        return r < 0 ? DB_TX_FAILED : DB_TX_OK;
    }
    int n = address_repo_count(c, w->user_id);
    if (n < 0) return DB_TX_FAILED;
    if (n >= ADDRESS_MAX) return TX_FULL;
    if (address_repo_save(c, w->user_id, w->a, &id) < 0) return DB_TX_FAILED;
    if (n == 0 && address_repo_set_default(c, w->user_id, id) != 1) return DB_TX_FAILED;
    w->new_id = id;   /* not into the caller's row: this may run again */
    return DB_TX_OK;
}

static shop_status tx_status(int rc, shop_error *e)
{
    switch (rc) {
    case DB_TX_OK: return SHOP_OK;
    case TX_NOT_FOUND: return shop_fail(e, SHOP_NOT_FOUND, NULL, "We could not find that address.");
    case TX_FULL:
        return shop_fail(e, SHOP_INVALID, NULL,
                         "You can keep up to %d addresses. Delete one you no longer use to add another.", ADDRESS_MAX);
    }
    return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
}

shop_status address_save(int64_t user_id, address_row *a, shop_error *e)
{
    if (address_validate(a, e) != SHOP_OK) return e ? e->status : SHOP_INVALID;
    struct save_work w = {user_id, a, 0};
    shop_status st = tx_status(db_tx_run(save_tx, &w), e);
    if (st == SHOP_OK && !a->id) a->id = w.new_id;
    return st;
}

struct delete_work {
    int64_t user_id, id;
};

static int delete_tx(db_tx *tx, void *arg)
{
    struct delete_work *w = arg;
    db_conn *c = db_tx_conn(tx);
    int r = lock_account(c, w->user_id);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0) return TX_NOT_FOUND;
    address_row gone;
    r = address_repo_get(c, w->user_id, w->id, &gone);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0) return TX_NOT_FOUND;
    r = address_repo_delete(c, w->user_id, w->id);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0) return TX_NOT_FOUND;
    if (!gone.is_default) return DB_TX_OK;
    /* no default now: the list starts with the newest */
    address_row next;
    int n = address_repo_list(c, w->user_id, &next, 1);
    if (n < 0) return DB_TX_FAILED;
    if (n == 1 && address_repo_set_default(c, w->user_id, next.id) != 1) return DB_TX_FAILED;
    return DB_TX_OK;
}

shop_status address_delete(int64_t user_id, int64_t id, shop_error *e)
{
    struct delete_work w = {user_id, id};
    return tx_status(db_tx_run(delete_tx, &w), e);
}

shop_status address_set_default(int64_t user_id, int64_t id, shop_error *e)
{
    db_conn *c = db_conn_get();
    int r = c ? address_repo_set_default(c, user_id, id) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 0) return shop_fail(e, SHOP_NOT_FOUND, NULL, "We could not find that address.");
    return SHOP_OK;
}

shop_status address_list(int64_t user_id, address_row *out, int max, int *count, shop_error *e)
{
    db_conn *c = db_conn_get();
    int n = c ? address_repo_list(c, user_id, out, max) : -1;
    if (n < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    *count = n;
    return SHOP_OK;
}

shop_status address_get(int64_t user_id, int64_t id, address_row *out, shop_error *e)
{
    db_conn *c = db_conn_get();
    int r = c ? address_repo_get(c, user_id, id, out) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 0) return shop_fail(e, SHOP_NOT_FOUND, NULL, "We could not find that address.");
    return SHOP_OK;
}

/* ---------- saved sizes and brands ---------- */

/* The options (what the catalogue offers), nothing marked. */
static int load_options(db_conn *c, saved_prefs *p)
{
    char keys[PREFS_SIZES_MAX][13], labels[PREFS_SIZES_MAX][17];
    int n = prefs_repo_size_options(c, keys, labels, PREFS_SIZES_MAX);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        text_copy(p->sizes[i].value, sizeof p->sizes[i].value, keys[i]);
        text_copy(p->sizes[i].label, sizeof p->sizes[i].label, labels[i]);
        p->sizes[i].saved = false;
    }
    p->nsizes = n;
    char (*slugs)[81] = malloc(sizeof(char[PREFS_BRANDS_MAX][81]) * 2);
    if (!slugs) return -1;
    char (*names)[81] = slugs + PREFS_BRANDS_MAX;
    n = prefs_repo_brand_options(c, slugs, names, PREFS_BRANDS_MAX);
    for (int i = 0; i < n; i++) {
        text_copy(p->brands[i].value, sizeof p->brands[i].value, slugs[i]);
        text_copy(p->brands[i].label, sizeof p->brands[i].label, names[i]);
        p->brands[i].saved = false;
    }
    free(slugs);
    if (n < 0) return -1;
    p->nbrands = n;
    return 0;
}

static pref_option *find_option(pref_option *opts, int n, const char *value)
{
    for (int i = 0; value && i < n; i++)
        if (!strcmp(opts[i].value, value)) return &opts[i];
    return NULL;
}

shop_status prefs_get(int64_t user_id, saved_prefs *out, shop_error *e)
{
    db_conn *c = db_conn_get();
    if (!c || load_options(c, out) < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    char sizes[PREFS_SIZES_MAX][13];
    int n = prefs_repo_sizes(c, user_id, sizes, PREFS_SIZES_MAX);
    if (n < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    for (int i = 0; i < n; i++) {
        pref_option *o = find_option(out->sizes, out->nsizes, sizes[i]);
        if (o) o->saved = true;
    }
    char (*slugs)[81] = malloc(sizeof(char[PREFS_BRANDS_MAX][81]));
    n = slugs ? prefs_repo_brands(c, user_id, slugs, PREFS_BRANDS_MAX) : -1;
    for (int i = 0; i < n; i++) {
        pref_option *o = find_option(out->brands, out->nbrands, slugs[i]);
        if (o) o->saved = true;
    }
    free(slugs);
    if (n < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}

struct prefs_work {
    int64_t user_id;
    char (*sizes)[13];
    int nsizes;
    char (*brands)[81];
    int nbrands;
};

static int prefs_tx(db_tx *tx, void *arg)
{
    struct prefs_work *w = arg;
    db_conn *c = db_tx_conn(tx);
    if (prefs_repo_set_sizes(c, w->user_id, w->sizes, w->nsizes) < 0) return DB_TX_FAILED;
    return prefs_repo_set_brands(c, w->user_id, w->brands, w->nbrands) < 0 ? DB_TX_FAILED : DB_TX_OK;
}

/* "…" for a value echoed in a message: at most 24 bytes of it, whole characters. */
static void shown(const char *v, char out[32])
{
    size_t n = text_copy(out, 25, v);
    while (n && !text_valid_utf8(out, n)) out[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f) out[i] = '?';
}

shop_status prefs_save(int64_t user_id, const char *const *sizes, int nsizes, const char *const *brands, int nbrands,
                       shop_error *e)
{
    saved_prefs *p = malloc(sizeof *p);
    if (!p) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    db_conn *c = db_conn_get();
    if (!c || load_options(c, p) < 0) {
        free(p);
        return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    }
    /* mark the chosen options: each one must be on offer */
    shop_status st = SHOP_OK;
    char what[32];
    for (int i = 0; st == SHOP_OK && i < nsizes; i++) {
        pref_option *o = find_option(p->sizes, p->nsizes, sizes[i]);
        if (o) o->saved = true;
        else {
            shown(sizes[i] ? sizes[i] : "", what);
            st = shop_fail(e, SHOP_INVALID, "size", "We do not sell the size \"%s\". Choose sizes from the list.", what);
        }
    }
    for (int i = 0; st == SHOP_OK && i < nbrands; i++) {
        pref_option *o = find_option(p->brands, p->nbrands, brands[i]);
        if (o) o->saved = true;
        else {
            shown(brands[i] ? brands[i] : "", what);
            st = shop_fail(e, SHOP_INVALID, "brand", "We do not sell the brand \"%s\". Choose brands from the list.", what);
        }
    }
    if (st == SHOP_OK) {
        /* the set, once each, in the catalogue's order */
        struct prefs_work w = {.user_id = user_id};
        w.sizes = malloc(sizeof(char[13]) * (size_t)(p->nsizes ? p->nsizes : 1));
        w.brands = malloc(sizeof(char[81]) * (size_t)(p->nbrands ? p->nbrands : 1));
        if (!w.sizes || !w.brands) {
            st = shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
        } else {
            for (int i = 0; i < p->nsizes; i++)
                if (p->sizes[i].saved) text_copy(w.sizes[w.nsizes++], 13, p->sizes[i].value);
            for (int i = 0; i < p->nbrands; i++)
                if (p->brands[i].saved) text_copy(w.brands[w.nbrands++], 81, p->brands[i].value);
            if (db_tx_run(prefs_tx, &w) != DB_TX_OK) st = shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
        }
        free(w.sizes);
        free(w.brands);
    }
    free(p);
    return st;
}
