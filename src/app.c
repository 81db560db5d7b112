/* app.c — the route table, the job table and per-worker set-up. Each area
 * of the shop registers its routes and its background jobs here, so this
 * file is the map of every URL and every job. */
#include "app.h"

#include "api/catalog_api.h"
#include "api/suggest_api.h"

#include "cache/redis.h"
#include "core/config.h"
#include "cache/version_watch.h"
#include "db/db.h"
#include "events/activity.h"
#include "events/mongo.h"
#include "events/writer.h"
#include "http/router.h"
#include "jobs/queue.h"
#include "jobs/runner.h"
#include "jobs/schedule.h"
#include "jobs/system_jobs.h"
#include "notify/notify_jobs.h"
#include "views/views.h"
#include "web/health.h"
#include "web/metrics.h"
#include "web/test_hooks.h"

void app_register_routes(void)
{
    router_add("GET", "/healthz", health_live);
    router_add("GET", "/readyz", health_ready);
    router_add("GET", "/metrics", metrics_handler);
    if (cfg.test_hooks) router_add("GET", "/__test/sleep", test_hook_sleep);

    router_add("GET", "/api/v1/categories", api_categories);
    router_add("GET", "/api/v1/products", api_products);
    router_add("GET", "/api/v1/products/{slug}", api_product);
    router_add("GET", "/api/v1/openapi.json", api_openapi);
    router_add("GET", "/api/v1/search/suggest", api_search_suggest);

    /* storefront pages (views/) */
    router_add("GET", "/", views_home);
    router_add("GET", "/shoes", views_all_shoes);
    router_add("GET", "/category/{slug}", views_category);
    router_add("GET", "/products/{slug}", views_product);
    router_add("GET", "/search", views_search);
    /* personal parts of shared pages, fetched by site.js (views/personal.c) */
    router_add("GET", "/fragments/recently-viewed", views_recently_viewed);
}

/* Queues: {name, threads per worker process, rate limit per second (0:
 * none), entries per read}. JOB_CONCURRENCY / JOB_RATE_LIMITS override. */
static const queue_def queue_table[] = {
    {"default", 2, 0, 16},
    {"mail", 2, 0, 1},      /* one at a time: a mail is recorded as sent right after it left */
    {"sms", 1, 5, 1},       /* gateways allow a few messages a second */
    {"bench", 1, 0, 128},   /* the queue benchmark's no-op jobs */
};

/* Job types: {name, queue, handler, max attempts, first backoff ms, backoff
 * cap ms, done-mark TTL s, timeout s} (0 = the defaults in queue.h). */
static const job_type job_table[] = {
    {"mail.send", "mail", notify_mail_job, 10, 2000, 30 * 60 * 1000, 0, 120},
    {"sms.send", "sms", notify_sms_job, 6, 2000, 5 * 60 * 1000, 0, 60},
    {"outbox.prune", "default", system_outbox_prune_job, 3, 60000, 0, 86400, 600},
    {"jobs.cleanup", "default", system_jobs_cleanup_job, 3, 60000, 0, 86400, 120},
    {"bench.noop", "bench", system_noop_job, 1, 0, 0, 600, 10},
    {"events.prune", "default", events_prune_job, 3, 60000, 0, 86400, 600},
};

/* Only on the automated tests' stack (TEST_HOOKS=1): jobs that misbehave
 * on purpose, for the fault tests. */
static const job_type test_job_table[] = {
    {"test.touch", "default", test_touch_job, 5, 200, 0, 0, 60},
    {"test.fail", "default", test_fail_job, 3, 200, 0, 0, 10},
    {"test.crash", "default", test_crash_job, 5, 200, 0, 0, 10},
    {"test.reject", "default", test_reject_job, 5, 200, 0, 0, 10},
};

/* Periodic jobs: {name, every N seconds, job type}. */
static const schedule_def schedule_table[] = {
    {"outbox.prune", 3600, "outbox.prune"},
    {"jobs.cleanup", 3600, "jobs.cleanup"},
    {"events.prune", 3600, "events.prune"},
};

#define COUNT(a) ((int)(sizeof(a) / sizeof *(a)))

int app_register_jobs(void)
{
    static job_type all[COUNT(job_table) + COUNT(test_job_table)];
    int n = 0;
    for (int i = 0; i < COUNT(job_table); i++) all[n++] = job_table[i];
    if (cfg.test_hooks)
        for (int i = 0; i < COUNT(test_job_table); i++) all[n++] = test_job_table[i];
    schedule_register(schedule_table, COUNT(schedule_table));
    return queue_register(queue_table, COUNT(queue_table), all, n);
}

/* Threads every `shoease worker` process runs beside its queues. */
static const runner_service runner_services[] = {
    {"events", events_writer_run},   /* backlog → MongoDB (one writer at a time, by lease) */
};

void app_runner_services(runner_config *rc)
{
    rc->services = runner_services;
    rc->nservices = COUNT(runner_services);
}

int app_worker_init(void)
{
    /* templates (a syntax error stops the worker) and the themed error page */
    if (views_init() != 0) return -1;
    /* Learn catalogue version changes from Redis pushes (cache hits then
     * need no round trip); without it every lookup asks Redis. */
    version_watch_start();
    /* Request and domain events leave through a flusher thread (never in
     * the request's path), to the durable Redis, then MongoDB. */
    activity_on_drop(metrics_events_dropped);
    activity_start();
    /* The MongoDB pool is per process (sockets cannot cross a fork); a bad
     * URI is a configuration error, but a down server is not. */
    return events_init();
}

void app_worker_exit(void)
{
    activity_stop();
    version_watch_stop();
    views_exit();
    events_shutdown();
    db_conn_close();
    cache_close();
}
