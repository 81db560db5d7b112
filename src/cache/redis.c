/* redis.c — see redis.h. */
#include "cache/redis.h"

#include "core/config.h"
#include "core/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

static __thread redisContext *thread_ctx;
static __thread time_t thread_next_attempt;

static void drop(void)
{
    if (thread_ctx) redisFree(thread_ctx);
    thread_ctx = NULL;
}

redisContext *cache_connect_new(void)
{
    struct timeval connect_tv = {0, 300 * 1000}, io_tv = {1, 0};
    redisContext *c = redisConnectWithTimeout(cfg.redis_host, cfg.redis_port, connect_tv);
    if (!c || c->err) {
        log_warn("redis: cannot connect to %s:%d: %s", cfg.redis_host, cfg.redis_port, c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, io_tv);
    if (cfg.redis_password[0]) {
        redisReply *r = redisCommand(c, "AUTH %s", cfg.redis_password);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (r) freeReplyObject(r);
        if (!ok) { log_error("redis: AUTH failed"); redisFree(c); return NULL; }
    }
    if (cfg.redis_db) {
        redisReply *r = redisCommand(c, "SELECT %d", cfg.redis_db);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (r) freeReplyObject(r);
        if (!ok) { log_error("redis: SELECT %d failed", cfg.redis_db); redisFree(c); return NULL; }
    }
    return c;
}

redisContext *cache_conn(void)
{
    if (thread_ctx) return thread_ctx;
    time_t now = time(NULL);
    if (now < thread_next_attempt) return NULL;
    thread_ctx = cache_connect_new();
    if (!thread_ctx) thread_next_attempt = now + 1;
    return thread_ctx;
}

void cache_close(void) { drop(); }

static redisReply *checked(redisReply *r)
{
    if (!r) {
        log_warn("redis: %s", thread_ctx ? thread_ctx->errstr : "no connection");
        drop();
        thread_next_attempt = time(NULL) + 1;
    }
    return r;
}

redisReply *cache_command(const char *fmt, ...)
{
    redisContext *c = cache_conn();
    if (!c) return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    return checked(r);
}

redisReply *cache_command_argv(int argc, const char **argv, const size_t *argvlen)
{
    redisContext *c = cache_conn();
    if (!c) return NULL;
    return checked(redisCommandArgv(c, argc, argv, argvlen));
}

static int pipeline(redisContext *c, int n, char *const *cmds, const int *lens, redisReply **replies)
{
    for (int i = 0; i < n; i++)
        if (lens[i] < 0 || redisAppendFormattedCommand(c, cmds[i], (size_t)lens[i]) != REDIS_OK) {
            /* some commands may be queued unsent: the connection is no
             * longer in a known state */
            checked(NULL);
            return -1;
        }
    for (int i = 0; i < n; i++) {
        void *r = NULL;
        if (redisGetReply(c, &r) != REDIS_OK || !r) {
            for (int k = 0; k < i; k++) {
                freeReplyObject(replies[k]);
                replies[k] = NULL;
            }
            checked(NULL);
            return -1;
        }
        replies[i] = r;
    }
    return 0;
}

int cache_pipeline(int n, char *const *cmds, const int *lens, redisReply **replies)
{
    for (int i = 0; i < n; i++) replies[i] = NULL;
    redisContext *c = cache_conn();
    int rc = c ? pipeline(c, n, cmds, lens, replies) : -1;
    for (int i = 0; i < n; i++) redisFreeCommand(cmds[i]);
    return rc;
}

int cache_ping(void)
{
    /* readyz must see a returning server at once, not after the backoff */
    thread_next_attempt = 0;
    redisReply *r = cache_command("PING");
    bool ok = r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG");
    if (r) freeReplyObject(r);
    return ok ? 0 : -1;
}

int cache_set(const char *key, const void *val, size_t len, int ttl_seconds)
{
    redisReply *r = ttl_seconds > 0 ? cache_command("SET %s %b EX %d", key, val, len, ttl_seconds)
                                    : cache_command("SET %s %b", key, val, len);
    if (!r) return -1;
    int rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
    freeReplyObject(r);
    return rc;
}
