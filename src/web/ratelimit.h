/* ratelimit.h — abuse limits in the durable Redis, shared by every worker
 * and host: a fixed window per (class, subject), e.g. ten sign-in attempts
 * per account per 15 minutes.
 *
 *   int retry_after;
 *   if (ratelimit_hit(RATE_LOGIN, "ip", req->client_ip, &retry_after) == 1) → 429, Retry-After
 *
 * The pipeline applies a route's class (http/policy.h) before its handler,
 * by client address and, where the class says so, by the account named in
 * the form (its e-mail, normalised). */
#ifndef SHOEASE_WEB_RATELIMIT_H
#define SHOEASE_WEB_RATELIMIT_H

#include "http/policy.h"

typedef struct rate_rule {
    const char *name;          /* "login" (the Redis key part and the message) */
    int per_ip, per_ip_window;       /* requests allowed per window (s) per client address; 0 = no limit */
    int per_account, per_account_window; /* the same per account (form field account_field); 0 = none */
    const char *account_field; /* "email" or "phone" */
} rate_rule;

const rate_rule *ratelimit_rule(rate_class c);
/* Count one request of class c for subject (what: "ip" or "acct"): 0
 * allowed, 1 over the limit (*retry_after seconds until the window ends),
 * -1 store error. */
int ratelimit_hit(rate_class c, const char *what, const char *subject, int *retry_after);
/* Forget a subject's count (a successful sign-in clears its failures). */
void ratelimit_reset(rate_class c, const char *what, const char *subject);

#endif
