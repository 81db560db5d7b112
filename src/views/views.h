/* views.h — the storefront's HTML pages (Mustache templates under
 * cfg.template_dir) and the helpers they share.
 *
 * Pages:   GET /                  views_home
 *          GET /shoes             views_all_shoes      (every product)
 *          GET /category/{slug}   views_category
 *          GET /products/{slug}   views_product
 *          GET /search?q=         views_search
 * Each catalogue page goes through the page cache (web/cached.h), so a page
 * must hold nothing that differs between visitors (no session, no request id).
 *
 * Per worker: views_init() loads and compiles every template (a syntax
 * error fails the worker start) and installs the themed error renderer. */
#ifndef SHOEASE_VIEWS_H
#define SHOEASE_VIEWS_H

#include "cache/page_cache.h"
#include "http/http.h"
#include "shop/catalog.h"

#include <jansson.h>
#include <stdbool.h>

/* ---- set-up (render.c) ---- */
int views_init(void);
void views_exit(void);

/* ---- handlers ---- */
void views_home(http_request *req, http_response *res);
void views_all_shoes(http_request *req, http_response *res);
void views_category(http_request *req, http_response *res);
void views_product(http_request *req, http_response *res);
void views_search(http_request *req, http_response *res);
/* account_auth.c: register, verify, sign in (+ second step, SMS), sign out, reset */
void account_register_form(http_request *req, http_response *res);
void account_register(http_request *req, http_response *res);
void account_register_sent(http_request *req, http_response *res);
void account_verify(http_request *req, http_response *res);
void account_verify_needed(http_request *req, http_response *res);
void account_verify_resend(http_request *req, http_response *res);
void account_login_form(http_request *req, http_response *res);
void account_login(http_request *req, http_response *res);
void account_second_step_form(http_request *req, http_response *res);
void account_second_step(http_request *req, http_response *res);
void account_second_step_send(http_request *req, http_response *res);
void account_sms_login_form(http_request *req, http_response *res);
void account_sms_login(http_request *req, http_response *res);
void account_sms_login_code(http_request *req, http_response *res);
void account_logout(http_request *req, http_response *res);
void account_reset_form(http_request *req, http_response *res);
void account_reset(http_request *req, http_response *res);
void account_reset_choose_form(http_request *req, http_response *res);
void account_reset_choose(http_request *req, http_response *res);
/* account_pages.c: the signed-in shopper's account */
void account_overview(http_request *req, http_response *res);
void account_profile_form(http_request *req, http_response *res);
void account_profile(http_request *req, http_response *res);
void account_addresses(http_request *req, http_response *res);
void account_address_new_form(http_request *req, http_response *res);
void account_address_new(http_request *req, http_response *res);
void account_address_edit_form(http_request *req, http_response *res);
void account_address_edit(http_request *req, http_response *res);
void account_address_delete(http_request *req, http_response *res);
void account_address_default(http_request *req, http_response *res);
void account_preferences_form(http_request *req, http_response *res);
void account_preferences(http_request *req, http_response *res);
void account_security(http_request *req, http_response *res);
void account_session_end(http_request *req, http_response *res);
void account_sessions_end_others(http_request *req, http_response *res);
void account_password(http_request *req, http_response *res);
void account_phone(http_request *req, http_response *res);
void account_phone_confirm_form(http_request *req, http_response *res);
void account_phone_confirm(http_request *req, http_response *res);
void account_totp_form(http_request *req, http_response *res);
void account_totp(http_request *req, http_response *res);
void account_two_step(http_request *req, http_response *res);
void account_recovery(http_request *req, http_response *res);
void account_delete_form(http_request *req, http_response *res);
void account_delete(http_request *req, http_response *res);
/* cart.c: the bag and checkout */
void cart_show(http_request *req, http_response *res);
void cart_add_confirm(http_request *req, http_response *res);
void cart_add_post(http_request *req, http_response *res);
void cart_line_quantity(http_request *req, http_response *res);
void cart_line_remove(http_request *req, http_response *res);
void cart_line_save(http_request *req, http_response *res);
void cart_line_unsave(http_request *req, http_response *res);
void cart_dismiss(http_request *req, http_response *res);
void checkout_show(http_request *req, http_response *res);
void checkout_place(http_request *req, http_response *res);
/* order_pages.c: orders after checkout */
void order_show(http_request *req, http_response *res);
void order_cancel(http_request *req, http_response *res);
void order_invoice(http_request *req, http_response *res);
void checkout_pay(http_request *req, http_response *res);
void checkout_return(http_request *req, http_response *res);
void account_order_list(http_request *req, http_response *res);
/* admin.c: the admin portal's audit log, password prompt */
void admin_audit(http_request *req, http_response *res);
void admin_views_init(void);
/* admin_images.c: a product's images (upload, describe, reorder, delete) */
void admin_images(http_request *req, http_response *res);
void admin_images_upload(http_request *req, http_response *res);
void admin_image_edit(http_request *req, http_response *res);
void admin_image_move(http_request *req, http_response *res);
void admin_image_delete(http_request *req, http_response *res);
/* admin_dashboard.c: the portal's front page */
void admin_dashboard(http_request *req, http_response *res);
/* admin_orders.c: orders in the portal (the invoice is order_invoice's) */
void admin_orders(http_request *req, http_response *res);
void admin_order(http_request *req, http_response *res);
void admin_order_move(http_request *req, http_response *res);
void admin_order_refund(http_request *req, http_response *res);
void admin_order_resend(http_request *req, http_response *res);
/* admin_customers.c: customers, users and roles */
void admin_customers(http_request *req, http_response *res);
void admin_customer(http_request *req, http_response *res);
void admin_customer_disable(http_request *req, http_response *res);
void admin_customer_enable(http_request *req, http_response *res);
void admin_customer_end_sessions(http_request *req, http_response *res);
void admin_users(http_request *req, http_response *res);
void admin_user_role(http_request *req, http_response *res);
/* admin_jobs.c: queues and dead letters */
void admin_jobs(http_request *req, http_response *res);
void admin_job_redrive(http_request *req, http_response *res);
void admin_job_delete(http_request *req, http_response *res);
/* reviews.c: a shopper's review of a shoe */
void review_form_show(http_request *req, http_response *res);
void review_submit(http_request *req, http_response *res);
/* admin_products.c: the portal's products, size grid, stock adjustments */
void admin_products(http_request *req, http_response *res);
void admin_product_new(http_request *req, http_response *res);
void admin_product_create(http_request *req, http_response *res);
void admin_products_bulk(http_request *req, http_response *res);
void admin_product_edit(http_request *req, http_response *res);
void admin_product_update(http_request *req, http_response *res);
void admin_product_variants(http_request *req, http_response *res);
void admin_product_stock_grid(http_request *req, http_response *res);
void admin_size_run_new(http_request *req, http_response *res);
void admin_size_run_create(http_request *req, http_response *res);
void admin_variant_stock(http_request *req, http_response *res);
void admin_variant_stock_adjust(http_request *req, http_response *res);
/* admin_taxonomy.c: the portal's categories (tree), brands, colours */
void admin_categories(http_request *req, http_response *res);
void admin_category_new(http_request *req, http_response *res);
void admin_category_create(http_request *req, http_response *res);
void admin_category_edit(http_request *req, http_response *res);
void admin_category_update(http_request *req, http_response *res);
void admin_category_delete(http_request *req, http_response *res);
void admin_brands(http_request *req, http_response *res);
void admin_brand_new(http_request *req, http_response *res);
void admin_brand_create(http_request *req, http_response *res);
void admin_brand_edit(http_request *req, http_response *res);
void admin_brand_update(http_request *req, http_response *res);
void admin_brand_delete(http_request *req, http_response *res);
void admin_colours(http_request *req, http_response *res);
void admin_colour_new(http_request *req, http_response *res);
void admin_colour_create(http_request *req, http_response *res);
void admin_colour_edit(http_request *req, http_response *res);
void admin_colour_update(http_request *req, http_response *res);
void admin_colour_delete(http_request *req, http_response *res);
/* admin_reviews.c: the portal's review moderation queue */
void admin_reviews(http_request *req, http_response *res);
void admin_review(http_request *req, http_response *res);
void admin_review_moderate(http_request *req, http_response *res);
void admin_review_reply(http_request *req, http_response *res);
void admin_reviews_bulk(http_request *req, http_response *res);
/* personal.c: GET /fragments/header and /fragments/recently-viewed (private, not cached) */
void views_header_fragment(http_request *req, http_response *res);
void views_recently_viewed(http_request *req, http_response *res);

/* ---- render.c ---- */
/* Render page template `name` with ctx, adding the layout's keys (site,
 * category nav, header search text) to ctx first. Appends to out. Returns 0,
 * or -1 with the reason logged (the caller answers 500). */
int view_render(http_request *req, const char *name, json_t *ctx, buf *out);
/* The same with the catalogue version the caller has read (cached_page's
 * version after a page-cache miss; < 0 unknown): the category tree is then
 * this worker's copy for that version (catalog_category_tree_shared). */
int view_render_at(http_request *req, const char *name, json_t *ctx, int64_t version, buf *out);
/* The same with a category tree the caller already has (stolen; NULL: no
 * category links). */
int view_render_nav(http_request *req, const char *name, json_t *ctx, json_t *nav, buf *out);

/* Render `name` with ctx (consumed) into page->body and send it through
 * the page cache (at page->version, the version its lookup read); a
 * rendering failure becomes a 500 saying `what`. */
void view_finish_cached(http_request *req, http_response *res, const char *key, cached_page *page, const char *name,
                        json_t *ctx, const char *what);

/* ---- errors.c ---- */
/* The themed error page (installed with http_set_error_renderer). */
int view_render_error(http_request *req, int status, const char *title, const char *message, buf *out);

/* ---- query.c: the query string as the views need it ---- */
/* The current path with its query string rebuilt: every catalogue
 * parameter (catalog.h; not "page", not empty ones), minus
 * `drop_name`=`drop_value` (drop_value NULL: every value of drop_name;
 * drop_name NULL: nothing), then `set_name`=`set_value` when set_name is
 * not NULL. Allocated in the request arena. */
const char *view_url(http_request *req, const char *drop_name, const char *drop_value, const char *set_name,
                     const char *set_value);
/* path plus only the listed parameters (NULL-terminated names) kept. */
const char *view_url_keep(http_request *req, const char *const *keep);
/* path plus every parameter but "page" and the listed ones. */
const char *view_url_without(http_request *req, const char *const *names);

/* ---- listing.c: shared by category, all shoes and search ---- */
/* Decorate a catalog_list() result in place for the templates: pagination
 * links, active-filter chips with remove links, a clear-filters link,
 * facet flags, the result count label, price placeholders. `form_action`
 * is the path the filter form submits to. */
void view_listing_decorate(http_request *req, json_t *listing, const catalog_filter *f, const char *form_action);
/* Add the flags templates need to each product card ("rated",
 * "has_colours"); safe on NULL. */
void view_cards_decorate(json_t *cards);
/* true when v is a non-empty array (Mustache cannot test that). */
bool view_nonempty(json_t *v);

/* ---- breadcrumbs.c ---- */
/* Home › … › this page: the catalogue's trail ([{name,url}], may be NULL)
 * with Home first and {name, path} last unless the trail already ends at
 * path; each crumb gets "last" (the current page, not a link). New reference. */
json_t *view_breadcrumbs(json_t *given, const char *name, const char *path);

#endif
