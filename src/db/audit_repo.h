/* audit_repo.h — the audit log's statements (migrations/0008). Append and
 * read only: there is no statement that changes or removes a row (the
 * table's triggers refuse it anyway). The caller's unit of work begins and
 * commits.
 *
 *   audit_repo_insert(c, &(audit_entry){.actor_id = uid, .actor = "ada@shop.test", .ip = "203.0.113.5",
 *                                        .action = "product.update", .entity = "product", .entity_id = "42",
 *                                        .before_json = "{…}", .after_json = "{…}"});
 */
#ifndef SHOEASE_DB_AUDIT_REPO_H
#define SHOEASE_DB_AUDIT_REPO_H

#include "db/db.h"

#include <stdint.h>

typedef struct audit_entry {
    int64_t id;
    int64_t at_us;                  /* unix microseconds */
    int64_t actor_id;               /* 0: a command line */
    char actor[255];
    char ip[46];
    char action[61];
    char entity[41];
    char entity_id[65];
    char *before_json, *after_json; /* NULL or JSON; owned by the row when read (audit_entries_free) */
} audit_entry;

int audit_repo_insert(db_conn *c, const audit_entry *e);
/* The e-mail of a user (for the actor column): 1, 0 no such user, -1. */
int audit_repo_actor_email(db_conn *c, int64_t user_id, char *out, size_t outlen);

typedef struct audit_filter {
    const char *q;                  /* matches the entity id, action or actor (prefix) */
    const char *entity;             /* exact, or NULL */
    const char *action;             /* exact, or NULL */
    int64_t actor_id;               /* 0: anyone */
    int64_t since_us, until_us;     /* 0: open */
} audit_filter;

/* Newest first: at most max rows from offset; *total (may be NULL) the
 * number matching. Count read, or -1. */
int audit_repo_search(db_conn *c, const audit_filter *f, int offset, int max, audit_entry *out, int64_t *total);
void audit_entries_free(audit_entry *rows, int n);

#endif
