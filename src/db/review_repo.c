/* review_repo.c — see review_repo.h. */
#include "db/review_repo.h"

#include <string.h>

/* One row, one integer column: 1 (with *v), 0 when no row, -1 on error. */
static int one_int(db_stmt *st, int64_t *v)
{
    int rc = db_exec(st) < 0 ? -1 : db_fetch(st);
    if (rc == 1 && v) *v = db_col_int64(st, 0);
    db_reset(st);
    return rc < 0 ? -1 : rc;
}

int review_repo_bought(db_conn *c, int64_t user_id, int64_t product_id)
{
    db_stmt *st = db_prepare(c, "SELECT 1 FROM orders o JOIN order_lines l ON l.order_id = o.id "
                                "WHERE o.user_id = ? AND l.product_id = ? "
                                "AND o.status IN ('paid', 'cod_confirmed', 'shipped', 'delivered') LIMIT 1");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_int64(st, 1, product_id);
    return one_int(st, NULL);
}

int review_repo_exists(db_conn *c, int64_t user_id, int64_t product_id)
{
    db_stmt *st = db_prepare(c, "SELECT 1 FROM reviews WHERE user_id = ? AND product_id = ? LIMIT 1");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_int64(st, 1, product_id);
    return one_int(st, NULL);
}

int review_repo_product(db_conn *c, const char *slug, int64_t *product_id)
{
    db_stmt *st = db_prepare(c, "SELECT id FROM products WHERE slug = ? AND active = 1");
    if (!st) return -1;
    db_bind_text(st, 0, slug, -1);
    return one_int(st, product_id);
}
