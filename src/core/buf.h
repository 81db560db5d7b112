/* buf.h — a growable byte buffer (always NUL-terminated).
 *
 * The one way to build strings in ShoEase: response bodies, template output,
 * JSON, SQL-free text assembly. Memory comes from malloc; the owner calls
 * buf_free(). Out-of-memory aborts (there is nothing sensible a request
 * handler can do without memory, and a half-built page must never be sent). */
#ifndef SHOEASE_BUF_H
#define SHOEASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data;   /* NUL-terminated; NULL until first write */
    size_t len;   /* bytes used, excluding the NUL */
    size_t cap;   /* bytes allocated */
} buf;

#define BUF_INIT {NULL, 0, 0}

void buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
/* HTML-escape & < > " ' (the set Mustache {{x}} escapes). */
void buf_append_html(buf *b, const char *s, size_t len);
/* Percent-encode s for a URL: letters, digits, "-._~" and the characters
 * in keep stay as they are, every other byte becomes %XX. */
void buf_append_percent(buf *b, const char *s, const char *keep);
void buf_reset(buf *b);            /* len = 0, keeps memory */
void buf_free(buf *b);             /* releases memory, back to BUF_INIT */
char *buf_detach(buf *b);          /* caller owns the returned string (never NULL) */
const char *buf_cstr(const buf *b);/* "" when empty */

#endif
