/* user_repo.c — see user_repo.h. */
#include "db/user_repo.h"

#include "core/log.h"
#include "core/text.h"

#include <stdio.h>
#include <string.h>

#define ER_DUP_ENTRY 1062

#define USER_COLS                                                                                              \
    "id, email, name, COALESCE(phone, ''), email_verified_at IS NOT NULL, phone_verified_at IS NOT NULL, "     \
    "password_hash, role, status, second_factor, COALESCE(totp_secret, ''), COALESCE(totp_pending, ''), "     \
    "UNIX_TIMESTAMP(created_at)"

static int fetch_user(db_stmt *st, user_row *u)
{
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int r = db_fetch(st);
    if (r == 1) {
        memset(u, 0, sizeof *u);
        size_t n;
        const char *p;
        u->id = db_col_int64(st, 0);
        text_copy(u->email, sizeof u->email, db_col_text(st, 1, NULL));
        text_copy(u->name, sizeof u->name, db_col_text(st, 2, NULL));
        text_copy(u->phone, sizeof u->phone, db_col_text(st, 3, NULL));
        u->email_verified = db_col_int64(st, 4) != 0;
        u->phone_verified = db_col_int64(st, 5) != 0;
        text_copy(u->password_hash, sizeof u->password_hash, db_col_text(st, 6, NULL));
        text_copy(u->role, sizeof u->role, db_col_text(st, 7, NULL));
        text_copy(u->status, sizeof u->status, db_col_text(st, 8, NULL));
        text_copy(u->second_factor, sizeof u->second_factor, db_col_text(st, 9, NULL));
        p = db_col_text(st, 10, &n);
        if (n <= sizeof u->totp_sealed) {
            memcpy(u->totp_sealed, p, n);
            u->totp_sealed_len = n;
        }
        p = db_col_text(st, 11, &n);
        if (n <= sizeof u->totp_pending) {
            memcpy(u->totp_pending, p, n);
            u->totp_pending_len = n;
        }
        u->created_at = db_col_int64(st, 12);
    }
    db_reset(st);
    return r < 0 ? -1 : r;
}

int user_repo_insert(db_conn *c, const char *email, const char *password_hash, const char *name, int64_t *id_out)
{
    db_stmt *st = db_prepare(c, "INSERT INTO users (email, password_hash, name, password_changed_at) "
                                "VALUES (?, ?, ?, NOW())");
    if (!st) return -1;
    db_bind_text(st, 0, email, -1);
    db_bind_text(st, 1, password_hash, -1);
    db_bind_text(st, 2, name, -1);
    if (db_exec(st) < 0) {
        db_reset(st);
        return db_last_errno() == ER_DUP_ENTRY ? -2 : -1;
    }
    *id_out = (int64_t)db_insert_id(st);
    db_reset(st);
    return 0;
}

int user_repo_set_role(db_conn *c, int64_t id, const char *role)
{
    db_stmt *st = db_prepare(c, "UPDATE users SET role = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_text(st, 0, role, -1);
    db_bind_int64(st, 1, id);
    int rc = db_exec(st);
    db_reset(st);
    return rc;
}

int user_repo_by_email(db_conn *c, const char *email, user_row *out)
{
    db_stmt *st = db_prepare(c, "SELECT " USER_COLS " FROM users WHERE email = ? AND status <> 'deleted'");
    if (!st) return -1;
    db_bind_text(st, 0, email, -1);
    return fetch_user(st, out);
}

int user_repo_by_id(db_conn *c, int64_t id, bool lock, user_row *out)
{
    db_stmt *st = db_prepare(c, lock ? "SELECT " USER_COLS " FROM users WHERE id = ? FOR UPDATE"
                                     : "SELECT " USER_COLS " FROM users WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    return fetch_user(st, out);
}

int user_repo_by_verified_phone(db_conn *c, const char *phone, user_row *out)
{
    db_stmt *st = db_prepare(c, "SELECT " USER_COLS " FROM users WHERE verified_phone = ? AND status = 'active'");
    if (!st) return -1;
    db_bind_text(st, 0, phone, -1);
    return fetch_user(st, out);
}

int user_repo_set_password(db_conn *c, int64_t id, const char *hash)
{
    db_stmt *st = db_prepare(c, "UPDATE users SET password_hash = ?, password_changed_at = NOW() WHERE id = ?");
    if (!st) return -1;
    db_bind_text(st, 0, hash, -1);
    db_bind_int64(st, 1, id);
    return db_run(st);
}

int user_repo_set_verified(db_conn *c, int64_t id)
{
    db_stmt *st = db_prepare(c, "UPDATE users SET email_verified_at = COALESCE(email_verified_at, NOW()) WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    return db_run(st);
}

int user_repo_set_status(db_conn *c, int64_t id, const char *status)
{
    db_stmt *st = db_prepare(c, "UPDATE users SET status = ? WHERE id = ? AND status <> 'deleted'");
    if (!st) return -1;
    db_bind_text(st, 0, status, -1);
    db_bind_int64(st, 1, id);
    return db_run(st);
}

int user_repo_set_name(db_conn *c, int64_t id, const char *name)
{
    db_stmt *st = db_prepare(c, "UPDATE users SET name = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_text(st, 0, name, -1);
    db_bind_int64(st, 1, id);
    return db_run(st);
}

int user_repo_set_phone(db_conn *c, int64_t id, const char *phone, bool verified)
{
    db_stmt *st = db_prepare(c, verified ? "UPDATE users SET phone = ?, phone_verified_at = NOW() WHERE id = ?"
                                         : "UPDATE users SET phone = ?, phone_verified_at = NULL WHERE id = ?");
    if (!st) return -1;
    if (phone && *phone) db_bind_text(st, 0, phone, -1);
    else db_bind_null(st, 0);
    db_bind_int64(st, 1, id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return db_last_errno() == ER_DUP_ENTRY ? -2 : -1;
    }
    db_reset(st);
    return 0;
}

int user_repo_set_second_factor(db_conn *c, int64_t id, const char *kind, const unsigned char *sealed, size_t len)
{
    db_stmt *st;
    if (!strcmp(kind, "none")) {
        st = db_prepare(c, "UPDATE users SET second_factor = 'none', totp_secret = NULL, totp_pending = NULL WHERE id = ?");
        if (!st) return -1;
        db_bind_int64(st, 0, id);
    } else if (sealed) {
        st = db_prepare(c, "UPDATE users SET second_factor = ?, totp_secret = ?, totp_pending = NULL WHERE id = ?");
        if (!st) return -1;
        db_bind_text(st, 0, kind, -1);
        db_bind_blob(st, 1, sealed, len);
        db_bind_int64(st, 2, id);
    } else {
        st = db_prepare(c, "UPDATE users SET second_factor = ? WHERE id = ?");
        if (!st) return -1;
        db_bind_text(st, 0, kind, -1);
        db_bind_int64(st, 1, id);
    }
    return db_run(st);
}

int user_repo_set_totp_pending(db_conn *c, int64_t id, const unsigned char *sealed, size_t len)
{
    db_stmt *st = db_prepare(c, "UPDATE users SET totp_pending = ? WHERE id = ?");
    if (!st) return -1;
    if (sealed) db_bind_blob(st, 0, sealed, len);
    else db_bind_null(st, 0);
    db_bind_int64(st, 1, id);
    return db_run(st);
}

int user_repo_token_insert(db_conn *c, int64_t user_id, const char *purpose, const char *hash_hex, int ttl_seconds)
{
    db_stmt *st = db_prepare(c, "INSERT INTO user_tokens (user_id, purpose, token_hash, expires_at) "
                                "VALUES (?, ?, ?, NOW() + INTERVAL ? SECOND)");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_text(st, 1, purpose, -1);
    db_bind_text(st, 2, hash_hex, -1);
    db_bind_int64(st, 3, ttl_seconds);
    return db_run(st);
}

int user_repo_token_use(db_conn *c, const char *purpose, const char *hash_hex, int64_t *user_id)
{
    db_stmt *st = db_prepare(c, "SELECT id, user_id FROM user_tokens WHERE token_hash = ? AND purpose = ? "
                                "AND used_at IS NULL AND expires_at > NOW() FOR UPDATE");
    if (!st) return -1;
    db_bind_text(st, 0, hash_hex, -1);
    db_bind_text(st, 1, purpose, -1);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int r = db_fetch(st);
    int64_t token_id = 0;
    if (r == 1) {
        token_id = db_col_int64(st, 0);
        *user_id = db_col_int64(st, 1);
    }
    db_reset(st);
    if (r != 1) return r < 0 ? -1 : 0;
    st = db_prepare(c, "UPDATE user_tokens SET used_at = NOW() WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, token_id);
    return db_run(st) < 0 ? -1 : 1;
}

int user_repo_tokens_revoke(db_conn *c, int64_t user_id, const char *purpose)
{
    db_stmt *st = db_prepare(c, "UPDATE user_tokens SET used_at = NOW() WHERE user_id = ? AND purpose = ? AND used_at IS NULL");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_text(st, 1, purpose, -1);
    return db_run(st);
}

int user_repo_recovery_replace(db_conn *c, int64_t user_id, char hashes[][65], int n)
{
    db_stmt *st = db_prepare(c, "DELETE FROM recovery_codes WHERE user_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    if (db_run(st) < 0) return -1;
    for (int i = 0; i < n; i++) {
        st = db_prepare(c, "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)");
        if (!st) return -1;
        db_bind_int64(st, 0, user_id);
        db_bind_text(st, 1, hashes[i], -1);
        if (db_run(st) < 0) return -1;
    }
    return 0;
}

int user_repo_recovery_use(db_conn *c, int64_t user_id, const char *hash_hex)
{
    db_stmt *st = db_prepare(c, "UPDATE recovery_codes SET used_at = NOW() WHERE user_id = ? AND code_hash = ? "
                                "AND used_at IS NULL");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_text(st, 1, hash_hex, -1);
    long long n = db_run_count(st);
    return n < 0 ? -1 : n > 0;
}

int user_repo_recovery_left(db_conn *c, int64_t user_id)
{
    db_stmt *st = db_prepare(c, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = db_fetch(st) == 1 ? (int)db_col_int64(st, 0) : 0;
    db_reset(st);
    return n;
}

/* ---------- addresses ---------- */

#define ADDRESS_COLS "id, full_name, line1, line2, city, region, postcode, country, phone, is_default"

static void read_address(db_stmt *st, address_row *a)
{
    memset(a, 0, sizeof *a);
    a->id = db_col_int64(st, 0);
    text_copy(a->full_name, sizeof a->full_name, db_col_text(st, 1, NULL));
    text_copy(a->line1, sizeof a->line1, db_col_text(st, 2, NULL));
    text_copy(a->line2, sizeof a->line2, db_col_text(st, 3, NULL));
    text_copy(a->city, sizeof a->city, db_col_text(st, 4, NULL));
    text_copy(a->region, sizeof a->region, db_col_text(st, 5, NULL));
    text_copy(a->postcode, sizeof a->postcode, db_col_text(st, 6, NULL));
    text_copy(a->country, sizeof a->country, db_col_text(st, 7, NULL));
    text_copy(a->phone, sizeof a->phone, db_col_text(st, 8, NULL));
    a->is_default = db_col_int64(st, 9) != 0;
}

int address_repo_list(db_conn *c, int64_t user_id, address_row *out, int max)
{
    db_stmt *st = db_prepare(c, "SELECT " ADDRESS_COLS " FROM addresses WHERE user_id = ? "
                                "ORDER BY is_default DESC, id DESC LIMIT ?");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_int64(st, 1, max);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) read_address(st, &out[n++]);
    db_reset(st);
    return n;
}

int address_repo_get(db_conn *c, int64_t user_id, int64_t id, address_row *out)
{
    db_stmt *st = db_prepare(c, "SELECT " ADDRESS_COLS " FROM addresses WHERE user_id = ? AND id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_int64(st, 1, id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int r = db_fetch(st);
    if (r == 1) read_address(st, out);
    db_reset(st);
    return r < 0 ? -1 : r;
}

static void bind_address(db_stmt *st, const address_row *a)
{
    db_bind_text(st, 0, a->full_name, -1);
    db_bind_text(st, 1, a->line1, -1);
    db_bind_text(st, 2, a->line2, -1);
    db_bind_text(st, 3, a->city, -1);
    db_bind_text(st, 4, a->region, -1);
    db_bind_text(st, 5, a->postcode, -1);
    db_bind_text(st, 6, a->country, -1);
    db_bind_text(st, 7, a->phone, -1);
}

int address_repo_save(db_conn *c, int64_t user_id, const address_row *a, int64_t *id_out)
{
    db_stmt *st;
    if (a->id == 0) {
        st = db_prepare(c, "INSERT INTO addresses (full_name, line1, line2, city, region, postcode, country, phone, "
                           "user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!st) return -1;
        bind_address(st, a);
        db_bind_int64(st, 8, user_id);
        if (db_exec(st) < 0) {
            db_reset(st);
            return -1;
        }
        *id_out = (int64_t)db_insert_id(st);
        db_reset(st);
        return 0;
    }
    st = db_prepare(c, "UPDATE addresses SET full_name = ?, line1 = ?, line2 = ?, city = ?, region = ?, postcode = ?, "
                       "country = ?, phone = ? WHERE user_id = ? AND id = ?");
    if (!st) return -1;
    bind_address(st, a);
    db_bind_int64(st, 8, user_id);
    db_bind_int64(st, 9, a->id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    db_reset(st);
    /* affected rows is 0 when nothing changed too: check ownership */
    address_row check;
    int r = address_repo_get(c, user_id, a->id, &check);
    if (r < 0) return -1;
    if (r == 0) return -2;
    *id_out = a->id;
    return 0;
}

int address_repo_delete(db_conn *c, int64_t user_id, int64_t id)
{
    db_stmt *st = db_prepare(c, "DELETE FROM addresses WHERE user_id = ? AND id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    db_bind_int64(st, 1, id);
    long long n = db_run_count(st);
    return n < 0 ? -1 : n > 0;
}

int address_repo_set_default(db_conn *c, int64_t user_id, int64_t id)
{
    address_row a;
    int r = address_repo_get(c, user_id, id, &a);
    if (r <= 0) return r;
    db_stmt *st = db_prepare(c, "UPDATE addresses SET is_default = (id = ?) WHERE user_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    db_bind_int64(st, 1, user_id);
    return db_run(st) < 0 ? -1 : 1;
}

int address_repo_count(db_conn *c, int64_t user_id)
{
    db_stmt *st = db_prepare(c, "SELECT COUNT(*) FROM addresses WHERE user_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = db_fetch(st) == 1 ? (int)db_col_int64(st, 0) : 0;
    db_reset(st);
    return n;
}

/* ---------- saved sizes and brands ---------- */

int prefs_repo_sizes(db_conn *c, int64_t user_id, char (*out)[13], int max)
{
    db_stmt *st = db_prepare(c, "SELECT size_key FROM saved_sizes WHERE user_id = ? ORDER BY size_key");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) text_copy(out[n++], 13, db_col_text(st, 0, NULL));
    db_reset(st);
    return n;
}

int prefs_repo_set_sizes(db_conn *c, int64_t user_id, char (*sizes)[13], int n)
{
    db_stmt *st = db_prepare(c, "DELETE FROM saved_sizes WHERE user_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    if (db_run(st) < 0) return -1;
    for (int i = 0; i < n; i++) {
        st = db_prepare(c, "INSERT IGNORE INTO saved_sizes (user_id, size_key) VALUES (?, ?)");
        if (!st) return -1;
        db_bind_int64(st, 0, user_id);
        db_bind_text(st, 1, sizes[i], -1);
        if (db_run(st) < 0) return -1;
    }
    return 0;
}

int prefs_repo_brands(db_conn *c, int64_t user_id, char (*slugs)[81], int max)
{
    db_stmt *st = db_prepare(c, "SELECT b.slug FROM saved_brands s JOIN brands b ON b.id = s.brand_id "
                                "WHERE s.user_id = ? ORDER BY b.name");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    int n = 0;
    while (n < max && db_fetch(st) == 1) text_copy(slugs[n++], 81, db_col_text(st, 0, NULL));
    db_reset(st);
    return n;
}

int prefs_repo_set_brands(db_conn *c, int64_t user_id, char (*slugs)[81], int n)
{
    db_stmt *st = db_prepare(c, "DELETE FROM saved_brands WHERE user_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, user_id);
    if (db_run(st) < 0) return -1;
    int saved = 0;
    for (int i = 0; i < n; i++) {
        st = db_prepare(c, "INSERT IGNORE INTO saved_brands (user_id, brand_id) SELECT ?, id FROM brands WHERE slug = ?");
        if (!st) return -1;
        db_bind_int64(st, 0, user_id);
        db_bind_text(st, 1, slugs[i], -1);
        long long k = db_run_count(st);
        if (k < 0) return -1;
        saved += (int)k;
    }
    return saved;
}

int user_repo_anonymise(db_conn *c, int64_t id)
{
    static const char *const wipe[] = {
        "DELETE FROM addresses WHERE user_id = ?",   "DELETE FROM user_tokens WHERE user_id = ?",
        "DELETE FROM recovery_codes WHERE user_id = ?", "DELETE FROM saved_sizes WHERE user_id = ?",
        "DELETE FROM saved_brands WHERE user_id = ?",
    };
    for (size_t i = 0; i < sizeof wipe / sizeof *wipe; i++) {
        db_stmt *st = db_prepare(c, wipe[i]);
        if (!st) return -1;
        db_bind_int64(st, 0, id);
        if (db_run(st) < 0) return -1;
    }
    db_stmt *st = db_prepare(c, "UPDATE users SET email = CONCAT('deleted-', id, '@invalid'), name = '', phone = NULL, "
                                "phone_verified_at = NULL, email_verified_at = NULL, password_hash = '', "
                                "second_factor = 'none', totp_secret = NULL, totp_pending = NULL, status = 'deleted', "
                                "deleted_at = NOW() WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, id);
    return db_run(st);
}
