/* query.c — the query string as the views need it: a filter getter that
 * understands repeated keys, and links that change one parameter while
 * keeping the rest (pagination, "remove this filter", "clear filters").
 *
 * The server has already checked that the raw URI is well-formed
 * percent-encoding and UTF-8; values are decoded here and re-encoded when
 * a link is built, so every link we print is in one canonical form. */
#include "views/views.h"

#include "core/text.h"

#include <string.h>
#include <strings.h>

/* Parameters whose value may be a comma-separated list (catalog.h). */
static bool multi_valued(const char *name)
{
    return strcmp(name, "size") == 0 || strcmp(name, "brand") == 0 || strcmp(name, "colour") == 0;
}

/* The parameters a listing link carries (catalog.h); anything else a
 * visitor appended is not repeated in the links we print. */
static bool known(const char *name)
{
    static const char *const names[] = {"q",         "brand",     "colour", "size",     "gender",
                                        "price_min", "price_max", "sort",   "per_page", NULL};
    for (const char *const *n = names; *n; n++)
        if (strcmp(*n, name) == 0) return true;
    return false;
}

/* application/x-www-form-urlencoded, as a browser submits a GET form. */
static void put_encoded(buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~')
            buf_putc(b, (char)c);
        else if (c == ' ')
            buf_putc(b, '+');
        else {
            buf_putc(b, '%');
            buf_putc(b, hex[c >> 4]);
            buf_putc(b, hex[c & 15]);
        }
    }
}

static void put_pair(buf *b, const char *name, const char *value, size_t vlen)
{
    buf_putc(b, memchr(b->data, '?', b->len) ? '&' : '?');
    put_encoded(b, name);
    buf_putc(b, '=');
    char tmp[512];
    if (vlen >= sizeof tmp) vlen = sizeof tmp - 1;
    memcpy(tmp, value, vlen);
    tmp[vlen] = '\0';
    put_encoded(b, tmp);
}

static bool in_list(const char *name, const char *const *list)
{
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0) return true;
    return false;
}

/* Does the query's piece name the same value as the filter's (which the
 * catalogue normalised: lower case, sizes like "uk-9")? */
static bool same_value(const char *name, const char *piece, size_t len, const char *value)
{
    char raw[128], norm[128];
    if (len >= sizeof raw) return false;
    memcpy(raw, piece, len);
    raw[len] = '\0';
    if (strcmp(name, "size") == 0) {
        catalog_size_normalise(raw, norm, sizeof norm);
        return strcmp(norm, value) == 0;
    }
    return strcasecmp(raw, value) == 0;
}

/* The shared builder: keep (when not NULL) limits the names kept; every
 * name in drop_all is left out. */
static const char *build(http_request *req, const char *const *keep, const char *const *drop_all,
                         const char *drop_name, const char *drop_value, const char *set_name, const char *set_value)
{
    const http_kv *pairs;
    int n = req_query_pairs(req, &pairs);
    buf b = BUF_INIT;
    buf_puts(&b, req->path ? req->path : "/");
    for (int i = 0; i < n; i++) {
        const char *name = pairs[i].name, *value = pairs[i].value;
        if (!value[0] || !known(name)) continue;   /* "page" too: links set it */
        if (keep && !in_list(name, keep)) continue;
        if (in_list(name, drop_all)) continue;
        if (set_name && strcmp(name, set_name) == 0) continue;
        if (drop_name && !drop_value && strcmp(name, drop_name) == 0) continue;
        bool split = multi_valued(name);
        const char *p = value;
        while (*p) {
            size_t len = split ? strcspn(p, ",") : strlen(p);
            bool dropped = drop_name && strcmp(name, drop_name) == 0 && same_value(name, p, len, drop_value);
            if (len && !dropped) put_pair(&b, name, p, len);
            p += len;
            if (*p == ',') p++;
        }
    }
    if (set_name && set_value) put_pair(&b, set_name, set_value, strlen(set_value));
    const char *url = arena_strdup(req->pool, buf_cstr(&b));
    buf_free(&b);
    return url;
}

const char *view_url(http_request *req, const char *drop_name, const char *drop_value, const char *set_name,
                     const char *set_value)
{
    return build(req, NULL, NULL, drop_name, drop_value, set_name, set_value);
}

const char *view_url_keep(http_request *req, const char *const *keep)
{
    static const char *const none[] = {NULL};
    return build(req, keep ? keep : none, NULL, NULL, NULL, NULL, NULL);
}

const char *view_url_without(http_request *req, const char *const *names)
{
    return build(req, NULL, names, NULL, NULL, NULL, NULL);
}
