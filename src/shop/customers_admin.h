/* customers_admin.h — the admin portal's people: customers (search with
 * their order counts and what they spent, one customer's account, orders
 * and addresses), disabling and enabling an account, ending its sessions;
 * and the accounts of staff (the Users screen: roles are staff.h's).
 *
 *   customer_row rows[50];
 *   if (customers_search(&(customer_filter){.q = "ada", .role = "shopper"}, "joined", true, 0, 50, rows, &n,
 *                        &total, &e) != SHOP_OK) → e.message
 *   int ended;
 *   audit_actor who = admin_actor(req);
 *   if (customers_set_status(&who, id, "disabled", session_end_all, &ended, &e) != SHOP_OK) → e.message
 *
 * Rules it keeps:
 *   - only a shopper's account is disabled, enabled or signed out here:
 *     staff accounts (and so every superuser) are the Users screen's, for
 *     superusers only;
 *   - each change is one unit of work with its audit row ("customer.disable",
 *     "customer.enable", "customer.end_sessions"; status and sessions before
 *     → after). Sessions live in the durable Redis, not MariaDB: they are
 *     ended by the caller's end function (web/session.h session_end_all; the
 *     shop layer knows no sessions) as the LAST step inside that unit of
 *     work, so a failure to end them rolls the change and its row back —
 *     an account is never shown disabled while its sessions go on;
 *   - a disabled account cannot sign in (accounts_sign_in refuses it, and
 *     SMS sign-in finds only active accounts) until it is enabled again. */
#ifndef SHOEASE_SHOP_CUSTOMERS_ADMIN_H
#define SHOEASE_SHOP_CUSTOMERS_ADMIN_H

#include "db/customer_repo.h"
#include "db/order_repo.h"
#include "db/user_repo.h"
#include "shop/account_book.h"
#include "shop/audit.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

#define CUSTOMER_ORDERS_SHOWN 50

/* Ends every session of user_id but except (NULL: all); count or -1. */
typedef int (*session_end_fn)(int64_t user_id, const char *except);

/* A page of accounts (customer_repo_search's sort names); money in the
 * shop's currency (CURRENCY). */
shop_status customers_search(const customer_filter *f, const char *sort, bool desc, int offset, int max,
                             customer_row *out, int *n, int64_t *total, shop_error *e);

typedef struct customer_detail {
    customer_row account;
    address_row addresses[ADDRESS_MAX];
    int naddresses;
    order_summary orders[CUSTOMER_ORDERS_SHOWN];    /* the newest */
    int norders;
} customer_detail;
/* An account (not deleted) with its addresses and newest orders; SHOP_NOT_FOUND. */
shop_status customers_get(int64_t user_id, customer_detail *out, shop_error *e);

/* status: "disabled" (its sessions end too: *ended how many) or "active".
 * Already so: SHOP_OK with nothing written. */
shop_status customers_set_status(const audit_actor *who, int64_t user_id, const char *status, session_end_fn end,
                                 int *ended, shop_error *e);
/* Sign the customer out everywhere (*ended: how many sessions). */
shop_status customers_end_sessions(const audit_actor *who, int64_t user_id, session_end_fn end, int *ended,
                                   shop_error *e);

#endif
