/* sandbox.h — what a worker process (serve or jobs) may no longer do once it works.
 *
 * After start-up a worker handles untrusted input all day; if a bug ever
 * let an attacker run code in it, the seccomp filter installed here keeps
 * that code from starting programs (no shell), tracing other processes,
 * loading kernel modules, mounting, rebooting or changing its identity.
 * A denied call fails with EPERM rather than killing the worker, so a
 * library that tries something harmless gets an error, not a crash loop.
 * (SANDBOX=0 turns it off, e.g. to debug a worker with a tool that execs.) */
#ifndef SHOEASE_PROC_SANDBOX_H
#define SHOEASE_PROC_SANDBOX_H

/* Privilege separation: a worker started as root (to share the master's
 * sockets and files) becomes `user` before it serves. No-op when not root or
 * when user is empty. Returns 0, or -1 after logging why. */
int sandbox_drop_privileges(const char *user);

/* Install the filter in the calling process (all its threads, present and
 * future). Returns 0, or -1 after logging why. */
int sandbox_enter(void);

#endif
