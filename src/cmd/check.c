/* check.c — `shoease check`: the seed's `manage.py check --deploy`.
 * Names every weak production setting and whether each store answers. */
#include "cmd/cmd.h"

#include "cache/redis.h"
#include "core/buf.h"
#include "core/config.h"
#include "db/db.h"
#include "durable/durable.h"
#include "events/mongo.h"

#include <stdio.h>
#include <string.h>

int cmd_check(int argc, char **argv)
{
    bool stores = argc > 1 && strcmp(argv[1], "--stores") == 0;
    if (argc > 1 && !stores) {
        fprintf(stderr, "usage: shoease check [--stores]\n");
        return 2;
    }
    buf problems = BUF_INIT;
    int n = config_check_deploy(&problems);
    if (n > 0) {
        fprintf(stderr, "shoease check: %d problem(s) with this production configuration (%s):\n%s", n,
                cfg.env_file, buf_cstr(&problems));
    } else {
        printf("shoease check: configuration OK (%s mode, %s)\n", cfg.production ? "production" : "development",
               cfg.env_file);
    }
    buf_free(&problems);
    int failed = 0;
    if (stores) {
        char err[256] = "";
        bool db = db_ping() == 0, redis = cache_ping() == 0, durable = durable_ping() == 0;
        bool mongo = events_init() == 0 && events_ping(err, sizeof err) == 0;
        printf("mariadb: %s\nredis (cache): %s\ndurable redis (%s): %s\nmongodb: %s\n", db ? "ok" : db_last_error(),
               redis ? "ok" : "unreachable", durable_server_name(), durable ? "ok" : durable_last_error(),
               mongo ? "ok" : err);
        failed = !db || !redis || !durable || !mongo;
        events_shutdown();
        db_conn_close();
        cache_close();
        durable_thread_close();
    }
    return n > 0 || failed ? 1 : 0;
}
