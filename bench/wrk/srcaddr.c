/* srcaddr.c — an LD_PRELOAD shim for wrk: every connect() to 127.0.0.1 is
 * made from the next loopback address 127.NET.x.y (x 0-255, y 1-254), so
 * each wrk connection is a client of its own, as shoppers on the internet
 * are. nginx's per-address limit (limit_req: 20 r/s, burst 40) and the app's
 * per-address rate limits (web/ratelimit.c) then see many clients instead of
 * one, and they are not what a benchmark through the real nginx measures.
 *
 *   cc -O2 -shared -fPIC -o srcaddr.so bench/wrk/srcaddr.c -ldl
 *   SRCADDR_NET=42 LD_PRELOAD=./srcaddr.so wrk ... https://127.0.0.1:PORT/...
 *
 * SRCADDR_NET (1-254, default 77) is the second octet: a benchmark gives each
 * run its own, so limits counted in one run (the app's are per minute or
 * longer) never carry into the next. All of 127.0.0.0/8 is loopback on
 * Linux: nothing leaves the machine. A bind that fails leaves the socket on
 * 127.0.0.1, as without the shim. Other destinations are not touched. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static atomic_uint next_client;

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    static int (*real_connect)(int, const struct sockaddr *, socklen_t);
    if (!real_connect) real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    if (sa && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in) &&
        ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
        const char *e = getenv("SRCADDR_NET");
        unsigned net = e ? (unsigned)atoi(e) : 77u;
        if (net < 1 || net > 254) net = 77;
        unsigned n = atomic_fetch_add(&next_client, 1u) % (256u * 254u);
        struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0};
        src.sin_addr.s_addr = htonl(127u << 24 | net << 16 | (n / 254u) << 8 | (n % 254u + 1u));
        int one = 1;
        /* the port is chosen at connect(), per 4-tuple: no ephemeral port used up per address */
        (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        (void)bind(fd, (const struct sockaddr *)&src, sizeof src);
    }
    return real_connect(fd, sa, len);
}
