/* version_watch.c — see version_watch.h. */
#include "cache/version_watch.h"

#include "cache/redis.h"
#include "cache/tag_versions.h"
#include "core/log.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* More tags than a catalogue has products and categories is fine: past it
 * the map starts over (each tag then costs one Redis read again). */
#define MAX_TAGS 65536
#define MAX_KEYS_PER_MESSAGE 256

static atomic_int watch_fd = -1;    /* the subscriber socket, -1 when down */
static atomic_bool stopping;
static pthread_t thread;
static bool started;
static tag_versions *known;         /* NULL until started: every lookup asks Redis */

/* Nothing can be waiting: connected, and no message unread on the socket. */
static bool quiet(void *ctx)
{
    (void)ctx;
    int fd = atomic_load(&watch_fd);
    if (fd < 0) return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 0;
}

bool version_watch_get(const char *const *tags, int n, int64_t *versions, uint64_t *token)
{
    *token = 1; /* odd: learns nothing */
    if (!known || atomic_load(&watch_fd) < 0) return false;
    return tv_get(known, tags, n, versions, token, quiet, NULL);
}

void version_watch_learn(const char *const *tags, int n, const int64_t *versions, uint64_t token)
{
    if (known) tv_learn(known, tags, n, versions, token, quiet, NULL);
}

static bool ok_reply(redisReply *r)
{
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (r && r->type == REDIS_REPLY_ERROR) log_warn("version watch: %s", r->str);
    if (r) freeReplyObject(r);
    return ok;
}

/* Apply one pushed message: ["message", "__redis__:invalidate", [keys] or
 * nil (a flush)]. Anything else we cannot read forgets every tag. Called
 * between tv_changing and tv_changed: collects the tags to drop. */
static void collect(redisReply *msg, const char **names, size_t *lens, int *n, bool *all)
{
    if (!msg || msg->type != REDIS_REPLY_ARRAY || msg->elements != 3 || msg->element[0]->type != REDIS_REPLY_STRING) {
        *all = true;
        return;
    }
    if (strcmp(msg->element[0]->str, "message") != 0) return; /* e.g. a subscribe confirmation */
    redisReply *keys = msg->element[2];
    if (keys->type != REDIS_REPLY_ARRAY) { /* nil: FLUSHALL / FLUSHDB */
        *all = true;
        return;
    }
    size_t plen = strlen(VERSION_KEY_PREFIX);
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *k = keys->element[i];
        if (k->type != REDIS_REPLY_STRING || k->len < plen || memcmp(k->str, VERSION_KEY_PREFIX, plen) != 0) continue;
        if (*n == MAX_KEYS_PER_MESSAGE) {
            *all = true;
            return;
        }
        names[*n] = k->str + plen;
        lens[*n] = k->len - plen;
        (*n)++;
    }
}

/* Read every message waiting (at least one: poll said so) and drop the
 * tags they name. The generation is odd from before the first byte leaves
 * the socket until the tags are gone (tag_versions.h). false when the
 * connection failed. */
static bool apply_messages(redisContext *sub)
{
    tv_changing(known);
    redisReply *msgs[64];
    int nmsgs = 0;
    bool all = false, ok = true;
    void *r = NULL;
    if (redisGetReply(sub, &r) != REDIS_OK) {
        ok = false;
        all = true;
    } else {
        /* this one and whatever hiredis has already buffered: a message
         * left in hiredis's buffer would not wake the poll */
        do {
            if (nmsgs < 64) msgs[nmsgs++] = r;
            else { /* a burst: forget everything rather than count */
                freeReplyObject(r);
                all = true;
            }
            r = NULL;
        } while (redisReaderGetReply(sub->reader, &r) == REDIS_OK && r);
    }
    const char *names[MAX_KEYS_PER_MESSAGE];
    size_t lens[MAX_KEYS_PER_MESSAGE];
    int n = 0;
    for (int i = 0; i < nmsgs && !all; i++) collect(msgs[i], names, lens, &n, &all);
    tv_changed(known, names, lens, n, all);
    for (int i = 0; i < nmsgs; i++) freeReplyObject(msgs[i]);
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
        !ok_reply(redisCommand(tracker, "CLIENT TRACKING on REDIRECT %lld BCAST PREFIX " VERSION_KEY_PREFIX, sub_id)))
        goto out;
    /* The subscriber blocks in reads from now on; no read timeout. */
    struct timeval forever = {0, 0};
    redisSetTimeout(sub, forever);
    /* Tracking is on before any tag is learnt, so every later change sends
     * a message; the map starts empty (it was cleared when the last
     * session ended) and is learnt on use. */
    atomic_store(&watch_fd, sub->fd);

    while (!atomic_load(&stopping)) {
        struct pollfd p = {.fd = sub->fd, .events = POLLIN};
        int n = poll(&p, 1, 1000);
        if (n == 0) continue;
        if (n < 0 || !apply_messages(sub)) break;
    }
out:
    /* nothing learnt in this session may outlive it */
    tv_changing(known);
    atomic_store(&watch_fd, -1);
    tv_changed(known, NULL, NULL, 0, true);
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
    if (!known && !(known = tv_new(MAX_TAGS))) return -1;
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
