/* admin_reviews.c — the admin portal's review moderation: the queue
 * (pending first; filters: status, rating, product, verified purchase,
 * search), approve / hide one or many, and the shop's reply shown under a
 * review on its product page. Moderating is catalog.h's
 * catalog_moderate_reviews — the path `shoease review moderate` takes too
 * — and replying catalog_reply_review: one unit of work each, with its
 * audit rows, refreshing the product's page after the commit. Routes:
 * app.c's admin table.
 *
 *   GET  /reviews                  the queue
 *   GET  /reviews/{id}             one review with its reply form
 *   POST /reviews/{id}/moderate    status=approved|rejected|pending
 *   POST /reviews/{id}/reply       reply=… ("" removes it)
 *   POST /reviews/bulk             ids=…&ids=…&status=approved|rejected
 * Every POST may carry back= (a page of the queue to return to). */
#include "views/views.h"

#include "core/config.h"
#include "core/text.h"
#include "shop/catalog.h"
#include "shop/reviews.h"
#include "views/admin_ui.h"
#include "views/forms.h"
#include "web/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t path_id(http_request *req)
{
    long long id = 0;
    const char *p = req_param(req, "id");
    return p && text_parse_int64(p, 1, 1LL << 32, &id) ? id : 0;
}

/* The page of the portal a POST came from (its back= field), as a suffix
 * for admin_done: a page of the queue or a review's page, else the queue. */
static const char *back_to(http_request *req)
{
    const char *b = view_safe_next(req_form(req, "back"), NULL);
    if (!b || strncmp(b, "/reviews", 8) != 0 || (b[8] && b[8] != '?' && b[8] != '/')) return "/reviews";
    return b;
}

/* This page's address as such a suffix. */
static const char *this_page(http_request *req)
{
    const char *uri = req->raw_uri ? req->raw_uri : req->path;
    size_t n = strlen(cfg.admin_path);
    return !strncmp(uri, cfg.admin_path, n) && uri[n] == '/' ? uri + n : "/reviews";
}

static const char *status_class(const char *status)
{
    return !strcmp(status, "approved") ? "ok" : !strcmp(status, "rejected") ? "bad" : "warn";
}

static const char *status_label(const char *status)
{
    return !strcmp(status, "approved") ? "Shown" : !strcmp(status, "rejected") ? "Hidden" : "Waiting";
}

static json_t *row_json(http_request *req, const review_row *r)
{
    char stars[64];
    catalog_stars((double)r->rating, stars, sizeof stars);
    json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s,s:s,s:b,s:b,s:b}", "id", (json_int_t)r->id,
                          "product", r->product_name, "product_url", arena_printf(req->pool, "/products/%s#reviews",
                                                                                   r->product_slug),
                          "rating", (json_int_t)r->rating, "stars", stars, "title", r->title, "body", r->body, "author",
                          r->author, "verified", r->verified, "created_at", r->created_at, "status", r->status,
                          "status_label", status_label(r->status), "status_class", status_class(r->status),
                          "can_approve", strcmp(r->status, "approved") != 0, "can_hide", strcmp(r->status, "rejected") != 0,
                          "pending", !strcmp(r->status, "pending"));
    json_object_set_new(o, "page", json_string(admin_url(req, arena_printf(req->pool, "/reviews/%lld", (long long)r->id))));
    json_object_set_new(o, "moderate",
                        json_string(admin_url(req, arena_printf(req->pool, "/reviews/%lld/moderate", (long long)r->id))));
    json_object_set_new(o, "reply_action",
                        json_string(admin_url(req, arena_printf(req->pool, "/reviews/%lld/reply", (long long)r->id))));
    if (r->reply_text)
        json_object_set_new(o, "reply", json_pack("{s:s,s:s,s:s}", "text", r->reply_text, "author", r->reply_author,
                                                  "at", r->replied_at));
    else
        json_object_set_new(o, "reply", json_false());
    return o;
}

/* {code, label, selected} choices of a filter. */
static json_t *choices(const char *const (*opts)[2], int n, const char *current)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, admin_option(opts[i][0], opts[i][1], !strcmp(opts[i][0], current ? current : "")));
    return a;
}

/* ---------- the queue ---------- */

void admin_reviews(http_request *req, http_response *res)
{
    static const char *const sortable[] = {"created", "rating", NULL};
    static const char *const statuses[][2] = {
        {"", "Any"}, {"pending", "Waiting"}, {"approved", "Shown"}, {"rejected", "Hidden"}};
    static const char *const ratings[][2] = {{"", "Any"}, {"5", "★★★★★"}, {"4", "★★★★"}, {"3", "★★★"}, {"2", "★★"},
                                             {"1", "★"}};
    static const char *const verified[][2] = {{"", "Any"}, {"yes", "Verified purchases"}, {"no", "Not verified"}};
    admin_list lp;
    admin_list_read(req, sortable, "created", true, &lp);
    review_filter f = {.q = lp.q, .verified = -1, .by_rating = !strcmp(lp.sort, "rating"), .desc = lp.desc};
    const char *status = req_query(req, "status"), *rating = req_query(req, "rating"),
               *ver = req_query(req, "verified"), *product = req_query(req, "product");
    enum catalog_review_status st;
    if (status && catalog_review_status_parse(status, &st)) f.status = status;
    else status = "";
    long long rv = 0;
    if (rating && text_parse_int64(rating, 1, 5, &rv)) f.rating = (int)rv;
    else rating = "";
    if (ver && !strcmp(ver, "yes")) f.verified = 1;
    else if (ver && !strcmp(ver, "no")) f.verified = 0;
    else ver = "";
    if (product && *product && strlen(product) <= 160 && text_valid_utf8(product, strlen(product))) f.product = product;
    else product = "";

    arena *a = arena_new();
    int max = lp.csv ? 5000 : lp.per_page, n = 0;
    review_row *rows = arena_alloc(a, (size_t)max * sizeof *rows);
    int64_t total = 0;
    shop_error e;
    if (reviews_queue(a, &f, lp.offset, max, rows, &n, &total, &e) != SHOP_OK) {
        arena_free(a);
        view_shop_error(req, res, &e);
        return;
    }
    if (lp.csv) {
        static const char *const header[] = {"id", "created (UTC)", "status", "product", "rating", "title", "text",
                                             "author", "verified purchase", "reply", "replied at (UTC)"};
        json_t *out = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(out, json_pack("[I,s,s,s,I,s,s,s,b,s,s]", (json_int_t)rows[i].id, rows[i].created_at,
                                                 rows[i].status, rows[i].product_slug, (json_int_t)rows[i].rating,
                                                 rows[i].title, rows[i].body, rows[i].author, rows[i].verified,
                                                 rows[i].reply_text ? rows[i].reply_text : "", rows[i].replied_at));
        arena_free(a);
        admin_csv(req, res, "reviews.csv", header, 11, out);
        json_decref(out);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(list, row_json(req, &rows[i]));
    arena_free(a);
    json_t *ctx = json_pack("{s:s,s:o,s:o,s:b,s:s,s:s,s:s,s:s}", "page_title", "Reviews", "rows", list, "pages",
                            admin_pages(req, &lp, total), "empty", n == 0, "q", lp.q ? lp.q : "", "product", product,
                            "back", this_page(req), "action", admin_url(req, "/reviews"));
    json_object_set_new(ctx, "statuses", choices(statuses, 4, status));
    json_object_set_new(ctx, "ratings", choices(ratings, 6, rating));
    json_object_set_new(ctx, "verified_choices", choices(verified, 3, ver));
    json_object_set_new(ctx, "sort", json_pack("{s:o,s:o}", "created", admin_sort_link(req, &lp, "created"), "rating",
                                               admin_sort_link(req, &lp, "rating")));
    json_object_set_new(ctx, "bulk", json_string(admin_url(req, "/reviews/bulk")));
    admin_page(req, res, 200, "admin/reviews", "reviews", ctx);
}

/* ---------- one review ---------- */

/* One review's page (with its reply form); typed/e: a refused reply. */
static void review_page(http_request *req, http_response *res, int status, int64_t id, const char *typed,
                        const shop_error *e)
{
    arena *a = arena_new();
    review_filter f = {.id = id, .verified = -1};
    review_row r;
    int n = 0;
    int64_t total;
    shop_error le;
    if (reviews_queue(a, &f, 0, 1, &r, &n, &total, &le) != SHOP_OK) {
        arena_free(a);
        view_shop_error(req, res, &le);
        return;
    }
    if (n == 0) {
        arena_free(a);
        res_error(req, res, 404, "There is no such review.");
        return;
    }
    json_t *row = row_json(req, &r);
    json_t *reply = json_pack("{s:s,s:s,s:b}", "value", typed ? typed : r.reply_text ? r.reply_text : "", "error", "",
                              "has_error", false);
    if (e) {
        json_object_set_new(reply, "error", json_string(e->message));
        json_object_set_new(reply, "has_error", json_true());
    }
    arena_free(a);
    json_t *ctx = json_pack("{s:s,s:o,s:o,s:s,s:s,s:i}", "page_title",
                            arena_printf(req->pool, "Review %lld", (long long)id), "review", row, "reply_form", reply,
                            "back", strcmp(req->method, "POST") ? this_page(req) : back_to(req), "queue",
                            admin_url(req, "/reviews"), "reply_max",
                            CATALOG_REVIEW_REPLY_MAX);
    admin_page(req, res, status, "admin/review", "reviews", ctx);
}

void admin_review(http_request *req, http_response *res)
{
    int64_t id = path_id(req);
    if (id <= 0) {
        res_error(req, res, 404, "There is no such review.");
        return;
    }
    review_page(req, res, 200, id, NULL, NULL);
}

/* ---------- moderating ---------- */

static const char *done_word(enum catalog_review_status st)
{
    return st == REVIEW_APPROVED ? "approved: shown on the product page"
           : st == REVIEW_REJECTED ? "hidden from the product page"
                                   : "waiting for moderation again";
}

/* A refusal of a moderation POST: a wrong choice goes back with its
 * message; a review that is gone or a store failure is the error page. */
static void refused(http_request *req, http_response *res, const shop_error *e)
{
    if (e->status == SHOP_INVALID) {
        session_flash(req, "error", e->message);
        res_redirect(res, 303, admin_url(req, back_to(req)));
        return;
    }
    view_shop_error(req, res, e);
}

void admin_review_moderate(http_request *req, http_response *res)
{
    enum catalog_review_status st;
    shop_error e;
    int64_t id = path_id(req);
    if (!catalog_review_status_parse(req_form(req, "status"), &st)) {
        shop_fail(&e, SHOP_INVALID, "status", "Choose to approve or to hide the review.");
        refused(req, res, &e);
        return;
    }
    audit_actor who = admin_actor(req);
    int changed = 0;
    if (catalog_moderate_reviews(&who, &id, 1, st, &changed, &e) != SHOP_OK) {
        refused(req, res, &e);
        return;
    }
    admin_done(req, res, back_to(req),
               changed ? arena_printf(req->pool, "Review %lld %s.", (long long)id, done_word(st))
                       : arena_printf(req->pool, "Review %lld was %s already.", (long long)id,
                                      catalog_review_status_name(st)));
}

void admin_reviews_bulk(http_request *req, http_response *res)
{
    enum catalog_review_status st;
    shop_error e;
    const char *status = req_form(req, "status");
    if (!catalog_review_status_parse(status, &st) || st == REVIEW_PENDING) {
        shop_fail(&e, SHOP_INVALID, "status", "Choose to approve or to hide the reviews.");
        refused(req, res, &e);
        return;
    }
    int64_t ids[CATALOG_MODERATE_MAX];
    int n = 0;
    req_form(req, "ids"); /* parses the body */
    for (int i = 0; i < req->nform; i++) {
        if (strcmp(req->form[i].name, "ids") != 0) continue;
        long long id;
        if (n == CATALOG_MODERATE_MAX) {
            shop_fail(&e, SHOP_INVALID, "ids", "Choose at most %d reviews at a time.", CATALOG_MODERATE_MAX);
            refused(req, res, &e);
            return;
        }
        if (!text_parse_int64(req->form[i].value, 1, 1LL << 32, &id)) {
            shop_fail(&e, SHOP_INVALID, "ids", "Choose reviews from the list.");
            refused(req, res, &e);
            return;
        }
        bool seen = false;
        for (int k = 0; k < n; k++) seen = seen || ids[k] == id;
        if (!seen) ids[n++] = id;
    }
    audit_actor who = admin_actor(req);
    int changed = 0;
    if (catalog_moderate_reviews(&who, ids, n, st, &changed, &e) != SHOP_OK) {
        refused(req, res, &e);
        return;
    }
    admin_done(req, res, back_to(req),
               arena_printf(req->pool, "%d review%s %s (%d chosen).", changed, changed == 1 ? "" : "s",
                            st == REVIEW_APPROVED ? "approved" : "hidden", n));
}

/* ---------- replying ---------- */

void admin_review_reply(http_request *req, http_response *res)
{
    int64_t id = path_id(req);
    const char *text = req_form(req, "reply");
    audit_actor who = admin_actor(req);
    shop_error e;
    const web_session *s = req->session;
    if (catalog_reply_review(&who, id, text, s && s->name[0] ? s->name : NULL, &e) != SHOP_OK) {
        if (e.status == SHOP_INVALID) review_page(req, res, 422, id, text, &e);
        else view_shop_error(req, res, &e);
        return;
    }
    bool removed = true;
    for (const char *p = text ? text : ""; *p; p++)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') removed = false;
    admin_done(req, res, back_to(req),
               removed ? arena_printf(req->pool, "The reply to review %lld was removed.", (long long)id)
                       : arena_printf(req->pool,
                                      "Reply to review %lld saved: it shows under the review on the product page "
                                      "while the review is approved.",
                                      (long long)id));
}
