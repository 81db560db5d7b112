/* cod.c — cash on delivery: the order is confirmed without an online
 * payment; the courier collects the money. Nothing to call. */
#include "payments/payments.h"

#include <stdio.h>
#include <string.h>

static pay_status cod_initiate(const payment_request *req, payment_result *out)
{
    memset(out, 0, sizeof *out);
    out->state = PAY_STATE_PENDING; /* paid at the door */
    snprintf(out->ref, sizeof out->ref, "cod-%s", req->order_number);
    out->amount = req->amount;
    snprintf(out->currency, sizeof out->currency, "%s", req->currency);
    return PAY_OK;
}

static pay_status cod_status(const char *ref, payment_result *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->ref, sizeof out->ref, "%s", ref);
    out->state = PAY_STATE_PENDING;
    return PAY_OK;
}

static pay_status cod_noop(const char *ref, const char *idempotency_key, payment_result *out)
{
    (void)idempotency_key;
    return cod_status(ref, out);
}

static pay_status cod_refund(const char *ref, int64_t amount, const char *idempotency_key, payment_result *out)
{
    (void)idempotency_key;
    memset(out, 0, sizeof *out);
    snprintf(out->ref, sizeof out->ref, "%s", ref);
    out->amount = amount;
    out->state = PAY_STATE_REFUNDED; /* handed back in cash or by transfer: recorded, not called */
    return PAY_OK;
}

/* the courier collects: confirming, capturing and cancelling change nothing
 * at a provider, and there are no webhooks */
const payment_provider cod_provider = {.name = "cod", .initiate = cod_initiate, .confirm = cod_noop, .status = cod_status,
                                       .capture = cod_noop, .refund = cod_refund, .cancel = cod_noop,
                                       .parse_webhook = NULL};

extern const payment_provider stripe_provider;

const payment_provider *payment_provider_named(const char *name)
{
    if (name && !strcmp(name, "cod")) return &cod_provider;
    if (name && !strcmp(name, "stripe")) return &stripe_provider;
    return NULL;
}
