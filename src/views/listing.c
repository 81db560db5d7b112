/* listing.c — turns a catalog_list() result into what the listing
 * templates show: the count, filter chips with "remove" links, a "clear
 * filters" link, pagination links that keep the filters, and flags for
 * the facet groups (Mustache cannot test "is this list empty"). */
#include "views/views.h"

#include "core/config.h"
#include "shop/money.h"

#include <stdio.h>
#include <string.h>

bool view_nonempty(json_t *v) { return json_is_array(v) && json_array_size(v) > 0; }

static json_int_t int_of(json_t *o, const char *key, json_int_t dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

void view_cards_decorate(json_t *cards)
{
    size_t i;
    json_t *card;
    if (!json_is_array(cards)) return;
    json_array_foreach(cards, i, card) {
        json_t *rating = json_object_get(card, "rating");
        json_object_set_new(card, "rated", json_boolean(int_of(rating, "count", 0) > 0));
        json_object_set_new(card, "has_colours", json_boolean(view_nonempty(json_object_get(card, "colours"))));
    }
}

/* The label the facet gives `value`, or the value itself. */
static const char *facet_label(json_t *facet, const char *value)
{
    size_t i;
    json_t *e;
    json_array_foreach(facet, i, e) {
        const char *v = json_string_value(json_object_get(e, "value"));
        const char *label = json_string_value(json_object_get(e, "label"));
        if (v && label && strcmp(v, value) == 0) return label;
    }
    return value;
}

static void add_chip(json_t *chips, const char *label, const char *remove_url)
{
    json_array_append_new(chips, json_pack("{s:s,s:s}", "label", label, "remove_url", remove_url));
}

static const char *money_display(int64_t amount, char *out, size_t outlen)
{
    money_format(money_make(amount, cfg.currency), out, outlen);
    return out;
}

/* Sizes offered as filters are those in stock (count > 0); a size the
 * shopper already picked stays so that it can be unticked. */
static void prune_sizes(json_t *sizes)
{
    if (!json_is_array(sizes)) return;
    for (size_t i = json_array_size(sizes); i-- > 0;) {
        json_t *e = json_array_get(sizes, i);
        if (int_of(e, "count", 1) <= 0 && !json_is_true(json_object_get(e, "selected"))) json_array_remove(sizes, i);
    }
}

static void facet_flags(json_t *facets, const catalog_filter *f)
{
    if (!json_is_object(facets)) return;
    prune_sizes(json_object_get(facets, "sizes"));
    json_object_set_new(facets, "has_sizes", json_boolean(view_nonempty(json_object_get(facets, "sizes"))));
    json_object_set_new(facets, "has_brands", json_boolean(view_nonempty(json_object_get(facets, "brands"))));
    json_object_set_new(facets, "has_colours", json_boolean(view_nonempty(json_object_get(facets, "colours"))));
    json_object_set_new(facets, "has_genders", json_boolean(view_nonempty(json_object_get(facets, "genders"))));
    json_object_set_new(facets, "gender_any", json_boolean(f->gender == NULL));
}

static void active_filters(http_request *req, json_t *listing, const catalog_filter *f)
{
    json_t *facets = json_object_get(listing, "facets");
    json_t *chips = json_array();
    char a[64], b[64];
    for (int i = 0; i < f->nsizes; i++)
        add_chip(chips, facet_label(json_object_get(facets, "sizes"), f->sizes[i]),
                 view_url(req, "size", f->sizes[i], NULL, NULL));
    for (int i = 0; i < f->nbrands; i++)
        add_chip(chips, facet_label(json_object_get(facets, "brands"), f->brands[i]),
                 view_url(req, "brand", f->brands[i], NULL, NULL));
    for (int i = 0; i < f->ncolours; i++)
        add_chip(chips, facet_label(json_object_get(facets, "colours"), f->colours[i]),
                 view_url(req, "colour", f->colours[i], NULL, NULL));
    if (f->gender)
        add_chip(chips, facet_label(json_object_get(facets, "genders"), f->gender),
                 view_url(req, "gender", NULL, NULL, NULL));
    if (f->price_min >= 0 && f->price_max >= 0) {
        char label[160];
        snprintf(label, sizeof label, "%s – %s", money_display(f->price_min, a, sizeof a),
                 money_display(f->price_max, b, sizeof b));
        static const char *const range[] = {"price_min", "price_max", NULL};
        add_chip(chips, label, view_url_without(req, range));   /* one chip removes both ends */
    } else if (f->price_min >= 0) {
        char label[96];
        snprintf(label, sizeof label, "From %s", money_display(f->price_min, a, sizeof a));
        add_chip(chips, label, view_url(req, "price_min", NULL, NULL, NULL));
    } else if (f->price_max >= 0) {
        char label[96];
        snprintf(label, sizeof label, "Up to %s", money_display(f->price_max, b, sizeof b));
        add_chip(chips, label, view_url(req, "price_max", NULL, NULL, NULL));
    }
    size_t n = json_array_size(chips);
    json_object_set_new(listing, "active_filters", chips);
    json_object_set_new(listing, "filter_count", json_integer((json_int_t)n));
    json_object_set_new(listing, "has_active_filters", json_boolean(n > 0));
    static const char *const keep[] = {"q", "sort", NULL};
    json_object_set_new(listing, "clear_url", json_string(view_url_keep(req, keep)));
}

static const char *page_url(http_request *req, json_int_t page)
{
    if (page <= 1) return view_url(req, NULL, NULL, NULL, NULL);
    char n[24];
    snprintf(n, sizeof n, "%lld", (long long)page);
    return view_url(req, NULL, NULL, "page", n);
}

/* 1 … 4 5 6 … 12: first, last, and the current page's neighbours. */
static void pagination(http_request *req, json_t *listing)
{
    json_int_t page = int_of(listing, "page", 1), pages = int_of(listing, "pages", 1);
    json_t *p = json_object();
    json_object_set_new(p, "show", json_boolean(pages > 1));
    json_object_set_new(p, "prev_url", page > 1 ? json_string(page_url(req, page - 1)) : json_null());
    json_object_set_new(p, "next_url", page < pages ? json_string(page_url(req, page + 1)) : json_null());
    json_t *list = json_array();
    json_int_t last_shown = 0;
    for (json_int_t i = 1; i <= pages; i++) {
        if (i != 1 && i != pages && (i < page - 1 || i > page + 1)) continue;
        if (i > last_shown + 1) json_array_append_new(list, json_pack("{s:b}", "gap", 1));
        json_array_append_new(list, json_pack("{s:b,s:I,s:s,s:b}", "gap", 0, "number", i, "url", page_url(req, i),
                                              "current", i == page));
        last_shown = i;
    }
    json_object_set_new(p, "pages", list);
    json_object_set_new(listing, "pagination", p);
}

void view_listing_decorate(http_request *req, json_t *listing, const catalog_filter *f, const char *form_action)
{
    json_t *products = json_object_get(listing, "products");
    view_cards_decorate(products);
    json_object_set_new(listing, "has_products", json_boolean(view_nonempty(products)));
    json_object_set_new(listing, "form_action", json_string(form_action));

    json_int_t total = int_of(listing, "total", 0), page = int_of(listing, "page", 1),
               pages = int_of(listing, "pages", 1);
    char label[96];
    int n = snprintf(label, sizeof label, "%lld %s", (long long)total, total == 1 ? "shoe" : "shoes");
    if (pages > 1 && n > 0 && (size_t)n < sizeof label)
        snprintf(label + n, sizeof label - (size_t)n, " · page %lld of %lld", (long long)page, (long long)pages);
    json_object_set_new(listing, "result_label", json_string(label));

    json_t *facets = json_object_get(listing, "facets");
    facet_flags(facets, f);
    json_t *price = json_object_get(facets, "price");
    const char *lo = NULL, *hi = NULL;
    if (int_of(json_object_get(price, "max"), "amount", 0) > 0) {   /* no products: no range to suggest */
        lo = json_string_value(json_object_get(json_object_get(price, "min"), "display"));
        hi = json_string_value(json_object_get(json_object_get(price, "max"), "display"));
    }
    json_object_set_new(listing, "price_min_placeholder", json_string(lo ? lo : "Min"));
    json_object_set_new(listing, "price_max_placeholder", json_string(hi ? hi : "Max"));

    active_filters(req, listing, f);
    pagination(req, listing);
}
