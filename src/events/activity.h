/* activity.h — the serve side of the event store: collect events without
 * ever blocking or slowing a response.
 *
 *   activity_start();                          // each serve worker, after fork
 *   activity_record(line, len);                // the request's access-log JSON line (server.c)
 *   events_emit(json_pack("{s:s,s:s,s:s}", "event", "view", "vid", vid, "slug", slug));   // steals
 *   activity_stop();                           // before the worker exits: one last flush
 *
 * Events are appended to an in-memory batch under a mutex (a copy of a few
 * hundred bytes) and a flusher thread pushes batches to the durable Redis
 * every 200 ms (list ev:q); `shoease worker`'s event writer moves them into
 * MongoDB (events/writer.h). The backlog is bounded: past EVENT_BACKLOG_MAX
 * events in Redis the oldest batches are dropped and counted (ev:dropped);
 * while Redis itself is unreachable, up to EVENT_MEMORY_MAX events wait in
 * the worker's memory, then the oldest are dropped and counted. Nothing a
 * request does waits for MongoDB or Redis here. */
#ifndef SHOEASE_EVENTS_ACTIVITY_H
#define SHOEASE_EVENTS_ACTIVITY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_MEMORY_MAX 50000

void activity_start(void);
void activity_stop(void);
/* A request's JSON line (no newline); ignored when ACTIVITY_LOG=0 or not
 * started. Domain events (events_emit) flow either way. */
void activity_record(const char *json_line, size_t len);
/* A domain event (an object with "event"): serialised and recorded
 * ("time_ms" added when missing). In a process without a flusher (a job,
 * a command) it is pushed to Redis at once. Steals the reference. */
void events_emit(json_t *event);

/* Push a batch of lines (each one JSON object, no newline) to the backlog
 * from a process that has no flusher (jobs, commands). 0 or -1. */
int events_push_lines(const char *const *lines, const size_t *lens, int n);

/* Called with the number of events this process dropped from memory while
 * Redis was away (the metrics counter), from the flusher thread. */
void activity_on_drop(void (*fn)(uint64_t n));

#endif
