/* home.c — GET /: featured shoes, new arrivals and the categories. */
#include "views/views.h"

#include "web/cached.h"

#include <string.h>

/* "Trainers · Boots · Sandals" under each category tile. */
static void child_names(json_t *categories)
{
    size_t i, j;
    json_t *cat, *child;
    json_array_foreach(categories, i, cat) {
        buf names = BUF_INIT;
        json_array_foreach(json_object_get(cat, "children"), j, child) {
            const char *name = json_string_value(json_object_get(child, "name"));
            if (!name) continue;
            if (names.len) buf_puts(&names, " · ");
            buf_puts(&names, name);
        }
        json_object_set_new(cat, "child_names", json_string(buf_cstr(&names)));
        buf_free(&names);
    }
}

void views_home(http_request *req, http_response *res)
{
    cached_page page;
    const char *key = cached_key(req, "html");
    page_tags tags = cached_tags_listing(req, NULL);   /* featured and new products, the category tree */
    if (cached_try(req, res, key, &tags, &page)) return;

    json_t *ctx = catalog_home_at(page.refs_version);
    if (!ctx) {
        cached_page_free(&page);
        res_error(req, res, 500, "catalog_home failed");
        return;
    }
    json_t *featured = json_object_get(ctx, "featured"), *fresh = json_object_get(ctx, "new_arrivals"),
           *categories = json_object_get(ctx, "categories");
    view_cards_decorate(featured);
    view_cards_decorate(fresh);
    child_names(categories);
    json_object_set_new(ctx, "has_featured", json_boolean(view_nonempty(featured)));
    json_object_set_new(ctx, "has_new_arrivals", json_boolean(view_nonempty(fresh)));
    json_object_set_new(ctx, "has_categories", json_boolean(view_nonempty(categories)));
    json_object_set_new(ctx, "new_arrivals_url", json_string("/shoes?sort=newest"));

    view_finish_cached(req, res, key, &page, "home", ctx, "rendering the home page failed");
}
