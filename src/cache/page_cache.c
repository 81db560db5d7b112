/* page_cache.c — see page_cache.h.
 *
 * Every lookup first learns the current versions of the page's tags: from
 * the worker's version watch when it knows them provably current
 * (version_watch.h), otherwise from Redis (one MGET, which also teaches
 * the watch's map). The page's version is a hash of them. Then it looks in
 * the worker's memory, then in Redis. An entry carries the version it was
 * rendered at in its first line, so a stale entry is recognised and
 * ignored:
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

#define ADMIT_WINDOW_SECONDS 300
#define SLUG_MAX 120
/* Version keys live this long after they were started or last bumped. A
 * lost key is safe (below), so they may expire and be evicted like pages
 * (the cache Redis is volatile-lru): keys of tags nobody changes, or that
 * junk URLs made up (/products/<anything>), do not pile up. A day is far
 * above the pages' own TTL, so it costs at most one render per tag a day. */
#define VERSION_TTL_SECONDS 86400
#define MAX_BUMP_TAGS 512

static bool make_tag(char *out, size_t outlen, char kind, const char *slug)
{
    size_t n = slug ? strlen(slug) : 0;
    if (outlen) out[0] = '\0';
    if (n == 0 || n > SLUG_MAX || n + 3 > outlen || memchr(slug, '*', n)) return false;
    out[0] = kind;
    out[1] = ':';
    memcpy(out + 2, slug, n + 1);
    return true;
}

bool page_tag_product(char *out, size_t outlen, const char *slug) { return make_tag(out, outlen, 'p', slug); }

bool page_tag_listing(char *out, size_t outlen, const char *category_slug)
{
    return make_tag(out, outlen, 'l', category_slug);
}

int64_t page_version_of(const char *const *tags, const int64_t *versions, int n)
{
    uint64_t h = 0;
    for (int i = 0; i < n; i++) { /* chained: each step seeds the next */
        h = XXH3_64bits_withSeed(tags[i], strlen(tags[i]) + 1, h); /* with the NUL: names never run together */
        unsigned char v[8];
        for (int b = 0; b < 8; b++) v[b] = (unsigned char)((uint64_t)versions[i] >> (8 * b));
        h = XXH3_64bits_withSeed(v, sizeof v, h);
    }
    return (int64_t)(h & (uint64_t)INT64_MAX);
}

/* Versions must never repeat: a worker's memory may still hold pages made
 * at an old version, and a page's version is a hash of its tags' versions.
 * If Redis loses a key (a restart without persistence, eviction, expiry,
 * FLUSHALL), counting again from 0 would reach an old number again and
 * bring those pages back. So a missing version starts at the current time
 * in microseconds, which is above any count reached before (that would
 * take a million changes a second). */
static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Start (if missing), increment and keep every key, in one script: a
 * reader sees all of a change's tags bumped or none, and nothing can
 * expire between the start and the increment (a script runs at one
 * instant). */
static const char BUMP_SCRIPT[] = "for i = 1, #KEYS do\n"
                                  "  redis.call('SET', KEYS[i], ARGV[1], 'NX', 'EX', ARGV[2])\n"
                                  "  redis.call('INCR', KEYS[i])\n"
                                  "  redis.call('EXPIRE', KEYS[i], ARGV[2])\n"
                                  "end\n"
                                  "return #KEYS\n";

int page_cache_bump(const char *const *tags, int n)
{
    if (n <= 0) return 0;
    if (n > MAX_BUMP_TAGS) { /* cannot happen with our writers; never lose a bump over it */
        const char *global = PAGE_TAG_GLOBAL;
        return page_cache_bump(&global, 1);
    }
    int argc = 3 + n + 2;
    const char **argv = malloc((size_t)argc * sizeof *argv);
    size_t *lens = malloc((size_t)argc * sizeof *lens);
    char **keys = calloc((size_t)n, sizeof *keys);
    char nkeys[16], start[32], ttl[16];
    int rc = -1;
    if (!argv || !lens || !keys) goto out;
    snprintf(nkeys, sizeof nkeys, "%d", n);
    snprintf(start, sizeof start, "%lld", now_us());
    snprintf(ttl, sizeof ttl, "%d", VERSION_TTL_SECONDS);
    argv[0] = "EVAL";
    argv[1] = BUMP_SCRIPT;
    argv[2] = nkeys;
    for (int i = 0; i < n; i++) {
        size_t tl = strlen(tags[i]);
        if (!(keys[i] = malloc(sizeof VERSION_KEY_PREFIX + tl))) goto out;
        memcpy(keys[i], VERSION_KEY_PREFIX, sizeof VERSION_KEY_PREFIX - 1);
        memcpy(keys[i] + sizeof VERSION_KEY_PREFIX - 1, tags[i], tl + 1);
        argv[3 + i] = keys[i];
    }
    argv[3 + n] = start;
    argv[4 + n] = ttl;
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    redisReply *r = cache_command_argv(argc, argv, lens);
    if (r && r->type == REDIS_REPLY_INTEGER) rc = 0;
    else if (r && r->type == REDIS_REPLY_ERROR) log_error("page cache: bumping versions: %s", r->str);
    if (r) freeReplyObject(r);
out:
    if (keys)
        for (int i = 0; i < n; i++) free(keys[i]);
    free(keys);
    free(lens);
    free(argv);
    if (rc < 0) log_error("page cache: could not bump the versions of %d tag(s), first %s", n, tags[0]);
    return rc;
}

int catalog_cache_invalidate(void)
{
    const char *global = PAGE_TAG_GLOBAL;
    return page_cache_bump(&global, 1);
}

/* The versions of the tags as Redis has them now, missing ones started as
 * above: one MGET, and a second round trip only when some key is missing.
 * 0, or -1 when Redis does not answer (or a key vanished again at once). */
static int redis_versions(const page_tags *tags, int64_t *versions)
{
    int n = tags->n;
    const char *argv[1 + PAGE_MAX_TAGS];
    size_t lens[1 + PAGE_MAX_TAGS];
    char keys[PAGE_MAX_TAGS][sizeof VERSION_KEY_PREFIX + PAGE_TAG_MAX];
    argv[0] = "MGET";
    lens[0] = 4;
    for (int i = 0; i < n; i++) {
        lens[1 + i] = (size_t)snprintf(keys[i], sizeof keys[i], VERSION_KEY_PREFIX "%s", tags->tag[i]);
        if (lens[1 + i] >= sizeof keys[i]) return -1; /* a tag longer than page_tag_* make */
        argv[1 + i] = keys[i];
    }
    int missing = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        redisReply *r;
        if (attempt == 0) {
            r = cache_command_argv(1 + n, argv, lens);
        } else {
            /* start the missing ones (NX: a writer or another reader may
             * have done it meanwhile), then read them all again */
            char *cmds[PAGE_MAX_TAGS + 1];
            int clens[PAGE_MAX_TAGS + 1], nc = 0;
            redisReply *replies[PAGE_MAX_TAGS + 1];
            long long start = now_us();
            for (int i = 0; i < n; i++)
                if (versions[i] < 0) {
                    clens[nc] = redisFormatCommand(&cmds[nc], "SET %s %lld NX EX %d", keys[i], start, VERSION_TTL_SECONDS);
                    nc++;
                }
            clens[nc] = redisFormatCommandArgv(&cmds[nc], 1 + n, argv, lens);
            nc++;
            if (cache_pipeline(nc, cmds, clens, replies) < 0) return -1;
            for (int i = 0; i < nc - 1; i++) freeReplyObject(replies[i]);
            r = replies[nc - 1];
        }
        if (!r) return -1;
        missing = 0;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == (size_t)n) {
            for (int i = 0; i < n; i++) {
                redisReply *e = r->element[i];
                versions[i] = e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10) : -1;
                if (versions[i] < 0) missing++;
            }
        } else {
            missing = -1;
        }
        freeReplyObject(r);
        if (missing <= 0) break;
    }
    return missing == 0 ? 0 : -1;
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

int page_cache_lookup(const char *key, const page_tags *tags, cached_page *page)
{
    page->version = -1;
    page->refs_version = -1;
    page->local = NULL;
    page->admitted = false;
    int64_t versions[PAGE_MAX_TAGS];
    uint64_t token;
    if (tags->n < 1 || tags->n > PAGE_MAX_TAGS) return -1;
    if (!version_watch_get(tags->tag, tags->n, versions, &token)) {
        if (redis_versions(tags, versions) < 0) return -1;
        version_watch_learn(tags->tag, tags->n, versions, token);
    }
    int64_t current = page_version_of(tags->tag, versions, tags->n);
    page->version = current;
    for (int i = 0; i < tags->n; i++)
        if (!strcmp(tags->tag[i], PAGE_TAG_GLOBAL)) page->refs_version = versions[i];

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
