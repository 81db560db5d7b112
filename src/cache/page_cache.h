/* page_cache.h — cached catalogue pages and API responses.
 *
 * Correctness rule: after a change to a product, price or stock is
 * committed, no page may show the old value. Every cached entry is keyed by
 * the catalogue version, a counter in Redis that writers increment after
 * their transaction commits (catalog_cache_invalidate). Readers fetch the
 * current version first, so an entry made before the change is never found
 * again, whichever worker or host made it. Old entries expire by TTL. */
#ifndef SHOEASE_CACHE_PAGE_CACHE_H
#define SHOEASE_CACHE_PAGE_CACHE_H

#include "cache/local_cache.h"
#include "core/buf.h"

#include <stdbool.h>
#include <stdint.h>

/* Call after committing any change that alters what catalogue pages show
 * (product, price, stock, category, review approval). Returns 0, -1 if
 * Redis is unreachable (then caching is bypassed until it answers again,
 * because a version we could not bump cannot be trusted). */
int catalog_cache_invalidate(void);

typedef struct cached_page {
    buf body;
    buf gz;                 /* body gzip-compressed (empty when not worth it) */
    char etag[48];          /* strong validator, quoted */
    char content_type[64];
    int64_t version;
    int64_t rendered_at;    /* unix seconds: the Last-Modified of the page */
    const local_entry *local; /* a hit from this worker's memory: body is there, not in `body` */
    bool admitted;          /* store it (the key was asked for before): see page_cache.c */
} cached_page;

/* Look up `key` (e.g. "html:/category/men?size=uk-9") at the current
 * version (known from the version watch, or one small Redis read): first
 * this worker's memory (local_cache.h), then Redis, whose round trip also
 * marks the key as asked for (admission, page_cache.c).
 * 1 hit (page filled; page->local set when the bytes are in worker memory),
 * 0 miss (page->version and page->admitted set: pass the page to
 * page_cache_store), -1 caching off. */
int page_cache_lookup(const char *key, cached_page *page);
/* Set a rendered page's ETag, Last-Modified and content type, and store it
 * under key at the version the lookup returned if the lookup admitted it.
 * With compress, a gzip form is made now too (the requester accepts it);
 * otherwise only when first asked for (page_cache_add_gzip). */
void page_cache_store(const char *key, cached_page *page, const char *content_type, int ttl_seconds, bool compress);
/* A hit without a gzip form, for a client that accepts gzip: compress it
 * once into page->gz and save the entry with both forms. false when
 * compressing would not help (then serve it plain). */
bool page_cache_add_gzip(const char *key, cached_page *page, int ttl_seconds);
void cached_page_free(cached_page *page);

#endif
