/* fuzz_taxonomy.c — what staff type into the category, brand and colour
 * forms (shop/taxonomy_admin.h): a slug made from any name is either empty
 * or a valid slug within its size; whatever passes the slug check matches
 * the tables' CHECK ^[a-z0-9]+(-[a-z0-9]+)*$; a swatch that passes is
 * '#' and six hex digits. Never crash. */
#include "shop/taxonomy_admin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool matches_check(const char *s)
{
    /* ^[a-z0-9]+(-[a-z0-9]+)*$ by hand, the way the database reads it */
    bool word = false;
    for (const char *p = s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) word = true;
        else if (*p == '-' && word) word = false;
        else return false;
    }
    return word;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = '\0';
    for (size_t max = 1; max <= 81; max += 40) {
        char out[82];
        taxonomy_slug_from(in, out, max + 1);
        size_t n = strlen(out);
        while (n && out[n - 1] == '-') out[--n] = '\0';   /* as the form does after a cut */
        if (n > max) abort();
        if (n && !taxonomy_slug_valid(out, max)) abort();
    }
    if (taxonomy_slug_valid(in, 80) && (!matches_check(in) || strlen(in) > 80)) abort();
    if (taxonomy_hex_valid(in) && (strlen(in) != 7 || in[0] != '#' || strspn(in + 1, "0123456789abcdefABCDEF") != 6))
        abort();
    free(in);
    return 0;
}
