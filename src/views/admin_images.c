/* admin_images.c — the admin portal's image screen of a product:
 *
 *   GET  <admin>/products/{id}/images                      the images in order, the upload form
 *   POST <admin>/products/{id}/images                      upload (multipart/form-data: image, alt)
 *   POST <admin>/products/{id}/images/{image}/edit         its alt text
 *   POST <admin>/products/{id}/images/{image}/move         to=up|down|first ("first": the primary image)
 *   POST <admin>/products/{id}/images/{image}/delete       the password again (policy reauth)
 *
 * Who may call them, CSRF, the upload size limit and the password prompt
 * are the route table's (app.c); the rules of images are shop/product_images.h. */
#include "views/views.h"

#include "core/config.h"
#include "core/text.h"
#include "http/router.h"
#include "media/image.h"
#include "shop/product_images.h"
#include "views/admin_ui.h"
#include "views/forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t path_id(http_request *req, const char *name)
{
    long long v = 0;
    const char *s = req_param(req, name);
    return s && text_parse_int64(s, 1, 1LL << 53, &v) ? (int64_t)v : 0;
}

static const char *images_suffix(http_request *req, int64_t product_id)
{
    return arena_printf(req->pool, "/products/%lld/images", (long long)product_id);
}

/* What the page shows again after a refused form. */
typedef struct page_state {
    const shop_error *upload_error;   /* the upload form's */
    const char *alt;                  /* typed into the upload form */
    int64_t edit_image;               /* the image whose edit form was refused */
    const shop_error *edit_error;
    const char *edit_alt;
} page_state;

static void render(http_request *req, http_response *res, int status, int64_t product_id, const page_state *ps)
{
    product_images *pi = malloc(sizeof *pi);
    if (!pi) abort();
    shop_error e;
    if (product_images_read(product_id, pi, &e) != SHOP_OK) {
        free(pi);
        view_shop_error(req, res, &e);
        return;
    }
    const char *base = admin_url(req, images_suffix(req, product_id));
    json_t *images = json_array();
    for (int i = 0; i < pi->n; i++) {
        const image_row *r = &pi->images[i];
        bool editing = ps && ps->edit_image == r->id && ps->edit_error;
        json_t *img = json_pack("{s:I,s:i,s:b,s:b,s:b,s:s,s:s,s:s,s:s,s:b}", "id", (json_int_t)r->id, "number", i + 1,
                                "primary", i == 0, "first", i == 0, "last", i == pi->n - 1, "url", r->url, "thumb",
                                r->card_url[0] ? r->card_url : r->url, "alt",
                                editing && ps->edit_alt ? ps->edit_alt : r->alt, "action",
                                arena_printf(req->pool, "%s/%lld", base, (long long)r->id), "uploaded",
                                r->card_url[0] != '\0');
        json_object_set_new(img, "error", editing ? json_string(ps->edit_error->message) : json_false());
        json_array_append_new(images, img);
    }
    const image_product *p = &pi->product;
    /* the product's own screens link here; link back when they exist */
    const char *edit = admin_url(req, "/products/{id}");
    json_t *product = json_pack("{s:I,s:s,s:s,s:b,s:s}", "id", (json_int_t)p->id, "name", p->name, "slug", p->slug,
                                "active", p->active, "shop_url", arena_printf(req->pool, "/products/%s", p->slug));
    if (router_has_get(edit))
        json_object_set_new(product, "edit_url",
                            json_string(admin_url(req, arena_printf(req->pool, "/products/%lld", (long long)p->id))));
    json_t *ctx = json_pack("{s:s,s:o,s:o,s:b,s:i,s:i,s:s,s:s,s:b,s:i,s:i}", "page_title",
                            arena_printf(req->pool, "Images · %s", p->name), "product", product, "images", images,
                            "empty", pi->n == 0, "count", pi->n, "max_images", PRODUCT_IMAGES_MAX, "action", base,
                            "upload_alt", ps && ps->alt ? ps->alt : "", "full", pi->n >= PRODUCT_IMAGES_MAX, "max_mb",
                            (int)(cfg.upload_max_bytes >> 20), "max_mp", (int)(IMAGE_LIMITS_UPLOAD.max_pixels / 1000000));
    json_object_set_new(ctx, "sizes",
                        json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "large_w", image_sizes[IMAGE_LARGE].box_width, "large_h",
                                  image_sizes[IMAGE_LARGE].box_height, "card_w", image_sizes[IMAGE_CARD].box_width,
                                  "card_h", image_sizes[IMAGE_CARD].box_height, "min_w", IMAGE_LIMITS_UPLOAD.min_width,
                                  "min_h", IMAGE_LIMITS_UPLOAD.min_height));
    if (ps && ps->upload_error) {
        /* the message beside its field: the file or the alt text */
        const char *f = ps->upload_error->field ? ps->upload_error->field : "";
        const char *key = !strcmp(f, "image") ? "image_error" : !strcmp(f, "alt") ? "alt_error" : "error";
        json_object_set_new(ctx, key, json_string(ps->upload_error->message));
    }
    free(pi);
    admin_page(req, res, status, "admin/product_images", "products", ctx);
}

void admin_images(http_request *req, http_response *res)
{
    render(req, res, 200, path_id(req, "id"), NULL);
}

/* A refusal: the page again with the message beside its field (422), or
 * the error page when there is no page to show (no such product, 503). */
static void refused(http_request *req, http_response *res, int64_t product_id, const shop_error *e, page_state *ps)
{
    if (e->status != SHOP_INVALID) {
        view_shop_error(req, res, e);
        return;
    }
    render(req, res, view_error_status(e), product_id, ps);
}

void admin_images_upload(http_request *req, http_response *res)
{
    int64_t product_id = path_id(req, "id");
    const http_upload *u = req_upload(req, "image");
    image_upload up = {.data = u ? u->data : NULL, .len = u ? u->len : 0, .filename = u ? u->filename : NULL,
                       .alt = req_form(req, "alt")};
    audit_actor who = admin_actor(req);
    shop_error e;
    if (product_image_add(&who, product_id, &up, NULL, &e) != SHOP_OK) {
        page_state ps = {.upload_error = &e, .alt = up.alt};
        refused(req, res, product_id, &e, &ps);
        return;
    }
    admin_done(req, res, images_suffix(req, product_id),
               "The image was added: checked, re-encoded without its metadata, and shown in the shop now.");
}

void admin_image_edit(http_request *req, http_response *res)
{
    int64_t product_id = path_id(req, "id"), image_id = path_id(req, "image");
    const char *alt = req_form(req, "alt");
    audit_actor who = admin_actor(req);
    shop_error e;
    if (product_image_edit(&who, product_id, image_id, alt, &e) != SHOP_OK) {
        page_state ps = {.edit_image = image_id, .edit_error = &e, .edit_alt = alt};
        refused(req, res, product_id, &e, &ps);
        return;
    }
    admin_done(req, res, images_suffix(req, product_id), "The image's description was saved.");
}

void admin_image_move(http_request *req, http_response *res)
{
    int64_t product_id = path_id(req, "id"), image_id = path_id(req, "image");
    image_move how;
    if (!product_image_move_parse(req_form(req, "to"), &how)) {
        res_error(req, res, 400, "The parameter \"to\" must be up, down or first.");
        return;
    }
    audit_actor who = admin_actor(req);
    shop_error e;
    if (product_image_move(&who, product_id, image_id, how, &e) != SHOP_OK) {
        view_shop_error(req, res, &e);
        return;
    }
    admin_done(req, res, images_suffix(req, product_id),
               how == IMAGE_MOVE_FIRST ? "That image is the primary one now." : "The images' order was saved.");
}

void admin_image_delete(http_request *req, http_response *res)
{
    int64_t product_id = path_id(req, "id"), image_id = path_id(req, "image");
    audit_actor who = admin_actor(req);
    shop_error e;
    if (product_image_delete(&who, product_id, image_id, &e) != SHOP_OK) {
        view_shop_error(req, res, &e);
        return;
    }
    admin_done(req, res, images_suffix(req, product_id), "The image was deleted.");
}
