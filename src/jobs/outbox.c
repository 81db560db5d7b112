/* outbox.c — see outbox.h. */
#include "jobs/outbox.h"

#include "core/config.h"
#include "core/log.h"
#include "db/outbox_repo.h"
#include "jobs/queue.h"

#include <stdlib.h>
#include <string.h>

#define RELAY_BATCH 100

/* What the after-commit hook sends: the rows this transaction added, all
 * in one hook — one pipelined enqueue and one UPDATE for an order's mail,
 * invoice and event, instead of a round trip and a commit each. */
struct pending {
    int n, cap;
    outbox_row *rows;
};

static void send_rows(durable_conn *c, outbox_row *rows, int n, bool mark_sent)
{
    job_spec *specs = calloc((size_t)n, sizeof *specs);
    int *results = calloc((size_t)n, sizeof *results);
    json_t **payloads = calloc((size_t)n, sizeof *payloads);
    if (!specs || !results || !payloads) abort();
    for (int i = 0; i < n; i++) {
        payloads[i] = json_loads(rows[i].payload, 0, NULL);
        specs[i] = (job_spec){.type = rows[i].type, .key = rows[i].key, .payload = payloads[i],
                              .outbox_id = rows[i].id};
    }
    if (queue_enqueue_many(c, specs, n, results) < 0) {
        /* the relay will send them; nothing is lost */
        log_warn("outbox: could not enqueue %d job(s) now (%s); the relay will", n, queue_last_error());
    } else if (mark_sent) {
        db_conn *db = db_conn_get();
        int64_t ids[OUTBOX_MARK_MAX];
        int m = 0;
        for (int i = 0; i < n && db; i++) {
            if (results[i] != QUEUE_ERROR) ids[m++] = rows[i].id;
            if (m == OUTBOX_MARK_MAX || (i == n - 1 && m > 0)) {
                outbox_repo_mark_sent_many(db, ids, m);
                m = 0;
            }
        }
    }
    for (int i = 0; i < n; i++) json_decref(payloads[i]);
    free(payloads);
    free(specs);
    free(results);
}

static void after_commit(void *arg)
{
    struct pending *p = arg;
    send_rows(NULL, p->rows, p->n, true);
}

static void free_pending(void *arg)
{
    struct pending *p = arg;
    outbox_rows_free(p->rows, p->n);
    free(p->rows);
    free(p);
}

int outbox_add(db_tx *tx, const char *type, const char *key, json_t *payload, int64_t delay_seconds)
{
    if (!queue_type(type)) {
        log_error("outbox: unknown job type %s", type);
        return -1;
    }
    if (!key || !*key || strlen(key) > 200) {
        log_error("outbox: job %s needs an idempotency key of 1-200 characters", type);
        return -1;
    }
    char *text = json_dumps(payload ? payload : json_object(), JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!text) return -1;
    int64_t id = 0;
    int rc = outbox_repo_insert(db_tx_conn(tx), type, key, text, delay_seconds, &id);
    if (rc == 0 && id > 0 && delay_seconds <= 0) {
        struct pending *p = db_tx_hook_arg(tx, after_commit);
        if (!p) {
            p = calloc(1, sizeof *p);
            if (!p) abort();
            if (db_tx_after_commit(tx, after_commit, p, free_pending) < 0) {
                free(text);
                return -1;
            }
        }
        if (p->n == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 4;
            outbox_row *r = realloc(p->rows, (size_t)p->cap * sizeof *r);
            if (!r) abort();
            p->rows = r;
        }
        outbox_row *row = &p->rows[p->n++];
        *row = (outbox_row){.id = id, .payload = text};
        snprintf(row->type, sizeof row->type, "%s", type);
        snprintf(row->key, sizeof row->key, "%s", key);
        return 0;
    }
    free(text);
    return rc;
}

struct relay {
    durable_conn *c;
    int marked;
};

/* Lock due rows, enqueue them while holding the locks (another relay skips
 * them), mark them sent. If the commit fails after the enqueue, the rows are
 * sent again later and their keys make that harmless; the same holds when a
 * deadlock makes db_tx_run call this twice. */
static int relay_tx(db_tx *tx, void *arg)
{
    struct relay *r = arg;
    db_conn *db = db_tx_conn(tx);
    outbox_row rows[RELAY_BATCH];
    r->marked = 0;
    int n = outbox_repo_lock_due(db, cfg.outbox_resend_seconds, RELAY_BATCH, rows);
    if (n <= 0) return n < 0 ? DB_TX_FAILED : DB_TX_OK;
    job_spec specs[RELAY_BATCH];
    int results[RELAY_BATCH];
    json_t *payloads[RELAY_BATCH];
    for (int i = 0; i < n; i++) {
        payloads[i] = json_loads(rows[i].payload, 0, NULL);
        specs[i] = (job_spec){.type = rows[i].type, .key = rows[i].key, .payload = payloads[i], .outbox_id = rows[i].id};
    }
    int sent = queue_enqueue_many(r->c, specs, n, results);
    int rc = DB_TX_OK;
    if (sent < 0) {
        log_warn("outbox: relay could not reach the queue: %s", queue_last_error());
        rc = DB_TX_FAILED;
    }
    for (int i = 0; i < n && rc == DB_TX_OK; i++) {
        if (results[i] == QUEUE_ERROR) {
            /* a row that can never become a job (its type was removed, its
             * payload is not JSON): finish it as dead rather than retry it
             * forever */
            log_error("outbox: row %lld (%s %s) cannot be enqueued: %s", (long long)rows[i].id, rows[i].type,
                      rows[i].key, queue_last_error());
            if (outbox_repo_mark_finished(db, rows[i].id, "dead") < 0) rc = DB_TX_FAILED;
        } else if (outbox_repo_mark_sent(db, rows[i].id) == 0) {
            r->marked++;
        } else {
            rc = DB_TX_FAILED;
        }
    }
    for (int i = 0; i < n; i++) json_decref(payloads[i]);
    outbox_rows_free(rows, n);
    return rc;
}

int outbox_relay_once(durable_conn *c)
{
    struct relay r = {.c = c};
    return db_tx_run(relay_tx, &r) == DB_TX_OK ? r.marked : -1;
}

int outbox_finished(int64_t id, const char *outcome)
{
    db_conn *db = db_conn_get();
    return db ? outbox_repo_mark_finished(db, id, outcome) : -1;
}
