/* orders_admin.h — what the admin portal reads about orders: the list
 * (search by number or e-mail, state, dates; sorted; a page at a time) and
 * the mails sent about one order with their outcome. Moving an order,
 * refunding it and sending its mails again are orders.h's (the one place
 * states live: orders_transition_audited, orders_resend_mail).
 *
 *   order_summary rows[50];
 *   int n;
 *   int64_t total;
 *   order_filter f = {.q = "ada@", .status = "paid", .since = t0, .until = t1};
 *   if (orders_search(&f, "created", true, 0, 50, rows, &n, &total, &e) != SHOP_OK) → e.message
 *
 * Rules: read only; money stays in minor units with each order's currency;
 * a mail row carries its recipient and template, never the mail's body
 * (reset links and tokens live there). */
#ifndef SHOEASE_SHOP_ORDERS_ADMIN_H
#define SHOEASE_SHOP_ORDERS_ADMIN_H

#include "db/order_repo.h"
#include "db/outbox_repo.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

/* The states an order can be in, in the order of its life (for a filter). */
extern const char *const orders_states[];
bool orders_state_valid(const char *status);
/* How the portal says a state ("cod_confirmed" → "Confirmed (cash on delivery)"). */
const char *orders_state_label(const char *status);

/* A page of the list (order_repo_search's sort names); *n rows, *total matching. */
shop_status orders_search(const order_filter *f, const char *sort, bool desc, int offset, int max, order_summary *out,
                          int *n, int64_t *total, shop_error *e);

/* The mails sent about an order (confirmation, status mails, their resends,
 * low-stock alerts it caused), oldest first. */
shop_status orders_mails(const char *number, outbox_subject_row *out, int max, int *n, shop_error *e);

#endif
