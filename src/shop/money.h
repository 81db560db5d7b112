/* money.h — amounts of money: integer minor units (pence, cents) with an
 * ISO 4217 currency. Everything that adds up prices — the catalogue's
 * display, the cart, tax, shipping, order totals, payments — goes through
 * here, so the rules live in one place:
 *
 *   - Arithmetic is checked: money_add / money_sub / money_mul return false
 *     (and leave *out alone) on int64 overflow or when the currencies
 *     differ. A total never wraps to a negative or small number, and pounds
 *     are never added to euros.
 *   - Rounding is to the minor unit, a half rounded away from zero ("half
 *     up" for positive amounts; a refund's negative amount mirrors its
 *     sale). It happens only in money_tax_included and money_percent.
 *   - Prices are VAT-inclusive (UK style): the tax is the part of a gross
 *     amount, tax = gross × rate / (1 + rate), worked out PER LINE (unit
 *     price × quantity first, then the tax of that line) and summed over
 *     the lines. HMRC accepts a line-by-line calculation rounded to the
 *     nearest penny when it is applied consistently, and it means an
 *     invoice's lines add up to its total exactly.
 *       20 %: gross 1299 → tax 217 (1299/6 = 216.5 → 217); gross 5 → 1
 *       (0.83); gross 1 → 0 (0.17).
 *   - Every currency is shown with two decimals ("£1,299.99", "€5.00",
 *     "$0.99", "-£3.50", others "CHF 12.34").
 *
 * A currency is three ASCII letters, stored upper-case. money_make with
 * anything else gives a money with currency "" that every operation
 * refuses (and money_format shows as GBP, the shop's default). */
#ifndef SHOEASE_SHOP_MONEY_H
#define SHOEASE_SHOP_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct money {
    int64_t minor;
    char currency[4];
} money;

/* The largest amount money_parse_major gives (10^14 minor units: a
 * trillion pounds); larger input is clamped to it. */
#define MONEY_PARSE_LIMIT 100000000000000LL
/* Tax and percentage rates in basis points: 2000 = 20 %. */
#define MONEY_RATE_BP_MAX 1000000

money money_make(int64_t minor, const char *currency);
/* Three ASCII letters (any case). */
bool money_currency_valid(const char *currency);
bool money_same_currency(money a, money b);

/* *out = a + b, a - b, a × qty. false (out untouched) on overflow, a
 * currency mismatch or an invalid currency. */
bool money_add(money a, money b, money *out);
bool money_sub(money a, money b, money *out);
bool money_mul(money a, int64_t qty, money *out);

/* The tax inside a VAT-inclusive amount at rate_bp basis points:
 * round(gross × rate / (10000 + rate)), a half away from zero. false when
 * the rate is outside 0..MONEY_RATE_BP_MAX or the currency is invalid. */
bool money_tax_included(money gross, int64_t rate_bp, money *tax);
/* a × basis_points / 10000, rounded the same way (a discount, a fee).
 * false when the result does not fit in int64 or the currency is invalid. */
bool money_percent(money a, int64_t basis_points, money *out);

/* "£1,299.99" into out (cut to outlen, always NUL-terminated when outlen
 * > 0); returns the length written. No snprintf: a listing formats ~60
 * prices per render. At most MONEY_FORMAT_MAX bytes with the NUL. */
#define MONEY_FORMAT_MAX 40
size_t money_format(money m, char *out, size_t outlen);

/* A shopper's amount in major units ("50", "49.9", "49.99", spaces around
 * allowed) → minor units. A sign, junk, an empty string or a third decimal
 * is refused; values above MONEY_PARSE_LIMIT are clamped to it. */
bool money_parse_major(const char *s, int64_t *minor);

#endif
