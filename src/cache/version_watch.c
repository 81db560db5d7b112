/* version_watch.c — see version_watch.h. */
#include "cache/version_watch.h"

#include "cache/redis.h"
#include "core/log.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VERSION_KEY "catalog:version"

static atomic_llong known = -1;     /* -1: unknown, ask Redis */
static atomic_int watch_fd = -1;    /* the subscriber socket, -1 when down */
static atomic_bool stopping;
static pthread_t thread;
static bool started;

int64_t version_watch_current(void)
{
    int fd = atomic_load(&watch_fd);
    int64_t v = atomic_load(&known);
    if (fd < 0 || v < 0) return -1;
    /* An invalidation waiting on the socket means v may be old. The watch
     * thread sets `known` to -1 BEFORE it reads from the socket, so there is
     * no moment where the message has left the socket and v still looks
     * valid. */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) != 0) return -1;
    if (atomic_load(&known) != v || atomic_load(&watch_fd) != fd) return -1;
    return v;
}

static int64_t read_version(redisContext *c)
{
    redisReply *r = redisCommand(c, "GET " VERSION_KEY);
    int64_t v = -1;
    /* A missing key is "unknown" here: the page cache starts it (versions
     * never repeat, page_cache.c); the watch retries a second later. */
    if (r && r->type == REDIS_REPLY_STRING) v = strtoll(r->str, NULL, 10);
    if (r) freeReplyObject(r);
    return v;
}

static bool ok_reply(redisReply *r)
{
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (r && r->type == REDIS_REPLY_ERROR) log_warn("version watch: %s", r->str);
    if (r) freeReplyObject(r);
    return ok;
}

/* One connected session: returns when a connection fails or on stop. */
static void watch_session(void)
{
    redisContext *sub = cache_connect_new(), *tracker = sub ? cache_connect_new() : NULL;
    if (!sub || !tracker) goto out;
    redisReply *id = redisCommand(sub, "CLIENT ID");
    long long sub_id = id && id->type == REDIS_REPLY_INTEGER ? id->integer : -1;
    if (id) freeReplyObject(id);
    if (sub_id < 0 || !ok_reply(redisCommand(sub, "SUBSCRIBE __redis__:invalidate")) ||
        !ok_reply(redisCommand(tracker, "CLIENT TRACKING on REDIRECT %lld BCAST PREFIX " VERSION_KEY, sub_id)))
        goto out;
    /* The subscriber blocks in reads from now on; no read timeout. */
    struct timeval forever = {0, 0};
    redisSetTimeout(sub, forever);
    atomic_store(&watch_fd, sub->fd);
    /* Tracking is on before we read, so any later change sends a message. */
    int64_t v = read_version(tracker);
    if (v < 0) goto out;
    atomic_store(&known, v);

    while (!atomic_load(&stopping)) {
        struct pollfd p = {.fd = sub->fd, .events = POLLIN};
        int n = poll(&p, 1, 1000);
        if (n == 0) continue;
        if (n < 0) break;
        atomic_store(&known, -1); /* before the message leaves the socket */
        redisReply *msg = NULL;
        if (redisGetReply(sub, (void **)&msg) != REDIS_OK) break;
        if (msg) freeReplyObject(msg);
        /* drain what hiredis already buffered */
        void *more = NULL;
        while (redisReaderGetReply(sub->reader, &more) == REDIS_OK && more) {
            freeReplyObject(more);
            more = NULL;
        }
        v = read_version(tracker);
        if (v < 0) break;
        atomic_store(&known, v);
    }
out:
    atomic_store(&known, -1);
    atomic_store(&watch_fd, -1);
    if (sub) redisFree(sub);
    if (tracker) redisFree(tracker);
}

static void *watch_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&stopping)) {
        watch_session();
        /* Redis away or restarting: callers ask Redis directly meanwhile. */
        for (int i = 0; i < 10 && !atomic_load(&stopping); i++) usleep(100 * 1000);
    }
    return NULL;
}

int version_watch_start(void)
{
    if (started) return 0;
    atomic_store(&stopping, false);
    if (pthread_create(&thread, NULL, watch_main, NULL) != 0) {
        log_error("version watch: cannot start its thread; every cache lookup will ask Redis");
        return -1;
    }
    started = true;
    return 0;
}

void version_watch_stop(void)
{
    if (!started) return;
    atomic_store(&stopping, true);
    int fd = atomic_load(&watch_fd);
    if (fd >= 0) shutdown(fd, SHUT_RDWR); /* wake the poll */
    pthread_join(thread, NULL);
    started = false;
}
