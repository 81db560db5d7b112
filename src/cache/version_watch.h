/* version_watch.h — knowing the versions of page tags (page_cache.h)
 * without asking Redis on every request.
 *
 * A thread in each worker keeps two Redis connections: one with
 * CLIENT TRACKING (broadcast mode, prefix "v:", the version keys)
 * redirecting invalidations to the other, which is subscribed to
 * __redis__:invalidate. Redis queues the invalidation naming the changed
 * keys while it executes the writer's bump, so it is on our socket before
 * the writer can act on its reply. Each push drops the named tags from the
 * worker's map (tag_versions.h); a FLUSHALL, an unreadable message or a
 * lost connection drops them all.
 *
 * The map is learnt on use: a lookup that misses reads the page's tags
 * from Redis (one MGET) and teaches them to the map (version_watch_learn).
 * version_watch_get answers from memory only when that is provably
 * current: the watch is connected, no invalidation is waiting unread on
 * its socket (a poll(2) with no timeout), and none is being applied. So a
 * hit costs a poll instead of a network round trip, and a committed change
 * is still never served stale. */
#ifndef SHOEASE_CACHE_VERSION_WATCH_H
#define SHOEASE_CACHE_VERSION_WATCH_H

#include <stdbool.h>
#include <stdint.h>

/* The prefix of every version key: "v:<tag>". */
#define VERSION_KEY_PREFIX "v:"

/* Start the watch thread (in each worker after fork). 0, or -1 if the
 * thread could not start (the cache then always asks Redis). */
int version_watch_start(void);
void version_watch_stop(void);
/* The current versions of the n tags, when this worker knows them all and
 * provably current; false: read them from Redis, then call
 * version_watch_learn with *token. */
bool version_watch_get(const char *const *tags, int n, int64_t *versions, uint64_t *token);
void version_watch_learn(const char *const *tags, int n, const int64_t *versions, uint64_t token);

#endif
