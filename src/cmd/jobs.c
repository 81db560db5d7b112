/* jobs.c — `shoease jobs`: what the queues hold, and the dead letters.
 *
 *   shoease jobs [list] [--json]        per queue: waiting, in flight, delayed/retrying, dead, totals
 *   shoease jobs dead [QUEUE] [--json]  the newest dead jobs with their errors
 *   shoease jobs show ID                one dead job, whole (payload, error, attempts)
 *   shoease jobs redrive ID | --all [QUEUE]   put dead jobs back (attempts reset)
 *   shoease jobs delete ID              drop a dead job for good
 *   shoease jobs enqueue TYPE KEY [JSON] [--delay MS]
 *   shoease jobs fill N [--rate R]      enqueue N bench.noop jobs (the queue benchmark), R a second */
#include "cmd/cmd.h"

#include "core/text.h"
#include "db/db.h"
#include "db/outbox_repo.h"
#include "durable/durable.h"
#include "jobs/queue.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage(void)
{
    fprintf(stderr, "usage: shoease jobs [list] [--json]\n"
                    "       shoease jobs dead [QUEUE] [--json]\n"
                    "       shoease jobs show ID\n"
                    "       shoease jobs redrive ID | --all [QUEUE]\n"
                    "       shoease jobs delete ID\n"
                    "       shoease jobs enqueue TYPE KEY [PAYLOAD_JSON] [--delay MS]\n"
                    "       shoease jobs fill N [--rate JOBS_PER_SECOND]\n");
    return 2;
}

static int store_failed(void)
{
    fprintf(stderr, "shoease jobs: the durable Redis (%s) failed: %s\n", durable_server_name(), queue_last_error());
    return 1;
}

static int list(bool as_json)
{
    json_t *out = json_object(), *qs = json_object();
    if (!as_json)
        printf("%-10s %9s %9s %9s %7s   %10s %10s %8s %8s %7s\n", "queue", "waiting", "in-flight", "delayed", "dead",
               "enqueued", "done", "skipped", "retried", "died");
    for (int i = 0; i < queue_count(); i++) {
        const queue_def *q = queue_at(i);
        queue_stats s;
        if (queue_stats_get(NULL, q, &s) < 0) {
            json_decref(out);
            json_decref(qs);
            return store_failed();
        }
        if (as_json)
            json_object_set_new(qs, q->name,
                                json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:f}", "waiting",
                                          (json_int_t)s.waiting, "in_flight", (json_int_t)s.in_flight, "delayed",
                                          (json_int_t)s.delayed, "dead", (json_int_t)s.dead, "enqueued",
                                          (json_int_t)s.enqueued, "done", (json_int_t)s.done, "skipped",
                                          (json_int_t)s.skipped, "retried", (json_int_t)s.retried, "died",
                                          (json_int_t)s.died, "concurrency", q->concurrency, "rate_per_second",
                                          q->rate_per_second));
        else
            printf("%-10s %9lld %9lld %9lld %7lld   %10lld %10lld %8lld %8lld %7lld\n", q->name, s.waiting,
                   s.in_flight, s.delayed, s.dead, s.enqueued, s.done, s.skipped, s.retried, s.died);
    }
    json_object_set_new(out, "queues", qs);
    outbox_counts oc;
    db_conn *c = db_conn_get();
    bool have_outbox = c && outbox_repo_counts(c, &oc) == 0;
    if (have_outbox) {
        if (as_json)
            json_object_set_new(out, "outbox", json_pack("{s:I,s:I,s:I,s:I}", "unsent", (json_int_t)oc.pending,
                                                         "sent_unfinished", (json_int_t)oc.sent_unfinished, "done",
                                                         (json_int_t)oc.done, "dead", (json_int_t)oc.dead));
        else
            printf("\noutbox: %lld unsent, %lld sent and not finished, %lld done, %lld dead\n", oc.pending,
                   oc.sent_unfinished, oc.done, oc.dead);
    } else if (!as_json) {
        printf("\noutbox: MariaDB unreachable (%s)\n", db_last_error());
    }
    if (as_json) {
        char *s = json_dumps(out, JSON_COMPACT);
        puts(s);
        free(s);
    }
    json_decref(out);
    return 0;
}

static void print_time(json_t *ms)
{
    time_t t = (time_t)(json_integer_value(ms) / 1000);
    struct tm tm;
    char buf[32] = "?";
    if (json_is_integer(ms) && gmtime_r(&t, &tm)) strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    fputs(buf, stdout);
}

static int dead(const char *queue, bool as_json)
{
    if (queue && !queue_named(queue)) {
        fprintf(stderr, "shoease jobs: no queue named %s\n", queue);
        return 2;
    }
    json_t *list = queue_dead_list(NULL, queue, 50);
    if (!list) return store_failed();
    if (as_json) {
        char *s = json_dumps(list, JSON_COMPACT);
        puts(s);
        free(s);
    } else if (!json_array_size(list)) {
        printf("no dead jobs%s%s\n", queue ? " in " : "", queue ? queue : "");
    } else {
        size_t i;
        json_t *d;
        json_array_foreach(list, i, d) {
            printf("%s  %-8s %-14s ", json_string_value(json_object_get(d, "id")),
                   json_string_value(json_object_get(d, "queue")),
                   json_string_value(json_object_get(d, "type")) ? json_string_value(json_object_get(d, "type"))
                                                                   : "?");
            print_time(json_object_get(d, "died_at_ms"));
            printf("  attempts %lld\n    key: %s\n    error: %s\n", (long long)json_integer_value(json_object_get(d, "attempts")),
                   json_string_value(json_object_get(d, "key")) ? json_string_value(json_object_get(d, "key")) : "?",
                   json_string_value(json_object_get(d, "error")) ? json_string_value(json_object_get(d, "error"))
                                                                    : "?");
        }
    }
    json_decref(list);
    return 0;
}

static int show(const char *id)
{
    json_t *d = queue_dead_get(NULL, id);
    if (!d) {
        if (queue_last_error()[0]) return store_failed();
        fprintf(stderr, "shoease jobs: no dead job %s\n", id);
        return 1;
    }
    char *s = json_dumps(d, JSON_INDENT(2) | JSON_SORT_KEYS);
    puts(s);
    free(s);
    json_decref(d);
    return 0;
}

static int redrive_all(const char *queue)
{
    json_t *list = queue_dead_list(NULL, queue, 100000);
    if (!list) return store_failed();
    size_t i, n = 0;
    json_t *d;
    json_array_foreach(list, i, d) {
        if (queue_dead_redrive(NULL, json_string_value(json_object_get(d, "id"))) == 1) n++;
    }
    json_decref(list);
    printf("re-drove %zu dead job(s)\n", n);
    return 0;
}

static int enqueue(int argc, char **argv)
{
    const char *type = argv[0], *key = argv[1], *payload_text = NULL;
    long long delay = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--delay") && i + 1 < argc) {
            if (!text_parse_int64(argv[++i], 0, 365LL * 86400 * 1000, &delay)) return usage();
        } else if (!payload_text) {
            payload_text = argv[i];
        } else {
            return usage();
        }
    }
    json_error_t jerr;
    json_t *payload = payload_text ? json_loads(payload_text, JSON_REJECT_DUPLICATES, &jerr) : json_object();
    if (!json_is_object(payload)) {
        fprintf(stderr, "shoease jobs: the payload must be a JSON object%s%s\n", payload ? "" : ": ",
                payload ? "" : jerr.text);
        json_decref(payload);
        return 2;
    }
    int rc = queue_enqueue(&(job_spec){.type = type, .key = key, .payload = payload, .delay_ms = delay});
    json_decref(payload);
    if (rc == QUEUE_ERROR) {
        fprintf(stderr, "shoease jobs: %s\n", queue_last_error());
        return 1;
    }
    printf("%s\n", rc == QUEUE_ENQUEUED ? "enqueued" : "a job with that key is already pending: nothing to do");
    return 0;
}

/* The benchmark's load: N no-op jobs, 1,000 per round trip; with --rate R,
 * paced at R jobs a second in small chunks (about one every 10 ms, each
 * sent when its time has come), so a worker's pick-up latency can be
 * measured under a steady load. */
static int fill(int argc, char **argv)
{
    long long n, rate = 0;
    if (!text_parse_int64(argv[0], 1, 100000000, &n)) return usage();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rate") && i + 1 < argc) {
            if (!text_parse_int64(argv[++i], 1, 10000000, &rate)) return usage();
        } else {
            return usage();
        }
    }
    durable_conn *c = durable_connect();
    if (!c) {
        fprintf(stderr, "shoease jobs: %s\n", durable_last_error());
        return 1;
    }
    unsigned char rnd[8];
    char run[17];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(run, sizeof run, rnd, sizeof rnd);
    enum { CHUNK = 1000 };
    static job_spec specs[CHUNK];
    static char keys[CHUNK][48];
    static int results[CHUNK];
    /* paced: rate / 100 jobs per chunk (1..CHUNK), chunk k due at start + k * chunk / rate */
    long long chunk = rate ? rate / 100 : CHUNK;
    if (chunk < 1) chunk = 1;
    if (chunk > CHUNK) chunk = CHUNK;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long long done = 0;
    while (done < n) {
        int m = n - done > chunk ? (int)chunk : (int)(n - done);
        if (rate) {
            long long due_ns = done * 1000000000LL / rate;
            struct timespec at = {start.tv_sec + (time_t)(due_ns / 1000000000LL),
                                  start.tv_nsec + (long)(due_ns % 1000000000LL)};
            if (at.tv_nsec >= 1000000000L) {
                at.tv_sec++;
                at.tv_nsec -= 1000000000L;
            }
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) continue;
        }
        for (int i = 0; i < m; i++) {
            snprintf(keys[i], sizeof keys[i], "bench:%s:%lld", run, done + i);
            specs[i] = (job_spec){.type = "bench.noop", .key = keys[i]};
        }
        if (queue_enqueue_many(c, specs, m, results) < 0) {
            fprintf(stderr, "shoease jobs: %s\n", queue_last_error());
            durable_disconnect(c);
            return 1;
        }
        done += m;
    }
    durable_disconnect(c);
    if (rate) {
        struct timespec end;
        clock_gettime(CLOCK_MONOTONIC, &end);
        double secs = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
        printf("enqueued %lld bench.noop jobs in %.2f s (%.0f a second, asked for %lld)\n", n, secs,
               secs > 0 ? (double)n / secs : 0.0, rate);
    } else {
        printf("enqueued %lld bench.noop jobs\n", n);
    }
    return 0;
}

int cmd_jobs(int argc, char **argv)
{
    bool as_json = false;
    int n = 0;
    char *args[8];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) as_json = true;
        else if (n < 8) args[n++] = argv[i];
        else return usage();
    }
    if (n == 0 || !strcmp(args[0], "list")) return n <= 1 ? list(as_json) : usage();
    if (!strcmp(args[0], "dead")) return n <= 2 ? dead(n == 2 ? args[1] : NULL, as_json) : usage();
    if (!strcmp(args[0], "show") && n == 2) return show(args[1]);
    if (!strcmp(args[0], "redrive") && n >= 2) {
        if (!strcmp(args[1], "--all")) return n <= 3 ? redrive_all(n == 3 ? args[2] : NULL) : usage();
        if (n != 2) return usage();
        int rc = queue_dead_redrive(NULL, args[1]);
        if (rc < 0) return store_failed();
        if (rc == 0) {
            fprintf(stderr, "shoease jobs: no dead job %s\n", args[1]);
            return 1;
        }
        printf("re-drove %s\n", args[1]);
        return 0;
    }
    if (!strcmp(args[0], "delete") && n == 2) {
        int rc = queue_dead_delete(NULL, args[1]);
        if (rc < 0) return store_failed();
        if (rc == 0) {
            fprintf(stderr, "shoease jobs: no dead job %s\n", args[1]);
            return 1;
        }
        printf("deleted %s\n", args[1]);
        return 0;
    }
    if (!strcmp(args[0], "enqueue") && n >= 3) return enqueue(n - 1, args + 1);
    if (!strcmp(args[0], "fill") && (n == 2 || n == 4)) return fill(n - 1, args + 1);
    return usage();
}
