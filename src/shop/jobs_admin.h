/* jobs_admin.h — the background jobs as the admin portal shows them: per
 * queue what waits, runs, waits to retry and died; the dead letters with
 * their errors; putting a dead job back on its queue or deleting it. The
 * same functions `shoease jobs` uses (jobs/queue.h), with an audit row.
 *
 *   job_queue_row q[8];
 *   dead_job_row dead[JOBS_DEAD_SHOWN];
 *   jobs_queues(q, 8, &nq, &outbox, &have_outbox, &e);
 *   jobs_dead(NULL, dead, JOBS_DEAD_SHOWN, &nd, &e);
 *   audit_actor who = admin_actor(req);
 *   jobs_redrive(&who, id, &e);
 *
 * Rules: a dead job is shown by its type, key, queue, attempts and error —
 * never its payload (mails carry reset links and tokens); each re-drive or
 * delete is one unit of work holding its audit row ("job.redrive",
 * "job.delete", entity "job") with the Redis change as its LAST step, so a
 * change that fails leaves no row (and the row names what the job was). */
#ifndef SHOEASE_SHOP_JOBS_ADMIN_H
#define SHOEASE_SHOP_JOBS_ADMIN_H

#include "db/outbox_repo.h"
#include "jobs/queue.h"
#include "shop/audit.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

#define JOBS_DEAD_SHOWN 100

typedef struct job_queue_row {
    const char *name;           /* the queue table's (static) */
    queue_stats stats;
} job_queue_row;

typedef struct dead_job_row {
    char id[129];
    char queue[33];
    char type[65];              /* "" when the entry was not a job at all */
    char key[201];
    char error[301];            /* cut at 300 bytes */
    int attempts;
    int64_t died_at_ms;
} dead_job_row;

/* Every queue's figures; the outbox's when MariaDB answers (*have_outbox). */
shop_status jobs_queues(job_queue_row *out, int max, int *n, outbox_counts *outbox, bool *have_outbox, shop_error *e);
/* The newest dead jobs (queue NULL: every queue). */
shop_status jobs_dead(const char *queue, dead_job_row *out, int max, int *n, shop_error *e);
/* SHOP_NOT_FOUND when there is no such dead job (any more). */
shop_status jobs_redrive(const audit_actor *who, const char *id, shop_error *e);
shop_status jobs_delete(const audit_actor *who, const char *id, shop_error *e);

#endif
