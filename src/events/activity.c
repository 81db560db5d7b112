/* activity.c — see activity.h.
 *
 * A batch travels as one list element: "<batch id> <count>\n" followed by
 * its lines separated by "\n". The id makes every element unique, so the
 * writer can remove exactly the batches it stored (LREM) even while
 * producers drop the oldest ones. */
#include "events/activity.h"

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "durable/durable.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FLUSH_MS 200
#define BATCH_MAX_BYTES (512 * 1024)

struct batch {
    buf text;              /* the lines, "\n"-separated */
    int count;
    struct batch *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct batch *filling;          /* current batch (under lock) */
static struct batch *waiting, *waiting_tail; /* full batches not yet pushed (flusher only) */
static int waiting_events;
static bool running, stop_requested;
static pthread_t flusher;
static void (*drop_hook)(uint64_t n);
static time_t last_drop_log;

/* KEYS: ev:q, ev:backlog, ev:dropped. ARGV: element, count, cap. Appends,
 * then drops the oldest batches while the backlog is over the cap.
 * Returns the number of events dropped. */
static durable_script push_script = {.src =
    "redis.call('RPUSH', KEYS[1], ARGV[1])\n"
    "local total = redis.call('INCRBY', KEYS[2], tonumber(ARGV[2]))\n"
    "local dropped = 0\n"
    "while total > tonumber(ARGV[3]) do\n"
    "  local old = redis.call('LPOP', KEYS[1])\n"
    "  if not old then redis.call('SET', KEYS[2], 0) break end\n"
    "  local n = tonumber(string.match(old, '^%x+ (%d+)')) or 0\n"
    "  total = redis.call('DECRBY', KEYS[2], n)\n"
    "  dropped = dropped + n\n"
    "end\n"
    "if dropped > 0 then redis.call('INCRBY', KEYS[3], dropped) end\n"
    "return dropped\n"};

void activity_on_drop(void (*fn)(uint64_t n)) { drop_hook = fn; }

static struct batch *batch_new(void)
{
    struct batch *b = calloc(1, sizeof *b);
    if (!b) abort();
    return b;
}

static void batch_free(struct batch *b)
{
    buf_free(&b->text);
    free(b);
}

/* Push one batch; 0 or -1. */
static int push(durable_conn *c, const char *text, size_t len, int count)
{
    unsigned char rnd[8];
    char head[64];
    randombytes_buf(rnd, sizeof rnd);
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    int hl = snprintf(head, sizeof head, "%s %d\n", hex, count);
    char *element = malloc((size_t)hl + len);
    if (!element) abort();
    memcpy(element, head, (size_t)hl);
    memcpy(element + hl, text, len);
    char cnt[16], cap[24];
    snprintf(cnt, sizeof cnt, "%d", count);
    snprintf(cap, sizeof cap, "%d", cfg.event_backlog_max);
    const char *argv[] = {"ev:q", "ev:backlog", "ev:dropped", element, cnt, cap};
    size_t lens[] = {4, 10, 10, (size_t)hl + len, strlen(cnt), strlen(cap)};
    redisReply *r = durable_eval(c, &push_script, 3, 3, argv, lens);
    free(element);
    if (!r) return -1;
    if (r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
        time_t now = time(NULL);
        if (now != last_drop_log) {
            last_drop_log = now;
            log_warn("events: backlog over EVENT_BACKLOG_MAX=%d; dropped the %lld oldest event(s)",
                     cfg.event_backlog_max, r->integer);
        }
    }
    freeReplyObject(r);
    return 0;
}

int events_push_lines(const char *const *lines, const size_t *lens, int n)
{
    if (n <= 0) return 0;
    buf text = BUF_INIT;
    for (int i = 0; i < n; i++) {
        if (i) buf_putc(&text, '\n');
        buf_append(&text, lines[i], lens[i]);
    }
    int rc = push(NULL, text.data, text.len, n);
    buf_free(&text);
    return rc;
}

/* Keep the in-memory backlog bounded while Redis is away: drop the oldest. */
static void trim_waiting(void)
{
    int dropped = 0;
    while (waiting && waiting_events > EVENT_MEMORY_MAX) {
        struct batch *b = waiting;
        waiting = b->next;
        if (!waiting) waiting_tail = NULL;
        waiting_events -= b->count;
        dropped += b->count;
        batch_free(b);
    }
    if (dropped) {
        if (drop_hook) drop_hook((uint64_t)dropped);
        time_t now = time(NULL);
        if (now != last_drop_log) {
            last_drop_log = now;
            log_warn("events: the durable Redis is unreachable and %d events wait in memory; dropped the %d oldest",
                     EVENT_MEMORY_MAX, dropped);
        }
    }
}

static void flush_waiting(durable_conn **c)
{
    while (waiting) {
        if (!*c && !(*c = durable_connect())) return;
        struct batch *b = waiting;
        if (push(*c, b->text.data, b->text.len, b->count) < 0) {
            durable_disconnect(*c);
            *c = NULL;
            return;
        }
        waiting = b->next;
        if (!waiting) waiting_tail = NULL;
        waiting_events -= b->count;
        batch_free(b);
    }
}

static void *flusher_main(void *arg)
{
    (void)arg;
    durable_conn *c = NULL;
    time_t next_connect_try = 0;
    pthread_mutex_lock(&lock);
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += FLUSH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
        if (!stop_requested) pthread_cond_timedwait(&wake, &lock, &until);
        bool stopping = stop_requested;
        struct batch *full = filling && filling->count ? filling : NULL;
        if (full) filling = batch_new();
        pthread_mutex_unlock(&lock);

        if (full) {
            if (waiting_tail) waiting_tail->next = full;
            else waiting = full;
            waiting_tail = full;
            waiting_events += full->count;
        }
        if (waiting) {
            /* a dead Redis costs one refused connect a second, not one per tick */
            time_t now = time(NULL);
            if (c || now >= next_connect_try) {
                flush_waiting(&c);
                if (!c) next_connect_try = now + 1;
            }
            trim_waiting();
        }
        pthread_mutex_lock(&lock);
        if (stopping) break;
    }
    pthread_mutex_unlock(&lock);
    durable_disconnect(c);
    return NULL;
}

void activity_start(void)
{
    if (running) return;
    filling = batch_new();
    stop_requested = false;
    if (pthread_create(&flusher, NULL, flusher_main, NULL) != 0) {
        log_error("events: cannot start the activity flusher; activity logging is off in this worker");
        batch_free(filling);
        filling = NULL;
        return;
    }
    running = true;
}

void activity_stop(void)
{
    if (!running) return;
    pthread_mutex_lock(&lock);
    stop_requested = true;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(flusher, NULL);
    running = false;
    if (filling) batch_free(filling);
    filling = NULL;
    while (waiting) {
        struct batch *b = waiting;
        waiting = b->next;
        batch_free(b);
    }
    waiting_tail = NULL;
    waiting_events = 0;
}

static void record(const char *line, size_t len)
{
    pthread_mutex_lock(&lock);
    if (filling) {
        if (filling->count) buf_putc(&filling->text, '\n');
        buf_append(&filling->text, line, len);
        filling->count++;
        if (filling->text.len > BATCH_MAX_BYTES) pthread_cond_signal(&wake);
    }
    pthread_mutex_unlock(&lock);
}

void events_emit(json_t *event)
{
    if (!event) return;
    if (!json_object_get(event, "time")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        json_object_set_new(event, "time_ms", json_integer((json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
    }
    char *s = json_dumps(event, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(event);
    if (!s) return;
    size_t n = strlen(s);
    if (running) {
        record(s, n);
    } else {
        const char *lines[] = {s};
        events_push_lines(lines, &n, 1);
    }
    free(s);
}

void activity_record(const char *line, size_t len)
{
    if (running && cfg.activity_log) record(line, len);
}
