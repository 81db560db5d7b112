/* local_cache.h — a worker's in-memory copy of recently served cached pages.
 *
 * The shared page cache lives in Redis; fetching a 50 KB page from it on
 * every hit costs two copies and a large socket transfer. Each worker keeps
 * the pages it served in memory too, with the version they were rendered
 * at (page_cache.h: a hash of the versions of the page's tags). The current
 * version is known from the version watch or read from Redis on every
 * request, so a change committed anywhere is seen at once: an entry whose
 * version is not the current one is never served.
 *
 * Entries are immutable and reference counted, so a response can send the
 * bytes straight from the cache (no copy) while another thread replaces the
 * entry. Bounded by LOCAL_CACHE_MAX_BYTES per worker; least recently used
 * entries go first. Thread-safe. */
#ifndef SHOEASE_CACHE_LOCAL_CACHE_H
#define SHOEASE_CACHE_LOCAL_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define LOCAL_CACHE_MAX_BYTES (64u << 20)

typedef struct local_entry {
    int64_t version;
    int64_t rendered_at;
    char etag[48];
    char content_type[64];
    size_t len;
    const char *body;       /* len bytes, immutable */
    size_t gz_len;          /* 0: no compressed form */
    const char *gz_body;    /* the same page, gzip-compressed */
} local_entry;

/* A referenced entry for `key` at exactly `version`, or NULL. Release it
 * with local_cache_release (the HTTP layer does that once sent). */
const local_entry *local_cache_get(const char *key, int64_t version);
/* Copy a page in (replacing an older entry for the key). */
void local_cache_put(const char *key, int64_t version, int64_t rendered_at, const char *etag,
                     const char *content_type, const char *body, size_t len, const char *gz, size_t gz_len);
void local_cache_release(const local_entry *e);

#endif
