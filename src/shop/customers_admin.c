/* customers_admin.c — see customers_admin.h. */
#include "shop/customers_admin.h"

#include "core/config.h"
#include "core/log.h"
#include "db/tx.h"

#include <stdio.h>
#include <string.h>

#define REFUSED 2

static const char STORE_DOWN[] = "Accounts are unavailable for a moment. Nothing was changed; please try again.";

static const char *shop_currency(void) { return cfg.currency && cfg.currency[0] ? cfg.currency : "GBP"; }

shop_status customers_search(const customer_filter *f, const char *sort, bool desc, int offset, int max,
                             customer_row *out, int *n, int64_t *total, shop_error *e)
{
    db_conn *c = db_conn_get();
    int r = c ? customer_repo_search(c, f, shop_currency(), sort, desc, offset, max, out, total) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    *n = r;
    return SHOP_OK;
}

shop_status customers_get(int64_t user_id, customer_detail *out, shop_error *e)
{
    memset(out, 0, sizeof *out);
    db_conn *c = db_conn_get();
    int r = c ? customer_repo_get(c, user_id, shop_currency(), &out->account) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 0) return shop_fail(e, SHOP_NOT_FOUND, NULL, "There is no customer %lld.", (long long)user_id);
    order_filter f = {.user_id = user_id};
    out->norders = order_repo_search(c, &f, "created", true, 0, CUSTOMER_ORDERS_SHOWN, out->orders, NULL);
    if (out->norders < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return address_list(user_id, out->addresses, ADDRESS_MAX, &out->naddresses, e);
}

/* ---------- changes: status and sessions ---------- */

struct change {
    const audit_actor *who;
    int64_t user_id;
    const char *status;        /* the new status, or NULL: only end the sessions */
    session_end_fn end;
    int ended;
    shop_error *e;
};

static int change_tx(db_tx *tx, void *arg)
{
    struct change *a = arg;
    db_conn *c = db_tx_conn(tx);
    user_row u;
    int r = user_repo_by_id(c, a->user_id, true, &u);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0 || !strcmp(u.status, "deleted")) {
        shop_fail(a->e, SHOP_NOT_FOUND, NULL, "There is no customer %lld.", (long long)a->user_id);
        return REFUSED;
    }
    if (strcmp(u.role, "shopper")) {
        /* staff can change a shopper's account, never a colleague's (nor a superuser's) */
        shop_fail(a->e, SHOP_CONFLICT, NULL, "%s is a staff account: a superuser manages it on the Users screen.",
                  u.email);
        return REFUSED;
    }
    if (a->status && !strcmp(u.status, a->status)) return DB_TX_OK; /* already so: nothing to record */
    if (a->status && user_repo_set_status(c, u.id, a->status) < 0) return DB_TX_FAILED;
    bool end_sessions = !a->status || !strcmp(a->status, "disabled");
    const char *action = !a->status                     ? "customer.end_sessions"
                         : !strcmp(a->status, "disabled") ? "customer.disable"
                                                          : "customer.enable";
    json_t *before = json_pack("{s:s,s:s}", "email", u.email, "status", u.status);
    json_t *after = json_pack("{s:s,s:s}", "email", u.email, "status", a->status ? a->status : u.status);
    if (end_sessions) json_object_set_new(after, "sessions", json_string("ended"));
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)u.id);
    int rc = audit_record(tx, a->who, action, "user", id, before, after);
    json_decref(before);
    json_decref(after);
    if (rc < 0) return DB_TX_FAILED;
    if (end_sessions) {
        /* the last step: if the sessions cannot be ended, nothing above
         * commits (an account is never disabled while it stays signed in) */
        a->ended = a->end(u.id, NULL);
        if (a->ended < 0) {
            log_warn("customers: the sessions of user %lld could not be ended", (long long)u.id);
            shop_fail(a->e, SHOP_UNAVAILABLE, NULL,
                      "The account's sessions could not be ended just now; nothing was changed. Please try again.");
            return REFUSED;
        }
    }
    return DB_TX_OK;
}

static shop_status change(const audit_actor *who, int64_t user_id, const char *status, session_end_fn end, int *ended,
                          shop_error *e)
{
    struct change a = {who, user_id, status, end, 0, e};
    int rc = db_tx_run(change_tx, &a);
    if (ended) *ended = a.ended;
    if (rc == DB_TX_OK) return SHOP_OK;
    if (rc == REFUSED) return e->status;
    return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
}

shop_status customers_set_status(const audit_actor *who, int64_t user_id, const char *status, session_end_fn end,
                                 int *ended, shop_error *e)
{
    if (!status || (strcmp(status, "disabled") && strcmp(status, "active")))
        return shop_fail(e, SHOP_INVALID, "status", "An account is active or disabled.");
    return change(who, user_id, status, end, ended, e);
}

shop_status customers_end_sessions(const audit_actor *who, int64_t user_id, session_end_fn end, int *ended,
                                   shop_error *e)
{
    return change(who, user_id, NULL, end, ended, e);
}
