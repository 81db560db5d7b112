/* prefs_repo.c — see prefs_repo.h. */
#include "db/prefs_repo.h"

#include "core/text.h"

int prefs_repo_size_options(db_conn *c, char (*out)[13], char (*labels)[17], int max)
{
    /* size_value is DECIMAL: ordering by it is numeric ("10" after "9.5") */
    db_stmt *st = db_prepare(c, "SELECT size_key, MIN(size_label) FROM variants WHERE size_system = 'UK' "
                                "GROUP BY size_key ORDER BY MIN(size_value), size_key LIMIT ?");
    if (!st) return -1;
    db_bind_int64(st, 0, max);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0, r = 0;
    while (n < max && (r = db_fetch(st)) == 1) {
        text_copy(out[n], 13, db_col_text(st, 0, NULL));
        text_copy(labels[n], 17, db_col_text(st, 1, NULL));
        n++;
    }
    db_reset(st);
    return r < 0 ? -1 : n;
}

int prefs_repo_brand_options(db_conn *c, char (*slugs)[81], char (*names)[81], int max)
{
    db_stmt *st = db_prepare(c, "SELECT slug, name FROM brands ORDER BY name, slug LIMIT ?");
    if (!st) return -1;
    db_bind_int64(st, 0, max);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0, r = 0;
    while (n < max && (r = db_fetch(st)) == 1) {
        text_copy(slugs[n], 81, db_col_text(st, 0, NULL));
        text_copy(names[n], 81, db_col_text(st, 1, NULL));
        n++;
    }
    db_reset(st);
    return r < 0 ? -1 : n;
}
