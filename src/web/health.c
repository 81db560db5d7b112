/* health.c — see health.h. Readiness names each store so an operator sees
 * at once which one is down; the app keeps serving what it can meanwhile. */
#include "web/health.h"

#include "cache/redis.h"
#include "db/db.h"
#include "durable/durable.h"
#include "events/mongo.h"
#include "proc/worker_state.h"

void health_live(http_request *req, http_response *res)
{
    (void)req;
    res_header(res, "Cache-Control", "no-store");
    res_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

static json_t *probe(int ok, int64_t started, const char *error)
{
    json_t *o = json_pack("{s:b,s:I}", "ok", ok, "ms", (json_int_t)(monotonic_ms() - started));
    if (!ok) json_object_set_new(o, "error", json_string(error));
    return o;
}

void health_ready(http_request *req, http_response *res)
{
    (void)req;
    json_t *stores = json_object(), *failing = json_array();
    char mongo_err[256] = "";

    int64_t t = monotonic_ms();
    int db_ok = db_ping() == 0;
    json_object_set_new(stores, "mariadb", probe(db_ok, t, db_last_error()));
    t = monotonic_ms();
    int redis_ok = cache_ping() == 0;
    json_object_set_new(stores, "redis", probe(redis_ok, t, "unreachable"));
    t = monotonic_ms();
    int durable_ok = durable_ping() == 0;
    json_object_set_new(stores, "durable_redis", probe(durable_ok, t, durable_last_error()));
    t = monotonic_ms();
    int mongo_ok = events_ping(mongo_err, sizeof mongo_err) == 0;
    json_object_set_new(stores, "mongodb", probe(mongo_ok, t, mongo_err));

    if (!db_ok) json_array_append_new(failing, json_string("mariadb"));
    if (!redis_ok) json_array_append_new(failing, json_string("redis"));
    if (!durable_ok) json_array_append_new(failing, json_string("durable_redis"));
    if (!mongo_ok) json_array_append_new(failing, json_string("mongodb"));
    bool ready = json_array_size(failing) == 0;
    res_header(res, "Cache-Control", "no-store");
    res_json(res, ready ? 200 : 503,
             json_pack("{s:s,s:o,s:o}", "status", ready ? "ok" : "unavailable", "stores", stores, "failing", failing));
}
