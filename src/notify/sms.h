/* sms.h — text messages through a provider: the one way ShoEase sends SMS.
 *
 * Like mail, SMS leave only from a job (`shoease worker`, queue "sms", whose
 * rate limit matches what the gateway allows).
 *
 *   char err[256];
 *   int rc = sms_send("+447700900123", "Your ShoEase code is 123456", "otp:42:1", err, sizeof err);
 *
 * Providers (SMS_PROVIDER):
 *   log   appends one JSON line {time, to, from, body, key} to SMS_LOG_PATH
 *         (development: read your codes there);
 *   http  a Twilio-style gateway: POST SMS_GATEWAY_URL with the form fields
 *         To, From, Body, HTTP basic auth SMS_ACCOUNT_SID:SMS_AUTH_TOKEN and
 *         the idempotency key in the I-Twilio-Idempotency-Token and
 *         Idempotency-Key headers. 2xx = sent; 429/5xx/timeout = retry;
 *         other 4xx = rejected.
 * Numbers must be E.164 (+ and 8–15 digits); anything else is rejected
 * before any provider sees it. */
#ifndef SHOEASE_NOTIFY_SMS_H
#define SHOEASE_NOTIFY_SMS_H

#include <stddef.h>

enum sms_result {
    SMS_SENT = 0,
    SMS_RETRY = -1,      /* temporary: try again later */
    SMS_REJECTED = -2,   /* permanent: bad number, refused by the gateway */
};

typedef struct sms_provider {
    const char *name;
    enum sms_result (*send)(const char *to, const char *body, const char *idempotency_key, char *err, size_t errlen);
} sms_provider;

/* The provider SMS_PROVIDER names. */
const sms_provider *sms_current(void);
/* Validate, then send through sms_current(). */
enum sms_result sms_send(const char *to, const char *body, const char *idempotency_key, char *err, size_t errlen);
/* E.164: '+' then 8 to 15 digits, the first not 0. */
int sms_number_valid(const char *number);

#endif
