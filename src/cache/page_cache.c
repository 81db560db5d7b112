/* page_cache.c — see page_cache.h.
 *
 * Every lookup first learns the current version: from the worker's
 * version watch when it is provably current (version_watch.h), otherwise
 * from Redis (one small round trip). Then it looks in the worker's memory,
 * then in Redis. An entry carries
 * the version it was rendered at in its first line, so a stale entry is
 * recognised and ignored:
 *
 *   "<version>\n<etag>\n<content type>\n<rendered at>\n<body length>\n<body><gzip body>"
 *
 * Admission: a page is stored only when its key was asked for before,
 * within ADMIT_WINDOW_SECONDS (nginx's proxy_cache_min_uses 2, a "doorkeeper"
 * in cache literature). URLs that are asked for once — a crawler walking
 * filter combinations, links with tracking parameters — would otherwise
 * each cost a 50 KB write to Redis and to worker memory, and push the
 * pages shoppers do repeat out of both. The mark is a small Redis key per
 * URL (a hash of it), set in the same round trip as the lookup, so every
 * worker on every host shares it. It does not depend on the version: a
 * page asked for before a catalogue change is stored at its first miss
 * after it.
 */
#include "cache/page_cache.h"

#include "cache/redis.h"
#include "cache/version_watch.h"
#include "core/gzip.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define VERSION_KEY "catalog:version"
#define CHANGED_KEY "catalog:changed_at"
#define ADMIT_WINDOW_SECONDS 300

/* Versions must never repeat: a worker's memory may still hold pages of an
 * old version number. If Redis loses the key (a restart without
 * persistence, eviction, FLUSHALL), counting again from 0 would reach that
 * number again and bring those pages back. So a missing version starts at
 * the current time in microseconds, which is above any count reached
 * before (that would take a million changes a second).
 * Formats the SET NX of that start into *cmd (for cache_pipeline, which
 * frees it) and returns its length, or -1. */
static int format_version_start(char **cmd)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long us = (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
    return redisFormatCommand(cmd, "SET " VERSION_KEY " %lld NX", us);
}

int catalog_cache_invalidate(void)
{
    char *cmds[2] = {NULL, NULL};
    int lens[2] = {format_version_start(&cmds[0]), redisFormatCommand(&cmds[1], "INCR " VERSION_KEY)};
    redisReply *replies[2];
    int ok = cache_pipeline(2, cmds, lens, replies) == 0 && replies[1]->type == REDIS_REPLY_INTEGER;
    if (replies[0]) freeReplyObject(replies[0]);
    if (replies[1]) freeReplyObject(replies[1]);
    if (!ok) {
        /* If this bump is lost a reader could still find the old entries:
         * that only happens while Redis itself is unreachable, and then no
         * reader can read the cache either. Entries expire by TTL too. */
        log_error("page cache: could not bump the catalogue version");
        return -1;
    }
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    redisReply *r = cache_command("SET " CHANGED_KEY " %s", now);
    if (r) freeReplyObject(r);
    return 0;
}

/* The version as Redis has it now (started as above when it is missing),
 * or -1 when Redis does not answer. */
static int64_t redis_version(void)
{
    redisReply *r = cache_command("GET " VERSION_KEY);
    int64_t v = -1;
    if (r && r->type == REDIS_REPLY_STRING) v = strtoll(r->str, NULL, 10);
    bool missing = r && r->type == REDIS_REPLY_NIL;
    if (r) freeReplyObject(r);
    if (!missing) return v;
    char *cmds[2] = {NULL, NULL};
    int lens[2] = {format_version_start(&cmds[0]), redisFormatCommand(&cmds[1], "GET " VERSION_KEY)};
    redisReply *replies[2];
    if (cache_pipeline(2, cmds, lens, replies) == 0) {
        if (replies[1]->type == REDIS_REPLY_STRING) v = strtoll(replies[1]->str, NULL, 10);
        freeReplyObject(replies[0]);
        freeReplyObject(replies[1]);
    }
    return v;
}

void cached_page_free(cached_page *page)
{
    buf_free(&page->body);
    buf_free(&page->gz);
    local_cache_release(page->local);
    page->local = NULL;
}

/* Split an entry (format above) into page. */
static bool decode_entry(const char *s, size_t len, cached_page *page, int64_t *version)
{
    const char *end = s + len, *fields[5];
    const char *p = s;
    for (int i = 0; i < 5; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) return false;
        fields[i] = p;
        p = nl + 1;
    }
    *version = strtoll(fields[0], NULL, 10);
    size_t el = (size_t)(fields[2] - fields[1] - 1), cl = (size_t)(fields[3] - fields[2] - 1);
    page->rendered_at = strtoll(fields[3], NULL, 10);
    if (el >= sizeof page->etag || cl >= sizeof page->content_type) return false;
    memcpy(page->etag, fields[1], el);
    page->etag[el] = '\0';
    memcpy(page->content_type, fields[2], cl);
    page->content_type[cl] = '\0';
    size_t body_len = (size_t)strtoull(fields[4], NULL, 10);
    if (body_len > (size_t)(end - p)) return false;
    buf_reset(&page->body);
    buf_append(&page->body, p, body_len);
    buf_reset(&page->gz);
    buf_append(&page->gz, p + body_len, (size_t)(end - p) - body_len);
    return true;
}

int page_cache_lookup(const char *key, cached_page *page)
{
    page->version = -1;
    page->local = NULL;
    page->admitted = false;
    int64_t current = version_watch_current();
    if (current < 0) current = redis_version();
    if (current < 0) return -1;
    page->version = current;

    const local_entry *e = local_cache_get(key, current);
    if (e) {
        page->local = e;
        page->rendered_at = e->rendered_at;
        snprintf(page->etag, sizeof page->etag, "%s", e->etag);
        snprintf(page->content_type, sizeof page->content_type, "%s", e->content_type);
        page->admitted = true;
        return 1;
    }
    /* the shared entry and the admission mark, in one round trip */
    char mark[17];
    snprintf(mark, sizeof mark, "%016llx", (unsigned long long)XXH3_64bits(key, strlen(key)));
    char *cmds[2] = {NULL, NULL};
    int lens[2] = {redisFormatCommand(&cmds[0], "GET page:%s", key),
                   redisFormatCommand(&cmds[1], "SET seen:%s 1 EX %d NX", mark, ADMIT_WINDOW_SECONDS)};
    redisReply *replies[2];
    int rc = 0;
    if (cache_pipeline(2, cmds, lens, replies) == 0) {
        redisReply *r = replies[0];
        int64_t entry_version;
        if (r->type == REDIS_REPLY_STRING && decode_entry(r->str, r->len, page, &entry_version) &&
            entry_version == current) {
            local_cache_put(key, current, page->rendered_at, page->etag, page->content_type, buf_cstr(&page->body),
                            page->body.len, buf_cstr(&page->gz), page->gz.len);
            rc = 1;
        }
        /* NX did not set it: the mark was there, the key was asked for before */
        page->admitted = rc == 1 || replies[1]->type == REDIS_REPLY_NIL;
        freeReplyObject(replies[0]);
        freeReplyObject(replies[1]);
    }
    return rc;
}

/* Write page (plain body `body`, plus page->gz when present) under key at
 * page->version, to Redis and to this worker's memory. */
static void save(const char *key, cached_page *page, const char *body, size_t len, int ttl_seconds)
{
    if (page->version < 0 || !page->admitted) return; /* Redis down at lookup, or a first request */
    buf entry = BUF_INIT;
    buf_printf(&entry, "%lld\n%s\n%s\n%lld\n%zu\n", (long long)page->version, page->etag, page->content_type,
               (long long)page->rendered_at, len);
    buf_append(&entry, body, len);
    buf_append(&entry, buf_cstr(&page->gz), page->gz.len);
    buf full = BUF_INIT; /* the whole key, however long: a cut key would serve another URL's page */
    buf_printf(&full, "page:%s", key);
    cache_set(buf_cstr(&full), entry.data, entry.len, ttl_seconds);
    local_cache_put(key, page->version, page->rendered_at, page->etag, page->content_type, body, len,
                    buf_cstr(&page->gz), page->gz.len);
    buf_free(&full);
    buf_free(&entry);
}

void page_cache_store(const char *key, cached_page *page, const char *content_type, int ttl_seconds, bool compress)
{
    /* The validator only has to tell this URL's versions apart, not resist
     * an attacker (who cannot choose a page's bytes): a 128-bit XXH3 does
     * that at memory speed, where a cryptographic hash cost ~5 % of a
     * listing miss. */
    XXH128_hash_t h = XXH3_128bits(buf_cstr(&page->body), page->body.len);
    snprintf(page->etag, sizeof page->etag, "\"%016llx%016llx\"", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
    snprintf(page->content_type, sizeof page->content_type, "%s", content_type);
    page->rendered_at = (int64_t)time(NULL);
    buf_reset(&page->gz);
    if (compress) gzip_compress(buf_cstr(&page->body), page->body.len, &page->gz);
    save(key, page, buf_cstr(&page->body), page->body.len, ttl_seconds);
}

bool page_cache_add_gzip(const char *key, cached_page *page, int ttl_seconds)
{
    const char *body = page->local ? page->local->body : buf_cstr(&page->body);
    size_t len = page->local ? page->local->len : page->body.len;
    buf_reset(&page->gz);
    if (!gzip_compress(body, len, &page->gz)) return false;
    save(key, page, body, len, ttl_seconds);
    return true;
}
