/* redis.h — the speed layer: one hiredis connection per thread.
 *
 * Redis is a cache, never the source of truth, so every function degrades:
 * when Redis is down a get is a miss and a set is skipped, and the page is
 * built from MariaDB. Connections reconnect on the next call after a
 * failure; attempts are spaced out so a dead Redis costs at most one
 * refused connect per thread per second. */
#ifndef SHOEASE_CACHE_REDIS_H
#define SHOEASE_CACHE_REDIS_H

#include "core/buf.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

/* A new, authenticated connection of its own (caller frees it), for the
 * rare user that must not share the thread's one (a subscriber). NULL on
 * failure (logged). */
redisContext *cache_connect_new(void);
/* The thread's connection, or NULL while Redis is unreachable. */
redisContext *cache_conn(void);
void cache_close(void);
/* 0 when Redis answers PING. */
int cache_ping(void);
/* Run a command (redisCommand format) on the thread's connection; frees the
 * connection on I/O errors. Caller frees the reply. NULL on failure. */
redisReply *cache_command(const char *fmt, ...);
redisReply *cache_command_argv(int argc, const char **argv, const size_t *argvlen);
/* Several commands in one round trip (a pipeline). Each cmds[i] is a
 * command made by redisFormatCommand (NULL with lens[i] -1 if that failed),
 * lens[i] its length; the commands are freed here, whatever happens. On
 * success replies[i] holds each reply (caller frees them) and 0 is
 * returned; on failure every replies[i] is NULL and -1 is returned. */
int cache_pipeline(int n, char *const *cmds, const int *lens, redisReply **replies);

/* SET with an optional TTL (seconds, 0 = none). 0 or -1. */
int cache_set(const char *key, const void *val, size_t len, int ttl_seconds);

#endif
