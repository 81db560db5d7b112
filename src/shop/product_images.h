/* product_images.h — a product's images as staff manage them in the admin
 * portal: upload, describe (alt text), reorder, make primary, delete.
 *
 *   shop_error e;
 *   image_upload up = {.data = u->data, .len = u->len, .filename = u->filename, .alt = alt};
 *   if (product_image_add(&who, product_id, &up, &image_id, &e) != SHOP_OK)
 *       → the form again with e.message beside e.field ("image" or "alt");
 *
 * Rules it keeps:
 *   - an upload is checked by its content and re-encoded (media/image.h):
 *     only the WebP renditions libvips wrote are stored, under
 *     MEDIA_DIR/images/<2 hex>/<32 random hex>-<size>.webp (names nobody can
 *     guess or choose), written before the row that names them commits and
 *     removed again if it does not;
 *   - every write is ONE unit of work with its audit row (entity
 *     "product_image": who, before → after) and, after commit, the page
 *     cache bumps of exactly what changed: the product's page always, its
 *     listings only when its first image (the card's) changed;
 *   - the product row is locked first, so two staff reordering or
 *     uploading at once are serialised, and positions stay 0, 1, 2 … in
 *     the shown order;
 *   - a deleted image's files are removed after its row is gone (commit);
 *     the demo seed's images (under /media/products/) are never touched on
 *     disk.
 * Which colour an image shows is told by the storefront from its alt text
 * ("… in Navy": views/product.c), so there is no separate colour to set. */
#ifndef SHOEASE_SHOP_PRODUCT_IMAGES_H
#define SHOEASE_SHOP_PRODUCT_IMAGES_H

#include "db/image_repo.h"
#include "shop/audit.h"
#include "shop/result.h"

#include <stddef.h>
#include <stdint.h>

#define PRODUCT_IMAGES_MAX IMAGE_REPO_MAX
#define PRODUCT_IMAGE_ALT_MAX 255    /* bytes, as the column */

/* The image screen: the product and its images in order (the first is the
 * primary one: the card's and the product page's first). */
typedef struct product_images {
    image_product product;
    image_row images[PRODUCT_IMAGES_MAX];
    int n;
} product_images;

shop_status product_images_read(int64_t product_id, product_images *out, shop_error *e);

typedef struct image_upload {
    const void *data;
    size_t len;
    const char *filename;   /* as sent: recorded in the audit log, never used for anything else */
    const char *alt;        /* may be NULL or "" (the storefront then uses the product's name) */
} image_upload;

shop_status product_image_add(const audit_actor *who, int64_t product_id, const image_upload *up, int64_t *image_id,
                              shop_error *e);
shop_status product_image_edit(const audit_actor *who, int64_t product_id, int64_t image_id, const char *alt,
                               shop_error *e);

typedef enum image_move { IMAGE_MOVE_UP, IMAGE_MOVE_DOWN, IMAGE_MOVE_FIRST } image_move;
/* "up", "down", "first" */
bool product_image_move_parse(const char *s, image_move *out);
shop_status product_image_move(const audit_actor *who, int64_t product_id, int64_t image_id, image_move how,
                               shop_error *e);
shop_status product_image_delete(const audit_actor *who, int64_t product_id, int64_t image_id, shop_error *e);

#endif
