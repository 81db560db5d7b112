/* image.c — see image.h. */
#include "media/image.h"

#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <vips/vips.h>
#include <vips/vector.h> /* vips_vector_set_enabled: not in vips.h in 8.14 */

const image_size image_sizes[IMAGE_RENDITIONS] = {
    [IMAGE_LARGE] = {"1200", 1200, 900}, /* the product page's gallery: 800 × 600 CSS px, sharp at 1.5× */
    [IMAGE_CARD] = {"600", 600, 450},    /* listing cards: 400 × 300 CSS px */
};

const image_limits IMAGE_LIMITS_UPLOAD = {
    .max_bytes = 0,
    .max_pixels = 40 * 1000 * 1000,
    .max_side = 12000,
    .min_width = 200,
    .min_height = 150,
};

/* ---------- once per process ---------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc = -1;
static sem_t slots;

/* libvips' own warnings (a JPEG with extra bytes …) go to our log, not
 * stderr; whether an image is refused is decided by fail_on. */
static void log_vips_message(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    (void)domain; (void)level; (void)data;
    log_debug("libvips: %s", message);
}

static void start(void)
{
    if (VIPS_INIT("shoease") != 0) {
        log_error("images: libvips did not start: %s", vips_error_buffer());
        vips_error_clear();
        return;
    }
    /* Only three loaders may ever run in this process, and only from
     * memory: block every loader, then allow those (vips' documented way;
     * order matters, a class's flag is set on all its subclasses). The
     * "untrusted" ones (ImageMagick, PDF, SVG …) are blocked twice. */
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoad", TRUE);
    vips_operation_block_set("VipsForeignLoadJpegBuffer", FALSE);
    vips_operation_block_set("VipsForeignLoadPngBuffer", FALSE);
    vips_operation_block_set("VipsForeignLoadWebpBuffer", FALSE);
    /* No operation cache (it would keep decoded uploads alive), one
     * thread per pipeline (the request's thread does the work). */
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    /* No run-time code generation (liborc): it needs memory that is
     * written, then executed — what the service's MemoryDenyWriteExecute
     * forbids and a server handling uploads is better without. libvips
     * takes its plain C paths instead. */
    vips_vector_set_enabled(FALSE);
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE,
                      log_vips_message, NULL);
    if (sem_init(&slots, 0, IMAGE_CONCURRENCY) != 0) {
        log_error("images: sem_init: %s", strerror(errno));
        return;
    }
    init_rc = 0;
}

int image_init(void)
{
    pthread_once(&init_once, start);
    return init_rc;
}

/* ---------- what the bytes are ---------- */

image_type image_sniff(const void *data, size_t len)
{
    const unsigned char *b = data;
    if (!b) return IMAGE_UNKNOWN;
    if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return IMAGE_JPEG;
    if (len >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) return IMAGE_PNG;
    if (len >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) return IMAGE_WEBP;
    return IMAGE_UNKNOWN;
}

const char *image_type_name(image_type t)
{
    switch (t) {
    case IMAGE_JPEG: return "JPEG";
    case IMAGE_PNG: return "PNG";
    case IMAGE_WEBP: return "WebP";
    default: return "unknown";
    }
}

/* A name for the formats people try most, for a clearer refusal. */
static const char *other_format(const unsigned char *b, size_t len)
{
    if (len >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6))) return "a GIF image";
    if (len >= 4 && !memcmp(b, "%PDF", 4)) return "a PDF document";
    if (len >= 12 && !memcmp(b + 4, "ftyp", 4)) return "a HEIC/AVIF image or a video";
    if (len >= 4 && (!memcmp(b, "II*\0", 4) || !memcmp(b, "MM\0*", 4))) return "a TIFF image";
    if (len >= 2 && b[0] == 'B' && b[1] == 'M') return "a BMP image";
    size_t i = 0;
    if (len >= 3 && !memcmp(b, "\xEF\xBB\xBF", 3)) i = 3;
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) i++;
    if (i < len && b[i] == '<') return "an SVG or other XML/HTML file";
    return NULL;
}

/* ---------- checking and re-encoding ---------- */

static void say(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || !whylen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* libvips' message for the operator's log (debug: refusals are the
 * uploader's business), then cleared. The buffer is process-wide; a line
 * from another thread's failure may ride along, which is harmless here. */
static void vips_detail(const char *what)
{
    log_debug("images: %s: %s", what, vips_error_buffer());
    vips_error_clear();
}

static int load_header(image_type t, const void *data, size_t len, VipsImage **out)
{
    void *d = (void *)data; /* libvips' loaders take a non-const pointer and never write through it */
    switch (t) {
    case IMAGE_JPEG:
        return vips_jpegload_buffer(d, len, out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    case IMAGE_PNG:
        return vips_pngload_buffer(d, len, out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    case IMAGE_WEBP:
        return vips_webpload_buffer(d, len, out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    default:
        return -1;
    }
}

static int encode(VipsImage *img, image_rendition *r)
{
    void *buf = NULL;
    size_t n = 0;
    if (vips_webpsave_buffer(img, &buf, &n, "Q", IMAGE_WEBP_QUALITY, "strip", TRUE, NULL) != 0) return -1;
    r->data = buf;
    r->len = n;
    r->width = vips_image_get_width(img);
    r->height = vips_image_get_height(img);
    return 0;
}

/* The work, with a slot held. 0, -1 (refused: why set). */
static int process(image_type t, const void *data, size_t len, const image_limits *lim, image_result *out,
                   char *why, size_t whylen)
{
    const char *name = image_type_name(t);
    VipsImage *head = NULL;
    /* The header only (the loaders are lazy): dimensions before pixels. */
    if (load_header(t, data, len, &head) != 0) {
        vips_detail("header");
        say(why, whylen, "This file starts like a %s image but cannot be read as one: it is damaged or incomplete.",
            name);
        return -1;
    }
    int w = vips_image_get_width(head), h = vips_image_get_height(head);
    g_object_unref(head);
    out->width = w;
    out->height = h;
    if (w <= 0 || h <= 0 || w > lim->max_side || h > lim->max_side || (int64_t)w * h > lim->max_pixels) {
        say(why, whylen,
            "The image is %d × %d pixels; at most %lld megapixels and %d pixels a side are accepted. Make it smaller "
            "and upload it again.",
            w, h, (long long)(lim->max_pixels / 1000000), lim->max_side);
        return -1;
    }
    if (w < lim->min_width || h < lim->min_height) {
        say(why, whylen, "The image is only %d × %d pixels; upload one of at least %d × %d.", w, h, lim->min_width,
            lim->min_height);
        return -1;
    }

    /* Decode once, shrunk on load where the format allows (JPEG, WebP),
     * turned upright (thumbnail swaps the box for a sideways photo), fit in
     * the large box; every pixel is read here, so damage shows now. The
     * loader is the one sniff chose: the others are blocked (image_init). */
    const image_size *L = &image_sizes[IMAGE_LARGE], *C = &image_sizes[IMAGE_CARD];
    VipsImage *thumb = NULL, *large = NULL, *srgb = NULL, *card = NULL;
    int rc = -1;
    if (vips_thumbnail_buffer((void *)data, len, &thumb, L->box_width, "height", L->box_height, "size",
                              VIPS_SIZE_DOWN, "option_string", "fail_on=error", NULL) != 0 ||
        !(large = vips_image_copy_memory(thumb))) {
        vips_detail("decode");
        say(why, whylen, "This %s image cannot be read: it is damaged or incomplete.", name);
        goto done;
    }
    /* Everything the storefront shows is 8-bit sRGB (thumbnail converts
     * images with a profile; CMYK or 16-bit ones without are converted
     * here), then only the pixels go on: a new image made from them carries
     * no metadata at all — no EXIF (GPS positions, camera serials), XMP,
     * IPTC or ICC — whatever the saver's "strip" does (Debian 12's libvips
     * 8.14 webpsave still writes the EXIF it was given). */
    VipsInterpretation in = vips_image_get_interpretation(large);
    VipsImage *conv = NULL;
    if (in != VIPS_INTERPRETATION_sRGB && in != VIPS_INTERPRETATION_B_W) {
        if (vips_colourspace(large, &conv, VIPS_INTERPRETATION_sRGB, NULL) != 0) conv = NULL;
    } else if (vips_image_get_format(large) != VIPS_FORMAT_UCHAR) {
        if (vips_cast_uchar(large, &conv, NULL) != 0) conv = NULL;
    } else {
        conv = large;
        g_object_ref(conv);
    }
    if (conv) {
        size_t bytes = 0;
        void *pixels = vips_image_write_to_memory(conv, &bytes);
        if (pixels)
            srgb = vips_image_new_from_memory_copy(pixels, bytes, vips_image_get_width(conv),
                                                   vips_image_get_height(conv), vips_image_get_bands(conv),
                                                   VIPS_FORMAT_UCHAR);
        g_free(pixels);
        g_object_unref(conv);
    }
    if (!srgb) {
        vips_detail("colourspace");
        say(why, whylen, "This %s image uses colours that cannot be converted for the web.", name);
        goto done;
    }
    if (encode(srgb, &out->out[IMAGE_LARGE]) != 0 ||
        vips_thumbnail_image(srgb, &card, C->box_width, "height", C->box_height, "size", VIPS_SIZE_DOWN, NULL) != 0 ||
        encode(card, &out->out[IMAGE_CARD]) != 0) {
        vips_detail("encode");
        say(why, whylen, "This %s image could not be converted; try saving it again and uploading that file.", name);
        goto done;
    }
    rc = 0;
done:
    if (card) g_object_unref(card);
    if (srgb) g_object_unref(srgb);
    if (large) g_object_unref(large);
    if (thumb) g_object_unref(thumb);
    return rc;
}

int image_process(const void *data, size_t len, const image_limits *lim, image_result *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (why && whylen) why[0] = '\0';
    if (!data || len == 0) {
        say(why, whylen, "Choose an image file to upload.");
        return -1;
    }
    if (lim->max_bytes && len > lim->max_bytes) {
        say(why, whylen, "The file is %.1f MB; at most %.1f MB is accepted.", (double)len / 1048576.0,
            (double)lim->max_bytes / 1048576.0);
        return -1;
    }
    image_type t = image_sniff(data, len);
    if (t == IMAGE_UNKNOWN) {
        const char *other = other_format(data, len);
        if (other)
            say(why, whylen, "This file is %s. Upload a JPEG, PNG or WebP image.", other);
        else
            say(why, whylen, "This file is not a JPEG, PNG or WebP image (whatever its name says). Upload a photo in "
                             "one of those formats.");
        return -1;
    }
    out->type = t;
    if (image_init() != 0) {
        say(why, whylen, "Images cannot be processed at the moment. Please try again shortly.");
        return -2;
    }
    while (sem_wait(&slots) != 0 && errno == EINTR) {
    }
    int rc = process(t, data, len, lim, out, why, whylen);
    sem_post(&slots);
    if (rc != 0) {
        image_result_free(out);
        out->type = t;
    }
    return rc;
}

void image_result_free(image_result *r)
{
    for (int i = 0; i < IMAGE_RENDITIONS; i++) {
        g_free(r->out[i].data);
        r->out[i] = (image_rendition){0};
    }
}
