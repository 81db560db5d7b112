/* cached.h — serving catalogue pages through the page cache, with
 * ETag/Last-Modified validators and 304 answers.
 *
 *   static void category_page(http_request *req, http_response *res) {
 *       cached_page page;
 *       const char *key = cached_key(req, "html");
 *       page_tags tags = cached_tags_listing(req, slug);       // what the page shows
 *       if (cached_try(req, res, key, &tags, &page)) return;   // hit (200 or 304)
 *       ... render into page.body, reading with page.refs_version ...   // miss
 *       cached_finish(req, res, key, &page, "text/html; charset=utf-8", 200);
 *   }
 *
 * Only cache what is the same for every visitor (no session data). A page
 * must name every tag whose changes it shows (page_cache.h); a render that
 * turns out to show something its tags do not cover (a URL spelt other
 * than the canonical slug, which MariaDB's collation still finds) is sent
 * but not stored: cached_no_store. */
#ifndef SHOEASE_WEB_CACHED_H
#define SHOEASE_WEB_CACHED_H

#include "cache/page_cache.h"
#include "http/http.h"

/* Set once per worker before serving: a hash of what renders pages
 * (templates, assets, program version), made part of every key. */
void cached_set_epoch(const char *epoch);
/* "<prefix>:<epoch>:<path>?<raw query>" — the raw query so that every distinct URL
 * is its own entry. Allocated in the request arena. */
const char *cached_key(http_request *req, const char *prefix);
/* The tags of a product page (global, p:<slug>), of a listing (global and
 * l:<category slug>, or l:*all for every product: category NULL) and of
 * what shows only reference data (global). Strings in the request arena. */
page_tags cached_tags_product(http_request *req, const char *slug);
page_tags cached_tags_listing(http_request *req, const char *category);
page_tags cached_tags_reference(void);
/* true: the response is ready (from the cache). false: render into
 * page->body (initialised empty) and call cached_finish. */
bool cached_try(http_request *req, http_response *res, const char *key, const page_tags *tags, cached_page *page);
/* After a miss: send this render but do not store it. */
void cached_no_store(cached_page *page);
/* After a miss, the page has moved (a renamed product's old slug): 301 to
 * path plus this request's query string. Never stored, and browsers ask
 * again next time (the old address may be taken by another page later).
 * Frees page. */
void cached_moved(http_request *req, http_response *res, cached_page *page, const char *path);
/* Send page->body with validators; stores it when status is 200. Frees page. */
void cached_finish(http_request *req, http_response *res, const char *key, cached_page *page,
                   const char *content_type, int status);

#endif
