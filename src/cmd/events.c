/* events.c — `shoease events`: what the event store holds.
 *
 *   shoease events [--json]      documents per collection, the backlog waiting in
 *                                Redis, events dropped, today's analytics counters
 *   shoease events visitor KEY   one visitor's recently viewed, searches, preferences
 *                                (KEY: v:<visitor cookie> or u:<user id>)
 *   shoease events order NUMBER  an order's steps as MongoDB has them (JSON lines) */
#include "cmd/cmd.h"

#include "core/config.h"
#include "durable/durable.h"
#include "events/mongo.h"
#include "events/reads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const collections[] = {"activity_logs", "recently_viewed", "search_history", "preferences",
                                          "analytics", "order_activity", NULL};

static long long redis_int(const char *key, bool *ok)
{
    redisReply *r = durable_cmd(NULL, "GET %s", key);
    if (!r) {
        *ok = false;
        return 0;
    }
    long long v = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    return v;
}

static int summary(bool as_json)
{
    json_t *out = json_object(), *counts = json_object();
    mongoc_client_t *cl = events_client();
    int rc = 0;
    for (int i = 0; collections[i]; i++) {
        mongoc_collection_t *coll = events_collection(cl, collections[i]);
        bson_error_t err;
        bson_t filter = BSON_INITIALIZER;
        int64_t n = mongoc_collection_count_documents(coll, &filter, NULL, NULL, NULL, &err);
        bson_destroy(&filter);
        mongoc_collection_destroy(coll);
        if (n < 0) {
            fprintf(stderr, "shoease events: MongoDB: %s\n", err.message);
            rc = 1;
            break;
        }
        json_object_set_new(counts, collections[i], json_integer(n));
    }
    if (rc == 0) {
        /* request logs past ACTIVITY_TTL_DAYS, still waiting for the
         * events.prune job (or the server's TTL index) */
        mongoc_collection_t *coll = events_collection(cl, "activity_logs");
        bson_t filter = BSON_INITIALIZER, lt;
        bson_append_document_begin(&filter, "time", -1, &lt);
        BSON_APPEND_DATE_TIME(&lt, "$lt", (int64_t)time(NULL) * 1000 - (int64_t)cfg.activity_ttl_days * 86400 * 1000);
        bson_append_document_end(&filter, &lt);
        bson_error_t err;
        int64_t n = mongoc_collection_count_documents(coll, &filter, NULL, NULL, NULL, &err);
        bson_destroy(&filter);
        mongoc_collection_destroy(coll);
        if (n >= 0) json_object_set_new(out, "activity_expired", json_integer(n));
    }
    events_client_done(cl);
    json_object_set_new(out, "collections", counts);
    bool ok = true;
    long long backlog = redis_int("ev:backlog", &ok), dropped = redis_int("ev:dropped", &ok);
    if (ok) {
        json_object_set_new(out, "backlog", json_integer(backlog));
        json_object_set_new(out, "dropped", json_integer(dropped));
    } else {
        fprintf(stderr, "shoease events: the durable Redis: %s\n", durable_last_error());
        rc = 1;
    }
    if (as_json) {
        char *s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
        puts(s);
        free(s);
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(counts, k, v) printf("%-16s %10lld documents\n", k, (long long)json_integer_value(v));
        if (ok) printf("\nwaiting in Redis: %lld event(s); dropped over the cap: %lld\n", backlog, dropped);
        json_t *exp = json_object_get(out, "activity_expired");
        if (exp) printf("request logs past ACTIVITY_TTL_DAYS, waiting for events.prune: %lld\n", (long long)json_integer_value(exp));
    }
    json_decref(out);
    return rc;
}

static int visitor(const char *key)
{
    char slugs[20][EVENTS_SLUG_MAX];
    int n = events_recent_slugs(key, slugs, 20);
    if (n < 0) {
        fprintf(stderr, "shoease events: MongoDB is unavailable\n");
        return 1;
    }
    printf("recently viewed:");
    for (int i = 0; i < n; i++) printf(" %s", slugs[i]);
    printf("%s\nsearches:", n ? "" : " (none)");
    json_t *s = events_suggest(key, "", 20);
    size_t i;
    json_t *v;
    json_array_foreach(s, i, v) {
        if (!strcmp(json_string_value(json_object_get(v, "source")), "history"))
            printf(" \"%s\"", json_string_value(json_object_get(v, "text")));
    }
    json_decref(s);
    printf("\n");
    mongoc_client_t *cl = events_client();
    mongoc_collection_t *coll = events_collection(cl, "preferences");
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", key);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
    const bson_t *doc;
    if (mongoc_cursor_next(cur, &doc)) {
        char *text = bson_as_relaxed_extended_json(doc, NULL);
        printf("preferences: %s\n", text);
        bson_free(text);
    } else {
        printf("preferences: (none)\n");
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    events_client_done(cl);
    return 0;
}

static int order(const char *number)
{
    mongoc_client_t *cl = events_client();
    mongoc_collection_t *coll = events_collection(cl, "order_activity");
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    BSON_APPEND_UTF8(&filter, "order", number);
    bson_append_document_begin(&opts, "sort", -1, &sort);
    BSON_APPEND_INT32(&sort, "at", 1);
    bson_append_document_end(&opts, &sort);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
    const bson_t *doc;
    int n = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        char *text = bson_as_relaxed_extended_json(doc, NULL);
        puts(text);
        bson_free(text);
        n++;
    }
    bson_error_t err;
    int rc = 0;
    if (mongoc_cursor_error(cur, &err)) {
        fprintf(stderr, "shoease events: MongoDB: %s\n", err.message);
        rc = 1;
    } else if (n == 0) {
        fprintf(stderr, "shoease events: nothing recorded for order %s (yet)\n", number);
        rc = 1;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    bson_destroy(&opts);
    mongoc_collection_destroy(coll);
    events_client_done(cl);
    return rc;
}

int cmd_events(int argc, char **argv)
{
    if (events_init() != 0) return 1;
    int rc;
    if (argc == 1 || (argc == 2 && !strcmp(argv[1], "--json"))) rc = summary(argc == 2);
    else if (argc == 3 && !strcmp(argv[1], "visitor")) rc = visitor(argv[2]);
    else if (argc == 3 && !strcmp(argv[1], "order")) rc = order(argv[2]);
    else {
        fprintf(stderr, "usage: shoease events [--json] | shoease events visitor v:<cookie>|u:<user id> | "
                        "shoease events order NUMBER\n");
        rc = 2;
    }
    events_shutdown();
    return rc;
}
