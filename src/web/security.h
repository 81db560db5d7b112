/* security.h — the security middleware every request passes through.
 *
 * Order: request id → URI encoding check → Host allow-list → HTTPS
 * redirect (trusted proxies only) → handler → security headers. */
#ifndef SHOEASE_WEB_SECURITY_H
#define SHOEASE_WEB_SECURITY_H

#include "http/http.h"

#include <stdbool.h>

/* Is this peer address (textual IP, or "unix") one of TRUSTED_PROXIES? */
bool security_peer_trusted(const char *peer);

/* Checks that may answer the request before any handler runs. Returns true
 * when `res` now holds the answer (400 for a bad Host, 301 to HTTPS). */
bool security_precheck(http_request *req, http_response *res);

/* This answer is the card page: its CSP also allows Stripe's card form
 * (js.stripe.com), nothing else does. */
void security_allow_card_form(http_request *req, http_response *res);

/* Adds HSTS, nosniff, frame, referrer, CSP and permissions headers. */
void security_add_headers(http_request *req, http_response *res);

#endif
