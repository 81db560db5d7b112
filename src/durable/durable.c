/* durable.c — see durable.h.
 *
 * One blocking socket per connection, with SO_RCVTIMEO/SO_SNDTIMEO as the
 * I/O deadline; TLS through OpenSSL on top of it when the URL says
 * rediss://. Commands are formatted by hiredis and replies parsed by its
 * redisReader, so no RESP is written or read by hand here. */
#include "durable/durable.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 1000
#define IO_TIMEOUT_MS 3000
#define RECONNECT_SPACING_MS 250

struct durable_conn {
    int fd;
    SSL *ssl;
    redisReader *reader;
    int timeout_ms;          /* current SO_RCVTIMEO/SO_SNDTIMEO */
};

static __thread durable_conn *thread_conn;
static __thread long long thread_next_attempt_ms;
static __thread char thread_err[256];

static pthread_once_t url_once = PTHREAD_ONCE_INIT;
static durable_url url;
static char url_err[160];
static bool url_ok;
static char server_name[300];

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static SSL_CTX *tls_ctx;
static char tls_err[200];

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 1, 2))) static void set_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(thread_err, sizeof thread_err, fmt, ap);
    va_end(ap);
}

const char *durable_last_error(void) { return thread_err[0] ? thread_err : "unknown error"; }

/* ---------- the URL ---------- */

static int decode_part(const char *s, size_t len, char *out, size_t outlen)
{
    if (len >= outlen) return -1;
    long n = text_percent_decode(s, len, out, false);
    if (n < 0) return -1;
    out[n] = '\0';
    return 0;
}

int durable_url_parse(const char *s, durable_url *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (!strncmp(s, "redis://", 8)) {
        s += 8;
    } else if (!strncmp(s, "rediss://", 9)) {
        s += 9;
        out->tls = true;
    } else {
        snprintf(err, errlen, "must start with redis:// or rediss://");
        return -1;
    }
    const char *end = s + strcspn(s, "/?#");
    const char *at = memrchr(s, '@', (size_t)(end - s));
    if (at) {
        const char *colon = memchr(s, ':', (size_t)(at - s));
        const char *user_end = colon ? colon : at;
        if (decode_part(s, (size_t)(user_end - s), out->user, sizeof out->user) < 0 ||
            (colon && decode_part(colon + 1, (size_t)(at - colon - 1), out->password, sizeof out->password) < 0)) {
            snprintf(err, errlen, "the user or password part is malformed or too long");
            return -1;
        }
        s = at + 1;
    }
    const char *host_end;
    if (*s == '[') {
        const char *close = memchr(s, ']', (size_t)(end - s));
        if (!close) {
            snprintf(err, errlen, "unterminated [IPv6] host");
            return -1;
        }
        if ((size_t)(close - s - 1) >= sizeof out->host) goto too_long;
        memcpy(out->host, s + 1, (size_t)(close - s - 1));
        host_end = close + 1;
    } else {
        host_end = memchr(s, ':', (size_t)(end - s));
        if (!host_end) host_end = end;
        if ((size_t)(host_end - s) >= sizeof out->host) goto too_long;
        memcpy(out->host, s, (size_t)(host_end - s));
    }
    if (!out->host[0]) {
        snprintf(err, errlen, "no host");
        return -1;
    }
    if (host_end < end) {
        if (*host_end != ':') {
            snprintf(err, errlen, "unexpected text after the host");
            return -1;
        }
        char port[8] = "";
        size_t pl = (size_t)(end - host_end - 1);
        long long p;
        if (pl == 0 || pl >= sizeof port) goto bad_port;
        memcpy(port, host_end + 1, pl);
        if (!text_parse_int64(port, 1, 65535, &p)) goto bad_port;
        out->port = (int)p;
    }
    if (*end == '/' && end[1]) {
        char db[8] = "";
        size_t dl = strcspn(end + 1, "?#");
        long long d;
        if (dl >= sizeof db) goto bad_db;
        memcpy(db, end + 1, dl);
        if (dl && !text_parse_int64(db, 0, 255, &d)) goto bad_db;
        out->db = dl ? (int)d : 0;
    }
    return 0;
too_long:
    snprintf(err, errlen, "the host name is too long");
    return -1;
bad_port:
    snprintf(err, errlen, "the port is not a number from 1 to 65535");
    return -1;
bad_db:
    snprintf(err, errlen, "the database (after /) is not a number from 0 to 255");
    return -1;
}

static void parse_configured_url(void)
{
    url_ok = durable_url_parse(cfg.queue_redis_url ? cfg.queue_redis_url : "", &url, url_err, sizeof url_err) == 0;
    if (url_ok)
        snprintf(server_name, sizeof server_name, "%s%s:%d", url.tls ? "rediss://" : "", url.host, url.port);
    else
        snprintf(server_name, sizeof server_name, "(invalid QUEUE_REDIS_URL)");
}

const char *durable_server_name(void)
{
    pthread_once(&url_once, parse_configured_url);
    return server_name;
}

/* ---------- TLS ---------- */

static void tls_init(void)
{
    tls_ctx = SSL_CTX_new(TLS_client_method());
    if (!tls_ctx) {
        snprintf(tls_err, sizeof tls_err, "cannot create a TLS context");
        return;
    }
    SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
    int ok = cfg.queue_redis_ca && cfg.queue_redis_ca[0]
                 ? SSL_CTX_load_verify_locations(tls_ctx, cfg.queue_redis_ca, NULL)
                 : SSL_CTX_set_default_verify_paths(tls_ctx);
    if (ok != 1) {
        snprintf(tls_err, sizeof tls_err, "cannot load the CA certificates%s%s",
                 cfg.queue_redis_ca[0] ? " from QUEUE_REDIS_CA=" : "", cfg.queue_redis_ca);
        SSL_CTX_free(tls_ctx);
        tls_ctx = NULL;
    }
}

static const char *ssl_reason(void)
{
    static __thread char why[160];
    unsigned long e = ERR_get_error();
    if (!e) return "connection closed";
    ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    return why;
}

/* ---------- raw I/O ---------- */

static void set_timeout(durable_conn *c, int ms)
{
    if (c->timeout_ms == ms) return;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    c->timeout_ms = ms;
}

static int write_all(durable_conn *c, const char *p, size_t len)
{
    while (len) {
        ssize_t n;
        if (c->ssl) {
            ERR_clear_error();
            int w = SSL_write(c->ssl, p, len > 1 << 30 ? 1 << 30 : (int)len);
            if (w <= 0) {
                set_err("durable redis %s: write failed: %s", server_name, ssl_reason());
                return -1;
            }
            n = w;
        } else {
            n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                set_err("durable redis %s: write failed: %s", server_name,
                        errno == EAGAIN ? "timed out" : strerror(errno));
                return -1;
            }
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Next reply from the stream, reading as much as needed. */
static void *read_reply(durable_conn *c)
{
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            set_err("durable redis %s: protocol error: %s", server_name, c->reader->errstr);
            return NULL;
        }
        if (reply) return reply;
        char chunk[16384];
        ssize_t n;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_read(c->ssl, chunk, sizeof chunk);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                set_err("durable redis %s: read failed: %s", server_name,
                        e == SSL_ERROR_WANT_READ || errno == EAGAIN ? "timed out" : ssl_reason());
                return NULL;
            }
            n = r;
        } else {
            n = recv(c->fd, chunk, sizeof chunk, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                set_err("durable redis %s: read failed: %s", server_name,
                        n == 0 ? "connection closed" : errno == EAGAIN ? "timed out" : strerror(errno));
                return NULL;
            }
        }
        if (redisReaderFeed(c->reader, chunk, (size_t)n) != REDIS_OK) {
            set_err("durable redis %s: protocol error", server_name);
            return NULL;
        }
    }
}

static int connect_socket(const char *host, int port)
{
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai) {
        set_err("durable redis %s: %s", server_name, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) continue;
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (poll(&pfd, 1, CONNECT_TIMEOUT_MS) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
                soerr == 0)
                rc = 0;
            else
                errno = soerr ? soerr : ETIMEDOUT;
        }
        if (rc == 0) break;
        set_err("durable redis %s: cannot connect: %s", server_name, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return -1;
    int flags = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &flags, sizeof flags);
    /* back to blocking: deadlines come from SO_RCVTIMEO/SO_SNDTIMEO */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

void durable_disconnect(durable_conn *c)
{
    if (!c) return;
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    if (c->fd >= 0) close(c->fd);
    if (c->reader) redisReaderFree(c->reader);
    free(c);
}

static redisReply *command_on(durable_conn *c, const char *cmd, size_t len, int timeout_ms);

durable_conn *durable_connect(void)
{
    pthread_once(&url_once, parse_configured_url);
    if (!url_ok) {
        set_err("QUEUE_REDIS_URL: %s", url_err);
        return NULL;
    }
    durable_conn *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->fd = connect_socket(url.host, url.port);
    c->reader = redisReaderCreate();
    if (c->fd < 0 || !c->reader) {
        durable_disconnect(c);
        return NULL;
    }
    set_timeout(c, IO_TIMEOUT_MS);
    if (url.tls) {
        pthread_once(&tls_once, tls_init);
        if (!tls_ctx) {
            set_err("durable redis %s: %s", server_name, tls_err);
            durable_disconnect(c);
            return NULL;
        }
        c->ssl = SSL_new(tls_ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_set_tlsext_host_name(c->ssl, url.host) != 1 ||
            SSL_set1_host(c->ssl, url.host) != 1) {
            set_err("durable redis %s: cannot set up TLS", server_name);
            durable_disconnect(c);
            return NULL;
        }
        ERR_clear_error();
        if (SSL_connect(c->ssl) != 1) {
            long v = SSL_get_verify_result(c->ssl);
            set_err("durable redis %s: TLS handshake failed: %s", server_name,
                    v != X509_V_OK ? X509_verify_cert_error_string(v) : ssl_reason());
            durable_disconnect(c);
            return NULL;
        }
    }
    char *cmd = NULL;
    int len = -1;
    if (url.password[0] && url.user[0]) len = redisFormatCommand(&cmd, "AUTH %s %s", url.user, url.password);
    else if (url.password[0]) len = redisFormatCommand(&cmd, "AUTH %s", url.password);
    if (cmd) {
        redisReply *r = len > 0 ? command_on(c, cmd, (size_t)len, IO_TIMEOUT_MS) : NULL;
        redisFreeCommand(cmd);
        if (!r) {
            /* never echo the password: say what failed, not what was sent */
            set_err("durable redis %s: authentication failed (check the password in QUEUE_REDIS_URL)", server_name);
            durable_disconnect(c);
            return NULL;
        }
        freeReplyObject(r);
    }
    if (url.db) {
        redisReply *r = durable_cmd(c, "SELECT %d", url.db);
        if (!r) {
            durable_disconnect(c);
            return NULL;
        }
        freeReplyObject(r);
    }
    return c;
}

/* ---------- commands ---------- */

static redisReply *checked_reply(redisReply *r)
{
    if (r && r->type == REDIS_REPLY_ERROR) {
        set_err("durable redis: %.*s", (int)r->len, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* Send one formatted command and read its reply; NULL on a transport
 * failure (the connection is then unusable). */
static redisReply *command_on(durable_conn *c, const char *cmd, size_t len, int timeout_ms)
{
    set_timeout(c, timeout_ms);
    if (write_all(c, cmd, len) < 0) return NULL;
    redisReply *r = read_reply(c);
    return checked_reply(r);
}

/* The server closed this idle connection (it restarted, or dropped us):
 * a peek finds the end of the stream. Replies are read as they come, so
 * nothing else is waiting on an idle connection but, under TLS 1.3, a
 * session ticket — data, not an end, so the connection is kept. */
static bool closed_by_server(const durable_conn *c)
{
    char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* The connection to use: c, or the thread's (connecting when needed). A
 * thread's connection that the server closed while it was idle is made
 * again before the command is sent, so a Redis restart costs no request an
 * error — while a command that fails on a live connection still fails
 * loudly (it may have run: it is never sent twice). */
static durable_conn *conn_for(durable_conn *c)
{
    if (c) return c;
    if (thread_conn && closed_by_server(thread_conn)) {
        durable_disconnect(thread_conn);
        thread_conn = NULL;
        thread_next_attempt_ms = 0;
    }
    if (thread_conn) return thread_conn;
    long long now = now_ms();
    if (now < thread_next_attempt_ms) return NULL; /* thread_err still says why */
    thread_conn = durable_connect();
    if (!thread_conn) thread_next_attempt_ms = now + RECONNECT_SPACING_MS;
    return thread_conn;
}

/* After a transport failure: a connection of the caller's stays (the
 * caller must disconnect it); the thread's is dropped and re-made later. */
static bool transport_failed(durable_conn *given, durable_conn *used)
{
    (void)used;
    if (!given && thread_conn) {
        durable_disconnect(thread_conn);
        thread_conn = NULL;
    }
    return true;
}

void durable_thread_close(void)
{
    durable_disconnect(thread_conn);
    thread_conn = NULL;
}

static redisReply *run_formatted(durable_conn *given, char *cmd, int len, int timeout_ms)
{
    if (len < 0) {
        set_err("durable redis: cannot format the command");
        return NULL;
    }
    durable_conn *c = conn_for(given);
    if (!c) {
        redisFreeCommand(cmd);
        return NULL;
    }
    set_timeout(c, timeout_ms);
    redisReply *r = NULL;
    bool transport_ok = write_all(c, cmd, (size_t)len) == 0 && (r = read_reply(c)) != NULL;
    redisFreeCommand(cmd);
    if (!transport_ok) {
        transport_failed(given, c);
        return NULL;
    }
    return checked_reply(r);
}

redisReply *durable_cmd(durable_conn *c, const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    return run_formatted(c, cmd, len, IO_TIMEOUT_MS);
}

redisReply *durable_cmd_timeout(durable_conn *c, int timeout_ms, const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    return run_formatted(c, cmd, len, timeout_ms);
}

redisReply *durable_cmd_argv(durable_conn *c, int argc, const char **argv, const size_t *lens)
{
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    return run_formatted(c, cmd, len, IO_TIMEOUT_MS);
}

int durable_pipeline(durable_conn *given, int n, char *const *cmds, const int *lens, redisReply **replies)
{
    for (int i = 0; i < n; i++) replies[i] = NULL;
    durable_conn *c = conn_for(given);
    int rc = -1;
    if (c) {
        /* one write for the lot: that is the point of a pipeline */
        size_t total = 0;
        bool formatted = true;
        for (int i = 0; i < n; i++) {
            if (lens[i] < 0) formatted = false;
            else total += (size_t)lens[i];
        }
        char *all = formatted ? malloc(total ? total : 1) : NULL;
        if (!formatted) set_err("durable redis: cannot format a command");
        if (all) {
            size_t off = 0;
            for (int i = 0; i < n; i++) {
                memcpy(all + off, cmds[i], (size_t)lens[i]);
                off += (size_t)lens[i];
            }
            set_timeout(c, IO_TIMEOUT_MS);
            if (write_all(c, all, total) == 0) {
                rc = 0;
                for (int i = 0; i < n && rc == 0; i++)
                    if (!(replies[i] = read_reply(c))) rc = -1;
            }
            free(all);
            if (rc < 0) {
                for (int i = 0; i < n; i++) {
                    if (replies[i]) freeReplyObject(replies[i]);
                    replies[i] = NULL;
                }
                transport_failed(given, c);
            }
        }
    }
    for (int i = 0; i < n; i++) redisFreeCommand(cmds[i]);
    return rc;
}

static pthread_mutex_t script_lock = PTHREAD_MUTEX_INITIALIZER;

static int load_script(durable_conn *c, durable_script *s)
{
    redisReply *r = durable_cmd(c, "SCRIPT LOAD %s", s->src);
    if (!r) return -1;
    int rc = -1;
    if (r->type == REDIS_REPLY_STRING && r->len == 40) {
        pthread_mutex_lock(&script_lock);
        memcpy(s->sha, r->str, 40);
        s->sha[40] = '\0';
        pthread_mutex_unlock(&script_lock);
        rc = 0;
    } else {
        set_err("durable redis: SCRIPT LOAD gave an unexpected reply");
    }
    freeReplyObject(r);
    return rc;
}

int durable_script_sha(durable_conn *c, durable_script *s, char out[41])
{
    pthread_mutex_lock(&script_lock);
    memcpy(out, s->sha, 41);
    pthread_mutex_unlock(&script_lock);
    if (out[0]) return 0;
    if (load_script(c, s) < 0) return -1;
    pthread_mutex_lock(&script_lock);
    memcpy(out, s->sha, 41);
    pthread_mutex_unlock(&script_lock);
    return 0;
}

void durable_script_forget(durable_script *s)
{
    pthread_mutex_lock(&script_lock);
    s->sha[0] = '\0';
    pthread_mutex_unlock(&script_lock);
}

redisReply *durable_eval(durable_conn *given, durable_script *s, int nkeys, int nargs, const char **argv,
                         const size_t *lens)
{
    int total = nkeys + nargs;
    const char *av[3 + total];
    size_t al[3 + total];
    char nk[16];
    snprintf(nk, sizeof nk, "%d", nkeys);
    for (int attempt = 0; attempt < 2; attempt++) {
        durable_conn *c = conn_for(given);
        if (!c) return NULL;
        char sha[41];
        pthread_mutex_lock(&script_lock);
        memcpy(sha, s->sha, sizeof sha);
        pthread_mutex_unlock(&script_lock);
        if (!sha[0]) {
            if (load_script(given, s) < 0) return NULL;
            pthread_mutex_lock(&script_lock);
            memcpy(sha, s->sha, sizeof sha);
            pthread_mutex_unlock(&script_lock);
        }
        av[0] = "EVALSHA";
        al[0] = 7;
        av[1] = sha;
        al[1] = 40;
        av[2] = nk;
        al[2] = strlen(nk);
        for (int i = 0; i < total; i++) {
            av[3 + i] = argv[i];
            al[3 + i] = lens ? lens[i] : strlen(argv[i]);
        }
        redisReply *r = durable_cmd_argv(given, 3 + total, av, al);
        if (r || strncmp(thread_err, "durable redis: NOSCRIPT", 23) != 0) return r;
        /* the server lost its script cache (restart): load it again */
        pthread_mutex_lock(&script_lock);
        s->sha[0] = '\0';
        pthread_mutex_unlock(&script_lock);
    }
    return NULL;
}

int durable_ping(void)
{
    thread_next_attempt_ms = 0; /* readiness must see a returning server at once */
    redisReply *r = durable_cmd(NULL, "PING");
    bool ok = r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG");
    if (r) freeReplyObject(r);
    if (r && !ok) set_err("durable redis %s: unexpected answer to PING", server_name);
    return ok ? 0 : -1;
}

/* ---------- leases ---------- */

static durable_script lease_script = {.src =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end\n"
    "if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end\n"
    "return 0\n"};

static durable_script unlease_script = {.src =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n"
    "return 1\n"};

int durable_lease_hold(durable_conn *c, const char *key, const char *holder, int ttl_ms)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", ttl_ms);
    const char *argv[] = {key, holder, ttl};
    redisReply *r = durable_eval(c, &lease_script, 1, 2, argv, NULL);
    if (!r) return -1;
    int held = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return held;
}

void durable_lease_release(durable_conn *c, const char *key, const char *holder)
{
    const char *argv[] = {key, holder};
    redisReply *r = durable_eval(c, &unlease_script, 1, 1, argv, NULL);
    if (r) freeReplyObject(r);
}
