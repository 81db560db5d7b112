/* main.c — `shoease <command>`: load configuration, dispatch. */
#include "app.h"
#include "cmd/cmd.h"
#include "core/config.h"
#include "db/db.h"

#include <mysql.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
};

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
    {"serve", cmd_serve, "run the HTTP app server (prefork master + workers)"},
    {"migrate", cmd_migrate, "apply pending database migrations (--check: only report)"},
    {"seed", cmd_seed, "load the demo catalogue (safe to run twice; --force reloads it)"},
    {"product", cmd_product, "store owner: set-stock SKU N | set-price SLUG MINOR [COMPARE_AT] | show SLUG"},
    {"review", cmd_review, "store owner: add SLUG RATING TITLE BODY AUTHOR | moderate ID STATUS"},
    {"worker", cmd_worker, "run the background job workers (prefork master + JOB_PROCESSES processes)"},
    {"jobs", cmd_jobs, "queues and dead letters: list | dead [QUEUE] | show ID | redrive ID|--all | delete ID | enqueue TYPE KEY [JSON]"},
    {"events", cmd_events, "what the event store (MongoDB) holds: counts, backlog; visitor KEY for one visitor; order NUMBER"},
    {"mail", cmd_mail, "mail test ADDRESS: send a test mail through the queue (and wait for it)"},
    {"sms", cmd_sms, "sms test NUMBER [TEXT]: send a test SMS through the queue (and wait for it)"},
    {"orders", cmd_orders, "orders: list [--status S] | show NUMBER | ship|deliver|cancel|refund NUMBER [NOTE]"},
    {"createadmin", cmd_createadmin, "createadmin EMAIL [--name NAME] [--role superuser|staff]: a staff account (password asked, or stdin)"},
    {"admin-url", cmd_admin_url, "print the admin portal's address (PUBLIC_URL + ADMIN_PATH)"},
    {"routes", cmd_routes, "the route table with each route's policy (access, CSRF, cache, rate limit), as JSON"},
    {"check", cmd_check, "check the configuration for production (--stores: also ping the stores)"},
    {"version", cmd_version, "print versions"},
    {"help", cmd_help, "list commands"},
};

static int cmd_help(int argc, char **argv)
{
    (void)argc; (void)argv;
    printf("usage: shoease <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        printf("  %-10s %s\n", commands[i].name, commands[i].help);
    printf("\nConfiguration comes from .env (or $SHOEASE_ENV_FILE) and the environment; see .env.example.\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return cmd_help(0, NULL), 2;
    const struct command *cmd = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) cmd = &commands[i];
    if (!cmd) {
        fprintf(stderr, "shoease: unknown command '%s' (try `shoease help`)\n", argv[1]);
        return 2;
    }
    if (cmd->run == cmd_help || cmd->run == cmd_version) return cmd->run(argc - 1, argv + 1);
    if (sodium_init() < 0) {
        fprintf(stderr, "shoease: libsodium failed to initialise\n");
        return 1;
    }
    if (config_load() != 0) return 1;
    if (app_register_jobs() != 0) return 1;
    mysql_library_init(0, NULL, NULL);
    int rc = cmd->run(argc - 1, argv + 1);
    db_conn_close(); /* say goodbye to MariaDB rather than drop the socket */
    mysql_library_end();
    return rc;
}
