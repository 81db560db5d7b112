/* product.c — GET /products/{slug}: images, price, the colour and size
 * picker (radio buttons; sold-out sizes disabled), size guide, details
 * and approved reviews. */
#include "views/views.h"

#include "web/cached.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Is this image of that colour? The demo catalogue names images
 * "<product>-<colour slug>.svg" and says "... in <Colour>" in the alt. */
static bool shows_colour(json_t *img, json_t *colour)
{
    const char *slug = str(colour, "slug"), *name = str(colour, "name");
    char tail[96];
    snprintf(tail, sizeof tail, "-%s.", slug);
    return (*slug && strstr(str(img, "url"), tail)) || (*name && strcasestr(str(img, "alt"), name));
}

/* The images to show ("images", or the card's single "image"), the
 * selected colour's first; each colour option learns the number of its
 * image (data-image: site.js shows it when that colour is picked). */
static void gallery(json_t *p)
{
    json_t *images = json_object_get(p, "images");
    json_t *g = view_nonempty(images) ? json_deep_copy(images) : json_array();
    if (json_array_size(g) == 0 && json_is_object(json_object_get(p, "image")))
        json_array_append_new(g, json_deep_copy(json_object_get(p, "image")));
    size_t i, j;
    json_t *img, *opt;
    json_array_foreach(json_object_get(p, "options"), i, opt) {
        if (!json_is_true(json_object_get(opt, "checked"))) continue;
        json_array_foreach(g, j, img) {
            if (j > 0 && shows_colour(img, json_object_get(opt, "colour"))) {
                json_incref(img);
                json_array_remove(g, j);
                json_array_insert_new(g, 0, img);
                break;
            }
        }
    }
    json_array_foreach(g, i, img) {
        json_object_set_new(img, "number", json_integer((json_int_t)i + 1));
        json_object_set_new(img, "first", json_boolean(i == 0));
    }
    json_array_foreach(json_object_get(p, "options"), i, opt) {
        json_int_t number = 0;
        json_array_foreach(g, j, img) {
            if (shows_colour(img, json_object_get(opt, "colour"))) {
                number = (json_int_t)j + 1;
                break;
            }
        }
        json_object_set_new(opt, "image_number", json_integer(number));
    }
    json_object_set_new(p, "gallery_count", json_integer((json_int_t)json_array_size(g)));
    json_object_set_new(p, "has_multiple_images", json_boolean(json_array_size(g) > 1));
    json_object_set_new(p, "gallery", g);
}

/* Colour options: the first colour with stock starts selected; sizes get
 * a width note when they are not the standard fit. */
static void options(json_t *p)
{
    json_t *opts = json_object_get(p, "options");
    size_t i, j;
    json_t *opt, *size;
    long first_in_stock = -1;
    json_array_foreach(opts, i, opt) {
        bool any = false;
        json_array_foreach(json_object_get(opt, "sizes"), j, size) {
            if (!json_is_true(json_object_get(size, "sold_out"))) any = true;
            const char *width = str(size, "width");
            json_object_set_new(size, "width_note",
                                json_string(*width && strcasecmp(width, "standard") != 0 ? width : ""));
        }
        json_object_set_new(opt, "any_in_stock", json_boolean(any));
        if (any && first_in_stock < 0) first_in_stock = (long)i;
    }
    if (first_in_stock < 0) first_in_stock = 0;
    json_array_foreach(opts, i, opt) json_object_set_new(opt, "checked", json_boolean((long)i == first_in_stock));
    json_object_set_new(p, "has_options", json_boolean(view_nonempty(opts)));
    json_object_set_new(p, "has_multiple_colours", json_boolean(json_array_size(opts) > 1));
    json_t *first = json_object_get(json_array_get(opts, 0), "colour");
    json_object_set_new(p, "first_colour", json_string(str(first, "name")));
}

/* The review date for people ("5 March 2026": the catalogue's "date", or
 * made from "created_at") and for machines ("2026-03-05"). */
static void review_dates(arena *pool, json_t *p)
{
    static const char *const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                         "July",    "August",   "September", "October", "November", "December"};
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(p, "reviews"), i, r) {
        const char *at = str(r, "created_at");
        int y, m, d;
        if (*str(r, "date")) {   /* the catalogue's own "3 May 2025" */
            json_object_set_new(r, "date_display", json_string(str(r, "date")));
            json_object_set_new(r, "date_iso", json_string(sscanf(at, "%4d-%2d-%2d", &y, &m, &d) == 3
                                                               ? arena_printf(pool, "%04d-%02d-%02d", y, m, d) : ""));
        } else if (sscanf(at, "%4d-%2d-%2d", &y, &m, &d) == 3 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
            char iso[16], human[32];
            snprintf(iso, sizeof iso, "%04d-%02d-%02d", y, m, d);
            snprintf(human, sizeof human, "%d %s %d", d, months[m - 1], y);
            json_object_set_new(r, "date_iso", json_string(iso));
            json_object_set_new(r, "date_display", json_string(human));
        } else {
            json_object_set_new(r, "date_iso", json_string(""));
            json_object_set_new(r, "date_display", json_string(""));
        }
    }
}

static const char *gender_label(const char *g)
{
    if (strcmp(g, "men") == 0) return "Men";
    if (strcmp(g, "women") == 0) return "Women";
    if (strcmp(g, "kids") == 0) return "Kids";
    if (strcmp(g, "unisex") == 0) return "Everyone (unisex)";
    return "";
}

static void decorate(http_request *req, json_t *p)
{
    options(p);   /* first: the gallery leads with the selected colour */
    gallery(p);
    review_dates(req->pool, p);

    json_t *rating = json_object_get(p, "rating");
    json_int_t count = json_integer_value(json_object_get(rating, "count"));
    json_object_set_new(p, "rated", json_boolean(count > 0));
    json_object_set_new(p, "review_word", json_string(count == 1 ? "review" : "reviews"));
    json_object_set_new(p, "has_reviews", json_boolean(view_nonempty(json_object_get(p, "reviews"))));
    json_object_set_new(p, "has_size_guide", json_boolean(view_nonempty(json_object_get(p, "size_guide"))));
    json_object_set_new(p, "gender_label", json_string(gender_label(str(p, "gender"))));

    json_t *compare = json_object_get(p, "compare_at");
    json_int_t now = json_integer_value(json_object_get(json_object_get(p, "price"), "amount"));
    json_int_t was = json_integer_value(json_object_get(compare, "amount"));
    if (json_is_object(compare) && was > now) {
        json_t *saving = catalog_money(was - now);
        json_object_set_new(p, "saving", json_string(str(saving, "display")));
        json_decref(saving);
    } else {
        json_object_set_new(p, "saving", json_string(""));
    }

    const char *name = str(p, "name"), *brand = str(json_object_get(p, "brand"), "name");
    json_object_set_new(p, "breadcrumbs", view_breadcrumbs(json_object_get(p, "breadcrumbs"), name, req->path));
    json_object_set_new(p, "has_breadcrumbs", json_true());
    json_object_set_new(p, "page_title", json_string(arena_printf(req->pool, "%s %s", brand, name)));
    json_object_set_new(p, "meta_description",
                        json_string(arena_printf(req->pool, "%s by %s, %s. Choose your colour and size.", name, brand,
                                                 str(json_object_get(p, "price"), "display"))));
    const char *cat = str(json_object_get(p, "category"), "slug");
    if (*cat) json_object_set_new(p, "nav_current", json_string(cat));
}

void views_product(http_request *req, http_response *res)
{
    cached_page page;
    const char *key = cached_key(req, "html"), *slug = req_param(req, "slug");
    page_tags tags = cached_tags_product(req, slug);
    if (cached_try(req, res, key, &tags, &page)) return;

    bool not_found = false;
    json_t *p = catalog_product_at(slug, page.refs_version, &not_found);
    if (!p) {
        char to[128];
        /* a renamed product's old address: 301 to where it is now */
        if (not_found && catalog_redirect_slug(slug, to, sizeof to) == 1) {
            cached_moved(req, res, &page, arena_printf(req->pool, "/products/%s", to));
            return;
        }
        cached_page_free(&page);
        if (not_found) res_error(req, res, 404, "We could not find that shoe. The link may be out of date.");
        else res_error(req, res, 500, "catalog_product failed");
        return;
    }
    /* only the canonical address is cached: another spelling that the
     * database's collation finds would not be refreshed by p:<slug> */
    const char *canonical = json_string_value(json_object_get(p, "slug"));
    if (!canonical || strcmp(canonical, slug) != 0) cached_no_store(&page);
    decorate(req, p);
    view_finish_cached(req, res, key, &page, "product", p, "rendering the product page failed");
}
