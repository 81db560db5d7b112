/* srv_mhd.c — libmicrohttpd in ShoEase's configuration (src/http/server.c):
 * MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC, a thread
 * pool of -t threads per worker, the shared listening socket handed over with
 * MHD_OPTION_LISTEN_SOCKET, and per request a response created from a
 * malloc'd copy of the body with a free callback plus the headers added one by
 * one — exactly what the app's queue() does. */
#include "common.h"

#include <microhttpd.h>

static void on_conn(void *cls, struct MHD_Connection *c, void **socket_ctx, enum MHD_ConnectionNotificationCode toe)
{
    (void)cls; (void)c; (void)socket_ctx;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) bench_count_conn();
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
    (void)cls; (void)version; (void)upload_data;
    static int marker;
    if (*req_cls == NULL) { /* first call: headers are in */
        *req_cls = &marker;
        return MHD_YES;
    }
    if (*upload_size) { *upload_size = 0; return MHD_YES; }

    int found = strcmp(method, "GET") == 0 && strcmp(url, "/hello") == 0;
    size_t len = found ? BENCH_BODY_LEN : 10;
    char *data = malloc(len);
    if (!data) return MHD_NO;
    memcpy(data, found ? BENCH_BODY : "Not Found\n", len);
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, data, free);
    if (!r) { free(data); return MHD_NO; }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, found ? BENCH_CONTENT_TYPE : "text/plain");
    for (int i = 0; i < BENCH_NFIXED; i++) MHD_add_response_header(r, BENCH_HDR_NAMES[i], BENCH_HDR_VALUES[i]);
    char id[33];
    bench_request_id(id);
    MHD_add_response_header(r, "X-Request-Id", id);
    enum MHD_Result rc = MHD_queue_response(conn, found ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, r);
    MHD_destroy_response(r);
    bench_count_req();
    return rc;
}

static int worker(int fd, const bench_opts *o)
{
    /* SIGTERM stays blocked: MHD's threads inherit the mask and this thread
     * takes it with sigwait, like the app's worker. */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16384 + 16384),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_NOTIFY_CONNECTION, on_conn, NULL,
        MHD_OPTION_END);
    if (!d) { fprintf(stderr, "srv_mhd: MHD_start_daemon failed\n"); return 1; }
    int sig;
    sigwait(&bench_sigs, &sig);
    MHD_stop_daemon(d);
    return 0;
}

int main(int argc, char **argv) { return bench_main(argc, argv, "libmicrohttpd", worker); }
