/* system_jobs.c — see system_jobs.h. */
#include "jobs/system_jobs.h"

#include "core/log.h"
#include "db/db.h"
#include "db/outbox_repo.h"
#include "durable/durable.h"
#include "events/writer.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

job_result system_outbox_prune_job(const job *j, char *err, size_t errlen)
{
    (void)j;
    db_conn *c = db_conn_get();
    long long n = c ? outbox_repo_prune(c, 7) : -1;
    if (n < 0) {
        snprintf(err, errlen, "outbox.prune: %s", db_last_error());
        return JOB_RETRY;
    }
    if (n) log_info("outbox: pruned %lld finished row(s)", n);
    return JOB_DONE;
}

/* Consumers are named "<host>:<pid>"; a worker that stopped leaves its name
 * in each group. Forget those idle for an hour with nothing pending (a
 * consumer that still holds entries is left for reclaim to empty first). */
job_result system_jobs_cleanup_job(const job *j, char *err, size_t errlen)
{
    (void)j;
    for (int qi = 0; qi < queue_count(); qi++) {
        char stream[96];
        snprintf(stream, sizeof stream, "q:%s:s", queue_at(qi)->name);
        redisReply *r = durable_cmd(NULL, "XINFO CONSUMERS %s workers", stream);
        if (!r) {
            if (strstr(durable_last_error(), "NOGROUP") || strstr(durable_last_error(), "no such key")) continue;
            snprintf(err, errlen, "jobs.cleanup: %s", durable_last_error());
            return JOB_RETRY;
        }
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
            redisReply *c = r->element[i];
            const char *name = NULL;
            long long pending = -1, idle = 0;
            for (size_t k = 0; c->type == REDIS_REPLY_ARRAY && k + 1 < c->elements; k += 2) {
                const char *f = c->element[k]->str;
                redisReply *v = c->element[k + 1];
                if (!strcmp(f, "name") && v->type == REDIS_REPLY_STRING) name = v->str;
                else if (!strcmp(f, "pending")) pending = v->integer;
                else if (!strcmp(f, "idle")) idle = v->integer;
            }
            if (name && pending == 0 && idle > 3600 * 1000) {
                redisReply *d = durable_cmd(NULL, "XGROUP DELCONSUMER %s workers %s", stream, name);
                if (d) freeReplyObject(d);
            }
        }
        freeReplyObject(r);
    }
    return JOB_DONE;
}

job_result system_noop_job(const job *j, char *err, size_t errlen)
{
    (void)j; (void)err; (void)errlen;
    return JOB_DONE;
}

job_result test_touch_job(const job *j, char *err, size_t errlen)
{
    const char *path = json_string_value(json_object_get(j->payload, "path"));
    const char *started = json_string_value(json_object_get(j->payload, "started_path"));
    json_int_t sleep_ms = json_integer_value(json_object_get(j->payload, "sleep_ms"));
    if (!path || path[0] != '/') {
        snprintf(err, errlen, "test.touch: needs an absolute \"path\"");
        return JOB_FAILED;
    }
    if (started && started[0] == '/') {
        /* "<pid>\n" per run that started, so a test can kill the runner */
        char line[32];
        int n = snprintf(line, sizeof line, "%d\n", (int)getpid());
        int fd = open(started, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ssize_t w = write(fd, line, (size_t)n);
            (void)w;
            close(fd);
        }
    }
    for (json_int_t slept = 0; slept < sleep_ms; slept += 50) usleep(50 * 1000);
    char line[300];
    int n = snprintf(line, sizeof line, "%s %d\n", j->key, (int)getpid());
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line, (size_t)n) != n) {
        snprintf(err, errlen, "test.touch: cannot write %s", path);
        if (fd >= 0) close(fd);
        return JOB_RETRY;
    }
    close(fd);
    return JOB_DONE;
}

job_result test_fail_job(const job *j, char *err, size_t errlen)
{
    snprintf(err, errlen, "test.fail: this job always fails (attempt %d)", j->attempt);
    return JOB_RETRY;
}

job_result test_crash_job(const job *j, char *err, size_t errlen)
{
    (void)j; (void)err; (void)errlen;
    log_warn("test.crash: killing this worker process on purpose");
    abort();
}

job_result test_reject_job(const job *j, char *err, size_t errlen)
{
    (void)j;
    snprintf(err, errlen, "test.reject: refused permanently");
    return JOB_FAILED;
}

job_result events_prune_job(const job *j, char *err, size_t errlen)
{
    (void)j;
    char why[200] = "";
    long long n = events_prune_activity(why, sizeof why);
    if (n < 0) {
        snprintf(err, errlen, "events.prune: %s", why);
        return JOB_RETRY;
    }
    if (n) log_info("events: pruned %lld activity log(s) older than ACTIVITY_TTL_DAYS", n);
    return JOB_DONE;
}
