/* db.h — MariaDB access: one connection per thread, prepared statements only.
 *
 * Business code never builds SQL from input: it prepares a constant SQL
 * string with '?' placeholders, binds values, executes and reads columns.
 * Statements are cached per connection (keyed by the SQL string), so
 * preparing the same SQL again is cheap. A lost connection (server restart)
 * is re-opened on the next db_conn_get(); a statement that fails with a
 * connection error is retried once on a fresh connection.
 *
 *   db_stmt *st = db_prepare(c, "SELECT id, name FROM product WHERE slug = ?");
 *   db_bind_text(st, 0, slug, -1);
 *   if (db_exec(st) < 0) return error;
 *   while (db_fetch(st) == 1) { int64_t id = db_col_int64(st, 0); ... }
 *   db_reset(st);       // frees the result; the statement stays cached
 */
#ifndef SHOEASE_DB_H
#define SHOEASE_DB_H

#include "core/arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct db_conn db_conn;
typedef struct db_stmt db_stmt;

/* The calling thread's connection, connecting if needed. NULL if the server
 * is unreachable (the reason is logged; db_last_error() has it). */
db_conn *db_conn_get(void);
/* Close the calling thread's connection (worker shutdown, after fork). */
void db_conn_close(void);
/* Cheap liveness check used by /readyz: 0 when the server answers. */
int db_ping(void);
const char *db_last_error(void);
/* The server's error number of the last failure on this thread (1213
 * deadlock, 1205 lock wait timeout, 1062 duplicate key ...), 0 if none since
 * db_clear_error(). */
unsigned db_last_errno(void);
void db_clear_error(void);

/* Prepare (or fetch from the per-connection cache). NULL on error. */
db_stmt *db_prepare(db_conn *c, const char *sql);

/* Bind parameter `idx` (0-based). Text with len < 0 means strlen(). The
 * bytes are copied, so the caller's buffer may go away before db_exec. */
void db_bind_int64(db_stmt *st, int idx, int64_t v);
void db_bind_text(db_stmt *st, int idx, const char *s, long len);
void db_bind_blob(db_stmt *st, int idx, const void *p, size_t len);
void db_bind_null(db_stmt *st, int idx);

/* Execute with the bound parameters; buffers the whole result set.
 * Returns 0 or -1 (error logged, db_last_error() set). */
int db_exec(db_stmt *st);
/* Next row: 1 row ready, 0 no more rows, -1 error. */
int db_fetch(db_stmt *st);
int db_ncols(db_stmt *st);
uint64_t db_nrows(db_stmt *st);
bool db_col_is_null(db_stmt *st, int col);
int64_t db_col_int64(db_stmt *st, int col);           /* 0 if NULL */
double db_col_double(db_stmt *st, int col);           /* 0 if NULL */
const char *db_col_text(db_stmt *st, int col, size_t *len); /* "" if NULL; valid until next fetch */
/* The column's text copied into a, for rows kept past the next fetch ("" if NULL). */
const char *db_col_arena(db_stmt *st, int col, arena *a);
uint64_t db_affected_rows(db_stmt *st);
uint64_t db_insert_id(db_stmt *st);
/* Free the result set and parameters; keep the prepared statement. Must be
 * called before the statement is executed again. */
void db_reset(db_stmt *st);

/* The short forms repositories use (each executes, then resets):
 *   db_run        a statement whose rows do not matter: 0 or -1
 *   db_run_count  the rows it changed, or -1
 *   db_run_int    the first column of its first row into *v (may be NULL):
 *                 1 a row, 0 none, -1 an error */
int db_run(db_stmt *st);
long long db_run_count(db_stmt *st);
int db_run_int(db_stmt *st, int64_t *v);

/* s with LIKE's own characters (%, _ and backslash) escaped, so what was typed is
 * matched as itself: bind it to "… LIKE CONCAT(?, '%')". malloc'd: free it. */
char *db_like_escape(const char *s);

/* Transactions on the thread's connection. Application code does not call
 * these: it runs a unit of work with db_tx_run (db/tx.h), which retries on
 * deadlock and runs after-commit work. */
int db_begin(db_conn *c);
int db_commit(db_conn *c);
int db_rollback(db_conn *c);

/* Run a multi-statement SQL script (migrations only: trusted files from the
 * repository, never input). Returns 0 or -1. */
int db_exec_script(db_conn *c, const char *sql, size_t len);
/* A single non-prepared statement without parameters (DDL, SET ...). */
int db_exec_simple(db_conn *c, const char *sql);

#endif
