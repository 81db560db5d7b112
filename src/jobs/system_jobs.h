/* system_jobs.h — the queue's own housekeeping and test jobs (job table:
 * app.c).
 *
 *   outbox.prune   delete outbox rows finished more than 7 days ago (hourly)
 *   jobs.cleanup   forget consumers (worker processes long gone) that hold
 *                  nothing in any queue's group (hourly)
 *   bench.noop     does nothing: the queue benchmark's job
 *   events.prune   delete activity logs older than ACTIVITY_TTL_DAYS (hourly;
 *                  where MongoDB has TTL indexes it finds nothing to do)
 * Registered only with TEST_HOOKS=1, for the fault tests:
 *   test.touch     payload {path, sleep_ms, started_path?}: appends its pid to
 *                  started_path, sleeps, then appends one line "<key> <pid>"
 *                  to path (the effect whose count tests check)
 *   test.fail      always fails (retried, then dead-lettered)
 *   test.crash     kills its worker process (a poison job)
 *   test.reject    fails permanently at once */
#ifndef SHOEASE_JOBS_SYSTEM_JOBS_H
#define SHOEASE_JOBS_SYSTEM_JOBS_H

#include "jobs/queue.h"

job_result system_outbox_prune_job(const job *j, char *err, size_t errlen);
job_result system_jobs_cleanup_job(const job *j, char *err, size_t errlen);
job_result events_prune_job(const job *j, char *err, size_t errlen);
job_result system_noop_job(const job *j, char *err, size_t errlen);
job_result test_touch_job(const job *j, char *err, size_t errlen);
job_result test_fail_job(const job *j, char *err, size_t errlen);
job_result test_crash_job(const job *j, char *err, size_t errlen);
job_result test_reject_job(const job *j, char *err, size_t errlen);

#endif
