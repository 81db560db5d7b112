/* outbox_repo.h — the SQL of the outbox table (migrations/0004).
 *
 * Plain rows; no transaction control here (the unit of work or the relay
 * owns it). Functions return 0 / -1 (store error, logged) unless noted. */
#ifndef SHOEASE_DB_OUTBOX_REPO_H
#define SHOEASE_DB_OUTBOX_REPO_H

#include "db/db.h"

#include <stdint.h>

typedef struct outbox_row {
    int64_t id;
    char type[65];
    char key[201];
    char *payload;              /* malloc'd JSON text */
} outbox_row;

/* Insert a row (available after delay_seconds); *id_out its id. A row with
 * the same key already there is kept as it is: 0 with *id_out 0. */
int outbox_repo_insert(db_conn *c, const char *type, const char *key, const char *payload, int64_t delay_seconds,
                       int64_t *id_out);
/* Lock up to max rows that are due and were never sent, or were sent more
 * than resend_seconds ago and are not finished (FOR UPDATE SKIP LOCKED: other
 * relays take other rows). Count, or -1. Free with outbox_rows_free. */
int outbox_repo_lock_due(db_conn *c, int resend_seconds, int max, outbox_row *out);
void outbox_rows_free(outbox_row *rows, int n);
int outbox_repo_mark_sent(db_conn *c, int64_t id);
/* The same for n rows in one statement (n ≤ OUTBOX_MARK_MAX). */
#define OUTBOX_MARK_MAX 64
int outbox_repo_mark_sent_many(db_conn *c, const int64_t *ids, int n);
/* outcome: "done" or "dead". */
int outbox_repo_mark_finished(db_conn *c, int64_t id, const char *outcome);
/* Delete finished rows older than days; count deleted or -1. */
long long outbox_repo_prune(db_conn *c, int days);

typedef struct outbox_counts {
    long long pending, sent_unfinished, done, dead;
} outbox_counts;
int outbox_repo_counts(db_conn *c, outbox_counts *out);

/* The rows of a job type whose key's last segment (after its last ':') is
 * subject, oldest first — an order's mails: type "mail.send", subject the
 * order number (migrations/0011) — with the payload's "to" and "template"
 * (nothing else of it). Count or -1. */
typedef struct outbox_subject_row {
    int64_t id;
    char key[201];
    char to[255], tmpl[65];
    int64_t created_at, sent_at, finished_at;   /* unix seconds; 0: not yet */
    int send_count;
    char outcome[8];                            /* "done", "dead", or "" while unfinished */
} outbox_subject_row;
int outbox_repo_about(db_conn *c, const char *type, const char *subject, outbox_subject_row *out, int max);

#endif
