/* version_watch.h — knowing the catalogue version without asking Redis on
 * every request.
 *
 * A thread in each worker keeps two Redis connections: one with
 * CLIENT TRACKING (broadcast mode, prefix "catalog:version") redirecting
 * invalidations to the other, which is subscribed to __redis__:invalidate.
 * Redis queues the invalidation while it executes the writer's INCR, so it
 * is on our socket before the writer can act on its reply.
 *
 * version_watch_current() answers from memory only when that is provably
 * current: the watch is connected, no invalidation is waiting unread on
 * the socket (a poll(2) with no timeout), and none is being processed.
 * Otherwise it says "unknown" and the caller reads the version from Redis
 * as before. So a hit costs a poll instead of a network round trip, and a
 * committed change is still never served stale. */
#ifndef SHOEASE_CACHE_VERSION_WATCH_H
#define SHOEASE_CACHE_VERSION_WATCH_H

#include <stdint.h>

/* Start the watch thread (in each worker after fork). 0, or -1 if the
 * thread could not start (the cache then always asks Redis). */
int version_watch_start(void);
void version_watch_stop(void);
/* The current catalogue version, or -1 when it must be read from Redis. */
int64_t version_watch_current(void);

#endif
