/* session.h — sessions in the durable Redis (never the cache Redis).
 *
 * The cookie holds only an opaque id: 256 random bits, base64url, named
 * __Host-sid (Path=/, HttpOnly, Secure, SameSite=Lax). Redis keys it by a
 * hash of the id (sess:<BLAKE2b hex>), so a copy of Redis's data holds no
 * usable cookie. A session has an idle timeout (SESSION_IDLE_SECONDS, two
 * hours for an anonymous one, STAFF_SESSION_SECONDS for staff) and an
 * absolute lifetime (SESSION_ABSOLUTE_SECONDS); its id rotates at sign-in
 * and at every privilege change; sign-out deletes it server-side. Every
 * session of a user is indexed (usess:<user id>) for "sign out everywhere",
 * "a password change ends every other session" and the list of devices.
 *
 * The pipeline loads the session of personal routes only (web/pipeline.h);
 * handlers read req->session and change it through these functions.
 *
 *   if (session_sign_in(req, res, user.id, user.role, SESSION_FULL) < 0) → 503
 */
#ifndef SHOEASE_WEB_SESSION_H
#define SHOEASE_WEB_SESSION_H

#include "http/http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define SESSION_COOKIE "__Host-sid"
#define SESSION_KEY_HEX 64

typedef enum session_level {
    SESSION_ANON = 0,     /* a visitor (carries a CSRF token, later a cart) */
    SESSION_MFA,          /* password accepted, second factor pending (pending_user_id) */
    SESSION_FULL,         /* signed in */
} session_level;

typedef struct web_session {
    char key[SESSION_KEY_HEX + 1]; /* hex hash of the id: the Redis key and the public handle */
    session_level level;
    int64_t user_id;               /* SESSION_FULL */
    int64_t pending_user_id;       /* SESSION_MFA */
    char role[16];                 /* "shopper", "staff", "superuser" */
    bool verified;                 /* the user's e-mail address is verified */
    char csrf[48];                 /* the form token (base64url) */
    char name[101];                /* how the header greets a signed-in shopper */
    char cart[33];                 /* the bag's public id (a guest's; a shopper's is found by user) */
    int cart_items;                /* pairs in the bag, for the header (MariaDB has the truth) */
    int64_t created, seen, expires_abs;
    bool two_factor;               /* signed in with a second factor (TOTP, SMS or a recovery code) */
    int64_t auth_at;               /* when the password (or a code) was last proven: unix seconds */
    char flash[300];               /* a one-time message for the next page (read and cleared on load) */
    char flash_kind[12];           /* "info", "success", "error" */
} web_session;

/* Load the caller's session from its cookie into req->session. 1 loaded,
 * 0 no (valid) session, -1 the store failed (answer 503). An expired,
 * forged or revoked cookie is 0 (and is cleared on res). */
int session_load(http_request *req, http_response *res);
/* Make a new anonymous session (cookie set on res). 0 or -1. */
int session_create(http_request *req, http_response *res);
/* The caller proved who they are: a new session id (the old one is
 * deleted), bound to user_id at level (SESSION_MFA: pending the second
 * factor; SESSION_FULL: signed in), with a new CSRF token. A full
 * session made from this user's second-factor session is two_factor; both
 * set auth_at. 0 or -1. */
int session_sign_in(http_request *req, http_response *res, int64_t user_id, const char *role, bool verified,
                    session_level level, const char *name);
/* The caller proved their password again (before a dangerous action):
 * auth_at = now. 0 or -1. */
int session_reauthenticated(http_request *req);
/* Load the session without touching the response (no cookie cleared): for
 * hidden routes, whose refusal must look like any 404. */
int session_load_quiet(http_request *req);
/* Remember the bag and its size (after any change to it). 0 or -1. */
int session_set_cart(http_request *req, const char *public_id, int items);
/* The checkout form's idempotency key: made once per bag and kept in the
 * session, so two tabs, a refresh or a double click place ONE order; a new
 * key is made after an order is placed (session_new_checkout_key). 0 or -1. */
int session_checkout_key(http_request *req, char out[44]);
int session_new_checkout_key(http_request *req);
/* A guest's last order and its link token (so a repeated checkout POST
 * can show the order it placed the first time). */
int session_remember_order(http_request *req, const char *number, const char *token);
/* The token for number when it is the remembered order: 1 (out set), 0. */
int session_order_token(http_request *req, const char *number, char *out, size_t outlen);
/* The greeting name changed (profile edit). */
int session_set_name(http_request *req, const char *name);
/* Sign out: delete it server-side, clear the cookie. 0 or -1. */
int session_sign_out(http_request *req, http_response *res);
/* A one-time message shown on the next page. */
int session_flash(http_request *req, const char *kind, const char *message);
/* The page (or the header fragment) showed the message: forget it. */
void session_flash_shown(http_request *req);
/* Remember the user's e-mail as verified in their sessions (after verify). */
int session_mark_verified(int64_t user_id);

/* End every session of user_id except the one with key except (NULL:
 * all). Count ended, or -1. */
int session_end_all(int64_t user_id, const char *except);
/* End one session of user_id (by its key): 1 ended, 0 not theirs, -1. */
int session_end_one(int64_t user_id, const char *key);
/* The user's sessions, newest first: [{key, current, created, seen, ip,
 * device}] (times in unix seconds). NULL on error. */
json_t *session_list(int64_t user_id, const char *current_key);

#endif
