/* router.h — method + path pattern → handler.
 *
 * Patterns are literal segments and {name} captures, e.g.
 * "/api/v1/products/{slug}". A capture matches one non-empty segment.
 * Routes are added once at start-up (before workers fork) and are read-only
 * afterwards. */
#ifndef SHOEASE_ROUTER_H
#define SHOEASE_ROUTER_H

#include "http/http.h"
#include "http/policy.h"

/* One route: method, pattern, handler and what it needs (NULL: POLICY_PUBLIC). */
typedef struct route_def {
    const char *method;
    const char *pattern;
    http_handler handler;
    const route_policy *policy;
} route_def;

void router_add(const char *method, const char *pattern, http_handler handler);
void router_add_route(const route_def *r);
/* Every route of a table (n entries). */
void router_add_table(const route_def *table, int n);
void router_clear(void);

enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_METHOD_NOT_ALLOWED };
/* On ROUTE_FOUND sets *handler, req->route (the route's index),
 * req->policy and fills req->params. */
enum route_result router_match(http_request *req, http_handler *handler);
/* The policy of the route a request would take, without touching the
 * request (the body limit is chosen before the body arrives). NULL: none. */
const route_policy *router_peek(const char *method, const char *path);
/* Is there a GET route with exactly this pattern? (The admin portal links
 * only the screens that exist.) */
bool router_has_get(const char *pattern);
/* The table, for metrics labels and policy checks: count and patterns. */
int router_count(void);
const char *router_pattern(int i);
const char *router_method(int i);
const route_policy *router_policy(int i);

#endif
