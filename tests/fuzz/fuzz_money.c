/* fuzz_money.c — money_parse_major, which reads shoppers' price filters
 * (price_min / price_max in every listing URL): any input is accepted or
 * refused, never a crash; an accepted amount is within 0..MONEY_PARSE_LIMIT
 * and formats back to text that parses to the same amount. */
#include "shop/money.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "£1,299.99" → "1299.99": the digits and the point of a formatted amount. */
static void plain(const char *formatted, char *out)
{
    size_t o = 0;
    for (const char *p = formatted; *p; p++)
        if ((*p >= '0' && *p <= '9') || *p == '.') out[o++] = *p;
    out[o] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';   /* parsing stops at an embedded NUL, as a C string does */
    int64_t minor = -7;
    if (money_parse_major(s, &minor)) {
        if (minor < 0 || minor > MONEY_PARSE_LIMIT) abort();
        char text[MONEY_FORMAT_MAX], digits[MONEY_FORMAT_MAX];
        size_t n = money_format(money_make(minor, "GBP"), text, sizeof text);
        if (n == 0 || n >= sizeof text || text[n] != '\0') abort();
        plain(text, digits);
        int64_t again = -1;
        if (!money_parse_major(digits, &again) || again != minor) abort();
    } else if (minor != -7) {
        abort();   /* a refusal leaves the output alone */
    }
    free(s);
    return 0;
}
