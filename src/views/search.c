/* search.c — GET /search?q=: full-text results with the listing's
 * filters, or (no query, no results) a page that still helps: tips, a
 * search box and the popular categories. */
#include "views/views.h"

#include "web/cached.h"

void views_search(http_request *req, http_response *res)
{
    catalog_filter filter;
    char err[256];
    if (catalog_filter_parse(&filter, req->pool, req_query_list_fn, req, err, sizeof err) != 0) {
        res_error(req, res, 400, err);
        return;
    }
    cached_page page;
    const char *key = cached_key(req, "html");
    page_tags tags = cached_tags_listing(req, NULL);   /* with or without a category: l:*all covers both */
    if (cached_try(req, res, key, &tags, &page)) return;

    json_t *ctx;
    if (filter.q && *filter.q) {
        ctx = catalog_list_at(&filter, page.refs_version);
        if (!ctx) {
            cached_page_free(&page);
            res_error(req, res, 500, "catalog_list (search) failed");
            return;
        }
        view_listing_decorate(req, ctx, &filter, "/search");
        json_object_set_new(ctx, "search_q", json_string(filter.q));
        json_object_set_new(ctx, "page_title", json_string(arena_printf(req->pool, "Search: %s", filter.q)));
    } else {
        ctx = json_pack("{s:s,s:b}", "page_title", "Search", "has_products", 0);
    }

    view_finish_cached(req, res, key, &page, "search", ctx, "rendering the search page failed");
}
