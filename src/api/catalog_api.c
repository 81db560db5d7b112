/* catalog_api.c — /api/v1/categories, /api/v1/products[/{slug}].
 *
 * Handlers only translate: query → catalog_filter, view model → JSON.
 * Responses go through the page cache like the HTML pages, so an API
 * client sees a price change as soon as the HTML does. */
#include "api/catalog_api.h"

#include "shop/catalog.h"
#include "web/cached.h"

#include <stdlib.h>
#include <string.h>

static const char JSON_TYPE[] = "application/json";

/* Serialise a view model into the cached page body and send it. */
static void finish_json(http_request *req, http_response *res, const char *key, cached_page *page, json_t *value)
{
    char *s = json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10));
    json_decref(value);
    if (!s) {
        cached_page_free(page);
        res_error(req, res, 500, "could not serialise the response");
        return;
    }
    buf_puts(&page->body, s);
    free(s);
    cached_finish(req, res, key, page, JSON_TYPE, 200);
}

void api_categories(http_request *req, http_response *res)
{
    cached_page page;
    const char *key = cached_key(req, "api");
    page_tags tags = cached_tags_reference();
    if (cached_try(req, res, key, &tags, &page)) return;
    json_t *tree = catalog_category_tree(); /* read fresh: a down database answers 503 here */
    if (!tree) {
        cached_page_free(&page);
        res_error(req, res, 503, "the catalogue is unavailable right now");
        return;
    }
    finish_json(req, res, key, &page, json_pack("{s:o}", "categories", tree));
}

void api_products(http_request *req, http_response *res)
{
    catalog_filter filter;
    char err[256];
    if (catalog_filter_parse(&filter, req->pool, req_query_list_fn, req, err, sizeof err) != 0) {
        res_error(req, res, 400, err);
        return;
    }
    cached_page page;
    const char *key = cached_key(req, "api");
    page_tags tags = cached_tags_listing(req, filter.category);
    if (cached_try(req, res, key, &tags, &page)) return;
    json_t *list = catalog_list_at(&filter, page.refs_version);
    if (!list) {
        cached_page_free(&page);
        res_error(req, res, 503, "the catalogue is unavailable right now");
        return;
    }
    /* l:<category> covers the listing only when the category is spelt as
     * its slug; another spelling that MariaDB's collation still resolves
     * (or no category at all) is answered but not stored */
    if (filter.category) {
        bool unknown = false;
        json_t *node = catalog_category_shared(filter.category, page.refs_version, &unknown);
        if (node) json_decref(node);
        else cached_no_store(&page);
    }
    finish_json(req, res, key, &page, list);
}

void api_product(http_request *req, http_response *res)
{
    cached_page page;
    const char *key = cached_key(req, "api"), *slug = req_param(req, "slug");
    page_tags tags = cached_tags_product(req, slug);
    if (cached_try(req, res, key, &tags, &page)) return;
    bool not_found = false;
    json_t *product = catalog_product_at(slug, page.refs_version, &not_found);
    if (!product) {
        char to[128];
        if (not_found && catalog_redirect_slug(slug, to, sizeof to) == 1) {   /* renamed: as the HTML page */
            cached_moved(req, res, &page, arena_printf(req->pool, "/api/v1/products/%s", to));
            return;
        }
        cached_page_free(&page);
        if (not_found) res_error(req, res, 404, "no product with that slug");
        else res_error(req, res, 503, "the catalogue is unavailable right now");
        return;
    }
    const char *canonical = json_string_value(json_object_get(product, "slug"));
    if (!canonical || strcmp(canonical, slug) != 0) cached_no_store(&page);   /* as the HTML page (views/product.c) */
    finish_json(req, res, key, &page, product);
}

/* The OpenAPI document is a file in the repository (docs/openapi.json),
 * read once per worker; tests check that the API answers as it says. */
#include <pthread.h>
#include <stdio.h>

static buf openapi_doc = BUF_INIT;
static pthread_once_t openapi_once = PTHREAD_ONCE_INIT;

static void load_openapi(void)
{
    FILE *f = fopen("docs/openapi.json", "rb");
    if (!f) return;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&openapi_doc, chunk, n);
    fclose(f);
}

void api_openapi(http_request *req, http_response *res)
{
    pthread_once(&openapi_once, load_openapi);
    if (!openapi_doc.len) {
        res_error(req, res, 500, "docs/openapi.json is missing");
        return;
    }
    res->status = 200;
    res->content_type = JSON_TYPE;
    buf_append(&res->body, openapi_doc.data, openapi_doc.len);
    res_header(res, "Cache-Control", "public, max-age=300");
}
