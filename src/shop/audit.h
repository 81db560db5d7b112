/* audit.h — the admin portal's audit log: every write by staff leaves one
 * row — who, what, when, from which address, before → after — written in
 * the SAME unit of work as the write, so there is never a change without
 * its row nor a row without its change. Rows are never changed or removed
 * (the table refuses it: migrations/0008).
 *
 *   static int rename_tx(db_tx *tx, void *arg) {
 *       json_t *before = …the row as it was…;
 *       … the UPDATE …
 *       json_t *after = …the row as it is now…;
 *       if (audit_record(tx, a->who, "product.update", "product", id_text, before, after) < 0) return DB_TX_FAILED;
 *       return DB_TX_OK;
 *   }
 *
 * The actor comes from the request (views/admin.c: admin_actor) or, for a
 * command line, audit_cli_actor(). before/after may be NULL (a creation has
 * no before, a removal no after); they are borrowed, not stolen. Never put
 * secrets in them (password hashes, TOTP secrets, tokens): pass what a
 * reviewer needs to see ("role": "staff" → "superuser"). */
#ifndef SHOEASE_SHOP_AUDIT_H
#define SHOEASE_SHOP_AUDIT_H

#include "db/audit_repo.h"
#include "shop/result.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct db_tx db_tx;

typedef struct audit_actor {
    int64_t user_id;              /* the staff member (0: a command line) */
    char label[255];              /* "cli:root" for a command line; else filled from the user's e-mail */
    char ip[46];
} audit_actor;

/* The person at the terminal: "cli:<login name>". */
audit_actor audit_cli_actor(void);

/* 0, or -1 (then return DB_TX_FAILED from the unit of work). */
int audit_record(db_tx *tx, const audit_actor *who, const char *action, const char *entity, const char *entity_id,
                 json_t *before, json_t *after);

/* How the log names who: the staff member's e-mail as it is now, or the
 * command line's label. For other records of the same unit of work that
 * keep who did it (stock adjustments). 0, or -1. */
int audit_actor_label(db_tx *tx, const audit_actor *who, char *out, size_t outlen);

/* A page of the log, newest first (for the portal's audit screen). *n rows
 * in out (free them with audit_entries_free), *total matching. */
shop_status audit_search(const audit_filter *f, int offset, int max, audit_entry *out, int *n, int64_t *total,
                         shop_error *e);

#endif
