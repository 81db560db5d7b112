/* image_repo.c — see image_repo.h. */
#include "db/image_repo.h"

#include "core/text.h"

#include <string.h>

int image_repo_product(db_conn *c, int64_t product_id, bool lock, image_product *out)
{
    db_stmt *st = db_prepare(c, lock ? "SELECT id, slug, name, active FROM products WHERE id = ? FOR UPDATE"
                                     : "SELECT id, slug, name, active FROM products WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, product_id);
    int r = db_exec(st) < 0 ? -1 : db_fetch(st);
    if (r == 1) {
        memset(out, 0, sizeof *out);
        out->id = db_col_int64(st, 0);
        text_copy(out->slug, sizeof out->slug, db_col_text(st, 1, NULL));
        text_copy(out->name, sizeof out->name, db_col_text(st, 2, NULL));
        out->active = db_col_int64(st, 3) != 0;
    }
    db_reset(st);
    return r;
}

int image_repo_list(db_conn *c, int64_t product_id, bool lock, image_row *out, int max)
{
    db_stmt *st = db_prepare(c, lock ? "SELECT id, product_id, position, url, card_url, alt FROM product_images"
                                       " WHERE product_id = ? ORDER BY position, id FOR UPDATE"
                                     : "SELECT id, product_id, position, url, card_url, alt FROM product_images"
                                       " WHERE product_id = ? ORDER BY position, id");
    if (!st) return -1;
    db_bind_int64(st, 0, product_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0, r;
    while ((r = db_fetch(st)) == 1) {
        if (n == max) continue; /* read to the end; only max are kept */
        image_row *row = &out[n++];
        memset(row, 0, sizeof *row);
        row->id = db_col_int64(st, 0);
        row->product_id = db_col_int64(st, 1);
        row->position = (int)db_col_int64(st, 2);
        text_copy(row->url, sizeof row->url, db_col_text(st, 3, NULL));
        text_copy(row->card_url, sizeof row->card_url, db_col_text(st, 4, NULL));
        text_copy(row->alt, sizeof row->alt, db_col_text(st, 5, NULL));
    }
    db_reset(st);
    return r < 0 ? -1 : n;
}

int image_repo_insert(db_conn *c, const image_row *row, int64_t *id)
{
    db_stmt *st = db_prepare(c, "INSERT INTO product_images (product_id, url, card_url, alt, position)"
                                " VALUES (?, ?, ?, ?, ?)");
    if (!st) return -1;
    db_bind_int64(st, 0, row->product_id);
    db_bind_text(st, 1, row->url, -1);
    db_bind_text(st, 2, row->card_url, -1);
    db_bind_text(st, 3, row->alt, -1);
    db_bind_int64(st, 4, row->position);
    int rc = db_exec(st);
    if (rc == 0 && id) *id = (int64_t)db_insert_id(st);
    db_reset(st);
    return rc;
}

int image_repo_set_alt(db_conn *c, int64_t image_id, const char *alt)
{
    db_stmt *st = db_prepare(c, "UPDATE product_images SET alt = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_text(st, 0, alt, -1);
    db_bind_int64(st, 1, image_id);
    return db_run(st);
}

int image_repo_set_position(db_conn *c, int64_t image_id, int position)
{
    db_stmt *st = db_prepare(c, "UPDATE product_images SET position = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, position);
    db_bind_int64(st, 1, image_id);
    return db_run(st);
}

int image_repo_delete(db_conn *c, int64_t image_id)
{
    db_stmt *st = db_prepare(c, "DELETE FROM product_images WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, image_id);
    return db_run(st);
}
