/* prefork.c — see prefork.h. The master never runs application code and
 * never touches a store: it must stay alive whatever the workers do. */
#include "proc/prefork.h"

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
static const prefork_spec *spec;
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
        _exit(spec->child_main(&shared[i], spec->arg));
    }
    slots[i] = (struct slot){.pid = pid, .generation = generation, .started_ms = monotonic_ms()};
    log_info("master: started %s %d (generation %u)", spec->name, (int)pid, generation);
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
                    log_error("master: %s %d died from signal %d%s", spec->name, (int)pid, WTERMSIG(status),
                              slots[i].killed ? " (killed by the watchdog)" : "");
                else
                    log_error("master: %s %d exited with status %d", spec->name, (int)pid, WEXITSTATUS(status));
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
    int64_t now = monotonic_ms(), limit = spec->heartbeat_limit_ms();
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (!slots[i].pid || slots[i].killed) continue;
        const char *why = NULL;
        if (now - atomic_load(&shared[i].heartbeat_ms) > limit) why = "heartbeat stopped";
        for (int t = 0; !why && t < WORKER_MAX_THREADS; t++) {
            int64_t deadline = atomic_load(&shared[i].deadline_ms[t]);
            if (deadline && now > deadline) why = "a request or job ran past its deadline (WORKER_TIMEOUT, or the job type's timeout)";
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
        if (slots[i].pid) { log_warn("master: %s %d did not stop in time, killing", spec->name, (int)slots[i].pid); kill(slots[i].pid, SIGKILL); }
    while (any_alive()) {
        if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD) break;
        reap();
    }
}

int prefork_run(const prefork_spec *given)
{
    spec = given;
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

    wanted = spec->wanted();
    log_info("master: pid %d, %d %ss", (int)getpid(), wanted, spec->name);
    fill_workers();

    for (;;) {
        struct timespec tick = {0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
            log_info("master: %s, stopping %ss", sig == SIGQUIT ? "SIGQUIT" : "shutting down gracefully", spec->name);
            shutdown_all(sig);
            break;
        }
        if (sig == SIGHUP) {
            log_info("master: SIGHUP, reloading configuration and %ss", spec->name);
            if (config_load() != 0) {
                log_error("master: configuration has errors; keeping the running %ss", spec->name);
            } else {
                wanted = spec->wanted();
                generation++;
                fill_workers();
                retire_generation_before(generation);
            }
        }
        if (sig == SIGTTIN && wanted < MAX_SLOTS / 2) { wanted++; log_info("master: %ss → %d", spec->name, wanted); }
        if (sig == SIGTTOU && wanted > 1) { wanted--; log_info("master: %ss → %d", spec->name, wanted); }
        if (reap()) {
            log_error("master: %ss keep dying at start-up; giving up (see the errors above)", spec->name);
            shutdown_all(SIGTERM);
            return 1;
        }
        watchdog();
        fill_workers();
    }
    log_info("master: stopped");
    return 0;
}
