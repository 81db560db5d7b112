/* metrics.c — see metrics.h. */
#include "web/metrics.h"

#include "core/buf.h"
#include "core/log.h"
#include "durable/durable.h"
#include "http/router.h"
#include "jobs/queue.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define M_ROUTES 257                  /* the route table's 256, then "unmatched" */
static const int status_codes[] = {200, 201, 202, 204, 301, 302, 303, 304, 307, 308, 400, 401, 403,
                                   404, 405, 409, 410, 413, 415, 422, 429, 431, 500, 502, 503, 504};
#define N_STATUS ((int)(sizeof status_codes / sizeof *status_codes) + 1) /* + "other" */
static const double bucket_ms[] = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
#define N_BUCKETS ((int)(sizeof bucket_ms / sizeof *bucket_ms) + 1)     /* + +Inf */

struct shared {
    _Atomic uint64_t requests[M_ROUTES][N_STATUS];
    _Atomic uint64_t buckets[M_ROUTES][N_BUCKETS];
    _Atomic uint64_t duration_us[M_ROUTES];
    _Atomic uint64_t cache_hit, cache_miss, events_dropped;
};

static struct shared *m;

int metrics_init(void)
{
    if (m) return 0;
    void *p = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        log_error("metrics: cannot map shared memory");
        return -1;
    }
    m = p;
    return 0;
}

static int status_index(int status)
{
    for (int i = 0; i < N_STATUS - 1; i++)
        if (status_codes[i] == status) return i;
    return N_STATUS - 1;
}

void metrics_observe(int route, int status, int64_t us)
{
    if (!m) return;
    int r = route >= 0 && route < M_ROUTES - 1 ? route : M_ROUTES - 1;
    atomic_fetch_add_explicit(&m->requests[r][status_index(status)], 1, memory_order_relaxed);
    double ms = (double)us / 1000.0;
    int b = 0;
    while (b < N_BUCKETS - 1 && ms > bucket_ms[b]) b++;
    atomic_fetch_add_explicit(&m->buckets[r][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->duration_us[r], (uint64_t)(us > 0 ? us : 0), memory_order_relaxed);
}

void metrics_page_cache(bool hit)
{
    if (m) atomic_fetch_add_explicit(hit ? &m->cache_hit : &m->cache_miss, 1, memory_order_relaxed);
}

void metrics_events_dropped(uint64_t n)
{
    if (m) atomic_fetch_add_explicit(&m->events_dropped, n, memory_order_relaxed);
}

/* ---------- the scrape ---------- */

static void label(buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') buf_putc(out, '\\');
        if (*s == '\n') { buf_puts(out, "\\n"); continue; }
        buf_putc(out, *s);
    }
}

static void http_section(buf *out)
{
    buf_puts(out, "# HELP shoease_http_requests_total Requests answered, by route and status.\n"
                  "# TYPE shoease_http_requests_total counter\n");
    int nroutes = router_count();
    for (int r = 0; r < M_ROUTES; r++) {
        bool unmatched = r == M_ROUTES - 1;
        if (!unmatched && r >= nroutes) continue;
        for (int s = 0; s < N_STATUS; s++) {
            uint64_t v = atomic_load_explicit(&m->requests[r][s], memory_order_relaxed);
            if (!v) continue;
            buf_puts(out, "shoease_http_requests_total{route=\"");
            if (unmatched) buf_puts(out, "unmatched");
            else { label(out, router_method(r)); buf_putc(out, ' '); label(out, router_pattern(r)); }
            if (s == N_STATUS - 1) buf_printf(out, "\",status=\"other\"} %llu\n", (unsigned long long)v);
            else buf_printf(out, "\",status=\"%d\"} %llu\n", status_codes[s], (unsigned long long)v);
        }
    }
    buf_puts(out, "# HELP shoease_http_request_duration_seconds Time from the request line to the response, by route.\n"
                  "# TYPE shoease_http_request_duration_seconds histogram\n");
    for (int r = 0; r < M_ROUTES; r++) {
        bool unmatched = r == M_ROUTES - 1;
        if (!unmatched && r >= nroutes) continue;
        uint64_t total = 0, counts[N_BUCKETS];
        for (int b = 0; b < N_BUCKETS; b++) total += counts[b] = atomic_load_explicit(&m->buckets[r][b], memory_order_relaxed);
        if (!total) continue;
        buf name = BUF_INIT;
        if (unmatched) buf_puts(&name, "unmatched");
        else { label(&name, router_method(r)); buf_putc(&name, ' '); label(&name, router_pattern(r)); }
        uint64_t cum = 0;
        for (int b = 0; b < N_BUCKETS; b++) {
            cum += counts[b];
            if (b < N_BUCKETS - 1)
                buf_printf(out, "shoease_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                           buf_cstr(&name), bucket_ms[b] / 1000.0, (unsigned long long)cum);
            else
                buf_printf(out, "shoease_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                           buf_cstr(&name), (unsigned long long)cum);
        }
        buf_printf(out, "shoease_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", buf_cstr(&name),
                   (double)atomic_load_explicit(&m->duration_us[r], memory_order_relaxed) / 1e6);
        buf_printf(out, "shoease_http_request_duration_seconds_count{route=\"%s\"} %llu\n", buf_cstr(&name),
                   (unsigned long long)total);
        buf_free(&name);
    }
    buf_printf(out, "# HELP shoease_page_cache_total Page-cache lookups of catalogue pages and API answers.\n"
                    "# TYPE shoease_page_cache_total counter\n"
                    "shoease_page_cache_total{result=\"hit\"} %llu\n"
                    "shoease_page_cache_total{result=\"miss\"} %llu\n",
               (unsigned long long)atomic_load(&m->cache_hit), (unsigned long long)atomic_load(&m->cache_miss));
}

static long long get_int(const char *key, bool *ok)
{
    redisReply *r = durable_cmd(NULL, "GET %s", key);
    if (!r) {
        *ok = false;
        return 0;
    }
    long long v = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    return v;
}

static void durable_section(buf *out)
{
    bool ok = true;
    long long backlog = get_int("ev:backlog", &ok), dropped = get_int("ev:dropped", &ok);
    buf_printf(out, "# HELP shoease_durable_redis_up Whether the durable Redis (queues, event backlog) answered.\n"
                    "# TYPE shoease_durable_redis_up gauge\nshoease_durable_redis_up %d\n", ok ? 1 : 0);
    buf_printf(out, "# HELP shoease_events_dropped_total Events dropped because a backlog was over its cap.\n"
                    "# TYPE shoease_events_dropped_total counter\n"
                    "shoease_events_dropped_total{where=\"redis\"} %lld\n"
                    "shoease_events_dropped_total{where=\"worker_memory\"} %llu\n",
               dropped, (unsigned long long)atomic_load(&m->events_dropped));
    if (!ok) return;
    buf_printf(out, "# HELP shoease_event_backlog Events waiting in the durable Redis for the writer to MongoDB.\n"
                    "# TYPE shoease_event_backlog gauge\nshoease_event_backlog %lld\n", backlog);
    buf_puts(out, "# HELP shoease_queue_jobs Jobs per queue and state.\n# TYPE shoease_queue_jobs gauge\n");
    buf events = BUF_INIT;
    for (int i = 0; i < queue_count(); i++) {
        queue_stats s;
        const queue_def *q = queue_at(i);
        if (queue_stats_get(NULL, q, &s) < 0) continue;
        buf_printf(out,
                   "shoease_queue_jobs{queue=\"%s\",state=\"waiting\"} %lld\n"
                   "shoease_queue_jobs{queue=\"%s\",state=\"in_flight\"} %lld\n"
                   "shoease_queue_jobs{queue=\"%s\",state=\"retrying\"} %lld\n"
                   "shoease_queue_jobs{queue=\"%s\",state=\"dead\"} %lld\n",
                   q->name, s.waiting, q->name, s.in_flight, q->name, s.delayed, q->name, s.dead);
        buf_printf(&events,
                   "shoease_queue_events_total{queue=\"%s\",event=\"enqueued\"} %lld\n"
                   "shoease_queue_events_total{queue=\"%s\",event=\"done\"} %lld\n"
                   "shoease_queue_events_total{queue=\"%s\",event=\"skipped\"} %lld\n"
                   "shoease_queue_events_total{queue=\"%s\",event=\"retried\"} %lld\n"
                   "shoease_queue_events_total{queue=\"%s\",event=\"died\"} %lld\n",
                   q->name, s.enqueued, q->name, s.done, q->name, s.skipped, q->name, s.retried, q->name, s.died);
    }
    buf_puts(out, "# HELP shoease_queue_events_total What happened to jobs, per queue, since the queue began.\n"
                  "# TYPE shoease_queue_events_total counter\n");
    buf_append(out, events.data, events.len);
    buf_free(&events);
    redisReply *r = durable_cmd(NULL, "HGETALL metrics:jobs");
    if (!r) return;
    buf counts = BUF_INIT, sums = BUF_INIT, totals = BUF_INIT;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        const char *f = r->element[i]->str, *bar = strchr(f, '|');
        if (!bar) continue;
        long long v = strtoll(r->element[i + 1]->str, NULL, 10);
        char type[80];
        snprintf(type, sizeof type, "%.*s", (int)(bar - f), f);
        if (!strcmp(bar + 1, "us")) {
            buf_printf(&sums, "shoease_job_duration_seconds_sum{type=\"%s\"} %.6f\n", type, (double)v / 1e6);
        } else {
            buf_printf(&counts, "shoease_jobs_total{type=\"%s\",outcome=\"%s\"} %lld\n", type, bar + 1, v);
        }
    }
    (void)totals;
    freeReplyObject(r);
    buf_puts(out, "# HELP shoease_jobs_total Jobs run by the job workers, by type and outcome.\n"
                  "# TYPE shoease_jobs_total counter\n");
    buf_append(out, counts.data, counts.len);
    buf_puts(out, "# HELP shoease_job_duration_seconds_sum Time spent running jobs, by type.\n"
                  "# TYPE shoease_job_duration_seconds_sum counter\n");
    buf_append(out, sums.data, sums.len);
    buf_free(&counts);
    buf_free(&sums);
    buf_free(&totals);
}

static bool loopback_direct(http_request *req)
{
    /* nginx talks over the unix socket and always adds X-Forwarded-For; a
     * scrape comes straight to the loopback TCP listener */
    if (!req->peer_ip || (strcmp(req->peer_ip, "127.0.0.1") && strcmp(req->peer_ip, "::1"))) return false;
    return !req_header(req, "X-Forwarded-For") && !req_header(req, "Forwarded") && !req_header(req, "X-Real-IP");
}

void metrics_handler(http_request *req, http_response *res)
{
    if (!loopback_direct(req) || !m) {
        res_error(req, res, 404, "We could not find that page.");
        return;
    }
    buf out = BUF_INIT;
    http_section(&out);
    durable_section(&out);
    res_header(res, "Cache-Control", "no-store");
    res_html(res, 200, out.data ? out.data : "", out.len);
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    buf_free(&out);
}
