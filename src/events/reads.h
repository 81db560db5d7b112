/* reads.h — what pages read back from the event store, per request.
 *
 * These run inside a shopper's request, so they must never make it slow:
 * MongoDB is asked with short timeouts, and after a failure a breaker skips
 * it for 5 s (the answers are then empty: a page without "recently viewed"
 * is better than a slow page). Visitors are "u:<user id>" or "v:<visitor
 * cookie>" (writer.h). */
#ifndef SHOEASE_EVENTS_READS_H
#define SHOEASE_EVENTS_READS_H

#include <jansson.h>
#include <stdbool.h>

#define EVENTS_SLUG_MAX 121

/* The visitor's recently viewed product slugs, newest first. Count, or -1
 * when the store is unavailable. */
int events_recent_slugs(const char *visitor, char (*slugs)[EVENTS_SLUG_MAX], int max);

/* Search suggestions for prefix (may be ""): the visitor's own recent
 * searches first, then the shop's popular searches of the last 7 days.
 * [{"text": ..., "source": "history"|"popular"}], never NULL. */
json_t *events_suggest(const char *visitor, const char *prefix, int max);

/* false while the breaker is open (MongoDB failed in the last 5 s). */
bool events_available(void);

#endif
