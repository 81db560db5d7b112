/* accounts.h — shoppers' accounts: registration, e-mail verification,
 * sign-in with a second factor, password reset, and what a shopper keeps
 * in the account. Domain results as C structs; errors as shop_error
 * (result.h); no HTTP, SQL or URLs here (links in mails are built from
 * PUBLIC_URL by the mail templates' context).
 *
 *   shop_error e;
 *   sign_in s;
 *   if (accounts_sign_in(email, password, req->client_ip, &s, &e) == SHOP_OK)
 *       session_sign_in(req, res, s.user_id, s.role, s.verified, s.needs_second_factor ? SESSION_MFA : SESSION_FULL);
 *
 * Rules it keeps:
 *   - registration, verification and resets never reveal whether an e-mail
 *     address is registered: the same answer, and about the same time;
 *   - every write that spans tables is one unit of work (db_tx_run), and the
 *     mails it causes go through the outbox in that same transaction;
 *   - passwords follow password.h; tokens and codes are stored only as
 *     keyed hashes, compared in constant time and never logged;
 *   - repeated wrong passwords lock the account for that address for a
 *     while, and repeated ones from anywhere lock it for a while and mail
 *     its owner (django-axes-like), never for ever: a password reset ends
 *     every lock. */
#ifndef SHOEASE_SHOP_ACCOUNTS_H
#define SHOEASE_SHOP_ACCOUNTS_H

#include "core/buf.h"
#include "shop/result.h"
#include "shop/twofactor.h"

#include <stdbool.h>
#include <stdint.h>

#define VERIFY_TOKEN_TTL (48 * 3600)
#define RESET_TOKEN_TTL 3600
/* failed sign-ins: from one address → that address is locked out of the
 * account for LOCK_SECONDS; from anywhere → the account is locked for
 * LOCK_SECONDS and its owner mailed */
#define LOCK_FAILS_PER_ADDRESS 5
#define LOCK_FAILS_PER_ACCOUNT 10
#define LOCK_SECONDS 900

typedef struct account {
    int64_t id;
    char email[255];
    char name[101];
    char phone[17];
    bool email_verified, phone_verified;
    char role[16];
    char second_factor[8];       /* none | sms | totp */
    int recovery_codes_left;
    int64_t created_at;
} account;

typedef struct sign_in {
    int64_t user_id;
    char name[101];
    char email[255];
    char role[16];
    bool verified;
    bool needs_second_factor;
    char second_factor[8];       /* sms | totp when needed */
    char phone_hint[8];          /* "•••• 123" style last digits for the SMS step */
} sign_in;

/* ---------- registration and verification ---------- */

/* A new account, or (same answer) a note to the owner of an existing one.
 * SHOP_INVALID for a bad address, name or password (field set). */
shop_status accounts_register(const char *email, const char *password, const char *name, shop_error *e);
/* Mark the address verified (a single-use, 48-hour link). *user_id set on
 * success. SHOP_EXPIRED for an unknown, used or old token. */
shop_status accounts_verify_email(const char *token, int64_t *user_id, shop_error *e);
/* A fresh verification link (the older ones stop working). */
shop_status accounts_resend_verification(int64_t user_id, shop_error *e);

/* ---------- signing in ---------- */

shop_status accounts_sign_in(const char *email, const char *password, const char *client_ip, sign_in *out,
                             shop_error *e);
/* The second step: method "totp", "sms" or "recovery". SHOP_DENIED for a
 * wrong code (message says so), SHOP_LOCKED after too many. */
shop_status accounts_second_factor(int64_t user_id, const char *method, const char *code, shop_error *e);
/* Send the SMS code of the second step (respecting the resend cool-down). */
shop_status accounts_send_login_code(int64_t user_id, shop_error *e);
/* Password-less sign-in by SMS: start (same answer whether or not the
 * number belongs to an account), then finish with the code. */
shop_status accounts_sms_login_start(const char *phone, shop_error *e);
shop_status accounts_sms_login_finish(const char *phone, const char *code, sign_in *out, shop_error *e);

/* ---------- password reset ---------- */

/* Always SHOP_OK (when the input is an address): the work (a link by mail
 * if the account exists) happens in a job, so the answer is the same and
 * takes the same time either way. */
shop_status accounts_reset_request(const char *email, shop_error *e);
/* Is this reset link live? (To show its form.) */
shop_status accounts_reset_check(const char *token, shop_error *e);
/* Set the new password from a live link; ends every lock. *user_id set. */
shop_status accounts_reset_finish(const char *token, const char *password, int64_t *user_id, shop_error *e);

/* ---------- the account ---------- */

shop_status accounts_get(int64_t user_id, account *out, shop_error *e);
shop_status accounts_set_name(int64_t user_id, const char *name, shop_error *e);
shop_status accounts_change_password(int64_t user_id, const char *current, const char *fresh, shop_error *e);
/* The password again before something that matters (the admin portal's
 * dangerous actions): SHOP_OK, or SHOP_DENIED on field "password". */
shop_status accounts_confirm_password(int64_t user_id, const char *password, shop_error *e);

/* Phone: send a code to a new number, then confirm it. */
shop_status accounts_phone_start(int64_t user_id, const char *phone, shop_error *e);
shop_status accounts_phone_confirm(int64_t user_id, const char *code, shop_error *e);

/* TOTP enrolment: a new secret (kept pending, sealed) shown as base32 and a
 * QR code (SVG appended to qr); then confirm with a first code, which
 * turns TOTP on and makes ten recovery codes (shown once). */
shop_status accounts_totp_begin(int64_t user_id, char *secret_b32, size_t b32len, buf *qr, shop_error *e);
shop_status accounts_totp_confirm(int64_t user_id, const char *code, char codes[RECOVERY_CODES][RECOVERY_CODE_CHARS],
                                  shop_error *e);
/* SMS as the second factor (needs a verified phone), or none; both ask
 * for the password again. */
shop_status accounts_set_second_factor(int64_t user_id, const char *kind, const char *password, shop_error *e);
shop_status accounts_recovery_regenerate(int64_t user_id, const char *password,
                                         char codes[RECOVERY_CODES][RECOVERY_CODE_CHARS], shop_error *e);

/* Delete my account (asks for the password): personal data erased, orders
 * kept with the buyer anonymised; the events store forgets the shopper (a
 * job). The caller ends the sessions. */
shop_status accounts_delete(int64_t user_id, const char *password, shop_error *e);

/* ---------- jobs (job table: app.c) ---------- */
#include "jobs/queue.h"
/* accounts.reset: payload {email}: if an active account has it, a reset
 * link by mail (a unit of work with the outbox). */
job_result accounts_reset_job(const job *j, char *err, size_t errlen);

/* Normalise an e-mail address for storage and lookup (trimmed, lower-case).
 * 0, or -1 when it is not an address. */
int accounts_normalise_email(const char *in, char *out, size_t outlen);

#endif
