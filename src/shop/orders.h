/* orders.h — placing orders and everything that happens to them after.
 *
 *   checkout_request r = {.user_id = uid, .email = …, .address = a, .shipping_method = "standard",
 *                         .payment_method = "cod", .idempotency_key = form_key};
 *   order_placed placed;
 *   switch (orders_place(&r, &placed, &e)) { case SHOP_OK: → /orders/<placed.number>; case SHOP_CONFLICT: … }
 *
 * Rules it keeps:
 *   - placing an order is ONE unit of work: the bag's variants are locked in
 *     id order (SELECT … FOR UPDATE; two checkouts never deadlock on each
 *     other), stock is checked and taken (never below zero: the UPDATE is
 *     conditional and a CHECK constraint backs it), the order, its lines with
 *     price snapshots, its payment record, its state history and its outbox
 *     rows (confirmation mail, invoice, activity) are written together, and
 *     the catalogue pages that show the stock are invalidated after commit;
 *   - the totals are worked out again at that moment (pricing.h) from the
 *     catalogue, never from the form; a total that differs from the one the
 *     shopper reviewed is refused (SHOP_CONFLICT) so nobody pays what they
 *     did not see;
 *   - the checkout form's key makes placing idempotent: a double click, a
 *     refresh, a retry or two tabs give the same order, never a second;
 *   - states and their allowed moves live here only (orders_transition);
 *     every move is recorded (who, when, from, to); cancelling or refunding
 *     an order that was not shipped returns its stock;
 *   - a card payment is marked paid once, under the order's row lock,
 *     whichever of the shopper's return and the provider's webhook comes
 *     first (or both at once), and only for the order's exact amount. */
#ifndef SHOEASE_SHOP_ORDERS_H
#define SHOEASE_SHOP_ORDERS_H

#include "core/secrets.h"
#include "db/order_repo.h"
#include "db/user_repo.h"
#include "jobs/queue.h"
#include "payments/payments.h"
#include "shop/audit.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct checkout_request {
    int64_t user_id;                /* a signed-in shopper, or 0 (a guest) */
    const char *cart_public_id;     /* a guest's bag */
    const char *email;
    address_row address;            /* validated here (account_book.h's rules) */
    const char *shipping_method;    /* standard | express */
    const char *payment_method;     /* cod | card */
    const char *idempotency_key;    /* the checkout form's key (43 base64url characters) */
    int64_t expected_total;         /* what the review showed (-1: not known; the web form always has it) */
} checkout_request;

typedef struct order_placed {
    char number[13];
    char access_token[SECRET_TOKEN_CHARS];  /* a guest's link token ("" for a shopper's order) */
    bool existed;                           /* this key placed it before */
    char status[20];
    char payment_method[8];
} order_placed;

shop_status orders_place(const checkout_request *r, order_placed *out, shop_error *e);

/* Who is looking: an order is shown to its buyer (signed in), to whoever
 * holds its link token (guests), and to staff. */
typedef struct order_viewer {
    int64_t user_id;
    const char *token;
    bool staff;
} order_viewer;

typedef struct order_view {
    order_row order;
    order_line_row lines[ORDER_MAX_LINES];
    int nlines;
    payment_row payment;
    bool has_payment;
    order_event_row events[32];
    int nevents;
    bool can_cancel;                /* the shopper may cancel it now */
} order_view;

/* SHOP_NOT_FOUND also when the viewer may not see it (no hint either way). */
shop_status orders_view(const char *number, const order_viewer *who, order_view *out, shop_error *e);
/* A shopper's orders, newest first. */
shop_status orders_of_user(int64_t user_id, order_row *out, int max, int offset, int *count, shop_error *e);

/* ---------- states ---------- */

/* Move an order (by number) to status `to`, if that move is allowed from
 * where it is: "paid", "shipped", "delivered", "cancelled", "refunded".
 * actor: "shopper", "guest", "system", "webhook", "cli", "staff:<id>". */
shop_status orders_transition(const char *number, const char *to, const char *actor, const char *note, shop_error *e);
bool orders_move_allowed(const char *from, const char *to);

/* The same move made by a person the audit log names (a member of staff in
 * the portal: actor "staff:<id>"; a command line: "cli"). The audit row
 * ("order.ship", "order.deliver", "order.cancel", "order.refund"; status,
 * payment status and refunded amount before → after, and the note) is
 * written in the move's own unit of work: there is no move without its row.
 * note: for the shopper (their order page and the status mail show it), one
 * line of at most ORDER_NOTE_MAX bytes; tracking (shipping only; may be
 * NULL): the carrier's number, shown as "Tracking: …" before the note.
 * Bad text is SHOP_INVALID with field "note" or "tracking". */
#define ORDER_NOTE_MAX 200
#define ORDER_TRACKING_MAX 40
shop_status orders_transition_audited(const char *number, const char *to, const char *actor, const char *note,
                                      const char *tracking, const audit_actor *who, shop_error *e);

/* Send an order's mail again to its buyer, with its audit row
 * ("order.resend_mail"): which "confirmation" (an order that was paid or
 * confirmed) or "status" (the mail of the step it is at: shipped,
 * delivered, cancelled, refunded — with that step's note). A new key, so it
 * is sent even though the first one was; SHOP_CONFLICT (field "mail") when
 * the order has no such mail. */
shop_status orders_resend_mail(const char *number, const char *which, const audit_actor *who, shop_error *e);

/* ---------- card payments ---------- */

/* The PaymentIntent of a card order (made on first use, with an
 * Idempotency-Key, so asking again gives the same one). */
shop_status orders_card_payment(const char *number, const order_viewer *who, payment_result *out, shop_error *e);
/* The shopper is back from the card page: ask the provider; mark paid when
 * it says so. *paid tells whether the order is paid now. */
shop_status orders_card_return(const char *number, const order_viewer *who, bool *paid, shop_error *e);
/* A verified webhook event: handled exactly once by its id. */
shop_status orders_payment_event(const webhook_event *ev, shop_error *e);

/* ---------- jobs (job table: app.c) ---------- */

/* orders.expire: cancel card orders unpaid past CARD_ORDER_MINUTES, stock back. */
job_result orders_expire_job(const job *j, char *err, size_t errlen);

/* orders.popularity (hourly): refresh the listings of products sold
 * meanwhile, so "most popular" follows real sales without every sale
 * throwing away the cached listings. */
job_result orders_popularity_job(const job *j, char *err, size_t errlen);
/* orders.event: an order's step (outbox payload) into the event store. */
job_result orders_event_job(const job *j, char *err, size_t errlen);

/* A guest's link token for an order: made from the number with a key
 * derived from SECRET_KEY, so every mail about the order can carry it; the
 * database keeps only its hash. */
void orders_link_token(const char *number, char out[SECRET_TOKEN_CHARS]);
/* The guest link token's check (constant time). */
bool orders_token_ok(const order_row *o, const char *token);

#endif
