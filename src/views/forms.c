/* forms.c — see forms.h. */
#include "views/forms.h"

#include "views/views.h"
#include "web/session.h"

#include <string.h>

json_t *view_field(const char *name, const char *label, const char *type, const char *value, const char *autocomplete)
{
    json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:b}", "name", name, "label", label, "type", type, "value",
                          value && strcmp(type, "password") ? value : "", "required", 1);
    if (autocomplete) json_object_set_new(f, "autocomplete", json_string(autocomplete));
    /* "no error / no hint" said explicitly: a Mustache section would
     * otherwise find the form's own error further up the context */
    json_object_set_new(f, "error", json_false());
    json_object_set_new(f, "hint", json_false());
    return f;
}

void view_form_error(json_t *ctx, json_t *fields, const shop_error *e)
{
    size_t i;
    json_t *f;
    if (e->field)
        json_array_foreach(fields, i, f) {
            if (!strcmp(json_string_value(json_object_get(f, "name")), e->field)) {
                json_object_set_new(f, "error", json_string(e->message));
                return;
            }
        }
    json_object_set_new(ctx, "error", json_string(e->message));
}

int view_error_status(const shop_error *e)
{
    switch (e->status) {
    case SHOP_OK: return 200;
    case SHOP_INVALID: return 422;
    case SHOP_DENIED: return 403;
    case SHOP_NOT_FOUND: return 404;
    case SHOP_CONFLICT: return 409;
    case SHOP_EXPIRED: return 410;
    case SHOP_LOCKED: return 429;
    case SHOP_UNAVAILABLE: return 503;
    }
    return 500;
}

void view_shop_error(http_request *req, http_response *res, const shop_error *e)
{
    if (e->status == SHOP_LOCKED && e->retry_after > 0)
        res_header(res, "Retry-After", arena_printf(req->pool, "%d", e->retry_after));
    res_error_shown(req, res, view_error_status(e), e->message);
}

void view_page(http_request *req, http_response *res, int status, const char *name, json_t *ctx)
{
    const web_session *s = req->session;
    json_object_set_new(ctx, "cart_items", json_integer(s ? s->cart_items : 0));
    json_object_set_new(ctx, "bag_full", json_boolean(s && s->cart_items > 0)); /* 0 pairs: no badge */
    if (s) {
        json_object_set_new(ctx, "csrf", json_string(s->csrf));
        if (s->level == SESSION_FULL)
            json_object_set_new(ctx, "me", json_pack("{s:s}", "name", s->name[0] ? s->name : "your account"));
        if (s->flash[0]) {
            json_object_set_new(ctx, "flash", json_pack("{s:s,s:s}", "kind", s->flash_kind[0] ? s->flash_kind : "info",
                                                        "message", s->flash));
            session_flash_shown(req);
        }
    }
    json_object_set_new(ctx, "personal", json_true());
    buf out = BUF_INIT;
    int rc = view_render(req, name, ctx, &out);
    json_decref(ctx);
    if (rc != 0) res_error(req, res, 500, arena_printf(req->pool, "rendering %s failed", name));
    else res_html(res, status, out.data, out.len);
    buf_free(&out);
}

void view_done(http_request *req, http_response *res, const char *location, const char *message)
{
    if (message) session_flash(req, "success", message);
    res_redirect(res, 303, location);
}

const char *view_safe_next(const char *next, const char *dflt)
{
    /* only a path of ours: "/x", never "//host" or "/\\host" or a scheme */
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 500) return dflt;
    for (const char *p = next; *p; p++)
        if ((unsigned char)*p < ' ' || *p == '\\') return dflt;
    return next;
}
