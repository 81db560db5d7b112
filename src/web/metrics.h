/* metrics.h — `GET /metrics` in Prometheus text format.
 *
 * Counters live in one shared-memory region mapped by the serve master
 * before it forks (metrics_init), so every worker adds to the same numbers
 * with relaxed atomics (no lock, no syscall on the request path) and any
 * worker can answer a scrape with the totals:
 *   shoease_http_requests_total{route,status}
 *   shoease_http_request_duration_seconds{route} (histogram)
 *   shoease_page_cache_total{result="hit"|"miss"}
 *   shoease_events_dropped_total{where}, shoease_event_backlog
 *   shoease_queue_jobs{queue,state}, shoease_queue_events_total{queue,event},
 *   shoease_jobs_total{type,outcome}, shoease_job_duration_seconds_*{type}
 *     (the job workers' figures, which they keep in the durable Redis:
 *     queue_count_runs)
 *
 * The route answers only on the app's own listener over loopback, without
 * a proxy in between: through nginx (or from anywhere else) it is the
 * site's ordinary 404. */
#ifndef SHOEASE_WEB_METRICS_H
#define SHOEASE_WEB_METRICS_H

#include "http/http.h"

#include <stdbool.h>
#include <stdint.h>

/* In the master, before forking workers. 0 or -1. */
int metrics_init(void);
/* One finished request: route index (router_match's, -1 unmatched), status,
 * duration in microseconds. */
void metrics_observe(int route, int status, int64_t duration_us);
void metrics_page_cache(bool hit);
void metrics_events_dropped(uint64_t n);

void metrics_handler(http_request *req, http_response *res);

#endif
