/* cmd.h — the subcommands of the `shoease` binary. Each returns the exit
 * status. main.c holds the table that `shoease help` prints. */
#ifndef SHOEASE_CMD_H
#define SHOEASE_CMD_H

int cmd_serve(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_seed(int argc, char **argv);
int cmd_product(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_jobs(int argc, char **argv);
int cmd_mail(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_routes(int argc, char **argv);
int cmd_orders(int argc, char **argv);
int cmd_createadmin(int argc, char **argv);
int cmd_admin_url(int argc, char **argv);
int cmd_sms(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
