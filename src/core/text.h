/* text.h — validation of outside text: UTF-8 and percent-encoding.
 *
 * HTTP parsing itself is libmicrohttpd's job; these checks decide whether
 * what it handed us is acceptable before any handler sees it. */
#ifndef SHOEASE_TEXT_H
#define SHOEASE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF.
 * NUL bytes are refused as well: no text field of ours may contain one. */
bool text_valid_utf8(const char *s, size_t len);
/* Every '%' is followed by two hex digits. */
bool text_valid_percent_encoding(const char *s, size_t len);
/* Decode %XX (and '+' as space when plus_is_space) into out (at least len+1
 * bytes). Returns the decoded length, or -1 on a malformed escape. */
long text_percent_decode(const char *s, size_t len, char *out, bool plus_is_space);
/* Parse a whole decimal integer in [min, max]; false on junk or overflow. */
bool text_parse_int64(const char *s, long long min, long long max, long long *out);
/* Exactly len characters, each 0-9 or a-f (ids, tokens, hashes). */
bool text_is_lower_hex(const char *s, size_t len);
/* ASCII case-insensitive equality of two counted strings. */
bool text_ieq(const char *a, size_t alen, const char *b, size_t blen);

/* The decimal digits of v in out (at least TEXT_INT64_DIGITS bytes),
 * NUL-terminated; returns their length. What snprintf("%lld") does, without
 * parsing a format: a listing page prints hundreds of numbers. */
#define TEXT_INT64_DIGITS 21
size_t text_format_int64(int64_t v, char *out);
size_t text_format_uint64(uint64_t v, char *out);
/* Copy src into dst (dstlen > 0), cut to fit, always NUL-terminated;
 * returns the length copied. */
size_t text_copy(char *dst, size_t dstlen, const char *src);
/* Characters of valid UTF-8 text (bytes that do not continue a sequence). */
size_t text_utf8_chars(const char *s);
/* Text a person typed into a field: valid UTF-8 without control
 * characters (C0, DEL, C1); with multiline, newlines and tabs too. */
bool text_plain(const char *s, bool multiline);

#endif
