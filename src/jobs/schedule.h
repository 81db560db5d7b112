/* schedule.h — periodic jobs (the seed's celery beat), from a table in code.
 *
 *   static const schedule_def schedules[] = {
 *       {"outbox.prune", 3600, "outbox.prune"},   // name, every N seconds, job type
 *   };
 *
 * Every `shoease worker` process calls schedule_tick about once a second;
 * only the holder of a lease in the durable Redis acts, so exactly one
 * scheduler runs at a time across processes and hosts (a holder that dies
 * loses the lease within SCHEDULE_LEASE_MS). Ticks are aligned to the
 * period on Redis's clock: a schedule due at tick T enqueues its job with
 * the key "<name>:<T>" and records T. After downtime only the current tick
 * runs: a missed hour runs once, not N times. */
#ifndef SHOEASE_JOBS_SCHEDULE_H
#define SHOEASE_JOBS_SCHEDULE_H

#include "durable/durable.h"

#define SCHEDULE_LEASE_MS 5000

typedef struct schedule_def {
    const char *name;
    int every_seconds;
    const char *job_type;
} schedule_def;

void schedule_register(const schedule_def *defs, int n);
int schedule_count(void);
const schedule_def *schedule_at(int i);

/* One pass as `holder` (unique per process). 1: this process is the
 * scheduler (and enqueued what was due), 0: another one is, -1: error. */
int schedule_tick(durable_conn *c, const char *holder);
/* Give the lease up (graceful stop), so another process takes over at once. */
void schedule_release(durable_conn *c, const char *holder);

#endif
