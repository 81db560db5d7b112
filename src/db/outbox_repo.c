/* outbox_repo.c — see outbox_repo.h. */
#include "db/outbox_repo.h"

#include "core/log.h"
#include "core/text.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

int outbox_repo_insert(db_conn *c, const char *type, const char *key, const char *payload, int64_t delay_seconds,
                       int64_t *id_out)
{
    *id_out = 0;
    /* ON DUPLICATE KEY keeps the existing row: the same work registered
     * twice (a retried request) is one job */
    db_stmt *st = db_prepare(c, "INSERT INTO outbox (job_type, idem_key, payload, available_at) "
                                "VALUES (?, ?, ?, NOW(6) + INTERVAL ? SECOND) "
                                "ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)");
    if (!st) return -1;
    db_bind_text(st, 0, type, -1);
    db_bind_text(st, 1, key, -1);
    db_bind_text(st, 2, payload, -1);
    db_bind_int64(st, 3, delay_seconds);
    int rc = db_exec(st);
    if (rc == 0 && db_affected_rows(st) == 1) *id_out = (int64_t)db_insert_id(st);
    db_reset(st);
    return rc;
}

int outbox_repo_lock_due(db_conn *c, int resend_seconds, int max, outbox_row *out)
{
    db_stmt *st = db_prepare(c, "SELECT id, job_type, idem_key, payload FROM outbox "
                                "WHERE finished_at IS NULL AND available_at <= NOW(6) "
                                "AND (sent_at IS NULL OR sent_at < NOW(6) - INTERVAL ? SECOND) "
                                "ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED");
    if (!st) return -1;
    db_bind_int64(st, 0, resend_seconds);
    db_bind_int64(st, 1, max);
    if (db_exec(st) < 0) return -1;
    int n = 0;
    while (n < max && db_fetch(st) == 1) {
        out[n].id = db_col_int64(st, 0);
        text_copy(out[n].type, sizeof out[n].type, db_col_text(st, 1, NULL));
        text_copy(out[n].key, sizeof out[n].key, db_col_text(st, 2, NULL));
        out[n].payload = strdup(db_col_text(st, 3, NULL));
        n++;
    }
    db_reset(st);
    return n;
}

void outbox_rows_free(outbox_row *rows, int n)
{
    for (int i = 0; i < n; i++) {
        free(rows[i].payload);
        rows[i].payload = NULL;
    }
}

int outbox_repo_mark_sent(db_conn *c, int64_t id)
{
    db_stmt *st = db_prepare(c, "UPDATE outbox SET sent_at = NOW(6), send_count = send_count + 1 WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    int rc = db_exec(st);
    db_reset(st);
    return rc;
}

int outbox_repo_mark_sent_many(db_conn *c, const int64_t *ids, int n)
{
    if (n <= 0) return 0;
    if (n > OUTBOX_MARK_MAX) return -1;
    /* "?,?,…" from a fixed fragment: never values in the SQL text */
    char sql[200 + 2 * OUTBOX_MARK_MAX];
    int k = snprintf(sql, sizeof sql, "UPDATE outbox SET sent_at = NOW(6), send_count = send_count + 1 WHERE id IN (");
    for (int i = 0; i < n; i++) k += snprintf(sql + k, sizeof sql - (size_t)k, i ? ",?" : "?");
    snprintf(sql + k, sizeof sql - (size_t)k, ")");
    db_stmt *st = db_prepare(c, sql);
    if (!st) return -1;
    for (int i = 0; i < n; i++) db_bind_int64(st, i, ids[i]);
    return db_run(st);
}

int outbox_repo_mark_finished(db_conn *c, int64_t id, const char *outcome)
{
    db_stmt *st = db_prepare(c, "UPDATE outbox SET finished_at = NOW(6), outcome = ? "
                                "WHERE id = ? AND finished_at IS NULL");
    if (!st) return -1;
    db_bind_text(st, 0, outcome, -1);
    db_bind_int64(st, 1, id);
    int rc = db_exec(st);
    db_reset(st);
    return rc;
}

long long outbox_repo_prune(db_conn *c, int days)
{
    db_stmt *st = db_prepare(c, "DELETE FROM outbox WHERE finished_at IS NOT NULL "
                                "AND finished_at < NOW(6) - INTERVAL ? DAY LIMIT 10000");
    if (!st) return -1;
    db_bind_int64(st, 0, days);
    long long n = db_exec(st) == 0 ? (long long)db_affected_rows(st) : -1;
    db_reset(st);
    return n;
}

int outbox_repo_counts(db_conn *c, outbox_counts *out)
{
    memset(out, 0, sizeof *out);
    db_stmt *st = db_prepare(c, "SELECT SUM(finished_at IS NULL AND sent_at IS NULL), "
                                "SUM(finished_at IS NULL AND sent_at IS NOT NULL), "
                                "SUM(outcome = 'done'), SUM(outcome = 'dead') FROM outbox");
    if (!st || db_exec(st) < 0) return -1;
    if (db_fetch(st) == 1) {
        out->pending = db_col_int64(st, 0);
        out->sent_unfinished = db_col_int64(st, 1);
        out->done = db_col_int64(st, 2);
        out->dead = db_col_int64(st, 3);
    }
    db_reset(st);
    return 0;
}

int outbox_repo_about(db_conn *c, const char *type, const char *subject, outbox_subject_row *out, int max)
{
    db_stmt *st = db_prepare(c, "SELECT id, idem_key, COALESCE(JSON_VALUE(payload, '$.to'), ''), "
                                "COALESCE(JSON_VALUE(payload, '$.template'), ''), UNIX_TIMESTAMP(created_at), "
                                "COALESCE(UNIX_TIMESTAMP(sent_at), 0), COALESCE(UNIX_TIMESTAMP(finished_at), 0), "
                                "send_count, COALESCE(outcome, '') FROM outbox WHERE key_subject = ? AND job_type = ? "
                                "ORDER BY id LIMIT ?");
    if (!st) return -1;
    db_bind_text(st, 0, subject, -1);
    db_bind_text(st, 1, type, -1);
    db_bind_int64(st, 2, max);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) {
        outbox_subject_row *r = &out[n++];
        memset(r, 0, sizeof *r);
        r->id = db_col_int64(st, 0);
        text_copy(r->key, sizeof r->key, db_col_text(st, 1, NULL));
        text_copy(r->to, sizeof r->to, db_col_text(st, 2, NULL));
        text_copy(r->tmpl, sizeof r->tmpl, db_col_text(st, 3, NULL));
        r->created_at = db_col_int64(st, 4);
        r->sent_at = db_col_int64(st, 5);
        r->finished_at = db_col_int64(st, 6);
        r->send_count = (int)db_col_int64(st, 7);
        text_copy(r->outcome, sizeof r->outcome, db_col_text(st, 8, NULL));
    }
    db_reset(st);
    return n;
}
