/* audit_repo.c — see audit_repo.h. */
#include "db/audit_repo.h"

#include "core/buf.h"
#include "core/text.h"

#include <stdlib.h>
#include <string.h>

int audit_repo_insert(db_conn *c, const audit_entry *e)
{
    db_stmt *st = db_prepare(c, "INSERT INTO audit_log (actor_id, actor, ip, action, entity, entity_id, before_json, "
                                "after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return -1;
    if (e->actor_id > 0) db_bind_int64(st, 0, e->actor_id);
    else db_bind_null(st, 0);
    db_bind_text(st, 1, e->actor, -1);
    db_bind_text(st, 2, e->ip, -1);
    db_bind_text(st, 3, e->action, -1);
    db_bind_text(st, 4, e->entity, -1);
    db_bind_text(st, 5, e->entity_id, -1);
    if (e->before_json) db_bind_text(st, 6, e->before_json, -1);
    else db_bind_null(st, 6);
    if (e->after_json) db_bind_text(st, 7, e->after_json, -1);
    else db_bind_null(st, 7);
    int rc = db_exec(st);
    db_reset(st);
    return rc;
}

int audit_repo_actor_email(db_conn *c, int64_t user_id, char *out, size_t outlen)
{
    db_stmt *st = db_prepare(c, "SELECT email FROM users WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    int r = db_exec(st) < 0 ? -1 : db_fetch(st);
    if (r == 1) text_copy(out, outlen, db_col_text(st, 0, NULL));
    db_reset(st);
    return r;
}

/* The WHERE clause from fixed fragments, in the order binds() binds them. */
static void where(buf *sql, const audit_filter *f)
{
    buf_puts(sql, " WHERE 1 = 1");
    if (f->q && *f->q) buf_puts(sql, " AND (entity_id = ? OR action LIKE CONCAT(?, '%') OR actor LIKE CONCAT(?, '%'))");
    if (f->entity && *f->entity) buf_puts(sql, " AND entity = ?");
    if (f->action && *f->action) buf_puts(sql, " AND action = ?");
    if (f->actor_id > 0) buf_puts(sql, " AND actor_id = ?");
    if (f->since_us > 0) buf_puts(sql, " AND at >= FROM_UNIXTIME(? / 1000000)");
    if (f->until_us > 0) buf_puts(sql, " AND at < FROM_UNIXTIME(? / 1000000)");
}

static int binds(db_stmt *st, const audit_filter *f)
{
    int i = 0;
    if (f->q && *f->q) {
        char *esc = db_like_escape(f->q);
        db_bind_text(st, i++, f->q, -1);
        db_bind_text(st, i++, esc, -1);
        db_bind_text(st, i++, esc, -1);
        free(esc);
    }
    if (f->entity && *f->entity) db_bind_text(st, i++, f->entity, -1);
    if (f->action && *f->action) db_bind_text(st, i++, f->action, -1);
    if (f->actor_id > 0) db_bind_int64(st, i++, f->actor_id);
    if (f->since_us > 0) db_bind_int64(st, i++, f->since_us);
    if (f->until_us > 0) db_bind_int64(st, i++, f->until_us);
    return i;
}

static char *dup_or_null(db_stmt *st, int col)
{
    if (db_col_is_null(st, col)) return NULL;
    char *s = strdup(db_col_text(st, col, NULL));
    if (!s) abort();
    return s;
}

int audit_repo_search(db_conn *c, const audit_filter *f, int offset, int max, audit_entry *out, int64_t *total)
{
    buf sql = BUF_INIT;
    if (total) {
        buf_puts(&sql, "SELECT COUNT(*) FROM audit_log");
        where(&sql, f);
        db_stmt *st = db_prepare(c, buf_cstr(&sql));
        if (!st) {
            buf_free(&sql);
            return -1;
        }
        binds(st, f);
        int r = db_exec(st) < 0 ? -1 : db_fetch(st);
        *total = r == 1 ? db_col_int64(st, 0) : 0;
        db_reset(st);
        if (r < 0) {
            buf_free(&sql);
            return -1;
        }
        buf_reset(&sql);
    }
    buf_puts(&sql, "SELECT id, CAST(UNIX_TIMESTAMP(at) * 1000000 AS SIGNED), COALESCE(actor_id, 0), actor, ip, action, "
                   "entity, entity_id, before_json, after_json FROM audit_log");
    where(&sql, f);
    buf_puts(&sql, " ORDER BY id DESC LIMIT ? OFFSET ?");
    db_stmt *st = db_prepare(c, buf_cstr(&sql));
    buf_free(&sql);
    if (!st) return -1;
    int i = binds(st, f);
    db_bind_int64(st, i++, max);
    db_bind_int64(st, i, offset);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) {
        audit_entry *e = &out[n++];
        memset(e, 0, sizeof *e);
        e->id = db_col_int64(st, 0);
        e->at_us = db_col_int64(st, 1);
        e->actor_id = db_col_int64(st, 2);
        text_copy(e->actor, sizeof e->actor, db_col_text(st, 3, NULL));
        text_copy(e->ip, sizeof e->ip, db_col_text(st, 4, NULL));
        text_copy(e->action, sizeof e->action, db_col_text(st, 5, NULL));
        text_copy(e->entity, sizeof e->entity, db_col_text(st, 6, NULL));
        text_copy(e->entity_id, sizeof e->entity_id, db_col_text(st, 7, NULL));
        e->before_json = dup_or_null(st, 8);
        e->after_json = dup_or_null(st, 9);
    }
    db_reset(st);
    return n;
}

void audit_entries_free(audit_entry *rows, int n)
{
    for (int i = 0; i < n; i++) {
        free(rows[i].before_json);
        free(rows[i].after_json);
        rows[i].before_json = rows[i].after_json = NULL;
    }
}
