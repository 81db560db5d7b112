/* gzip.h — compress a response body once, so it can be served compressed
 * many times (nginx would otherwise gzip the same page on every request). */
#ifndef SHOEASE_GZIP_H
#define SHOEASE_GZIP_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* gzip-format data of in[0..len) appended to out. Returns false (out
 * unchanged) on failure or when compression would not save anything. */
bool gzip_compress(const char *in, size_t len, buf *out);
/* Does this Accept-Encoding value accept gzip (present, q not 0)? */
bool gzip_accepted(const char *accept_encoding);

#endif
