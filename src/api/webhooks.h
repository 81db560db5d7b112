/* webhooks.h — POST /webhooks/stripe: the card provider's events. The route
 * is CSRF-exempt because it authenticates itself: the Stripe-Signature
 * header (payments.h) is checked before anything in the body is believed;
 * each event id is handled once (orders.h). */
#ifndef SHOEASE_API_WEBHOOKS_H
#define SHOEASE_API_WEBHOOKS_H

#include "http/http.h"

void api_stripe_webhook(http_request *req, http_response *res);

#endif
