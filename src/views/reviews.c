/* reviews.c — a shopper's review of a shoe (shop/reviews.h).
 *
 *   GET  /products/{slug}/review    the form
 *   POST /products/{slug}/review    send it (it waits for moderation)
 *
 * Who may (a signed-in shopper with a confirmed e-mail), CSRF and the rate
 * limit are the route table's (app.c). The product page itself stays a
 * shared cached page: it only links here. */
#include "views/views.h"

#include "core/text.h"
#include "shop/catalog.h"
#include "shop/reviews.h"
#include "views/forms.h"
#include "web/session.h"

#include <string.h>

static void review_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    const char *slug = req_param(req, "slug");
    bool not_found = false;
    json_t *p = catalog_product(slug, &not_found);
    if (!p) {
        if (not_found) res_error(req, res, 404, "We could not find that shoe. The link may be out of date.");
        else res_error(req, res, 503, "catalog_product failed");
        return;
    }
    const char *typed_rating = req_form(req, "rating");
    json_t *stars = json_array();
    for (int i = 5; i >= 1; i--) {
        char v[2] = {(char)('0' + i), 0};
        json_array_append_new(stars, json_pack("{s:i,s:b,s:s}", "value", i, "checked",
                                               typed_rating && !strcmp(typed_rating, v), "label",
                                               i == 1 ? "1 star" : i == 5 ? "5 stars — love them" : (const char *[]){
                                                   "", "", "2 stars", "3 stars", "4 stars"}[i]));
    }
    json_t *fields = json_array();
    json_t *title = view_field("title", "Title", "text", req_form(req, "title"), "off");
    json_object_set_new(title, "maxlength", json_integer(CATALOG_REVIEW_TITLE_MAX));
    json_array_append_new(fields, title);
    const char *body = req_form(req, "body");
    const char *name = json_string_value(json_object_get(p, "name"));
    const char *brand = json_string_value(json_object_get(json_object_get(p, "brand"), "name"));
    json_t *ctx = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:b,s:b}", "page_title", "Write a review", "slug", slug,
                            "product_name", name ? name : slug, "brand_name", brand ? brand : "", "stars", stars,
                            "fields", fields, "body", body ? body : "", "body_error", 0, "rating_error", 0);
    json_decref(p);
    if (e) {
        if (e->field && !strcmp(e->field, "body")) json_object_set_new(ctx, "body_error", json_string(e->message));
        else if (e->field && !strcmp(e->field, "rating")) json_object_set_new(ctx, "rating_error", json_string(e->message));
        else view_form_error(ctx, fields, e);
    }
    view_page(req, res, status, "review", ctx);
}

void review_form_show(http_request *req, http_response *res) { review_page(req, res, 200, NULL); }

void review_submit(http_request *req, http_response *res)
{
    const char *rating = req_form(req, "rating");
    long long n = 0;
    if (!rating || !text_parse_int64(rating, 1, 5, &n)) n = 0;
    const char *title = req_form(req, "title"), *body = req_form(req, "body");
    review_form f = {.rating = (int)n, .title = title ? title : "", .body = body ? body : ""};
    bool verified = false;
    shop_error e;
    if (reviews_submit(req->session->user_id, req_param(req, "slug"), &f, &verified, &e) != SHOP_OK) {
        if (e.status == SHOP_INVALID) review_page(req, res, 422, &e);
        else view_shop_error(req, res, &e);
        return;
    }
    view_done(req, res, arena_printf(req->pool, "/products/%s", req_param(req, "slug")),
              verified ? "Thank you! Your review (a verified purchase) will appear once we have read it."
                       : "Thank you! Your review will appear once we have read it.");
}
