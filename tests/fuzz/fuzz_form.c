/* fuzz_form.c — urlencoded bodies and query strings: never crash, never
 * return a field that is not valid UTF-8. */
#include "core/text.h"
#include "http/form.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena *pool = arena_new();
    http_kv *kv;
    int n = form_decode(pool, (const char *)data, size, &kv);
    for (int i = 0; i < n; i++) {
        if (!text_valid_utf8(kv[i].name, strlen(kv[i].name)) || !text_valid_utf8(kv[i].value, strlen(kv[i].value)))
            abort();
    }
    /* the URI checks the server runs before routing */
    if (text_valid_percent_encoding((const char *)data, size)) {
        char *out = malloc(size + 1);
        if (text_percent_decode((const char *)data, size, out, true) < 0) abort(); /* valid must decode */
        free(out);
    }
    arena_free(pool);
    return 0;
}
