/* srv_h2o.c — libh2o (Debian's 2.2.5, the evloop flavour): one evloop per
 * worker process accepting on the shared listening socket. HTTP/1.1 only here
 * (no TLS, so no ALPN/h2). The body goes out by reference with h2o_send. */
#define H2O_USE_LIBUV 0
#include "common.h"

#include <h2o.h>

static h2o_globalconf_t config;
static h2o_context_t ctx;
static h2o_accept_ctx_t accept_ctx;
static volatile sig_atomic_t stop;

static h2o_iovec_t hdr_vals[BENCH_NFIXED];

static int on_hello(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"))) return -1;
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT(BENCH_CONTENT_TYPE));
    for (int i = 0; i < BENCH_NFIXED; i++)
        h2o_add_header_by_str(&req->pool, &req->res.headers, BENCH_HDR_NAMES[i], strlen(BENCH_HDR_NAMES[i]), 1, NULL,
                              hdr_vals[i].base, hdr_vals[i].len);
    char *id = h2o_mem_alloc_pool(&req->pool, 33);
    bench_request_id(id);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, id, 32);
    req->res.content_length = BENCH_BODY_LEN;
    static h2o_generator_t gen = {NULL, NULL};
    h2o_start_response(req, &gen);
    h2o_iovec_t body = h2o_iovec_init(BENCH_BODY, BENCH_BODY_LEN);
    h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
    bench_count_req();
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err) return;
    h2o_socket_t *sock;
    /* drain the backlog; another worker may win the race (EAGAIN → NULL) */
    while ((sock = h2o_evloop_socket_accept(listener)) != NULL) {
        bench_count_conn();
        h2o_accept(&accept_ctx, sock);
    }
}

static void on_signal(int sig) { (void)sig; stop = 1; }

static int worker(int fd, const bench_opts *o)
{
    (void)o;
    for (int i = 0; i < BENCH_NFIXED; i++) hdr_vals[i] = h2o_iovec_init(BENCH_HDR_VALUES[i], strlen(BENCH_HDR_VALUES[i]));
    h2o_config_init(&config);
    h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/hello", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = on_hello;

    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_init(&ctx, loop, &config);
    accept_ctx.ctx = &ctx;
    accept_ctx.hosts = config.hosts;
    h2o_socket_t *listener = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(listener, on_accept);

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    bench_unblock();
    while (!stop && h2o_evloop_run(loop, 200) == 0) {}
    return 0;
}

int main(int argc, char **argv) { return bench_main(argc, argv, "libh2o-evloop", worker); }
