/* prefork.h — the serve master (the Gunicorn arbiter).
 *
 * Opens the listening sockets, forks WORKERS workers that share them, and
 * then only supervises:
 *   - a worker that exits or crashes is replaced at once;
 *   - a worker whose request runs longer than WORKER_TIMEOUT (or whose
 *     heartbeat stops) is killed and replaced;
 *   - SIGHUP re-reads the configuration, starts a new generation of workers
 *     and then drains the old one, so no request fails;
 *   - SIGTERM/SIGINT drain every worker (up to GRACEFUL_TIMEOUT) and exit;
 *     SIGQUIT stops at once;
 *   - SIGTTIN/SIGTTOU add or remove one worker. */
#ifndef SHOEASE_PREFORK_H
#define SHOEASE_PREFORK_H

int prefork_serve(void);

#endif
