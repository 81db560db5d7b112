/* runner.c — see runner.h. */
#include "jobs/runner.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "db/db.h"
#include "durable/durable.h"
#include "jobs/outbox.h"
#include "jobs/queue.h"
#include "jobs/schedule.h"
#include "proc/sandbox.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 128
#define MAX_THREADS 48
#define MAX_INFLIGHT 1024
/* Workers that died holding a job before it is dead-lettered as poison. */
#define MAX_DEATHS 3
#define DEFAULT_ATTEMPTS 8
#define DEFAULT_BACKOFF_MS 1000
#define DEFAULT_BACKOFF_MAX_MS (10 * 60 * 1000)
#define DEFAULT_DONE_TTL (7 * 86400)
#define DEFAULT_TIMEOUT_S 300

static atomic_bool stopping;
static worker_state *self_state;
static char consumer[128];          /* "<host>:<pid>": this process in every consumer group */
static atomic_int next_slot;

/* ---------- what this process holds (for lease renewal) ---------- */

struct held {
    const queue_def *q;
    char sid[48];
};
static struct held held[MAX_INFLIGHT];
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;

static void hold(const queue_def *q, const queue_entry *e, int n)
{
    pthread_mutex_lock(&held_lock);
    for (int i = 0, k = 0; i < n; i++) {
        while (k < MAX_INFLIGHT && held[k].q) k++;
        if (k == MAX_INFLIGHT) break; /* never: threads × batch < MAX_INFLIGHT */
        held[k].q = q;
        memcpy(held[k].sid, e[i].sid, sizeof held[k].sid);
    }
    pthread_mutex_unlock(&held_lock);
}

static void unhold(const queue_def *q, const char *sid)
{
    pthread_mutex_lock(&held_lock);
    for (int k = 0; k < MAX_INFLIGHT; k++)
        if (held[k].q == q && !strcmp(held[k].sid, sid)) {
            held[k].q = NULL;
            break;
        }
    pthread_mutex_unlock(&held_lock);
}

/* ---------- logging ---------- */

static void log_job(const char *queue, const char *id, const char *type, const char *key, int attempt,
                    const char *outcome, double ms, int64_t pickup_ms, const char *error)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    struct tm tm;
    gmtime_r(&wall.tv_sec, &tm);
    char ts[40];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    char when[48];
    snprintf(when, sizeof when, "%s.%03dZ", ts, (int)(wall.tv_nsec / 1000000));
    json_t *line = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:f,s:I,s:i}", "time", when, "job", id ? id : "-",
                             "type", type ? type : "-", "queue", queue, "key", key ? key : "-", "attempt", attempt,
                             "outcome", outcome, "duration_ms", ms, "pickup_ms", (json_int_t)pickup_ms, "pid",
                             (int)getpid());
    if (!line) return;
    if (error && *error) json_object_set_new(line, "error", json_string(error));
    char *s = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
    json_decref(line);
    if (!s) return;
    size_t n = strlen(s);
    s[n] = '\n'; /* one write(2) per line keeps lines whole between threads */
    ssize_t w = write(STDOUT_FILENO, s, n + 1);
    (void)w;
    free(s);
}

/* ---------- one batch ---------- */

/* A delivered entry, parsed. */
struct work {
    queue_entry *e;
    json_t *env;               /* the envelope, or NULL when malformed */
    const char *type, *key;
    const job_type *jt;
    int attempts_before;
    char problem[200];         /* set: dead-letter it without running */
    bool done_already;
    bool processed;            /* false: handed back unstarted */
    /* the outcome */
    job_result result;
    char error[512];
    char *next;                /* retry envelope / dead record (owned) */
    int64_t delay_ms;
};

static void parse_work(struct work *w)
{
    w->type = w->key = NULL;
    if (w->e->envelope_len > QUEUE_MAX_JOB_BYTES) {
        snprintf(w->problem, sizeof w->problem, "oversize job: %zu bytes (the limit is %d)", w->e->envelope_len,
                 QUEUE_MAX_JOB_BYTES);
        return;
    }
    json_error_t jerr;
    w->env = json_loadb(w->e->envelope, w->e->envelope_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(w->env)) {
        snprintf(w->problem, sizeof w->problem, "malformed job: not a JSON object (%s)", w->env ? "" : jerr.text);
        return;
    }
    w->type = json_string_value(json_object_get(w->env, "type"));
    w->key = json_string_value(json_object_get(w->env, "key"));
    json_t *a = json_object_get(w->env, "a");
    if (!w->type || !w->key || !json_is_object(json_object_get(w->env, "p")) || (a && !json_is_integer(a))) {
        snprintf(w->problem, sizeof w->problem, "malformed job: needs a type, a key and an object payload");
        return;
    }
    w->attempts_before = a ? (int)json_integer_value(a) : 0;
    w->jt = queue_type(w->type);
    if (!w->jt) snprintf(w->problem, sizeof w->problem, "unknown job type '%.100s'", w->type);
}

/* One MGET for the batch: which keys already had their effect. */
static void check_done(durable_conn *c, struct work *w, int n)
{
    const char *argv[MAX_BATCH + 1];
    size_t lens[MAX_BATCH + 1];
    char keys[MAX_BATCH][220];
    int idx[MAX_BATCH], m = 0;
    argv[0] = "MGET";
    lens[0] = 4;
    for (int i = 0; i < n; i++) {
        if (w[i].problem[0] || !w[i].key) continue;
        snprintf(keys[m], sizeof keys[m], "q:done:%s", w[i].key);
        argv[1 + m] = keys[m];
        lens[1 + m] = strlen(keys[m]);
        idx[m++] = i;
    }
    if (!m) return;
    redisReply *r = durable_cmd_argv(c, 1 + m, argv, lens);
    if (!r) return; /* unknown: run them; handlers are idempotent where it matters */
    for (int k = 0; r->type == REDIS_REPLY_ARRAY && k < (int)r->elements && k < m; k++)
        if (r->element[k]->type == REDIS_REPLY_STRING) w[idx[k]].done_already = true;
    freeReplyObject(r);
}

static int64_t backoff_ms(const job_type *jt, int attempt)
{
    int64_t base = jt->backoff_ms > 0 ? jt->backoff_ms : DEFAULT_BACKOFF_MS;
    int64_t cap = jt->backoff_max_ms > 0 ? jt->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
    int64_t d = base;
    for (int i = 1; i < attempt && d < cap; i++) d *= 2;
    if (d > cap) d = cap;
    /* "equal jitter": half fixed, half random, so retries of jobs that
     * failed together (a mail server outage) do not come back together */
    return d / 2 + (int64_t)randombytes_uniform((uint32_t)(d / 2 + 1));
}

static char *dead_record(const struct work *w, const char *error, int attempts)
{
    json_t *rec = json_pack("{s:s,s:i,s:I}", "error", error, "attempts", attempts, "died_at",
                            (json_int_t)queue_now_ms());
    if (w->env) {
        json_object_set(rec, "job", w->env);
    } else {
        /* keep what came, cut, so an operator can see it */
        size_t n = w->e->envelope_len < 2000 ? w->e->envelope_len : 2000;
        json_object_set_new(rec, "job", json_null());
        json_object_set_new(rec, "raw", json_stringn_nocheck(w->e->envelope, n));
    }
    char *s = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(rec);
    return s;
}

static void run_one(struct work *w, int slot)
{
    const job_type *jt = w->jt;
    job j = {.id = w->e->job_id, .type = w->type, .key = w->key, .queue = jt->queue,
             .payload = json_object_get(w->env, "p"), .attempt = w->attempts_before + 1,
             .enqueued_ms = json_integer_value(json_object_get(w->env, "t")),
             .outbox_id = json_integer_value(json_object_get(w->env, "ob"))};
    int timeout = jt->timeout_seconds > 0 ? jt->timeout_seconds : DEFAULT_TIMEOUT_S;
    if (self_state && slot >= 0) atomic_store(&self_state->deadline_ms[slot], monotonic_ms() + (int64_t)timeout * 1000);
    w->error[0] = '\0';
    w->result = jt->handler(&j, w->error, sizeof w->error);
    if (self_state && slot >= 0) atomic_store(&self_state->deadline_ms[slot], 0);
    int max_attempts = jt->max_attempts > 0 ? jt->max_attempts : DEFAULT_ATTEMPTS;
    if (w->result == JOB_RETRY && j.attempt >= max_attempts) {
        w->result = JOB_FAILED;
        size_t l = strlen(w->error);
        snprintf(w->error + l, sizeof w->error - l, "%s(gave up after %d attempts)", l ? " " : "", j.attempt);
    }
    if (w->result == JOB_RETRY) {
        w->delay_ms = backoff_ms(jt, j.attempt);
        json_object_set_new(w->env, "a", json_integer(j.attempt));
        json_object_set_new(w->env, "err", json_string(w->error[0] ? w->error : "failed"));
        json_object_set_new(w->env, "t", json_integer(queue_now_ms() + w->delay_ms));
        w->next = json_dumps(w->env, JSON_COMPACT | JSON_ENSURE_ASCII);
    } else if (w->result == JOB_FAILED) {
        w->next = dead_record(w, w->error[0] ? w->error : "failed", j.attempt);
    }
}

/* Record the outcomes; Redis being away is retried for a while, because
 * an unrecorded success would run again after the lease. */
static void finish(durable_conn **c, const queue_def *q, const job_outcome *o, int n)
{
    if (n <= 0) return;
    for (int attempt = 0; attempt < 20 && n > 0; attempt++) {
        if (*c && queue_finish(*c, q, o, n) == 0) return;
        log_warn("jobs: cannot record %d outcome(s) on queue %s: %s", n, q->name, queue_last_error());
        durable_disconnect(*c);
        usleep(250 * 1000);
        *c = durable_connect();
    }
    log_error("jobs: gave up recording outcomes on queue %s; those jobs will run again after their lease",
              q->name);
}

static void process_batch(durable_conn **c, const queue_def *q, queue_entry *entries, int n, int slot)
{
    struct work w[MAX_BATCH];
    job_outcome o[MAX_BATCH];
    int64_t picked_ms = queue_now_ms();
    memset(w, 0, sizeof w[0] * (size_t)n);
    for (int i = 0; i < n; i++) {
        w[i].e = &entries[i];
        parse_work(&w[i]);
    }
    check_done(*c, w, n);
    int ran = 0, nruns = 0;
    const char *run_types[MAX_BATCH], *run_outcomes[MAX_BATCH];
    int64_t run_us[MAX_BATCH];
    for (int i = 0; i < n; i++) {
        if (atomic_load(&stopping) && !w[i].problem[0] && !w[i].done_already) {
            /* stopping: hand the unstarted rest back to the queue */
            if (queue_release(*c, q, &entries[i], n - i) < 0)
                log_warn("jobs: could not hand back %d job(s): %s (they return after their lease)", n - i,
                         queue_last_error());
            for (int k = i; k < n; k++) unhold(q, entries[k].sid);
            break;
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        w[i].processed = true;
        /* when it was due (run_one moves "t" on for a retry) */
        int64_t enq = w[i].env ? json_integer_value(json_object_get(w[i].env, "t")) : 0;
        if (w[i].problem[0]) {
            w[i].result = JOB_FAILED;
            text_copy(w[i].error, sizeof w[i].error, w[i].problem);
            w[i].next = dead_record(&w[i], w[i].problem, w[i].attempts_before + 1);
        } else if (w[i].done_already) {
            w[i].result = JOB_DONE;
        } else {
            for (;;) { /* the queue's rate limit, shared by every worker */
                int64_t wait = queue_rate_wait(*c, q);
                if (wait <= 0 || atomic_load(&stopping)) break;
                usleep((useconds_t)(wait > 1000 ? 1000 : wait) * 1000);
            }
            run_one(&w[i], slot);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        const char *outcome = w[i].done_already ? "skipped"
                              : w[i].result == JOB_DONE ? "done"
                              : w[i].result == JOB_RETRY ? "retry"
                                                         : "dead";
        run_types[nruns] = w[i].jt ? w[i].jt->name : "(invalid)";
        run_outcomes[nruns] = outcome;
        run_us[nruns++] = (int64_t)(ms * 1000);
        log_job(q->name, entries[i].job_id, w[i].type, w[i].key, w[i].attempts_before + 1, outcome, ms,
                enq ? picked_ms - enq : 0, w[i].result == JOB_DONE ? NULL : w[i].error);
        o[ran++] = (job_outcome){.entry = &entries[i], .job_id = entries[i].job_id, .key = w[i].key,
                                 .result = w[i].result, .skipped = w[i].done_already,
                                 .done_ttl_seconds = w[i].jt && w[i].jt->done_ttl_seconds > 0
                                                         ? w[i].jt->done_ttl_seconds
                                                         : DEFAULT_DONE_TTL,
                                 .retry_delay_ms = w[i].delay_ms, .next_envelope = w[i].next};
        /* a queue with one entry per read records each at once (mail: the
         * effect-once window is then one job, not a batch) */
        if (q->batch == 1) {
            finish(c, q, o, ran);
            ran = 0;
        }
    }
    finish(c, q, o, ran);
    queue_count_runs(*c, run_types, run_outcomes, run_us, nruns);
    for (int i = 0; i < n; i++) {
        int64_t ob = w[i].env ? json_integer_value(json_object_get(w[i].env, "ob")) : 0;
        if (ob > 0 && w[i].processed && w[i].result != JOB_RETRY)
            outbox_finished(ob, w[i].result == JOB_DONE ? "done" : "dead");
        if (w[i].processed) unhold(q, entries[i].sid);
        json_decref(w[i].env);
        free(w[i].next);
    }
}

/* ---------- threads ---------- */

struct consumer_arg {
    const queue_def *q;
};

static durable_conn *connect_until_stopped(const char *what)
{
    int delay_ms = 100;
    while (!atomic_load(&stopping)) {
        durable_conn *c = durable_connect();
        if (c) return c;
        log_warn("jobs: %s cannot reach the durable Redis: %s", what, durable_last_error());
        usleep((useconds_t)delay_ms * 1000);
        if (delay_ms < 2000) delay_ms *= 2;
    }
    return NULL;
}

static void *consumer_thread(void *arg)
{
    const queue_def *q = ((struct consumer_arg *)arg)->q;
    int slot = atomic_fetch_add(&next_slot, 1) % WORKER_MAX_THREADS;
    durable_conn *c = NULL;
    queue_entry entries[MAX_BATCH];
    int batch = q->batch > MAX_BATCH ? MAX_BATCH : q->batch;
    while (!atomic_load(&stopping)) {
        if (!c) {
            if (!(c = connect_until_stopped(q->name))) break;
            if (queue_prepare(c, q) < 0) {
                durable_disconnect(c);
                c = NULL;
                usleep(500 * 1000);
                continue;
            }
        }
        int n = queue_claim(c, q, consumer, batch, 1000, entries);
        if (n < 0) {
            log_warn("jobs: reading queue %s: %s", q->name, queue_last_error());
            durable_disconnect(c);
            c = NULL;
            usleep(200 * 1000);
            continue;
        }
        if (n == 0) continue;
        hold(q, entries, n);
        process_batch(&c, q, entries, n, slot);
        for (int i = 0; i < n; i++) queue_entry_free(&entries[i]);
    }
    durable_disconnect(c);
    db_conn_close();
    return NULL;
}

/* Renew what this process holds; promote due jobs; take back jobs of dead
 * workers; run the scheduler. */
static void *housekeeping_thread(void *arg)
{
    (void)arg;
    durable_conn *c = NULL;
    int64_t next_renew = 0, next_promote = 0, next_reclaim = 0, next_schedule = 0;
    int renew_every = cfg.job_lease_ms / 3, reclaim_every = cfg.job_lease_ms / 2;
    bool leader = false;
    while (!atomic_load(&stopping)) {
        if (!c && !(c = connect_until_stopped("housekeeping"))) break;
        int64_t now = monotonic_ms();
        bool failed = false;
        if (now >= next_renew) {
            next_renew = now + renew_every;
            /* a snapshot per queue, renewed in one script call each */
            for (int qi = 0; qi < queue_count() && !failed; qi++) {
                const queue_def *q = queue_at(qi);
                const char *sids[MAX_INFLIGHT];
                char copy[MAX_INFLIGHT][48];
                int n = 0;
                pthread_mutex_lock(&held_lock);
                for (int k = 0; k < MAX_INFLIGHT; k++)
                    if (held[k].q == q) {
                        memcpy(copy[n], held[k].sid, 48);
                        sids[n] = copy[n];
                        n++;
                    }
                pthread_mutex_unlock(&held_lock);
                if (!n) continue;
                bool lost[MAX_INFLIGHT];
                if (queue_renew(c, q, consumer, sids, n, lost) < 0) {
                    failed = true;
                    break;
                }
                for (int k = 0; k < n; k++)
                    if (lost[k])
                        log_warn("jobs: lost the lease on %s entry %s (this process stalled past JOB_LEASE_MS); "
                                 "another worker may run it too",
                                 q->name, sids[k]);
            }
        }
        if (!failed && now >= next_promote) {
            next_promote = now + 200;
            for (int qi = 0; qi < queue_count() && !failed; qi++)
                if (queue_promote(c, queue_at(qi)) < 0) failed = true;
        }
        if (!failed && now >= next_reclaim) {
            next_reclaim = now + reclaim_every;
            for (int qi = 0; qi < queue_count() && !failed; qi++)
                if (queue_reclaim(c, queue_at(qi), cfg.job_lease_ms, MAX_DEATHS) < 0) failed = true;
        }
        if (!failed && now >= next_schedule) {
            next_schedule = now + 1000;
            int rc = schedule_tick(c, consumer);
            if (rc < 0) failed = true;
            else if ((rc == 1) != leader) {
                leader = rc == 1;
                log_info("scheduler: %s", leader ? "this process is the scheduler" : "another process is the scheduler");
            }
        }
        if (failed) {
            log_warn("jobs: housekeeping: %s", durable_last_error());
            durable_disconnect(c);
            c = NULL;
            leader = false;
        }
        usleep(50 * 1000);
    }
    if (c && leader) schedule_release(c, consumer);
    durable_disconnect(c);
    return NULL;
}

static void *relay_thread(void *arg)
{
    (void)arg;
    durable_conn *c = NULL;
    while (!atomic_load(&stopping)) {
        if (!c && !(c = connect_until_stopped("outbox relay"))) break;
        int n = outbox_relay_once(c);
        if (n < 0) {
            durable_disconnect(c);
            c = NULL;
            usleep(1000 * 1000);
        } else if (n < 100) {
            usleep(500 * 1000); /* a full batch means more may be waiting */
        }
    }
    durable_disconnect(c);
    db_conn_close();
    return NULL;
}

struct service_arg {
    const runner_service *s;
};

static void *service_thread(void *arg)
{
    const runner_service *s = ((struct service_arg *)arg)->s;
    s->run(&stopping);
    db_conn_close();
    return NULL;
}

/* ---------- the process ---------- */

int runner_main(worker_state *self, void *arg)
{
    const runner_config *rc = arg;
    self_state = self;
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    snprintf(consumer, sizeof consumer, "%s:%d", host, (int)getpid());

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGQUIT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (sandbox_drop_privileges(cfg.run_as_user) != 0) return 1;

    pthread_t threads[MAX_THREADS];
    struct consumer_arg cargs[MAX_THREADS];
    struct service_arg sargs[8];
    int nt = 0;
    for (int qi = 0; qi < queue_count(); qi++) {
        const queue_def *q = queue_at(qi);
        for (int k = 0; k < q->concurrency && nt < MAX_THREADS - 10; k++) {
            cargs[nt].q = q;
            if (pthread_create(&threads[nt], NULL, consumer_thread, &cargs[nt]) == 0) nt++;
        }
    }
    if (pthread_create(&threads[nt], NULL, housekeeping_thread, NULL) == 0) nt++;
    if (pthread_create(&threads[nt], NULL, relay_thread, NULL) == 0) nt++;
    for (int i = 0; rc && i < rc->nservices && i < 8; i++) {
        sargs[i].s = &rc->services[i];
        if (pthread_create(&threads[nt], NULL, service_thread, &sargs[i]) == 0) nt++;
    }
    if (cfg.sandbox && sandbox_enter() != 0) {
        atomic_store(&stopping, true);
        for (int i = 0; i < nt; i++) pthread_join(threads[i], NULL);
        return 1;
    }
    log_info("jobs: worker %s running %d threads", consumer, nt);

    int sig = 0;
    for (;;) {
        atomic_store(&self->heartbeat_ms, monotonic_ms());
        struct timespec tick = {0, 500 * 1000 * 1000};
        sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) break;
        if (getppid() == 1) break; /* the master died */
    }
    if (sig == SIGQUIT) _exit(0);
    atomic_store(&stopping, true);
    /* keep the heartbeat going while threads finish their jobs */
    for (int i = 0; i < nt; i++) {
        while (pthread_tryjoin_np(threads[i], NULL) == EBUSY) {
            atomic_store(&self->heartbeat_ms, monotonic_ms());
            usleep(50 * 1000);
        }
    }
    durable_thread_close();
    db_conn_close();
    log_info("jobs: worker %s stopped", consumer);
    return 0;
}
