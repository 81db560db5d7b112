/* router.c — see router.h. A linear scan: the route table is a few dozen
 * entries, and a segment-wise compare is cheaper than any hashing here. */
#include "http/router.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ROUTES 256

struct route {
    const char *method;
    const char *pattern;
    http_handler handler;
    const route_policy *policy;
};

const route_policy POLICY_PUBLIC = {0};

bool policy_method_changes_state(const char *method)
{
    return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

static struct route routes[MAX_ROUTES];
static int n_routes;

void router_add_route(const route_def *r)
{
    if (n_routes == MAX_ROUTES || r->pattern[0] != '/') abort(); /* start-up programming error */
    routes[n_routes++] = (struct route){r->method, r->pattern, r->handler, r->policy ? r->policy : &POLICY_PUBLIC};
}

void router_add(const char *method, const char *pattern, http_handler handler)
{
    router_add_route(&(route_def){method, pattern, handler, NULL});
}

void router_add_table(const route_def *table, int n)
{
    for (int i = 0; i < n; i++) router_add_route(&table[i]);
}

void router_clear(void) { n_routes = 0; }

/* Match `path` against `pattern`, recording captures into req (if any). */
static bool match(const char *pattern, const char *path, http_request *req)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *seg_end = strchr(s, '/');
            if (!seg_end) seg_end = s + strlen(s);
            if (!close || seg_end == s || np == HTTP_MAX_PARAMS) return false;
            if (req) {
                req->params[np].name = arena_strndup(req->pool, p + 1, (size_t)(close - p - 1));
                req->params[np].value = arena_strndup(req->pool, s, (size_t)(seg_end - s));
            }
            np++;
            p = close + 1;
            s = seg_end;
        } else if (*p == *s) {
            p++;
            s++;
        } else {
            return false;
        }
    }
    if (*p || *s) return false;
    if (req) req->nparams = np;
    return true;
}

enum route_result router_match(http_request *req, http_handler *handler)
{
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    bool path_matched = false;
    for (int i = 0; i < n_routes; i++) {
        if (!match(routes[i].pattern, req->path, req)) continue;
        /* a hidden route's path never answers 405: that would show it exists */
        if (!routes[i].policy || !routes[i].policy->hidden) path_matched = true;
        if (strcmp(routes[i].method, method) == 0) {
            *handler = routes[i].handler;
            req->route = i;
            req->policy = routes[i].policy;
            return ROUTE_FOUND;
        }
    }
    req->nparams = 0;
    return path_matched ? ROUTE_METHOD_NOT_ALLOWED : ROUTE_NOT_FOUND;
}

const route_policy *router_peek(const char *method, const char *path)
{
    if (!strcmp(method, "HEAD")) method = "GET";
    for (int i = 0; i < n_routes; i++)
        if (!strcmp(routes[i].method, method) && match(routes[i].pattern, path, NULL)) return routes[i].policy;
    return NULL;
}

bool router_has_get(const char *pattern)
{
    for (int i = 0; i < n_routes; i++)
        if (!strcmp(routes[i].method, "GET") && !strcmp(routes[i].pattern, pattern)) return true;
    return false;
}

int router_count(void) { return n_routes; }
const char *router_pattern(int i) { return i >= 0 && i < n_routes ? routes[i].pattern : NULL; }
const char *router_method(int i) { return i >= 0 && i < n_routes ? routes[i].method : NULL; }
const route_policy *router_policy(int i) { return i >= 0 && i < n_routes ? routes[i].policy : NULL; }
