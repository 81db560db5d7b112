/* prefork.c — see prefork.h. The master never runs application code and
 * never touches a store: it must stay alive whatever the workers do. */
#include "http/prefork.h"

#include "http/worker.h"

#include "core/config.h"
#include "core/log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SLOTS 256

struct slot {
    pid_t pid;             /* 0 = free */
    unsigned generation;
    int64_t started_ms;
    bool killed;           /* we already sent SIGKILL for a timeout */
    bool retiring;         /* sent SIGTERM: drains and exits */
};

static struct slot slots[MAX_SLOTS];
static worker_state *shared;       /* MAX_SLOTS entries in shared memory */
static int listen_fds[CFG_MAX_LIST];
static int n_listen;
static unsigned generation;
static int wanted;

static void reset_state(int i)
{
    memset(&shared[i], 0, sizeof shared[i]);
    atomic_store(&shared[i].heartbeat_ms, monotonic_ms());
}

static int spawn(int i)
{
    reset_state(i);
    pid_t pid = fork();
    if (pid < 0) {
        log_error("master: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        for (int s = 1; s < NSIG; s++) if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        _exit(http_worker_main(listen_fds, n_listen, &shared[i]));
    }
    slots[i] = (struct slot){.pid = pid, .generation = generation, .started_ms = monotonic_ms()};
    log_info("master: started worker %d (generation %u)", (int)pid, generation);
    return 0;
}

static int free_slot(void)
{
    for (int i = 0; i < MAX_SLOTS; i++)
        if (!slots[i].pid) return i;
    return -1;
}

static int live_current(void)
{
    int n = 0;
    for (int i = 0; i < MAX_SLOTS; i++)
        if (slots[i].pid && slots[i].generation == generation && !slots[i].retiring) n++;
    return n;
}

/* Bring the current generation to `wanted` workers. */
static void fill_workers(void)
{
    while (live_current() < wanted) {
        int i = free_slot();
        if (i < 0 || spawn(i) < 0) return;
    }
    /* too many (after SIGTTOU): retire the newest extra ones */
    for (int i = MAX_SLOTS - 1; i >= 0 && live_current() > wanted; i--) {
        if (slots[i].pid && slots[i].generation == generation && !slots[i].retiring) {
            slots[i].retiring = true;
            kill(slots[i].pid, SIGTERM);
        }
    }
}

static void retire_generation_before(unsigned gen)
{
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (slots[i].pid && slots[i].generation < gen && !slots[i].retiring) {
            slots[i].retiring = true;
            kill(slots[i].pid, SIGTERM);
        }
    }
}

/* Crash-loop guard: workers that die young over and over (a port clash, a
 * broken config) should stop the master with a clear message rather than
 * fork forever. */
static int young_deaths;
static int64_t young_window_start;

static bool reap(void)
{
    bool crash_loop = false;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < MAX_SLOTS; i++) {
            if (slots[i].pid != pid) continue;
            bool expected = slots[i].retiring;
            if (!expected) {
                if (WIFSIGNALED(status))
                    log_error("master: worker %d died from signal %d%s", (int)pid, WTERMSIG(status),
                              slots[i].killed ? " (killed after WORKER_TIMEOUT)" : "");
                else
                    log_error("master: worker %d exited with status %d", (int)pid, WEXITSTATUS(status));
                int64_t now = monotonic_ms();
                if (now - slots[i].started_ms < 2000) {
                    if (now - young_window_start > 10000) { young_window_start = now; young_deaths = 0; }
                    if (++young_deaths >= 10) crash_loop = true;
                }
            }
            slots[i].pid = 0;
        }
    }
    return crash_loop;
}

static void watchdog(void)
{
    int64_t now = monotonic_ms(), limit = (int64_t)cfg.worker_timeout * 1000;
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (!slots[i].pid || slots[i].killed) continue;
        const char *why = NULL;
        if (now - atomic_load(&shared[i].heartbeat_ms) > limit) why = "heartbeat stopped";
        for (int t = 0; !why && t < WORKER_MAX_THREADS; t++) {
            int64_t since = atomic_load(&shared[i].busy_since_ms[t]);
            if (since && now - since > limit) why = "a request ran longer than WORKER_TIMEOUT";
        }
        /* a retiring worker may take up to GRACEFUL_TIMEOUT, then it is killed */
        if (!why && slots[i].retiring && now - atomic_load(&shared[i].heartbeat_ms) > limit) why = "drain stuck";
        if (why) {
            log_error("master: killing worker %d: %s", (int)slots[i].pid, why);
            kill(slots[i].pid, SIGKILL);
            slots[i].killed = true;
        }
    }
}

static bool any_alive(void)
{
    for (int i = 0; i < MAX_SLOTS; i++)
        if (slots[i].pid) return true;
    return false;
}

static void shutdown_all(int sig)
{
    int workers_sig = sig == SIGQUIT ? SIGQUIT : SIGTERM;
    for (int i = 0; i < MAX_SLOTS; i++)
        if (slots[i].pid) { slots[i].retiring = true; kill(slots[i].pid, workers_sig); }
    int64_t deadline = monotonic_ms() + (int64_t)cfg.graceful_timeout * 1000 + 2000;
    while (any_alive() && monotonic_ms() < deadline) {
        reap();
        usleep(20 * 1000);
    }
    for (int i = 0; i < MAX_SLOTS; i++)
        if (slots[i].pid) { log_warn("master: worker %d did not stop in time, killing", (int)slots[i].pid); kill(slots[i].pid, SIGKILL); }
    while (any_alive()) {
        if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD) break;
        reap();
    }
}

int prefork_serve(void)
{
    for (int i = 0; i < cfg.n_binds; i++) {
        int fd = http_listen(cfg.binds[i]);
        if (fd < 0) return 1;
        listen_fds[n_listen++] = fd;
        log_info("master: listening on %s", cfg.binds[i]);
    }
    shared = mmap(NULL, sizeof(worker_state) * MAX_SLOTS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        log_error("master: mmap: %s", strerror(errno));
        return 1;
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    int handled[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGTTIN, SIGTTOU};
    for (size_t k = 0; k < sizeof handled / sizeof *handled; k++) sigaddset(&sigs, handled[k]);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    wanted = cfg.workers;
    log_info("master: pid %d, %d workers × %d threads, timeout %ds", (int)getpid(), wanted, cfg.worker_threads,
             cfg.worker_timeout);
    fill_workers();

    for (;;) {
        struct timespec tick = {0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
            log_info("master: %s, stopping workers", sig == SIGQUIT ? "SIGQUIT" : "shutting down gracefully");
            shutdown_all(sig);
            break;
        }
        if (sig == SIGHUP) {
            log_info("master: SIGHUP, reloading configuration and workers");
            if (config_load() != 0) {
                log_error("master: configuration has errors; keeping the running workers");
            } else {
                wanted = cfg.workers;
                generation++;
                fill_workers();
                retire_generation_before(generation);
            }
        }
        if (sig == SIGTTIN && wanted < MAX_SLOTS / 2) { wanted++; log_info("master: workers → %d", wanted); }
        if (sig == SIGTTOU && wanted > 1) { wanted--; log_info("master: workers → %d", wanted); }
        if (reap()) {
            log_error("master: workers keep dying at start-up; giving up (see the errors above)");
            shutdown_all(SIGTERM);
            return 1;
        }
        watchdog();
        fill_workers();
    }
    for (int i = 0; i < cfg.n_binds; i++)
        if (strncmp(cfg.binds[i], "unix:", 5) == 0) unlink(cfg.binds[i] + 5);
    log_info("master: stopped");
    return 0;
}
