/* serve.c — `shoease serve`: refuse a weak production configuration, load
 * the routes, then hand over to the prefork master. */
#include "cmd/cmd.h"

#include "app.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "http/prefork.h"

#include <stdio.h>
#include <unistd.h>

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
    return prefork_serve();
}
