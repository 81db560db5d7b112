/* server.c — libmicrohttpd glue: one MHD daemon per listening socket in
 * each worker, a fixed thread pool, and the pipeline every request takes:
 *
 *   URI callback   → request context + arena, in-flight accounting
 *   access handler → body buffering with a size cap (the route's: uploads
 *                    get UPLOAD_MAX_BYTES), then on the last call:
 *                    validate URI → security precheck → route → handler
 *                    → security headers → queue the response
 *   completion     → access log line, free the arena
 *
 * HTTP parsing is MHD's, multipart bodies included (its post processor);
 * nothing here reads raw protocol bytes. */
#include "http/form.h"
#include "http/http.h"
#include "http/router.h"
#include "http/worker.h"

#include "app.h"
#include "proc/sandbox.h"
#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "events/activity.h"
#include "web/metrics.h"
#include "web/pipeline.h"
#include "web/security.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Per-request state MHD carries for us between callbacks. */
typedef struct req_ctx {
    http_request req;
    http_response res;
    bool dispatched;
    bool body_rejected;
    size_t body_cap;           /* the route's body limit (policy upload: UPLOAD_MAX_BYTES) */
    size_t received;           /* body bytes read, kept or not */
    int slot;                  /* deadline slot of the thread that dispatched */
} req_ctx;

static worker_state *self_state;   /* this worker's shared-memory slot */
static atomic_int next_thread_slot;
static __thread int thread_slot = -1;
static atomic_bool draining;
/* Connections accepted whose first request has not started yet. A drain
 * must wait for them too: closing one would drop a request the client has
 * already sent (or is sending). */
static atomic_int unserved_connections;

struct conn_state {
    bool served;
};
static int access_log_fd = STDOUT_FILENO;

int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------- request accessors ---------- */

const char *req_header(http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *req_query(http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

int req_query_pairs(http_request *req, const http_kv **out)
{
    if (!req->query_parsed) {
        req->query_parsed = true;
        const char *q = req->raw_uri ? strchr(req->raw_uri, '?') : NULL;
        if (q) req->nquery = form_decode(req->pool, q + 1, strlen(q + 1), &req->query);
    }
    *out = req->query;
    return req->nquery;
}

const char *req_query_list(http_request *req, const char *name)
{
    const http_kv *pairs;
    int n = req_query_pairs(req, &pairs);
    const char *first = NULL;
    buf joined = BUF_INIT;
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(pairs[i].name, name) != 0 || !pairs[i].value[0]) continue;
        if (count++ == 0) {
            first = pairs[i].value;
            continue;
        }
        if (count == 2) buf_puts(&joined, first);
        buf_putc(&joined, ',');
        buf_puts(&joined, pairs[i].value);
    }
    if (count <= 1) return first;
    const char *s = arena_strdup(req->pool, buf_cstr(&joined));
    buf_free(&joined);
    return s;
}

const char *req_query_list_fn(void *req, const char *name) { return req_query_list(req, name); }

bool visitor_id_valid(const char *s) { return text_is_lower_hex(s, 32); }

const char *req_cookie(http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

const char *req_param(http_request *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, name) == 0) return req->params[i].value;
    return NULL;
}

/* ---------- multipart bodies (routes whose policy says upload) ---------- */

#define MULTIPART_MAX_PARTS 64

/* One part as the post processor hands it over, in pieces. */
struct mp_part {
    const char *name, *filename, *content_type;
    buf value;
};

struct mp_state {
    http_request *req;
    struct mp_part parts[MULTIPART_MAX_PARTS];
    int n;
    bool too_many;
};

/* MHD calls this for every piece of every part's value, in order: the
 * first piece of a part at offset 0 (possibly empty, then maybe again at
 * 0 with data), later ones further on. */
static enum MHD_Result mp_piece(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                const char *content_type, const char *transfer_encoding, const char *data,
                                uint64_t off, size_t size)
{
    (void)kind; (void)transfer_encoding;
    struct mp_state *st = cls;
    struct mp_part *cur = st->n ? &st->parts[st->n - 1] : NULL;
    const char *k = key ? key : "";
    bool same = cur && !strcmp(cur->name, k) && (cur->filename != NULL) == (filename != NULL);
    if (!cur || (off == 0 && (cur->value.len > 0 || !same))) {
        if (st->n == MULTIPART_MAX_PARTS) {
            st->too_many = true;
            return MHD_NO;
        }
        cur = &st->parts[st->n++];
        cur->name = arena_strdup(st->req->pool, k);
        cur->filename = filename ? arena_strdup(st->req->pool, filename) : NULL;
        cur->content_type = content_type ? arena_strdup(st->req->pool, content_type) : NULL;
    }
    if (size) buf_append(&cur->value, data, size);
    return MHD_YES;
}

/* The body (already buffered, at most UPLOAD_MAX_BYTES) through MHD's post
 * processor into fields and files. A malformed or cut-off body gives
 * neither: a half-read form must not look like a shorter one. */
static void parse_multipart(http_request *req)
{
    struct mp_state *st = calloc(1, sizeof *st);
    if (!st) abort();
    st->req = req;
    struct MHD_PostProcessor *pp = MHD_create_post_processor(req->conn, 64 * 1024, mp_piece, st);
    bool ok = pp != NULL;
    if (pp) {
        ok = MHD_post_process(pp, buf_cstr(&req->body), req->body.len) == MHD_YES;
        /* MHD_NO here: the body ended inside a part (no closing boundary) */
        ok = MHD_destroy_post_processor(pp) == MHD_YES && ok && !st->too_many;
    }
    if (!ok) log_info("request %s: malformed multipart body (%zu bytes%s); no fields taken", req->id, req->body.len,
                      st->too_many ? ", too many parts" : "");
    int nf = 0, nu = 0;
    for (int i = 0; ok && i < st->n; i++) {
        if (st->parts[i].filename) nu++;
        else nf++;
    }
    req->form = arena_alloc(req->pool, (size_t)(nf ? nf : 1) * sizeof *req->form);
    req->uploads = arena_alloc(req->pool, (size_t)(nu ? nu : 1) * sizeof *req->uploads);
    for (int i = 0; ok && i < st->n; i++) {
        struct mp_part *p = &st->parts[i];
        if (!p->name[0] || !text_valid_utf8(p->name, strlen(p->name))) continue;
        if (p->filename) {
            /* the bytes move to the upload (freed in on_completed) */
            size_t len = p->value.len;
            http_upload *u = &req->uploads[req->nuploads++];
            u->field = p->name;
            u->filename = text_valid_utf8(p->filename, strlen(p->filename)) ? p->filename : "";
            u->content_type = p->content_type;
            u->data = (const unsigned char *)buf_detach(&p->value);
            u->len = len;
        } else if (!memchr(buf_cstr(&p->value), '\0', p->value.len) && text_valid_utf8(buf_cstr(&p->value), p->value.len)) {
            req->form[req->nform++] = (http_kv){p->name, arena_strndup(req->pool, buf_cstr(&p->value), p->value.len)};
        }
    }
    for (int i = 0; i < st->n; i++) buf_free(&st->parts[i].value);
    free(st);
    /* the fields and files are copies: the raw body is not needed again */
    buf_free(&req->body);
}

static void parse_form(http_request *req)
{
    req->form_parsed = true;
    const char *ctype = req_header(req, "Content-Type");
    if (!ctype) return;
    if (req->policy && req->policy->upload && !strncasecmp(ctype, "multipart/form-data", 19)) {
        parse_multipart(req);
        return;
    }
    if (strncasecmp(ctype, "application/x-www-form-urlencoded", 33) != 0) return;
    req->nform = form_decode(req->pool, buf_cstr(&req->body), req->body.len, &req->form);
}

const http_upload *req_upload(http_request *req, const char *name)
{
    if (!req->form_parsed) parse_form(req);
    for (int i = 0; i < req->nuploads; i++)
        if (strcmp(req->uploads[i].field, name) == 0) return &req->uploads[i];
    return NULL;
}

const char *req_form(http_request *req, const char *name)
{
    if (!req->form_parsed) parse_form(req);
    for (int i = 0; i < req->nform; i++)
        if (strcmp(req->form[i].name, name) == 0) return req->form[i].value;
    return NULL;
}

json_t *req_json(http_request *req, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *v = json_loadb(buf_cstr(&req->body), req->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) snprintf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    return v;
}

/* ---------- response builders ---------- */

void res_header(http_response *res, const char *name, const char *value)
{
    for (int i = 0; i < res->nheaders; i++) {
        if (strcasecmp(res->headers[i].name, name) == 0) {
            res->headers[i].value = value;
            return;
        }
    }
    if (res->nheaders == HTTP_MAX_HEADERS) {
        log_error("response header table full, dropping %s", name);
        return;
    }
    res->headers[res->nheaders++] = (http_kv){name, value};
}

void res_add_header(http_response *res, const char *name, const char *value)
{
    if (res->nheaders == HTTP_MAX_HEADERS) {
        log_error("response header table full, dropping %s", name);
        return;
    }
    res->headers[res->nheaders++] = (http_kv){name, value};
}

static void drop_external(http_response *res)
{
    if (res->ext_body && res->ext_release) res->ext_release(res->ext_arg);
    res->ext_body = NULL;
    res->ext_len = 0;
    res->ext_release = NULL;
    res->ext_arg = NULL;
}

void res_body_external(http_response *res, int status, const char *content_type, const char *data, size_t len,
                       void (*release)(void *arg), void *arg)
{
    drop_external(res);
    buf_reset(&res->body);
    res->status = status;
    res->content_type = content_type;
    res->ext_body = data;
    res->ext_len = len;
    res->ext_release = release;
    res->ext_arg = arg;
}

static void set_body(http_response *res, int status, const char *ctype, const char *data, size_t len)
{
    drop_external(res);
    res->status = status;
    res->content_type = ctype;
    buf_reset(&res->body);
    buf_append(&res->body, data, len);
}

void res_html(http_response *res, int status, const char *html, size_t len)
{
    set_body(res, status, "text/html; charset=utf-8", html, len);
}

void res_bytes(http_response *res, int status, const char *content_type, const char *data, size_t len)
{
    set_body(res, status, content_type, data, len);
}

void res_text(http_response *res, int status, const char *text)
{
    set_body(res, status, "text/plain; charset=utf-8", text, strlen(text));
}

void res_json(http_response *res, int status, json_t *value)
{
    char *s = json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII);
    set_body(res, status, "application/json", s ? s : "null", s ? strlen(s) : 4);
    free(s);
    json_decref(value);
}

void res_redirect(http_response *res, int status, const char *location)
{
    set_body(res, status, "text/plain; charset=utf-8", "Redirecting\n", 12);
    res_header(res, "Location", location);
}

static http_error_renderer error_renderer;

void http_set_error_renderer(http_error_renderer fn) { error_renderer = fn; }

const char *http_status_text(int status)
{
    const char *s = MHD_get_reason_phrase_for((unsigned)status);
    return s && *s ? s : "Error";
}

static void error_page(http_request *req, http_response *res, int status, const char *message, bool shown);

void res_error(http_request *req, http_response *res, int status, const char *message)
{
    error_page(req, res, status, message, false);
}

void res_too_large(http_request *req, http_response *res)
{
    size_t cap = req->policy && req->policy->upload ? cfg.upload_max_bytes : cfg.max_body_bytes;
    res_error(req, res, 413,
              arena_printf(req->pool, "The request body is larger than the %zu bytes (%.1f MB) this server accepts here.",
                           cap, (double)cap / 1048576.0));
}

void res_error_shown(http_request *req, http_response *res, int status, const char *message)
{
    if (status >= 500) log_warn("request %s %s %s: %d: %s", req->id, req->method, req->path ? req->path : "?", status, message);
    error_page(req, res, status, message, true);
}

static void error_page(http_request *req, http_response *res, int status, const char *message, bool shown)
{
    const char *title = http_status_text(status);
    if (status >= 500 && !shown) {
        /* the shopper sees only the id; the operator's log has the detail */
        log_error("request %s %s %s failed with %d: %s", req->id, req->method, req->path ? req->path : "?",
                  status, message);
        message = arena_printf(req->pool,
                               "Something went wrong on our side. If it keeps happening, quote reference %s.",
                               req->id);
    }
    if (req->path && strncmp(req->path, "/api/", 5) == 0) {
        res_json(res, status, json_pack("{s:{s:i,s:s,s:s,s:s}}", "error", "status", status, "title", title,
                                        "message", message, "request_id", req->id));
        return;
    }
    buf page = BUF_INIT;
    if (!error_renderer || error_renderer(req, status, title, message, &page) != 0) {
        buf_reset(&page);
        buf_puts(&page, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
        buf_printf(&page, "%d ", status);
        buf_append_html(&page, title, strlen(title));
        buf_puts(&page, "</title></head><body><h1>");
        buf_append_html(&page, title, strlen(title));
        buf_puts(&page, "</h1><p>");
        buf_append_html(&page, message, strlen(message));
        buf_printf(&page, "</p><p><small>Reference: %s</small></p><p><a href=\"/\">Back to the shop</a></p>"
                          "</body></html>\n", req->id);
    }
    res_html(res, status, page.data, page.len);
    buf_free(&page);
}

/* ---------- the pipeline ---------- */

static void make_request_id(http_request *req)
{
    const char *given = req->from_trusted_proxy ? req_header(req, "X-Request-Id") : NULL;
    if (given) {
        size_t n = strlen(given);
        bool ok = n > 0 && n < sizeof req->id;
        for (size_t i = 0; ok && i < n; i++)
            ok = (given[i] >= '0' && given[i] <= '9') || (given[i] >= 'a' && given[i] <= 'z') ||
                 (given[i] >= 'A' && given[i] <= 'Z') || given[i] == '-';
        if (ok) {
            memcpy(req->id, given, n + 1);
            return;
        }
    }
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(req->id, sizeof req->id, rnd, sizeof rnd);
}

static void identify_peer(http_request *req)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    char ip[INET6_ADDRSTRLEN] = "unknown";
    if (!sa || sa->sa_family == AF_UNIX) strcpy(ip, "unix");
    else if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
    else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof ip);
    req->from_trusted_proxy = security_peer_trusted(ip);
    req->client_ip = arena_strdup(req->pool, ip);
    req->peer_ip = req->client_ip;
    if (req->from_trusted_proxy) {
        /* nginx appends the address it saw: the last X-Forwarded-For entry */
        const char *xff = req_header(req, "X-Forwarded-For");
        if (xff && *xff) {
            const char *last = strrchr(xff, ',');
            last = last ? last + 1 : xff;
            while (*last == ' ') last++;
            if (*last && strlen(last) < INET6_ADDRSTRLEN) req->client_ip = arena_strdup(req->pool, last);
        }
    }
}

/* The path MHD decoded must have come from well-formed percent-encoding and
 * be UTF-8; so must the query string. */
static const char *uri_problem(http_request *req)
{
    const char *raw = req->raw_uri;
    size_t len = strlen(raw);
    if (!text_valid_percent_encoding(raw, len)) return "The address contains a malformed %-escape.";
    char *decoded = arena_alloc(req->pool, len + 1);
    long n = text_percent_decode(raw, len, decoded, true);
    if (n >= 0 && memchr(decoded, '\0', (size_t)n)) return "The address contains a NUL character (%00).";
    if (n < 0 || !text_valid_utf8(decoded, (size_t)n)) return "The address is not valid UTF-8 text.";
    if (!req->path || req->path[0] != '/') return "The request target must be an absolute path.";
    return NULL;
}

static void dispatch(req_ctx *ctx)
{
    http_request *req = &ctx->req;
    http_response *res = &ctx->res;
    identify_peer(req);
    make_request_id(req);
    const char *problem = uri_problem(req);
    if (problem) {
        res_error(req, res, 400, problem);
    } else if (!security_precheck(req, res)) {
        http_handler handler;
        switch (router_match(req, &handler)) {
        case ROUTE_FOUND:
            res->status = 200;
            if (!pipeline_before(req, res)) handler(req, res);
            pipeline_after(req, res);
            break;
        case ROUTE_METHOD_NOT_ALLOWED:
            if (req->body_too_large)
                res_too_large(req, res);
            else
                res_error(req, res, 405, "This address does not accept that method.");
            break;
        case ROUTE_NOT_FOUND:
            res_error(req, res, 404, "We could not find that page.");
            break;
        }
    }
    security_add_headers(req, res);
}

static enum MHD_Result queue(struct MHD_Connection *conn, req_ctx *ctx)
{
    http_response *res = &ctx->res;
    struct MHD_Response *r;
    if (res->ext_body) {
        /* MHD calls the release function when it is done with the bytes */
        res->sent_bytes = res->ext_len;
        r = MHD_create_response_from_buffer_with_free_callback_cls(res->ext_len, (void *)res->ext_body,
                                                                   res->ext_release, res->ext_arg);
        if (!r) drop_external(res);
        res->ext_body = NULL;
        res->ext_release = NULL;
        if (!r) return MHD_NO;
    } else {
        size_t len = res->body.len;
        char *data = buf_detach(&res->body);
        res->sent_bytes = len;
        r = MHD_create_response_from_buffer_with_free_callback(len, data, free);
        if (!r) { free(data); return MHD_NO; }
    }
    if (res->content_type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    for (int i = 0; i < res->nheaders; i++) MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    /* While draining, ask keep-alive peers (nginx) to reconnect elsewhere. */
    if (res->close_connection || atomic_load(&draining)) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return rc;
}

static void mark_busy(req_ctx *ctx, bool busy)
{
    if (!self_state) return;
    if (thread_slot < 0) thread_slot = atomic_fetch_add(&next_thread_slot, 1) % WORKER_MAX_THREADS;
    ctx->slot = thread_slot;
    atomic_store(&self_state->deadline_ms[thread_slot], busy ? monotonic_ms() + (int64_t)cfg.worker_timeout * 1000 : 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
    (void)cls; (void)version;
    req_ctx *ctx = *req_cls;
    if (!ctx) return MHD_NO; /* the URI callback always runs first */
    http_request *req = &ctx->req;
    if (!req->method) {
        /* first call: headers are in */
        req->conn = conn;
        req->method = arena_strdup(req->pool, method);
        req->path = arena_strdup(req->pool, url);
        /* the limit is the route's: only multipart bodies to routes that
         * take uploads get more, and of a hidden one only callers its gate
         * lets through (the route is looked up only for such bodies) */
        const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        bool multipart = ctype && !strncasecmp(ctype, "multipart/form-data", 19);
        ctx->body_cap = multipart && pipeline_takes_upload(req, router_peek(method, url)) ? cfg.upload_max_bytes
                                                                                          : cfg.max_body_bytes;
        const char *clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (clen && strtoull(clen, NULL, 10) > ctx->body_cap) ctx->body_rejected = true;
        return MHD_YES;
    }
    if (*upload_size) {
        ctx->received += *upload_size;
        if (!ctx->body_rejected && req->body.len + *upload_size <= ctx->body_cap)
            buf_append(&req->body, upload_data, *upload_size);
        else
            ctx->body_rejected = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (ctx->dispatched) return MHD_YES;
    ctx->dispatched = true;
    mark_busy(ctx, true);
    /* Too large: the pipeline answers 413 once the route is known (a hidden
     * route's gate first: a stranger gets its ordinary 404, as for a path
     * that does not exist). A body over MAX_BODY_BYTES, kept or not, ends
     * the connection: the same answer either way. */
    req->body_too_large = ctx->body_rejected;
    dispatch(ctx);
    if (ctx->body_rejected || ctx->received > cfg.max_body_bytes) ctx->res.close_connection = true;
    enum MHD_Result rc = queue(conn, ctx);
    mark_busy(ctx, false);
    return rc;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls; (void)conn;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn_state *cs = calloc(1, sizeof *cs);
        if (!cs) abort();
        *socket_context = cs;
        atomic_fetch_add(&unserved_connections, 1);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct conn_state *cs = *socket_context;
        if (cs && !cs->served) atomic_fetch_sub(&unserved_connections, 1);
        free(cs);
        *socket_context = NULL;
    }
}

static void mark_connection_served(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_state *cs = ci ? ci->socket_context : NULL;
    if (cs && !cs->served) {
        cs->served = true;
        atomic_fetch_sub(&unserved_connections, 1);
    }
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    mark_connection_served(conn);
    req_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) abort();
    ctx->req.pool = arena_new();
    ctx->req.raw_uri = arena_strdup(ctx->req.pool, uri);
    ctx->req.route = -1;
    ctx->slot = -1;
    clock_gettime(CLOCK_MONOTONIC, &ctx->req.started);
    if (self_state) atomic_fetch_add(&self_state->in_flight, 1);
    return ctx;
}

/* The query string for the logs, with the values of parameters that may
 * carry a secret (reset tokens, codes, signatures) replaced by "x". NULL
 * when there is none. */
static const char *log_query(http_request *req)
{
    const char *q = req->raw_uri ? strchr(req->raw_uri, '?') : NULL;
    if (!q || !q[1]) return NULL;
    static const char *const secret[] = {"token", "code", "otp", "password", "secret", "key", "sig", "signature",
                                         NULL};
    buf out = BUF_INIT;
    for (const char *p = q + 1; *p;) {
        const char *end = p + strcspn(p, "&"), *eq = memchr(p, '=', (size_t)(end - p));
        size_t nlen = (size_t)((eq ? eq : end) - p);
        bool hide = false;
        for (int i = 0; secret[i]; i++)
            if (nlen == strlen(secret[i]) && !strncasecmp(p, secret[i], nlen)) hide = true;
        if (out.len) buf_putc(&out, '&');
        if (hide && eq) {
            buf_append(&out, p, nlen);
            buf_puts(&out, "=x");
        } else {
            buf_append(&out, p, (size_t)(end - p));
        }
        p = *end ? end + 1 : end;
    }
    const char *r = arena_strdup(req->pool, buf_cstr(&out));
    buf_free(&out);
    return r;
}

/* Shoppers' requests are activity; probes and scrapes are not. */
static bool activity_worthy(http_request *req)
{
    const char *p = req->path ? req->path : "";
    return strcmp(p, "/healthz") && strcmp(p, "/readyz") && strcmp(p, "/metrics") && strncmp(p, "/__test/", 8);
}

static void write_access_log(req_ctx *ctx, enum MHD_RequestTerminationCode toe)
{
    struct timespec now, wall;
    clock_gettime(CLOCK_MONOTONIC, &now);
    clock_gettime(CLOCK_REALTIME, &wall);
    double ms = (double)(now.tv_sec - ctx->req.started.tv_sec) * 1e3 +
                (double)(now.tv_nsec - ctx->req.started.tv_nsec) / 1e6;
    struct tm tm;
    gmtime_r(&wall.tv_sec, &tm);
    char ts[80];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, wall.tv_nsec / 1000000);
    http_request *req = &ctx->req;
    metrics_observe(req->route, ctx->dispatched ? ctx->res.status : 0, (int64_t)(ms * 1000));
    json_t *line = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:f,s:s,s:i}", "time", ts, "request_id", req->id,
                             "method", req->method ? req->method : "-", "path", req->path ? req->path : req->raw_uri,
                             "status", ctx->dispatched ? ctx->res.status : 0, "bytes", (json_int_t)ctx->res.sent_bytes,
                             "duration_ms", ms, "client", req->client_ip ? req->client_ip : "-",
                             "pid", (int)getpid());
    if (!line) return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) json_object_set_new(line, "aborted", json_true());
    const char *query = log_query(req);
    if (query) json_object_set_new(line, "query", json_string(query));
    const char *vid = req_cookie(req, VISITOR_COOKIE);
    if (vid && visitor_id_valid(vid)) json_object_set_new(line, "vid", json_string(vid));
    if (req->log_user_id > 0) json_object_set_new(line, "uid", json_integer(req->log_user_id));
    char *s = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
    json_decref(line);
    if (!s) return;
    size_t n = strlen(s);
    /* the same line is the request's activity event (MongoDB activity_logs) */
    if (activity_worthy(req)) activity_record(s, n);
    s[n] = '\n'; /* reuse the NUL byte: one write(2) per line keeps lines whole */
    ssize_t w = write(access_log_fd, s, n + 1);
    (void)w;
    free(s);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls; (void)conn;
    req_ctx *ctx = *req_cls;
    if (!ctx) return;
    if (ctx->dispatched) write_access_log(ctx, toe);
    if (ctx->slot >= 0 && self_state) atomic_store(&self_state->deadline_ms[ctx->slot], 0);
    buf_free(&ctx->req.body);
    for (int i = 0; i < ctx->req.nuploads; i++) free((void *)ctx->req.uploads[i].data);
    buf_free(&ctx->res.body);
    drop_external(&ctx->res); /* set but never queued */
    arena_free(ctx->req.pool);
    free(ctx);
    *req_cls = NULL;
    if (self_state) atomic_fetch_sub(&self_state->in_flight, 1);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    log_warn("http: %s", msg);
}

/* ---------- listening sockets ---------- */

int http_listen(const char *bind_spec)
{
    int fd = -1;
    if (strncmp(bind_spec, "unix:", 5) == 0) {
        const char *path = bind_spec + 5;
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sun.sun_path) {
            log_error("BIND %s: socket path too long", bind_spec);
            return -1;
        }
        strcpy(sun.sun_path, path);
        unlink(path); /* a stale socket from a crash */
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
            log_error("BIND %s: %s", bind_spec, strerror(errno));
            if (fd >= 0) close(fd);
            return -1;
        }
        chmod(path, 0660);
    } else {
        const char *colon = strrchr(bind_spec, ':');
        if (!colon) {
            log_error("BIND %s: expected unix:/path or host:port", bind_spec);
            return -1;
        }
        char host[256];
        size_t hl = (size_t)(colon - bind_spec);
        if (hl >= sizeof host) return -1;
        memcpy(host, bind_spec, hl);
        host[hl] = '\0';
        char *h = host;
        if (h[0] == '[' && hl > 1 && h[hl - 1] == ']') { h[hl - 1] = '\0'; h++; }
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
        int gai = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai);
        if (gai) {
            log_error("BIND %s: %s", bind_spec, gai_strerror(gai));
            return -1;
        }
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            log_error("BIND %s: %s", bind_spec, strerror(errno));
            if (fd >= 0) close(fd);
            freeaddrinfo(ai);
            return -1;
        }
        freeaddrinfo(ai);
    }
    if (listen(fd, 1024) < 0) {
        log_error("BIND %s: listen: %s", bind_spec, strerror(errno));
        close(fd);
        return -1;
    }
    /* shared by every worker: accept must never block a worker that lost the race */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* ---------- the worker ---------- */

#define MAX_DAEMONS 8

int http_worker_main(const int *fds, int nfds, worker_state *self)
{
    self_state = self;
    if (strcmp(cfg.access_log, "-") != 0) {
        access_log_fd = open(cfg.access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (access_log_fd < 0) {
            log_error("ACCESS_LOG %s: %s", cfg.access_log, strerror(errno));
            return 1;
        }
    }
    /* Signals are taken synchronously by this thread only; MHD's threads
     * inherit the blocked mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGQUIT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (app_worker_init() != 0) return 1;

    struct MHD_Daemon *daemons[MAX_DAEMONS];
    int nd = 0;
    unsigned mem_limit = (unsigned)(cfg.max_header_bytes + 16384);
    for (int i = 0; i < nfds && i < MAX_DAEMONS; i++) {
        daemons[nd] = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
            on_request, NULL,
            MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
            MHD_OPTION_LISTEN_SOCKET, fds[i],
            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg.worker_threads,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg.read_timeout,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)mem_limit,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
            MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
            MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
            MHD_OPTION_END);
        if (!daemons[nd]) {
            log_error("worker: cannot start HTTP daemon on listening socket %d", fds[i]);
            for (int k = 0; k < nd; k++) MHD_stop_daemon(daemons[k]);
            app_worker_exit();
            return 1;
        }
        nd++;
    }

    /* From here on the worker only serves: drop what it never needs. */
    if (sandbox_drop_privileges(cfg.run_as_user) != 0 || (cfg.sandbox && sandbox_enter() != 0)) {
        for (int i = 0; i < nd; i++) MHD_stop_daemon(daemons[i]);
        app_worker_exit();
        return 1;
    }

    /* Heartbeat until told to stop. */
    int sig = 0;
    for (;;) {
        atomic_store(&self->heartbeat_ms, monotonic_ms());
        struct timespec tick = {0, 500 * 1000 * 1000};
        sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) break;
        if (getppid() == 1) { sig = SIGTERM; break; } /* the master died: drain and go */
    }

    if (sig != SIGQUIT) {
        /* Graceful: stop accepting (other workers keep the sockets), finish
         * what is in flight, then close. */
        atomic_store(&draining, true);
        for (int i = 0; i < nd; i++) {
            MHD_socket lfd = MHD_quiesce_daemon(daemons[i]);
            if (lfd != MHD_INVALID_SOCKET) close(lfd);
        }
        int64_t deadline = monotonic_ms() + (int64_t)cfg.graceful_timeout * 1000;
        /* A pool thread may have accepted a connection just before the
         * quiesce and not yet announced it (NOTIFY_STARTED): counting it
         * at once could see nothing and close it unanswered. Give such a
         * connection a moment to show up in the counts. */
        int64_t settle = monotonic_ms() + 250;
        while ((atomic_load(&self->in_flight) > 0 || atomic_load(&unserved_connections) > 0 ||
                monotonic_ms() < settle) &&
               monotonic_ms() < deadline) {
            atomic_store(&self->heartbeat_ms, monotonic_ms());
            usleep(20 * 1000);
        }
        if (atomic_load(&self->in_flight) > 0)
            log_warn("worker: %d requests still running after GRACEFUL_TIMEOUT; closing them", atomic_load(&self->in_flight));
    }
    for (int i = 0; i < nd; i++) MHD_stop_daemon(daemons[i]);
    app_worker_exit();
    return 0;
}
