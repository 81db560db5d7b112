/* pricing.c — see pricing.h. */
#include "shop/pricing.h"

#include "core/config.h"

#include <string.h>

int pricing_rate_bp(const char *tax_class)
{
    if (tax_class && !strcmp(tax_class, "zero")) return cfg.tax_zero_bp;
    if (tax_class && !strcmp(tax_class, "reduced")) return cfg.tax_reduced_bp;
    return cfg.tax_standard_bp;
}

bool pricing_shipping_method_valid(const char *method)
{
    return method && (!strcmp(method, "standard") || !strcmp(method, "express"));
}

shop_status pricing_quote(pricing_line *lines, int n, const char *currency, const char *shipping_method, quote *q,
                          shop_error *e)
{
    memset(q, 0, sizeof *q);
    if (!pricing_shipping_method_valid(shipping_method))
        return shop_fail(e, SHOP_INVALID, "shipping_method", "Choose standard or express delivery.");
    money sub = money_make(0, currency), tax = money_make(0, currency);
    for (int i = 0; i < n; i++) {
        money line, line_tax;
        lines[i].rate_bp = pricing_rate_bp(lines[i].tax_class);
        if (lines[i].quantity < 1 || !money_mul(money_make(lines[i].unit_price, currency), lines[i].quantity, &line) ||
            !money_tax_included(line, lines[i].rate_bp, &line_tax) || !money_add(sub, line, &sub) ||
            !money_add(tax, line_tax, &tax))
            return shop_fail(e, SHOP_INVALID, NULL, "This order is too large to work out. Please contact us.");
        lines[i].line_total = line.minor;
        lines[i].tax = line_tax.minor;
    }
    int64_t ship = 0;
    if (!strcmp(shipping_method, "express")) {
        ship = cfg.shipping_express;
    } else if (cfg.free_shipping_over > 0 && sub.minor >= cfg.free_shipping_over) {
        q->free_shipping = true;
    } else {
        ship = cfg.shipping_standard;
        if (cfg.free_shipping_over > 0) q->to_free_shipping = cfg.free_shipping_over - sub.minor;
    }
    money shipping = money_make(ship, currency), ship_tax, total;
    if (!money_tax_included(shipping, cfg.tax_standard_bp, &ship_tax) || !money_add(tax, ship_tax, &tax) ||
        !money_add(sub, shipping, &total))
        return shop_fail(e, SHOP_INVALID, NULL, "This order is too large to work out. Please contact us.");
    q->subtotal = sub;
    q->shipping = shipping;
    q->tax = tax;
    q->total = total;
    return SHOP_OK;
}
