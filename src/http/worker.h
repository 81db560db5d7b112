/* worker.h — a serve worker: the HTTP side of a prefork child. */
#ifndef SHOEASE_HTTP_WORKER_H
#define SHOEASE_HTTP_WORKER_H

#include "proc/worker_state.h"

/* Open one listening socket for a BIND item ("unix:/path" or "host:port").
 * Returns the fd, or -1 after logging why. */
int http_listen(const char *bind);

/* Run one worker on the given listening sockets until SIGTERM/SIGINT has
 * drained it (or SIGQUIT stopped it at once). Returns the exit status. */
int http_worker_main(const int *fds, int nfds, worker_state *self);

#endif
