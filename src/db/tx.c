/* tx.c — see tx.h. */
#include "db/tx.h"

#include "core/config.h"
#include "core/log.h"

#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

/* A unit of work registers a few hooks per row it queues (an order: its
 * mails, invoice, event, low-stock alerts, page bumps); the bound only
 * catches a runaway loop. */
#define MAX_HOOKS 1024
#define MAX_ATTEMPTS 4
#define ER_LOCK_WAIT_TIMEOUT 1205
#define ER_LOCK_DEADLOCK 1213

struct hook {
    void (*fn)(void *arg);
    void *arg;
    void (*free_arg)(void *arg);
};

struct db_tx {
    db_conn *conn;
    struct hook *hooks;       /* grows as needed (up to MAX_HOOKS) */
    int nhooks, caphooks;
    bool overflow;
};

db_conn *db_tx_conn(db_tx *tx) { return tx->conn; }

int db_tx_after_commit(db_tx *tx, void (*fn)(void *arg), void *arg, void (*free_arg)(void *arg))
{
    if (tx->nhooks == MAX_HOOKS) {
        log_error("db_tx: more than %d after-commit hooks; the transaction is rolled back", MAX_HOOKS);
        tx->overflow = true;
        if (free_arg) free_arg(arg);
        return -1;
    }
    if (tx->nhooks == tx->caphooks) {
        int cap = tx->caphooks ? tx->caphooks * 2 : 16;
        struct hook *h = realloc(tx->hooks, (size_t)cap * sizeof *h);
        if (!h) abort();
        tx->hooks = h;
        tx->caphooks = cap;
    }
    tx->hooks[tx->nhooks++] = (struct hook){fn, arg, free_arg};
    return 0;
}

void *db_tx_hook_arg(db_tx *tx, void (*fn)(void *arg))
{
    for (int i = 0; i < tx->nhooks; i++)
        if (tx->hooks[i].fn == fn) return tx->hooks[i].arg;
    return NULL;
}

static void drop_hooks(db_tx *tx, bool run)
{
    for (int i = 0; i < tx->nhooks; i++) {
        if (run) tx->hooks[i].fn(tx->hooks[i].arg);
        if (tx->hooks[i].free_arg) tx->hooks[i].free_arg(tx->hooks[i].arg);
    }
    tx->nhooks = 0;
}

static bool retryable(unsigned no) { return no == ER_LOCK_DEADLOCK || no == ER_LOCK_WAIT_TIMEOUT; }

/* One unit of work, attempted until it commits, is refused, or a retry
 * would not help. The hooks' storage is the caller's (db_tx_run). */
static int run(db_tx *tx, db_tx_fn fn, void *arg)
{
    for (int attempt = 1;; attempt++) {
        tx->conn = db_conn_get();
        tx->overflow = false;
        if (!tx->conn) return DB_TX_FAILED;
        db_clear_error();
        if (db_begin(tx->conn) != 0) {
            if (retryable(db_last_errno()) && attempt < MAX_ATTEMPTS) continue;
            return DB_TX_FAILED;
        }
        int rc = fn(tx, arg);
        if (rc == DB_TX_OK && tx->overflow) rc = DB_TX_FAILED;
        if (rc == DB_TX_OK) {
            if (db_commit(tx->conn) == 0) {
                /* Test hook: die between COMMIT and the after-commit work,
                 * to prove the outbox relay delivers what was committed. */
                if (cfg.test_hooks && getenv("TEST_CRASH_AFTER_COMMIT")) _exit(86);
                drop_hooks(tx, true);
                return DB_TX_OK;
            }
            rc = DB_TX_FAILED;
        }
        unsigned no = db_last_errno();
        db_rollback(tx->conn);
        drop_hooks(tx, false);
        if (!retryable(no) || attempt >= MAX_ATTEMPTS) {
            if (retryable(no)) log_warn("db_tx: gave up after %d attempts: %s", attempt, db_last_error());
            return rc;
        }
        /* another transaction holds what we need: step aside briefly */
        usleep(1000u * (1u << attempt) + randombytes_uniform(5000));
    }
}

int db_tx_run(db_tx_fn fn, void *arg)
{
    db_tx tx = {0};
    int rc = run(&tx, fn, arg);
    free(tx.hooks);
    return rc;
}
