/* review_repo.c — see review_repo.h. */
#include "db/review_repo.h"

#include <string.h>

int review_repo_bought(db_conn *c, int64_t user_id, int64_t product_id)
{
    db_stmt *st = db_prepare(c, "SELECT 1 FROM orders o JOIN order_lines l ON l.order_id = o.id "
                                "WHERE o.user_id = ? AND l.product_id = ? "
                                "AND o.status IN ('paid', 'cod_confirmed', 'shipped', 'delivered') LIMIT 1");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_int64(st, 1, product_id);
    return db_run_int(st, NULL);
}

int review_repo_exists(db_conn *c, int64_t user_id, int64_t product_id)
{
    db_stmt *st = db_prepare(c, "SELECT 1 FROM reviews WHERE user_id = ? AND product_id = ? LIMIT 1");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_int64(st, 1, product_id);
    return db_run_int(st, NULL);
}

int review_repo_product(db_conn *c, const char *slug, int64_t *product_id)
{
    db_stmt *st = db_prepare(c, "SELECT id FROM products WHERE slug = ? AND active = 1");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    return db_run_int(st, product_id);
}

/* ---------- moderation ---------- */

#define ROW_COLS                                                                                                   \
    "r.id, r.product_id, r.rating, p.slug, p.name, r.title, r.body, r.author_name, r.status, r.verified_purchase," \
    " DATE_FORMAT(r.created_at, '%Y-%m-%d %H:%i'), r.reply_text, COALESCE(r.reply_author, ''),"                  \
    " COALESCE(DATE_FORMAT(r.replied_at, '%Y-%m-%d %H:%i'), '')"
#define ROW_FROM " FROM reviews r JOIN products p ON p.id = r.product_id"
/* every filter bound every time (NULL: not set), so one statement per order */
#define FILTER_WHERE                                                                                    \
    " WHERE (? IS NULL OR r.id = ?) AND (? IS NULL OR r.status = ?) AND (? IS NULL OR r.rating = ?)"     \
    " AND (? IS NULL OR p.slug = ? OR INSTR(p.name, ?) > 0) AND (? IS NULL OR r.verified_purchase = ?)" \
    " AND (? IS NULL OR INSTR(r.title, ?) > 0 OR INSTR(r.body, ?) > 0 OR INSTR(r.author_name, ?) > 0)"
#define PENDING_FIRST " ORDER BY r.status = 'pending' DESC, "

static void read_review(arena *a, db_stmt *st, review_row *r)
{
    r->id = db_col_int64(st, 0);
    r->product_id = db_col_int64(st, 1);
    r->rating = db_col_int64(st, 2);
    r->product_slug = db_col_arena(st, 3, a);
    r->product_name = db_col_arena(st, 4, a);
    r->title = db_col_arena(st, 5, a);
    r->body = db_col_arena(st, 6, a);
    r->author = db_col_arena(st, 7, a);
    r->status = db_col_arena(st, 8, a);
    r->verified = db_col_int64(st, 9) != 0;
    r->created_at = db_col_arena(st, 10, a);
    r->reply_text = db_col_is_null(st, 11) ? NULL : db_col_arena(st, 11, a);
    r->reply_author = db_col_arena(st, 12, a);
    r->replied_at = db_col_arena(st, 13, a);
}

static void bind_opt_text(db_stmt *st, int *i, const char *v, int times)
{
    for (int k = 0; k < times; k++) {
        if (v && *v) db_bind_text(st, (*i)++, v, -1);
        else db_bind_null(st, (*i)++);
    }
}

static void bind_opt_int(db_stmt *st, int *i, bool set, int64_t v)
{
    for (int k = 0; k < 2; k++) {
        if (set) db_bind_int64(st, (*i)++, v);
        else db_bind_null(st, (*i)++);
    }
}

static int bind_filter(db_stmt *st, const review_filter *f)
{
    int i = 0;
    bind_opt_int(st, &i, f->id > 0, f->id);
    bind_opt_text(st, &i, f->status, 2);
    bind_opt_int(st, &i, f->rating >= 1 && f->rating <= 5, f->rating);
    bind_opt_text(st, &i, f->product, 3);
    bind_opt_int(st, &i, f->verified == 0 || f->verified == 1, f->verified);
    bind_opt_text(st, &i, f->q, 4);
    return i;
}

int review_repo_search(db_conn *c, arena *a, const review_filter *f, int offset, int max, review_row *out,
                       int64_t *total)
{
    static const char count_sql[] = "SELECT COUNT(*)" ROW_FROM FILTER_WHERE;
    static const char *const list_sql[2][2] = {
        {"SELECT " ROW_COLS ROW_FROM FILTER_WHERE PENDING_FIRST "r.created_at, r.id LIMIT ? OFFSET ?",
         "SELECT " ROW_COLS ROW_FROM FILTER_WHERE PENDING_FIRST "r.created_at DESC, r.id DESC LIMIT ? OFFSET ?"},
        {"SELECT " ROW_COLS ROW_FROM FILTER_WHERE PENDING_FIRST "r.rating, r.created_at DESC, r.id DESC LIMIT ? OFFSET ?",
         "SELECT " ROW_COLS ROW_FROM FILTER_WHERE PENDING_FIRST
         "r.rating DESC, r.created_at DESC, r.id DESC LIMIT ? OFFSET ?"},
    };
    db_stmt *st = db_prepare(c, count_sql);
    if (!st) return -1;
    bind_filter(st, f);
    int64_t n = 0;
    if (db_run_int(st, &n) < 0) return -1;
    *total = n;
    if (!(st = db_prepare(c, list_sql[f->by_rating ? 1 : 0][f->desc ? 1 : 0]))) return -1;
    int i = bind_filter(st, f);
    db_bind_int64(st, i++, max);
    db_bind_int64(st, i, offset);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int got = 0, r = 0;
    while (got < max && (r = db_fetch(st)) == 1) read_review(a, st, &out[got++]);
    db_reset(st);
    return r < 0 ? -1 : got;
}

int review_repo_lock(db_conn *c, arena *a, int64_t id, review_row *out)
{
    int64_t product_id, locked;
    db_stmt *st = db_prepare(c, "SELECT product_id FROM reviews WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    int r = db_run_int(st, &product_id);
    if (r != 1) return r;
    if (!(st = db_prepare(c, "SELECT id FROM products WHERE id = ? FOR UPDATE"))) return -1;
    db_bind_int64(st, 0, product_id);
    if (db_run_int(st, &locked) != 1) return -1;
    /* the review as it is now (a locking read sees the latest version) */
    if (!(st = db_prepare(c, "SELECT " ROW_COLS ROW_FROM " WHERE r.id = ? FOR UPDATE"))) return -1;
    db_bind_int64(st, 0, id);
    r = db_exec(st) < 0 ? -1 : db_fetch(st);
    if (r == 1) read_review(a, st, out);
    db_reset(st);
    return r;
}

int review_repo_set_reply(db_conn *c, int64_t id, const char *text, const char *author, int64_t author_id)
{
    db_stmt *st = db_prepare(c, text ? "UPDATE reviews SET reply_text = ?, reply_author = ?, reply_author_id = ?,"
                                       " replied_at = UTC_TIMESTAMP() WHERE id = ?"
                                     : "UPDATE reviews SET reply_text = NULL, reply_author = NULL,"
                                       " reply_author_id = NULL, replied_at = NULL WHERE id = ?");
    if (!st) return -1;
    int i = 0;
    if (text) {
        db_bind_text(st, i++, text, -1);
        db_bind_text(st, i++, author, -1);
        if (author_id > 0) db_bind_int64(st, i++, author_id);
        else db_bind_null(st, i++);
    }
    db_bind_int64(st, i, id);
    int rc = db_exec(st);
    db_reset(st);
    return rc;
}
