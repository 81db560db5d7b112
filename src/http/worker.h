/* worker.h — what a serve worker shares with its master.
 *
 * The master maps one array of worker_state in shared memory before it
 * forks. A worker writes its heartbeat and, per MHD thread, the time the
 * request it is running started; the master reads them to kill a worker
 * that hangs (the Gunicorn worker timeout) without any IPC round trips. */
#ifndef SHOEASE_HTTP_WORKER_H
#define SHOEASE_HTTP_WORKER_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#define WORKER_MAX_THREADS 64

typedef struct worker_state {
    _Atomic int64_t heartbeat_ms;                        /* monotonic ms, every 500 ms */
    _Atomic int64_t busy_since_ms[WORKER_MAX_THREADS];   /* 0 = idle */
    _Atomic int in_flight;                               /* requests being handled */
} worker_state;

int64_t monotonic_ms(void);

/* Open one listening socket for a BIND item ("unix:/path" or "host:port").
 * Returns the fd, or -1 after logging why. */
int http_listen(const char *bind);

/* Run one worker on the given listening sockets until SIGTERM/SIGINT has
 * drained it (or SIGQUIT stopped it at once). Returns the exit status. */
int http_worker_main(const int *fds, int nfds, worker_state *self);

#endif
