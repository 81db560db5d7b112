/* cached.c — see cached.h. */
#include "web/cached.h"

#include <stdio.h>
#include <string.h>

#define PAGE_TTL_SECONDS 3600

static char epoch[32] = "0";

void cached_set_epoch(const char *value) { snprintf(epoch, sizeof epoch, "%s", value); }

const char *cached_key(http_request *req, const char *prefix)
{
    const char *q = strchr(req->raw_uri, '?');
    return arena_printf(req->pool, "%s:%s:%s%s", prefix, epoch, req->path, q ? q : "");
}

static bool etag_matches(const char *header, const char *etag)
{
    if (!header) return false;
    if (strcmp(header, "*") == 0) return true;
    /* a list of tags, possibly weak (W/"..."): compare the opaque parts */
    const char *p = strstr(header, etag);
    return p != NULL;
}

static void send(http_request *req, http_response *res, cached_page *page, int status)
{
    if (status == 200) res_header(res, "ETag", arena_strdup(req->pool, page->etag));
    res_header(res, "Cache-Control", "public, max-age=0, must-revalidate");
    if (status == 200 && etag_matches(req_header(req, "If-None-Match"), page->etag)) {
        res->status = 304;
        res->content_type = NULL;
        buf_reset(&res->body);
    } else {
        res->status = status;
        res->content_type = arena_strdup(req->pool, page->content_type);
        buf_free(&res->body);
        res->body = page->body;         /* hand the buffer over, no copy */
        page->body = (buf)BUF_INIT;
    }
    cached_page_free(page);
}

bool cached_try(http_request *req, http_response *res, const char *key, cached_page *page)
{
    memset(page, 0, sizeof *page);
    int rc = page_cache_lookup(key, page);
    if (rc == 1) {
        res_header(res, "X-Cache", "hit");
        send(req, res, page, 200);
        return true;
    }
    buf_reset(&page->body);
    res_header(res, "X-Cache", "miss");
    return false;
}

void cached_finish(http_request *req, http_response *res, const char *key, cached_page *page,
                   const char *content_type, int status)
{
    if (status == 200) page_cache_store(key, page, content_type, PAGE_TTL_SECONDS);
    else /* errors are not cached and carry no validator */
        snprintf(page->content_type, sizeof page->content_type, "%s", content_type);
    send(req, res, page, status);
}
