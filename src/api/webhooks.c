/* webhooks.c — see webhooks.h. Answers: 200 once the event is handled (or
 * is one we do not act on), 400 when it is not a genuine, fresh Stripe
 * event (Stripe shows that to the operator and does not retry), 503 when a
 * store failed (Stripe retries later). */
#include "api/webhooks.h"

#include "core/config.h"
#include "core/log.h"
#include "payments/payments.h"
#include "shop/orders.h"

#include <time.h>

void api_stripe_webhook(http_request *req, http_response *res)
{
    webhook_event ev;
    char err[200];
    if (payment_provider_named("stripe")->parse_webhook(cfg.stripe_webhook_secret, req_header(req, "Stripe-Signature"),
                                                        buf_cstr(&req->body), req->body.len, time(NULL), &ev, err,
                                                        sizeof err) != 0) {
        log_warn("request %s: refused a Stripe webhook: %s", req->id, err);
        res_error(req, res, 400, err);
        return;
    }
    shop_error e;
    shop_status st = ev.state == PAY_STATE_PENDING && ev.ref[0] == '\0' ? SHOP_OK : orders_payment_event(&ev, &e);
    if (st == SHOP_UNAVAILABLE) {
        res_error(req, res, 503, e.message);
        return;
    }
    if (st != SHOP_OK) log_warn("request %s: Stripe event %s (%s) not applied: %s", req->id, ev.id, ev.type, e.message);
    res_json(res, 200, json_pack("{s:b,s:s}", "received", 1, "event", ev.id));
}
