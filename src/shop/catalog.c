/* catalog.c — see catalog.h: filter parsing, money, labels, view models.
 * The store-owner writes are in catalog_admin.c; the SQL in
 * db/catalog_repo.c. */
#include "shop/catalog.h"

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "db/catalog_repo.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOW_STOCK_MAX 3        /* 1..3 left → "Only N left" */
#define MAX_VALUE_BYTES 64     /* a slug or size value longer than this cannot exist */
#define MAX_SLUG_BYTES 120
#define HOME_CARDS 8
#define PRODUCT_REVIEWS 50

/* ------------------------------------------------------------------ */
/* Money                                                                */

size_t catalog_money_format(int64_t amount, const char *currency, char *out, size_t outlen)
{
    if (!currency || strlen(currency) != 3) currency = "GBP";
    const char *symbol = NULL;
    if (!strcmp(currency, "GBP")) symbol = "£";
    else if (!strcmp(currency, "EUR")) symbol = "€";
    else if (!strcmp(currency, "USD")) symbol = "$";
    bool neg = amount < 0;
    uint64_t a = neg ? (uint64_t)(-(amount + 1)) + 1u : (uint64_t)amount;
    uint64_t major = a / 100, minor = a % 100;
    /* major with thousands separators */
    char digits[32], grouped[48];
    int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long)major);
    size_t g = 0;
    for (int i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0) grouped[g++] = ',';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    int n = symbol ? snprintf(out, outlen, "%s%s%s.%02u", neg ? "-" : "", symbol, grouped, (unsigned)minor)
                   : snprintf(out, outlen, "%s%s %s.%02u", neg ? "-" : "", currency, grouped, (unsigned)minor);
    return n < 0 ? 0 : (size_t)n;
}

json_t *catalog_money_in(int64_t amount, const char *currency)
{
    if (!currency || strlen(currency) != 3) currency = cfg.currency && strlen(cfg.currency) == 3 ? cfg.currency : "GBP";
    char display[64];
    catalog_money_format(amount, currency, display, sizeof display);
    return json_pack("{s:I, s:s, s:s}", "amount", (json_int_t)amount, "currency", currency, "display", display);
}

json_t *catalog_money(int64_t amount) { return catalog_money_in(amount, cfg.currency); }

static bool is_space(char c) { return c == ' ' || c == '\t'; }

bool catalog_parse_price(const char *s, int64_t *minor)
{
    if (!s) return false;
    while (is_space(*s)) s++;
    if (*s < '0' || *s > '9') return false;
    int64_t major = 0;
    bool clamped = false;
    while (*s >= '0' && *s <= '9') {
        if (major > CATALOG_PRICE_LIMIT / 1000) clamped = true;
        else major = major * 10 + (*s - '0');
        s++;
    }
    int64_t cents = 0;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') return false;
        cents = (*s++ - '0') * 10;
        if (*s >= '0' && *s <= '9') cents += *s++ - '0';
    }
    while (is_space(*s)) s++;
    if (*s) return false;
    int64_t v = major * 100 + cents;
    *minor = clamped || v > CATALOG_PRICE_LIMIT ? CATALOG_PRICE_LIMIT : v;
    return true;
}

void catalog_price_param(int64_t minor, char *out, size_t outlen)
{
    if (minor < 0) minor = 0;
    if (minor % 100 == 0) snprintf(out, outlen, "%lld", (long long)(minor / 100));
    else snprintf(out, outlen, "%lld.%02lld", (long long)(minor / 100), (long long)(minor % 100));
}

/* ------------------------------------------------------------------ */
/* Sorts, stock, stars, sizes                                           */

static const char *const sort_names[] = {"relevance", "newest", "price_asc", "price_desc", "rating", "popular"};

const char *catalog_sort_name(enum catalog_sort sort)
{
    return sort >= SORT_RELEVANCE && sort <= SORT_POPULAR ? sort_names[sort] : "relevance";
}

bool catalog_sort_parse(const char *s, enum catalog_sort *sort)
{
    for (int i = 0; i <= SORT_POPULAR; i++)
        if (!strcmp(s, sort_names[i])) { *sort = (enum catalog_sort)i; return true; }
    return false;
}

static const char *sort_label(enum catalog_sort sort, bool searching)
{
    switch (sort) {
    case SORT_RELEVANCE: return searching ? "Best match" : "Featured";
    case SORT_NEWEST: return "Newest";
    case SORT_PRICE_ASC: return "Price: low to high";
    case SORT_PRICE_DESC: return "Price: high to low";
    case SORT_RATING: return "Top rated";
    case SORT_POPULAR: return "Most popular";
    }
    return "";
}

const char *catalog_stock_label(int64_t stock, bool *sold_out, bool *low_stock, char *out, size_t outlen)
{
    *sold_out = stock <= 0;
    *low_stock = stock >= 1 && stock <= LOW_STOCK_MAX;
    if (*sold_out) snprintf(out, outlen, "Sold out");
    else if (*low_stock) snprintf(out, outlen, "Only %lld left", (long long)stock);
    else snprintf(out, outlen, "In stock");
    return out;
}

void catalog_stars(double average, char *out, size_t outlen)
{
    int full = (int)floor(average + 0.5);
    if (!(average >= 0)) full = 0; /* NaN too */
    if (full > 5) full = 5;
    size_t o = 0;
    for (int i = 0; i < 5 && o + 4 <= outlen; i++) {
        memcpy(out + o, i < full ? "\xe2\x98\x85" : "\xe2\x98\x86", 3); /* ★ ☆ */
        o += 3;
    }
    if (outlen) out[o < outlen ? o : outlen - 1] = '\0';
}

/* "uk-9.5": system letters, '-', 1..3 digits, optional ".d". */
static bool split_size(const char *v, size_t *syslen, const char **num)
{
    size_t i = 0;
    while (v[i] >= 'a' && v[i] <= 'z') i++;
    if (i == 0 || i > 4 || v[i] != '-') return false;
    const char *n = v + i + 1;
    size_t d = 0;
    while (n[d] >= '0' && n[d] <= '9') d++;
    if (d == 0 || d > 3) return false;
    if (n[d] == '.') {
        if (n[d + 1] < '0' || n[d + 1] > '9' || n[d + 2]) return false;
    } else if (n[d]) {
        return false;
    }
    *syslen = i;
    *num = n;
    return true;
}

bool catalog_size_label(const char *value, char *out, size_t outlen)
{
    size_t syslen;
    const char *num;
    if (!value || !split_size(value, &syslen, &num)) {
        if (outlen) out[0] = '\0';
        return false;
    }
    char sys[8];
    for (size_t i = 0; i < syslen; i++) sys[i] = (char)(value[i] - 'a' + 'A');
    sys[syslen] = '\0';
    snprintf(out, outlen, "%s %s", sys, num);
    return true;
}

void catalog_size_normalise(const char *in, char *out, size_t outlen)
{
    if (!outlen) return;
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < outlen; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        else if (c == ' ' || c == '_') c = '-';
        out[o++] = c;
    }
    out[o] = '\0';
    size_t syslen;
    const char *num;
    if (split_size(out, &syslen, &num)) {
        size_t l = strlen(out);
        if (l >= 2 && out[l - 2] == '.' && out[l - 1] == '0') out[l - 2] = '\0';   /* "uk-9.0" → "uk-9" */
        while (num[0] == '0' && num[1] >= '0' && num[1] <= '9')                   /* "uk-09" → "uk-9" */
            memmove((char *)num, num + 1, strlen(num));
    }
}

/* ------------------------------------------------------------------ */
/* Search terms                                                         */

/* InnoDB's default full-text stop words (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD). */
static const char *const stop_words[] = {
    "a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from", "how", "i", "in", "is",
    "it", "la", "of", "on", "or", "that", "the", "this", "to", "was", "what", "when", "where", "who", "will",
    "with", "und", "www",
};
#define MIN_TERM_CHARS 3   /* innodb_ft_min_token_size */

/* Length of a word character at s (0 = separator). */
static size_t word_char_len(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    if (c < 0x80) return 0;
    size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || n > left || !text_valid_utf8((const char *)s, n)) return 0;
    unsigned cp = n == 2 ? ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu)
                : n == 3 ? ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu)
                         : 0x10000;
    /* Latin-1 punctuation, × ÷, general punctuation, CJK punctuation: separators */
    if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F))
        return 0;
    return n;
}

int catalog_search_terms(const char *q, char *out, size_t outlen)
{
    if (outlen) out[0] = '\0';
    if (!q || outlen < 8) return 0;
    size_t len = strnlen(q, CATALOG_MAX_QUERY_BYTES);
    const unsigned char *s = (const unsigned char *)q;
    size_t i = 0, o = 0;
    int terms = 0;
    while (i < len && terms < CATALOG_MAX_TERMS) {
        char word[CATALOG_MAX_QUERY_BYTES + 1];
        size_t wl = 0, chars = 0, n;
        while (i < len && (n = word_char_len(s + i, len - i)) > 0) {
            for (size_t k = 0; k < n; k++) {
                unsigned char c = s[i + k];
                word[wl++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            }
            chars++;
            i += n;
        }
        if (wl == 0) { i++; continue; }
        word[wl] = '\0';
        if (chars < MIN_TERM_CHARS) continue;
        bool stop = false;
        for (size_t k = 0; k < sizeof stop_words / sizeof *stop_words; k++)
            if (!strcmp(word, stop_words[k])) stop = true;
        if (stop) continue;
        if (o + wl + 4 >= outlen) break;      /* " +" word "*" and NUL */
        if (o) out[o++] = ' ';
        out[o++] = '+';
        memcpy(out + o, word, wl);
        o += wl;
        out[o++] = '*';
        out[o] = '\0';
        terms++;
    }
    return terms;
}

int catalog_clamp_page(int page, int64_t total, int per_page, int *pages)
{
    if (per_page < 1) per_page = 1;
    int64_t p = total <= 0 ? 1 : (total + per_page - 1) / per_page;
    if (p > INT_MAX) p = INT_MAX;
    *pages = (int)p;
    if (page < 1) page = 1;
    if (page > *pages) page = *pages;
    return page;
}

/* ------------------------------------------------------------------ */
/* Filter parsing                                                       */

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* The value of `name`, trimmed; NULL when absent or empty. */
static const char *param(catalog_param_fn get, void *ctx, arena *pool, const char *name)
{
    const char *v = get(ctx, name);
    if (!v) return NULL;
    while (is_space(*v)) v++;
    size_t n = strlen(v);
    while (n && is_space(v[n - 1])) n--;
    return n ? arena_strndup(pool, v, n) : NULL;
}

static void lower_ascii(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z') *s = (char)(*s - 'A' + 'a');
}

/* page / per_page: digits only; huge values clamp to max. */
static int parse_count(const char *v, int max, int *out)
{
    const char *p = v;
    if (*p == '-' && p[1] >= '0' && p[1] <= '9' && strspn(p + 1, "0123456789") == strlen(p + 1))
        return -2;   /* a negative whole number */
    while (*p == '0' && p[1]) p++;
    size_t digits = 0;
    for (const char *d = p; *d; d++, digits++)
        if (*d < '0' || *d > '9') return -1;   /* not a whole number */
    long long n = digits > 9 ? (long long)max + 1 : strtoll(p, NULL, 10);
    if (n < 1) return -2;
    *out = n > max ? max : (int)n;
    return 0;
}

static int parse_list(arena *pool, const char *v, const char **out, int *n, bool sizes)
{
    char *copy = arena_strdup(pool, v), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && *n < CATALOG_MAX_MULTI; tok = strtok_r(NULL, ",", &save)) {
        while (is_space(*tok)) tok++;
        size_t l = strlen(tok);
        while (l && is_space(tok[l - 1])) tok[--l] = '\0';
        if (!l) continue;
        /* too long to name anything: kept (cut) so that it matches nothing,
         * rather than dropped, which would widen the listing */
        if (l > MAX_VALUE_BYTES) {
            size_t cut = MAX_VALUE_BYTES;
            while (cut && ((unsigned char)tok[cut] & 0xC0) == 0x80) cut--; /* keep whole UTF-8 characters */
            tok[cut] = '\0';
        }
        lower_ascii(tok);
        if (sizes) {
            char norm[MAX_VALUE_BYTES + 1];
            catalog_size_normalise(tok, norm, sizeof norm);
            tok = arena_strdup(pool, norm);
        }
        bool dup = false;
        for (int i = 0; i < *n; i++)
            if (!strcmp(out[i], tok)) dup = true;
        if (!dup) out[(*n)++] = tok;
    }
    return 0;
}

int catalog_filter_parse(catalog_filter *f, arena *pool, catalog_param_fn get, void *ctx, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->price_min = f->price_max = -1;
    f->sort = SORT_RELEVANCE;
    f->page = 1;
    f->per_page = CATALOG_DEFAULT_PER_PAGE;
    if (errlen) err[0] = '\0';

    static const char *const text_params[] = {"category", "q", "brand", "colour", "size", "gender"};
    const char *vals[6];
    for (int i = 0; i < 6; i++) {
        vals[i] = param(get, ctx, pool, text_params[i]);
        if (!vals[i]) continue;
        size_t len = strlen(vals[i]);
        if (i == 1 && len > CATALOG_MAX_QUERY_BYTES) {
            /* cut long search text at a character boundary */
            len = CATALOG_MAX_QUERY_BYTES;
            while (len && ((unsigned char)vals[i][len] & 0xC0) == 0x80) len--;
            vals[i] = arena_strndup(pool, vals[i], len);
        }
        if (!text_valid_utf8(vals[i], len)) FAIL("%s must be valid UTF-8 text", text_params[i]);
    }
    if (vals[0]) {
        char *c = arena_strdup(pool, vals[0]);
        lower_ascii(c);
        f->category = strlen(c) > MAX_SLUG_BYTES ? arena_strndup(pool, c, MAX_SLUG_BYTES) : c;
    }
    if (vals[1]) {
        char *q = arena_strdup(pool, vals[1]);
        for (char *p = q; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';   /* control characters */
        while (*q == ' ') q++;
        size_t n = strlen(q);
        while (n && q[n - 1] == ' ') q[--n] = '\0';
        f->q = n ? q : NULL;
    }
    if (vals[2]) parse_list(pool, vals[2], f->brands, &f->nbrands, false);
    if (vals[3]) parse_list(pool, vals[3], f->colours, &f->ncolours, false);
    if (vals[4]) parse_list(pool, vals[4], f->sizes, &f->nsizes, true);
    if (vals[5]) {
        char *g = arena_strndup(pool, vals[5], strnlen(vals[5], 32));   /* an unknown gender matches nothing */
        lower_ascii(g);
        f->gender = g;
    }

    static const char *const price_params[] = {"price_min", "price_max"};
    int64_t *prices[] = {&f->price_min, &f->price_max};
    for (int i = 0; i < 2; i++) {
        const char *v = param(get, ctx, pool, price_params[i]);
        if (!v) continue;
        if (v[0] == '-') FAIL("%s must not be negative", price_params[i]);
        if (!catalog_parse_price(v, prices[i]))
            FAIL("%s must be an amount like 50 or 49.99", price_params[i]);
    }
    if (f->price_min >= 0 && f->price_max >= 0 && f->price_min > f->price_max) {
        int64_t t = f->price_min;
        f->price_min = f->price_max;
        f->price_max = t;
    }

    const char *v = param(get, ctx, pool, "sort");
    if (v && !catalog_sort_parse(v, &f->sort))
        FAIL("sort must be one of relevance, newest, price_asc, price_desc, rating, popular");

    v = param(get, ctx, pool, "page");
    if (v) {
        int rc = parse_count(v, CATALOG_MAX_PAGE, &f->page);
        if (rc == -1) FAIL("page must be a whole number");
        if (rc == -2) FAIL("page must be 1 or more");
    }
    v = param(get, ctx, pool, "per_page");
    if (v) {
        int rc = parse_count(v, CATALOG_MAX_PER_PAGE, &f->per_page);
        if (rc == -1) FAIL("per_page must be a whole number");
        if (rc == -2) FAIL("per_page must be 1 or more");
    }
    return 0;
}

#undef FAIL

/* ------------------------------------------------------------------ */
/* View models                                                          */

/* json_string that never returns NULL (store text is valid UTF-8, but a
 * view model must not lose a key over one bad value). */
static json_t *js(const char *s)
{
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("");
}

static void set(json_t *obj, const char *key, json_t *value) { json_object_set_new(obj, key, value ? value : json_null()); }

static json_t *stars_json(double average)
{
    char stars[32];
    catalog_stars(average, stars, sizeof stars);
    return js(stars);
}

static json_t *card_json(const repo_card *c)
{
    json_t *o = json_object();
    set(o, "id", json_integer(c->id));
    set(o, "slug", js(c->slug));
    set(o, "name", js(c->name));
    set(o, "brand", json_pack("{s:o, s:o}", "slug", js(c->brand_slug), "name", js(c->brand_name)));
    set(o, "price", catalog_money_in(c->price, c->currency));
    bool on_sale = c->compare_at > c->price;
    set(o, "compare_at", on_sale ? catalog_money_in(c->compare_at, c->currency) : json_null());
    set(o, "on_sale", json_boolean(on_sale));
    set(o, "image", json_pack("{s:o, s:o}", "url", js(c->image_url), "alt", js(*c->image_alt ? c->image_alt : c->name)));
    double avg = round(c->rating_avg * 10.0) / 10.0;
    set(o, "rating", json_pack("{s:f, s:I, s:o}", "average", avg, "count", (json_int_t)c->rating_count, "stars",
                               stars_json(c->rating_avg)));
    json_t *colours = json_array();
    /* "name\x1fhex\x1fslug" records joined by \x1e */
    const char *p = c->colours;
    while (p && *p) {
        const char *end = strchr(p, '\x1e');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s1 = memchr(p, '\x1f', len);
        const char *s2 = s1 ? memchr(s1 + 1, '\x1f', len - (size_t)(s1 + 1 - p)) : NULL;
        if (s1 && s2) {
            json_t *name = json_stringn(p, (size_t)(s1 - p)), *hex = json_stringn(s1 + 1, (size_t)(s2 - s1 - 1));
            json_t *slug = json_stringn(s2 + 1, (size_t)(p + len - s2 - 1));
            if (name && hex && slug)
                json_array_append_new(colours, json_pack("{s:o, s:o, s:o}", "name", name, "hex", hex, "slug", slug));
            else {
                json_decref(name); json_decref(hex); json_decref(slug);
            }
        }
        p = end ? end + 1 : NULL;
    }
    set(o, "colours", colours);
    set(o, "in_stock", json_boolean(c->in_stock));
    char url[256];
    snprintf(url, sizeof url, "/products/%s", c->slug);
    set(o, "url", js(url));
    return o;
}

static json_t *cards_json(const repo_card *cards, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, card_json(&cards[i]));
    return a;
}

static bool in_list(const char *const *list, int n, const char *v)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i], v)) return true;
    return false;
}

static json_t *facet_entry(const char *value, const char *label, const char *hex, int64_t count, bool selected)
{
    json_t *o = json_pack("{s:o, s:o, s:I, s:b}", "value", js(value), "label", js(label), "count", (json_int_t)count,
                          "selected", selected);
    if (hex) set(o, "hex", js(hex));
    return o;
}

static const char *gender_label(const char *g)
{
    if (!strcmp(g, "men")) return "Men";
    if (!strcmp(g, "women")) return "Women";
    if (!strcmp(g, "kids")) return "Kids";
    if (!strcmp(g, "unisex")) return "Unisex";
    return NULL;
}

/* One facet array; values selected in the filter but absent from the
 * results are appended with count 0 (so the shopper can unselect them). */
static int facet_json(arena *a, const repo_query *q, enum repo_facet_kind kind, json_t **out)
{
    repo_facet *rows;
    int n;
    if (repo_facet_counts(a, q, kind, &rows, &n) < 0) return -1;
    const catalog_filter *f = q->f;
    const char *const *sel = kind == FACET_SIZES ? f->sizes : kind == FACET_BRANDS ? f->brands
                           : kind == FACET_COLOURS ? f->colours : &f->gender;
    int nsel = kind == FACET_SIZES ? f->nsizes : kind == FACET_BRANDS ? f->nbrands
             : kind == FACET_COLOURS ? f->ncolours : (f->gender ? 1 : 0);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        const char *label = kind == FACET_GENDERS ? gender_label(rows[i].value) : rows[i].label;
        json_array_append_new(arr, facet_entry(rows[i].value, label ? label : rows[i].value,
                                               kind == FACET_COLOURS ? rows[i].hex : NULL, rows[i].count,
                                               in_list(sel, nsel, rows[i].value)));
    }
    for (int s = 0; s < nsel; s++) {
        bool found = false;
        for (int i = 0; i < n && !found; i++) found = !strcmp(rows[i].value, sel[s]);
        if (found) continue;
        const char *name = NULL, *hex = NULL;
        char label[32];
        switch (kind) {
        case FACET_SIZES:
            if (catalog_size_label(sel[s], label, sizeof label)) name = label;
            break;
        case FACET_BRANDS:
            if (repo_brand_name(a, sel[s], &name) < 0) return json_decref(arr), -1;
            break;
        case FACET_COLOURS:
            if (repo_colour_info(a, sel[s], &name, &hex) < 0) return json_decref(arr), -1;
            break;
        case FACET_GENDERS:
            name = gender_label(sel[s]);
            break;
        }
        if (name) json_array_append_new(arr, facet_entry(sel[s], name, kind == FACET_COLOURS ? hex : NULL, 0, true));
    }
    *out = arr;
    return 0;
}

static void query_append(buf *b, const char *key, const char *value)
{
    if (!value || !*value) return;
    if (b->len) buf_putc(b, '&');
    buf_puts(b, key);
    buf_putc(b, '=');
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~,", *p))
            buf_putc(b, (char)*p);
        else
            buf_printf(b, "%%%02X", *p);
    }
}

static char *join_list(arena *a, const char *const *list, int n)
{
    buf b = BUF_INIT;
    for (int i = 0; i < n; i++) {
        if (i) buf_putc(&b, ',');
        buf_puts(&b, list[i]);
    }
    char *s = arena_strdup(a, buf_cstr(&b));
    buf_free(&b);
    return s;
}

static json_t *filters_json(arena *a, const catalog_filter *f, int page, int per_page)
{
    char pmin[32] = "", pmax[32] = "", pg[16], pp[16];
    if (f->price_min >= 0) catalog_price_param(f->price_min, pmin, sizeof pmin);
    if (f->price_max >= 0) catalog_price_param(f->price_max, pmax, sizeof pmax);
    snprintf(pg, sizeof pg, "%d", page);
    snprintf(pp, sizeof pp, "%d", per_page);
    const char *brand = join_list(a, f->brands, f->nbrands), *colour = join_list(a, f->colours, f->ncolours),
               *size = join_list(a, f->sizes, f->nsizes), *sort = catalog_sort_name(f->sort);
    json_t *o = json_object();
    set(o, "category", js(f->category));
    set(o, "q", js(f->q));
    set(o, "brand", js(brand));
    set(o, "colour", js(colour));
    set(o, "size", js(size));
    set(o, "gender", js(f->gender));
    set(o, "price_min", js(pmin));
    set(o, "price_max", js(pmax));
    set(o, "sort", js(sort));
    set(o, "page", js(pg));
    set(o, "per_page", js(pp));
    buf qs = BUF_INIT;
    query_append(&qs, "category", f->category);
    query_append(&qs, "q", f->q);
    query_append(&qs, "brand", brand);
    query_append(&qs, "colour", colour);
    query_append(&qs, "size", size);
    query_append(&qs, "gender", f->gender);
    query_append(&qs, "price_min", pmin);
    query_append(&qs, "price_max", pmax);
    if (f->sort != SORT_RELEVANCE) query_append(&qs, "sort", sort);
    if (per_page != CATALOG_DEFAULT_PER_PAGE) query_append(&qs, "per_page", pp);
    set(o, "query", js(buf_cstr(&qs)));
    buf_free(&qs);
    return o;
}

json_t *catalog_list(const catalog_filter *f)
{
    arena *a = arena_new();
    json_t *out = NULL, *facets = NULL, *sizes = NULL, *brands = NULL, *colours = NULL, *genders = NULL;
    char terms[1024];
    repo_query q = {f, NULL};
    if (f->q && *f->q) {
        catalog_search_terms(f->q, terms, sizeof terms);
        q.terms = terms;
    }
    int per_page = f->per_page < 1 ? CATALOG_DEFAULT_PER_PAGE : f->per_page > CATALOG_MAX_PER_PAGE ? CATALOG_MAX_PER_PAGE : f->per_page;
    int64_t total, pmin, pmax, pn;
    repo_card *cards;
    int n, pages;
    if (repo_count_products(&q, &total) < 0) goto fail;
    int page = catalog_clamp_page(f->page, total, per_page, &pages);
    if (repo_list_products(a, &q, (int64_t)(page - 1) * per_page, per_page, &cards, &n) < 0) goto fail;
    if (facet_json(a, &q, FACET_SIZES, &sizes) < 0 || facet_json(a, &q, FACET_BRANDS, &brands) < 0 ||
        facet_json(a, &q, FACET_COLOURS, &colours) < 0 || facet_json(a, &q, FACET_GENDERS, &genders) < 0 ||
        repo_price_range(&q, &pmin, &pmax, &pn) < 0)
        goto fail;
    const char *currency = cfg.currency;
    facets = json_object();
    set(facets, "sizes", sizes);
    set(facets, "brands", brands);
    set(facets, "colours", colours);
    set(facets, "genders", genders);
    sizes = brands = colours = genders = NULL;
    set(facets, "price", json_pack("{s:o, s:o}", "min", catalog_money_in(pmin, currency), "max",
                                   catalog_money_in(pmax, currency)));
    json_t *sorts = json_array();
    for (int s = SORT_RELEVANCE; s <= SORT_POPULAR; s++)
        json_array_append_new(sorts, json_pack("{s:s, s:s, s:b}", "value", catalog_sort_name((enum catalog_sort)s),
                                               "label", sort_label((enum catalog_sort)s, q.terms != NULL),
                                               "selected", s == (int)f->sort));
    out = json_object();
    set(out, "products", cards_json(cards, n));
    set(out, "total", json_integer(total));
    set(out, "page", json_integer(page));
    set(out, "pages", json_integer(pages));
    set(out, "per_page", json_integer(per_page));
    set(out, "has_prev", json_boolean(page > 1));
    set(out, "has_next", json_boolean(page < pages));
    set(out, "prev_page", page > 1 ? json_integer(page - 1) : json_null());
    set(out, "next_page", page < pages ? json_integer(page + 1) : json_null());
    set(out, "filters", filters_json(a, f, page, per_page));
    set(out, "facets", facets);
    set(out, "sorts", sorts);
    arena_free(a);
    return out;
fail:
    log_error("catalog: listing failed");
    json_decref(sizes); json_decref(brands); json_decref(colours); json_decref(genders);
    arena_free(a);
    return NULL;
}

/* ---- categories ---- */

static json_t *category_node(const repo_category *all, int n, int idx, int depth)
{
    char url[200];
    snprintf(url, sizeof url, "/category/%s", all[idx].slug);
    json_t *children = json_array();
    if (depth < 16)
        for (int i = 0; i < n; i++)
            if (all[i].parent_id == all[idx].id)
                json_array_append_new(children, category_node(all, n, i, depth + 1));
    return json_pack("{s:I, s:o, s:o, s:o, s:o}", "id", (json_int_t)all[idx].id, "slug", js(all[idx].slug), "name",
                     js(all[idx].name), "url", js(url), "children", children);
}

static json_t *tree_json(const repo_category *all, int n)
{
    json_t *tree = json_array();
    for (int i = 0; i < n; i++)
        if (all[i].parent_id == 0) json_array_append_new(tree, category_node(all, n, i, 0));
    return tree;
}

static int category_index(const repo_category *all, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (all[i].id == id) return i;
    return -1;
}

/* Home, then the ancestors of category idx, then (with include_self) idx. */
static json_t *breadcrumbs_json(const repo_category *all, int n, int idx, bool include_self)
{
    int chain[17], depth = 0;
    for (int i = include_self ? idx : (idx >= 0 ? category_index(all, n, all[idx].parent_id) : -1);
         i >= 0 && depth < 17; i = category_index(all, n, all[i].parent_id))
        chain[depth++] = i;
    json_t *crumbs = json_array();
    json_array_append_new(crumbs, json_pack("{s:s, s:s}", "name", "Home", "url", "/"));
    for (int k = depth - 1; k >= 0; k--) {
        char url[200];
        snprintf(url, sizeof url, "/category/%s", all[chain[k]].slug);
        json_array_append_new(crumbs, json_pack("{s:o, s:o}", "name", js(all[chain[k]].name), "url", js(url)));
    }
    return crumbs;
}

json_t *catalog_category_tree(void)
{
    arena *a = arena_new();
    repo_category *all;
    int n;
    json_t *tree = NULL;
    if (repo_categories(a, &all, &n) == 0) tree = tree_json(all, n);
    else log_error("catalog: category tree failed");
    arena_free(a);
    return tree;
}

json_t *catalog_category(const char *slug, bool *not_found)
{
    *not_found = false;
    arena *a = arena_new();
    repo_category *all;
    int n;
    json_t *out = NULL;
    if (repo_categories(a, &all, &n) < 0) {
        log_error("catalog: category lookup failed");
    } else {
        int idx = -1;
        for (int i = 0; slug && i < n; i++)
            if (!strcmp(all[i].slug, slug)) idx = i;
        if (idx < 0) {
            *not_found = true;
        } else {
            json_t *node = category_node(all, n, idx, 0);
            set(node, "breadcrumbs", breadcrumbs_json(all, n, idx, false));
            int parent = category_index(all, n, all[idx].parent_id);
            if (parent >= 0) {
                char url[200];
                snprintf(url, sizeof url, "/category/%s", all[parent].slug);
                set(node, "parent", json_pack("{s:o, s:o, s:o}", "slug", js(all[parent].slug), "name",
                                              js(all[parent].name), "url", js(url)));
            } else {
                set(node, "parent", json_null());
            }
            out = node;
        }
    }
    arena_free(a);
    return out;
}

json_t *catalog_home(void)
{
    arena *a = arena_new();
    repo_card *featured, *newest;
    repo_category *cats;
    int nf, nn, nc;
    json_t *out = NULL;
    if (repo_home_cards(a, HOME_FEATURED, HOME_CARDS, &featured, &nf) == 0 &&
        repo_home_cards(a, HOME_NEWEST, HOME_CARDS, &newest, &nn) == 0 && repo_categories(a, &cats, &nc) == 0)
        out = json_pack("{s:o, s:o, s:o}", "featured", cards_json(featured, nf), "new_arrivals", cards_json(newest, nn),
                        "categories", tree_json(cats, nc));
    else
        log_error("catalog: home page failed");
    arena_free(a);
    return out;
}

/* ---- product page ---- */

static void fmt_num(double v, char *out, size_t outlen)
{
    if (fabs(v - round(v)) < 0.05) snprintf(out, outlen, "%d", (int)round(v));
    else snprintf(out, outlen, "%.1f", v);
}

/* UK sizes of the product → EU / US / foot length. UK and EU sizes come
 * from the last length in thirds of an inch (UK n = n + 25 barleycorns;
 * EU = Paris points of 2/3 cm), US adds 1 (men, kids) or 2 (women), and
 * the foot is about 1 cm shorter than the last. */
static json_t *size_guide_json(const repo_variant *v, int n, const char *gender)
{
    double sizes[64];
    int ns = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(v[i].size_system, "UK") != 0) continue;
        bool seen = false;
        for (int k = 0; k < ns; k++) seen = seen || sizes[k] == v[i].size_value;
        if (!seen && ns < 64) {
            int k = ns++;
            while (k > 0 && sizes[k - 1] > v[i].size_value) { sizes[k] = sizes[k - 1]; k--; }
            sizes[k] = v[i].size_value;
        }
    }
    json_t *guide = json_array();
    for (int k = 0; k < ns; k++) {
        double uk = sizes[k];
        double eu = round((uk + 25.0) * 1.27 * 2.0) / 2.0;
        double us = uk + (!strcmp(gender, "women") ? 2.0 : 1.0);
        double cm = round(((uk + 25.0) * 2.54 / 3.0 - 1.0) * 10.0) / 10.0;
        char a[16], b[16], c[16], d[16];
        fmt_num(uk, a, sizeof a);
        fmt_num(eu, b, sizeof b);
        fmt_num(us, c, sizeof c);
        snprintf(d, sizeof d, "%.1f", cm);
        json_array_append_new(guide, json_pack("{s:s, s:s, s:s, s:s}", "uk", a, "eu", b, "us", c, "cm", d));
    }
    return guide;
}

static json_t *options_json(const repo_variant *v, int n)
{
    json_t *options = json_array(), *sizes = NULL;
    int64_t colour = -1;
    for (int i = 0; i < n; i++) {
        if (v[i].colour_id != colour) {
            colour = v[i].colour_id;
            sizes = json_array();
            json_array_append_new(options, json_pack("{s:{s:o, s:o, s:o}, s:o}", "colour", "name", js(v[i].colour_name),
                                                     "slug", js(v[i].colour_slug), "hex", js(v[i].colour_hex),
                                                     "sizes", sizes));
        }
        bool sold_out, low;
        char stock_label[48], label[32];
        catalog_stock_label(v[i].stock, &sold_out, &low, stock_label, sizeof stock_label);
        if (!catalog_size_label(v[i].size_key, label, sizeof label)) snprintf(label, sizeof label, "%s", v[i].size_label);
        json_t *s = json_object();
        set(s, "variant_id", json_integer(v[i].id));
        set(s, "sku", js(v[i].sku));
        set(s, "label", js(label));
        set(s, "system", js(v[i].size_system));
        set(s, "value", js(v[i].size_key));
        set(s, "width", js(v[i].width));
        set(s, "width_label", js(strcmp(v[i].width, "Standard") ? v[i].width : ""));
        set(s, "stock", json_integer(v[i].stock));
        set(s, "sold_out", json_boolean(sold_out));
        set(s, "low_stock", json_boolean(low));
        set(s, "stock_label", js(stock_label));
        json_array_append_new(sizes, s);
    }
    return options;
}

/* "2025-05-03T10:00:00Z" → "3 May 2025" */
static void display_date(const char *iso, char *out, size_t outlen)
{
    static const char *const months[] = {"January", "February", "March", "April", "May", "June", "July",
                                         "August", "September", "October", "November", "December"};
    int y, m, d;
    if (sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) == 3 && m >= 1 && m <= 12) snprintf(out, outlen, "%d %s %d", d, months[m - 1], y);
    else snprintf(out, outlen, "%s", iso);
}

json_t *catalog_product(const char *slug, bool *not_found)
{
    *not_found = false;
    if (!slug || !*slug || strlen(slug) > MAX_SLUG_BYTES || !text_valid_utf8(slug, strlen(slug))) {
        *not_found = true;
        return NULL;
    }
    arena *a = arena_new();
    repo_product p;
    repo_variant *variants;
    repo_image *images;
    repo_review *reviews;
    repo_category *cats;
    int nv, ni, nr, nc;
    json_t *out = NULL;
    int r = repo_product_by_slug(a, slug, &p);
    if (r == 0) {
        *not_found = true;
        arena_free(a);
        return NULL;
    }
    if (r < 0 || repo_product_variants(a, p.card.id, &variants, &nv) < 0 ||
        repo_product_images(a, p.card.id, &images, &ni) < 0 ||
        repo_product_reviews(a, p.card.id, PRODUCT_REVIEWS, &reviews, &nr) < 0 || repo_categories(a, &cats, &nc) < 0) {
        log_error("catalog: product %s failed", slug);
        arena_free(a);
        return NULL;
    }
    out = card_json(&p.card);
    set(out, "description", js(p.description));
    set(out, "material", js(p.material));
    set(out, "gender", js(p.gender));
    json_t *tags = json_array();
    char *t = arena_strdup(a, p.tags), *save = NULL;
    for (char *tok = strtok_r(t, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (is_space(*tok)) tok++;
        size_t l = strlen(tok);
        while (l && is_space(tok[l - 1])) tok[--l] = '\0';
        if (l) json_array_append_new(tags, js(tok));
    }
    set(out, "tags", tags);
    int ci = category_index(cats, nc, p.category_id);
    if (ci >= 0) {
        char url[200];
        snprintf(url, sizeof url, "/category/%s", cats[ci].slug);
        set(out, "category", json_pack("{s:I, s:o, s:o, s:o}", "id", (json_int_t)cats[ci].id, "slug", js(cats[ci].slug),
                                       "name", js(cats[ci].name), "url", js(url)));
    } else {
        set(out, "category", json_null());
    }
    set(out, "breadcrumbs", breadcrumbs_json(cats, nc, ci, true));
    json_t *imgs = json_array();
    for (int i = 0; i < ni; i++)
        json_array_append_new(imgs, json_pack("{s:o, s:o}", "url", js(images[i].url), "alt",
                                              js(*images[i].alt ? images[i].alt : p.card.name)));
    set(out, "images", imgs);
    set(out, "options", options_json(variants, nv));
    json_t *revs = json_array();
    for (int i = 0; i < nr; i++) {
        char date[48];
        display_date(reviews[i].created_at, date, sizeof date);
        json_t *rv = json_object();
        set(rv, "id", json_integer(reviews[i].id));
        set(rv, "rating", json_integer(reviews[i].rating));
        set(rv, "stars", stars_json((double)reviews[i].rating));
        set(rv, "title", js(reviews[i].title));
        set(rv, "body", js(reviews[i].body));
        set(rv, "author", js(reviews[i].author));
        set(rv, "verified", json_boolean(reviews[i].verified));
        set(rv, "created_at", js(reviews[i].created_at));
        set(rv, "date", js(date));
        json_array_append_new(revs, rv);
    }
    set(out, "reviews", revs);
    set(out, "size_guide", size_guide_json(variants, nv, p.gender));
    set(out, "created_at", js(p.created_at));
    arena_free(a);
    return out;
}
