/* tx.h — units of work: one MariaDB transaction across repositories, run
 * again as a whole when InnoDB picks it as a deadlock victim or a lock wait
 * times out, with work that must happen only once it has committed.
 *
 *   static int register_user(db_tx *tx, void *arg) {
 *       struct signup *s = arg;
 *       db_conn *c = db_tx_conn(tx);
 *       if (user_repo_insert(c, s->email, s->hash, &s->user_id) < 0) return DB_TX_FAILED;
 *       if (outbox_add(tx, "mail.send", key, payload, 0) < 0) return DB_TX_FAILED;   // jobs/outbox.h
 *       db_tx_after_commit(tx, forget_cached_user, s, NULL);
 *       return DB_TX_OK;
 *   }
 *   int rc = db_tx_run(register_user, &signup);   // DB_TX_OK, DB_TX_FAILED, or fn's own code
 *
 * Rules it keeps:
 *   - repositories take the connection (db_tx_conn) and never begin, commit
 *     or roll back; only db_tx_run does;
 *   - fn returns DB_TX_OK to commit; anything else rolls back and is
 *     returned (use codes > 0 for "the shopper must be told": out of stock,
 *     a duplicate ...; DB_TX_FAILED for a store failure);
 *   - fn may run more than once (deadlock retry): it must not have effects
 *     outside the transaction — those go in after-commit hooks, which run
 *     once, in order, only after COMMIT succeeded (and are dropped on
 *     rollback);
 *   - work for the job queue goes through the outbox table in the same
 *     transaction (outbox_add), never straight to Redis. */
#ifndef SHOEASE_DB_TX_H
#define SHOEASE_DB_TX_H

#include "db/db.h"

enum { DB_TX_OK = 0, DB_TX_FAILED = -1 };

typedef struct db_tx db_tx;
typedef int (*db_tx_fn)(db_tx *tx, void *arg);

/* Run fn in a transaction on the thread's connection. Up to 4 attempts on
 * deadlock (1213) or lock wait timeout (1205). */
int db_tx_run(db_tx_fn fn, void *arg);
db_conn *db_tx_conn(db_tx *tx);
/* Run hook(arg) after COMMIT; free_arg(arg) (may be NULL) runs after the
 * hook, or on rollback instead of it. At most 1024 hooks per attempt. */
int db_tx_after_commit(db_tx *tx, void (*hook)(void *arg), void *arg, void (*free_arg)(void *arg));
/* The argument of the hook fn registered in this attempt, or NULL: a module
 * that adds several things to one unit of work (the outbox's rows) keeps
 * them in ONE hook and sends them together after the commit. */
void *db_tx_hook_arg(db_tx *tx, void (*fn)(void *arg));

#endif
