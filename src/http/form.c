/* form.c — see form.h. */
#include "http/form.h"

#include "core/text.h"

#include <string.h>

int form_decode(arena *pool, const char *body, size_t len, http_kv **out)
{
    size_t fields = 1;
    for (size_t i = 0; i < len; i++) fields += body[i] == '&';
    http_kv *kv = arena_alloc(pool, fields * sizeof *kv);
    int n = 0;
    const char *s = body, *end = body + len;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(stop - s));
        const char *kend = eq ? eq : stop;
        const char *vstart = eq ? eq + 1 : stop;
        char *k = arena_alloc(pool, (size_t)(kend - s) + 1);
        char *v = arena_alloc(pool, (size_t)(stop - vstart) + 1);
        long kl = text_percent_decode(s, (size_t)(kend - s), k, true);
        long vl = text_percent_decode(vstart, (size_t)(stop - vstart), v, true);
        if (kl > 0 && vl >= 0 && text_valid_utf8(k, (size_t)kl) && text_valid_utf8(v, (size_t)vl))
            kv[n++] = (http_kv){k, v};
        s = amp ? amp + 1 : end;
    }
    *out = kv;
    return n;
}
