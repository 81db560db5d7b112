/* gzip.c — see gzip.h; zlib does the work. */
#include "core/gzip.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* One deflate state per thread, reset between pages: deflateInit2 itself
 * allocates and clears ~256 KB, which cost as much as compressing a page. */
static __thread z_stream thread_z;
static __thread bool thread_z_ready;

bool gzip_compress(const char *in, size_t len, buf *out)
{
    if (len < 256) return false; /* headers would eat the gain */
    z_stream *z = &thread_z;
    if (!thread_z_ready) {
        memset(z, 0, sizeof *z);
        /* level 1: a page is compressed on every cache miss, so speed beats
         * the last few percent of size; windowBits 15 + 16: gzip wrapper */
        if (deflateInit2(z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
        thread_z_ready = true;
    } else if (deflateReset(z) != Z_OK) {
        return false;
    }
    size_t bound = deflateBound(z, (uLong)len);
    size_t start = out->len;
    buf_reserve(out, bound);
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)len;
    z->next_out = (Bytef *)out->data + start;
    z->avail_out = (uInt)bound;
    int rc = deflate(z, Z_FINISH);
    size_t produced = bound - z->avail_out;
    if (rc != Z_STREAM_END || produced >= len) {
        out->data[start] = '\0';
        return false;
    }
    out->len = start + produced;
    out->data[out->len] = '\0';
    return true;
}

bool gzip_accepted(const char *ae)
{
    if (!ae) return false;
    const char *p = ae;
    while ((p = strcasestr(p, "gzip"))) {
        bool starts = p == ae || p[-1] == ',' || p[-1] == ' ' || p[-1] == '\t';
        const char *q = p + 4;
        p = q;
        if (!starts || (*q && *q != ',' && *q != ';' && *q != ' ')) continue;
        while (*q == ' ') q++;
        if (*q != ';') return true;
        q++;
        while (*q == ' ') q++;
        if (tolower((unsigned char)*q) != 'q') return true;
        q++;
        while (*q == ' ') q++;
        if (*q != '=') return true;
        return strtod(q + 1, NULL) > 0.0;
    }
    return false;
}
