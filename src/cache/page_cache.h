/* page_cache.h — cached catalogue pages and API responses.
 *
 * Correctness rule: after a change to a product, price or stock is
 * committed, no page may show the old value — by any worker on any host,
 * also after Redis lost its data. And a sale must not throw away pages it
 * did not change.
 *
 * So every cached page names the TAGS it depends on, and every tag has a
 * version in Redis ("v:<tag>") that writers bump after their transaction
 * commits:
 *
 *   global        categories, brands, colours: the reference data every
 *                 page shows (nav, facets, breadcrumbs), and any change
 *                 not covered below (the seed, bulk edits)
 *   p:<slug>      one product: its page and its API answer
 *   l:<slug>      the listings of a category (a product of a category
 *                 shows in the listings of the category and its ancestors)
 *   l:*all        the listings of every product: /shoes, search, home
 *
 *   product page / API product       global, p:<slug>
 *   category listing / API listing   global, l:<category slug>
 *   /shoes, /search, /, API listing  global, l:*all
 *   API categories                   global
 *
 * A page's version is a 64-bit hash of the current versions of its tags
 * (page_version_of); an entry carries the version it was rendered at, so
 * an entry made before any of its tags changed is never found again.
 * Readers learn tag versions before they read MariaDB, so a page is never
 * older than the versions it is stored under. Tag versions never repeat:
 * a missing key starts at the current time in microseconds (see
 * page_cache.c). Entries expire by TTL. */
#ifndef SHOEASE_CACHE_PAGE_CACHE_H
#define SHOEASE_CACHE_PAGE_CACHE_H

#include "cache/local_cache.h"
#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_MAX_TAGS 4
#define PAGE_TAG_MAX 128              /* bytes, with the NUL: "l:" + a 120-byte slug */
#define PAGE_TAG_GLOBAL "global"
#define PAGE_TAG_ALL_LISTINGS "l:*all"

/* What a page depends on. The strings must outlive the lookup. */
typedef struct page_tags {
    int n;
    const char *tag[PAGE_MAX_TAGS];
} page_tags;

/* "p:<slug>" / "l:<slug>" into out (PAGE_TAG_MAX bytes). false when the
 * slug cannot name a product or category (empty, longer than 120 bytes, a
 * '*'): then out is empty. */
bool page_tag_product(char *out, size_t outlen, const char *slug);
bool page_tag_listing(char *out, size_t outlen, const char *category_slug);

/* The version of a page from the versions of its tags (same order):
 * XXH3-64 of the tag names and versions, 63 bits (never negative). */
int64_t page_version_of(const char *const *tags, const int64_t *versions, int n);

/* Call AFTER the transaction that changed what pages with these tags show
 * has committed (an after-commit hook of the unit of work, db/tx.h). All n
 * are bumped at once (one script). 0, or -1 if Redis is unreachable (then
 * caching is bypassed until it answers again: a version we could not bump
 * cannot be trusted, and no reader can read the cache either). */
int page_cache_bump(const char *const *tags, int n);
/* Bump "global": every page. For the seed and bulk changes. */
int catalog_cache_invalidate(void);

typedef struct cached_page {
    buf body;
    buf gz;                 /* body gzip-compressed (empty when not worth it) */
    char etag[48];          /* strong validator, quoted */
    char content_type[64];
    int64_t version;        /* of the page: page_version_of its tags (-1: caching off) */
    int64_t refs_version;   /* of the tag "global" (-1: unknown): for catalog_*_at's reference data */
    int64_t rendered_at;    /* unix seconds: the Last-Modified of the page */
    const local_entry *local; /* a hit from this worker's memory: body is there, not in `body` */
    bool admitted;          /* store it (the key was asked for before): see page_cache.c */
} cached_page;

/* Look up `key` (e.g. "html:/category/men?size=uk-9") at the current
 * version of its tags (known from the version watch, or one small Redis
 * read): first this worker's memory (local_cache.h), then Redis, whose
 * round trip also marks the key as asked for (admission, page_cache.c).
 * 1 hit (page filled; page->local set when the bytes are in worker memory),
 * 0 miss (page->version, refs_version and admitted set: pass the page to
 * page_cache_store), -1 caching off. */
int page_cache_lookup(const char *key, const page_tags *tags, cached_page *page);
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
