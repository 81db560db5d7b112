/* app.c — the route table and per-worker set-up. Each area of the shop
 * registers its routes here, so this file is the map of every URL. */
#include "app.h"

#include "api/catalog_api.h"

#include "cache/redis.h"
#include "core/config.h"
#include "cache/version_watch.h"
#include "db/db.h"
#include "events/mongo.h"
#include "http/router.h"
#include "views/views.h"
#include "web/health.h"
#include "web/test_hooks.h"

void app_register_routes(void)
{
    router_add("GET", "/healthz", health_live);
    router_add("GET", "/readyz", health_ready);
    if (cfg.test_hooks) router_add("GET", "/__test/sleep", test_hook_sleep);

    router_add("GET", "/api/v1/categories", api_categories);
    router_add("GET", "/api/v1/products", api_products);
    router_add("GET", "/api/v1/products/{slug}", api_product);
    router_add("GET", "/api/v1/openapi.json", api_openapi);

    /* storefront pages (views/) */
    router_add("GET", "/", views_home);
    router_add("GET", "/shoes", views_all_shoes);
    router_add("GET", "/category/{slug}", views_category);
    router_add("GET", "/products/{slug}", views_product);
    router_add("GET", "/search", views_search);
}

int app_worker_init(void)
{
    /* templates (a syntax error stops the worker) and the themed error page */
    if (views_init() != 0) return -1;
    /* Learn catalogue version changes from Redis pushes (cache hits then
     * need no round trip); without it every lookup asks Redis. */
    version_watch_start();
    /* The MongoDB pool is per process (sockets cannot cross a fork); a bad
     * URI is a configuration error, but a down server is not. */
    return events_init();
}

void app_worker_exit(void)
{
    version_watch_stop();
    views_exit();
    events_shutdown();
    db_conn_close();
    cache_close();
}
