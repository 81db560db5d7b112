/* catalog.c — see catalog.h: filter parsing, money, labels, view models.
 * The store-owner writes are in catalog_admin.c; the SQL in
 * db/catalog_repo.c. */
#include "shop/catalog.h"

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "db/catalog_repo.h"
#include "shop/money.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOW_STOCK_MAX 3        /* 1..3 left → "Only N left" */
#define MAX_VALUE_BYTES 64     /* a slug or size value longer than this cannot exist */
#define MAX_SLUG_BYTES 120
#define HOME_CARDS 8
#define PRODUCT_REVIEWS 50

/* ------------------------------------------------------------------ */
/* Money (the rules are in money.c)                                     */

json_t *catalog_money_in(int64_t amount, const char *currency)
{
    if (!money_currency_valid(currency))
        currency = money_currency_valid(cfg.currency) ? cfg.currency : "GBP";
    money m = money_make(amount, currency);
    char display[MONEY_FORMAT_MAX];
    size_t n = money_format(m, display, sizeof display);
    /* built directly rather than with json_pack: a listing makes dozens */
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "amount", json_integer((json_int_t)amount));
    json_object_set_new_nocheck(o, "currency", json_string(m.currency));
    json_object_set_new_nocheck(o, "display", json_stringn(display, n));
    return o;
}

json_t *catalog_money(int64_t amount) { return catalog_money_in(amount, cfg.currency); }

static bool is_space(char c) { return c == ' ' || c == '\t'; }

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
/* A renamed product's old address                                      */

/* Could old_slug be a slug at all? Junk URLs cost no query. */
static bool slug_shaped(const char *old_slug, size_t max)
{
    if (!old_slug || !*old_slug || strlen(old_slug) > max) return false;
    for (const char *p = old_slug; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

int catalog_redirect_slug(const char *old_slug, char *to, size_t tolen)
{
    return slug_shaped(old_slug, 120) ? repo_slug_redirect(old_slug, to, tolen) : 0;
}

int catalog_redirect_category_slug(const char *old_slug, char *to, size_t tolen)
{
    return slug_shaped(old_slug, 80) ? repo_category_slug_redirect(old_slug, to, tolen) : 0;
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
        if (!money_parse_major(v, prices[i]))
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

/* Keys are constant ASCII here: the _nocheck setter skips validating them. */
static void set(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new_nocheck(obj, key, value ? value : json_null());
}

static json_t *stars_json(double average)
{
    char stars[32];
    catalog_stars(average, stars, sizeof stars);
    return js(stars);
}

static json_t *colour_json(const char *name, const char *hex, const char *slug)
{
    json_t *o = json_object();
    set(o, "name", js(name));
    set(o, "hex", js(hex));
    set(o, "slug", js(slug));
    return o;
}

/* "name\x1fhex\x1fslug" records joined by \x1e → [{"name","hex","slug"}] */
static json_t *colour_records_json(const char *p)
{
    json_t *colours = json_array();
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
    return colours;
}

/* A product card; `colours` (stolen) is its swatch list. */
static json_t *card_json_with(const repo_card *c, json_t *colours)
{
    json_t *o = json_object();
    set(o, "id", json_integer(c->id));
    set(o, "slug", js(c->slug));
    set(o, "name", js(c->name));
    json_t *brand = json_object();
    set(brand, "slug", js(c->brand_slug));
    set(brand, "name", js(c->brand_name));
    set(o, "brand", brand);
    set(o, "price", catalog_money_in(c->price, c->currency));
    bool on_sale = c->compare_at > c->price;
    set(o, "compare_at", on_sale ? catalog_money_in(c->compare_at, c->currency) : json_null());
    set(o, "on_sale", json_boolean(on_sale));
    json_t *image = json_object();
    set(image, "url", js(c->image_url));
    set(image, "alt", js(*c->image_alt ? c->image_alt : c->name));
    set(o, "image", image);
    json_t *rating = json_object();
    set(rating, "average", json_real(round(c->rating_avg * 10.0) / 10.0));
    set(rating, "count", json_integer((json_int_t)c->rating_count));
    set(rating, "stars", stars_json(c->rating_avg));
    set(o, "rating", rating);
    set(o, "colours", colours);
    set(o, "in_stock", json_boolean(c->in_stock));
    char url[256];
    snprintf(url, sizeof url, "/products/%s", c->slug);
    set(o, "url", js(url));
    return o;
}

static json_t *card_json(const repo_card *c) { return card_json_with(c, colour_records_json(c->colours)); }

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
    json_t *o = json_object();
    set(o, "value", js(value));
    set(o, "label", js(label));
    set(o, "count", json_integer((json_int_t)count));
    set(o, "selected", json_boolean(selected));
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

static void query_append(buf *b, const char *key, const char *value)
{
    if (!value || !*value) return;
    if (b->len) buf_putc(b, '&');
    buf_puts(b, key);
    buf_putc(b, '=');
    buf_append_percent(b, value, ",");
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

/* ------------------------------------------------------------------ */
/* Reference data: categories, brands, colours                          */

/* The category tree, the brands and the colours change only together with
 * the version of the page-cache tag "global" (bumped after every committed
 * change to them, page_cache.h; a stock or price change does not). A
 * caller that has read that version — a page handler after its page-cache
 * miss (cached_page.refs_version) — passes it in, and each
 * worker thread then reads these tables once per version instead of once
 * per page. The version is read before the tables are, so a copy can only
 * be newer than its version, never older; and one is never trusted for
 * more than REFS_MAX_AGE_SECONDS (should Redis lose the counter and count
 * up through a number again). Version < 0 (unknown, or Redis down): read
 * every time. Listing and product rows are never cached here. */
#define REFS_MAX_AGE_SECONDS 10

typedef struct id_index {
    int64_t id;
    int idx;
} id_index;

typedef struct catalog_refs {
    arena *a;
    int64_t version;            /* -1: not to be reused */
    int64_t fetched_at;         /* CLOCK_MONOTONIC seconds */
    repo_category *cats;
    int ncats;
    bool have_facets;           /* brands and colours read too */
    repo_brand *brands;         /* by (name, id) */
    repo_colour *colours;       /* by (position, id) */
    int nbrands, ncolours;
    id_index *brand_ids, *colour_ids; /* sorted by id, for lookups */
    json_t *tree;               /* tree_json(cats), built when first asked for */
    json_t *category_nodes;     /* slug -> catalog_category_shared's node, each built when first asked for */
} catalog_refs;

static __thread catalog_refs refs_slot;

static int64_t mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static int cmp_id_index(const void *x, const void *y)
{
    int64_t a = ((const id_index *)x)->id, b = ((const id_index *)y)->id;
    return a < b ? -1 : a > b;
}

static id_index *index_ids(arena *a, const int64_t *ids, size_t stride, int n)
{
    id_index *ix = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *ix);
    for (int i = 0; i < n; i++) {
        ix[i].id = *(const int64_t *)((const char *)ids + (size_t)i * stride);
        ix[i].idx = i;
    }
    if (n > 1) qsort(ix, (size_t)n, sizeof *ix, cmp_id_index);
    return ix;
}

static int find_id(const id_index *ix, int n, int64_t id)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (ix[mid].id == id) return ix[mid].idx;
        if (ix[mid].id < id) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static int refs_read_facets(catalog_refs *r)
{
    if (repo_brands(r->a, &r->brands, &r->nbrands) < 0 || repo_colours(r->a, &r->colours, &r->ncolours) < 0)
        return -1;
    r->brand_ids = index_ids(r->a, r->nbrands ? &r->brands[0].id : NULL, sizeof *r->brands, r->nbrands);
    r->colour_ids = index_ids(r->a, r->ncolours ? &r->colours[0].id : NULL, sizeof *r->colours, r->ncolours);
    r->have_facets = true;
    return 0;
}

/* This thread's reference data for `version` (with brands and colours
 * when facets is set), read if needed. NULL on a store error (logged).
 * Valid until the next call on this thread. */
static const catalog_refs *refs_get(int64_t version, bool facets)
{
    catalog_refs *r = &refs_slot;
    int64_t now = mono_seconds();
    if (version >= 0 && r->a && r->version == version && now - r->fetched_at < REFS_MAX_AGE_SECONDS) {
        if (facets && !r->have_facets && refs_read_facets(r) < 0) {
            log_error("catalog: reading brands and colours failed");
            return NULL;
        }
        return r;
    }
    catalog_refs fresh = {.a = arena_new(), .version = version, .fetched_at = now};
    if (repo_categories(fresh.a, &fresh.cats, &fresh.ncats) < 0 || (facets && refs_read_facets(&fresh) < 0)) {
        log_error("catalog: reading the category tree, brands or colours failed");
        arena_free(fresh.a);
        return NULL;
    }
    if (r->a) arena_free(r->a);
    json_decref(r->tree);
    json_decref(r->category_nodes);
    *r = fresh;
    return r;
}

/* Reference data read just now, for a caller whose copy lacked a row it
 * needs (a brand, colour or category newer than the version it was read
 * for: committed, but the version not bumped yet). */
static const catalog_refs *refs_reread(bool facets) { return refs_get(-1, facets); }

/* ------------------------------------------------------------------ */
/* Listing                                                              */

/* Facets are counted here from the listing's candidate rows (repo_listing:
 * one statement). Each facet counts the products that pass every filter
 * but its own, as the per-facet GROUP BY queries did; the order of each
 * facet is theirs too (sizes by system then number, brands by name, colours
 * by position, genders in the column's ENUM order). */

/* A size facet bucket: a size_key and how many candidates have it in stock. */
typedef struct size_bucket {
    const char *key;
    size_t len;
    int64_t count;
    int system;       /* ENUM('UK','EU','US') index; unknown last */
    double value;
} size_bucket;

typedef struct size_table {
    size_bucket *b;
    int *slots;       /* open addressing: index into b, -1 empty */
    int n, cap, nslots;
    arena *a;
} size_table;

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void size_table_grow(size_table *t)
{
    int nslots = t->nslots ? t->nslots * 2 : 128;
    int *slots = arena_alloc(t->a, (size_t)nslots * sizeof *slots);
    for (int i = 0; i < nslots; i++) slots[i] = -1;
    for (int i = 0; i < t->n; i++) {
        size_t s = (size_t)(hash_bytes(t->b[i].key, t->b[i].len) & (uint64_t)(nslots - 1));
        while (slots[s] >= 0) s = (s + 1) & (size_t)(nslots - 1);
        slots[s] = i;
    }
    t->slots = slots;
    t->nslots = nslots;
}

static void size_table_add(size_table *t, const char *key, size_t len)
{
    if ((t->n + 1) * 2 > t->nslots) size_table_grow(t);
    size_t s = (size_t)(hash_bytes(key, len) & (uint64_t)(t->nslots - 1));
    for (; t->slots[s] >= 0; s = (s + 1) & (size_t)(t->nslots - 1)) {
        size_bucket *b = &t->b[t->slots[s]];
        if (b->len == len && memcmp(b->key, key, len) == 0) {
            b->count++;
            return;
        }
    }
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 64;
        size_bucket *nb = arena_alloc(t->a, (size_t)cap * sizeof *nb);
        if (t->n) memcpy(nb, t->b, (size_t)t->n * sizeof *nb);
        t->b = nb;
        t->cap = cap;
    }
    size_bucket *b = &t->b[t->n];
    b->key = key;
    b->len = len;
    b->count = 1;
    /* "uk-9.5": the system prefix and the number, as size_key is made of them */
    static const char *const systems[] = {"uk", "eu", "us"};
    b->system = 3;
    const char *dash = memchr(key, '-', len);
    if (dash)
        for (int k = 0; k < 3; k++)
            if ((size_t)(dash - key) == strlen(systems[k]) && !memcmp(key, systems[k], (size_t)(dash - key))) b->system = k;
    b->value = dash ? strtod(dash + 1, NULL) : 0;
    t->slots[s] = t->n++;
}

static int cmp_size_bucket(const void *x, const void *y)
{
    const size_bucket *a = x, *b = y;
    if (a->system != b->system) return a->system - b->system;
    if (a->value != b->value) return a->value < b->value ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->key, b->key, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Sort orders, exactly those of the SQL they replace (catalog_repo.c):
 * every one ends with the id, so the order is total. */
#define DESC(x, y) do { if ((x) != (y)) return (x) > (y) ? -1 : 1; } while (0)
#define ASC(x, y) do { if ((x) != (y)) return (x) < (y) ? -1 : 1; } while (0)
static int by_featured(const void *x, const void *y)
{
    const repo_listing_row *a = *(repo_listing_row *const *)x, *b = *(repo_listing_row *const *)y;
    DESC(a->featured, b->featured);
    DESC(a->popularity, b->popularity);
    DESC(a->id, b->id);
    return 0;
}
static int by_relevance(const void *x, const void *y)
{
    const repo_listing_row *a = *(repo_listing_row *const *)x, *b = *(repo_listing_row *const *)y;
    DESC(a->relevance, b->relevance);
    DESC(a->popularity, b->popularity);
    DESC(a->id, b->id);
    return 0;
}
static int by_newest(const void *x, const void *y)
{
    const repo_listing_row *a = *(repo_listing_row *const *)x, *b = *(repo_listing_row *const *)y;
    int c = strcmp(a->created_at, b->created_at);
    if (c) return -c;
    DESC(a->id, b->id);
    return 0;
}
static int by_price_asc(const void *x, const void *y)
{
    const repo_listing_row *a = *(repo_listing_row *const *)x, *b = *(repo_listing_row *const *)y;
    ASC(a->price, b->price);
    ASC(a->id, b->id);
    return 0;
}
static int by_price_desc(const void *x, const void *y)
{
    const repo_listing_row *a = *(repo_listing_row *const *)x, *b = *(repo_listing_row *const *)y;
    DESC(a->price, b->price);
    DESC(a->id, b->id);
    return 0;
}
static int by_rating(const void *x, const void *y)
{
    const repo_listing_row *a = *(repo_listing_row *const *)x, *b = *(repo_listing_row *const *)y;
    DESC(a->rating_hundredths, b->rating_hundredths);
    DESC(a->rating_count, b->rating_count);
    DESC(a->id, b->id);
    return 0;
}
static int by_popularity(const void *x, const void *y)
{
    const repo_listing_row *a = *(repo_listing_row *const *)x, *b = *(repo_listing_row *const *)y;
    DESC(a->popularity, b->popularity);
    DESC(a->id, b->id);
    return 0;
}
#undef DESC
#undef ASC

/* The next number of a list like "3,7,11": true with *id set and *p moved
 * past it. */
static bool next_id(const char **p, int64_t *id)
{
    const char *s = *p;
    if (!s || !*s) return false;
    char *e;
    *id = strtoll(s, &e, 10);
    if (e == s) return false;
    *p = *e == ',' ? e + 1 : e;
    return true;
}

/* A card from a listing row; brand and colours from the reference data. */
static json_t *listing_card_json(arena *a, const repo_listing_row *p, const catalog_refs *r)
{
    int bi = find_id(r->brand_ids, r->nbrands, p->brand_id);
    repo_card c = {
        .id = p->id, .slug = p->slug, .name = p->name,
        .brand_slug = bi >= 0 ? r->brands[bi].slug : "", .brand_name = bi >= 0 ? r->brands[bi].name : "",
        .price = p->price, .compare_at = p->compare_at, .rating_avg = p->rating_avg,
        .rating_count = p->rating_count, .image_url = p->image_url, .image_alt = p->image_alt,
        .in_stock = p->stock_sizes[0] != '\0',
    };
    memcpy(c.currency, p->currency, sizeof c.currency);
    /* swatches in colour order (position, id), as the colour facet */
    size_t max = 1;
    for (const char *s = p->colour_ids; *s; s++) max += *s == ',';
    int *idx = arena_alloc(a, max * sizeof *idx), n = 0;
    int64_t id;
    for (const char *s = p->colour_ids; next_id(&s, &id) && (size_t)n < max;) {
        int ci = find_id(r->colour_ids, r->ncolours, id);
        if (ci < 0) continue;
        int k = n++;
        while (k > 0 && idx[k - 1] > ci) { idx[k] = idx[k - 1]; k--; }
        idx[k] = ci;
    }
    json_t *colours = json_array();
    for (int k = 0; k < n; k++) {
        const repo_colour *co = &r->colours[idx[k]];
        json_array_append_new(colours, colour_json(co->name, co->hex, co->slug));
    }
    return card_json_with(&c, colours);
}

/* Does r have every brand and colour these rows name? */
static bool refs_cover(const catalog_refs *r, const repo_listing_row *rows, int n)
{
    for (int i = 0; i < n; i++) {
        if (find_id(r->brand_ids, r->nbrands, rows[i].brand_id) < 0) return false;
        int64_t id;
        for (const char *s = rows[i].colour_ids; next_id(&s, &id);)
            if (find_id(r->colour_ids, r->ncolours, id) < 0) return false;
    }
    return true;
}

/* The subtree of the category with this slug (the slug itself included),
 * breadth first, down to the depth the SQL walk stops at. 0 when the slug
 * is not a category of r, or the subtree is too big to bind: then SQL
 * resolves the slug itself. */
static int category_subtree(const catalog_refs *r, const char *slug, int64_t *ids, int max)
{
    int n = 0, depth_start = 0;
    for (int i = 0; i < r->ncats; i++)
        if (!strcmp(r->cats[i].slug, slug)) { ids[n++] = r->cats[i].id; break; }
    if (n == 0) return 0;
    for (int depth = 0; depth < 16 && depth_start < n; depth++) {
        int level_end = n;
        for (int k = depth_start; k < level_end; k++)
            for (int i = 0; i < r->ncats; i++) {
                if (r->cats[i].parent_id != ids[k]) continue;
                bool seen = false;
                for (int j = 0; j < n && !seen; j++) seen = ids[j] == r->cats[i].id;
                if (seen) continue;
                if (n == max) return 0;
                ids[n++] = r->cats[i].id;
            }
        depth_start = level_end;
    }
    return n;
}

/* One facet's selected values that no candidate has: listed with count 0
 * so the shopper can unselect them (names from the reference data, or the
 * store when the value is not spelt as stored). */
static int facet_absent_brands(arena *a, const catalog_refs *r, const catalog_filter *f, json_t *arr)
{
    for (int s = 0; s < f->nbrands; s++) {
        bool listed = false;
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) listed = listed || !strcmp(json_string_value(json_object_get(e, "value")), f->brands[s]);
        if (listed) continue;
        const char *name = NULL;
        for (int b = 0; b < r->nbrands && !name; b++)
            if (!strcmp(r->brands[b].slug, f->brands[s])) name = r->brands[b].name;
        if (!name && repo_brand_name(a, f->brands[s], &name) < 0) return -1;
        if (name) json_array_append_new(arr, facet_entry(f->brands[s], name, NULL, 0, true));
    }
    return 0;
}

static int facet_absent_colours(arena *a, const catalog_refs *r, const catalog_filter *f, json_t *arr)
{
    for (int s = 0; s < f->ncolours; s++) {
        bool listed = false;
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) listed = listed || !strcmp(json_string_value(json_object_get(e, "value")), f->colours[s]);
        if (listed) continue;
        const char *name = NULL, *hex = NULL;
        for (int c = 0; c < r->ncolours && !name; c++)
            if (!strcmp(r->colours[c].slug, f->colours[s])) { name = r->colours[c].name; hex = r->colours[c].hex; }
        if (!name && repo_colour_info(a, f->colours[s], &name, &hex) < 0) return -1;
        if (name) json_array_append_new(arr, facet_entry(f->colours[s], name, hex, 0, true));
    }
    return 0;
}

json_t *catalog_list_at(const catalog_filter *f, int64_t version)
{
    arena *a = arena_new();
    char terms[1024];
    repo_query q = {f, NULL};
    if (f->q && *f->q) {
        catalog_search_terms(f->q, terms, sizeof terms);
        q.terms = terms;
    }
    int per_page = f->per_page < 1 ? CATALOG_DEFAULT_PER_PAGE : f->per_page > CATALOG_MAX_PER_PAGE ? CATALOG_MAX_PER_PAGE : f->per_page;
    const catalog_refs *r = refs_get(version, true);
    if (!r) goto fail;
    int64_t cat_ids[REPO_CATEGORY_IDS_MAX];
    int ncat = f->category && *f->category ? category_subtree(r, f->category, cat_ids, REPO_CATEGORY_IDS_MAX) : 0;
    repo_listing_row *rows;
    int nrows;
    if (repo_listing(a, &q, cat_ids, ncat, &rows, &nrows) < 0) goto fail;
    if (!refs_cover(r, rows, nrows) && !(r = refs_reread(true))) goto fail;

    /* which filters each candidate passes; the counts */
    int64_t lo = f->price_min < 0 ? 0 : f->price_min, hi = f->price_max < 0 ? INT64_MAX : f->price_max;
    repo_listing_row **hits = arena_alloc(a, (size_t)(nrows ? nrows : 1) * sizeof *hits);
    int64_t *brand_counts = arena_alloc(a, (size_t)(r->nbrands + 1) * sizeof *brand_counts);
    int64_t *colour_counts = arena_alloc(a, (size_t)(r->ncolours + 1) * sizeof *colour_counts);
    int64_t gender_counts[4] = {0};
    static const char *const genders[] = {"men", "women", "kids", "unisex"};   /* the ENUM's order */
    size_table sizes_t = {.a = a};
    int64_t total = 0, pmin = 0, pmax = 0, pn = 0;
    for (int i = 0; i < nrows; i++) {
        repo_listing_row *p = &rows[i];
        bool ok[5] = {p->brand_ok, p->colour_ok, p->size_ok, p->gender_ok, p->price >= lo && p->price <= hi};
        int failed = 0, which = -1;
        for (int k = 0; k < 5; k++)
            if (!ok[k]) { failed++; which = k; }
        if (failed > 1) continue;          /* in no count at all */
        if (failed == 0) hits[total++] = p;
        if (failed == 0 || which == 0) {   /* brands: every filter but the brand */
            int bi = find_id(r->brand_ids, r->nbrands, p->brand_id);
            if (bi >= 0) brand_counts[bi]++;
        }
        if (failed == 0 || which == 1) {   /* colours: every filter but the colour */
            int64_t id;
            for (const char *s = p->colour_ids; next_id(&s, &id);) {
                int ci = find_id(r->colour_ids, r->ncolours, id);
                if (ci >= 0) colour_counts[ci]++;
            }
        }
        if (failed == 0 || which == 2) {   /* sizes in stock */
            for (const char *s = p->stock_sizes; *s;) {
                const char *e = strchr(s, ',');
                size_t len = e ? (size_t)(e - s) : strlen(s);
                if (len) size_table_add(&sizes_t, s, len);
                s = e ? e + 1 : s + len;
            }
        }
        if (failed == 0 || which == 3)
            for (int g = 0; g < 4; g++)
                if (!strcmp(p->gender, genders[g])) gender_counts[g]++;
        if (failed == 0 || which == 4) {   /* the price range, without the price filter */
            if (pn == 0 || p->price < pmin) pmin = p->price;
            if (pn == 0 || p->price > pmax) pmax = p->price;
            pn++;
        }
    }

    /* the page */
    int pages;
    int page = catalog_clamp_page(f->page, total, per_page, &pages);
    enum catalog_sort sort = f->sort;
    int (*cmp)(const void *, const void *) =
        sort == SORT_NEWEST ? by_newest : sort == SORT_PRICE_ASC ? by_price_asc : sort == SORT_PRICE_DESC ? by_price_desc
        : sort == SORT_RATING ? by_rating : sort == SORT_POPULAR ? by_popularity
        : q.terms && *q.terms ? by_relevance : by_featured;
    if (total > 1) qsort(hits, (size_t)total, sizeof *hits, cmp);
    json_t *products = json_array();
    for (int64_t i = (int64_t)(page - 1) * per_page; i < total && i < (int64_t)page * per_page; i++)
        json_array_append_new(products, listing_card_json(a, hits[i], r));

    /* the facets */
    const catalog_filter *ff = f;
    json_t *sizes = json_array(), *brands = json_array(), *colours = json_array(), *gens = json_array();
    if (sizes_t.n > 1) qsort(sizes_t.b, (size_t)sizes_t.n, sizeof *sizes_t.b, cmp_size_bucket);
    for (int i = 0; i < sizes_t.n; i++) {
        char key[64], label[32];
        snprintf(key, sizeof key, "%.*s", (int)sizes_t.b[i].len, sizes_t.b[i].key);
        catalog_size_label(key, label, sizeof label);
        json_array_append_new(sizes, facet_entry(key, label, NULL, sizes_t.b[i].count, in_list(ff->sizes, ff->nsizes, key)));
    }
    for (int s = 0; s < ff->nsizes; s++) {
        bool found = false;
        for (int i = 0; i < sizes_t.n && !found; i++)
            found = sizes_t.b[i].len == strlen(ff->sizes[s]) && !memcmp(sizes_t.b[i].key, ff->sizes[s], sizes_t.b[i].len);
        char label[32];
        if (!found && catalog_size_label(ff->sizes[s], label, sizeof label))
            json_array_append_new(sizes, facet_entry(ff->sizes[s], label, NULL, 0, true));
    }
    for (int b = 0; b < r->nbrands; b++)
        if (brand_counts[b] > 0)
            json_array_append_new(brands, facet_entry(r->brands[b].slug, r->brands[b].name, NULL, brand_counts[b],
                                                      in_list(ff->brands, ff->nbrands, r->brands[b].slug)));
    for (int c = 0; c < r->ncolours; c++)
        if (colour_counts[c] > 0)
            json_array_append_new(colours, facet_entry(r->colours[c].slug, r->colours[c].name, r->colours[c].hex,
                                                       colour_counts[c], in_list(ff->colours, ff->ncolours, r->colours[c].slug)));
    const char *const *gsel = &ff->gender;
    int ngsel = ff->gender ? 1 : 0;
    for (int g = 0; g < 4; g++)
        if (gender_counts[g] > 0)
            json_array_append_new(gens, facet_entry(genders[g], gender_label(genders[g]), NULL, gender_counts[g],
                                                    in_list(gsel, ngsel, genders[g])));
    if (ff->gender) {
        bool found = false;
        for (int g = 0; g < 4; g++) found = found || (gender_counts[g] > 0 && !strcmp(genders[g], ff->gender));
        const char *label = gender_label(ff->gender);
        if (!found && label) json_array_append_new(gens, facet_entry(ff->gender, label, NULL, 0, true));
    }
    if (facet_absent_brands(a, r, ff, brands) < 0 || facet_absent_colours(a, r, ff, colours) < 0) {
        json_decref(products); json_decref(sizes); json_decref(brands); json_decref(colours); json_decref(gens);
        goto fail;
    }

    const char *currency = cfg.currency;
    json_t *facets = json_object();
    set(facets, "sizes", sizes);
    set(facets, "brands", brands);
    set(facets, "colours", colours);
    set(facets, "genders", gens);
    json_t *price = json_object();
    set(price, "min", catalog_money_in(pmin, currency));
    set(price, "max", catalog_money_in(pmax, currency));
    set(facets, "price", price);
    json_t *sorts = json_array();
    for (int s = SORT_RELEVANCE; s <= SORT_POPULAR; s++) {
        json_t *o = json_object();
        set(o, "value", json_string(catalog_sort_name((enum catalog_sort)s)));
        set(o, "label", json_string(sort_label((enum catalog_sort)s, q.terms != NULL)));
        set(o, "selected", json_boolean(s == (int)f->sort));
        json_array_append_new(sorts, o);
    }
    json_t *out = json_object();
    set(out, "products", products);
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
    arena_free(a);
    return NULL;
}

json_t *catalog_list(const catalog_filter *f) { return catalog_list_at(f, -1); }

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

json_t *catalog_category_tree_at(int64_t version)
{
    const catalog_refs *r = refs_get(version, false);
    if (!r) {
        log_error("catalog: category tree failed");
        return NULL;
    }
    return tree_json(r->cats, r->ncats);
}

json_t *catalog_category_tree(void) { return catalog_category_tree_at(-1); }

json_t *catalog_category_tree_shared(int64_t version)
{
    catalog_refs *r = (catalog_refs *)refs_get(version, false);
    if (!r) {
        log_error("catalog: category tree failed");
        return NULL;
    }
    if (!r->tree) r->tree = tree_json(r->cats, r->ncats);
    return json_incref(r->tree);
}

/* The node catalog_category_shared answers with, built from r. */
static json_t *category_json(const catalog_refs *r, const char *slug, bool *not_found)
{
    const repo_category *all = r->cats;
    int n = r->ncats;
    int idx = -1;
    for (int i = 0; slug && i < n; i++)
        if (!strcmp(all[i].slug, slug)) idx = i;
    if (idx < 0) {
        *not_found = true;
        return NULL;
    }
    json_t *node = category_node(all, n, idx, 0);
    set(node, "breadcrumbs", breadcrumbs_json(all, n, idx, false));
    int parent = category_index(all, n, all[idx].parent_id);
    if (parent >= 0) {
        char url[200];
        snprintf(url, sizeof url, "/category/%s", all[parent].slug);
        set(node, "parent", json_pack("{s:o, s:o, s:o}", "slug", js(all[parent].slug), "name", js(all[parent].name),
                                      "url", js(url)));
    } else {
        set(node, "parent", json_null());
    }
    return node;
}

json_t *catalog_category_shared(const char *slug, int64_t version, bool *not_found)
{
    *not_found = false;
    catalog_refs *r = (catalog_refs *)refs_get(version, false);
    if (!r) {
        log_error("catalog: category lookup failed");
        return NULL;
    }
    json_t *node = r->category_nodes && slug ? json_object_get(r->category_nodes, slug) : NULL;
    if (node) return json_incref(node);
    if (!(node = category_json(r, slug, not_found))) return NULL;
    /* only slugs that are categories get here: the map stays as small as the tree */
    if (!r->category_nodes) r->category_nodes = json_object();
    json_object_set(r->category_nodes, slug, node);
    return node;
}

json_t *catalog_home_at(int64_t version)
{
    arena *a = arena_new();
    repo_card *featured, *newest;
    int nf, nn;
    json_t *out = NULL;
    const catalog_refs *r;
    if (repo_home_cards(a, HOME_FEATURED, HOME_CARDS, &featured, &nf) == 0 &&
        repo_home_cards(a, HOME_NEWEST, HOME_CARDS, &newest, &nn) == 0 && (r = refs_get(version, false)))
        out = json_pack("{s:o, s:o, s:o}", "featured", cards_json(featured, nf), "new_arrivals", cards_json(newest, nn),
                        "categories", tree_json(r->cats, r->ncats));
    else
        log_error("catalog: home page failed");
    arena_free(a);
    return out;
}

json_t *catalog_home(void) { return catalog_home_at(-1); }

json_t *catalog_cards_by_slugs(const char *const *slugs, int n)
{
    arena *a = arena_new();
    repo_card *cards;
    int nc;
    json_t *out = NULL;
    if (repo_cards_by_slugs(a, slugs, n, &cards, &nc) == 0) {
        out = json_array();
        /* in the order asked for (most recent first), skipping gone ones */
        for (int i = 0; i < n; i++)
            for (int k = 0; k < nc; k++)
                if (!strcmp(cards[k].slug, slugs[i])) {
                    json_array_append_new(out, card_json(&cards[k]));
                    break;
                }
    }
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

/* The card's swatches: the colours of the variants, which come ordered by
 * colour (position, id), each once. */
static json_t *variant_colours_json(const repo_variant *v, int n)
{
    json_t *colours = json_array();
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int k = 0; k < i && !seen; k++) seen = v[k].colour_id == v[i].colour_id;
        if (!seen) json_array_append_new(colours, colour_json(v[i].colour_name, v[i].colour_hex, v[i].colour_slug));
    }
    return colours;
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

json_t *catalog_product_at(const char *slug, int64_t version, bool *not_found)
{
    *not_found = false;
    if (!slug || !*slug || strlen(slug) > MAX_SLUG_BYTES || !text_valid_utf8(slug, strlen(slug))) {
        *not_found = true;
        return NULL;
    }
    arena *a = arena_new();
    repo_product_page pp;
    const catalog_refs *r = NULL;
    int rc = repo_read_product_page(a, slug, PRODUCT_REVIEWS, &pp);
    if (rc == 0) {
        *not_found = true;
        arena_free(a);
        return NULL;
    }
    repo_product p = pp.product;
    const repo_variant *variants = pp.variants;
    const repo_image *images = pp.images;
    const repo_review *reviews = pp.reviews;
    int nv = pp.nvariants, ni = pp.nimages, nr = pp.nreviews;
    json_t *out = NULL;
    if (rc < 0 || !(r = refs_get(version, false)) ||
        (category_index(r->cats, r->ncats, p.category_id) < 0 && !(r = refs_reread(false)))) {
        log_error("catalog: product %s failed", slug);
        arena_free(a);
        return NULL;
    }
    const repo_category *cats = r->cats;
    int nc = r->ncats;
    bool in_stock = false;
    for (int i = 0; i < nv; i++) in_stock = in_stock || variants[i].stock > 0;
    p.card.in_stock = in_stock;
    out = card_json_with(&p.card, variant_colours_json(variants, nv));
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
        if (reviews[i].reply) {   /* the shop's answer, shown under the review */
            char replied[48];
            display_date(reviews[i].replied_at, replied, sizeof replied);
            set(rv, "reply", json_pack("{s:o, s:o, s:o}", "text", js(reviews[i].reply), "created_at",
                                       js(reviews[i].replied_at), "date", js(replied)));
        }
        json_array_append_new(revs, rv);
    }
    set(out, "reviews", revs);
    set(out, "size_guide", size_guide_json(variants, nv, p.gender));
    set(out, "created_at", js(p.created_at));
    arena_free(a);
    return out;
}

json_t *catalog_product(const char *slug, bool *not_found) { return catalog_product_at(slug, -1, not_found); }
