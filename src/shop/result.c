/* result.c — see result.h. */
#include "shop/result.h"

#include <stdarg.h>
#include <stdio.h>

shop_status shop_fail(shop_error *e, shop_status st, const char *field, const char *fmt, ...)
{
    if (!e) return st;
    e->status = st;
    e->field = field;
    e->retry_after = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return st;
}
