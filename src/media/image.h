/* image.h — product images from untrusted bytes, with libvips: told apart
 * by their content (never by a name or a Content-Type), checked, decoded
 * once, and re-encoded into the sizes the storefront shows. The bytes that
 * came in are never stored or served: only what libvips wrote.
 *
 *   image_result r;
 *   char why[200];
 *   if (image_process(up->data, up->len, &IMAGE_LIMITS_UPLOAD, &r, why, sizeof why) != 0)
 *       → refuse, with `why` beside the file field;
 *   … write r.out[IMAGE_LARGE].data / len, r.out[IMAGE_CARD] … ;
 *   image_result_free(&r);
 *
 * Rules it keeps:
 *   - only JPEG, PNG and WebP, recognised by their magic bytes and then
 *     decoded by that format's own libvips loader; every other loader
 *     (SVG, PDF, GIF, HEIF, ImageMagick …) is blocked in the process, so no
 *     byte of an upload ever reaches them;
 *   - the size of the file and the width × height the header claims are
 *     checked before a single pixel is decoded (a "decompression bomb" of a
 *     few KB claiming 100 megapixels is refused from its header);
 *   - decoding fails on errors and truncation (libvips' fail_on=error): a
 *     damaged or cut-off file is refused, not shown half grey;
 *   - the output is WebP without any metadata (EXIF with GPS positions,
 *     XMP, ICC — colours are converted to sRGB first), turned upright by
 *     the EXIF orientation, shrunk (never enlarged) to fit the storefront's
 *     4:3 boxes: IMAGE_LARGE for the product page, IMAGE_CARD for listings;
 *   - at most IMAGE_CONCURRENCY images are processed at once per process
 *     (others wait): a burst of uploads costs bounded memory.
 *
 * image_init() once per process, before the seccomp sandbox (it loads
 * libvips' modules) and after any fork. */
#ifndef SHOEASE_MEDIA_IMAGE_H
#define SHOEASE_MEDIA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

typedef enum image_type { IMAGE_UNKNOWN = 0, IMAGE_JPEG, IMAGE_PNG, IMAGE_WEBP } image_type;

/* The storefront's sizes: the box each rendition fits in (4:3, like the
 * gallery's and the cards' frames: templates/product.mustache, partials/card). */
enum { IMAGE_LARGE = 0, IMAGE_CARD = 1, IMAGE_RENDITIONS = 2 };
typedef struct image_size {
    const char *name;       /* "1200", "600": the file name's suffix */
    int box_width, box_height;
} image_size;
extern const image_size image_sizes[IMAGE_RENDITIONS];

#define IMAGE_CONCURRENCY 2
#define IMAGE_WEBP_QUALITY 82

typedef struct image_limits {
    size_t max_bytes;       /* the file itself */
    int64_t max_pixels;     /* width × height the header claims (decompression bombs) */
    int max_side;           /* either side */
    int min_width, min_height; /* too small to show well */
} image_limits;

/* Uploads through the admin portal: 40 megapixels, 12000 px a side, at
 * least 200 × 150; max_bytes 0 = any the request could carry. */
extern const image_limits IMAGE_LIMITS_UPLOAD;

typedef struct image_rendition {
    int width, height;
    unsigned char *data;    /* WebP; freed by image_result_free */
    size_t len;
} image_rendition;

typedef struct image_result {
    image_type type;        /* what the bytes were */
    int width, height;      /* the original's, as stored (before turning upright) */
    image_rendition out[IMAGE_RENDITIONS];
} image_result;

/* 0, or -1 (logged): libvips could not start. Safe to call again. */
int image_init(void);

/* What the bytes are, from their first bytes only. */
image_type image_sniff(const void *data, size_t len);
const char *image_type_name(image_type t);   /* "JPEG", "PNG", "WebP", "unknown" */

/* Check and re-encode. 0 with *out filled (free with image_result_free);
 * -1: refused, why says why in a sentence for the store owner; -2: the
 * fault is ours (libvips did not start), why says to try again. Nothing to
 * free after a failure. */
int image_process(const void *data, size_t len, const image_limits *lim, image_result *out, char *why,
                  size_t whylen);
void image_result_free(image_result *r);

#endif
