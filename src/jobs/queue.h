/* queue.h — background jobs on the durable Redis (the seed's Celery).
 *
 * A job is {type, key, payload}. Its type (the job table, app_jobs.c) names
 * the handler, the queue it runs on, how often it may fail and how long its
 * effect is remembered. Enqueue from anywhere:
 *
 *   json_t *p = json_pack("{s:s,s:s}", "to", "ada@example.com", "template", "test");
 *   int rc = queue_enqueue(&(job_spec){.type = "mail.send", .key = "mail-test:42", .payload = p});
 *   json_decref(p);          // rc: QUEUE_ENQUEUED, QUEUE_DUPLICATE (same key pending) or QUEUE_ERROR
 *
 * Work born inside a MariaDB transaction goes through the outbox instead
 * (jobs/outbox.h), so a crash between COMMIT and the enqueue loses nothing.
 *
 * Guarantees (Redis Streams with one consumer group per queue; see
 * docs/ARCHITECTURE.md, "Job path"):
 *   - at-least-once: an entry stays pending until its handler succeeded; a
 *     worker renews the lease of what it holds, and entries of a worker that
 *     died are handed to another one after JOB_LEASE_MS;
 *   - effect-once: the key's "done" mark is set when the handler succeeds,
 *     atomically with the ack, and checked before a run, so a job delivered
 *     twice runs once (a crash after the effect but before the ack is the one
 *     window left; handlers with an external effect make it idempotent too,
 *     e.g. a mail's Message-ID comes from the key);
 *   - unique: enqueueing a key that is pending, delayed or retrying is a no-op;
 *   - retries with exponential backoff and jitter live in Redis (a sorted set
 *     per queue), never only in a worker's memory; after the type's attempts
 *     (or a worker dying under it that often) the job goes to the queue's dead
 *     letters with its payload, last error and attempt count;
 *   - times (delays, backoff) are Redis's clock, so hosts need not agree. */
#ifndef SHOEASE_JOBS_QUEUE_H
#define SHOEASE_JOBS_QUEUE_H

#include "durable/durable.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* ---------- the job table (registered once at start-up) ---------- */

typedef enum job_result {
    JOB_DONE = 0,      /* success: ack, remember the key as done */
    JOB_RETRY = 1,     /* temporary failure: retry later (counts as an attempt) */
    JOB_FAILED = 2,    /* permanent failure: straight to the dead letters */
} job_result;

typedef struct job {
    const char *id;            /* this job's id (stays the same across retries) */
    const char *type, *key, *queue;
    json_t *payload;           /* borrowed */
    int attempt;               /* 1 on the first run */
    int64_t enqueued_ms;       /* wall clock of the enqueue that led to this run */
    int64_t outbox_id;         /* > 0: born in the outbox row with this id */
} job;

/* err: why it failed (kept in the dead letter; never put secrets in it). */
typedef job_result (*job_handler)(const job *j, char *err, size_t errlen);

typedef struct job_type {
    const char *name;          /* "mail.send" */
    const char *queue;         /* one of the queue table's names */
    job_handler handler;
    int max_attempts;          /* runs before the dead letters (0: 8) */
    int backoff_ms;            /* delay before the second run; doubles each time (0: 1000) */
    int backoff_max_ms;        /* cap (0: 10 minutes) */
    int done_ttl_seconds;      /* how long "already done" is remembered (0: 7 days) */
    int timeout_seconds;       /* a run longer than this gets its worker killed (0: 300) */
} job_type;

typedef struct queue_def {
    const char *name;          /* "mail" */
    int concurrency;           /* threads per worker process (JOB_CONCURRENCY overrides) */
    double rate_per_second;    /* across every worker and host; 0: unlimited (JOB_RATE_LIMITS overrides) */
    int batch;                 /* entries read per round trip (1 for rate-limited queues) */
} queue_def;

/* Register the tables (static storage; called by main before any command).
 * Applies JOB_CONCURRENCY / JOB_RATE_LIMITS. 0, or -1 after printing what is
 * wrong (a type naming an unknown queue, a malformed override). */
int queue_register(const queue_def *queues, int nqueues, const job_type *types, int ntypes);
const job_type *queue_type(const char *name);
int queue_count(void);
const queue_def *queue_at(int i);
const queue_def *queue_named(const char *name);

/* ---------- producing ---------- */

typedef struct job_spec {
    const char *type;
    const char *key;           /* idempotency key: "order-confirmation:42" (required, ≤ 200 bytes) */
    json_t *payload;           /* borrowed; NULL = {} */
    int64_t delay_ms;          /* run no earlier than this from now */
    int64_t outbox_id;         /* set by the outbox relay */
} job_spec;

enum { QUEUE_ENQUEUED = 1, QUEUE_DUPLICATE = 0, QUEUE_ERROR = -1 };
/* The largest job (envelope JSON) accepted; bigger ones are refused here and
 * dead-lettered if they reach a worker some other way. */
#define QUEUE_MAX_JOB_BYTES (256 * 1024)

/* On c (NULL: the thread's durable connection). QUEUE_ERROR with the
 * reason in queue_last_error(). */
int queue_enqueue_on(durable_conn *c, const job_spec *spec);
int queue_enqueue(const job_spec *spec);
/* n jobs in one round trip; results[i] gets each one's code. Returns the
 * number enqueued, or -1 when Redis could not be reached (then nothing is
 * known about any of them: sending again is safe, keys make it idempotent). */
int queue_enqueue_many(durable_conn *c, const job_spec *specs, int n, int *results);
const char *queue_last_error(void);

/* Is the key's effect recorded as done? 1 yes, 0 no, -1 error. */
int queue_key_done(durable_conn *c, const char *key);

/* ---------- consuming (jobs/runner.c) ---------- */

/* One delivered stream entry. */
typedef struct queue_entry {
    char sid[48];              /* stream entry id */
    char *job_id;              /* owned */
    char *envelope;            /* owned: the job JSON as stored */
    size_t envelope_len;
} queue_entry;
void queue_entry_free(queue_entry *e);

/* Make sure the queue's stream and consumer group exist. */
int queue_prepare(durable_conn *c, const queue_def *q);
/* Read up to max new entries for consumer, waiting up to block_ms. Returns
 * the count (0 on timeout), -1 on error. */
int queue_claim(durable_conn *c, const queue_def *q, const char *consumer, int max, int block_ms,
                queue_entry *out);

/* How a run ended, for queue_finish. */
typedef struct job_outcome {
    const queue_entry *entry;
    const char *job_id;
    const char *key;
    job_result result;         /* JOB_DONE also for "already done, skipped" */
    int done_ttl_seconds;      /* JOB_DONE */
    int64_t retry_delay_ms;    /* JOB_RETRY: when */
    const char *next_envelope; /* JOB_RETRY: the envelope with the attempt counted and the error;
                                  JOB_FAILED: the dead-letter record */
    bool skipped;              /* counted as skipped, not done */
} job_outcome;
/* Record outcomes (ack, retry or dead) atomically per job, several in one
 * round trip. 0 or -1. */
int queue_finish(durable_conn *c, const queue_def *q, const job_outcome *outcomes, int n);
/* Give unstarted entries back (graceful stop): they go to the end of the
 * stream for any worker. */
int queue_release(durable_conn *c, const queue_def *q, const queue_entry *entries, int n);
/* Keep the lease on entries this consumer holds. lost[i] is set to true for
 * an entry that is no longer this consumer's (its lease lapsed and another
 * worker took it). 0 or -1. */
int queue_renew(durable_conn *c, const queue_def *q, const char *consumer, const char *const *sids, int n,
                bool *lost);
/* Move delayed and retry jobs that are due into the stream. Count, or -1. */
int queue_promote(durable_conn *c, const queue_def *q);
/* Hand entries idle longer than lease_ms (their worker died) to the stream
 * again; dead-letter those whose workers died max_deaths times. Count or -1. */
int queue_reclaim(durable_conn *c, const queue_def *q, int lease_ms, int max_deaths);
/* Wait for the queue's rate limit: 0 to go now, or the ms to wait first;
 * -1 on error. */
int64_t queue_rate_wait(durable_conn *c, const queue_def *q);

/* ---------- operating (`shoease jobs`, /metrics, the admin later) ---------- */

typedef struct queue_stats {
    long long waiting;         /* in the stream, not yet delivered */
    long long in_flight;       /* delivered, not yet acked */
    long long delayed;         /* scheduled for later: retries and delayed jobs */
    long long dead;
    long long enqueued, done, skipped, retried, died;  /* counters since the queue began */
} queue_stats;
int queue_stats_get(durable_conn *c, const queue_def *q, queue_stats *out);

/* Dead letters, newest first: a JSON array of records {id, queue, type,
 * key, payload, error, attempts, died_at, ...}. NULL on error. */
json_t *queue_dead_list(durable_conn *c, const char *queue, int limit);
/* One dead job by id (any queue). NULL: not found (queue_last_error "") or error. */
json_t *queue_dead_get(durable_conn *c, const char *job_id);
/* Put a dead job back on its queue with its attempts reset. 1 done, 0 no
 * such dead job, -1 error. */
int queue_dead_redrive(durable_conn *c, const char *job_id);
int queue_dead_delete(durable_conn *c, const char *job_id);

/* Count finished runs per type and outcome ("done", "retry", "dead",
 * "skipped") with their time, in the hash metrics:jobs that /metrics shows
 * (one round trip per batch). */
void queue_count_runs(durable_conn *c, const char *const *types, const char *const *outcomes,
                      const int64_t *duration_us, int n);

/* Wall clock in ms (envelopes, logs). */
int64_t queue_now_ms(void);

#endif
