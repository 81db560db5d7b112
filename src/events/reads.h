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

/* The shop's daily analytics counters (writer.h: {day, kind, item,
 * count}) from day since (YYYY-MM-DD, UTC) on, for the given kinds, summed
 * by day and kind (by_item: also by item) in MongoDB (one aggregation over
 * the day_kind index). For the admin dashboard, behind the same breaker
 * and short timeouts as the shoppers' reads. Rows written to out (at most
 * max; the rest are left out), or -1 when the store is unavailable. */
typedef struct events_count {
    char day[11];
    char kind[32];
    char item[300];             /* "" unless by_item (the writer keeps keys under 300 bytes) */
    long long count;
} events_count;
int events_analytics_counts(const char *since, const char *const *kinds, int nkinds, bool by_item, events_count *out,
                            int max);

/* false while the breaker is open (MongoDB failed in the last 5 s). */
bool events_available(void);

#endif
