/* serve.c — `shoease serve`: refuse a weak production configuration, load
 * the routes, then hand over to the prefork master. */
#include "cmd/cmd.h"

#include "app.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "http/worker.h"
#include "proc/prefork.h"
#include "web/metrics.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int listen_fds[CFG_MAX_LIST];
static int n_listen;

static int serve_child(worker_state *self, void *arg)
{
    (void)arg;
    return http_worker_main(listen_fds, n_listen, self);
}

static int serve_wanted(void) { return cfg.workers; }

/* A stale heartbeat means the worker's main thread is stuck. */
static int64_t serve_heartbeat_limit(void) { return (int64_t)cfg.worker_timeout * 1000; }

static int prefork_serve(void)
{
    for (int i = 0; i < cfg.n_binds; i++) {
        int fd = http_listen(cfg.binds[i]);
        if (fd < 0) return 1;
        listen_fds[n_listen++] = fd;
        log_info("master: listening on %s", cfg.binds[i]);
    }
    log_info("master: %d workers × %d threads, timeout %ds", cfg.workers, cfg.worker_threads, cfg.worker_timeout);
    static const prefork_spec serve_spec = {.name = "worker", .wanted = serve_wanted, .child_main = serve_child,
                                            .heartbeat_limit_ms = serve_heartbeat_limit};
    int rc = prefork_run(&serve_spec);
    for (int i = 0; i < cfg.n_binds; i++)
        if (strncmp(cfg.binds[i], "unix:", 5) == 0) unlink(cfg.binds[i] + 5);
    return rc;
}

int cmd_serve(int argc, char **argv)
{
    (void)argc; (void)argv;
    buf problems = BUF_INIT;
    if (config_check_deploy(&problems) > 0) {
        fprintf(stderr, "shoease: refusing to serve in production mode:\n%s", buf_cstr(&problems));
        buf_free(&problems);
        return 1;
    }
    buf_free(&problems);
    if (cfg.debug) log_set_level(LOG_DEBUG);
    if (geteuid() == 0 && !cfg.run_as_user[0])
        log_warn("serve: running as root; set RUN_AS_USER so workers drop to an unprivileged user");
    app_register_routes();
    if (metrics_init() != 0) return 1;
    return prefork_serve();
}
