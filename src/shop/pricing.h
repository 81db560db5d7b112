/* pricing.h — the totals of an order, worked out in ONE place (the cart
 * page, the checkout review and placing the order all call it, and placing
 * re-checks it at that moment).
 *
 *   pricing_line lines[] = {{.unit_price = 8999, .quantity = 1, .tax_class = "standard"}};
 *   quote q;
 *   if (pricing_quote(lines, 1, "GBP", "standard", &q, &e) != SHOP_OK) …
 *
 * Prices include VAT (money.h's rule, per line). Delivery: standard costs
 * SHIPPING_STANDARD and is free from FREE_SHIPPING_OVER (the subtotal),
 * express costs SHIPPING_EXPRESS; delivery carries the standard VAT rate.
 * Rates per tax class: TAX_RATES (standard 20 %, reduced 5 %, zero 0 %:
 * children's shoes are zero-rated in the UK). */
#ifndef SHOEASE_SHOP_PRICING_H
#define SHOEASE_SHOP_PRICING_H

#include "shop/money.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct pricing_line {
    int64_t unit_price;
    int quantity;
    const char *tax_class;     /* standard | reduced | zero */
    /* out */
    int64_t line_total, tax;
    int rate_bp;
} pricing_line;

typedef struct quote {
    money subtotal, shipping, tax, total;
    bool free_shipping;
    int64_t to_free_shipping;  /* how much more for free standard delivery (0: reached or never) */
} quote;

int pricing_rate_bp(const char *tax_class);
bool pricing_shipping_method_valid(const char *method);
/* Fills each line's line_total/tax/rate_bp and q. SHOP_INVALID on an
 * overflow or a bad method (nothing sensible to show). */
shop_status pricing_quote(pricing_line *lines, int n, const char *currency, const char *shipping_method, quote *q,
                          shop_error *e);

#endif
