/* order_pages.c — an order after it is placed.
 *
 *   GET  /orders/{number}[?t=TOKEN]            the order (its buyer, or a guest with the mail's link)
 *   POST /orders/{number}/cancel               cancel while it is not shipped (a paid one is refunded)
 *   GET  /orders/{number}/invoice[?t=TOKEN]    the PDF (nginx sends it: X-Accel-Redirect)
 *   GET  /checkout/pay/{number}[?t=TOKEN]      the card page (Stripe)
 *   GET  /checkout/return/{number}[?t=TOKEN]   back from the card page
 *   GET  /account/orders                       the shopper's orders (account_order_list)
 * Who may see an order is the order's rule (orders_view: buyer, link, staff);
 * everything else (session, CSRF, limits) is the route table's. */
#include "views/views.h"

#include "core/config.h"
#include "print/invoice.h"
#include "shop/account_book.h"
#include "shop/orders.h"
#include "views/forms.h"
#include "web/security.h"
#include "web/session.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static order_viewer viewer_of(http_request *req)
{
    order_viewer w = {0};
    const web_session *s = req->session;
    if (s && s->level == SESSION_FULL) {
        w.user_id = s->user_id;
        w.staff = !strcmp(s->role, "staff") || !strcmp(s->role, "superuser");
    }
    w.token = req_form(req, "t");
    if (!w.token) w.token = req_query(req, "t");
    return w;
}

static const char *status_text(const char *s)
{
    if (!strcmp(s, "pending_payment")) return "Waiting for payment";
    if (!strcmp(s, "paid")) return "Paid — being prepared";
    if (!strcmp(s, "cod_confirmed")) return "Confirmed — pay on delivery";
    if (!strcmp(s, "shipped")) return "On its way";
    if (!strcmp(s, "delivered")) return "Delivered";
    if (!strcmp(s, "cancelled")) return "Cancelled";
    if (!strcmp(s, "refunded")) return "Refunded";
    return s;
}

static const char *when(http_request *req, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char text[40];
    strftime(text, sizeof text, "%d %b %Y, %H:%M", &tm);
    return arena_strdup(req->pool, text);
}

static json_t *order_json(http_request *req, const order_view *v, const char *token)
{
    const order_row *o = &v->order;
    json_t *lines = json_array();
    for (int i = 0; i < v->nlines; i++) {
        const order_line_row *l = &v->lines[i];
        json_array_append_new(lines, json_pack("{s:s,s:s,s:s,s:s,s:i,s:o,s:o,s:s}", "name", l->product_name, "brand",
                                               l->brand_name, "size", l->size_label, "colour", l->colour_name,
                                               "quantity", l->quantity, "unit_price",
                                               catalog_money_in(l->unit_price, o->currency), "line_total",
                                               catalog_money_in(l->line_total, o->currency), "url",
                                               arena_printf(req->pool, "/products/%s", l->product_slug)));
    }
    json_t *events = json_array();
    for (int i = 0; i < v->nevents; i++)
        json_array_append_new(events, json_pack("{s:s,s:s,s:s}", "status", status_text(v->events[i].to), "at",
                                                when(req, v->events[i].at), "note", v->events[i].note));
    const char *q = token && *token ? arena_printf(req->pool, "?t=%s", token) : "";
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:s,s:s}",
                          "number", o->number, "status", o->status, "status_text", status_text(o->status), "placed",
                          when(req, o->created_at), "lines", lines, "events", events, "subtotal",
                          catalog_money_in(o->subtotal, o->currency), "shipping",
                          catalog_money_in(o->shipping, o->currency), "tax", catalog_money_in(o->tax, o->currency),
                          "total", catalog_money_in(o->total, o->currency), "ship_name", o->ship_name, "ship_line1",
                          o->ship_line1, "ship_line2", o->ship_line2, "ship_city", o->ship_city, "ship_postcode",
                          o->ship_postcode, "ship_country", address_country_name(o->ship_country), "payment",
                          !strcmp(o->payment_method, "cod") ? "Cash on delivery" : "Card", "can_cancel", v->can_cancel,
                          "awaiting_card", !strcmp(o->status, "pending_payment"), "has_invoice",
                          strcmp(o->status, "pending_payment") && strcmp(o->status, "cancelled"), "query", q, "token",
                          token ? token : "");
    json_object_set_new(j, "express", json_boolean(!strcmp(o->shipping_method, "express")));
    json_object_set_new(j, "paid_online", json_boolean(!strcmp(o->status, "paid")));
    return j;
}

static order_view *load(http_request *req, http_response *res, order_viewer *who)
{
    order_view *v = malloc(sizeof *v);
    if (!v) abort();
    shop_error e;
    /* a guest's own order from this session, even without the link */
    static __thread char remembered[64];
    if (!who->token && !who->user_id && session_order_token(req, req_param(req, "number"), remembered, sizeof remembered))
        who->token = remembered;
    if (orders_view(req_param(req, "number"), who, v, &e) != SHOP_OK) {
        free(v);
        view_shop_error(req, res, &e);
        return NULL;
    }
    return v;
}

void order_show(http_request *req, http_response *res)
{
    order_viewer who = viewer_of(req);
    order_view *v = load(req, res, &who);
    if (!v) return;
    json_t *ctx = json_pack("{s:s,s:o}", "page_title", arena_printf(req->pool, "Order %s", v->order.number), "order",
                            order_json(req, v, who.user_id ? NULL : who.token));
    free(v);
    view_page(req, res, 200, "orders/order", ctx);
}

void order_cancel(http_request *req, http_response *res)
{
    order_viewer who = viewer_of(req);
    who.staff = false; /* a shopper's own cancel button */
    order_view *v = load(req, res, &who);
    if (!v) return;
    shop_error e;
    const char *to = !strcmp(v->order.status, "paid") ? "refunded" : "cancelled";
    const char *q = !who.user_id && who.token ? arena_printf(req->pool, "?t=%s", who.token) : "";
    char number[13];
    memcpy(number, v->order.number, sizeof number);
    bool can = v->can_cancel;
    free(v);
    if (!can) {
        res_error(req, res, 409, "This order can no longer be cancelled: it is on its way. Contact us about a return.");
        return;
    }
    if (orders_transition(number, to, who.user_id ? "shopper" : "guest", "cancelled by the shopper", &e) != SHOP_OK) {
        view_shop_error(req, res, &e);
        return;
    }
    view_done(req, res, arena_printf(req->pool, "/orders/%s%s", number, q),
              !strcmp(to, "refunded") ? "Your order is cancelled and your payment refunded."
                                      : "Your order is cancelled.");
}

void order_invoice(http_request *req, http_response *res)
{
    order_viewer who = viewer_of(req);
    order_view *v = load(req, res, &who);
    if (!v) return;
    bool ready = strcmp(v->order.status, "pending_payment") && strcmp(v->order.status, "cancelled");
    char number[13];
    memcpy(number, v->order.number, sizeof number);
    free(v);
    if (!ready) {
        res_error(req, res, 409, "There is no invoice for an unpaid or cancelled order.");
        return;
    }
    char path[512];
    if (invoice_ensure(number, path, sizeof path) != 0) {
        res_error(req, res, 503, "The invoice is being prepared. Please try again in a minute.");
        return;
    }
    res_header(res, "Content-Disposition", arena_printf(req->pool, "inline; filename=\"invoice-%s.pdf\"", number));
    if (req->from_trusted_proxy && req->peer_ip && !strcmp(req->peer_ip, "unix")) {
        /* nginx sends the file from its internal location */
        res_header(res, "X-Accel-Redirect", arena_printf(req->pool, "/internal/invoices/%s.pdf", number));
        res_html(res, 200, "", 0);
        res->content_type = "application/pdf";
        return;
    }
    /* straight to the app (tests of the app alone): send the bytes */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0) close(fd);
        res_error(req, res, 503, "The invoice could not be read.");
        return;
    }
    buf b = BUF_INIT;
    buf_reserve(&b, (size_t)sb.st_size);
    ssize_t n;
    char chunk[65536];
    while ((n = read(fd, chunk, sizeof chunk)) > 0) buf_append(&b, chunk, (size_t)n);
    close(fd);
    res_html(res, 200, b.data ? b.data : "", b.len);
    res->content_type = "application/pdf";
    buf_free(&b);
}

void checkout_pay(http_request *req, http_response *res)
{
    order_viewer who = viewer_of(req);
    payment_result pr;
    shop_error e;
    if (orders_card_payment(req_param(req, "number"), &who, &pr, &e) != SHOP_OK) {
        if (e.status == SHOP_CONFLICT) {
            /* paid or cancelled already: show the order */
            const char *q = who.token ? arena_printf(req->pool, "?t=%s", who.token) : "";
            res_redirect(res, 303, arena_printf(req->pool, "/orders/%s%s", req_param(req, "number"), q));
            return;
        }
        view_shop_error(req, res, &e);
        return;
    }
    order_view *v = load(req, res, &who);
    if (!v) return;
    json_t *ctx = json_pack("{s:s,s:o,s:s,s:s,s:s}", "page_title", "Pay by card", "order",
                            order_json(req, v, who.user_id ? NULL : who.token), "client_secret", pr.client_secret,
                            "publishable_key", cfg.stripe_publishable_key, "return_url",
                            arena_printf(req->pool, "%s/checkout/return/%s%s", cfg.public_url, v->order.number,
                                         !who.user_id && who.token ? arena_printf(req->pool, "?t=%s", who.token) : ""));
    free(v);
    security_allow_card_form(req, res);
    view_page(req, res, 200, "orders/pay", ctx);
}

void checkout_return(http_request *req, http_response *res)
{
    order_viewer who = viewer_of(req);
    shop_error e;
    bool paid = false;
    if (orders_card_return(req_param(req, "number"), &who, &paid, &e) != SHOP_OK) {
        view_shop_error(req, res, &e);
        return;
    }
    const char *q = !who.user_id && who.token ? arena_printf(req->pool, "?t=%s", who.token) : "";
    if (paid) {
        view_done(req, res, arena_printf(req->pool, "/orders/%s%s", req_param(req, "number"), q),
                  "Thank you! Your payment is received.");
        return;
    }
    order_view *v = load(req, res, &who);
    if (!v) return;
    json_t *ctx = json_pack("{s:s,s:o,s:b}", "page_title", "Confirming your payment", "order",
                            order_json(req, v, who.user_id ? NULL : who.token), "cancelled",
                            !strcmp(v->order.status, "cancelled"));
    free(v);
    view_page(req, res, 202, "orders/pending", ctx);
}

void account_order_list(http_request *req, http_response *res)
{
    order_row rows[50];
    int n = 0;
    shop_error e;
    if (orders_of_user(req->session->user_id, rows, 50, 0, &n, &e) != SHOP_OK) {
        view_shop_error(req, res, &e);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:o}", "number", rows[i].number, "status",
                                              status_text(rows[i].status), "placed", when(req, rows[i].created_at),
                                              "total", catalog_money_in(rows[i].total, rows[i].currency)));
    view_page(req, res, 200, "account/orders",
              json_pack("{s:s,s:o,s:b,s:b}", "page_title", "Your orders", "orders", list, "has_orders", n > 0,
                        "nav_orders", 1));
}
