/* account_auth.c — becoming and proving who you are: register, verify the
 * e-mail address, sign in (password, then a second factor when the account
 * has one), sign in by SMS, sign out, reset a forgotten password.
 *
 * Policies (who may call, CSRF, rate limits) are declared in app.c's route
 * table and enforced before these handlers run; a handler only reads the
 * form, asks shop/accounts.h and answers. Every POST ends in a 303 (a
 * refresh never sends a form twice) or re-renders its form with the
 * message beside the field and the matching status. */
#include "views/views.h"

#include "shop/accounts.h"
#include "shop/cart.h"
#include "views/forms.h"
#include "web/session.h"

#include <string.h>

static const char *form_or(http_request *req, const char *name)
{
    const char *v = req_form(req, name);
    return v ? v : "";
}

/* Signed in completely: a fresh session, this visit's bag merged into the
 * shopper's, back to where they were going. */
static void signed_in(http_request *req, http_response *res, const sign_in *s, const char *next)
{
    char guest_cart[33] = "";
    if (req->session) memcpy(guest_cart, req->session->cart, sizeof guest_cart);
    if (session_sign_in(req, res, s->user_id, s->role, s->verified, SESSION_FULL, s->name[0] ? s->name : s->email) < 0) {
        res_error(req, res, 503, "Signing in is unavailable for a moment. Please try again shortly.");
        return;
    }
    cart_merge m;
    shop_error e;
    const char *message = s->name[0] ? "Welcome back." : "You are signed in.";
    if (cart_merge_at_sign_in(guest_cart, s->user_id, &m, &e) == SHOP_OK) {
        cart_owner o = {.user_id = s->user_id};
        int items = cart_items(&o);
        session_set_cart(req, "", items > 0 ? items : 0);
        if (m.from_visit && m.restored)
            message = arena_printf(req->pool, "Welcome back. Your bag has what you chose just now, and %d item%s from "
                                              "your last visit (marked in the bag).",
                                   m.restored, m.restored == 1 ? "" : "s");
        else if (m.restored)
            message = arena_printf(req->pool, "Welcome back. %d item%s from your last visit %s in your bag.", m.restored,
                                   m.restored == 1 ? "" : "s", m.restored == 1 ? "is" : "are");
    }
    view_done(req, res, view_safe_next(next, "/account"), message);
}

/* ---------- register ---------- */

static void register_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    json_t *ctx = json_pack("{s:s}", "page_title", "Create an account");
    json_t *fields = json_array();
    json_array_append_new(fields, view_field("name", "Your name", "text", req_form(req, "name"), "name"));
    json_object_set_new(json_array_get(fields, 0), "required", json_false());
    json_array_append_new(fields, view_field("email", "E-mail address", "email", req_form(req, "email"), "email"));
    json_t *pw = view_field("password", "Password", "password", NULL, "new-password");
    json_object_set_new(pw, "hint", json_string("At least 10 characters. A few words together make a strong one."));
    json_array_append_new(fields, pw);
    if (e) view_form_error(ctx, fields, e);
    json_object_set_new(ctx, "fields", fields);
    view_page(req, res, status, "account/register", ctx);
}

void account_register_form(http_request *req, http_response *res) { register_page(req, res, 200, NULL); }

void account_register(http_request *req, http_response *res)
{
    shop_error e;
    if (accounts_register(form_or(req, "email"), form_or(req, "password"), form_or(req, "name"), &e) != SHOP_OK) {
        register_page(req, res, view_error_status(&e), &e);
        return;
    }
    /* the same answer whether the address was new or not */
    res_redirect(res, 303, "/account/register/sent");
}

void account_register_sent(http_request *req, http_response *res)
{
    view_page(req, res, 200, "account/check_inbox",
              json_pack("{s:s,s:s}", "page_title", "Check your inbox", "message",
                        "We have sent a message to the address you gave. Follow its link to confirm your account. "
                        "If you do not see it in a few minutes, look in your spam folder."));
}

/* ---------- verify ---------- */

void account_verify(http_request *req, http_response *res)
{
    shop_error e;
    int64_t uid = 0;
    if (accounts_verify_email(req_query(req, "token"), &uid, &e) != SHOP_OK) {
        view_page(req, res, view_error_status(&e), "account/message",
                  json_pack("{s:s,s:s,s:s}", "page_title", "Link expired", "heading", "This link has expired",
                            "message", e.message));
        return;
    }
    session_mark_verified(uid);
    if (req->session && req->session->user_id == uid) req->session->verified = true;
    if (req->session && req->session->level == SESSION_FULL && req->session->user_id == uid) {
        view_done(req, res, "/account", "Your e-mail address is confirmed.");
        return;
    }
    view_page(req, res, 200, "account/message",
              json_pack("{s:s,s:s,s:s,s:s,s:s}", "page_title", "Address confirmed", "heading",
                        "Your e-mail address is confirmed", "message", "Thank you. You can sign in now.", "link",
                        "/account/login", "link_text", "Sign in"));
}

void account_verify_needed(http_request *req, http_response *res)
{
    view_page(req, res, 200, "account/verify_needed",
              json_pack("{s:s}", "page_title", "Confirm your e-mail address"));
}

void account_verify_resend(http_request *req, http_response *res)
{
    shop_error e;
    if (accounts_resend_verification(req->session->user_id, &e) != SHOP_OK && e.status != SHOP_CONFLICT) {
        view_shop_error(req, res, &e);
        return;
    }
    view_done(req, res, "/account", e.status == SHOP_CONFLICT ? e.message : "We have sent you a new link.");
}

/* ---------- sign in ---------- */

static void login_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    const char *next = view_safe_next(req_form(req, "next") ? req_form(req, "next") : req_query(req, "next"), "");
    json_t *ctx = json_pack("{s:s,s:s}", "page_title", "Sign in", "next", next);
    json_t *fields = json_array();
    json_array_append_new(fields, view_field("email", "E-mail address", "email", req_form(req, "email"), "username"));
    json_array_append_new(fields, view_field("password", "Password", "password", NULL, "current-password"));
    if (e) {
        view_form_error(ctx, fields, e);
        if (e->status == SHOP_LOCKED) {
            char *ra = arena_printf(req->pool, "%d", e->retry_after > 0 ? e->retry_after : 60);
            res_header(res, "Retry-After", ra);
        }
    }
    json_object_set_new(ctx, "fields", fields);
    view_page(req, res, status, "account/login", ctx);
}

void account_login_form(http_request *req, http_response *res)
{
    if (req->session && req->session->level == SESSION_FULL) {
        res_redirect(res, 303, view_safe_next(req_query(req, "next"), "/account"));
        return;
    }
    login_page(req, res, 200, NULL);
}

void account_login(http_request *req, http_response *res)
{
    shop_error e;
    sign_in s;
    if (accounts_sign_in(form_or(req, "email"), form_or(req, "password"), req->client_ip, &s, &e) != SHOP_OK) {
        login_page(req, res, view_error_status(&e), &e);
        return;
    }
    const char *next = req_form(req, "next");
    if (!s.needs_second_factor) {
        signed_in(req, res, &s, next);
        return;
    }
    /* the password was right: a new session (rotated) that waits for the second step */
    if (session_sign_in(req, res, s.user_id, s.role, s.verified, SESSION_MFA, s.name[0] ? s.name : s.email) < 0) {
        res_error(req, res, 503, "Signing in is unavailable for a moment. Please try again shortly.");
        return;
    }
    if (!strcmp(s.second_factor, "sms")) {
        shop_error se;
        accounts_send_login_code(s.user_id, &se); /* a cool-down is fine: the last code still works */
    }
    const char *to = view_safe_next(next, "");
    res_redirect(res, 303, *to ? arena_printf(req->pool, "/account/login/verify?next=%s", to)
                               : "/account/login/verify");
}

static void second_step_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    account a;
    shop_error ge;
    if (accounts_get(req->session->pending_user_id, &a, &ge) != SHOP_OK) {
        view_shop_error(req, res, &ge);
        return;
    }
    const char *next = view_safe_next(req_form(req, "next") ? req_form(req, "next") : req_query(req, "next"), "");
    const char *method = req_form(req, "method");
    if (!method) method = req_query(req, "use");
    if (!method || (strcmp(method, "totp") && strcmp(method, "sms") && strcmp(method, "recovery")))
        method = a.second_factor;
    json_t *ctx = json_pack("{s:s,s:s,s:s,s:b,s:b,s:b}", "page_title", "Confirm it is you", "next", next, "method",
                            method, "use_totp", !strcmp(method, "totp"), "use_sms", !strcmp(method, "sms"),
                            "use_recovery", !strcmp(method, "recovery"));
    json_object_set_new(ctx, "has_totp", json_boolean(!strcmp(a.second_factor, "totp")));
    json_object_set_new(ctx, "has_sms", json_boolean(a.phone_verified));
    size_t pl = strlen(a.phone);
    json_object_set_new(ctx, "phone_hint", json_string(pl > 3 ? a.phone + pl - 3 : ""));
    json_t *fields = json_array();
    json_t *code = view_field("code", !strcmp(method, "recovery") ? "Recovery code" : "Code", "text", NULL,
                              !strcmp(method, "recovery") ? "off" : "one-time-code");
    if (strcmp(method, "recovery")) json_object_set_new(code, "inputmode", json_string("numeric"));
    json_array_append_new(fields, code);
    if (e) view_form_error(ctx, fields, e);
    json_object_set_new(ctx, "fields", fields);
    view_page(req, res, status, "account/second_step", ctx);
}

void account_second_step_form(http_request *req, http_response *res) { second_step_page(req, res, 200, NULL); }

void account_second_step(http_request *req, http_response *res)
{
    int64_t uid = req->session->pending_user_id;
    shop_error e;
    if (accounts_second_factor(uid, form_or(req, "method"), form_or(req, "code"), &e) != SHOP_OK) {
        if (e.status == SHOP_LOCKED) res_header(res, "Retry-After", arena_printf(req->pool, "%d", e.retry_after));
        second_step_page(req, res, view_error_status(&e), &e);
        return;
    }
    account a;
    if (accounts_get(uid, &a, &e) != SHOP_OK) {
        view_shop_error(req, res, &e);
        return;
    }
    sign_in s = {.user_id = uid, .verified = a.email_verified};
    snprintf(s.role, sizeof s.role, "%s", a.role);
    snprintf(s.name, sizeof s.name, "%s", a.name);
    snprintf(s.email, sizeof s.email, "%s", a.email);
    signed_in(req, res, &s, req_form(req, "next"));
}

void account_second_step_send(http_request *req, http_response *res)
{
    shop_error e;
    if (accounts_send_login_code(req->session->pending_user_id, &e) != SHOP_OK) {
        if (e.status == SHOP_LOCKED) res_header(res, "Retry-After", arena_printf(req->pool, "%d", e.retry_after));
        second_step_page(req, res, view_error_status(&e), &e);
        return;
    }
    session_flash(req, "success", "We have sent you a new code.");
    res_redirect(res, 303, "/account/login/verify?use=sms");
}

/* ---------- sign in by SMS ---------- */

static void sms_page(http_request *req, http_response *res, int status, const shop_error *e, bool sent)
{
    json_t *ctx = json_pack("{s:s,s:b}", "page_title", "Sign in with a text message", "sent", sent);
    json_t *fields = json_array();
    json_t *phone = view_field("phone", "Mobile number", "tel", req_form(req, "phone"), "tel");
    json_object_set_new(phone, "hint", json_string("With its country code, like +44 7700 900123."));
    json_array_append_new(fields, phone);
    if (sent) {
        json_t *code = view_field("code", "Code from the text message", "text", NULL, "one-time-code");
        json_object_set_new(code, "inputmode", json_string("numeric"));
        json_array_append_new(fields, code);
    }
    if (e) view_form_error(ctx, fields, e);
    json_object_set_new(ctx, "fields", fields);
    view_page(req, res, status, "account/sms_login", ctx);
}

void account_sms_login_form(http_request *req, http_response *res) { sms_page(req, res, 200, NULL, false); }

/* Step 1: send a code (the same answer whether the number has an account
 * or not). Sending and checking are two routes so each has its own rate
 * limit (otp-send, otp-check). */
void account_sms_login(http_request *req, http_response *res)
{
    shop_error e;
    if (accounts_sms_login_start(form_or(req, "phone"), &e) != SHOP_OK) {
        if (e.status == SHOP_LOCKED) res_header(res, "Retry-After", arena_printf(req->pool, "%d", e.retry_after));
        sms_page(req, res, view_error_status(&e), &e, e.status == SHOP_LOCKED);
        return;
    }
    sms_page(req, res, 200, NULL, true);
}

/* Step 2: the code. */
void account_sms_login_code(http_request *req, http_response *res)
{
    shop_error e;
    sign_in s;
    if (accounts_sms_login_finish(form_or(req, "phone"), form_or(req, "code"), &s, &e) != SHOP_OK) {
        sms_page(req, res, view_error_status(&e), &e, true);
        return;
    }
    if (s.needs_second_factor) {
        if (session_sign_in(req, res, s.user_id, s.role, s.verified, SESSION_MFA, s.name[0] ? s.name : s.email) < 0) {
            res_error(req, res, 503, "Signing in is unavailable for a moment. Please try again shortly.");
            return;
        }
        res_redirect(res, 303, "/account/login/verify?use=totp");
        return;
    }
    signed_in(req, res, &s, NULL);
}

/* ---------- sign out ---------- */

void account_logout(http_request *req, http_response *res)
{
    session_sign_out(req, res);
    /* a fresh anonymous session carries the message */
    if (session_create(req, res) == 0) session_flash(req, "success", "You are signed out.");
    res_redirect(res, 303, "/");
}

/* ---------- password reset ---------- */

static void reset_request_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    json_t *ctx = json_pack("{s:s}", "page_title", "Reset your password");
    json_t *fields = json_array();
    json_array_append_new(fields, view_field("email", "E-mail address", "email", req_form(req, "email"), "email"));
    if (e) view_form_error(ctx, fields, e);
    json_object_set_new(ctx, "fields", fields);
    view_page(req, res, status, "account/reset_request", ctx);
}

void account_reset_form(http_request *req, http_response *res) { reset_request_page(req, res, 200, NULL); }

void account_reset(http_request *req, http_response *res)
{
    shop_error e;
    if (accounts_reset_request(form_or(req, "email"), &e) != SHOP_OK) {
        reset_request_page(req, res, view_error_status(&e), &e);
        return;
    }
    view_page(req, res, 200, "account/check_inbox",
              json_pack("{s:s,s:s}", "page_title", "Check your inbox", "message",
                        "If an account uses that address, we have sent it a link to choose a new password. "
                        "The link works for an hour."));
}

static void reset_choose_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    const char *token = req_form(req, "token") ? req_form(req, "token") : req_query(req, "token");
    json_t *ctx = json_pack("{s:s,s:s}", "page_title", "Choose a new password", "token", token ? token : "");
    json_t *fields = json_array();
    json_t *pw = view_field("password", "New password", "password", NULL, "new-password");
    json_object_set_new(pw, "hint", json_string("At least 10 characters. A few words together make a strong one."));
    json_array_append_new(fields, pw);
    if (e) view_form_error(ctx, fields, e);
    json_object_set_new(ctx, "fields", fields);
    view_page(req, res, status, "account/reset_choose", ctx);
}

void account_reset_choose_form(http_request *req, http_response *res)
{
    shop_error e;
    if (accounts_reset_check(req_query(req, "token"), &e) != SHOP_OK) {
        view_page(req, res, view_error_status(&e), "account/message",
                  json_pack("{s:s,s:s,s:s,s:s,s:s}", "page_title", "Link expired", "heading", "This link has expired",
                            "message", e.message, "link", "/account/reset", "link_text", "Ask for a new link"));
        return;
    }
    reset_choose_page(req, res, 200, NULL);
}

void account_reset_choose(http_request *req, http_response *res)
{
    shop_error e;
    int64_t uid = 0;
    if (accounts_reset_finish(form_or(req, "token"), form_or(req, "password"), &uid, &e) != SHOP_OK) {
        if (e.status == SHOP_EXPIRED || e.status == SHOP_UNAVAILABLE) {
            view_page(req, res, view_error_status(&e), "account/message",
                      json_pack("{s:s,s:s,s:s,s:s,s:s}", "page_title", "Link expired", "heading",
                                "This link has expired", "message", e.message, "link", "/account/reset", "link_text",
                                "Ask for a new link"));
            return;
        }
        reset_choose_page(req, res, view_error_status(&e), &e);
        return;
    }
    /* whoever knew the old password is signed out everywhere */
    session_end_all(uid, NULL);
    view_done(req, res, "/account/login", "Your password is changed. Sign in with the new one.");
}
