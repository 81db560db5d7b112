/* account_pages.c — what a signed-in shopper keeps in the account: the
 * overview, profile, addresses, saved sizes and brands, security (devices,
 * password, phone, two-step sign-in, recovery codes), orders, and deleting
 * the account.
 *
 * Access (signed in; a verified address for saved data), CSRF and rate
 * limits are the route table's (app.c) and are enforced before these
 * handlers run; a handler reads the form, asks shop/accounts.h or
 * shop/account_book.h and answers. Every POST ends in a 303 with a
 * one-time message, or re-renders its form with the message beside the
 * field and the status view_error_status gives — except the two that show
 * recovery codes, which must never be kept in a session for a redirect. */
#include "views/views.h"

#include "core/text.h"
#include "shop/account_book.h"
#include "shop/accounts.h"
#include "views/forms.h"
#include "web/session.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---------- shared ---------- */

static const char *form_or(http_request *req, const char *name)
{
    const char *v = req_form(req, name);
    return v ? v : "";
}

static const char *form_get(void *req, const char *name) { return req_form(req, name); }

/* A page of the account: its title and the nav entry it is (nav.mustache). */
static json_t *account_ctx(const char *title, const char *nav)
{
    return json_pack("{s:s,s:b}", "page_title", title, nav, 1);
}

/* Fields say "no error" explicitly, so a template section never finds the
 * form's own error by looking further up the context. */
static void fields_settle(json_t *fields, const char *id_prefix)
{
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        if (!json_object_get(f, "error")) json_object_set_new(f, "error", json_false());
        if (!json_object_get(f, "hint")) json_object_set_new(f, "hint", json_false());
        if (!json_object_get(f, "select")) json_object_set_new(f, "select", json_false());
        char id[80];
        snprintf(id, sizeof id, "%s%s", id_prefix ? id_prefix : "", json_string_value(json_object_get(f, "name")));
        json_object_set_new(f, "id", json_string(id));
    }
}

static void fail(http_request *req, http_response *res, const shop_error *e) { view_shop_error(req, res, e); }

static json_t *optional(json_t *field)
{
    json_object_set_new(field, "required", json_false());
    return field;
}

static json_t *hinted(json_t *field, const char *hint)
{
    json_object_set_new(field, "hint", json_string(hint));
    return field;
}

/* ---------- overview ---------- */

void account_overview(http_request *req, http_response *res)
{
    account a;
    shop_error e;
    if (accounts_get(req->session->user_id, &a, &e) != SHOP_OK) {
        fail(req, res, &e);
        return;
    }
    char since[32];
    time_t t = (time_t)a.created_at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(since, sizeof since, "%B %Y", &tm);
    json_t *ctx = account_ctx("Your account", "nav_overview");
    json_object_set_new(ctx, "account",
                        json_pack("{s:s,s:s,s:b,s:s,s:b,s:s,s:s}", "name", a.name, "email", a.email, "verified",
                                  a.email_verified, "phone", a.phone, "two_step", strcmp(a.second_factor, "none") != 0,
                                  "second_factor", !strcmp(a.second_factor, "totp") ? "authenticator app"
                                                   : !strcmp(a.second_factor, "sms") ? "text messages"
                                                                                     : a.second_factor,
                                  "since", since));
    if (a.email_verified) {
        address_row first;
        int n = 0;
        if (address_list(a.id, &first, 1, &n, &e) == SHOP_OK && n == 1)
            json_object_set_new(ctx, "default_address",
                                json_pack("{s:s,s:s,s:s}", "full_name", first.full_name, "line1", first.line1,
                                          "postcode", first.postcode));
    }
    view_page(req, res, 200, "account/overview", ctx);
}

/* ---------- profile ---------- */

static void profile_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    account a;
    shop_error ge;
    if (accounts_get(req->session->user_id, &a, &ge) != SHOP_OK) {
        fail(req, res, &ge);
        return;
    }
    json_t *ctx = account_ctx("Your profile", "nav_profile");
    json_object_set_new(ctx, "account", json_pack("{s:s,s:b}", "email", a.email, "verified", a.email_verified));
    json_t *fields = json_array();
    const char *typed = req_form(req, "name");
    json_t *name = optional(view_field("name", "Your name", "text", typed ? typed : a.name, "name"));
    json_object_set_new(name, "maxlength", json_integer(100));
    json_array_append_new(fields, hinted(name, "How we greet you, and the name on your orders' paperwork."));
    if (e) view_form_error(ctx, fields, e);
    fields_settle(fields, NULL);
    json_object_set_new(ctx, "fields", fields);
    view_page(req, res, status, "account/profile", ctx);
}

void account_profile_form(http_request *req, http_response *res) { profile_page(req, res, 200, NULL); }

void account_profile(http_request *req, http_response *res)
{
    shop_error e;
    const char *name = form_or(req, "name");
    if (accounts_set_name(req->session->user_id, name, &e) != SHOP_OK) {
        profile_page(req, res, view_error_status(&e), &e);
        return;
    }
    /* the header greets the new name (or the address, as at sign-in) */
    account a;
    if (!*name && accounts_get(req->session->user_id, &a, &e) == SHOP_OK) name = arena_strdup(req->pool, a.email);
    session_set_name(req, name);
    view_done(req, res, "/account/profile", "Your profile is saved.");
}

/* ---------- addresses ---------- */

static json_t *address_json(const address_row *a)
{
    const char *country = address_country_name(a->country);
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "id", (json_int_t)a->id, "full_name",
                     a->full_name, "line1", a->line1, "line2", a->line2, "city", a->city, "region", a->region,
                     "postcode", a->postcode, "country", a->country, "country_name", country ? country : a->country,
                     "phone", a->phone, "is_default", a->is_default);
}

static int64_t path_id(http_request *req)
{
    long long id = 0;
    /* the route's param spec has checked it already */
    text_parse_int64(req_param(req, "id"), 1, 1LL << 53, &id);
    return (int64_t)id;
}

void account_addresses(http_request *req, http_response *res)
{
    shop_error e;
    address_row *rows = arena_alloc(req->pool, sizeof *rows * ADDRESS_MAX);
    int n = 0;
    if (address_list(req->session->user_id, rows, ADDRESS_MAX, &n, &e) != SHOP_OK) {
        fail(req, res, &e);
        return;
    }
    json_t *ctx = account_ctx("Your addresses", "nav_addresses");
    json_t *list = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(list, address_json(&rows[i]));
    json_object_set_new(ctx, "addresses", list);
    json_object_set_new(ctx, "has_addresses", json_boolean(n > 0));
    json_object_set_new(ctx, "can_add", json_boolean(n < ADDRESS_MAX));
    json_object_set_new(ctx, "max", json_integer(ADDRESS_MAX));
    view_page(req, res, 200, "account/addresses", ctx);
}

/* The form of an address: values from `shown` (NULL: as typed in the
 * request's form; a new address starts in the United Kingdom). */
static void address_page(http_request *req, http_response *res, int status, const address_row *shown, int64_t id,
                         const shop_error *e)
{
    static const struct {
        const char *name, *label, *type, *autocomplete, *hint;
        bool required;
        int maxlength;
    } defs[] = {
        {"full_name", "Full name", "text", "name", NULL, true, 100},
        {"line1", "Address line 1", "text", "address-line1", "House number or name, and street.", true, 120},
        {"line2", "Address line 2", "text", "address-line2", NULL, false, 120},
        {"city", "Town or city", "text", "address-level2", NULL, true, 80},
        {"region", "County, state or region", "text", "address-level1", NULL, false, 80},
        {"postcode", "Postcode", "text", "postal-code", "ZIP code in the United States.", true, 16},
        {"country", "Country", "select", "country", NULL, true, 0},
        {"phone", "Phone", "tel", "tel", "For the courier, with its country code, like +44 7700 900123.", false, 20},
    };
    json_t *ctx = account_ctx(id ? "Edit an address" : "Add an address", "nav_addresses");
    json_object_set_new(ctx, "action",
                        json_string(id ? arena_printf(req->pool, "/account/addresses/%lld/edit", (long long)id)
                                       : "/account/addresses/new"));
    json_object_set_new(ctx, "editing", json_boolean(id != 0));
    json_t *fields = json_array();
    for (size_t i = 0; i < sizeof defs / sizeof *defs; i++) {
        const char *value;
        if (shown) {
            const char *vals[] = {shown->full_name, shown->line1, shown->line2, shown->city,
                                  shown->region,    shown->postcode, shown->country, shown->phone};
            value = vals[i];
        } else {
            value = req_form(req, defs[i].name);
        }
        if (!value) value = "";
        json_t *f = view_field(defs[i].name, defs[i].label, defs[i].type, value, defs[i].autocomplete);
        if (!defs[i].required) optional(f);
        if (defs[i].hint) hinted(f, defs[i].hint);
        if (defs[i].maxlength) json_object_set_new(f, "maxlength", json_integer(defs[i].maxlength));
        if (!strcmp(defs[i].type, "select")) {
            json_object_set_new(f, "select", json_true());
            json_t *opts = json_array();
            char code[3] = {0};
            for (int k = 0; k < 2 && value[k]; k++) code[k] = (value[k] >= 'a' && value[k] <= 'z') ? (char)(value[k] - 32) : value[k];
            if (!*value) memcpy(code, "GB", 3);
            for (int k = 0; k < address_country_count; k++)
                json_array_append_new(opts, json_pack("{s:s,s:s,s:b}", "code", address_countries[k].code, "label",
                                                      address_countries[k].name,
                                                      "selected", !strcmp(code, address_countries[k].code)));
            json_object_set_new(f, "options", opts);
        } else {
            json_object_set_new(f, "select", json_false());
        }
        json_array_append_new(fields, f);
    }
    if (e) view_form_error(ctx, fields, e);
    fields_settle(fields, NULL);
    json_object_set_new(ctx, "fields", fields);
    view_page(req, res, status, "account/address_form", ctx);
}

void account_address_new_form(http_request *req, http_response *res)
{
    address_row blank = {0};
    address_page(req, res, 200, &blank, 0, NULL);
}

void account_address_new(http_request *req, http_response *res)
{
    shop_error e;
    address_row a = {0};
    if (address_from_fields(&a, form_get, req, &e) != SHOP_OK || address_save(req->session->user_id, &a, &e) != SHOP_OK) {
        if (e.status == SHOP_INVALID) address_page(req, res, view_error_status(&e), NULL, 0, &e);
        else fail(req, res, &e);
        return;
    }
    view_done(req, res, "/account/addresses", "The address is saved.");
}

void account_address_edit_form(http_request *req, http_response *res)
{
    shop_error e;
    address_row a;
    int64_t id = path_id(req);
    if (address_get(req->session->user_id, id, &a, &e) != SHOP_OK) {
        fail(req, res, &e);
        return;
    }
    address_page(req, res, 200, &a, id, NULL);
}

void account_address_edit(http_request *req, http_response *res)
{
    shop_error e;
    int64_t id = path_id(req);
    address_row a = {.id = id};
    /* a foreign id is a 404 before anything about the form is said */
    address_row mine;
    if (address_get(req->session->user_id, id, &mine, &e) != SHOP_OK) {
        fail(req, res, &e);
        return;
    }
    if (address_from_fields(&a, form_get, req, &e) != SHOP_OK || address_save(req->session->user_id, &a, &e) != SHOP_OK) {
        if (e.status == SHOP_INVALID) address_page(req, res, view_error_status(&e), NULL, id, &e);
        else fail(req, res, &e);
        return;
    }
    view_done(req, res, "/account/addresses", "The address is saved.");
}

void account_address_delete(http_request *req, http_response *res)
{
    shop_error e;
    if (address_delete(req->session->user_id, path_id(req), &e) != SHOP_OK) {
        fail(req, res, &e);
        return;
    }
    view_done(req, res, "/account/addresses", "The address is deleted.");
}

void account_address_default(http_request *req, http_response *res)
{
    shop_error e;
    if (address_set_default(req->session->user_id, path_id(req), &e) != SHOP_OK) {
        fail(req, res, &e);
        return;
    }
    view_done(req, res, "/account/addresses", "That is now your default address.");
}

/* ---------- sizes and brands ---------- */

static json_t *options_json(const pref_option *opts, int n, const char *id_prefix)
{
    json_t *a = json_array();
    char id[100];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%s%s", id_prefix, opts[i].value);
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:b}", "value", opts[i].value, "label", opts[i].label, "id",
                                           id, "saved", opts[i].saved));
    }
    return a;
}

/* The form's values of a repeated field (checkboxes), in order. */
static int form_values(http_request *req, const char *name, const char ***out)
{
    req_form(req, "csrf_token"); /* parses the body */
    const char **v = arena_alloc(req->pool, sizeof *v * (size_t)(req->nform + 1));
    int n = 0;
    for (int i = 0; i < req->nform; i++)
        if (!strcmp(req->form[i].name, name) && req->form[i].value[0]) v[n++] = req->form[i].value;
    *out = v;
    return n;
}

static void prefs_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    shop_error ge;
    saved_prefs *p = arena_alloc(req->pool, sizeof *p);
    if (prefs_get(req->session->user_id, p, &ge) != SHOP_OK) {
        fail(req, res, &ge);
        return;
    }
    if (e) {
        /* show what was ticked, not what is saved */
        const char **vals;
        for (int i = 0; i < p->nsizes; i++) p->sizes[i].saved = false;
        for (int i = 0; i < p->nbrands; i++) p->brands[i].saved = false;
        int n = form_values(req, "size", &vals);
        for (int k = 0; k < n; k++)
            for (int i = 0; i < p->nsizes; i++)
                if (!strcmp(p->sizes[i].value, vals[k])) p->sizes[i].saved = true;
        n = form_values(req, "brand", &vals);
        for (int k = 0; k < n; k++)
            for (int i = 0; i < p->nbrands; i++)
                if (!strcmp(p->brands[i].value, vals[k])) p->brands[i].saved = true;
    }
    json_t *ctx = account_ctx("Your sizes and brands", "nav_preferences");
    json_object_set_new(ctx, "sizes", options_json(p->sizes, p->nsizes, "size-"));
    json_object_set_new(ctx, "brands", options_json(p->brands, p->nbrands, "brand-"));
    json_object_set_new(ctx, "has_sizes", json_boolean(p->nsizes > 0));
    json_object_set_new(ctx, "has_brands", json_boolean(p->nbrands > 0));
    if (e) {
        const char *key = e->field && !strcmp(e->field, "size") ? "size_error"
                          : e->field && !strcmp(e->field, "brand") ? "brand_error"
                                                                    : "error";
        json_object_set_new(ctx, key, json_string(e->message));
    }
    view_page(req, res, status, "account/preferences", ctx);
}

void account_preferences_form(http_request *req, http_response *res) { prefs_page(req, res, 200, NULL); }

void account_preferences(http_request *req, http_response *res)
{
    shop_error e;
    const char **sizes, **brands;
    int ns = form_values(req, "size", &sizes);
    int nb = form_values(req, "brand", &brands);
    if (prefs_save(req->session->user_id, sizes, ns, brands, nb, &e) != SHOP_OK) {
        if (e.status == SHOP_INVALID) prefs_page(req, res, view_error_status(&e), &e);
        else fail(req, res, &e);
        return;
    }
    view_done(req, res, "/account/preferences", "Your sizes and brands are saved.");
}

/* ---------- security ---------- */

/* "just now", "5 minutes ago", "3 hours ago", "4 March 2026" */
static const char *when_text(http_request *req, int64_t then, int64_t now)
{
    int64_t d = now - then;
    if (d < 60) return "just now";
    if (d < 3600) return arena_printf(req->pool, "%d minute%s ago", (int)(d / 60), d / 60 == 1 ? "" : "s");
    if (d < 86400) return arena_printf(req->pool, "%d hour%s ago", (int)(d / 3600), d / 3600 == 1 ? "" : "s");
    char date[40];
    time_t t = (time_t)then;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%e %B %Y", &tm);
    return arena_strdup(req->pool, date[0] == ' ' ? date + 1 : date);
}

/* "Firefox on Windows" from a User-Agent, or the text itself (cut). */
static const char *device_text(http_request *req, const char *ua)
{
    if (!ua || !*ua) return "Unknown device";
    static const struct {
        const char *needle, *name;
    } browsers[] = {{"Edg/", "Edge"},       {"OPR/", "Opera"},  {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"},
                    {"CriOS/", "Chrome"},   {"Safari/", "Safari"}},
      systems[] = {{"iPhone", "iPhone"}, {"iPad", "iPad"},     {"Android", "Android"},
                   {"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"}};
    const char *b = NULL, *s = NULL;
    for (size_t i = 0; !b && i < sizeof browsers / sizeof *browsers; i++)
        if (strstr(ua, browsers[i].needle)) b = browsers[i].name;
    for (size_t i = 0; !s && i < sizeof systems / sizeof *systems; i++)
        if (strstr(ua, systems[i].needle)) s = systems[i].name;
    if (b && s) return arena_printf(req->pool, "%s on %s", b, s);
    if (b) return b;
    char *cut = arena_strdup(req->pool, ua);
    if (strlen(cut) > 60) {
        size_t n = 60;
        while (n && !text_valid_utf8(cut, n)) n--;
        cut[n] = '\0';
    }
    return cut;
}

/* One form of the security page: {fields, error?}. */
static json_t *form_box(json_t *fields, const char *id_prefix, const shop_error *e)
{
    json_t *box = json_object();
    if (e) view_form_error(box, fields, e);
    fields_settle(fields, id_prefix);
    json_object_set_new(box, "fields", fields);
    return box;
}

typedef enum { FORM_NONE, FORM_PASSWORD, FORM_PHONE, FORM_TWO_STEP, FORM_RECOVERY } security_form;

static void security_page(http_request *req, http_response *res, int status, security_form which, const shop_error *e)
{
    account a;
    shop_error ge;
    int64_t uid = req->session->user_id;
    if (accounts_get(uid, &a, &ge) != SHOP_OK) {
        fail(req, res, &ge);
        return;
    }
    json_t *sessions = session_list(uid, req->session->key);
    if (!sessions) {
        res_error(req, res, 503, "Your devices are unavailable for a moment. Please try again shortly.");
        return;
    }
    int64_t now = (int64_t)time(NULL);
    size_t i;
    json_t *s;
    int others = 0;
    json_array_foreach(sessions, i, s) {
        json_object_set_new(s, "seen_text", json_string(when_text(req, json_integer_value(json_object_get(s, "seen")), now)));
        json_object_set_new(s, "since_text",
                            json_string(when_text(req, json_integer_value(json_object_get(s, "created")), now)));
        json_object_set_new(s, "device_text", json_string(device_text(req, json_string_value(json_object_get(s, "device")))));
        if (!json_is_true(json_object_get(s, "current"))) others++;
    }
    json_t *ctx = account_ctx("Security", "nav_security");
    json_object_set_new(ctx, "sessions", sessions);
    json_object_set_new(ctx, "has_others", json_boolean(others > 0));
    bool totp = !strcmp(a.second_factor, "totp"), sms = !strcmp(a.second_factor, "sms");
    size_t pl = strlen(a.phone);
    json_object_set_new(ctx, "account",
                        json_pack("{s:s,s:s,s:b,s:b,s:b,s:b,s:s,s:s}", "email", a.email, "phone", a.phone,
                                  "phone_verified", a.phone_verified, "two_step", totp || sms, "totp", totp, "sms", sms,
                                  "recovery_left",
                                  arena_printf(req->pool, "%d unused recovery code%s", a.recovery_codes_left,
                                               a.recovery_codes_left == 1 ? "" : "s"),
                                  "phone_hint", pl > 3 ? a.phone + pl - 3 : ""));

    json_t *f = json_array();
    json_array_append_new(f, view_field("current_password", "Current password", "password", NULL, "current-password"));
    json_array_append_new(f, hinted(view_field("new_password", "New password", "password", NULL, "new-password"),
                                    "At least 10 characters. A few words together make a strong one."));
    json_object_set_new(ctx, "password_form", form_box(f, "pw-", which == FORM_PASSWORD ? e : NULL));

    f = json_array();
    json_array_append_new(f, hinted(view_field("phone", a.phone[0] ? "New mobile number" : "Mobile number", "tel",
                                               which == FORM_PHONE ? req_form(req, "phone") : NULL, "tel"),
                                    "With its country code, like +44 7700 900123. We text it a code."));
    json_object_set_new(ctx, "phone_form", form_box(f, "ph-", which == FORM_PHONE ? e : NULL));

    f = json_array();
    json_array_append_new(f, view_field("password", "Your password", "password", NULL, "current-password"));
    json_t *two = form_box(f, "ts-", which == FORM_TWO_STEP ? e : NULL);
    const char *kind = which == FORM_TWO_STEP ? form_or(req, "kind") : "";
    /* nothing chosen until the shopper chooses: a pre-selected "turn off"
     * would take two-step sign-in away from whoever just types a password */
    json_object_set_new(two, "kind_sms", json_boolean(!strcmp(kind, "sms")));
    json_object_set_new(two, "kind_none", json_boolean(!strcmp(kind, "none")));
    if (e && which == FORM_TWO_STEP && e->field && !strcmp(e->field, "kind"))
        json_object_set_new(two, "kind_error", json_string(e->message));
    else
        json_object_set_new(two, "kind_error", json_false());
    json_object_set_new(ctx, "two_step_form", two);

    f = json_array();
    json_array_append_new(f, view_field("password", "Your password", "password", NULL, "current-password"));
    json_object_set_new(ctx, "recovery_form", form_box(f, "rc-", which == FORM_RECOVERY ? e : NULL));
    if (e && e->status == SHOP_LOCKED && e->retry_after > 0)
        res_header(res, "Retry-After", arena_printf(req->pool, "%d", e->retry_after));
    view_page(req, res, status, "account/security", ctx);
}

void account_security(http_request *req, http_response *res) { security_page(req, res, 200, FORM_NONE, NULL); }

/* A new session id for the same sign-in (after a change of what it may do). */
static int rotate(http_request *req, http_response *res)
{
    web_session was = *req->session;
    return session_sign_in(req, res, was.user_id, was.role, was.verified, SESSION_FULL, was.name);
}

void account_session_end(http_request *req, http_response *res)
{
    const char *key = req_param(req, "key");
    if (!strcmp(key, req->session->key)) {
        res_error(req, res, 409, "That is the device you are using: use “Sign out” to end it.");
        return;
    }
    int r = session_end_one(req->session->user_id, key);
    if (r < 0) {
        res_error(req, res, 503, "Your devices are unavailable for a moment. Please try again shortly.");
        return;
    }
    if (r == 0) {
        res_error(req, res, 404, "That device is not signed in to your account.");
        return;
    }
    view_done(req, res, "/account/security", "That device is signed out.");
}

void account_sessions_end_others(http_request *req, http_response *res)
{
    int n = session_end_all(req->session->user_id, req->session->key);
    if (n < 0) {
        res_error(req, res, 503, "Your devices are unavailable for a moment. Please try again shortly.");
        return;
    }
    view_done(req, res, "/account/security",
              n == 0 ? "No other device was signed in."
                     : arena_printf(req->pool, "Signed out on %d other device%s.", n, n == 1 ? "" : "s"));
}

void account_password(http_request *req, http_response *res)
{
    shop_error e;
    int64_t uid = req->session->user_id;
    if (accounts_change_password(uid, form_or(req, "current_password"), form_or(req, "new_password"), &e) != SHOP_OK) {
        security_page(req, res, view_error_status(&e), FORM_PASSWORD, &e);
        return;
    }
    /* whoever knew the old password is signed out; this device gets a new id */
    if (session_end_all(uid, req->session->key) < 0 || rotate(req, res) < 0) {
        res_error(req, res, 503, "Your password is changed, but signing out your other devices failed. Please use "
                                 "“Sign out everywhere else”.");
        return;
    }
    view_done(req, res, "/account/security", "Password changed; other devices are signed out");
}

/* ---------- phone ---------- */

void account_phone(http_request *req, http_response *res)
{
    shop_error e;
    if (accounts_phone_start(req->session->user_id, form_or(req, "phone"), &e) != SHOP_OK) {
        security_page(req, res, view_error_status(&e), FORM_PHONE, &e);
        return;
    }
    view_done(req, res, "/account/security/phone/confirm",
              arena_printf(req->pool, "We have sent a code by text message to %s.", form_or(req, "phone")));
}

static void phone_confirm_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    json_t *ctx = account_ctx("Confirm your number", "nav_security");
    json_t *fields = json_array();
    json_t *code = view_field("code", "Code from the text message", "text", NULL, "one-time-code");
    json_object_set_new(code, "inputmode", json_string("numeric"));
    json_object_set_new(code, "maxlength", json_integer(6));
    json_array_append_new(fields, code);
    if (e) view_form_error(ctx, fields, e);
    fields_settle(fields, NULL);
    json_object_set_new(ctx, "fields", fields);
    view_page(req, res, status, "account/phone_confirm", ctx);
}

void account_phone_confirm_form(http_request *req, http_response *res) { phone_confirm_page(req, res, 200, NULL); }

void account_phone_confirm(http_request *req, http_response *res)
{
    shop_error e;
    if (accounts_phone_confirm(req->session->user_id, form_or(req, "code"), &e) != SHOP_OK) {
        phone_confirm_page(req, res, view_error_status(&e), &e);
        return;
    }
    view_done(req, res, "/account/security", "Your phone number is confirmed.");
}

/* ---------- two-step sign-in ---------- */

/* The authenticator set-up: the QR code and the secret (qr/secret NULL
 * after a wrong code: the app has them already, a new pair would undo
 * what was scanned). */
static void totp_page(http_request *req, http_response *res, int status, const char *qr, const char *secret,
                      const shop_error *e)
{
    json_t *ctx = account_ctx("Use an authenticator app", "nav_security");
    if (qr) json_object_set_new(ctx, "qr", json_string(qr));
    if (secret) json_object_set_new(ctx, "secret", json_string(secret));
    json_t *fields = json_array();
    json_t *code = view_field("code", "6-digit code from the app", "text", NULL, "one-time-code");
    json_object_set_new(code, "inputmode", json_string("numeric"));
    json_object_set_new(code, "maxlength", json_integer(6));
    json_array_append_new(fields, code);
    if (e) view_form_error(ctx, fields, e);
    fields_settle(fields, NULL);
    json_object_set_new(ctx, "fields", fields);
    view_page(req, res, status, "account/totp", ctx);
}

void account_totp_form(http_request *req, http_response *res)
{
    shop_error e;
    char secret[80];
    buf qr = BUF_INIT;
    if (accounts_totp_begin(req->session->user_id, secret, sizeof secret, &qr, &e) != SHOP_OK) {
        buf_free(&qr);
        fail(req, res, &e);
        return;
    }
    /* the SVG is ours (twofactor.c), not outside text: rendered raw */
    totp_page(req, res, 200, buf_cstr(&qr), secret, NULL);
    buf_free(&qr);
}

/* The recovery codes, shown this once. */
static void codes_page(http_request *req, http_response *res, const char *heading, const char *lead,
                       char codes[RECOVERY_CODES][RECOVERY_CODE_CHARS])
{
    json_t *ctx = account_ctx("Your recovery codes", "nav_security");
    json_object_set_new(ctx, "heading", json_string(heading));
    json_object_set_new(ctx, "lead", json_string(lead));
    json_t *list = json_array();
    for (int i = 0; i < RECOVERY_CODES; i++) json_array_append_new(list, json_string(codes[i]));
    json_object_set_new(ctx, "codes", list);
    view_page(req, res, 200, "account/recovery_codes", ctx);
}

void account_totp(http_request *req, http_response *res)
{
    shop_error e;
    char codes[RECOVERY_CODES][RECOVERY_CODE_CHARS];
    if (accounts_totp_confirm(req->session->user_id, form_or(req, "code"), codes, &e) != SHOP_OK) {
        totp_page(req, res, view_error_status(&e), NULL, NULL, &e);
        return;
    }
    if (rotate(req, res) < 0) {
        res_error(req, res, 503, "Two-step sign-in is on, but your session could not be renewed. Please sign in again.");
        return;
    }
    codes_page(req, res, "Two-step sign-in is on",
               "From now on, signing in asks for a code from your authenticator app. If you lose your phone, one of "
               "these codes lets you in instead; each works once. Save them somewhere safe now: we will not show them "
               "again.",
               codes);
}

void account_two_step(http_request *req, http_response *res)
{
    shop_error e;
    const char *kind = form_or(req, "kind");
    if (accounts_set_second_factor(req->session->user_id, kind, form_or(req, "password"), &e) != SHOP_OK) {
        security_page(req, res, view_error_status(&e), FORM_TWO_STEP, &e);
        return;
    }
    if (rotate(req, res) < 0) {
        res_error(req, res, 503, "Your choice is saved, but your session could not be renewed. Please sign in again.");
        return;
    }
    view_done(req, res, "/account/security",
              !strcmp(kind, "sms") ? "Two-step sign-in now sends a code by text message." : "Two-step sign-in is off.");
}

void account_recovery(http_request *req, http_response *res)
{
    shop_error e;
    char codes[RECOVERY_CODES][RECOVERY_CODE_CHARS];
    if (accounts_recovery_regenerate(req->session->user_id, form_or(req, "password"), codes, &e) != SHOP_OK) {
        security_page(req, res, view_error_status(&e), FORM_RECOVERY, &e);
        return;
    }
    codes_page(req, res, "New recovery codes",
               "Your earlier recovery codes no longer work. Each of these works once. Save them somewhere safe now: we "
               "will not show them again.",
               codes);
}

/* ---------- delete my account ---------- */

static void delete_page(http_request *req, http_response *res, int status, const shop_error *e)
{
    json_t *ctx = account_ctx("Delete your account", "nav_profile");
    json_t *fields = json_array();
    json_array_append_new(fields, view_field("password", "Your password", "password", NULL, "current-password"));
    if (e) view_form_error(ctx, fields, e);
    fields_settle(fields, NULL);
    json_object_set_new(ctx, "fields", fields);
    view_page(req, res, status, "account/delete", ctx);
}

void account_delete_form(http_request *req, http_response *res) { delete_page(req, res, 200, NULL); }

void account_delete(http_request *req, http_response *res)
{
    shop_error e;
    int64_t uid = req->session->user_id;
    if (accounts_delete(uid, form_or(req, "password"), &e) != SHOP_OK) {
        delete_page(req, res, view_error_status(&e), &e);
        return;
    }
    /* every device is signed out; this one carries on as a visitor */
    session_end_all(uid, NULL);
    session_sign_out(req, res);
    if (session_create(req, res) == 0) session_flash(req, "success", "Your account is deleted");
    res_redirect(res, 303, "/");
}
