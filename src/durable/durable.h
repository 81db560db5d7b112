/* durable.h — the durable Redis: job queues and the event backlog today,
 * sessions and rate limits next. The strict client.
 *
 * The cache client (cache/redis.h) degrades: a failure there is a miss.
 * This one never hides a failure: every call returns NULL / -1 and the
 * caller decides (503 for a request, a retry for a job). The server it talks
 * to runs with AOF and noeviction (tools/stack.py), so what it acknowledged
 * is kept.
 *
 * QUEUE_REDIS_URL is redis://[[user]:password@]host[:port][/db], or
 * rediss://... for TLS (a managed Redis): the certificate is verified
 * against QUEUE_REDIS_CA or the system's CAs, and its name against host.
 * Debian 12's hiredis (0.14) has no TLS, so the transport (a socket, or
 * OpenSSL over it) is ours; formatting commands and parsing replies stay
 * hiredis's (redisFormatCommand, redisReader).
 *
 *   redisReply *r = durable_cmd(NULL, "XLEN %s", key);    // NULL: the thread's connection
 *   if (!r) return fail(503, durable_last_error());
 *   long long n = r->integer;
 *   freeReplyObject(r);
 *
 * Each thread has one connection of its own (durable_cmd(NULL, ...));
 * something that blocks (XREADGROUP BLOCK) or must not share one opens its
 * own with durable_connect(). A connection that failed is closed; the next
 * call reconnects, at most once per 250 ms per thread. */
#ifndef SHOEASE_DURABLE_H
#define SHOEASE_DURABLE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct durable_conn durable_conn;

/* A parsed QUEUE_REDIS_URL (exposed for tests). */
typedef struct durable_url {
    bool tls;
    char host[256];
    int port;
    char user[128];
    char password[256];
    int db;
} durable_url;
/* 0, or -1 with a reason in err (never echoing the password). */
int durable_url_parse(const char *url, durable_url *out, char *err, size_t errlen);

/* A new connection of the caller's own (authenticated, db selected).
 * NULL on failure (durable_last_error() says why). */
durable_conn *durable_connect(void);
void durable_disconnect(durable_conn *c);
/* Close the calling thread's connection (before exit, after fork). */
void durable_thread_close(void);

/* Run one command (hiredis format) on c, or on the thread's connection when
 * c is NULL. NULL when the command could not be run or Redis answered with
 * an error (the message is in durable_last_error()); otherwise the caller
 * frees the reply. */
redisReply *durable_cmd(durable_conn *c, const char *fmt, ...);
redisReply *durable_cmd_argv(durable_conn *c, int argc, const char **argv, const size_t *lens);
/* The same with a read timeout for a command that blocks on the server
 * (XREADGROUP ... BLOCK ms): timeout_ms should exceed the BLOCK time. */
redisReply *durable_cmd_timeout(durable_conn *c, int timeout_ms, const char *fmt, ...);

/* Several commands in one round trip. cmds[i] made by redisFormatCommand /
 * redisFormatCommandArgv (lens[i] < 0: it failed); they are freed here.
 * 0 with every replies[i] set (error replies included, as they came: check
 * each), or -1 with none set when the connection failed. */
int durable_pipeline(durable_conn *c, int n, char *const *cmds, const int *lens, redisReply **replies);

/* A Lua script, sent by its SHA1 (EVALSHA) and loaded on first use or
 * after the server forgot it (NOSCRIPT, e.g. a restart). Declare one
 * static durable_script per script: {.src = "..."}. */
typedef struct durable_script {
    const char *src;
    char sha[41];        /* filled on first use */
} durable_script;
/* Run s with nkeys keys followed by the arguments (argv/lens hold
 * keys then args; lens NULL: strlen). Same result rules as durable_cmd. */
redisReply *durable_eval(durable_conn *c, durable_script *s, int nkeys, int nargs, const char **argv,
                         const size_t *lens);

/* The script's SHA1 in out (loading it first if needed), for callers that
 * pipeline EVALSHA themselves. 0 or -1. After a NOSCRIPT reply, call
 * durable_script_forget and try again. */
int durable_script_sha(durable_conn *c, durable_script *s, char out[41]);
void durable_script_forget(durable_script *s);

/* A lease: at most one holder at a time across processes and hosts (the
 * scheduler, the event writer). Take or extend it as `holder` for ttl_ms:
 * 1 held, 0 someone else holds it, -1 error. Release gives it up at once
 * (only if still ours). */
int durable_lease_hold(durable_conn *c, const char *key, const char *holder, int ttl_ms);
void durable_lease_release(durable_conn *c, const char *key, const char *holder);

/* 0 when the server answers PING (for /readyz and `shoease check`). */
int durable_ping(void);
/* Why the last call on this thread failed. */
const char *durable_last_error(void);
/* "host:port" (no credentials) for messages. */
const char *durable_server_name(void);

#endif
