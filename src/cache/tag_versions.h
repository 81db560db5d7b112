/* tag_versions.h — a worker's memory of the version of each page tag
 * ("global", "p:<slug>", "l:<slug>": page_cache.h), and the protocol that
 * makes it safe to answer from it.
 *
 * The version watch (version_watch.c) feeds it: Redis pushes the name of
 * every version key that changes, and the watch drops that tag. Request
 * threads read from it, and teach it the versions they had to read from
 * Redis. Two races must never leave an old version looking current:
 *
 *   - a lookup must not use a tag whose invalidation has already left the
 *     socket but is not yet applied. The watch calls tv_changing() BEFORE
 *     it reads from the socket and tv_changed() once it has dropped the
 *     tags: the generation is odd in between, and a lookup that saw an odd
 *     generation, or a different one at its end, does not count;
 *   - a thread that read a version from Redis must not store it after an
 *     invalidation of that key went by (it would keep the old value
 *     forever). tv_get hands out the generation it saw as a token;
 *     tv_learn stores only if the generation is still that token and, at
 *     that moment, nothing is waiting on the socket (the caller's `quiet`
 *     check: poll(2) with no timeout). Both under the table's lock, which
 *     tv_changed takes to drop tags.
 *
 * No I/O here: the socket check is the caller's callback, so the protocol
 * is unit-tested on its own (tests/unit/test_page_versions.c). Thread-safe. */
#ifndef SHOEASE_CACHE_TAG_VERSIONS_H
#define SHOEASE_CACHE_TAG_VERSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tag_versions tag_versions;
/* "Nothing can be waiting for us": the watch is connected and no message
 * is unread on its socket. */
typedef bool (*tv_quiet_fn)(void *ctx);

/* A table for at most max_tags tags (when full, it starts over empty). */
tag_versions *tv_new(size_t max_tags);
void tv_free(tag_versions *t);

/* The versions of all n tags into versions[], true only when every one is
 * known and provably current (quiet(ctx) true, no change in progress or
 * since the start). *token (always set) is for tv_learn. */
bool tv_get(tag_versions *t, const char *const *tags, int n, int64_t *versions, uint64_t *token, tv_quiet_fn quiet,
            void *ctx);
/* Remember versions read from Redis after a tv_get that returned token;
 * ignored when anything changed since, or quiet(ctx) is false now.
 * versions[i] < 0 are skipped. */
void tv_learn(tag_versions *t, const char *const *tags, int n, const int64_t *versions, uint64_t token,
              tv_quiet_fn quiet, void *ctx);

/* The watch: about to read invalidations (before the bytes leave the
 * socket) ... */
void tv_changing(tag_versions *t);
/* ... and done: forget these tags (n names of lens[i] bytes; all of them
 * when all is true — a FLUSHALL, an unreadable message, a reconnect). */
void tv_changed(tag_versions *t, const char *const *names, const size_t *lens, int n, bool all);

/* How many tags are known (tests, metrics). */
size_t tv_size(tag_versions *t);

#endif
