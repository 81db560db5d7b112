/* otp.h — one-time codes sent by SMS (phone verification, the SMS second
 * factor, password-less sign-in), kept in the durable Redis.
 *
 *   char code[7];
 *   int wait;
 *   if (otp_issue("login:42", code, &wait) == OTP_OK) → send code by SMS (sms.send job)
 *   ...
 *   switch (otp_check("login:42", typed)) { case OTP_OK: ...; case OTP_WRONG: ... }
 *
 * Rules: 6 random digits; only a keyed hash is stored (secret_hash_hex,
 * purpose "otp"); a code lives 5 minutes; 5 wrong tries end it (a new code
 * is needed); a new code can be asked for only 60 s after the last one
 * (OTP_COOLDOWN, *retry_after seconds); a right code is used up; codes are
 * compared in constant time and never logged. */
#ifndef SHOEASE_SHOP_OTP_H
#define SHOEASE_SHOP_OTP_H

#define OTP_DIGITS 6
#define OTP_TTL_SECONDS 300
#define OTP_MAX_TRIES 5
#define OTP_RESEND_SECONDS 60

typedef enum otp_result {
    OTP_OK = 0,
    OTP_WRONG = 1,        /* wrong code; tries remain */
    OTP_EXPIRED = 2,      /* no live code (never sent, expired, or already used) */
    OTP_TOO_MANY = 3,     /* the last try failed: the code is gone, ask for a new one */
    OTP_COOLDOWN = 4,     /* a code was sent less than OTP_RESEND_SECONDS ago */
    OTP_STORE_ERROR = -1, /* the durable Redis failed */
} otp_result;

/* subject: what the code is for and whose ("phone:42", "login:42",
 * "sms-login:+447700900123"). On OTP_OK, code holds the new code. */
otp_result otp_issue(const char *subject, char code[OTP_DIGITS + 1], int *retry_after);
otp_result otp_check(const char *subject, const char *typed);

#endif
