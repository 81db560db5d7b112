/* mongo.c — see mongo.h. libmongoc's pool is thread-safe; one per process,
 * created after fork because a pool's sockets must not be shared between
 * processes. */
#include "events/mongo.h"

#include "core/config.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

static mongoc_client_pool_t *pool;

/* The driver's own log lines into ours. FerretDB lacks endSessions, which
 * the driver sends on shutdown; that warning says nothing useful. */
static void driver_log(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
    (void)data;
    if (level > MONGOC_LOG_LEVEL_WARNING) return;
    if (strstr(message, "endSessions")) return;
    log_warn("mongodb driver (%s): %s", domain, message);
}

int events_init(void)
{
    if (pool) return 0;
    mongoc_init();
    mongoc_log_set_handler(driver_log, NULL);
    bson_error_t err;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(cfg.mongo_uri, &err);
    if (!uri) {
        log_error("mongodb: MONGO_URI is not valid: %s", err.message);
        return -1;
    }
    /* Fail fast: a page must never wait 30 s (the driver default) for an
     * analytics store (reads.c also pauses reads after a failure). Explicit
     * settings in the URI win. */
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 500);
    if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, 500);
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SOCKETTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, 5000);
    if (!mongoc_uri_has_option(uri, MONGOC_URI_APPNAME))
        mongoc_uri_set_appname(uri, "shoease");
    pool = mongoc_client_pool_new(uri);
    mongoc_uri_destroy(uri);
    if (!pool) {
        log_error("mongodb: cannot create client pool");
        return -1;
    }
    mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2);
    return 0;
}

void events_shutdown(void)
{
    if (pool) mongoc_client_pool_destroy(pool);
    pool = NULL;
    mongoc_cleanup();
}

mongoc_client_t *events_client(void) { return pool ? mongoc_client_pool_pop(pool) : NULL; }

void events_client_done(mongoc_client_t *client)
{
    if (client) mongoc_client_pool_push(pool, client);
}

mongoc_collection_t *events_collection(mongoc_client_t *client, const char *name)
{
    return mongoc_client_get_collection(client, cfg.mongo_database, name);
}

int events_ping(char *errbuf, size_t errlen)
{
    mongoc_client_t *c = events_client();
    if (!c) {
        snprintf(errbuf, errlen, "not configured");
        return -1;
    }
    bson_t cmd = BSON_INITIALIZER, reply;
    BSON_APPEND_INT32(&cmd, "ping", 1);
    bson_error_t err;
    bool ok = mongoc_client_command_simple(c, "admin", &cmd, NULL, &reply, &err);
    if (!ok) snprintf(errbuf, errlen, "%s", err.message);
    bson_destroy(&cmd);
    bson_destroy(&reply);
    events_client_done(c);
    return ok ? 0 : -1;
}
