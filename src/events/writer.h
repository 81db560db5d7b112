/* writer.h — the event writer: moves the event backlog from the durable
 * Redis into MongoDB (a service thread of `shoease worker`).
 *
 * One writer acts at a time across processes and hosts (a lease in Redis,
 * ev:writer). It reads a few batches, writes them in bulk, and only then
 * removes them from the backlog, so a crash or a MongoDB outage loses
 * nothing: the batches wait (bounded, see activity.h) and are written when
 * it returns. Collections (database MONGO_DATABASE):
 *   activity_logs    one document per request (_id = request id, so a batch
 *                    written twice is stored once); expire after
 *                    ACTIVITY_TTL_DAYS (a TTL index where the server has them,
 *                    and the events.prune job everywhere)
 *   recently_viewed  {_id: visitor, items: [{slug, at}]}: the last 20
 *   search_history   {visitor, q, at}: per shopper or visitor
 *   preferences      {_id: visitor, sizes: {uk-9: n}, brands: {..}, genders: {..}}
 *   analytics        {_id: "day|kind|item", day, kind, item, count}: daily
 *                    counters (product_view, search, category_view,
 *                    size_filter: a listing shown filtered by that size, and
 *                    every domain event kind: add_to_cart, checkout, order ...)
 * "Visitor" is "u:<user id>" for a signed-in shopper, else "v:<visitor
 * cookie>". Counters are at-least-once: a batch retried after a crash in the
 * middle of writing may count twice; raw logs are stored once. */
#ifndef SHOEASE_EVENTS_WRITER_H
#define SHOEASE_EVENTS_WRITER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

void events_writer_run(atomic_bool *stop);

/* What one backlog element (outside text: paths, query strings, cookie
 * ids) adds up to, without touching MongoDB: {"activity": n, "analytics":
 * {...}, "preferences": {...}, "searches": [...], "views": {...}}. For
 * tests and the fuzz target; the writer uses the same parser. New
 * reference (never NULL). */
#include <jansson.h>
json_t *events_batch_summary(const char *element, size_t len);

/* The `events.prune` job's work: delete activity logs older than
 * ACTIVITY_TTL_DAYS. Count deleted, or -1. */
long long events_prune_activity(char *err, size_t errlen);

/* events.forget: payload {user_id}: the shopper deleted the account —
 * recently viewed, preferences and search history go, activity logs stop
 * naming them. */
#include "jobs/queue.h"
job_result events_forget_job(const job *j, char *err, size_t errlen);

#endif
