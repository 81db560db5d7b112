/* worker_state.h — what a worker process shares with its prefork master.
 *
 * The master maps one array of worker_state in shared memory before it
 * forks. A worker writes its heartbeat and, per thread, the deadline of the
 * unit of work it is running (a request, a job); the master reads them to
 * kill a worker that hangs (the Gunicorn worker timeout) without any IPC
 * round trips. */
#ifndef SHOEASE_PROC_WORKER_STATE_H
#define SHOEASE_PROC_WORKER_STATE_H

#include <stdatomic.h>
#include <stdint.h>

#define WORKER_MAX_THREADS 64

typedef struct worker_state {
    _Atomic int64_t heartbeat_ms;                        /* monotonic ms, every 500 ms */
    _Atomic int64_t deadline_ms[WORKER_MAX_THREADS];     /* monotonic ms a thread's work must end by; 0 = idle */
    _Atomic int in_flight;                               /* units of work being handled */
} worker_state;

/* CLOCK_MONOTONIC in milliseconds. */
int64_t monotonic_ms(void);

#endif
