/* srv_evhttp.c — libevent 2.1's evhttp: one event base (one thread) per
 * worker process, accepting on the shared listening socket (or, with -R, on
 * its own SO_REUSEPORT socket). The body is added by reference (no copy) and
 * the headers one by one. */
#include "common.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

static struct evbuffer *out;

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    int found = evhttp_request_get_command(req) == EVHTTP_REQ_GET &&
                strcmp(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)), "/hello") == 0;
    evhttp_add_header(h, "Content-Type", found ? BENCH_CONTENT_TYPE : "text/plain");
    for (int i = 0; i < BENCH_NFIXED; i++) evhttp_add_header(h, BENCH_HDR_NAMES[i], BENCH_HDR_VALUES[i]);
    char id[33];
    bench_request_id(id);
    evhttp_add_header(h, "X-Request-Id", id);
    if (found) {
        evbuffer_add_reference(out, BENCH_BODY, BENCH_BODY_LEN, NULL, NULL);
        evhttp_send_reply(req, HTTP_OK, "OK", out);
    } else {
        evbuffer_add(out, "Not Found\n", 10);
        evhttp_send_reply(req, HTTP_NOTFOUND, "Not Found", out);
    }
    bench_count_req();
}

/* evhttp creates one bufferevent per accepted connection through this. */
static struct bufferevent *on_new_conn(struct event_base *base, void *arg)
{
    (void)arg;
    bench_count_conn();
    return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

static void on_signal(evutil_socket_t s, short ev, void *base)
{
    (void)s; (void)ev;
    event_base_loopbreak(base);
}

static int worker(int fd, const bench_opts *o)
{
    (void)o;
    struct event_base *base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    out = evbuffer_new();
    if (!http || !out) return 1;
    evhttp_set_timeout(http, 30);
    evhttp_set_max_headers_size(http, 16384);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
    evhttp_set_gencb(http, on_request, NULL);
    evhttp_set_bevcb(http, on_new_conn, NULL);
    if (!evhttp_accept_socket_with_handle(http, fd)) { fprintf(stderr, "srv_evhttp: accept_socket failed\n"); return 1; }
    struct event *st = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *si = evsignal_new(base, SIGINT, on_signal, base);
    event_add(st, NULL);
    event_add(si, NULL);
    bench_unblock();
    event_base_dispatch(base);
    return 0;
}

int main(int argc, char **argv) { return bench_main(argc, argv, "libevent-evhttp", worker); }
