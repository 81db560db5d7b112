/* worker.c — `shoease worker`: the background job workers (the seed's
 * Celery workers and beat in one). Refuses a weak production configuration
 * like serve, then hands over to the prefork master with JOB_PROCESSES
 * children (jobs/runner.h). */
#include "cmd/cmd.h"

#include "app.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "jobs/runner.h"
#include "proc/prefork.h"

#include <stdio.h>
#include <unistd.h>

static int wanted(void) { return cfg.job_processes; }

/* The main thread of a job process beats every 500 ms; silence this long
 * means it is wedged. (A job that runs long is bounded by its own deadline.) */
static int64_t heartbeat_limit(void) { return 30 * 1000; }

int cmd_worker(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: shoease worker   (processes: JOB_PROCESSES; queues: the job table in app.c)\n");
        return 2;
    }
    buf problems = BUF_INIT;
    if (config_check_deploy(&problems) > 0) {
        fprintf(stderr, "shoease: refusing to run workers in production mode:\n%s", buf_cstr(&problems));
        buf_free(&problems);
        return 1;
    }
    buf_free(&problems);
    if (cfg.debug) log_set_level(LOG_DEBUG);
    if (geteuid() == 0 && !cfg.run_as_user[0])
        log_warn("worker: running as root; set RUN_AS_USER so job processes drop to an unprivileged user");
    static runner_config rc;
    app_runner_services(&rc);
    prefork_spec spec = {.name = "job worker", .wanted = wanted, .child_main = runner_main, .arg = &rc,
                         .heartbeat_limit_ms = heartbeat_limit};
    return prefork_run(&spec);
}
