/* writer.c — see writer.h. */
#include "events/writer.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "db/catalog_repo.h"
#include "durable/durable.h"
#include "events/mongo.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCHES_PER_ROUND 10
#define LEASE_MS 10000
#define RECENT_MAX 20
#define FACTS_CACHE 256

/* KEYS: ev:q, ev:backlog. ARGV: the batch elements written. Removes each
 * one still there (a producer may have dropped it meanwhile) and lowers the
 * backlog count by its events. */
static durable_script commit_script = {.src =
    "local n = 0\n"
    "for i = 1, #ARGV do\n"
    "  if redis.call('LREM', KEYS[1], 1, ARGV[i]) > 0 then\n"
    "    local c = tonumber(string.match(ARGV[i], '^%x+ (%d+)')) or 0\n"
    "    redis.call('DECRBY', KEYS[2], c)\n"
    "    n = n + c\n"
    "  end\n"
    "end\n"
    "if tonumber(redis.call('GET', KEYS[2]) or '0') < 0 then redis.call('SET', KEYS[2], 0) end\n"
    "return n\n"};

/* ---------- small helpers ---------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2026-11-30T03:47:59.388Z" → ms since the epoch; 0 when malformed. */
static int64_t parse_iso_ms(const char *s)
{
    struct tm tm = {0};
    int ms = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                     &tm.tm_sec, &ms) != 7)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static void day_of(int64_t ms, char out[11])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* A MongoDB field name from outside text: no '.', no leading '$'. */
static void field_safe(const char *in, char *out, size_t outlen)
{
    size_t k = 0;
    for (; *in && k + 1 < outlen; in++) {
        char c = *in;
        if (c == '.' || c == '$' || (unsigned char)c < ' ') c = '_';
        out[k++] = c;
    }
    out[k] = '\0';
}

/* The value of name in a raw query string, decoded (NULL when absent). */
static char *query_param(const char *query, const char *name)
{
    if (!query) return NULL;
    size_t nl = strlen(name);
    for (const char *p = query; *p;) {
        const char *end = p + strcspn(p, "&");
        if ((size_t)(end - p) > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            size_t vl = (size_t)(end - p - nl - 1);
            char *out = malloc(vl + 1);
            long n = out ? text_percent_decode(p + nl + 1, vl, out, true) : -1;
            if (n < 0 || !text_valid_utf8(out, (size_t)n)) {
                free(out);
                return NULL;
            }
            out[n] = '\0';
            return out;
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

/* Normalised search text: trimmed, lower-case ASCII, single spaces, ≤ 80 bytes. */
static void normalise_query(const char *in, char *out, size_t outlen)
{
    size_t k = 0;
    bool space = false;
    for (; *in && k + 2 < outlen; in++) {
        unsigned char c = (unsigned char)*in;
        if (c == ' ' || c == '\t' || c == '+') {
            space = k > 0;
            continue;
        }
        if (space) out[k++] = ' ';
        space = false;
        out[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[k] = '\0';
    /* never cut a UTF-8 sequence in half */
    while (k && !text_valid_utf8(out, k)) out[--k] = '\0';
}

/* ---------- product facts (slug → brand, gender), cached ---------- */

struct facts {
    char slug[121], brand[81], gender[8];
    bool known;
};
static struct facts facts_cache[FACTS_CACHE];
static __thread bool offline;   /* events_batch_summary: no MariaDB lookups */

static const struct facts *product_facts(const char *slug)
{
    unsigned h = 5381;
    for (const char *p = slug; *p; p++) h = h * 33 + (unsigned char)*p;
    struct facts *f = &facts_cache[h % FACTS_CACHE];
    if (offline) return NULL;
    if (f->known && !strcmp(f->slug, slug)) return f;
    struct facts fresh = {0};
    text_copy(fresh.slug, sizeof fresh.slug, slug);
    if (repo_product_facts(slug, fresh.brand, sizeof fresh.brand, fresh.gender, sizeof fresh.gender) != 1) return NULL;
    fresh.known = true;
    *f = fresh;
    return f;
}

/* ---------- one round: what a set of batches adds up to ---------- */

struct round {
    bson_t **activity;        /* documents for activity_logs */
    int nactivity, capactivity;
    json_t *analytics;        /* "day|kind|item" → count */
    json_t *prefs;            /* visitor → {"sizes.x": n, "brands.y": n, "genders.z": n} */
    json_t *searches;         /* [{_id, visitor, q, at}] */
    json_t *views;            /* visitor → [slug, ...] oldest first */
    json_t *orders;           /* [{_id, order, kind, total, uid, at}] for order_activity */
};

static void round_init(struct round *r)
{
    memset(r, 0, sizeof *r);
    r->analytics = json_object();
    r->prefs = json_object();
    r->searches = json_array();
    r->views = json_object();
    r->orders = json_array();
}

static void round_free(struct round *r)
{
    for (int i = 0; i < r->nactivity; i++) bson_destroy(r->activity[i]);
    free(r->activity);
    json_decref(r->analytics);
    json_decref(r->prefs);
    json_decref(r->searches);
    json_decref(r->views);
    json_decref(r->orders);
}

static void count(json_t *obj, const char *key, json_int_t n)
{
    json_t *v = json_object_get(obj, key);
    json_object_set_new(obj, key, json_integer(json_integer_value(v) + n));
}

static void analytics_inc(struct round *r, int64_t ms, const char *kind, const char *item)
{
    char day[11], key[300];
    day_of(ms, day);
    snprintf(key, sizeof key, "%s|%s|%s", day, kind, item && *item ? item : "-");
    count(r->analytics, key, 1);
}

static void pref_inc(struct round *r, const char *visitor, const char *group, const char *value)
{
    if (!visitor || !value || !*value) return;
    json_t *p = json_object_get(r->prefs, visitor);
    if (!p) {
        p = json_object();
        json_object_set_new(r->prefs, visitor, p);
    }
    char safe[100], field[128];
    field_safe(value, safe, sizeof safe);
    snprintf(field, sizeof field, "%s.%s", group, safe);
    count(p, field, 1);
}

static void add_activity(struct round *r, json_t *line, int64_t ms)
{
    bson_t *doc = bson_new();
    const char *rid = json_string_value(json_object_get(line, "request_id"));
    if (!rid) {
        bson_destroy(doc);
        return;
    }
    BSON_APPEND_UTF8(doc, "_id", rid);
    BSON_APPEND_DATE_TIME(doc, "time", ms);
    static const char *const strs[] = {"method", "path", "query", "client", "vid", NULL};
    for (int i = 0; strs[i]; i++) {
        const char *v = json_string_value(json_object_get(line, strs[i]));
        if (v) BSON_APPEND_UTF8(doc, strs[i], v);
    }
    BSON_APPEND_INT32(doc, "status", (int32_t)json_integer_value(json_object_get(line, "status")));
    BSON_APPEND_DOUBLE(doc, "duration_ms", json_number_value(json_object_get(line, "duration_ms")));
    BSON_APPEND_INT64(doc, "bytes", json_integer_value(json_object_get(line, "bytes")));
    if (json_integer_value(json_object_get(line, "uid")) > 0)
        BSON_APPEND_INT64(doc, "uid", json_integer_value(json_object_get(line, "uid")));
    if (r->nactivity == r->capactivity) {
        r->capactivity = r->capactivity ? r->capactivity * 2 : 256;
        r->activity = realloc(r->activity, sizeof *r->activity * (size_t)r->capactivity);
        if (!r->activity) abort();
    }
    r->activity[r->nactivity++] = doc;
}

static void visitor_of(json_t *line, char *out, size_t outlen)
{
    json_int_t uid = json_integer_value(json_object_get(line, "uid"));
    const char *vid = json_string_value(json_object_get(line, "vid"));
    if (uid > 0) snprintf(out, outlen, "u:%lld", (long long)uid);
    else if (vid && text_is_lower_hex(vid, 32)) snprintf(out, outlen, "v:%s", vid);
    else out[0] = '\0';
}

/* A size as the listings' filter writes it ("uk-9", "eu-42.5"; the size
 * systems of variants.size_system): anything
 * else in a URL (made up, mistyped) makes no counter. */
static bool size_key_ok(const char *s)
{
    if (strncmp(s, "uk-", 3) && strncmp(s, "eu-", 3) && strncmp(s, "us-", 3)) return false;
    const char *p = s + 3;
    size_t digits = strspn(p, "0123456789");
    if (digits < 1 || digits > 3 || p[0] == '0') return false;
    p += digits;
    if (*p == '.') return p[1] >= '1' && p[1] <= '9' && p[2] == '\0';
    return *p == '\0';
}

/* What a request line means besides its log document. */
static void derive_request(struct round *r, json_t *line, int64_t ms)
{
    const char *method = json_string_value(json_object_get(line, "method"));
    const char *path = json_string_value(json_object_get(line, "path"));
    const char *query = json_string_value(json_object_get(line, "query"));
    json_int_t status = json_integer_value(json_object_get(line, "status"));
    if (!method || !path || strcmp(method, "GET") || (status != 200 && status != 304)) return;
    char visitor[64];
    visitor_of(line, visitor, sizeof visitor);
    const char *who = visitor[0] ? visitor : NULL;
    if (!strncmp(path, "/products/", 10) && path[10] && !strchr(path + 10, '/')) {
        const char *slug = path + 10;
        analytics_inc(r, ms, "product_view", slug);
        const struct facts *f = who ? product_facts(slug) : NULL;
        if (f) {
            pref_inc(r, who, "brands", f->brand);
            pref_inc(r, who, "genders", f->gender);
        }
        return;
    }
    bool listing = !strcmp(path, "/shoes") || !strcmp(path, "/search") || !strncmp(path, "/category/", 10);
    if (!listing) return;
    if (!strncmp(path, "/category/", 10)) {
        const char *slug = path + 10;
        analytics_inc(r, ms, "category_view", slug);
        if (!strcmp(slug, "men") || !strcmp(slug, "women") || !strcmp(slug, "kids")) pref_inc(r, who, "genders", slug);
    }
    if (!strcmp(path, "/search") && status == 200) {
        char *q = query_param(query, "q");
        char norm[96];
        normalise_query(q ? q : "", norm, sizeof norm);
        free(q);
        if (norm[0]) {
            analytics_inc(r, ms, "search", norm);
            if (who) {
                const char *rid = json_string_value(json_object_get(line, "request_id"));
                json_array_append_new(r->searches, json_pack("{s:s,s:s,s:s,s:I}", "_id", rid ? rid : "",
                                                             "visitor", who, "q", norm, "at", (json_int_t)ms));
            }
        }
    }
    /* sizes and brands a shopper filters by: the shopper's preferences;
     * and for the shop, every listing shown filtered by a size counts once
     * for that size (kind "size_filter": the demand the dashboard sets
     * against sold-out sizes) */
    for (const char *p = query; p && *p;) {
        const char *end = p + strcspn(p, "&");
        bool size = !strncmp(p, "size=", 5), brand = !strncmp(p, "brand=", 6);
        if (size || brand) {
            const char *v = p + (size ? 5 : 6);
            char value[64];
            size_t vl = (size_t)(end - v);
            if (vl > 0 && vl < sizeof value) {
                long n = text_percent_decode(v, vl, value, true);
                if (n > 0) {
                    value[n] = '\0';
                    /* a list "uk-8,uk-9" counts each */
                    char *save = NULL;
                    for (char *tok = strtok_r(value, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                        pref_inc(r, who, size ? "sizes" : "brands", tok);
                        if (size && size_key_ok(tok)) analytics_inc(r, ms, "size_filter", tok);
                    }
                }
            }
        }
        p = *end ? end + 1 : end;
    }
}

/* A domain event line {"event": kind, ...}. */
static void derive_event(struct round *r, json_t *line)
{
    const char *kind = json_string_value(json_object_get(line, "event"));
    int64_t ms = json_integer_value(json_object_get(line, "time_ms"));
    if (!ms) ms = now_ms();
    char visitor[64];
    visitor_of(line, visitor, sizeof visitor);
    const char *slug = json_string_value(json_object_get(line, "slug"));
    if (!strcmp(kind, "view")) {
        /* the visitor-bound product view (the page itself was counted from
         * its request line) */
        if (!visitor[0] || !slug || strlen(slug) > 120) return;
        json_t *list = json_object_get(r->views, visitor);
        if (!list) {
            list = json_array();
            json_object_set_new(r->views, visitor, list);
        }
        json_array_append_new(list, json_pack("{s:s,s:I}", "slug", slug, "at", (json_int_t)ms));
        return;
    }
    char safe[64];
    field_safe(kind, safe, sizeof safe);
    analytics_inc(r, ms, safe, slug);
    /* an order's life (placed, paid, shipped ...): one document per order
     * and kind, so a batch written twice is stored once */
    const char *number = json_string_value(json_object_get(line, "order"));
    if (number && strlen(number) == 12 && strspn(number, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 12) {
        json_t *doc = json_pack("{s:s++,s:s,s:s,s:I,s:I}", "_id", number, "|", safe, "order", number, "kind", safe,
                                "total", json_integer_value(json_object_get(line, "total")), "at", (json_int_t)ms);
        json_int_t uid = json_integer_value(json_object_get(line, "uid"));
        if (uid > 0) json_object_set_new(doc, "uid", json_integer(uid));
        if (doc) json_array_append_new(r->orders, doc);
    }
}

static void parse_batch(struct round *r, const char *element, size_t len)
{
    const char *nl = memchr(element, '\n', len);
    if (!nl) return;
    const char *p = nl + 1, *end = element + len;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        json_t *line = json_loadb(p, (size_t)(e - p), 0, NULL);
        if (json_is_object(line)) {
            if (json_is_string(json_object_get(line, "event"))) {
                derive_event(r, line);
            } else {
                int64_t ms = parse_iso_ms(json_string_value(json_object_get(line, "time")));
                if (!ms) ms = now_ms();
                add_activity(r, line, ms);
                derive_request(r, line, ms);
            }
        }
        json_decref(line);
        p = e + 1;
    }
}

json_t *events_batch_summary(const char *element, size_t len)
{
    struct round r;
    round_init(&r);
    offline = true;
    parse_batch(&r, element, len);
    offline = false;
    json_t *out = json_pack("{s:i,s:O,s:O,s:O,s:O,s:O}", "activity", r.nactivity, "analytics", r.analytics,
                            "preferences", r.prefs, "searches", r.searches, "views", r.views, "orders", r.orders);
    round_free(&r);
    return out;
}

/* ---------- writing ---------- */

/* A bulk write whose only errors are duplicate keys (a batch written
 * before) succeeded. */
static bool bulk_ok(bool executed, const bson_t *reply, const bson_error_t *err, char *why, size_t whylen)
{
    if (executed) return true;
    bson_iter_t it, arr;
    if (bson_iter_init_find(&it, reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr)) {
        bool only_dups = true, any = false;
        while (bson_iter_next(&arr)) {
            bson_iter_t e;
            any = true;
            if (!bson_iter_recurse(&arr, &e) || !bson_iter_find(&e, "code") || bson_iter_as_int64(&e) != 11000)
                only_dups = false;
        }
        if (any && only_dups && !bson_has_field(reply, "writeConcernErrors")) return true;
    }
    text_copy(why, whylen, err->message);
    return false;
}

static int write_activity(mongoc_client_t *cl, struct round *r, char *why, size_t whylen)
{
    if (!r->nactivity) return 0;
    mongoc_collection_t *coll = events_collection(cl, "activity_logs");
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &opts);
    bson_error_t err;
    for (int i = 0; i < r->nactivity; i++) mongoc_bulk_operation_insert_with_opts(bulk, r->activity[i], NULL, &err);
    bson_t reply;
    bool ok = bulk_ok(mongoc_bulk_operation_execute(bulk, &reply, &err) != 0, &reply, &err, why, whylen);
    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(bulk);
    bson_destroy(&opts);
    mongoc_collection_destroy(coll);
    return ok ? 0 : -1;
}

static int write_searches(mongoc_client_t *cl, struct round *r, char *why, size_t whylen)
{
    if (!json_array_size(r->searches)) return 0;
    mongoc_collection_t *coll = events_collection(cl, "search_history");
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &opts);
    bson_error_t err;
    size_t i;
    json_t *s;
    json_array_foreach(r->searches, i, s) {
        bson_t doc = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&doc, "_id", json_string_value(json_object_get(s, "_id")));
        BSON_APPEND_UTF8(&doc, "visitor", json_string_value(json_object_get(s, "visitor")));
        BSON_APPEND_UTF8(&doc, "q", json_string_value(json_object_get(s, "q")));
        BSON_APPEND_DATE_TIME(&doc, "at", json_integer_value(json_object_get(s, "at")));
        mongoc_bulk_operation_insert_with_opts(bulk, &doc, NULL, &err);
        bson_destroy(&doc);
    }
    bson_t reply;
    bool ok = bulk_ok(mongoc_bulk_operation_execute(bulk, &reply, &err) != 0, &reply, &err, why, whylen);
    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(bulk);
    bson_destroy(&opts);
    mongoc_collection_destroy(coll);
    return ok ? 0 : -1;
}

static int write_orders(mongoc_client_t *cl, struct round *r, char *why, size_t whylen)
{
    if (!json_array_size(r->orders)) return 0;
    mongoc_collection_t *coll = events_collection(cl, "order_activity");
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &opts);
    bson_error_t err;
    size_t i;
    json_t *o;
    json_array_foreach(r->orders, i, o) {
        bson_t doc = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&doc, "_id", json_string_value(json_object_get(o, "_id")));
        BSON_APPEND_UTF8(&doc, "order", json_string_value(json_object_get(o, "order")));
        BSON_APPEND_UTF8(&doc, "kind", json_string_value(json_object_get(o, "kind")));
        BSON_APPEND_INT64(&doc, "total", json_integer_value(json_object_get(o, "total")));
        if (json_object_get(o, "uid")) BSON_APPEND_INT64(&doc, "uid", json_integer_value(json_object_get(o, "uid")));
        BSON_APPEND_DATE_TIME(&doc, "at", json_integer_value(json_object_get(o, "at")));
        mongoc_bulk_operation_insert_with_opts(bulk, &doc, NULL, &err);
        bson_destroy(&doc);
    }
    bson_t reply;
    bool ok = bulk_ok(mongoc_bulk_operation_execute(bulk, &reply, &err) != 0, &reply, &err, why, whylen);
    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(bulk);
    bson_destroy(&opts);
    mongoc_collection_destroy(coll);
    return ok ? 0 : -1;
}

/* {_id: key} ← {$inc: incs, $set: sets} with upsert, for each entry. */
static int write_counters(mongoc_client_t *cl, const char *collection, json_t *entries, bool analytics, char *why,
                          size_t whylen)
{
    if (!json_object_size(entries)) return 0;
    mongoc_collection_t *coll = events_collection(cl, collection);
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &opts);
    bson_t upsert = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&upsert, "upsert", true);
    bson_error_t err;
    const char *key;
    json_t *v;
    json_object_foreach(entries, key, v) {
        bson_t sel = BSON_INITIALIZER, update = BSON_INITIALIZER, inc, set;
        BSON_APPEND_UTF8(&sel, "_id", key);
        bson_append_document_begin(&update, "$inc", -1, &inc);
        if (analytics) {
            BSON_APPEND_INT64(&inc, "count", json_integer_value(v));
        } else {
            const char *f;
            json_t *n;
            json_object_foreach(v, f, n) BSON_APPEND_INT64(&inc, f, json_integer_value(n));
        }
        bson_append_document_end(&update, &inc);
        bson_append_document_begin(&update, "$set", -1, &set);
        if (analytics) {
            /* "day|kind|item" → its parts, for queries by day and kind */
            char day[16] = "", kind[64] = "";
            const char *b1 = strchr(key, '|'), *b2 = b1 ? strchr(b1 + 1, '|') : NULL;
            if (b1 && b2) {
                snprintf(day, sizeof day, "%.*s", (int)(b1 - key), key);
                snprintf(kind, sizeof kind, "%.*s", (int)(b2 - b1 - 1), b1 + 1);
                BSON_APPEND_UTF8(&set, "day", day);
                BSON_APPEND_UTF8(&set, "kind", kind);
                BSON_APPEND_UTF8(&set, "item", b2 + 1);
            }
        } else {
            BSON_APPEND_DATE_TIME(&set, "updated", now_ms());
        }
        bson_append_document_end(&update, &set);
        mongoc_bulk_operation_update_one_with_opts(bulk, &sel, &update, &upsert, &err);
        bson_destroy(&sel);
        bson_destroy(&update);
    }
    bson_t reply;
    bool ok = bulk_ok(mongoc_bulk_operation_execute(bulk, &reply, &err) != 0, &reply, &err, why, whylen);
    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(bulk);
    bson_destroy(&upsert);
    bson_destroy(&opts);
    mongoc_collection_destroy(coll);
    return ok ? 0 : -1;
}

/* recently_viewed: read, merge, write back (one writer at a time, so no
 * lost update; portable to servers without $push/$slice). */
static int write_views(mongoc_client_t *cl, struct round *r, char *why, size_t whylen)
{
    if (!json_object_size(r->views)) return 0;
    mongoc_collection_t *coll = events_collection(cl, "recently_viewed");
    int rc = 0;
    const char *visitor;
    json_t *fresh;
    json_object_foreach(r->views, visitor, fresh) {
        /* newest first: the round's views (newest last in the batch), then the stored ones */
        json_t *items = json_array();
        for (size_t i = json_array_size(fresh); i-- > 0;) json_array_append(items, json_array_get(fresh, i));
        bson_t filter = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&filter, "_id", visitor);
        bson_error_t err;
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
        const bson_t *doc;
        if (mongoc_cursor_next(cur, &doc)) {
            bson_iter_t it, arr;
            if (bson_iter_init_find(&it, doc, "items") && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr)) {
                while (bson_iter_next(&arr)) {
                    bson_iter_t f;
                    const char *slug = NULL;
                    int64_t at = 0;
                    if (!bson_iter_recurse(&arr, &f)) continue;
                    while (bson_iter_next(&f)) {
                        if (!strcmp(bson_iter_key(&f), "slug") && BSON_ITER_HOLDS_UTF8(&f)) slug = bson_iter_utf8(&f, NULL);
                        else if (!strcmp(bson_iter_key(&f), "at") && BSON_ITER_HOLDS_DATE_TIME(&f)) at = bson_iter_date_time(&f);
                    }
                    if (slug) json_array_append_new(items, json_pack("{s:s,s:I}", "slug", slug, "at", (json_int_t)at));
                }
            }
        }
        bool failed = mongoc_cursor_error(cur, &err);
        mongoc_cursor_destroy(cur);
        if (failed) {
            text_copy(why, whylen, err.message);
            bson_destroy(&filter);
            json_decref(items);
            rc = -1;
            break;
        }
        /* keep the first (newest) of each slug, at most RECENT_MAX */
        bson_t repl = BSON_INITIALIZER, arr;
        BSON_APPEND_UTF8(&repl, "_id", visitor);
        bson_append_array_begin(&repl, "items", -1, &arr);
        int kept = 0;
        for (size_t i = 0; i < json_array_size(items) && kept < RECENT_MAX; i++) {
            const char *slug = json_string_value(json_object_get(json_array_get(items, i), "slug"));
            bool seen = false;
            for (size_t k = 0; k < i && !seen; k++)
                seen = !strcmp(slug, json_string_value(json_object_get(json_array_get(items, k), "slug")));
            if (seen) continue;
            char idx[16];
            const char *ik;
            bson_uint32_to_string((uint32_t)kept++, &ik, idx, sizeof idx);
            bson_t item;
            bson_append_document_begin(&arr, ik, -1, &item);
            BSON_APPEND_UTF8(&item, "slug", slug);
            BSON_APPEND_DATE_TIME(&item, "at", json_integer_value(json_object_get(json_array_get(items, i), "at")));
            bson_append_document_end(&arr, &item);
        }
        bson_append_array_end(&repl, &arr);
        BSON_APPEND_DATE_TIME(&repl, "updated", now_ms());
        bson_t opts = BSON_INITIALIZER;
        BSON_APPEND_BOOL(&opts, "upsert", true);
        bool ok = mongoc_collection_replace_one(coll, &filter, &repl, &opts, NULL, &err);
        bson_destroy(&opts);
        bson_destroy(&repl);
        bson_destroy(&filter);
        json_decref(items);
        if (!ok) {
            text_copy(why, whylen, err.message);
            rc = -1;
            break;
        }
    }
    mongoc_collection_destroy(coll);
    return rc;
}

/* Indexes for every read (and the TTL index where the server has them). */
static void ensure_indexes(mongoc_client_t *cl)
{
    struct {
        const char *coll, *name;
        const char *keys_json;
        int ttl_seconds;
    } idx[] = {
        {"activity_logs", "time_ttl", "{\"time\": 1}", cfg.activity_ttl_days * 86400},
        {"activity_logs", "visitor_time", "{\"vid\": 1, \"time\": -1}", 0},
        {"search_history", "visitor_at", "{\"visitor\": 1, \"at\": -1}", 0},
        {"analytics", "day_kind", "{\"day\": 1, \"kind\": 1}", 0},
        {"order_activity", "order_at", "{\"order\": 1, \"at\": 1}", 0},
    };
    mongoc_database_t *db = mongoc_client_get_database(cl, cfg.mongo_database);
    for (size_t i = 0; i < sizeof idx / sizeof *idx; i++) {
        bson_error_t err;
        bson_t *keys = bson_new_from_json((const uint8_t *)idx[i].keys_json, -1, &err);
        bson_t cmd = BSON_INITIALIZER, arr, one;
        BSON_APPEND_UTF8(&cmd, "createIndexes", idx[i].coll);
        bson_append_array_begin(&cmd, "indexes", -1, &arr);
        bson_append_document_begin(&arr, "0", -1, &one);
        BSON_APPEND_DOCUMENT(&one, "key", keys);
        BSON_APPEND_UTF8(&one, "name", idx[i].name);
        if (idx[i].ttl_seconds) BSON_APPEND_INT32(&one, "expireAfterSeconds", idx[i].ttl_seconds);
        bson_append_document_end(&arr, &one);
        bson_append_array_end(&cmd, &arr);
        if (!mongoc_database_write_command_with_opts(db, &cmd, NULL, NULL, &err)) {
            if (idx[i].ttl_seconds) {
                /* FerretDB has no TTL indexes: a plain index, and the
                 * events.prune job deletes old logs instead */
                log_info("events: %s.%s: no TTL index here (%s); events.prune expires old logs", idx[i].coll,
                         idx[i].name, err.message);
                bson_destroy(&cmd);
                bson_destroy(keys);
                idx[i].ttl_seconds = 0;
                idx[i].name = "time";
                i--;
                continue;
            }
            log_warn("events: index %s.%s: %s", idx[i].coll, idx[i].name, err.message);
        }
        bson_destroy(&cmd);
        bson_destroy(keys);
    }
    mongoc_database_destroy(db);
}

/* Write what the elements hold. 0 or -1 (why filled). */
static int write_round(mongoc_client_t *cl, redisReply *elements, char *why, size_t whylen)
{
    struct round r;
    round_init(&r);
    for (size_t i = 0; i < elements->elements; i++)
        if (elements->element[i]->type == REDIS_REPLY_STRING)
            parse_batch(&r, elements->element[i]->str, elements->element[i]->len);
    int rc = write_activity(cl, &r, why, whylen);
    if (rc == 0) rc = write_searches(cl, &r, why, whylen);
    if (rc == 0) rc = write_orders(cl, &r, why, whylen);
    if (rc == 0) rc = write_counters(cl, "analytics", r.analytics, true, why, whylen);
    if (rc == 0) rc = write_counters(cl, "preferences", r.prefs, false, why, whylen);
    if (rc == 0) rc = write_views(cl, &r, why, whylen);
    round_free(&r);
    return rc;
}

void events_writer_run(atomic_bool *stop)
{
    if (events_init() != 0) {
        log_error("events: the writer cannot start (MONGO_URI)");
        return;
    }
    char holder[96], host[64] = "host";
    gethostname(host, sizeof host - 1);
    snprintf(holder, sizeof holder, "%s:%d:events", host, (int)getpid());
    durable_conn *c = NULL;
    bool leader = false, indexed = false;
    int backoff_ms = 0;
    time_t last_complaint = 0;
    while (!atomic_load(stop)) {
        if (backoff_ms) {
            for (int slept = 0; slept < backoff_ms && !atomic_load(stop); slept += 100) usleep(100 * 1000);
        }
        if (!c && !(c = durable_connect())) {
            backoff_ms = 1000;
            continue;
        }
        int held = durable_lease_hold(c, "ev:writer", holder, LEASE_MS);
        if (held < 0) {
            durable_disconnect(c);
            c = NULL;
            backoff_ms = 1000;
            continue;
        }
        if (!held) {
            leader = false;
            backoff_ms = 1000;
            continue;
        }
        if (!leader) log_info("events: this process writes events to MongoDB");
        leader = true;
        redisReply *r = durable_cmd(c, "LRANGE ev:q 0 %d", BATCHES_PER_ROUND - 1);
        if (!r) {
            durable_disconnect(c);
            c = NULL;
            backoff_ms = 1000;
            continue;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
            freeReplyObject(r);
            backoff_ms = 200;
            continue;
        }
        mongoc_client_t *cl = events_client();
        if (!indexed) {
            ensure_indexes(cl);
            indexed = true;
        }
        char why[300] = "";
        int rc = write_round(cl, r, why, sizeof why);
        events_client_done(cl);
        if (rc < 0) {
            /* MongoDB is away or refuses: keep everything, try again */
            time_t now = time(NULL);
            if (now - last_complaint >= 10) {
                log_warn("events: cannot write to MongoDB (%s); %zu batch(es) wait in Redis", why, r->elements);
                last_complaint = now;
            }
            indexed = false;
            freeReplyObject(r);
            backoff_ms = backoff_ms < 1000 ? 1000 : backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2;
            continue;
        }
        const char **argv = calloc(2 + r->elements, sizeof *argv);
        size_t *lens = calloc(2 + r->elements, sizeof *lens);
        if (!argv || !lens) abort();
        argv[0] = "ev:q";
        lens[0] = 4;
        argv[1] = "ev:backlog";
        lens[1] = 10;
        for (size_t i = 0; i < r->elements; i++) {
            argv[2 + i] = r->element[i]->str;
            lens[2 + i] = r->element[i]->len;
        }
        redisReply *done = durable_eval(c, &commit_script, 2, (int)r->elements, argv, lens);
        free(argv);
        free(lens);
        bool full = r->elements == BATCHES_PER_ROUND;
        freeReplyObject(r);
        if (!done) {
            /* written but not removed: they will be written again, and
             * their request ids keep the logs single */
            durable_disconnect(c);
            c = NULL;
            backoff_ms = 1000;
            continue;
        }
        freeReplyObject(done);
        backoff_ms = full ? 0 : 100;
    }
    if (c && leader) durable_lease_release(c, "ev:writer", holder);
    durable_disconnect(c);
}

long long events_prune_activity(char *errbuf, size_t errlen)
{
    if (events_init() != 0) {
        snprintf(errbuf, errlen, "MONGO_URI is not valid");
        return -1;
    }
    mongoc_client_t *cl = events_client();
    mongoc_collection_t *coll = events_collection(cl, "activity_logs");
    bson_t filter = BSON_INITIALIZER, lt;
    bson_append_document_begin(&filter, "time", -1, &lt);
    BSON_APPEND_DATE_TIME(&lt, "$lt", now_ms() - (int64_t)cfg.activity_ttl_days * 86400 * 1000);
    bson_append_document_end(&filter, &lt);
    bson_t reply;
    bson_error_t err;
    long long n = -1;
    if (mongoc_collection_delete_many(coll, &filter, NULL, &reply, &err)) {
        bson_iter_t it;
        n = bson_iter_init_find(&it, &reply, "deletedCount") ? bson_iter_as_int64(&it) : 0;
    } else {
        text_copy(errbuf, errlen, err.message);
    }
    bson_destroy(&reply);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    events_client_done(cl);
    return n;
}

job_result events_forget_job(const job *j, char *err, size_t errlen)
{
    json_int_t uid = json_integer_value(json_object_get(j->payload, "user_id"));
    if (uid <= 0) {
        snprintf(err, errlen, "events.forget: no user_id");
        return JOB_FAILED;
    }
    if (events_init() != 0) {
        snprintf(err, errlen, "events.forget: MONGO_URI is not valid");
        return JOB_FAILED;
    }
    char visitor[32];
    snprintf(visitor, sizeof visitor, "u:%lld", (long long)uid);
    mongoc_client_t *cl = events_client();
    bson_error_t e;
    bool ok = true;
    static const char *const by_id[] = {"recently_viewed", "preferences"};
    for (size_t i = 0; ok && i < 2; i++) {
        mongoc_collection_t *coll = events_collection(cl, by_id[i]);
        bson_t f = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&f, "_id", visitor);
        ok = mongoc_collection_delete_many(coll, &f, NULL, NULL, &e);
        bson_destroy(&f);
        mongoc_collection_destroy(coll);
    }
    if (ok) {
        mongoc_collection_t *coll = events_collection(cl, "search_history");
        bson_t f = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&f, "visitor", visitor);
        ok = mongoc_collection_delete_many(coll, &f, NULL, NULL, &e);
        bson_destroy(&f);
        mongoc_collection_destroy(coll);
    }
    if (ok) {
        /* raw logs and order histories stay (logs expire; orders are the
         * shop's records) but no longer name the shopper */
        static const char *const by_uid[] = {"activity_logs", "order_activity"};
        for (size_t i = 0; ok && i < 2; i++) {
            mongoc_collection_t *coll = events_collection(cl, by_uid[i]);
            bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, unset;
            BSON_APPEND_INT64(&f, "uid", uid);
            bson_append_document_begin(&u, "$unset", -1, &unset);
            BSON_APPEND_UTF8(&unset, "uid", "");
            bson_append_document_end(&u, &unset);
            ok = mongoc_collection_update_many(coll, &f, &u, NULL, NULL, &e);
            bson_destroy(&f);
            bson_destroy(&u);
            mongoc_collection_destroy(coll);
        }
    }
    events_client_done(cl);
    if (!ok) {
        snprintf(err, errlen, "events.forget: %.200s", e.message);
        return JOB_RETRY;
    }
    return JOB_DONE;
}
