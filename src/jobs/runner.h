/* runner.h — one `shoease worker` process: runs jobs from every queue.
 *
 * The worker command forks JOB_PROCESSES of these under the prefork master
 * (proc/prefork.h: a dead one is replaced, one whose job runs past its
 * type's timeout is killed). Each process runs, as threads:
 *   - per queue, `concurrency` consumers: read a batch (XREADGROUP), skip
 *     jobs whose key is already done, wait for the queue's rate limit, run
 *     the handler, record the outcome (ack / retry with backoff / dead);
 *   - housekeeping: renew the lease of every job the process holds, move
 *     due delayed/retry jobs into their streams, take back jobs of workers
 *     that died, and run the scheduler when this process holds its lease;
 *   - the outbox relay;
 *   - the services the app adds (the event writer).
 * SIGTERM: stop reading, finish the job at hand, give unstarted ones back,
 * give up the scheduler lease, exit. One JSON line per job on stdout. */
#ifndef SHOEASE_JOBS_RUNNER_H
#define SHOEASE_JOBS_RUNNER_H

#include "proc/worker_state.h"

#include <stdatomic.h>
#include <stdbool.h>

/* A long-running thread of the app's (the event writer): run until *stop. */
typedef struct runner_service {
    const char *name;
    void (*run)(atomic_bool *stop);
} runner_service;

typedef struct runner_config {
    const runner_service *services;
    int nservices;
} runner_config;

/* A prefork child's life (arg: a runner_config). */
int runner_main(worker_state *self, void *arg);

#endif
