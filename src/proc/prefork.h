/* prefork.h — the prefork master (the Gunicorn arbiter), for `shoease serve`
 * and `shoease worker` alike.
 *
 *   static int child(worker_state *self, void *arg) { ... return 0; }
 *   static int wanted(void) { return cfg.workers; }
 *   prefork_spec spec = {.name = "worker", .wanted = wanted, .child_main = child};
 *   return prefork_run(&spec);
 *
 * The master forks `wanted()` children and then only supervises:
 *   - a child that exits or crashes is replaced at once;
 *   - a child whose unit of work passes its deadline (worker_state), or
 *     whose heartbeat stops for heartbeat_limit_ms, is killed and replaced;
 *   - SIGHUP re-reads the configuration, starts a new generation of children
 *     and then drains the old one;
 *   - SIGTERM/SIGINT drain every child (up to GRACEFUL_TIMEOUT) and exit;
 *     SIGQUIT stops at once;
 *   - SIGTTIN/SIGTTOU add or remove one child;
 *   - children that die young over and over stop the master with a message.
 * The master never runs application code and never touches a store. */
#ifndef SHOEASE_PREFORK_H
#define SHOEASE_PREFORK_H

#include "proc/worker_state.h"

typedef struct prefork_spec {
    const char *name;                              /* "worker", "job worker" (log lines) */
    int (*wanted)(void);                           /* how many children (asked again after a reload) */
    int (*child_main)(worker_state *self, void *arg); /* a child's life; its return is the exit status */
    void *arg;
    int64_t (*heartbeat_limit_ms)(void);           /* a silent child is killed after this */
} prefork_spec;

int prefork_run(const prefork_spec *spec);

#endif
