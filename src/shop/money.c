/* money.c — see money.h. */
#include "shop/money.h"

#include "core/text.h"

#include <string.h>

bool money_currency_valid(const char *currency)
{
    if (!currency) return false;
    for (int i = 0; i < 3; i++) {
        char c = currency[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
    }
    return currency[3] == '\0';
}

money money_make(int64_t minor, const char *currency)
{
    money m = {.minor = minor};
    if (money_currency_valid(currency))
        for (int i = 0; i < 3; i++) m.currency[i] = (char)(currency[i] & ~0x20); /* upper-case */
    return m;
}

static bool valid(const money *m) { return m->currency[0] != '\0'; }

bool money_same_currency(money a, money b)
{
    return valid(&a) && valid(&b) && memcmp(a.currency, b.currency, 3) == 0;
}

bool money_add(money a, money b, money *out)
{
    int64_t r;
    if (!money_same_currency(a, b) || __builtin_add_overflow(a.minor, b.minor, &r)) return false;
    *out = a;
    out->minor = r;
    return true;
}

bool money_sub(money a, money b, money *out)
{
    int64_t r;
    if (!money_same_currency(a, b) || __builtin_sub_overflow(a.minor, b.minor, &r)) return false;
    *out = a;
    out->minor = r;
    return true;
}

bool money_mul(money a, int64_t qty, money *out)
{
    int64_t r;
    if (!valid(&a) || __builtin_mul_overflow(a.minor, qty, &r)) return false;
    *out = a;
    out->minor = r;
    return true;
}

/* num / den rounded to the nearest whole number, a half away from zero
 * (den > 0). false when it does not fit in int64. 128-bit, so no product
 * of an int64 amount and a rate can overflow on the way. */
static bool div_round(__int128 num, __int128 den, int64_t *out)
{
    bool neg = num < 0;
    __int128 q = ((neg ? -num : num) * 2 + den) / (den * 2);
    if (neg) q = -q;
    if (q > INT64_MAX || q < INT64_MIN) return false;
    *out = (int64_t)q;
    return true;
}

bool money_tax_included(money gross, int64_t rate_bp, money *tax)
{
    int64_t t;
    if (!valid(&gross) || rate_bp < 0 || rate_bp > MONEY_RATE_BP_MAX ||
        !div_round((__int128)gross.minor * rate_bp, (__int128)10000 + rate_bp, &t))
        return false;
    *tax = gross;
    tax->minor = t;
    return true;
}

bool money_percent(money a, int64_t basis_points, money *out)
{
    int64_t r;
    if (!valid(&a) || !div_round((__int128)a.minor * basis_points, 10000, &r)) return false;
    *out = a;
    out->minor = r;
    return true;
}

size_t money_format(money m, char *out, size_t outlen)
{
    const char *code = valid(&m) ? m.currency : "GBP";
    const char *symbol = NULL;
    if (!strcmp(code, "GBP")) symbol = "£";
    else if (!strcmp(code, "EUR")) symbol = "€";
    else if (!strcmp(code, "USD")) symbol = "$";
    bool neg = m.minor < 0;
    /* -(v + 1) + 1: INT64_MIN has no positive int64 */
    uint64_t a = neg ? (uint64_t)(-(m.minor + 1)) + 1u : (uint64_t)m.minor;
    uint64_t major = a / 100, minor = a % 100;
    /* "[-]<symbol, or code and a space><major with thousands separators>.<minor>",
     * built by hand: a listing formats ~60 prices, and snprintf was 2 % of it */
    char digits[TEXT_INT64_DIGITS], text[64];
    size_t nd = text_format_uint64(major, digits), n = 0;
    if (neg) text[n++] = '-';
    if (symbol) {
        memcpy(text + n, symbol, strlen(symbol));
        n += strlen(symbol);
    } else {
        memcpy(text + n, code, 3);
        n += 3;
        text[n++] = ' ';
    }
    for (size_t i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0) text[n++] = ',';
        text[n++] = digits[i];
    }
    text[n++] = '.';
    text[n++] = (char)('0' + minor / 10);
    text[n++] = (char)('0' + minor % 10);
    text[n] = '\0';
    return outlen ? text_copy(out, outlen, text) : 0;
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

bool money_parse_major(const char *s, int64_t *minor)
{
    if (!s) return false;
    while (is_space(*s)) s++;
    if (*s < '0' || *s > '9') return false;
    int64_t major = 0;
    bool clamped = false;
    while (*s >= '0' && *s <= '9') {
        if (major > MONEY_PARSE_LIMIT / 1000) clamped = true;
        else major = major * 10 + (*s - '0');
        s++;
    }
    int64_t cents = 0;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') return false;
        cents = (*s++ - '0') * 10;
        if (*s >= '0' && *s <= '9') cents += *s++ - '0';
    }
    while (is_space(*s)) s++;
    if (*s) return false;
    int64_t v = major * 100 + cents;
    *minor = clamped || v > MONEY_PARSE_LIMIT ? MONEY_PARSE_LIMIT : v;
    return true;
}
