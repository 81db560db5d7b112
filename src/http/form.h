/* form.h — application/x-www-form-urlencoded decoding (request bodies).
 * Pure function of its input so it can be fuzzed on its own. */
#ifndef SHOEASE_HTTP_FORM_H
#define SHOEASE_HTTP_FORM_H

#include "core/arena.h"
#include "http/http.h"

#include <stddef.h>

/* Decode "a=1&b=x+y" into fields allocated in pool. Fields with a
 * malformed escape, invalid UTF-8 or an empty name are dropped. Returns
 * the number of fields written to *out. */
int form_decode(arena *pool, const char *body, size_t len, http_kv **out);

#endif
