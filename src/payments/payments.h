/* payments.h — payment providers behind one small interface: cash on
 * delivery, and cards through Stripe PaymentIntents (libcurl).
 *
 *   const payment_provider *p = payment_provider_named("stripe");
 *   payment_result r;
 *   if (p->initiate(&(payment_request){.amount = 8999, .currency = "GBP", .order_number = "SE7K3M9QXD2F",
 *                                      .idempotency_key = "pi:SE7K3M9QXD2F"}, &r) == PAY_OK) … r.ref, r.client_secret
 *
 * Rules: amounts are integer minor units end to end (Stripe's "amount" is
 * minor units too); every call to the provider carries an Idempotency-Key,
 * so a retried call never charges twice; a provider that times out or fails
 * is PAY_RETRY (the shopper is told to try again; nothing was recorded as
 * paid); webhooks are verified (HMAC-SHA256 over "<t>.<raw body>", any v1
 * signature may match, constant-time compare, 300 s tolerance) before
 * anything in them is believed. */
#ifndef SHOEASE_PAYMENTS_H
#define SHOEASE_PAYMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum pay_status {
    PAY_OK = 0,
    PAY_RETRY = -1,       /* provider unreachable, timed out, 5xx, rate-limited */
    PAY_DECLINED = -2,    /* refused for good (card declined, invalid request) */
} pay_status;

typedef enum pay_state {
    PAY_STATE_PENDING = 0,   /* waiting for the shopper / the card network */
    PAY_STATE_SUCCEEDED,
    PAY_STATE_FAILED,
    PAY_STATE_CANCELLED,
    PAY_STATE_REFUNDED,
} pay_state;

typedef struct payment_request {
    int64_t amount;            /* minor units */
    const char *currency;      /* ISO 4217 */
    const char *order_number;
    const char *idempotency_key;
    const char *email;         /* receipt (optional) */
} payment_request;

typedef struct payment_result {
    pay_state state;
    char ref[101];             /* the provider's id (PaymentIntent) */
    char client_secret[201];   /* for the card page */
    int64_t amount;            /* what the provider says it is for */
    char currency[4];
    char provider_status[32];  /* the provider's own word ("requires_confirmation" …) */
    char error[256];           /* why, for the log and (cleaned) the shopper */
} payment_result;

typedef struct webhook_event {
    char id[101];              /* the provider's event id (handled exactly once) */
    char type[101];            /* "payment_intent.succeeded" … */
    char ref[101];             /* the PaymentIntent it is about */
    char order_number[40];     /* from its metadata */
    int64_t amount;
    char currency[4];
    pay_state state;           /* what the event says happened */
} webhook_event;

typedef struct payment_provider {
    const char *name;
    /* start a payment of req->amount for an order (card: a PaymentIntent) */
    pay_status (*initiate)(const payment_request *req, payment_result *out);
    /* confirm one the shopper's side left at "requires_confirmation" */
    pay_status (*confirm)(const char *ref, const char *idempotency_key, payment_result *out);
    /* what the provider says now */
    pay_status (*status)(const char *ref, payment_result *out);
    pay_status (*capture)(const char *ref, const char *idempotency_key, payment_result *out);
    pay_status (*refund)(const char *ref, int64_t amount, const char *idempotency_key, payment_result *out);
    pay_status (*cancel)(const char *ref, const char *idempotency_key, payment_result *out);
    /* a webhook request, verified and parsed (below); 0 or -1 with err.
     * NULL for a provider that sends none (cash on delivery). */
    int (*parse_webhook)(const char *secret, const char *signature_header, const char *body, size_t len, time_t now,
                         webhook_event *out, char *err, size_t errlen);
} payment_provider;

const payment_provider *payment_provider_named(const char *name);   /* "cod" | "stripe" */

/* Verify a Stripe-Signature header for body at now against secret, then
 * parse the event. 0, or -1 with the reason in err (unsigned, stale,
 * mismatched, malformed). A pure function of its inputs (fuzzed). */
int stripe_webhook_verify(const char *secret, const char *signature_header, const char *body, size_t len, time_t now,
                          webhook_event *out, char *err, size_t errlen);

#define STRIPE_WEBHOOK_TOLERANCE 300

#endif
