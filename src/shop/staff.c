/* staff.c — see staff.h. */
#include "shop/staff.h"

#include "core/text.h"
#include "db/tx.h"
#include "db/user_repo.h"
#include "shop/accounts.h"
#include "shop/password.h"

#include <stdio.h>
#include <string.h>

#define REFUSED 2

static const char STORE_DOWN[] = "Accounts are unavailable for a moment. Nothing was changed; please try again.";

bool staff_role_valid(const char *role)
{
    return role && (!strcmp(role, "shopper") || !strcmp(role, "staff") || !strcmp(role, "superuser"));
}

static json_t *role_json(const user_row *u) { return json_pack("{s:s,s:s}", "email", u->email, "role", u->role); }

struct create {
    const char *email, *name, *hash, *role;
    const audit_actor *who;
    int64_t id;
    bool created;
    shop_error *e;
};

static int create_tx(db_tx *tx, void *arg)
{
    struct create *a = arg;
    db_conn *c = db_tx_conn(tx);
    user_row u;
    int r = user_repo_by_email(c, a->email, &u);
    if (r < 0) return DB_TX_FAILED;
    char id[24];
    if (r == 1) {
        /* an account already: it gets the role, its password stays theirs */
        if (user_repo_by_id(c, u.id, true, &u) != 1) return DB_TX_FAILED;
        json_t *before = role_json(&u);
        if (user_repo_set_role(c, u.id, a->role) < 0) {
            json_decref(before);
            return DB_TX_FAILED;
        }
        text_copy(u.role, sizeof u.role, a->role);
        json_t *after = role_json(&u);
        snprintf(id, sizeof id, "%lld", (long long)u.id);
        int rc = audit_record(tx, a->who, "user.role", "user", id, before, after);
        json_decref(before);
        json_decref(after);
        if (rc < 0) return DB_TX_FAILED;
        a->id = u.id;
        a->created = false;
        return DB_TX_OK;
    }
    int ins = user_repo_insert(c, a->email, a->hash, a->name, &a->id);
    if (ins < 0) return DB_TX_FAILED;
    if (user_repo_set_verified(c, a->id) < 0 || user_repo_set_role(c, a->id, a->role) < 0) return DB_TX_FAILED;
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    json_t *after = json_pack("{s:s,s:s,s:s}", "email", a->email, "name", a->name, "role", a->role);
    int rc = audit_record(tx, a->who, "user.create", "user", id, NULL, after);
    json_decref(after);
    if (rc < 0) return DB_TX_FAILED;
    a->created = true;
    return DB_TX_OK;
}

shop_status staff_create(const char *email_in, const char *name, const char *password, const char *role,
                         const audit_actor *who, int64_t *user_id, bool *created, shop_error *e)
{
    char email[255], why[200];
    if (accounts_normalise_email(email_in, email, sizeof email) < 0)
        return shop_fail(e, SHOP_INVALID, "email", "Enter an e-mail address like name@example.com.");
    if (!staff_role_valid(role) || !strcmp(role, "shopper"))
        return shop_fail(e, SHOP_INVALID, "role", "The role is staff or superuser.");
    if (!name || strlen(name) > 100 || !text_valid_utf8(name, strlen(name)))
        return shop_fail(e, SHOP_INVALID, "name", "Use at most 100 characters for the name.");
    if (password_policy(password, email, why, sizeof why) != 0) return shop_fail(e, SHOP_INVALID, "password", "%s", why);
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(password, hash) != 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    struct create a = {email, name, hash, role, who, 0, false, e};
    if (db_tx_run(create_tx, &a) != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    *user_id = a.id;
    if (created) *created = a.created;
    return SHOP_OK;
}

struct set_role {
    const audit_actor *who;
    int64_t user_id;
    const char *role;
    shop_error *e;
};

static int set_role_tx(db_tx *tx, void *arg)
{
    struct set_role *a = arg;
    db_conn *c = db_tx_conn(tx);
    user_row u;
    int r = user_repo_by_id(c, a->user_id, true, &u);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0 || !strcmp(u.status, "deleted")) {
        shop_fail(a->e, SHOP_NOT_FOUND, NULL, "No such account.");
        return REFUSED;
    }
    if (!strcmp(u.role, a->role)) return DB_TX_OK;
    if (!strcmp(u.role, "superuser")) {
        /* somebody must always be able to run the shop */
        db_stmt *st = db_prepare(c, "SELECT COUNT(*) FROM users WHERE role = 'superuser' AND status = 'active' FOR UPDATE");
        int64_t n = 0;
        if (!st || db_exec(st) < 0) return DB_TX_FAILED;
        if (db_fetch(st) == 1) n = db_col_int64(st, 0);
        db_reset(st);
        if (n <= 1) {
            shop_fail(a->e, SHOP_CONFLICT, "role", "This is the last superuser: make someone else superuser first.");
            return REFUSED;
        }
    }
    json_t *before = role_json(&u);
    if (user_repo_set_role(c, u.id, a->role) < 0) {
        json_decref(before);
        return DB_TX_FAILED;
    }
    text_copy(u.role, sizeof u.role, a->role);
    json_t *after = role_json(&u);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)u.id);
    int rc = audit_record(tx, a->who, "user.role", "user", id, before, after);
    json_decref(before);
    json_decref(after);
    return rc < 0 ? DB_TX_FAILED : DB_TX_OK;
}

shop_status staff_set_role(const audit_actor *who, int64_t user_id, const char *role, shop_error *e)
{
    if (!staff_role_valid(role)) return shop_fail(e, SHOP_INVALID, "role", "The role is shopper, staff or superuser.");
    struct set_role a = {who, user_id, role, e};
    int rc = db_tx_run(set_role_tx, &a);
    if (rc == REFUSED) return e->status;
    if (rc != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}
