/* policy.h — what a route needs, declared beside it in the route table
 * (app.c), enforced before its handler by the pipeline (web/pipeline.h),
 * the way Kore checks a route's auth and validators before its handler.
 * A handler never checks a session, a role, a CSRF token or a rate limit
 * itself.
 *
 *   static const route_policy SIGN_IN = {.cache = CACHE_PERSONAL, .form = true, .rate = RATE_LOGIN,
 *                                        .params = (const param_spec[]){{"email", PARAM_EMAIL, .required = true},
 *                                                                        {NULL}}};
 *   {"POST", "/account/login", account_login_post, &SIGN_IN},
 *
 * Rules the pipeline guarantees:
 *   - a POST/PUT/PATCH/DELETE route is CSRF-checked (session-bound token,
 *     constant-time compare, Origin/Referer) unless it is csrf_exempt
 *     (a webhook that authenticates itself); a test walks the table;
 *   - a route whose access is not ACCESS_ANYONE refuses an anonymous caller
 *     (a sign-in redirect for pages, 401 for the API) and a caller without
 *     the role (403); ACCESS_LOOPBACK answers only on the app's own port;
 *   - CACHE_PERSONAL answers carry Cache-Control: private, no-store and may
 *     read the session; CACHE_SHARED answers never see one (the page cache
 *     must hold nothing personal);
 *   - parameters are checked against their specs first: a missing or
 *     malformed one is a 400 with a message naming it;
 *   - a hidden route (the admin portal under ADMIN_PATH) refuses anyone
 *     without the role with the site's ordinary 404 — the same status,
 *     headers and page as a path that does not exist, no cookie touched, no
 *     405 for another method — so the path cannot be found by probing; with
 *     ADMIN_REQUIRE_2FA its callers must have signed in with a second factor;
 *   - reauth: the caller proved their password within
 *     ADMIN_REAUTH_SECONDS, or is asked for it again before the request
 *     goes through (refunds, role changes, deleting);
 *   - upload: the route takes multipart/form-data bodies up to
 *     UPLOAD_MAX_BYTES (every other route: MAX_BODY_BYTES, and a multipart
 *     body is not parsed at all); its fields are req_form values, its files
 *     req_upload's. A body over the limit is a 413 — after the hidden
 *     route's gate, so a stranger still gets the ordinary 404. */
#ifndef SHOEASE_HTTP_POLICY_H
#define SHOEASE_HTTP_POLICY_H

#include <stdbool.h>

typedef enum route_access {
    ACCESS_ANYONE = 0,
    ACCESS_SHOPPER,        /* signed in (both factors when 2FA is on) */
    ACCESS_VERIFIED,       /* signed in with a verified e-mail address */
    ACCESS_STAFF,
    ACCESS_SUPERUSER,
    ACCESS_LOOPBACK,       /* the app's own TCP listener, no proxy in between */
} route_access;

typedef enum route_cache {
    CACHE_SHARED = 0,      /* the same for everybody; may be page-cached; never reads a session */
    CACHE_PERSONAL,        /* private, no-store; the session is loaded */
} route_cache;

typedef enum rate_class {
    RATE_NONE = 0,
    RATE_LOGIN,            /* per IP and per account (the form's email) */
    RATE_REGISTER,         /* per IP */
    RATE_RESET,            /* per IP and per e-mail address */
    RATE_OTP_SEND,         /* per IP and per account */
    RATE_OTP_CHECK,        /* per IP and per account */
    RATE_WRITE,            /* any other state change, per IP (generous) */
    RATE_CLASSES
} rate_class;

typedef enum param_kind {
    PARAM_TEXT = 0,        /* valid UTF-8, at most max_len bytes (default 200) */
    PARAM_INT,             /* a whole number in [min, max] */
    PARAM_SLUG,            /* a-z 0-9 -, 1-120 */
    PARAM_EMAIL,           /* local@domain, at most 254 */
    PARAM_TOKEN,           /* base64url / hex, 16-128 */
    PARAM_DIGITS,          /* 0-9, at most max_len (codes) */
} param_kind;

typedef enum param_where { PARAM_ANY = 0, PARAM_QUERY, PARAM_FORM, PARAM_PATH } param_where;

typedef struct param_spec {
    const char *name;      /* NULL ends the list */
    param_kind kind;
    bool required;
    int max_len;
    long long min, max;
    param_where where;     /* PARAM_ANY: the path, then the form (POST), then the query */
} param_spec;

typedef struct route_policy {
    route_access access;
    route_cache cache;
    rate_class rate;
    bool form;             /* renders a form: make an (anonymous) session so it has a CSRF token */
    bool csrf_exempt;      /* a state change that authenticates itself (signed webhook); say why beside it */
    bool mfa_step;         /* reachable with a password but the second factor still pending */
    bool hidden;           /* refusals are the ordinary 404 (the admin portal) */
    bool reauth;           /* a dangerous action: the password within ADMIN_REAUTH_SECONDS, or again */
    bool upload;           /* multipart/form-data with files, up to UPLOAD_MAX_BYTES (req_upload) */
    const param_spec *params;
} route_policy;

/* The policy of a route added without one: anyone, shared, no limits. */
extern const route_policy POLICY_PUBLIC;

/* Does this method change state (so CSRF applies)? */
bool policy_method_changes_state(const char *method);

#endif
