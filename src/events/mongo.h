/* mongo.h — the event store (MongoDB protocol: Atlas in production,
 * FerretDB locally). Activity logs, recently viewed, search history,
 * preferences and analytics live here; nothing the shop needs to take an
 * order does, so every caller tolerates this store being down. */
#ifndef SHOEASE_EVENTS_MONGO_H
#define SHOEASE_EVENTS_MONGO_H

#include <mongoc/mongoc.h>
#include <stddef.h>

/* Create the process's client pool from MONGO_URI. Call after fork. */
int events_init(void);
void events_shutdown(void);
/* 0 when the server answers {ping: 1}; err gets the reason otherwise. */
int events_ping(char *err, size_t errlen);
/* Borrow a client from the pool (never NULL once initialised); give it back. */
mongoc_client_t *events_client(void);
void events_client_done(mongoc_client_t *client);
/* The configured database's collection; release with mongoc_collection_destroy. */
mongoc_collection_t *events_collection(mongoc_client_t *client, const char *name);

#endif
