/* cached.c — see cached.h. */
#include "web/cached.h"

#include "web/metrics.h"

#include "core/gzip.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define PAGE_TTL_SECONDS 3600

static char epoch[32] = "0";

void cached_set_epoch(const char *value) { snprintf(epoch, sizeof epoch, "%s", value); }

const char *cached_key(http_request *req, const char *prefix)
{
    const char *q = strchr(req->raw_uri, '?');
    return arena_printf(req->pool, "%s:%s:%s%s", prefix, epoch, req->path, q ? q : "");
}

page_tags cached_tags_product(http_request *req, const char *slug)
{
    page_tags t = {.n = 1, .tag = {PAGE_TAG_GLOBAL}};
    char tag[PAGE_TAG_MAX];
    /* no tag: the slug cannot be a product's, the page is a 404 */
    if (page_tag_product(tag, sizeof tag, slug)) t.tag[t.n++] = arena_strdup(req->pool, tag);
    return t;
}

page_tags cached_tags_listing(http_request *req, const char *category)
{
    page_tags t = {.n = 2, .tag = {PAGE_TAG_GLOBAL, PAGE_TAG_ALL_LISTINGS}};
    char tag[PAGE_TAG_MAX];
    /* a slug that cannot be a category's keeps l:*all, which every product
     * change bumps: never too little */
    if (category && page_tag_listing(tag, sizeof tag, category)) t.tag[1] = arena_strdup(req->pool, tag);
    return t;
}

page_tags cached_tags_reference(void) { return (page_tags){.n = 1, .tag = {PAGE_TAG_GLOBAL}}; }

void cached_no_store(cached_page *page) { page->admitted = false; }

static bool etag_matches(const char *header, const char *etag)
{
    if (strcmp(header, "*") == 0) return true;
    /* a list of tags, possibly weak (W/"..." after nginx's gzip): the
     * opaque quoted part is what identifies the page */
    return strstr(header, etag) != NULL;
}

static void http_date(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* RFC 9110 13.2.2: If-None-Match decides when present; otherwise
 * If-Modified-Since compares with the page's Last-Modified. */
static bool not_modified(http_request *req, const cached_page *page)
{
    const char *inm = req_header(req, "If-None-Match");
    if (inm) return etag_matches(inm, page->etag);
    const char *ims = req_header(req, "If-Modified-Since");
    if (!ims) return false;
    struct tm tm = {0};
    const char *end = strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) return false; /* an unparseable date is ignored */
    return page->rendered_at <= (int64_t)timegm(&tm);
}

static void release_entry(void *entry) { local_cache_release(entry); }

static void send(http_request *req, http_response *res, const char *key, cached_page *page, int status)
{
    /* The compressed form is a representation of its own: its own strong
     * ETag ("<hash>-gz"), and Vary so caches keep the two apart. It is made
     * once, the first time a client that accepts gzip asks for the page. */
    bool want_gz = status == 200 && gzip_accepted(req_header(req, "Accept-Encoding"));
    size_t gz_len = page->local ? page->local->gz_len : page->gz.len;
    if (want_gz && gz_len == 0 && page_cache_add_gzip(key, page, PAGE_TTL_SECONDS)) gz_len = page->gz.len;
    bool gz = want_gz && gz_len > 0;
    if (gz) {
        size_t n = strlen(page->etag);
        if (n >= 2 && n + 3 < sizeof page->etag && page->etag[n - 1] == '"') strcpy(page->etag + n - 1, "-gz\"");
        res_header(res, "Content-Encoding", "gzip");
    }
    if (status == 200) {
        char date[64];
        http_date(page->rendered_at, date, sizeof date);
        res_header(res, "ETag", arena_strdup(req->pool, page->etag));
        res_header(res, "Last-Modified", arena_strdup(req->pool, date));
        res_header(res, "Vary", "Accept-Encoding");
    }
    res_header(res, "Cache-Control", "public, max-age=0, must-revalidate");
    if (status == 200 && not_modified(req, page)) {
        res->status = 304;
        res->content_type = NULL;
        buf_reset(&res->body);
    } else if (page->local && !(gz && page->gz.len)) {
        /* straight from worker memory; the entry is released once sent */
        const local_entry *e = page->local;
        page->local = NULL;
        res_body_external(res, status, e->content_type, gz ? e->gz_body : e->body, gz ? e->gz_len : e->len,
                          release_entry, (void *)e);
    } else {
        buf *chosen = gz ? &page->gz : &page->body;
        res->status = status;
        res->content_type = arena_strdup(req->pool, page->content_type);
        buf_free(&res->body);
        res->body = *chosen;            /* hand the buffer over, no copy */
        *chosen = (buf)BUF_INIT;
    }
    cached_page_free(page);
}

bool cached_try(http_request *req, http_response *res, const char *key, const page_tags *tags, cached_page *page)
{
    memset(page, 0, sizeof *page);
    int rc = page_cache_lookup(key, tags, page);
    if (rc == 1) {
        res_header(res, "X-Cache", "hit");
        metrics_page_cache(true);
        send(req, res, key, page, 200);
        return true;
    }
    buf_reset(&page->body);
    res_header(res, "X-Cache", "miss");
    metrics_page_cache(false);
    return false;
}

void cached_moved(http_request *req, http_response *res, cached_page *page, const char *path)
{
    cached_page_free(page);
    const char *q = strchr(req->raw_uri, '?');
    res_redirect(res, 301, arena_printf(req->pool, "%s%s", path, q ? q : ""));
    res_header(res, "Cache-Control", "public, max-age=0, must-revalidate");
}

void cached_finish(http_request *req, http_response *res, const char *key, cached_page *page,
                   const char *content_type, int status)
{
    if (status == 200)
        page_cache_store(key, page, content_type, PAGE_TTL_SECONDS, gzip_accepted(req_header(req, "Accept-Encoding")));
    else /* errors are not cached and carry no validator */
        snprintf(page->content_type, sizeof page->content_type, "%s", content_type);
    send(req, res, key, page, status);
}
