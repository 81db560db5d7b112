/* test_images.c — media/image.c and media/media_files.c: a file's type is
 * told from its bytes, bad files are refused with a sentence for the store
 * owner (not an image whatever its name, GIF, SVG, cut off, a decompression
 * bomb, too small, empty, too large), good ones come out as WebP in the
 * storefront's sizes, upright, without any of the upload's metadata; media
 * paths cannot leave MEDIA_DIR. Fixtures: tests/integration/fixtures/images/. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "media/image.h"
#include "media/media_files.h"

#ifndef SOURCE_ROOT
#define SOURCE_ROOT "."
#endif

typedef struct bytes {
    unsigned char *data;
    size_t len;
} bytes;

static bytes fixture(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/integration/fixtures/images/%s", SOURCE_ROOT, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    bytes b = {malloc(1 << 22), 0};
    b.len = fread(b.data, 1, 1 << 22, f);
    fclose(f);
    assert_true(b.len > 0);
    return b;
}

static bool contains(const unsigned char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(hay + i, needle, k)) return true;
    return false;
}

static void put32be(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* A PNG chunk at p: length, type, data, CRC. Returns its size. */
static size_t chunk(unsigned char *p, const char *type, const unsigned char *data, uint32_t len)
{
    put32be(p, len);
    memcpy(p + 4, type, 4);
    if (len) memcpy(p + 8, data, len);
    put32be(p + 8 + len, (uint32_t)crc32(crc32(0, p + 4, 4), data, len));
    return 12 + len;
}

/* A grey PNG of w × h (1 bit per pixel, all black): a few KB however big
 * it claims to be. */
static bytes png_grey(uint32_t w, uint32_t h)
{
    size_t row = 1 + (w + 7) / 8, raw_len = row * h;
    unsigned char *raw = calloc(1, raw_len);
    uLongf zlen = compressBound((uLong)raw_len);
    unsigned char *z = malloc(zlen);
    assert_int_equal(compress2(z, &zlen, raw, (uLong)raw_len, 9), Z_OK);
    bytes b = {malloc(zlen + 100), 0};
    memcpy(b.data, "\x89PNG\r\n\x1a\n", 8);
    b.len = 8;
    unsigned char ihdr[13] = {0};
    put32be(ihdr, w);
    put32be(ihdr + 4, h);
    ihdr[8] = 1; /* bit depth */
    b.len += chunk(b.data + b.len, "IHDR", ihdr, 13);
    b.len += chunk(b.data + b.len, "IDAT", z, (uint32_t)zlen);
    b.len += chunk(b.data + b.len, "IEND", NULL, 0);
    free(raw);
    free(z);
    return b;
}

static image_limits limits(void)
{
    image_limits l = IMAGE_LIMITS_UPLOAD;
    l.max_bytes = 10 << 20;
    return l;
}

static void refused(const void *data, size_t len, const char *expect)
{
    image_limits l = limits();
    image_result r;
    char why[240];
    assert_int_equal(image_process(data, len, &l, &r, why, sizeof why), -1);
    if (!strstr(why, expect)) fail_msg("refusal \"%s\" does not say \"%s\"", why, expect);
    for (int i = 0; i < IMAGE_RENDITIONS; i++) assert_null(r.out[i].data);
}

/* The WebP's RIFF header and VP8X canvas (libvips writes one). */
static void webp_size(const image_rendition *r, int *w, int *h)
{
    assert_true(r->len > 30);
    assert_memory_equal(r->data, "RIFF", 4);
    assert_memory_equal(r->data + 8, "WEBP", 4);
    assert_memory_equal(r->data + 12, "VP8X", 4);
    const unsigned char *p = r->data + 24;
    *w = 1 + (p[0] | p[1] << 8 | p[2] << 16);
    *h = 1 + (p[3] | p[4] << 8 | p[5] << 16);
}

static void test_sniff(void **state)
{
    (void)state;
    assert_int_equal(image_sniff("\xff\xd8\xff\xe0", 4), IMAGE_JPEG);
    assert_int_equal(image_sniff("\x89PNG\r\n\x1a\n", 8), IMAGE_PNG);
    assert_int_equal(image_sniff("RIFF\0\0\0\0WEBPVP8 ", 16), IMAGE_WEBP);
    assert_int_equal(image_sniff("RIFF\0\0\0\0WAVEfmt ", 16), IMAGE_UNKNOWN);
    assert_int_equal(image_sniff("GIF89a", 6), IMAGE_UNKNOWN);
    assert_int_equal(image_sniff("\xff\xd8", 2), IMAGE_UNKNOWN);
    assert_int_equal(image_sniff(NULL, 0), IMAGE_UNKNOWN);
    assert_string_equal(image_type_name(IMAGE_WEBP), "WebP");
}

static void test_jpeg_with_gps_comes_out_clean(void **state)
{
    (void)state;
    bytes in = fixture("shoe-gps.jpg");
    assert_true(contains(in.data, in.len, "ShoEaseCam")); /* the camera's make, next to the GPS tags */
    image_limits l = limits();
    image_result r;
    char why[240];
    assert_int_equal(image_process(in.data, in.len, &l, &r, why, sizeof why), 0);
    assert_int_equal(r.type, IMAGE_JPEG);
    assert_int_equal(r.width, 1600);
    assert_int_equal(r.height, 1200);
    int w, h;
    webp_size(&r.out[IMAGE_LARGE], &w, &h);
    assert_int_equal(w, 1200);
    assert_int_equal(h, 900);
    webp_size(&r.out[IMAGE_CARD], &w, &h);
    assert_int_equal(w, 600);
    assert_int_equal(h, 450);
    assert_int_equal(r.out[IMAGE_LARGE].width, 1200);
    for (int i = 0; i < IMAGE_RENDITIONS; i++) {
        const image_rendition *o = &r.out[i];
        assert_false(contains(o->data, o->len, "ShoEaseCam"));
        assert_false(contains(o->data, o->len, "Model GPS-1"));
        assert_false(contains(o->data, o->len, "XMP "));
        assert_false(contains(o->data, o->len, "ICCP"));
        /* GPSInfo (tag 0x8825) in a little-endian IFD entry */
        assert_false(contains(o->data, o->len, "\x25\x88\x04\x00"));
    }
    image_result_free(&r);
    free(in.data);
}

static void test_turned_upright_and_never_enlarged(void **state)
{
    (void)state;
    bytes in = fixture("shoe-rotated.jpg"); /* 640 × 480, EXIF orientation 6 (a phone held upright) */
    image_limits l = limits();
    image_result r;
    char why[240];
    assert_int_equal(image_process(in.data, in.len, &l, &r, why, sizeof why), 0);
    int w, h;
    webp_size(&r.out[IMAGE_LARGE], &w, &h);
    assert_int_equal(w, 480);
    assert_int_equal(h, 640);
    webp_size(&r.out[IMAGE_CARD], &w, &h);
    assert_int_equal(h, 450);
    assert_true(w == 337 || w == 338);
    image_result_free(&r);
    free(in.data);

    in = fixture("shoe.webp"); /* 640 × 480 */
    assert_int_equal(image_process(in.data, in.len, &l, &r, why, sizeof why), 0);
    assert_int_equal(r.type, IMAGE_WEBP);
    webp_size(&r.out[IMAGE_LARGE], &w, &h);
    assert_int_equal(w, 640);
    assert_int_equal(h, 480);
    webp_size(&r.out[IMAGE_CARD], &w, &h);
    assert_int_equal(w, 600);
    assert_int_equal(h, 450);
    image_result_free(&r);
    free(in.data);
}

static void test_refusals(void **state)
{
    (void)state;
    static const char text[] = "This is not a photo of a shoe, whatever the name says.\n";
    refused(text, sizeof text - 1, "not a JPEG, PNG or WebP");
    static const unsigned char gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00"
                                       "\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    refused(gif, sizeof gif - 1, "GIF");
    static const char svg[] = "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>";
    refused(svg, sizeof svg - 1, "SVG");
    refused("", 0, "Choose an image file");

    bytes in = fixture("shoe-gps.jpg");
    refused(in.data, in.len / 2, "damaged or incomplete");
    in.data[2] ^= 0xff; /* no longer a JPEG marker after SOI */
    refused(in.data, 40, "");
    free(in.data);

    bytes bomb = png_grey(10000, 10000); /* 100 megapixels in ~12 KB */
    assert_true(bomb.len < 64 * 1024);
    refused(bomb.data, bomb.len, "megapixels");
    free(bomb.data);
    bytes wide = png_grey(20000, 100); /* few pixels, but a side too long */
    refused(wide.data, wide.len, "pixels a side");
    free(wide.data);
    bytes tiny = png_grey(50, 50);
    refused(tiny.data, tiny.len, "at least 200");
    free(tiny.data);

    image_limits l = limits();
    l.max_bytes = 1000;
    image_result r;
    char why[240];
    bytes ok = fixture("shoe.webp");
    assert_int_equal(image_process(ok.data, ok.len, &l, &r, why, sizeof why), -1);
    assert_non_null(strstr(why, "MB"));
    free(ok.data);
}

static void test_a_decodable_bomb_header_is_refused_before_decoding(void **state)
{
    (void)state;
    /* within the side limit, over the pixel limit: refused from the header
     * (a decode of 12000 × 12000 would take seconds and 432 MB) */
    bytes b = png_grey(12000, 12000);
    image_limits l = limits();
    image_result r;
    char why[240];
    assert_int_equal(image_process(b.data, b.len, &l, &r, why, sizeof why), -1);
    assert_non_null(strstr(why, "12000 × 12000"));
    free(b.data);
}

static void test_media_paths(void **state)
{
    (void)state;
    assert_true(media_path_ok("images/3f/3fa9e0-1200.webp"));
    assert_true(media_path_ok("products/air-runner.svg"));
    static const char *const bad[] = {NULL, "", "/etc/passwd", "images/../../x", "images//x", "images/X.webp",
                                      "images/a b.webp", "images/", "images/a\\b", "..", "images/%2e%2e"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (media_path_ok(bad[i])) fail_msg("media path accepted: %s", bad[i] ? bad[i] : "(null)");
}

int main(void)
{
    assert_int_equal(image_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_jpeg_with_gps_comes_out_clean),
        cmocka_unit_test(test_turned_upright_and_never_enlarged),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_a_decodable_bomb_header_is_refused_before_decoding),
        cmocka_unit_test(test_media_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
