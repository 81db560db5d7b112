/* outbox.h — work born in a MariaDB transaction reaches the job queue
 * through the outbox table, so a crash between COMMIT and the enqueue, or a
 * durable Redis that lost its last second of writes, loses nothing.
 *
 *   // inside a unit of work (db/tx.h):
 *   if (outbox_add(tx, "mail.send", "verify-email:42", payload, 0) < 0) return DB_TX_FAILED;
 *
 * After the commit the jobs are enqueued at once (an after-commit hook); if
 * that does not happen (crash, Redis down) the relay in `shoease worker`
 * sends them. A row is finished when its job ran or died (the runner calls
 * outbox_finished); the relay sends again what stays unfinished longer than
 * OUTBOX_RESEND_SECONDS (a lost enqueue), and the job's key makes a second
 * copy a no-op. Relays on several workers and hosts share the table with
 * SELECT ... FOR UPDATE SKIP LOCKED. */
#ifndef SHOEASE_JOBS_OUTBOX_H
#define SHOEASE_JOBS_OUTBOX_H

#include "db/tx.h"
#include "durable/durable.h"

#include <jansson.h>
#include <stdint.h>

/* Add a job to the outbox in tx (payload borrowed). 0, or -1 (unknown type,
 * bad key, store error). The same key twice is one job. */
int outbox_add(db_tx *tx, const char *type, const char *key, json_t *payload, int64_t delay_seconds);

/* One relay pass: send due rows to the queue. Count sent, or -1. */
int outbox_relay_once(durable_conn *c);

/* The job born in row id ended ("done" or "dead"). 0 or -1. */
int outbox_finished(int64_t id, const char *outcome);

#endif
