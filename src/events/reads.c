/* reads.c — see reads.h. */
#include "events/reads.h"

#include "core/log.h"
#include "core/text.h"
#include "events/mongo.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BREAKER_MS 5000
#define POPULAR_TTL_MS 60000
#define POPULAR_MAX 200

static _Atomic int64_t breaker_until;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool events_available(void) { return mono_ms() >= atomic_load(&breaker_until); }

static void trip(const char *what, const bson_error_t *err)
{
    if (events_available()) log_warn("events: %s failed (%s); MongoDB reads paused for 5 s", what, err->message);
    atomic_store(&breaker_until, mono_ms() + BREAKER_MS);
}

static bson_t *read_opts(int limit)
{
    bson_t *o = bson_new();
    BSON_APPEND_INT32(o, "maxTimeMS", 300);
    if (limit > 0) BSON_APPEND_INT64(o, "limit", limit);
    return o;
}

int events_recent_slugs(const char *visitor, char (*slugs)[EVENTS_SLUG_MAX], int max)
{
    if (!events_available()) return -1;
    mongoc_client_t *cl = events_client();
    if (!cl) return -1;
    mongoc_collection_t *coll = events_collection(cl, "recently_viewed");
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", visitor);
    bson_t *opts = read_opts(1);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
    const bson_t *doc;
    int n = 0;
    if (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it, arr;
        if (bson_iter_init_find(&it, doc, "items") && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr)) {
            while (n < max && bson_iter_next(&arr)) {
                bson_iter_t f;
                if (bson_iter_recurse(&arr, &f) && bson_iter_find(&f, "slug") && BSON_ITER_HOLDS_UTF8(&f))
                    text_copy(slugs[n++], EVENTS_SLUG_MAX, bson_iter_utf8(&f, NULL));
            }
        }
    }
    bson_error_t err;
    if (mongoc_cursor_error(cur, &err)) {
        trip("reading recently viewed", &err);
        n = -1;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    events_client_done(cl);
    return n;
}

/* Popular searches of the last 7 days, kept per process for a minute:
 * summing the daily counters is a scan we do not want per keystroke. */
static pthread_mutex_t popular_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *popular;          /* [{"q": text, "n": count}] sorted by n desc */
static int64_t popular_until;

static int by_count(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "n"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "n"));
    return x < y ? 1 : x > y ? -1 : 0;
}

static json_t *load_popular(void)
{
    mongoc_client_t *cl = events_client();
    if (!cl) return NULL;
    mongoc_collection_t *coll = events_collection(cl, "analytics");
    time_t week_ago = time(NULL) - 7 * 86400;
    struct tm tm;
    gmtime_r(&week_ago, &tm);
    char since[11];
    strftime(since, sizeof since, "%Y-%m-%d", &tm);
    bson_t filter = BSON_INITIALIZER, gte;
    BSON_APPEND_UTF8(&filter, "kind", "search");
    bson_append_document_begin(&filter, "day", -1, &gte);
    BSON_APPEND_UTF8(&gte, "$gte", since);
    bson_append_document_end(&filter, &gte);
    bson_t *opts = read_opts(5000);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
    json_t *sums = json_object();
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        const char *item = NULL;
        int64_t count = 0;
        if (bson_iter_init_find(&it, doc, "item") && BSON_ITER_HOLDS_UTF8(&it)) item = bson_iter_utf8(&it, NULL);
        if (bson_iter_init_find(&it, doc, "count")) count = bson_iter_as_int64(&it);
        if (!item || !*item || !strcmp(item, "-")) continue;
        json_t *v = json_object_get(sums, item);
        json_object_set_new(sums, item, json_integer(json_integer_value(v) + count));
    }
    bson_error_t err;
    json_t *out = NULL;
    if (mongoc_cursor_error(cur, &err)) {
        trip("reading popular searches", &err);
    } else {
        size_t n = json_object_size(sums), k = 0;
        json_t **items = n ? calloc(n, sizeof *items) : NULL;
        const char *q;
        json_t *v;
        json_object_foreach(sums, q, v) items[k++] = json_pack("{s:s,s:I}", "q", q, "n", json_integer_value(v));
        if (n) qsort(items, n, sizeof *items, by_count);
        out = json_array();
        for (size_t i = 0; i < n; i++) {
            if (i < POPULAR_MAX) json_array_append(out, items[i]);
            json_decref(items[i]);
        }
        free(items);
    }
    json_decref(sums);
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    events_client_done(cl);
    return out;
}

static json_t *popular_now(void)
{
    pthread_mutex_lock(&popular_lock);
    int64_t now = mono_ms();
    if ((!popular || now >= popular_until) && events_available()) {
        json_t *fresh = load_popular();
        if (fresh) {
            json_decref(popular);
            popular = fresh;
        }
        popular_until = now + POPULAR_TTL_MS;
    }
    json_t *p = popular ? json_incref(popular) : json_array();
    pthread_mutex_unlock(&popular_lock);
    return p;
}

static bool has_text(json_t *list, const char *text)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) if (!strcmp(json_string_value(json_object_get(v, "text")), text)) return true;
    return false;
}

json_t *events_suggest(const char *visitor, const char *prefix, int max)
{
    json_t *out = json_array();
    size_t plen = strlen(prefix);
    if (visitor && events_available()) {
        mongoc_client_t *cl = events_client();
        mongoc_collection_t *coll = cl ? events_collection(cl, "search_history") : NULL;
        if (coll) {
            bson_t filter = BSON_INITIALIZER, sort;
            BSON_APPEND_UTF8(&filter, "visitor", visitor);
            bson_t *opts = read_opts(50);
            bson_append_document_begin(opts, "sort", -1, &sort);
            BSON_APPEND_INT32(&sort, "at", -1);
            bson_append_document_end(opts, &sort);
            mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
            const bson_t *doc;
            while (mongoc_cursor_next(cur, &doc) && (int)json_array_size(out) < max) {
                bson_iter_t it;
                if (!bson_iter_init_find(&it, doc, "q") || !BSON_ITER_HOLDS_UTF8(&it)) continue;
                const char *q = bson_iter_utf8(&it, NULL);
                /* prefix match in C: the text is ours (normalised), no regex needed */
                if (strncmp(q, prefix, plen) || has_text(out, q)) continue;
                json_array_append_new(out, json_pack("{s:s,s:s}", "text", q, "source", "history"));
            }
            bson_error_t err;
            if (mongoc_cursor_error(cur, &err)) trip("reading search history", &err);
            mongoc_cursor_destroy(cur);
            bson_destroy(opts);
            bson_destroy(&filter);
            mongoc_collection_destroy(coll);
        }
        if (cl) events_client_done(cl);
    }
    json_t *pop = popular_now();
    size_t i;
    json_t *v;
    json_array_foreach(pop, i, v) {
        if ((int)json_array_size(out) >= max) break;
        const char *q = json_string_value(json_object_get(v, "q"));
        if (!q || strncmp(q, prefix, plen) || has_text(out, q)) continue;
        json_array_append_new(out, json_pack("{s:s,s:s}", "text", q, "source", "popular"));
    }
    json_decref(pop);
    return out;
}

/* ---------- the shop's analytics counters (the admin dashboard) ---------- */

static void copy_utf8(const bson_t *doc, const char *key, char *out, size_t outlen)
{
    bson_iter_t it;
    out[0] = '\0';
    if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it)) text_copy(out, outlen, bson_iter_utf8(&it, NULL));
}

int events_analytics_counts(const char *since, const char *const *kinds, int nkinds, bool by_item, events_count *out,
                            int max)
{
    if (!events_available()) return -1;
    mongoc_client_t *cl = events_client();
    if (!cl) return -1;
    mongoc_collection_t *coll = events_collection(cl, "analytics");
    /* [{$match: {day: {$gte: since}, kind: {$in: kinds}}},
     *  {$group: {_id: {day, kind[, item]}, n: {$sum: "$count"}}}]: the
     * server adds up a month of per-product counters; we read the sums */
    bson_t pipeline = BSON_INITIALIZER, stages, stage, match, gte, in, group, id, sum;
    bson_append_array_begin(&pipeline, "pipeline", -1, &stages);
    bson_append_document_begin(&stages, "0", -1, &stage);
    bson_append_document_begin(&stage, "$match", -1, &match);
    bson_append_document_begin(&match, "day", -1, &gte);
    BSON_APPEND_UTF8(&gte, "$gte", since);
    bson_append_document_end(&match, &gte);
    bson_append_document_begin(&match, "kind", -1, &gte);
    bson_append_array_begin(&gte, "$in", -1, &in);
    for (int i = 0; i < nkinds; i++) {
        char idx[16];
        const char *key;
        bson_uint32_to_string((uint32_t)i, &key, idx, sizeof idx);
        BSON_APPEND_UTF8(&in, key, kinds[i]);
    }
    bson_append_array_end(&gte, &in);
    bson_append_document_end(&match, &gte);
    bson_append_document_end(&stage, &match);
    bson_append_document_end(&stages, &stage);
    bson_append_document_begin(&stages, "1", -1, &stage);
    bson_append_document_begin(&stage, "$group", -1, &group);
    bson_append_document_begin(&group, "_id", -1, &id);
    BSON_APPEND_UTF8(&id, "day", "$day");
    BSON_APPEND_UTF8(&id, "kind", "$kind");
    if (by_item) BSON_APPEND_UTF8(&id, "item", "$item");
    bson_append_document_end(&group, &id);
    bson_append_document_begin(&group, "n", -1, &sum);
    BSON_APPEND_UTF8(&sum, "$sum", "$count");
    bson_append_document_end(&group, &sum);
    bson_append_document_end(&stage, &group);
    bson_append_document_end(&stages, &stage);
    bson_append_array_end(&pipeline, &stages);
    /* a month of counters: a little longer than a shopper's read may take */
    bson_t *opts = bson_new();
    BSON_APPEND_INT32(opts, "maxTimeMS", 1000);
    mongoc_cursor_t *cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, &pipeline, opts, NULL);
    const bson_t *doc;
    int n = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        if (n >= max) continue; /* read to the end: the cursor's error, if any, comes last */
        bson_iter_t it, sub;
        if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_DOCUMENT(&it)) continue;
        uint32_t len;
        const uint8_t *data;
        bson_iter_document(&it, &len, &data);
        bson_t idoc;
        if (!bson_init_static(&idoc, data, len)) continue;
        events_count *c = &out[n];
        copy_utf8(&idoc, "day", c->day, sizeof c->day);
        copy_utf8(&idoc, "kind", c->kind, sizeof c->kind);
        if (by_item) copy_utf8(&idoc, "item", c->item, sizeof c->item);
        else c->item[0] = '\0';
        c->count = bson_iter_init_find(&sub, doc, "n") ? (long long)bson_iter_as_int64(&sub) : 0;
        if (c->day[0] && c->kind[0]) n++;
    }
    bson_error_t err;
    if (mongoc_cursor_error(cur, &err)) {
        trip("reading the analytics counters", &err);
        n = -1;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    bson_destroy(&pipeline);
    mongoc_collection_destroy(coll);
    events_client_done(cl);
    return n;
}
