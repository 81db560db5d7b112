/* schedule.c — see schedule.h.
 *
 *   sched:lease          the holder's name, PX SCHEDULE_LEASE_MS
 *   sched:last:<name>    the last tick (ms) whose job was enqueued */
#include "jobs/schedule.h"

#include "core/log.h"
#include "jobs/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCHEDULES 32

static const schedule_def *defs;
static int ndefs;

void schedule_register(const schedule_def *d, int n)
{
    defs = d;
    ndefs = n > MAX_SCHEDULES ? MAX_SCHEDULES : n;
}

int schedule_count(void) { return ndefs; }
const schedule_def *schedule_at(int i) { return i >= 0 && i < ndefs ? &defs[i] : NULL; }

/* KEYS: last. ARGV: period ms. The current tick if it has not run, else 0. */
static durable_script due_script = {.src =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local every = tonumber(ARGV[1])\n"
    "local tick = now - (now % every)\n"
    "local last = tonumber(redis.call('GET', KEYS[1]) or '-1')\n"
    "if last >= tick then return 0 end\n"
    "return tick\n"};

static long long eval_int(durable_conn *c, durable_script *s, int nkeys, int nargs, const char **argv)
{
    redisReply *r = durable_eval(c, s, nkeys, nargs, argv, NULL);
    if (!r) return -1;
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

int schedule_tick(durable_conn *c, const char *holder)
{
    int held = durable_lease_hold(c, "sched:lease", holder, SCHEDULE_LEASE_MS);
    if (held <= 0) return held;
    for (int i = 0; i < ndefs; i++) {
        char last[128], every[24];
        snprintf(last, sizeof last, "sched:last:%s", defs[i].name);
        snprintf(every, sizeof every, "%lld", (long long)defs[i].every_seconds * 1000);
        const char *dargv[] = {last, every};
        long long tick = eval_int(c, &due_script, 1, 1, dargv);
        if (tick <= 0) {
            if (tick < 0) return -1;
            continue;
        }
        char key[160];
        snprintf(key, sizeof key, "%s:%lld", defs[i].name, tick);
        int rc = queue_enqueue_on(c, &(job_spec){.type = defs[i].job_type, .key = key});
        if (rc == QUEUE_ERROR) {
            log_warn("scheduler: cannot enqueue %s: %s", key, queue_last_error());
            return -1;
        }
        /* recorded only after the enqueue: a crash in between enqueues the
         * same key again, which its uniqueness makes a no-op */
        redisReply *r = durable_cmd(c, "SET %s %lld", last, tick);
        if (!r) return -1;
        freeReplyObject(r);
        log_info("scheduler: enqueued %s", key);
    }
    return 1;
}

void schedule_release(durable_conn *c, const char *holder)
{
    durable_lease_release(c, "sched:lease", holder);
}
