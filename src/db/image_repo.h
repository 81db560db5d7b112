/* image_repo.h — the SQL of a product's images (product_images,
 * migrations/0002, 0012) for the admin portal's image screen.
 *
 *   db_conn *c = db_tx_conn(tx);
 *   image_product p;
 *   if (image_repo_product(c, id, true, &p) != 1) return …;      // the product row locked for the unit of work
 *   image_row rows[IMAGE_REPO_MAX];
 *   int n = image_repo_list(c, id, true, rows, IMAGE_REPO_MAX);   // its images, in order, locked
 *   image_repo_insert(c, &(image_row){.product_id = id, .url = …, .card_url = …, .alt = …, .position = n}, &new_id);
 *
 * (product_images.colour_id is the seed's: the storefront tells an image's
 * colour from its file name or alt text — views/product.c — so the portal
 * neither shows nor sets it.)
 *
 * Rules: prepared statements from fixed SQL ('?' for every value); writers
 * take the caller's unit of work's connection (db/tx.h) and never begin,
 * commit or roll back. The triggers of migrations/0012 keep the product's
 * card image (products.card_image_url/alt) in step with its first image.
 * 0 / -1 (a store error, logged) unless said otherwise. */
#ifndef SHOEASE_DB_IMAGE_REPO_H
#define SHOEASE_DB_IMAGE_REPO_H

#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

/* More images than a product page could sensibly show: the screen refuses
 * uploads beyond it. */
#define IMAGE_REPO_MAX 24

typedef struct image_product {
    int64_t id;
    char slug[121];
    char name[161];
    bool active;
} image_product;

typedef struct image_row {
    int64_t id, product_id;
    int position;
    char url[256];              /* the large rendition (or a seeded image) */
    char card_url[256];         /* the card rendition ("" for seeded images) */
    char alt[256];
} image_row;

/* The product: 1 (locked FOR UPDATE when lock), 0 no such product, -1. */
int image_repo_product(db_conn *c, int64_t product_id, bool lock, image_product *out);
/* Its images by (position, id), at most max: the count, or -1. */
int image_repo_list(db_conn *c, int64_t product_id, bool lock, image_row *out, int max);
/* row: product_id, url, card_url, alt, position. */
int image_repo_insert(db_conn *c, const image_row *row, int64_t *id);
int image_repo_set_alt(db_conn *c, int64_t image_id, const char *alt);
int image_repo_set_position(db_conn *c, int64_t image_id, int position);
int image_repo_delete(db_conn *c, int64_t image_id);

#endif
