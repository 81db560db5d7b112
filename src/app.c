/* app.c — the route table and per-worker set-up. Each area of the shop
 * registers its routes here, so this file is the map of every URL. */
#include "app.h"

#include "api/catalog_api.h"

#include "cache/redis.h"
#include "db/db.h"
#include "events/mongo.h"
#include "http/router.h"
#include "web/health.h"

void app_register_routes(void)
{
    router_add("GET", "/healthz", health_live);
    router_add("GET", "/readyz", health_ready);

    /* CATALOG_API_ROUTES (enabled once shop/catalog.c lands) */
}

int app_worker_init(void)
{
    /* The MongoDB pool is per process (sockets cannot cross a fork); a bad
     * URI is a configuration error, but a down server is not. */
    return events_init();
}

void app_worker_exit(void)
{
    events_shutdown();
    db_conn_close();
    cache_close();
}
