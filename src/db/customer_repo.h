/* customer_repo.h — the admin portal's lists of people: customers with
 * their order counts and what they spent, and staff accounts (users,
 * migrations/0005; orders, 0006). Read only: changes to an account are
 * user_repo's statements. Plain rows; the caller's connection; never
 * begins or commits.
 *
 *   customer_row rows[50];
 *   int64_t total;
 *   int n = customer_repo_search(c, &(customer_filter){.q = "ada", .role = "shopper"}, "GBP", "joined", true,
 *                                0, 50, rows, &total);
 */
#ifndef SHOEASE_DB_CUSTOMER_REPO_H
#define SHOEASE_DB_CUSTOMER_REPO_H

#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct customer_filter {
    const char *q;          /* the start of the e-mail address, or part of the name */
    const char *status;     /* "active" | "disabled", or NULL: either (deleted accounts are never listed) */
    const char *role;       /* "shopper"; "staff" (staff and superusers); NULL: any */
} customer_filter;

typedef struct customer_row {
    int64_t id;
    char email[255], name[101], role[16], status[12], second_factor[8];
    bool verified;
    int64_t created_at;     /* unix seconds */
    int64_t orders;         /* every order they placed */
    int64_t spent;          /* minor units of the shop's currency: orders paid or confirmed, not cancelled or refunded */
} customer_row;

/* sort: "joined", "email", "name", "orders" or "spent" (anything else:
 * "joined"); ties newest first. *total (may be NULL): how many match (0 for
 * a page past the last). Count read, or -1. */
int customer_repo_search(db_conn *c, const customer_filter *f, const char *currency, const char *sort, bool desc,
                         int offset, int max, customer_row *out, int64_t *total);
/* One account (not deleted) with its figures: 1, 0 none, -1. */
int customer_repo_get(db_conn *c, int64_t id, const char *currency, customer_row *out);

#endif
