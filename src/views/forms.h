/* forms.h — what every personal page and form shares: the CSRF token, the
 * signed-in shopper for the header, the one-time message, form fields
 * with their errors, and the HTTP status of a shop_error.
 *
 *   json_t *ctx = json_object();
 *   json_t *fields = json_array();
 *   json_array_append_new(fields, view_field("email", "E-mail address", "email", typed, "email"));
 *   if (rc != SHOP_OK) view_form_error(ctx, fields, &e);
 *   json_object_set_new(ctx, "fields", fields);
 *   view_page(req, res, view_error_status(&e), "account/login", ctx);   // consumes ctx
 */
#ifndef SHOEASE_VIEWS_FORMS_H
#define SHOEASE_VIEWS_FORMS_H

#include "http/http.h"
#include "shop/result.h"

#include <jansson.h>

/* {name, label, type, value, autocomplete, required: true}. value NULL: empty
 * (password fields never echo what was typed). */
json_t *view_field(const char *name, const char *label, const char *type, const char *value, const char *autocomplete);
/* Put e's message on the field it names (its "error"), or as the form's
 * "error". */
void view_form_error(json_t *ctx, json_t *fields, const shop_error *e);
/* 422 invalid, 403 denied, 404, 409, 410 expired, 429 locked, 503. */
int view_error_status(const shop_error *e);
/* The error page for a refusal of the shop: its status, its message (shown
 * also for "unavailable"), Retry-After when locked. */
void view_shop_error(http_request *req, http_response *res, const shop_error *e);
/* Add csrf, me ({name, email?}), flash to ctx, render the page template
 * with the layout, answer with status. Consumes ctx. */
void view_page(http_request *req, http_response *res, int status, const char *name, json_t *ctx);
/* A POST's happy end: a one-time message, then 303 to location. */
void view_done(http_request *req, http_response *res, const char *location, const char *message);
/* A same-site path to go back to after signing in, or dflt. */
const char *view_safe_next(const char *next, const char *dflt);

#endif
