/* category.c — GET /category/{slug} (a category and everything below it)
 * and GET /shoes (every shoe): a filtered, sorted, paged listing. The
 * filters are a plain GET form, so a listing is a URL: shareable and
 * cached like any other page. */
#include "views/views.h"

#include "web/cached.h"

#include <stdio.h>
#include <string.h>

static void listing_page(http_request *req, http_response *res, const char *slug)
{
    catalog_filter filter;
    char err[256];
    if (catalog_filter_parse(&filter, req->pool, req_query_list_fn, req, err, sizeof err) != 0) {
        res_error(req, res, 400, err);
        return;
    }
    filter.category = slug;

    cached_page page;
    const char *key = cached_key(req, "html");
    page_tags tags = cached_tags_listing(req, slug);
    if (cached_try(req, res, key, &tags, &page)) return;

    json_t *category = NULL;
    if (slug) {
        bool not_found = false;
        category = catalog_category_shared(slug, page.refs_version, &not_found); /* read only */
        if (!category) {
            char to[96];
            /* a renamed category's old address: 301 to where it is now */
            if (not_found && catalog_redirect_category_slug(slug, to, sizeof to) == 1) {
                cached_moved(req, res, &page, arena_printf(req->pool, "/category/%s", to));
                return;
            }
            cached_page_free(&page);
            if (not_found) res_error(req, res, 404, "We could not find that category. It may have moved.");
            else res_error(req, res, 500, "catalog_category_shared failed");
            return;
        }
    }
    json_t *ctx = catalog_list_at(&filter, page.refs_version);
    if (!ctx) {
        json_decref(category);
        cached_page_free(&page);
        res_error(req, res, 500, "catalog_list failed");
        return;
    }
    view_listing_decorate(req, ctx, &filter, req->path);

    const char *name = slug ? json_string_value(json_object_get(category, "name")) : "All shoes";
    if (!name) name = slug;
    const char *path = slug ? json_string_value(json_object_get(category, "url")) : "/shoes";
    json_object_set_new(ctx, "heading", json_string(name));
    json_object_set_new(ctx, "breadcrumbs",
                        view_breadcrumbs(json_object_get(category, "breadcrumbs"), name, path ? path : req->path));
    json_object_set_new(ctx, "has_breadcrumbs", json_true());
    json_object_set_new(ctx, "has_children", json_boolean(view_nonempty(json_object_get(category, "children"))));
    json_int_t pageno = json_integer_value(json_object_get(ctx, "page"));
    json_object_set_new(ctx, "page_title",
                        json_string(pageno > 1 ? arena_printf(req->pool, "%s – page %lld", name, (long long)pageno)
                                               : name));
    json_object_set_new(ctx, "meta_description",
                        json_string(arena_printf(req->pool, "Shop %s: %s.", name,
                                                 json_string_value(json_object_get(ctx, "result_label")))));
    if (slug) json_object_set_new(ctx, "nav_current", json_string(slug));
    else json_object_set_new(ctx, "nav_all_current", json_true());
    if (category) json_object_set_new(ctx, "category", category);

    view_finish_cached(req, res, key, &page, "category", ctx, "rendering the listing failed");
}

void views_category(http_request *req, http_response *res) { listing_page(req, res, req_param(req, "slug")); }

void views_all_shoes(http_request *req, http_response *res) { listing_page(req, res, NULL); }
