/* staff.h — who runs the shop: creating staff accounts and changing roles.
 *
 *   int64_t id;
 *   audit_actor me = audit_cli_actor();
 *   if (staff_create("owner@shop.example", "Owner", password, "superuser", &me, &id, &e) != SHOP_OK) → e.message
 *
 * Roles: "staff" (catalogue, stock, reviews, orders) and "superuser" (also
 * users, roles, settings); "shopper" takes the portal away. Rules: the
 * password follows the shop's policy (password.h); a created account's
 * address counts as verified (the person running the command vouches for
 * it); an existing account at that address is given the role instead (its
 * password is left alone). Every change is one unit of work with its audit
 * row, and the last superuser cannot be demoted. A role is part of each
 * session: after a change the caller ends the user's sessions
 * (web/session.h session_end_all), so the new role applies at once. */
#ifndef SHOEASE_SHOP_STAFF_H
#define SHOEASE_SHOP_STAFF_H

#include "shop/audit.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

bool staff_role_valid(const char *role);   /* shopper | staff | superuser */

/* *created: a new account (false: an existing one got the role). */
shop_status staff_create(const char *email, const char *name, const char *password, const char *role,
                         const audit_actor *who, int64_t *user_id, bool *created, shop_error *e);
shop_status staff_set_role(const audit_actor *who, int64_t user_id, const char *role, shop_error *e);

#endif
