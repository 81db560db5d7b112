/* app.c — the route table, the job table and per-worker set-up. Each area
 * of the shop registers its routes and its background jobs here, so this
 * file is the map of every URL and every job. */
#include "app.h"

#include "api/catalog_api.h"
#include "api/suggest_api.h"
#include "api/webhooks.h"

#include "cache/redis.h"
#include "core/config.h"
#include "cache/version_watch.h"
#include "db/db.h"
#include "events/activity.h"
#include "events/mongo.h"
#include "events/writer.h"
#include "http/router.h"
#include "jobs/queue.h"
#include "jobs/runner.h"
#include "jobs/schedule.h"
#include "jobs/system_jobs.h"
#include "media/image.h"
#include "notify/notify_jobs.h"
#include "print/invoice.h"
#include "shop/accounts.h"
#include "shop/orders.h"
#include "views/views.h"
#include "web/health.h"
#include "web/metrics.h"
#include "web/test_hooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- policies (http/policy.h): what each kind of route needs ---------- */

/* the same for everybody: page-cached, never sees a session */
#define SHARED NULL
/* the app's own loopback listener only (nginx answers 404) */
static const route_policy LOOPBACK = {.access = ACCESS_LOOPBACK};
/* personal, read-only: private answers from the visitor's session/cookie */
static const route_policy PERSONAL = {.cache = CACHE_PERSONAL};
/* a page with a form: makes an anonymous session so the form has a token */
static const route_policy FORM = {.cache = CACHE_PERSONAL, .form = true};
/* the form posts of signing up and in, with their abuse limits */
static const route_policy REGISTER = {.cache = CACHE_PERSONAL, .rate = RATE_REGISTER};
static const route_policy LOGIN = {.cache = CACHE_PERSONAL, .rate = RATE_LOGIN};
static const route_policy RESET = {.cache = CACHE_PERSONAL, .rate = RATE_RESET};
static const route_policy RESET_CHOOSE = {
    .cache = CACHE_PERSONAL, .rate = RATE_WRITE,
    .params = (const param_spec[]){{"token", PARAM_TOKEN, .required = true}, {NULL}}};
static const route_policy RESET_LINK = {
    .cache = CACHE_PERSONAL, .form = true,
    .params = (const param_spec[]){{"token", PARAM_TOKEN, .required = true, .where = PARAM_QUERY}, {NULL}}};
static const route_policy VERIFY_LINK = {
    .cache = CACHE_PERSONAL,
    .params = (const param_spec[]){{"token", PARAM_TOKEN, .required = true, .where = PARAM_QUERY}, {NULL}}};
static const route_policy SMS_LOGIN = {.cache = CACHE_PERSONAL, .rate = RATE_OTP_SEND};
static const route_policy SMS_CODE = {.cache = CACHE_PERSONAL, .rate = RATE_OTP_CHECK};
/* the second step of signing in: a password was right, a code is due */
static const route_policy MFA_FORM = {.cache = CACHE_PERSONAL, .mfa_step = true};
static const route_policy MFA_CHECK = {.cache = CACHE_PERSONAL, .mfa_step = true, .rate = RATE_OTP_CHECK};
static const route_policy MFA_SEND = {.cache = CACHE_PERSONAL, .mfa_step = true, .rate = RATE_OTP_SEND};
/* signed in */
static const route_policy SHOPPER = {.access = ACCESS_SHOPPER, .cache = CACHE_PERSONAL};
static const route_policy SHOPPER_WRITE = {.access = ACCESS_SHOPPER, .cache = CACHE_PERSONAL, .rate = RATE_WRITE};
/* signed in with a verified e-mail address: saved data (addresses, sizes, orders) */
static const route_policy VERIFIED = {.access = ACCESS_VERIFIED, .cache = CACHE_PERSONAL};
static const route_policy VERIFIED_WRITE = {.access = ACCESS_VERIFIED, .cache = CACHE_PERSONAL, .rate = RATE_WRITE};
/* one of the shopper's addresses: /account/addresses/{id}/... (a foreign id is a 404) */
#define ADDRESS_ID (const param_spec[]){{"id", PARAM_INT, .required = true, .min = 1, .where = PARAM_PATH}, {NULL}}
static const route_policy VERIFIED_ADDRESS = {.access = ACCESS_VERIFIED, .cache = CACHE_PERSONAL, .params = ADDRESS_ID};
static const route_policy VERIFIED_ADDRESS_WRITE = {
    .access = ACCESS_VERIFIED, .cache = CACHE_PERSONAL, .rate = RATE_WRITE, .params = ADDRESS_ID};
/* one of the shopper's sessions, by its public handle (64 hex) */
static const route_policy SHOPPER_SESSION_WRITE = {
    .access = ACCESS_SHOPPER, .cache = CACHE_PERSONAL, .rate = RATE_WRITE,
    .params = (const param_spec[]){{"key", PARAM_TOKEN, .required = true, .where = PARAM_PATH}, {NULL}}};
/* signed in, and the password again: guesses are limited like sign-ins */
static const route_policy SHOPPER_PASSWORD = {.access = ACCESS_SHOPPER, .cache = CACHE_PERSONAL, .rate = RATE_LOGIN};
/* signed in: a one-time code sent by SMS, and codes checked */
static const route_policy SHOPPER_OTP_SEND = {.access = ACCESS_SHOPPER, .cache = CACHE_PERSONAL, .rate = RATE_OTP_SEND};
static const route_policy SHOPPER_OTP_CHECK = {.access = ACCESS_SHOPPER, .cache = CACHE_PERSONAL, .rate = RATE_OTP_CHECK};
/* anyone, changing state (sign out works even for an expired session) */
static const route_policy WRITE = {.cache = CACHE_PERSONAL, .rate = RATE_WRITE};
/* the bag and checkout: guests too; a line is addressed by its variant id */
static const route_policy CART_LINE = {
    .cache = CACHE_PERSONAL, .rate = RATE_WRITE,
    .params = (const param_spec[]){{"variant", PARAM_INT, .required = true, .min = 1, .max = 2147483647, .where = PARAM_PATH},
                                   {NULL}}};
/* an order: its buyer, or whoever holds the mail's link (orders_view decides) */
static const route_policy ORDER = {
    .cache = CACHE_PERSONAL,
    .params = (const param_spec[]){{"number", PARAM_TEXT, .required = true, .max_len = 12, .where = PARAM_PATH},
                                   {"t", PARAM_TOKEN}, {NULL}}};
static const route_policy ORDER_WRITE = {
    .cache = CACHE_PERSONAL, .rate = RATE_WRITE,
    .params = (const param_spec[]){{"number", PARAM_TEXT, .required = true, .max_len = 12, .where = PARAM_PATH},
                                   {"t", PARAM_TOKEN}, {NULL}}};
/* a shopper's review of a shoe: saved data, so a confirmed e-mail */
static const route_policy REVIEW_FORM = {
    .access = ACCESS_VERIFIED, .cache = CACHE_PERSONAL,
    .params = (const param_spec[]){{"slug", PARAM_SLUG, .required = true, .where = PARAM_PATH}, {NULL}}};
static const route_policy REVIEW_POST = {
    .access = ACCESS_VERIFIED, .cache = CACHE_PERSONAL, .rate = RATE_WRITE,
    .params = (const param_spec[]){{"slug", PARAM_SLUG, .required = true, .where = PARAM_PATH}, {NULL}}};
/* the card provider's events: no session, no CSRF token — the request is
 * authenticated by its Stripe-Signature (api/webhooks.c) */
static const route_policy SIGNED_WEBHOOK = {.cache = CACHE_PERSONAL, .csrf_exempt = true};

/* ---------- the route table: every URL of the shop ---------- */

static const route_def routes[] = {
    {"GET", "/healthz", health_live, SHARED},
    {"GET", "/readyz", health_ready, SHARED},
    {"GET", "/metrics", metrics_handler, &LOOPBACK},

    {"GET", "/api/v1/categories", api_categories, SHARED},
    {"GET", "/api/v1/products", api_products, SHARED},
    {"GET", "/api/v1/products/{slug}", api_product, SHARED},
    {"GET", "/api/v1/openapi.json", api_openapi, SHARED},
    {"GET", "/api/v1/search/suggest", api_search_suggest, &PERSONAL},

    /* storefront pages (views/) */
    {"GET", "/", views_home, SHARED},
    {"GET", "/shoes", views_all_shoes, SHARED},
    {"GET", "/category/{slug}", views_category, SHARED},
    {"GET", "/products/{slug}", views_product, SHARED},
    {"GET", "/search", views_search, SHARED},
    {"GET", "/products/{slug}/review", review_form_show, &REVIEW_FORM},
    {"POST", "/products/{slug}/review", review_submit, &REVIEW_POST},
    /* personal parts of shared pages, fetched by site.js (views/personal.c) */
    {"GET", "/fragments/header", views_header_fragment, &FORM},
    {"GET", "/fragments/recently-viewed", views_recently_viewed, &PERSONAL},

    /* accounts: becoming and proving who you are (views/account_auth.c) */
    {"GET", "/account/register", account_register_form, &FORM},
    {"POST", "/account/register", account_register, &REGISTER},
    {"GET", "/account/register/sent", account_register_sent, &PERSONAL},
    {"GET", "/account/verify", account_verify, &VERIFY_LINK},
    {"GET", "/account/verify/needed", account_verify_needed, &SHOPPER},
    {"POST", "/account/verify/resend", account_verify_resend, &SHOPPER_WRITE},
    {"GET", "/account/login", account_login_form, &FORM},
    {"POST", "/account/login", account_login, &LOGIN},
    {"GET", "/account/login/verify", account_second_step_form, &MFA_FORM},
    {"POST", "/account/login/verify", account_second_step, &MFA_CHECK},
    {"POST", "/account/login/verify/send", account_second_step_send, &MFA_SEND},
    {"GET", "/account/login/sms", account_sms_login_form, &FORM},
    {"POST", "/account/login/sms", account_sms_login, &SMS_LOGIN},
    {"POST", "/account/login/sms/code", account_sms_login_code, &SMS_CODE},
    {"POST", "/account/logout", account_logout, &WRITE},
    {"GET", "/account/reset", account_reset_form, &FORM},
    {"POST", "/account/reset", account_reset, &RESET},
    {"GET", "/account/reset/choose", account_reset_choose_form, &RESET_LINK},
    {"POST", "/account/reset/choose", account_reset_choose, &RESET_CHOOSE},

    /* the bag, checkout and orders (views/cart.c, views/order_pages.c) */
    {"GET", "/cart", cart_show, &FORM},
    {"GET", "/cart/add", cart_add_confirm, &FORM},
    {"POST", "/cart/add", cart_add_post, &WRITE},
    {"POST", "/cart/lines/{variant}/quantity", cart_line_quantity, &CART_LINE},
    {"POST", "/cart/lines/{variant}/remove", cart_line_remove, &CART_LINE},
    {"POST", "/cart/lines/{variant}/save", cart_line_save, &CART_LINE},
    {"POST", "/cart/lines/{variant}/unsave", cart_line_unsave, &CART_LINE},
    {"POST", "/cart/restored/dismiss", cart_dismiss, &WRITE},
    {"GET", "/checkout", checkout_show, &FORM},
    {"POST", "/checkout", checkout_place, &WRITE},
    {"GET", "/checkout/pay/{number}", checkout_pay, &ORDER},
    {"GET", "/checkout/return/{number}", checkout_return, &ORDER},
    {"GET", "/orders/{number}", order_show, &ORDER},
    {"POST", "/orders/{number}/cancel", order_cancel, &ORDER_WRITE},
    {"GET", "/orders/{number}/invoice", order_invoice, &ORDER},
    {"POST", "/webhooks/stripe", api_stripe_webhook, &SIGNED_WEBHOOK},

    /* the account (views/account_pages.c) */
    {"GET", "/account", account_overview, &SHOPPER},
    {"GET", "/account/profile", account_profile_form, &SHOPPER},
    {"POST", "/account/profile", account_profile, &SHOPPER_WRITE},
    {"GET", "/account/addresses", account_addresses, &VERIFIED},
    {"GET", "/account/addresses/new", account_address_new_form, &VERIFIED},
    {"POST", "/account/addresses/new", account_address_new, &VERIFIED_WRITE},
    {"GET", "/account/addresses/{id}/edit", account_address_edit_form, &VERIFIED_ADDRESS},
    {"POST", "/account/addresses/{id}/edit", account_address_edit, &VERIFIED_ADDRESS_WRITE},
    {"POST", "/account/addresses/{id}/delete", account_address_delete, &VERIFIED_ADDRESS_WRITE},
    {"POST", "/account/addresses/{id}/default", account_address_default, &VERIFIED_ADDRESS_WRITE},
    {"GET", "/account/preferences", account_preferences_form, &VERIFIED},
    {"POST", "/account/preferences", account_preferences, &VERIFIED_WRITE},
    {"GET", "/account/orders", account_order_list, &VERIFIED},
    {"GET", "/account/security", account_security, &SHOPPER},
    {"POST", "/account/sessions/end-others", account_sessions_end_others, &SHOPPER_WRITE},
    {"POST", "/account/sessions/{key}/end", account_session_end, &SHOPPER_SESSION_WRITE},
    {"POST", "/account/security/password", account_password, &SHOPPER_PASSWORD},
    {"POST", "/account/security/phone", account_phone, &SHOPPER_OTP_SEND},
    {"GET", "/account/security/phone/confirm", account_phone_confirm_form, &SHOPPER},
    {"POST", "/account/security/phone/confirm", account_phone_confirm, &SHOPPER_OTP_CHECK},
    /* a GET that writes a pending (not yet active) secret: limited like other writes */
    {"GET", "/account/security/totp", account_totp_form, &SHOPPER_WRITE},
    {"POST", "/account/security/totp", account_totp, &SHOPPER_OTP_CHECK},
    {"POST", "/account/security/two-step", account_two_step, &SHOPPER_PASSWORD},
    {"POST", "/account/security/recovery", account_recovery, &SHOPPER_PASSWORD},
    {"GET", "/account/delete", account_delete_form, &SHOPPER},
    {"POST", "/account/delete", account_delete, &SHOPPER_PASSWORD},
};

/* ---------- the admin portal: mounted under ADMIN_PATH ---------- */

/* Every admin route is hidden: anyone but staff gets the site's ordinary
 * 404 (http/policy.h). */
static const route_policy STAFF_PAGE = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true};
static const route_policy STAFF_WRITE = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                         .rate = RATE_WRITE};
/* refunds, deleting: the password again (ADMIN_REAUTH_SECONDS) */
static const route_policy STAFF_DANGER = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                          .rate = RATE_WRITE, .reauth = true};
static const route_policy SUPERUSER_PAGE = {.access = ACCESS_SUPERUSER, .cache = CACHE_PERSONAL, .hidden = true};
static const route_policy SUPERUSER_DANGER = {.access = ACCESS_SUPERUSER, .cache = CACHE_PERSONAL, .hidden = true,
                                              .rate = RATE_WRITE, .reauth = true};
/* one row of a screen: /…/{id} (categories, brands, colours, reviews) */
#define ADMIN_ROW_ID (const param_spec[]){{"id", PARAM_INT, .required = true, .min = 1, .max = 4294967295LL, \
                                           .where = PARAM_PATH}, {NULL}}
static const route_policy STAFF_ROW = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                       .params = ADMIN_ROW_ID};
static const route_policy STAFF_ROW_WRITE = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                             .rate = RATE_WRITE, .params = ADMIN_ROW_ID};
static const route_policy STAFF_ROW_DANGER = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                              .rate = RATE_WRITE, .reauth = true, .params = ADMIN_ROW_ID};

/* a product's images (views/admin_images.c): the upload takes a multipart
 * body up to UPLOAD_MAX_BYTES; deleting asks for the password again */
#define ADMIN_PRODUCT_ID {"id", PARAM_INT, .required = true, .min = 1, .max = 4294967295LL, .where = PARAM_PATH}
#define ADMIN_IMAGE_ID {"image", PARAM_INT, .required = true, .min = 1, .max = 4294967295LL, .where = PARAM_PATH}
#define ADMIN_IMAGE_FORM {"alt", PARAM_TEXT, .max_len = 1000, .where = PARAM_FORM}
static const route_policy IMAGES_PAGE = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                         .params = (const param_spec[]){ADMIN_PRODUCT_ID, {NULL}}};
static const route_policy IMAGES_UPLOAD = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                           .rate = RATE_WRITE, .upload = true,
                                           .params = (const param_spec[]){ADMIN_PRODUCT_ID, ADMIN_IMAGE_FORM, {NULL}}};
static const route_policy IMAGE_WRITE = {
    .access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true, .rate = RATE_WRITE,
    .params = (const param_spec[]){ADMIN_PRODUCT_ID, ADMIN_IMAGE_ID, ADMIN_IMAGE_FORM,
                                   {"to", PARAM_TEXT, .max_len = 10, .where = PARAM_FORM}, {NULL}}};
static const route_policy IMAGE_DANGER = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                          .rate = RATE_WRITE, .reauth = true,
                                          .params = (const param_spec[]){ADMIN_PRODUCT_ID, ADMIN_IMAGE_ID, {NULL}}};

/* an order, by its number (views/admin_orders.c) */
#define ADMIN_ORDER_NUMBER (const param_spec[]){{"number", PARAM_TEXT, .required = true, .max_len = 12, \
                                                 .where = PARAM_PATH}, {NULL}}
static const route_policy STAFF_ORDER = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                         .params = ADMIN_ORDER_NUMBER};
static const route_policy STAFF_ORDER_WRITE = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                               .rate = RATE_WRITE, .params = ADMIN_ORDER_NUMBER};
static const route_policy STAFF_ORDER_DANGER = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                                .rate = RATE_WRITE, .reauth = true, .params = ADMIN_ORDER_NUMBER};
/* a user's role (views/admin_customers.c): superusers, the password again */
static const route_policy SUPERUSER_ROW_DANGER = {.access = ACCESS_SUPERUSER, .cache = CACHE_PERSONAL, .hidden = true,
                                                  .rate = RATE_WRITE, .reauth = true, .params = ADMIN_ROW_ID};
/* a dead job, by its id (views/admin_jobs.c) */
#define ADMIN_JOB_ID (const param_spec[]){{"id", PARAM_TEXT, .required = true, .max_len = 128, .where = PARAM_PATH}, \
                                           {NULL}}
static const route_policy STAFF_JOB_WRITE = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                             .rate = RATE_WRITE, .params = ADMIN_JOB_ID};
static const route_policy STAFF_JOB_DANGER = {.access = ACCESS_STAFF, .cache = CACHE_PERSONAL, .hidden = true,
                                              .rate = RATE_WRITE, .reauth = true, .params = ADMIN_JOB_ID};

/* Patterns relative to ADMIN_PATH ("" is the portal's front page). */
static const route_def admin_routes[] = {
    {"GET", "", admin_dashboard, &STAFF_PAGE},
    {"GET", "/", admin_dashboard, &STAFF_PAGE},
    {"GET", "/audit", admin_audit, &STAFF_PAGE},
    /* a product's images (views/admin_images.c) */
    {"GET", "/products/{id}/images", admin_images, &IMAGES_PAGE},
    {"POST", "/products/{id}/images", admin_images_upload, &IMAGES_UPLOAD},
    {"POST", "/products/{id}/images/{image}/edit", admin_image_edit, &IMAGE_WRITE},
    {"POST", "/products/{id}/images/{image}/move", admin_image_move, &IMAGE_WRITE},
    {"POST", "/products/{id}/images/{image}/delete", admin_image_delete, &IMAGE_DANGER},
    /* categories (a tree), brands, colours (views/admin_taxonomy.c): "/new" before "/{id}" */
    {"GET", "/categories", admin_categories, &STAFF_PAGE},
    {"GET", "/categories/new", admin_category_new, &STAFF_PAGE},
    {"POST", "/categories/new", admin_category_create, &STAFF_WRITE},
    {"GET", "/categories/{id}", admin_category_edit, &STAFF_ROW},
    {"POST", "/categories/{id}", admin_category_update, &STAFF_ROW_WRITE},
    {"POST", "/categories/{id}/delete", admin_category_delete, &STAFF_ROW_DANGER},
    {"GET", "/brands", admin_brands, &STAFF_PAGE},
    {"GET", "/brands/new", admin_brand_new, &STAFF_PAGE},
    {"POST", "/brands/new", admin_brand_create, &STAFF_WRITE},
    {"GET", "/brands/{id}", admin_brand_edit, &STAFF_ROW},
    {"POST", "/brands/{id}", admin_brand_update, &STAFF_ROW_WRITE},
    {"POST", "/brands/{id}/delete", admin_brand_delete, &STAFF_ROW_DANGER},
    {"GET", "/colours", admin_colours, &STAFF_PAGE},
    {"GET", "/colours/new", admin_colour_new, &STAFF_PAGE},
    {"POST", "/colours/new", admin_colour_create, &STAFF_WRITE},
    {"GET", "/colours/{id}", admin_colour_edit, &STAFF_ROW},
    {"POST", "/colours/{id}", admin_colour_update, &STAFF_ROW_WRITE},
    {"POST", "/colours/{id}/delete", admin_colour_delete, &STAFF_ROW_DANGER},
    /* review moderation (views/admin_reviews.c): "/bulk" before "/{id}" */
    {"GET", "/reviews", admin_reviews, &STAFF_PAGE},
    {"POST", "/reviews/bulk", admin_reviews_bulk, &STAFF_WRITE},
    {"GET", "/reviews/{id}", admin_review, &STAFF_ROW},
    {"POST", "/reviews/{id}/moderate", admin_review_moderate, &STAFF_ROW_WRITE},
    {"POST", "/reviews/{id}/reply", admin_review_reply, &STAFF_ROW_WRITE},
    /* products, the size grid, stock (views/admin_products.c): "/new" and "/bulk" before "/{id}" */
    {"GET", "/products", admin_products, &STAFF_PAGE},
    {"GET", "/products/new", admin_product_new, &STAFF_PAGE},
    {"POST", "/products/new", admin_product_create, &STAFF_WRITE},
    {"POST", "/products/bulk", admin_products_bulk, &STAFF_WRITE},
    {"GET", "/products/{id}", admin_product_edit, &STAFF_ROW},
    {"POST", "/products/{id}", admin_product_update, &STAFF_ROW_WRITE},
    {"GET", "/products/{id}/variants", admin_product_variants, &STAFF_ROW},
    {"POST", "/products/{id}/variants", admin_product_stock_grid, &STAFF_ROW_WRITE},
    {"GET", "/products/{id}/variants/new-run", admin_size_run_new, &STAFF_ROW},
    {"POST", "/products/{id}/variants/new-run", admin_size_run_create, &STAFF_ROW_WRITE},
    {"GET", "/variants/{id}/stock", admin_variant_stock, &STAFF_ROW},
    {"POST", "/variants/{id}/stock", admin_variant_stock_adjust, &STAFF_ROW_WRITE},
    /* orders (views/admin_orders.c; the invoice is the shop's own access-checked handler) */
    {"GET", "/orders", admin_orders, &STAFF_PAGE},
    {"GET", "/orders/{number}", admin_order, &STAFF_ORDER},
    {"POST", "/orders/{number}/move", admin_order_move, &STAFF_ORDER_WRITE},
    {"POST", "/orders/{number}/refund", admin_order_refund, &STAFF_ORDER_DANGER},
    {"POST", "/orders/{number}/resend", admin_order_resend, &STAFF_ORDER_WRITE},
    {"GET", "/orders/{number}/invoice", order_invoice, &STAFF_ORDER},
    /* customers, users and roles (views/admin_customers.c) */
    {"GET", "/customers", admin_customers, &STAFF_PAGE},
    {"GET", "/customers/{id}", admin_customer, &STAFF_ROW},
    {"POST", "/customers/{id}/disable", admin_customer_disable, &STAFF_ROW_WRITE},
    {"POST", "/customers/{id}/enable", admin_customer_enable, &STAFF_ROW_WRITE},
    {"POST", "/customers/{id}/end-sessions", admin_customer_end_sessions, &STAFF_ROW_WRITE},
    {"GET", "/users", admin_users, &SUPERUSER_PAGE},
    {"POST", "/users/{id}/role", admin_user_role, &SUPERUSER_ROW_DANGER},
    /* background jobs (views/admin_jobs.c) */
    {"GET", "/jobs", admin_jobs, &STAFF_PAGE},
    {"POST", "/jobs/dead/{id}/redrive", admin_job_redrive, &STAFF_JOB_WRITE},
    {"POST", "/jobs/dead/{id}/delete", admin_job_delete, &STAFF_JOB_DANGER},
};

static void register_admin(const route_def *table, int n)
{
    for (int i = 0; i < n; i++) {
        route_def r = table[i];
        size_t len = strlen(cfg.admin_path) + strlen(r.pattern) + 1;
        char *pattern = malloc(len); /* lives as long as the process (the router keeps it) */
        if (!pattern) abort();
        snprintf(pattern, len, "%s%s", cfg.admin_path, r.pattern);
        r.pattern = pattern;
        router_add_route(&r);
    }
}

void app_register_routes(void)
{
    router_add_table(routes, (int)(sizeof routes / sizeof *routes));
    register_admin(admin_routes, (int)(sizeof admin_routes / sizeof *admin_routes));
    if (cfg.test_hooks) {
        static const route_def admin_test_routes[] = {{"POST", "/__test/danger", test_hook_admin_danger, &STAFF_DANGER}};
        register_admin(admin_test_routes, 1);
    }
    /* the policies the admin screens take (until each is in use) */
    (void)STAFF_WRITE;
    (void)SUPERUSER_PAGE;
    (void)SUPERUSER_DANGER;
    if (cfg.test_hooks) router_add("GET", "/__test/sleep", test_hook_sleep);
}

/* Queues: {name, threads per worker process, rate limit per second (0:
 * none), entries per read}. JOB_CONCURRENCY / JOB_RATE_LIMITS override. */
static const queue_def queue_table[] = {
    {"default", 2, 0, 16},
    {"mail", 2, 0, 1},      /* one at a time: a mail is recorded as sent right after it left */
    {"sms", 1, 5, 1},       /* gateways allow a few messages a second */
    {"bench", 1, 0, 128},   /* the queue benchmark's no-op jobs */
};

/* Job types: {name, queue, handler, max attempts, first backoff ms, backoff
 * cap ms, done-mark TTL s, timeout s} (0 = the defaults in queue.h). */
static const job_type job_table[] = {
    {"mail.send", "mail", notify_mail_job, 10, 2000, 30 * 60 * 1000, 0, 120},
    {"sms.send", "sms", notify_sms_job, 6, 2000, 5 * 60 * 1000, 0, 60},
    {"outbox.prune", "default", system_outbox_prune_job, 3, 60000, 0, 86400, 600},
    {"jobs.cleanup", "default", system_jobs_cleanup_job, 3, 60000, 0, 86400, 120},
    {"bench.noop", "bench", system_noop_job, 1, 0, 0, 600, 10},
    {"events.prune", "default", events_prune_job, 3, 60000, 0, 86400, 600},
    {"events.forget", "default", events_forget_job, 10, 5000, 0, 0, 120},
    {"accounts.reset", "default", accounts_reset_job, 5, 2000, 0, 600, 60},
    {"orders.expire", "default", orders_expire_job, 3, 10000, 0, 3600, 120},
    {"orders.invoice", "default", invoice_job, 8, 2000, 0, 0, 120},
    {"orders.event", "default", orders_event_job, 10, 2000, 0, 0, 60},
    {"orders.popularity", "default", orders_popularity_job, 3, 60000, 0, 3600, 300},
};

/* Only on the automated tests' stack (TEST_HOOKS=1): jobs that misbehave
 * on purpose, for the fault tests. */
static const job_type test_job_table[] = {
    {"test.touch", "default", test_touch_job, 5, 200, 0, 0, 60},
    {"test.fail", "default", test_fail_job, 3, 200, 0, 0, 10},
    {"test.crash", "default", test_crash_job, 5, 200, 0, 0, 10},
    {"test.reject", "default", test_reject_job, 5, 200, 0, 0, 10},
};

/* Periodic jobs: {name, every N seconds, job type}. */
static const schedule_def schedule_table[] = {
    {"outbox.prune", 3600, "outbox.prune"},
    {"jobs.cleanup", 3600, "jobs.cleanup"},
    {"events.prune", 3600, "events.prune"},
    {"orders.expire", 60, "orders.expire"},
    {"orders.popularity", 3600, "orders.popularity"},
};

#define COUNT(a) ((int)(sizeof(a) / sizeof *(a)))

int app_register_jobs(void)
{
    static job_type all[COUNT(job_table) + COUNT(test_job_table)];
    int n = 0;
    for (int i = 0; i < COUNT(job_table); i++) all[n++] = job_table[i];
    if (cfg.test_hooks)
        for (int i = 0; i < COUNT(test_job_table); i++) all[n++] = test_job_table[i];
    schedule_register(schedule_table, COUNT(schedule_table));
    return queue_register(queue_table, COUNT(queue_table), all, n);
}

/* Threads every `shoease worker` process runs beside its queues. */
static const runner_service runner_services[] = {
    {"events", events_writer_run},   /* backlog → MongoDB (one writer at a time, by lease) */
};

void app_runner_services(runner_config *rc)
{
    rc->services = runner_services;
    rc->nservices = COUNT(runner_services);
}

int app_worker_init(void)
{
    /* libvips for image uploads: before the sandbox (it loads modules) */
    if (image_init() != 0) return -1;
    /* templates (a syntax error stops the worker) and the themed error page */
    if (views_init() != 0) return -1;
    admin_views_init();
    /* Learn catalogue version changes from Redis pushes (cache hits then
     * need no round trip); without it every lookup asks Redis. */
    version_watch_start();
    /* Request and domain events leave through a flusher thread (never in
     * the request's path), to the durable Redis, then MongoDB. */
    activity_on_drop(metrics_events_dropped);
    activity_start();
    /* The MongoDB pool is per process (sockets cannot cross a fork); a bad
     * URI is a configuration error, but a down server is not. */
    return events_init();
}

void app_worker_exit(void)
{
    activity_stop();
    version_watch_stop();
    views_exit();
    events_shutdown();
    db_conn_close();
    cache_close();
}
