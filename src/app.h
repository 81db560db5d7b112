/* app.h — the application as the HTTP layer sees it: its routes and the
 * per-process set-up of a worker. Implemented in app.c. */
#ifndef SHOEASE_APP_H
#define SHOEASE_APP_H

/* Register the job table, queues and schedules (every command, after the
 * configuration is loaded). 0, or -1 after printing what is wrong. */
int app_register_jobs(void);
/* The long-running services `shoease worker` processes run beside the
 * queues (the event writer). */
struct runner_config;
void app_runner_services(struct runner_config *rc);
/* Register every route (before workers fork). */
void app_register_routes(void);
/* In each worker after fork: open per-process resources (template cache,
 * MongoDB pool). Returns 0 or -1 (the worker exits and is restarted). */
int app_worker_init(void);
/* In each worker before it exits. */
void app_worker_exit(void);

#endif
