/* fuzz_image.c — image_process, which reads what staff upload (and
 * whoever holds a staff session): any bytes are accepted or refused with a
 * reason, never a crash, a hang or a leak. Accepted ones come out as WebP
 * no larger than the storefront's boxes nor than the input. The limits are
 * small (1 megapixel) so a mutated header claiming more is refused from the
 * header, and decoding stays fast; the minimum size is 1 × 1 so the corpus'
 * tiny images reach the decoders. */
#include "media/image.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        if (image_init() != 0) abort();
        ready = true;
    }
    const image_limits lim = {.max_bytes = 65536, .max_pixels = 1 << 20, .max_side = 4096, .min_width = 1,
                              .min_height = 1};
    image_result r;
    char why[240];
    int rc = image_process(data, size, &lim, &r, why, sizeof why);
    if (rc == 0) {
        if (r.type == IMAGE_UNKNOWN) abort();
        for (int i = 0; i < IMAGE_RENDITIONS; i++) {
            const image_rendition *o = &r.out[i];
            if (!o->data || o->len < 12 || memcmp(o->data, "RIFF", 4) || memcmp(o->data + 8, "WEBP", 4)) abort();
            if (o->width < 1 || o->height < 1 || o->width > image_sizes[i].box_width ||
                o->height > image_sizes[i].box_height || (int64_t)o->width * o->height > (int64_t)r.width * r.height)
                abort();
        }
        image_result_free(&r);
    } else {
        if (rc != -1 || !why[0] || memchr(why, 0, sizeof why) == NULL) abort();
        for (int i = 0; i < IMAGE_RENDITIONS; i++)
            if (r.out[i].data) abort();
    }
    return 0;
}
