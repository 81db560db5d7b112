/* pipeline.c — see pipeline.h. The stages run in this order, each one able
 * to answer instead of the handler:
 *
 *   parameters → loopback → session → CSRF → access → rate limit → handler
 *
 * Parameters first: a malformed request is refused before it costs a
 * Redis round trip. CSRF before access, so a forged request learns nothing
 * about the session. Rate limits last among the refusals, so a refused
 * forgery does not use up a shopper's attempts. */
#include "web/pipeline.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "notify/mail.h"
#include "shop/accounts.h"
#include "web/ratelimit.h"
#include "web/session.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool is_api(http_request *req) { return req->path && !strncmp(req->path, "/api/", 5); }

/* ---------- parameters ---------- */

static const char *param_value(http_request *req, const param_spec *p)
{
    const char *v = NULL;
    bool body = policy_method_changes_state(req->method);
    if (p->where == PARAM_PATH || p->where == PARAM_ANY) v = req_param(req, p->name);
    if (!v && body && (p->where == PARAM_FORM || p->where == PARAM_ANY)) v = req_form(req, p->name);
    if (!v && (p->where == PARAM_QUERY || p->where == PARAM_ANY)) v = req_query(req, p->name);
    return v;
}

/* NULL when v fits the spec, else why not. */
const char *pipeline_param_problem(const param_spec *p, const char *v)
{
    size_t n = strlen(v);
    int max = p->max_len > 0 ? p->max_len : 200;
    switch (p->kind) {
    case PARAM_TEXT:
        if ((int)n > max) return "is too long";
        return text_valid_utf8(v, n) ? NULL : "is not valid text";
    case PARAM_INT: {
        long long x;
        long long lo = p->min, hi = p->max > p->min ? p->max : (1LL << 53);
        return text_parse_int64(v, lo, hi, &x) ? NULL : "is not a whole number in range";
    }
    case PARAM_SLUG:
        if (n == 0 || n > 120) return "is not a valid name";
        for (size_t i = 0; i < n; i++)
            if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-')) return "is not a valid name";
        return NULL;
    case PARAM_EMAIL:
        return mail_address_valid(v) ? NULL : "is not an e-mail address";
    case PARAM_TOKEN:
        if (n < 16 || n > 128) return "is not a valid link token";
        for (size_t i = 0; i < n; i++)
            if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
                  v[i] == '-' || v[i] == '_'))
                return "is not a valid link token";
        return NULL;
    case PARAM_DIGITS:
        if (n == 0 || (int)n > max) return "is not a valid code";
        for (size_t i = 0; i < n; i++)
            if (v[i] < '0' || v[i] > '9') return "must be digits only";
        return NULL;
    }
    return "is not valid";
}

static bool check_params(http_request *req, http_response *res, const route_policy *pol)
{
    for (const param_spec *p = pol->params; p && p->name; p++) {
        const char *v = param_value(req, p);
        const char *why = NULL;
        if (!v || !*v) {
            if (p->required) why = "is missing";
        } else {
            why = pipeline_param_problem(p, v);
        }
        if (why) {
            res_error(req, res, 400, arena_printf(req->pool, "The parameter \"%s\" %s.", p->name, why));
            return true;
        }
    }
    return false;
}

/* ---------- CSRF ---------- */

/* Does this Origin / Referer value name our own site? */
static bool same_origin(http_request *req, const char *url)
{
    const char *want = req->https ? "https://" : "http://";
    size_t wl = strlen(want);
    if (strncasecmp(url, want, wl)) return false;
    const char *host = url + wl;
    size_t hl = strcspn(host, ":/?#");
    return req->host && strlen(req->host) == hl && !strncasecmp(host, req->host, hl);
}

static bool origin_ok(http_request *req)
{
    const char *origin = req_header(req, "Origin");
    if (origin && strcmp(origin, "null")) return same_origin(req, origin);
    const char *referer = req_header(req, "Referer");
    if (referer) return same_origin(req, referer);
    /* Neither: browsers send Origin with every POST, so this is a script;
     * over HTTPS, refuse (as Django does); the token still applies. */
    return !req->https;
}

static bool csrf_ok(http_request *req)
{
    const web_session *s = req->session;
    if (!s || !s->csrf[0]) return false;
    const char *given = req_header(req, "X-CSRF-Token");
    if (!given) given = req_form(req, "csrf_token");
    if (!given) return false;
    size_t n = strlen(s->csrf);
    if (strlen(given) != n) return false;
    return sodium_memcmp(given, s->csrf, n) == 0 && origin_ok(req);
}

/* ---------- access ---------- */

static bool role_at_least(const web_session *s, route_access a)
{
    if (a == ACCESS_STAFF) return !strcmp(s->role, "staff") || !strcmp(s->role, "superuser");
    if (a == ACCESS_SUPERUSER) return !strcmp(s->role, "superuser");
    return true;
}

static void sign_in_first(http_request *req, http_response *res)
{
    if (is_api(req)) {
        res_error(req, res, 401, "Sign in first.");
        return;
    }
    /* back to where they were going (a path of ours, never a full URL) */
    const char *next = req->method && !strcmp(req->method, "GET") ? req->raw_uri : "/account";
    buf q = BUF_INIT;
    buf_puts(&q, "/account/login?next=");
    buf_append_percent(&q, next, "/");
    res_redirect(res, 303, arena_strdup(req->pool, buf_cstr(&q)));
    buf_free(&q);
}

static bool check_access(http_request *req, http_response *res, const route_policy *pol)
{
    const web_session *s = req->session;
    if (pol->mfa_step) {
        if (!s || s->level != SESSION_MFA) {
            res_redirect(res, 303, "/account/login");
            return true;
        }
        return false;
    }
    if (pol->access == ACCESS_ANYONE || pol->access == ACCESS_LOOPBACK) return false;
    if (!s || s->level != SESSION_FULL) {
        sign_in_first(req, res);
        return true;
    }
    if (!role_at_least(s, pol->access)) {
        res_error(req, res, 403, "Your account may not do that.");
        return true;
    }
    if (pol->access == ACCESS_VERIFIED && !s->verified) {
        if (is_api(req)) {
            res_error(req, res, 403, "Verify your e-mail address first.");
        } else {
            res_redirect(res, 303, "/account/verify/needed");
        }
        return true;
    }
    return false;
}

/* ---------- rate limits ---------- */

static bool too_many(http_request *req, http_response *res, int retry_after)
{
    char *ra = arena_printf(req->pool, "%d", retry_after > 0 ? retry_after : 60);
    res_error(req, res, 429,
              arena_printf(req->pool, "Too many attempts. Please wait %d minute%s and try again.",
                           (retry_after + 59) / 60, (retry_after + 59) / 60 == 1 ? "" : "s"));
    res_header(res, "Retry-After", ra);
    return true;
}

static bool check_rate(http_request *req, http_response *res, const route_policy *pol)
{
    const rate_rule *rule = ratelimit_rule(pol->rate);
    if (!rule) return false;
    int retry = 0;
    int rc = ratelimit_hit(pol->rate, "ip", req->client_ip ? req->client_ip : "?", &retry);
    if (rc == 1) return too_many(req, res, retry);
    if (rc == 0 && rule->account_field) {
        const char *acct = req_form(req, rule->account_field);
        if (!acct) acct = req_query(req, rule->account_field);
        /* the signed-in or half-signed-in account when the form names none */
        char idbuf[32];
        if ((!acct || !*acct) && req->session) {
            int64_t uid = req->session->user_id ? req->session->user_id : req->session->pending_user_id;
            if (uid) {
                snprintf(idbuf, sizeof idbuf, "user:%lld", (long long)uid);
                acct = idbuf;
            }
        }
        if (acct && *acct) {
            char *norm = arena_strdup(req->pool, acct);
            for (char *p = norm; *p; p++)
                if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
            rc = ratelimit_hit(pol->rate, "acct", norm, &retry);
            if (rc == 1) return too_many(req, res, retry);
        }
    }
    if (rc < 0) {
        /* the durable Redis is down: refuse rather than run unlimited */
        res_error(req, res, 503, "This is unavailable for a moment. Please try again shortly.");
        return true;
    }
    return false;
}

/* ---------- hidden routes (the admin portal) ---------- */

static pipeline_reauth_fn reauth_page;

void pipeline_set_reauth_page(pipeline_reauth_fn fn) { reauth_page = fn; }

/* The answer a path that does not exist gets (server.c: ROUTE_NOT_FOUND):
 * the same status, page and headers — the answer carries no session, so no
 * private/Vary headers either. */
static bool not_found(http_request *req, http_response *res)
{
    req->session = NULL;
    req->policy = NULL;
    req->log_user_id = 0;
    res_error(req, res, 404, "We could not find that page.");
    return true;
}

/* Would hidden_gate let this caller through (session loaded quietly)? */
static bool hidden_gate_passes(http_request *req, const route_policy *pol)
{
    const web_session *s = req->session;
    return s && s->level == SESSION_FULL && role_at_least(s, ACCESS_STAFF) && role_at_least(s, pol->access) &&
           (!cfg.admin_require_2fa || s->two_factor);
}

bool pipeline_takes_upload(http_request *req, const route_policy *pol)
{
    if (!pol || !pol->upload) return false;
    if (!pol->hidden) return true;
    bool ok = session_load_quiet(req) == 1 && hidden_gate_passes(req, pol);
    req->session = NULL; /* loaded again, with the answer, by pipeline_before */
    return ok;
}

/* Staff of the route's role, signed in (with a second factor when the shop
 * requires it), or the ordinary 404. false: go on. */
static bool hidden_gate(http_request *req, http_response *res, const route_policy *pol)
{
    int rc = session_load_quiet(req);
    const web_session *s = req->session;
    if (rc < 0) log_warn("request %s: sessions unavailable; a hidden route answered 404", req->id);
    if (rc != 1 || !s || s->level != SESSION_FULL || !role_at_least(s, ACCESS_STAFF)) return not_found(req, res);
    if (!role_at_least(s, pol->access)) {
        /* staff know the portal exists: tell them why */
        res_error(req, res, 403, "Only a superuser may do that.");
        return true;
    }
    if (cfg.admin_require_2fa && !s->two_factor) {
        res_error(req, res, 403,
                  "The admin portal needs two-step sign-in. Turn on an authenticator app (or text messages) on your "
                  "account's security page, then sign in again.");
        return true;
    }
    return false;
}

/* A dangerous action: the password within ADMIN_REAUTH_SECONDS,
 * or given with this very request (confirm_password), or the page that
 * asks for it (and sends the same form again). false: go on. */
static bool reauth_gate(http_request *req, http_response *res, const route_policy *pol)
{
    web_session *s = req->session;
    int64_t now = (int64_t)time(NULL);
    (void)pol;
    int window = cfg.admin_reauth_seconds;
    if (s->auth_at > 0 && now - s->auth_at <= window) return false;
    const char *pw = req_form(req, "confirm_password");
    const char *error = NULL;
    if (pw && *pw) {
        shop_error e;
        if (accounts_confirm_password(s->user_id, pw, &e) == SHOP_OK) {
            if (session_reauthenticated(req) < 0) {
                res_error(req, res, 503, "Accounts are unavailable for a moment. Please try again shortly.");
                return true;
            }
            return false;
        }
        error = e.status == SHOP_DENIED ? "That is not your password." : e.message;
    }
    if (!reauth_page) {
        res_error(req, res, 403, "Confirm your password first.");
        return true;
    }
    reauth_page(req, res, error);
    return true;
}

/* ---------- the whole ---------- */

static bool loopback_direct(http_request *req)
{
    if (!req->peer_ip || (strcmp(req->peer_ip, "127.0.0.1") && strcmp(req->peer_ip, "::1"))) return false;
    return !req_header(req, "X-Forwarded-For") && !req_header(req, "Forwarded") && !req_header(req, "X-Real-IP");
}

bool pipeline_before(http_request *req, http_response *res)
{
    const route_policy *pol = req->policy ? req->policy : &POLICY_PUBLIC;
    if (pol->access == ACCESS_LOOPBACK && !loopback_direct(req)) {
        res_error(req, res, 404, "We could not find that page.");
        return true;
    }
    if (pol->hidden) {
        /* who may see it at all comes first: anyone else learns nothing,
         * not even which parameters it takes */
        if (hidden_gate(req, res, pol)) return true;
        if (req->body_too_large) {
            res_too_large(req, res);
            return true;
        }
        if (check_params(req, res, pol)) return true;
        bool writes = policy_method_changes_state(req->method) && !pol->csrf_exempt;
        if (writes && !csrf_ok(req)) {
            log_info("request %s: CSRF check failed for %s %s", req->id, req->method, req->path);
            res_error(req, res, 403,
                      "This form has expired or was sent from somewhere else. Please reload the page and try again.");
            return true;
        }
        if (pol->reauth && reauth_gate(req, res, pol)) return true;
        return check_rate(req, res, pol);
    }
    if (req->body_too_large) {
        res_too_large(req, res);
        return true;
    }
    if (check_params(req, res, pol)) return true;
    bool changes = policy_method_changes_state(req->method) && !pol->csrf_exempt;
    bool wants_session = pol->cache == CACHE_PERSONAL || changes ||
                         (pol->access != ACCESS_ANYONE && pol->access != ACCESS_LOOPBACK) || pol->mfa_step;
    if (wants_session) {
        int rc = session_load(req, res);
        if (rc < 0) {
            res_error(req, res, 503, "Accounts are unavailable for a moment. Please try again shortly.");
            return true;
        }
        if (rc == 0 && pol->form && !changes && session_create(req, res) < 0) {
            res_error(req, res, 503, "Accounts are unavailable for a moment. Please try again shortly.");
            return true;
        }
    }
    if (changes && !csrf_ok(req)) {
        log_info("request %s: CSRF check failed for %s %s", req->id, req->method, req->path);
        res_error(req, res, 403,
                  "This form has expired or was sent from somewhere else. Please reload the page and try again.");
        return true;
    }
    if (check_access(req, res, pol)) return true;
    if (check_rate(req, res, pol)) return true;
    return false;
}

void pipeline_after(http_request *req, http_response *res)
{
    const route_policy *pol = req->policy ? req->policy : &POLICY_PUBLIC;
    if (pol->cache == CACHE_PERSONAL || req->session) {
        res_header(res, "Cache-Control", "private, no-store");
        res_header(res, "Vary", "Cookie");
    }
}
