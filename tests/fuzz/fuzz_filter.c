/* fuzz_filter.c — the catalogue's query-string filters (every listing,
 * search and API call parses them): any input is accepted or refused with a
 * message, never a crash; accepted values stay within their documented
 * bounds; search text always becomes safe full-text terms. */
#include "core/text.h"
#include "http/form.h"
#include "shop/catalog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pairs {
    http_kv *kv;
    int n;
};

static const char *get(void *ctx, const char *name)
{
    struct pairs *p = ctx;
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->kv[i].name, name) == 0) return p->kv[i].value;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena *pool = arena_new();
    struct pairs p;
    p.n = form_decode(pool, (const char *)data, size, &p.kv);
    catalog_filter f;
    char err[256];
    if (catalog_filter_parse(&f, pool, get, &p, err, sizeof err) == 0) {
        if (f.page < 1 || f.page > CATALOG_MAX_PAGE) abort();
        if (f.per_page < 1 || f.per_page > CATALOG_MAX_PER_PAGE) abort();
        if (f.nbrands > CATALOG_MAX_MULTI || f.ncolours > CATALOG_MAX_MULTI || f.nsizes > CATALOG_MAX_MULTI) abort();
        if (f.price_min < -1 || f.price_max < -1) abort();
        for (int i = 0; i < f.nbrands; i++)
            if (!text_valid_utf8(f.brands[i], strlen(f.brands[i]))) abort();
        if (f.q) {
            char terms[1024];
            int n = catalog_search_terms(f.q, terms, sizeof terms);
            if (n < 0) abort();
            /* no boolean-mode operator may survive from the shopper's text
             * except the '+' and '*' we add around each word */
            for (const char *c = terms; *c; c++)
                if (strchr("-~<>()\"@", *c)) abort();
        }
    } else if (!err[0]) {
        abort(); /* a refusal always says why */
    }
    arena_free(pool);
    return 0;
}
