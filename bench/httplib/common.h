/* common.h — what every server in bench/httplib/ shares, so the only thing
 * that differs between them is the HTTP library:
 *
 *   - the response: GET /hello → 200, the same ~2 KiB HTML body and the same
 *     eight security headers ShoEase sends (src/web/security.c), with a fresh
 *     32-hex-digit X-Request-Id per request; anything else → 404;
 *   - the process model of the app (src/http/prefork.c): a master opens the
 *     listening socket (non-blocking, backlog 1024), forks N workers that all
 *     accept on it, and waits; SIGTERM/SIGINT to the master stops everything;
 *   - counters in shared memory (connections accepted, requests answered) that
 *     the master prints on exit, so run.sh can show requests per connection
 *     (= whether keep-alive works, e.g. behind nginx's upstream keepalive).
 *
 * Usage of every server binary:
 *   srv_X -p PORT | -u /path.sock   [-w WORKERS=2] [-t THREADS=2] [-R]
 *   srv_X --dump-body FILE           write the body bytes (for nginx) and exit
 * -R: SO_REUSEPORT, one listening socket per worker instead of a shared one.
 * -t: only the libmicrohttpd server uses it (its thread-pool size).
 *
 * Header-only on purpose: each server is one .c file plus this. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ the response */

/* ~2 KiB of HTML shaped like a category page (what the shop really sends is
 * larger; the point here is a realistic, identical body for every server). */
static const char BENCH_BODY[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Men's shoes | ShoEase</title>\n"
    "<link rel=\"stylesheet\" href=\"/static/css/site.3f9a1c.css\">\n"
    "<script src=\"/static/js/site.8b2e4d.js\" defer></script>\n</head>\n<body>\n"
    "<header class=\"site-header\"><a class=\"logo\" href=\"/\">ShoEase</a>\n"
    "<nav><a href=\"/category/men\">Men</a> <a href=\"/category/women\">Women</a> "
    "<a href=\"/category/kids\">Kids</a> <a href=\"/cart\">Cart (0)</a></nav></header>\n"
    "<main>\n<h1>Men's shoes</h1>\n<ul class=\"products\">\n"
    "<li><a href=\"/products/trail-runner-2\"><img src=\"/media/p/trail-runner-2.webp\" alt=\"Trail Runner 2\" width=\"240\" height=\"180\">"
    "<span class=\"name\">Trail Runner 2</span><span class=\"price\">&euro;89.00</span></a></li>\n"
    "<li><a href=\"/products/city-loafer\"><img src=\"/media/p/city-loafer.webp\" alt=\"City Loafer\" width=\"240\" height=\"180\">"
    "<span class=\"name\">City Loafer</span><span class=\"price\">&euro;119.00</span></a></li>\n"
    "<li><a href=\"/products/canvas-low\"><img src=\"/media/p/canvas-low.webp\" alt=\"Canvas Low\" width=\"240\" height=\"180\">"
    "<span class=\"name\">Canvas Low</span><span class=\"price\">&euro;49.00</span></a></li>\n"
    "<li><a href=\"/products/oxford-brogue\"><img src=\"/media/p/oxford-brogue.webp\" alt=\"Oxford Brogue\" width=\"240\" height=\"180\">"
    "<span class=\"name\">Oxford Brogue</span><span class=\"price\">&euro;159.00</span></a></li>\n"
    "<li><a href=\"/products/winter-boot\"><img src=\"/media/p/winter-boot.webp\" alt=\"Winter Boot\" width=\"240\" height=\"180\">"
    "<span class=\"name\">Winter Boot</span><span class=\"price\">&euro;139.00</span></a></li>\n"
    "<li><a href=\"/products/court-classic\"><img src=\"/media/p/court-classic.webp\" alt=\"Court Classic\" width=\"240\" height=\"180\">"
    "<span class=\"name\">Court Classic</span><span class=\"price\">&euro;79.00</span></a></li>\n"
    "</ul>\n<nav class=\"pager\"><a rel=\"next\" href=\"/category/men?page=2\">Next page</a></nav>\n</main>\n"
    "<footer><p>&copy; ShoEase. Free returns within 30 days.</p>\n"
    "<form method=\"post\" action=\"/newsletter\"><input type=\"hidden\" name=\"csrf\" value=\"0000000000000000000000000000000000000000\">"
    "<label>Newsletter <input type=\"email\" name=\"email\" required></label> <button>Subscribe</button></form>\n"
    "</footer>\n</body>\n</html>\n";
#define BENCH_BODY_LEN (sizeof BENCH_BODY - 1)

#define BENCH_CONTENT_TYPE "text/html; charset=utf-8"
/* The eight security headers of src/web/security.c (X-Request-Id is added
 * per request). Kept in sync by hand; run.sh checks every server sends them. */
#define BENCH_NFIXED 7
static const char *const BENCH_HDR_NAMES[BENCH_NFIXED] = {
    "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
    "Content-Security-Policy", "Permissions-Policy", "Cross-Origin-Opener-Policy",
};
static const char *const BENCH_HDR_VALUES[BENCH_NFIXED] = {
    "max-age=31536000; includeSubDomains",
    "nosniff",
    "DENY",
    "strict-origin-when-cross-origin",
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "same-origin",
};

/* A request id like the app's (32 hex digits); xorshift per thread instead of
 * libsodium, so no server pays for a CSPRNG the others don't. */
static inline void bench_request_id(char out[33])
{
    static __thread uint64_t s;
    if (!s) s = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&s ^ (uint64_t)time(NULL) ^ 0x9E3779B97F4A7C15ull;
    static const char hex[] = "0123456789abcdef";
    for (int half = 0; half < 2; half++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        uint64_t v = s;
        for (int i = 0; i < 16; i++, v >>= 4) out[half * 16 + i] = hex[v & 15];
    }
    out[32] = '\0';
}

/* ------------------------------------------------------------ counters */

#define BENCH_MAX_WORKERS 16
typedef struct {
    _Atomic unsigned long conns;
    _Atomic unsigned long reqs;
    char pad[64 - 2 * sizeof(unsigned long)];
} bench_counter;
static bench_counter *bench_counters; /* shared mapping, one per worker */
static int bench_worker_idx;

static inline void bench_count_conn(void) { atomic_fetch_add_explicit(&bench_counters[bench_worker_idx].conns, 1, memory_order_relaxed); }
static inline void bench_count_req(void) { atomic_fetch_add_explicit(&bench_counters[bench_worker_idx].reqs, 1, memory_order_relaxed); }

/* ------------------------------------------------------------ processes */

typedef struct {
    int port;              /* TCP on 127.0.0.1, or 0 */
    const char *unix_path; /* or a unix socket */
    int workers;
    int threads;
    int reuseport;
} bench_opts;

/* worker entry: serve on fd until SIGTERM, return the exit code. SIGTERM and
 * SIGINT are blocked on entry (the master's mask); bench_unblock() undoes it. */
typedef int (*bench_worker_fn)(int fd, const bench_opts *o);

static sigset_t bench_sigs;

static inline void bench_unblock(void) { sigprocmask(SIG_UNBLOCK, &bench_sigs, NULL); }

static int bench_listen(const bench_opts *o, int reuseport)
{
    int fd;
    if (o->unix_path) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (strlen(o->unix_path) >= sizeof sun.sun_path) { fprintf(stderr, "socket path too long\n"); return -1; }
        strcpy(sun.sun_path, o->unix_path);
        unlink(o->unix_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0) { perror("bind unix"); return -1; }
        chmod(o->unix_path, 0666);
    } else {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only, always */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd >= 0 && reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) { perror("bind 127.0.0.1"); return -1; }
    }
    if (listen(fd, 1024) < 0) { perror("listen"); close(fd); return -1; }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static int bench_dump_body(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(BENCH_BODY, 1, BENCH_BODY_LEN, f) != BENCH_BODY_LEN || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

static int bench_main(int argc, char **argv, const char *name, bench_worker_fn worker)
{
    bench_opts o = {.workers = 2, .threads = 2};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--dump-body") && v) return bench_dump_body(v);
        else if (!strcmp(a, "-p") && v) { o.port = atoi(v); i++; }
        else if (!strcmp(a, "-u") && v) { o.unix_path = v; i++; }
        else if (!strcmp(a, "-w") && v) { o.workers = atoi(v); i++; }
        else if (!strcmp(a, "-t") && v) { o.threads = atoi(v); i++; }
        else if (!strcmp(a, "-R")) o.reuseport = 1;
        else {
            fprintf(stderr, "usage: %s -p PORT|-u PATH [-w WORKERS] [-t THREADS] [-R] | --dump-body FILE\n", argv[0]);
            return 2;
        }
    }
    if ((!o.port && !o.unix_path) || o.workers < 1 || o.workers > BENCH_MAX_WORKERS || o.threads < 1 ||
        (o.reuseport && o.unix_path)) {
        fprintf(stderr, "%s: bad options\n", name);
        return 2;
    }

    bench_counters = mmap(NULL, sizeof(bench_counter) * BENCH_MAX_WORKERS, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (bench_counters == MAP_FAILED) { perror("mmap"); return 1; }

    int shared_fd = -1;
    if (!o.reuseport && (shared_fd = bench_listen(&o, 0)) < 0) return 1;

    sigemptyset(&bench_sigs);
    sigaddset(&bench_sigs, SIGTERM);
    sigaddset(&bench_sigs, SIGINT);
    sigset_t master_sigs = bench_sigs;
    sigaddset(&master_sigs, SIGCHLD);
    sigprocmask(SIG_BLOCK, &master_sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    pid_t pids[BENCH_MAX_WORKERS];
    pid_t master = getpid();
    for (int i = 0; i < o.workers; i++) {
        pids[i] = fork();
        if (pids[i] < 0) { perror("fork"); return 1; }
        if (pids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the master */
            if (getppid() != master) _exit(1);
            sigset_t chld;
            sigemptyset(&chld);
            sigaddset(&chld, SIGCHLD);
            sigprocmask(SIG_UNBLOCK, &chld, NULL);
            bench_worker_idx = i;
            int fd = o.reuseport ? bench_listen(&o, 1) : shared_fd;
            if (fd < 0) _exit(1);
            _exit(worker(fd, &o));
        }
    }
    char where[128];
    if (o.unix_path) snprintf(where, sizeof where, "unix:%s", o.unix_path);
    else snprintf(where, sizeof where, "127.0.0.1:%d%s", o.port, o.reuseport ? " (SO_REUSEPORT)" : "");
    fprintf(stderr, "%s: master %d, %d workers, listening on %s\n", name, (int)master, o.workers, where);

    int sig, rc = 0;
    sigwait(&master_sigs, &sig);
    if (sig == SIGCHLD) {
        fprintf(stderr, "%s: a worker exited unexpectedly\n", name);
        rc = 1;
    }
    for (int i = 0; i < o.workers; i++) kill(pids[i], SIGTERM);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int left = o.workers; left > 0;) {
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p > 0) { left--; continue; }
        if (p < 0) break;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec >= 5) {
            for (int i = 0; i < o.workers; i++) kill(pids[i], SIGKILL);
            while (waitpid(-1, NULL, 0) > 0) {}
            break;
        }
        usleep(10000);
    }
    unsigned long conns = 0, reqs = 0;
    for (int i = 0; i < o.workers; i++) {
        conns += atomic_load(&bench_counters[i].conns);
        reqs += atomic_load(&bench_counters[i].reqs);
    }
    printf("%s: connections=%lu requests=%lu requests_per_connection=%.1f\n", name, conns, reqs,
           conns ? (double)reqs / (double)conns : 0.0);
    fflush(stdout);
    if (o.unix_path) unlink(o.unix_path);
    return rc;
}

#endif
