/* http.h — the request/response model every handler sees.
 *
 * libmicrohttpd parses HTTP; this layer gives handlers a small, safe view:
 * validated path and parameters, a per-request arena, and a response that
 * is sent (with the security headers) after the handler returns. Handlers
 * never call MHD directly.
 *
 *   static void show_product(http_request *req, http_response *res) {
 *       const char *slug = req_param(req, "slug");
 *       ...
 *       res_html(res, 200, page.data, page.len);
 *   }
 */
#ifndef SHOEASE_HTTP_H
#define SHOEASE_HTTP_H

#include "core/arena.h"
#include "core/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define HTTP_MAX_PARAMS 8
#define HTTP_MAX_HEADERS 24

typedef struct http_kv {
    const char *name, *value;
} http_kv;

/* A file sent in a multipart/form-data body (routes whose policy says
 * upload). Everything but the bytes is what the sender claimed: never use
 * filename as a path nor trust content_type — tell a file's type from its
 * content. */
typedef struct http_upload {
    const char *field;        /* the form field's name */
    const char *filename;     /* as sent ("" when the browser sent no file) */
    const char *content_type; /* as sent, may be NULL */
    const unsigned char *data;
    size_t len;
} http_upload;

typedef struct http_request {
    struct MHD_Connection *conn;
    arena *pool;              /* freed when the response is done */
    const char *method;       /* "GET", "POST", ... ("HEAD" is routed as GET) */
    const char *path;         /* decoded, validated UTF-8, starts with '/' */
    const char *raw_uri;      /* exactly as received, for logs and redirects */
    const char *host;         /* Host without the port, lower-case, allowed */
    const char *client_ip;    /* the shopper's address (from X-Forwarded-For via a trusted proxy) */
    const char *peer_ip;      /* the socket's peer: an address, or "unix" (nginx) */
    int route;                /* index in the route table, -1 until routed */
    const struct route_policy *policy; /* the route's policy once routed */
    struct web_session *session; /* the caller's session (web/session.h): personal routes only */
    char id[65];              /* request id: from a trusted proxy's X-Request-Id, or random */
    bool from_trusted_proxy;
    bool https;               /* the original request was HTTPS (trusted proxy said so) */
    buf body;
    int nparams;              /* route captures: /products/{slug} */
    http_kv params[HTTP_MAX_PARAMS];
    http_kv *query;           /* query pairs in order, parsed on first req_query_pairs() */
    int nquery;
    bool query_parsed;
    http_kv *form;            /* urlencoded or multipart body fields, parsed on first req_form() */
    int nform;
    bool form_parsed;
    http_upload *uploads;     /* multipart files (policy upload), parsed with the fields */
    int nuploads;
    bool body_too_large;      /* over the route's limit: answered 413 by the pipeline */
    struct timespec started;
    int64_t log_user_id;      /* the signed-in shopper's id for the logs (0: none) */
} http_request;

typedef struct http_response {
    int status;
    buf body;
    /* A body owned elsewhere, sent without a copy (res_body_external). */
    const char *ext_body;
    size_t ext_len;
    void (*ext_release)(void *arg);
    void *ext_arg;
    size_t sent_bytes;        /* body bytes handed to MHD (for the access log) */
    const char *content_type;
    int nheaders;
    http_kv headers[HTTP_MAX_HEADERS];
    bool close_connection;
    bool card_form;           /* the card page: a CSP that allows Stripe's form (web/security.h) */
} http_response;

typedef void (*http_handler)(http_request *req, http_response *res);

/* The anonymous visitor cookie (recently viewed, search history): 32 hex
 * characters, set by the personal fragments (web/visitor.c). */
#define VISITOR_COOKIE "__Host-vid"
bool visitor_id_valid(const char *s);

/* Request accessors. Strings live in the request's arena or MHD's
 * connection memory: valid until the response is done. NULL when absent. */
const char *req_header(http_request *req, const char *name);
const char *req_query(http_request *req, const char *name);
/* Every name=value pair of the query string, decoded, in order, repeated
 * names kept (pairs with a malformed escape or invalid UTF-8 dropped). */
int req_query_pairs(http_request *req, const http_kv **out);
/* All non-empty values of a repeated parameter joined with ',' ("size=a&size=b"
 * → "a,b"), the list form the catalogue filters take. NULL when absent.
 * The void* form is a catalog_param_fn. */
const char *req_query_list(http_request *req, const char *name);
const char *req_query_list_fn(void *req, const char *name);
const char *req_cookie(http_request *req, const char *name);
const char *req_param(http_request *req, const char *name);
/* A body field (NULL when absent): of an application/x-www-form-urlencoded
 * body, or of a multipart/form-data one on a route whose policy says upload
 * (parsed by libmicrohttpd's post processor; a malformed or cut-off body
 * has no fields at all). Fields are valid UTF-8 without NUL bytes. */
const char *req_form(http_request *req, const char *name);
/* The first file sent in the field `name` of a multipart body (policy
 * upload), or NULL. Lives until the response is done. */
const http_upload *req_upload(http_request *req, const char *name);
/* Parse the body as JSON. NULL (with a message in err) when it is not. The
 * caller owns the returned reference. */
json_t *req_json(http_request *req, char *err, size_t errlen);

/* Response builders. Each replaces the body and sets status/content type. */
void res_header(http_response *res, const char *name, const char *value);
/* Another header of the same name (Set-Cookie), keeping those already set. */
void res_add_header(http_response *res, const char *name, const char *value);
void res_html(http_response *res, int status, const char *html, size_t len);
void res_text(http_response *res, int status, const char *text);
/* Any body with its content type (copied): a CSV download, a file. */
void res_bytes(http_response *res, int status, const char *content_type, const char *data, size_t len);
void res_json(http_response *res, int status, json_t *value); /* steals the reference */
void res_redirect(http_response *res, int status, const char *location);
/* Send len bytes at data as the body without copying them; release(arg)
 * runs exactly once, when the bytes are no longer needed. */
void res_body_external(http_response *res, int status, const char *content_type, const char *data, size_t len,
                       void (*release)(void *arg), void *arg);
/* An error in the site's style: JSON under /api/, HTML elsewhere. For 5xx
 * the page shows only the request id; the detail goes to the log. */
void res_error(http_request *req, http_response *res, int status, const char *message);
/* The same, with a message written for the visitor (a shop_error's): shown
 * as it is also for a 5xx ("Nothing was charged; try again"), where
 * res_error shows only a reference. */
void res_error_shown(http_request *req, http_response *res, int status, const char *message);
/* 413: the body was over the route's limit (req->body_too_large). */
void res_too_large(http_request *req, http_response *res);

/* The renderer for HTML error pages; the views layer installs a themed one.
 * It must write a complete page into out and return 0, or return -1 to fall
 * back to the built-in plain page. */
typedef int (*http_error_renderer)(http_request *req, int status, const char *title, const char *message, buf *out);
void http_set_error_renderer(http_error_renderer fn);

const char *http_status_text(int status);

#endif
