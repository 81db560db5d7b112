/* personal.c — the personal parts of shared pages, fetched by the page
 * after it loads (static/js/site.js), so the cached HTML stays the same for
 * everybody:
 *
 *   GET /fragments/header
 *       the header's account corner: the shopper's name and "Sign out", or
 *       "Sign in"
 *   GET /fragments/recently-viewed[?viewing=SLUG]
 *       the visitor's recently viewed shoes as HTML (empty when none);
 *       with viewing=, also records that this visitor is looking at SLUG
 *       (the page itself was cached and shared, so it could not)
 *
 * Answers are private (Cache-Control: private, no-store). */
#include "views/views.h"

#include "events/activity.h"
#include "events/reads.h"
#include "web/session.h"
#include "web/visitor.h"

#include <string.h>

#define RECENT_SHOWN 8

static bool slug_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 120) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) return false;
    return true;
}

void views_header_fragment(http_request *req, http_response *res)
{
    visitor_personal(res);
    const web_session *s = req->session;
    json_t *ctx = json_object();
    if (s) {
        /* the token lets site.js post the shared pages' forms (add to bag) */
        json_object_set_new(ctx, "csrf", json_string(s->csrf));
        json_object_set_new(ctx, "cart_items", json_integer(s->cart_items));
        json_object_set_new(ctx, "bag_full", json_boolean(s->cart_items > 0));
    } else {
        json_object_set_new(ctx, "cart_items", json_integer(0));
    }
    if (s && s->level == SESSION_FULL)
        json_object_set_new(ctx, "me", json_pack("{s:s}", "name", s->name[0] ? s->name : "Your account"));
    if (s && s->flash[0]) {
        /* a message for a shared page (after "sign out" → home): site.js
         * moves it into the page */
        json_object_set_new(ctx, "fragment_flash", json_pack("{s:s,s:s}", "kind", s->flash_kind[0] ? s->flash_kind : "info",
                                                             "message", s->flash));
        session_flash_shown(req);
    }
    buf out = BUF_INIT;
    if (view_render_nav(req, "partials/account_header", ctx, NULL, &out) != 0)
        res_error(req, res, 500, "rendering the header failed");
    else
        res_html(res, 200, out.data, out.len);
    buf_free(&out);
    json_decref(ctx);
}

void views_recently_viewed(http_request *req, http_response *res)
{
    visitor_personal(res);
    const char *viewing = req_query(req, "viewing");
    if (viewing && !slug_ok(viewing)) {
        res_error(req, res, 400, "viewing= must be a product's slug.");
        return;
    }
    const char *who = visitor_key(req, res, true);
    if (viewing) {
        json_t *ev = json_pack("{s:s,s:s}", "event", "view", "slug", viewing);
        if (who[0] == 'u') json_object_set_new(ev, "uid", json_integer(req->log_user_id));
        else json_object_set_new(ev, "vid", json_string(who + 2));
        events_emit(ev);
    }
    char slugs[RECENT_SHOWN + 1][EVENTS_SLUG_MAX];
    int n = events_recent_slugs(who, slugs, RECENT_SHOWN + 1);
    const char *list[RECENT_SHOWN + 1];
    int m = 0;
    for (int i = 0; i < n && m < RECENT_SHOWN; i++)
        if (!viewing || strcmp(slugs[i], viewing)) list[m++] = slugs[i];
    json_t *cards = m ? catalog_cards_by_slugs(list, m) : NULL;
    if (!cards || !json_array_size(cards)) {
        json_decref(cards);
        res_html(res, 200, "", 0);
        return;
    }
    view_cards_decorate(cards);
    json_t *ctx = json_pack("{s:o}", "cards", cards);
    buf out = BUF_INIT;
    if (view_render_nav(req, "fragments/recently_viewed", ctx, NULL, &out) != 0) res_error(req, res, 500, "rendering recently viewed failed");
    else res_html(res, 200, out.data, out.len);
    buf_free(&out);
    json_decref(ctx);
}
