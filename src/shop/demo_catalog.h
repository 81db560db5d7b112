/* demo_catalog.h — the demo catalogue that `shoease seed` loads.
 *
 * Generated from fixed word lists by a PRNG with a fixed seed, so every run
 * produces the same products, variants, stock levels and reviews (only
 * created_at is relative to the time of seeding). Tests may rely on it;
 * change DEMO_CATALOG_VERSION whenever the generated data changes. */
#ifndef SHOEASE_SHOP_DEMO_CATALOG_H
#define SHOEASE_SHOP_DEMO_CATALOG_H

#include "db/db.h"

#include <stdbool.h>

#define DEMO_CATALOG_VERSION "1"
#define DEMO_CATALOG_META_KEY "demo_catalog_version"

typedef struct demo_counts {
    int categories, brands, colours, products, variants, images, reviews;
} demo_counts;

/* Called after each product with (done, total). */
typedef void (*demo_progress_fn)(int done, int total);

/* Insert the whole demo catalogue on c, inside the caller's unit of work
 * (db_tx_run: it may run again after a deadlock, and inserts the same
 * rows every time). 0, or -1 (the unit of work rolls back). */
int demo_catalog_insert(db_conn *c, demo_counts *counts, demo_progress_fn progress);

/* Write the SVG of every product image under <media_dir>/products/ (URLs
 * /media/products/<name>.svg). With only_missing, existing files are left
 * alone. *written counts files written. 0, or -1. */
int demo_images_write(const char *media_dir, bool only_missing, int *written);

/* The SVG for one image (exposed for tests): a shoe silhouette of the
 * category's kind in colour hex with the brand's initial. Caller frees. */
char *demo_image_svg(const char *brand_name, const char *category_slug, const char *hex);

#endif
