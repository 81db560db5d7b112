/* customer_repo.c — see customer_repo.h. */
#include "db/customer_repo.h"

#include "core/buf.h"
#include "core/text.h"

#include <stdlib.h>
#include <string.h>

/* An account and its order figures. The figures come from one grouped
 * read of orders joined on user_id (MariaDB materialises it per user when
 * a page is limited: "split materialization"). Money spent counts orders
 * that are paid or confirmed and not given back, in the shop's currency. */
#define CUSTOMER_COLS                                                                                             \
    "u.id, u.email, u.name, u.role, u.status, u.second_factor, u.email_verified_at IS NOT NULL, "                   \
    "UNIX_TIMESTAMP(u.created_at), COALESCE(f.n, 0), COALESCE(f.spent, 0)"
#define CUSTOMER_NCOLS 10
#define CUSTOMER_FROM                                                                                             \
    " FROM users u LEFT JOIN (SELECT user_id, COUNT(*) AS n, SUM(IF(status IN ('paid', 'cod_confirmed', "          \
    "'shipped', 'delivered') AND currency = ?, total, 0)) AS spent FROM orders WHERE user_id IS NOT NULL "         \
    "GROUP BY user_id) f ON f.user_id = u.id"
#define CUSTOMER_SELECT "SELECT " CUSTOMER_COLS CUSTOMER_FROM
/* the same with how many match, on every row */
#define CUSTOMER_SELECT_COUNTED "SELECT " CUSTOMER_COLS ", COUNT(*) OVER ()" CUSTOMER_FROM

static void read_customer(db_stmt *st, customer_row *r)
{
    memset(r, 0, sizeof *r);
    r->id = db_col_int64(st, 0);
    text_copy(r->email, sizeof r->email, db_col_text(st, 1, NULL));
    text_copy(r->name, sizeof r->name, db_col_text(st, 2, NULL));
    text_copy(r->role, sizeof r->role, db_col_text(st, 3, NULL));
    text_copy(r->status, sizeof r->status, db_col_text(st, 4, NULL));
    text_copy(r->second_factor, sizeof r->second_factor, db_col_text(st, 5, NULL));
    r->verified = db_col_int64(st, 6) != 0;
    r->created_at = db_col_int64(st, 7);
    r->orders = db_col_int64(st, 8);
    r->spent = db_col_int64(st, 9);
}

/* The WHERE clause from fixed fragments, in the order binds() binds. */
static void where(buf *sql, const customer_filter *f)
{
    buf_puts(sql, " WHERE u.status <> 'deleted'");
    if (f->q && *f->q) buf_puts(sql, " AND (u.email LIKE CONCAT(?, '%') OR u.name LIKE CONCAT('%', ?, '%'))");
    if (f->status && *f->status) buf_puts(sql, " AND u.status = ?");
    if (f->role && !strcmp(f->role, "shopper")) buf_puts(sql, " AND u.role = 'shopper'");
    else if (f->role && !strcmp(f->role, "staff")) buf_puts(sql, " AND u.role IN ('staff', 'superuser')");
}

static int binds(db_stmt *st, int i, const customer_filter *f)
{
    if (f->q && *f->q) {
        char *esc = db_like_escape(f->q);
        db_bind_text(st, i++, esc, -1);
        db_bind_text(st, i++, esc, -1);
        free(esc);
    }
    if (f->status && *f->status) db_bind_text(st, i++, f->status, -1);
    return i;
}

int customer_repo_search(db_conn *c, const customer_filter *f, const char *currency, const char *sort, bool desc,
                         int offset, int max, customer_row *out, int64_t *total)
{
    static const struct {
        const char *name, *column;
    } sorts[] = {{"joined", "u.created_at"}, {"email", "u.email"}, {"name", "u.name"},
                 {"orders", "COALESCE(f.n, 0)"}, {"spent", "COALESCE(f.spent, 0)"}};
    const char *column = sorts[0].column;
    for (size_t i = 0; sort && i < sizeof sorts / sizeof *sorts; i++)
        if (!strcmp(sort, sorts[i].name)) column = sorts[i].column;
    /* the number matching comes with every row (a window over the whole
     * match, before LIMIT): one statement, one round trip */
    buf sql = BUF_INIT;
    buf_puts(&sql, CUSTOMER_SELECT_COUNTED);
    where(&sql, f);
    buf_printf(&sql, " ORDER BY %s %s, u.id DESC LIMIT ? OFFSET ?", column, desc ? "DESC" : "ASC");
    db_stmt *st = db_prepare(c, buf_cstr(&sql));
    buf_free(&sql);
    if (!st) return -1;
    db_bind_text(st, 0, currency, -1);
    int i = binds(st, 1, f);
    db_bind_int64(st, i++, max);
    db_bind_int64(st, i, offset);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    if (total) *total = 0; /* (also past the last page: nothing there to count with) */
    int n = 0;
    while (n < max && db_fetch(st) == 1) {
        read_customer(st, &out[n++]);
        if (total) *total = db_col_int64(st, CUSTOMER_NCOLS);
    }
    db_reset(st);
    return n;
}

int customer_repo_get(db_conn *c, int64_t id, const char *currency, customer_row *out)
{
    db_stmt *st = db_prepare(c, CUSTOMER_SELECT " WHERE u.id = ? AND u.status <> 'deleted'");
    if (!st) return -1;
    db_bind_text(st, 0, currency, -1);
    db_bind_int64(st, 1, id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int r = db_fetch(st);
    if (r == 1) read_customer(st, out);
    db_reset(st);
    return r;
}
