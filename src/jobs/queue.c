/* queue.c — see queue.h.
 *
 * Keys (all in the durable Redis):
 *   q:<queue>:s          the stream; group "workers"; entries {id, k, j}
 *                        (job id, idempotency key, envelope JSON)
 *   q:<queue>:delayed    sorted set: "<job id> <envelope>" by due time (ms)
 *   q:<queue>:dead       hash: job id → dead-letter record JSON
 *   q:<queue>:deadidx    sorted set: job id by the time it died
 *   q:<queue>:deaths     hash: job id → workers that died running it
 *   q:<queue>:stats      hash: enqueued, done, skipped, retried, died
 *   q:<queue>:rate       the rate limiter's next free slot (ms)
 *   q:uniq:<key>         job id, while a job with that key is pending
 *   q:done:<key>         set when a job with that key succeeded (TTL)
 *
 * Every state change of a job is one Lua script, so a job is always in
 * exactly one place (stream, delayed set, dead letters, or done) whatever
 * crashes when. Scripts read Redis's own clock (TIME), so every host agrees
 * on when a delayed job is due.
 *
 * Why Streams and not lists (Celery's Redis transport): an entry read by a
 * consumer stays in the group's pending list until XACK, so a worker dying
 * mid-job loses nothing (Celery's BRPOP loses it unless acks_late + a
 * visibility timeout); the lease is per entry and renewed while the worker
 * lives (XCLAIM ... JUSTID), not one global visibility timeout that re-runs
 * every long job; and delayed jobs sit in Redis, not in a worker's memory
 * (Celery's ETA tasks). */
#include "jobs/queue.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define GROUP "workers"
#define MAX_KEY_LEN 200
#define UNIQ_TTL_SECONDS (14 * 86400)   /* safety net only: a key is unlocked when its job ends */
#define MAX_QUEUES 16
#define MAX_TYPES 64

static queue_def queues[MAX_QUEUES];
static int n_queues;
static const job_type *types;
static int n_types;

static __thread char last_error[300];

__attribute__((format(printf, 1, 2))) static void set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

const char *queue_last_error(void) { return last_error; }

int64_t queue_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------- tables ---------- */

/* "mail=2,sms=1" → call fn(queue, value) for each pair; -1 on junk. */
static int apply_overrides(const char *setting, const char *what, int (*fn)(queue_def *q, const char *value))
{
    if (!setting || !*setting) return 0;
    char *copy = strdup(setting), *save = NULL;
    int rc = 0;
    for (char *item = strtok_r(copy, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ') item++;
        char *eq = strchr(item, '=');
        if (!eq) {
            fprintf(stderr, "shoease: %s: expected queue=value, got '%s'\n", what, item);
            rc = -1;
            break;
        }
        *eq = '\0';
        queue_def *q = NULL;
        for (int i = 0; i < n_queues; i++)
            if (!strcmp(queues[i].name, item)) q = &queues[i];
        if (!q) {
            fprintf(stderr, "shoease: %s: no queue named '%s'\n", what, item);
            rc = -1;
        } else if (fn(q, eq + 1) != 0) {
            fprintf(stderr, "shoease: %s: '%s' is not a valid value for queue %s\n", what, eq + 1, item);
            rc = -1;
        }
    }
    free(copy);
    return rc;
}

static int set_concurrency(queue_def *q, const char *v)
{
    long long n;
    if (!text_parse_int64(v, 0, 32, &n)) return -1;
    q->concurrency = (int)n;
    return 0;
}

static int set_rate(queue_def *q, const char *v)
{
    char *end;
    double r = strtod(v, &end);
    if (end == v || *end || r < 0 || r > 100000) return -1;
    q->rate_per_second = r;
    if (r > 0) q->batch = 1;
    return 0;
}

int queue_register(const queue_def *qs, int nq, const job_type *ts, int nt)
{
    if (nq > MAX_QUEUES || nt > MAX_TYPES) {
        fprintf(stderr, "shoease: too many queues or job types\n");
        return -1;
    }
    memcpy(queues, qs, sizeof *qs * (size_t)nq);
    n_queues = nq;
    types = ts;
    n_types = nt;
    for (int i = 0; i < nt; i++) {
        if (!queue_named(ts[i].queue)) {
            fprintf(stderr, "shoease: job type %s names unknown queue %s\n", ts[i].name, ts[i].queue);
            return -1;
        }
    }
    for (int i = 0; i < nq; i++) {
        if (queues[i].batch <= 0) queues[i].batch = 1;
        if (queues[i].rate_per_second > 0) queues[i].batch = 1;
    }
    if (apply_overrides(cfg.job_concurrency, "JOB_CONCURRENCY", set_concurrency) != 0) return -1;
    if (apply_overrides(cfg.job_rate_limits, "JOB_RATE_LIMITS", set_rate) != 0) return -1;
    return 0;
}

const job_type *queue_type(const char *name)
{
    for (int i = 0; i < n_types; i++)
        if (!strcmp(types[i].name, name)) return &types[i];
    return NULL;
}

int queue_count(void) { return n_queues; }
const queue_def *queue_at(int i) { return i >= 0 && i < n_queues ? &queues[i] : NULL; }

const queue_def *queue_named(const char *name)
{
    for (int i = 0; i < n_queues; i++)
        if (!strcmp(queues[i].name, name)) return &queues[i];
    return NULL;
}

/* ---------- keys ---------- */

static void qkey(char *out, size_t len, const char *queue, const char *what)
{
    snprintf(out, len, "q:%s:%s", queue, what);
}

/* ---------- scripts ---------- */

/* KEYS: stream, uniq, delayed, stats. ARGV: job id, envelope, key, delay ms. */
static durable_script enqueue_script = {.src =
    "if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', " "1209600" ") then return 0 end\n"
    "local delay = tonumber(ARGV[4])\n"
    "if delay > 0 then\n"
    "  local t = redis.call('TIME')\n"
    "  local due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + delay\n"
    "  redis.call('ZADD', KEYS[3], due, ARGV[1] .. ' ' .. ARGV[2])\n"
    "else\n"
    "  redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'k', ARGV[3], 'j', ARGV[2])\n"
    "end\n"
    "redis.call('HINCRBY', KEYS[4], 'enqueued', 1)\n"
    "return 1\n"};

/* KEYS: stream, stats, deaths, then (uniq, done) per job.
 * ARGV: group, stat field, n, then (sid, job id, done ttl) per job. */
static durable_script ack_script = {.src =
    "local n = tonumber(ARGV[3])\n"
    "for i = 0, n - 1 do\n"
    "  local sid, jid, ttl = ARGV[4 + i * 3], ARGV[5 + i * 3], tonumber(ARGV[6 + i * 3])\n"
    "  redis.call('XACK', KEYS[1], ARGV[1], sid)\n"
    "  redis.call('XDEL', KEYS[1], sid)\n"
    "  redis.call('HDEL', KEYS[3], jid)\n"
    "  local u = KEYS[4 + i * 2]\n"
    "  if redis.call('GET', u) == jid then redis.call('DEL', u) end\n"
    "  if ttl > 0 then redis.call('SET', KEYS[5 + i * 2], '1', 'EX', ttl) end\n"
    "end\n"
    "redis.call('HINCRBY', KEYS[2], ARGV[2], n)\n"
    "return n\n"};

/* KEYS: stream, delayed, dead, deadidx, uniq, stats, deaths.
 * ARGV: group, sid, job id, envelope-or-record, delay ms (< 0: dead). */
static durable_script fail_script = {.src =
    "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
    "redis.call('XDEL', KEYS[1], ARGV[2])\n"
    "redis.call('HDEL', KEYS[7], ARGV[3])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local delay = tonumber(ARGV[5])\n"
    "if delay < 0 then\n"
    "  redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])\n"
    "  redis.call('ZADD', KEYS[4], now, ARGV[3])\n"
    "  if redis.call('GET', KEYS[5]) == ARGV[3] then redis.call('DEL', KEYS[5]) end\n"
    "  redis.call('HINCRBY', KEYS[6], 'died', 1)\n"
    "else\n"
    "  redis.call('ZADD', KEYS[2], now + delay, ARGV[3] .. ' ' .. ARGV[4])\n"
    "  redis.call('HINCRBY', KEYS[6], 'retried', 1)\n"
    "end\n"
    "return 1\n"};

/* KEYS: delayed, stream. ARGV: limit. */
static durable_script promote_script = {.src =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))\n"
    "for _, m in ipairs(due) do\n"
    "  local sp = string.find(m, ' ', 1, true)\n"
    "  local env = string.sub(m, sp + 1)\n"
    "  local key = ''\n"
    "  local ok, doc = pcall(cjson.decode, env)\n"
    "  if ok and type(doc) == 'table' and type(doc['key']) == 'string' then key = doc['key'] end\n"
    "  redis.call('XADD', KEYS[2], '*', 'id', string.sub(m, 1, sp - 1), 'k', key, 'j', env)\n"
    "  redis.call('ZREM', KEYS[1], m)\n"
    "end\n"
    "return #due\n"};

/* KEYS: stream, deaths, dead, deadidx, stats.
 * ARGV: group, claimer, min idle ms, count, max deaths, uniq key prefix.
 * Entries idle past the lease belong to a worker that died: count the
 * death, and put the job at the end of the stream again (or, after too
 * many deaths, into the dead letters). Their uniq keys are derived from the
 * entry's k field (a single Redis, not a cluster, so this is allowed). */
static durable_script reclaim_script = {.src =
    "local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), '0-0', 'COUNT', "
    "tonumber(ARGV[4]))\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local n = 0\n"
    "for _, e in ipairs(r[2]) do\n"
    "  local sid, f = e[1], e[2]\n"
    "  redis.call('XACK', KEYS[1], ARGV[1], sid)\n"
    "  redis.call('XDEL', KEYS[1], sid)\n"
    "  if type(f) == 'table' then\n"
    "    local jid, key, env = nil, '', nil\n"
    "    for i = 1, #f, 2 do\n"
    "      if f[i] == 'id' then jid = f[i + 1] elseif f[i] == 'k' then key = f[i + 1] elseif f[i] == 'j' then "
    "env = f[i + 1] end\n"
    "    end\n"
    "    if jid and env then\n"
    "      local deaths = redis.call('HINCRBY', KEYS[2], jid, 1)\n"
    "      if deaths >= tonumber(ARGV[5]) then\n"
    "        redis.call('HDEL', KEYS[2], jid)\n"
    "        local rec = '{\"job\":' .. env .. ',\"error\":\"the worker running it died ' .. deaths .. "
    "' times (killed, crashed or timed out)\",\"attempts\":' .. deaths .. ',\"died_at\":' .. now .. '}'\n"
    "        redis.call('HSET', KEYS[3], jid, rec)\n"
    "        redis.call('ZADD', KEYS[4], now, jid)\n"
    "        local u = ARGV[6] .. key\n"
    "        if redis.call('GET', u) == jid then redis.call('DEL', u) end\n"
    "        redis.call('HINCRBY', KEYS[5], 'died', 1)\n"
    "      else\n"
    "        redis.call('XADD', KEYS[1], '*', 'id', jid, 'k', key, 'j', env)\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  n = n + 1\n"
    "end\n"
    "return n\n"};

/* KEYS: stream. ARGV: group, consumer, sids... Returns the sids this
 * consumer no longer holds. */
static durable_script renew_script = {.src =
    "local lost = {}\n"
    "for i = 3, #ARGV do\n"
    "  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)\n"
    "  if p[1] and p[1][2] == ARGV[2] then\n"
    "    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')\n"
    "  else\n"
    "    lost[#lost + 1] = ARGV[i]\n"
    "  end\n"
    "end\n"
    "return lost\n"};

/* KEYS: stream. ARGV: group, then (sid, job id, key, envelope) per entry. */
static durable_script release_script = {.src =
    "for i = 2, #ARGV, 4 do\n"
    "  redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])\n"
    "  if redis.call('XDEL', KEYS[1], ARGV[i]) == 1 then\n"
    "    redis.call('XADD', KEYS[1], '*', 'id', ARGV[i + 1], 'k', ARGV[i + 2], 'j', ARGV[i + 3])\n"
    "  end\n"
    "end\n"
    "return 1\n"};

/* KEYS: rate key. ARGV: interval ms. Returns 0 (go) or ms to wait. A
 * leaky bucket: each job takes the next free slot, slots interval apart. */
static durable_script rate_script = {.src =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local nextfree = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "if nextfree > now then return nextfree - now end\n"
    "redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', 60000)\n"
    "return 0\n"};

/* KEYS: dead, deadidx, stream, uniq, stats. ARGV: job id, new envelope, key. */
static durable_script redrive_script = {.src =
    "if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "redis.call('SET', KEYS[4], ARGV[1], 'EX', 1209600)\n"
    "redis.call('XADD', KEYS[3], '*', 'id', ARGV[1], 'k', ARGV[3], 'j', ARGV[2])\n"
    "redis.call('HINCRBY', KEYS[5], 'enqueued', 1)\n"
    "return 1\n"};

/* ---------- producing ---------- */

static int valid_key(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > MAX_KEY_LEN || !text_valid_utf8(key, n)) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] <= ' ') return 0;
    return 1;
}

/* The envelope of a new job; NULL (error set) when the spec is bad. */
static char *make_envelope(const job_spec *spec, const job_type **type_out, char job_id[33])
{
    const job_type *t = spec->type ? queue_type(spec->type) : NULL;
    if (!t) {
        set_error("unknown job type '%s'", spec->type ? spec->type : "(none)");
        return NULL;
    }
    if (!valid_key(spec->key)) {
        set_error("job %s: the idempotency key must be 1-%d printable characters without spaces", spec->type,
                  MAX_KEY_LEN);
        return NULL;
    }
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(job_id, 33, rnd, sizeof rnd);
    json_t *payload = spec->payload ? json_incref(spec->payload) : json_object();
    json_t *env = json_pack("{s:s,s:s,s:s,s:o,s:i,s:I}", "id", job_id, "type", t->name, "key", spec->key,
                            "p", payload, "a", 0, "t", (json_int_t)queue_now_ms());
    if (!env) {
        set_error("job %s: the payload is not a JSON value", spec->type);
        return NULL;
    }
    if (spec->outbox_id > 0) json_object_set_new(env, "ob", json_integer(spec->outbox_id));
    char *s = json_dumps(env, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(env);
    if (s && strlen(s) > QUEUE_MAX_JOB_BYTES) {
        set_error("job %s: %zu bytes is larger than the %d a job may be", spec->type, strlen(s), QUEUE_MAX_JOB_BYTES);
        free(s);
        return NULL;
    }
    *type_out = t;
    return s;
}

static int format_enqueue(const job_spec *spec, const char *sha, char **cmd)
{
    const job_type *t;
    char job_id[33];
    char *env = make_envelope(spec, &t, job_id);
    if (!env) return -1;
    char stream[96], uniq[256], delayed[96], stats[96], delay[24];
    qkey(stream, sizeof stream, t->queue, "s");
    qkey(delayed, sizeof delayed, t->queue, "delayed");
    qkey(stats, sizeof stats, t->queue, "stats");
    snprintf(uniq, sizeof uniq, "q:uniq:%s", spec->key);
    snprintf(delay, sizeof delay, "%lld", (long long)(spec->delay_ms > 0 ? spec->delay_ms : 0));
    int len = redisFormatCommand(cmd, "EVALSHA %s 4 %s %s %s %s %s %s %s %s", sha, stream, uniq,
                                 delayed, stats, job_id, env, spec->key, delay);
    free(env);
    return len;
}

int queue_enqueue_many(durable_conn *c, const job_spec *specs, int n, int *results)
{
    if (n <= 0) return 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        char sha[41];
        if (durable_script_sha(c, &enqueue_script, sha) < 0) {
            set_error("%s", durable_last_error());
            return -1;
        }
        char **cmds = calloc((size_t)n, sizeof *cmds);
        int *lens = calloc((size_t)n, sizeof *lens);
        redisReply **replies = calloc((size_t)n, sizeof *replies);
        if (!cmds || !lens || !replies) abort();
        /* a spec that cannot become a job (bad key, unknown type) is an
         * error of its own, not of the batch */
        int m = 0, *slot = calloc((size_t)n, sizeof *slot);
        if (!slot) abort();
        for (int i = 0; i < n; i++) {
            char *cmd = NULL;
            int len = format_enqueue(&specs[i], sha, &cmd);
            if (len < 0) {
                results[i] = QUEUE_ERROR;
                slot[i] = -1;
                continue;
            }
            slot[i] = m;
            cmds[m] = cmd;
            lens[m++] = len;
        }
        int rc = m ? durable_pipeline(c, m, cmds, lens, replies) : 0;
        int ok = 0;
        bool noscript = false;
        if (rc < 0) set_error("%s", durable_last_error());
        for (int i = 0; i < n; i++) {
            if (slot[i] < 0) continue;
            redisReply *r = rc == 0 ? replies[slot[i]] : NULL;
            if (!r) {
                results[i] = QUEUE_ERROR;
            } else if (r->type == REDIS_REPLY_INTEGER) {
                results[i] = r->integer == 1 ? QUEUE_ENQUEUED : QUEUE_DUPLICATE;
                ok += r->integer == 1;
            } else {
                results[i] = QUEUE_ERROR;
                if (r->type == REDIS_REPLY_ERROR) {
                    if (!strncmp(r->str, "NOSCRIPT", 8)) noscript = true;
                    set_error("durable redis: %s", r->str);
                }
            }
            if (r) freeReplyObject(r);
        }
        free(cmds);
        free(lens);
        free(replies);
        free(slot);
        if (rc < 0) return -1;
        if (!noscript) return ok;
        durable_script_forget(&enqueue_script); /* Redis restarted and forgot it: load and send again */
    }
    return -1;
}

int queue_enqueue_on(durable_conn *c, const job_spec *spec)
{
    int result = QUEUE_ERROR;
    if (queue_enqueue_many(c, spec, 1, &result) < 0) return QUEUE_ERROR;
    return result;
}

int queue_enqueue(const job_spec *spec) { return queue_enqueue_on(NULL, spec); }

int queue_key_done(durable_conn *c, const char *key)
{
    redisReply *r = durable_cmd(c, "EXISTS q:done:%s", key);
    if (!r) {
        set_error("%s", durable_last_error());
        return -1;
    }
    int rc = r->integer > 0;
    freeReplyObject(r);
    return rc;
}

/* ---------- consuming ---------- */

void queue_entry_free(queue_entry *e)
{
    free(e->job_id);
    free(e->envelope);
    memset(e, 0, sizeof *e);
}

int queue_prepare(durable_conn *c, const queue_def *q)
{
    char stream[96];
    qkey(stream, sizeof stream, q->name, "s");
    redisReply *r = durable_cmd(c, "XGROUP CREATE %s " GROUP " 0 MKSTREAM", stream);
    if (r) {
        freeReplyObject(r);
        return 0;
    }
    if (strstr(durable_last_error(), "BUSYGROUP")) return 0; /* it exists */
    set_error("%s", durable_last_error());
    return -1;
}

int queue_claim(durable_conn *c, const queue_def *q, const char *consumer, int max, int block_ms, queue_entry *out)
{
    char stream[96];
    qkey(stream, sizeof stream, q->name, "s");
    redisReply *r = durable_cmd_timeout(c, block_ms + 3000, "XREADGROUP GROUP " GROUP " %s COUNT %d BLOCK %d STREAMS %s >",
                                        consumer, max, block_ms, stream);
    if (!r) {
        set_error("%s", durable_last_error());
        /* the stream or group vanished (FLUSHALL, a fresh Redis): make them again */
        if (strstr(last_error, "NOGROUP")) queue_prepare(c, q);
        return -1;
    }
    int n = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
        r->element[0]->elements == 2) {
        redisReply *entries = r->element[0]->element[1];
        for (size_t i = 0; i < entries->elements && n < max; i++) {
            redisReply *e = entries->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING) continue;
            queue_entry *qe = &out[n];
            memset(qe, 0, sizeof *qe);
            text_copy(qe->sid, sizeof qe->sid, e->element[0]->str);
            redisReply *f = e->element[1];
            for (size_t k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2) {
                redisReply *name = f->element[k], *val = f->element[k + 1];
                if (name->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING) continue;
                if (!strcmp(name->str, "id") && !qe->job_id) {
                    qe->job_id = strndup(val->str, val->len);
                } else if (!strcmp(name->str, "j") && !qe->envelope) {
                    qe->envelope = malloc(val->len + 1);
                    if (!qe->envelope) abort();
                    memcpy(qe->envelope, val->str, val->len);
                    qe->envelope[val->len] = '\0';
                    qe->envelope_len = val->len;
                }
            }
            /* an entry written by something else (no id or no envelope)
             * still gets delivered: the runner dead-letters it */
            if (!qe->job_id) qe->job_id = strdup(qe->sid);
            if (!qe->envelope) qe->envelope = strdup("");
            n++;
        }
    }
    freeReplyObject(r);
    return n;
}

/* The stream of a queue, and of each of its keys, in fixed buffers. */
struct qkeys {
    char stream[96], delayed[96], dead[96], deadidx[96], stats[96], deaths[96], rate[96];
};

static void keys_of(const queue_def *q, struct qkeys *k)
{
    qkey(k->stream, sizeof k->stream, q->name, "s");
    qkey(k->delayed, sizeof k->delayed, q->name, "delayed");
    qkey(k->dead, sizeof k->dead, q->name, "dead");
    qkey(k->deadidx, sizeof k->deadidx, q->name, "deadidx");
    qkey(k->stats, sizeof k->stats, q->name, "stats");
    qkey(k->deaths, sizeof k->deaths, q->name, "deaths");
    qkey(k->rate, sizeof k->rate, q->name, "rate");
}

static int eval_ok(durable_conn *c, durable_script *s, int nkeys, int nargs, const char **argv, const size_t *lens)
{
    redisReply *r = durable_eval(c, s, nkeys, nargs, argv, lens);
    if (!r) {
        set_error("%s", durable_last_error());
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

/* Successful (or skipped) runs of one stat kind, in one script call. */
static int ack_batch(durable_conn *c, const struct qkeys *k, const job_outcome *o, const int *idx, int n,
                     const char *stat)
{
    if (n == 0) return 0;
    int nkeys = 3 + 2 * n, nargs = 3 + 3 * n;
    const char **argv = calloc((size_t)(nkeys + nargs), sizeof *argv);
    char (*names)[2][256] = calloc((size_t)n, sizeof *names);
    char (*ttls)[16] = calloc((size_t)n, sizeof *ttls);
    char count[16];
    if (!argv || !names || !ttls) abort();
    argv[0] = k->stream;
    argv[1] = k->stats;
    argv[2] = k->deaths;
    for (int i = 0; i < n; i++) {
        const job_outcome *x = &o[idx[i]];
        snprintf(names[i][0], sizeof names[i][0], "q:uniq:%s", x->key ? x->key : "");
        snprintf(names[i][1], sizeof names[i][1], "q:done:%s", x->key ? x->key : "");
        argv[3 + 2 * i] = names[i][0];
        argv[4 + 2 * i] = names[i][1];
    }
    snprintf(count, sizeof count, "%d", n);
    argv[nkeys] = GROUP;
    argv[nkeys + 1] = stat;
    argv[nkeys + 2] = count;
    for (int i = 0; i < n; i++) {
        const job_outcome *x = &o[idx[i]];
        /* a key-less entry (written by hand) has nothing to remember */
        snprintf(ttls[i], sizeof ttls[i], "%d", x->key && x->key[0] && !x->skipped ? x->done_ttl_seconds : 0);
        argv[nkeys + 3 + 3 * i] = x->entry->sid;
        argv[nkeys + 4 + 3 * i] = x->job_id;
        argv[nkeys + 5 + 3 * i] = ttls[i];
    }
    int rc = eval_ok(c, &ack_script, nkeys, nargs, argv, NULL);
    free(argv);
    free(names);
    free(ttls);
    return rc;
}

int queue_finish(durable_conn *c, const queue_def *q, const job_outcome *o, int n)
{
    struct qkeys k;
    keys_of(q, &k);
    int *done = calloc((size_t)n + 1, sizeof *done), *skipped = calloc((size_t)n + 1, sizeof *skipped);
    if (!done || !skipped) abort();
    int nd = 0, ns = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        if (o[i].result == JOB_DONE) {
            if (o[i].skipped) skipped[ns++] = i;
            else done[nd++] = i;
            continue;
        }
        char uniq[256], delay[24];
        snprintf(uniq, sizeof uniq, "q:uniq:%s", o[i].key ? o[i].key : "");
        snprintf(delay, sizeof delay, "%lld", o[i].result == JOB_RETRY ? (long long)o[i].retry_delay_ms : -1LL);
        const char *argv[] = {k.stream, k.delayed, k.dead, k.deadidx, uniq, k.stats, k.deaths,
                              GROUP, o[i].entry->sid, o[i].job_id, o[i].next_envelope, delay};
        if (eval_ok(c, &fail_script, 7, 5, argv, NULL) < 0) rc = -1;
    }
    if (ack_batch(c, &k, o, done, nd, "done") < 0) rc = -1;
    if (ack_batch(c, &k, o, skipped, ns, "skipped") < 0) rc = -1;
    free(done);
    free(skipped);
    return rc;
}

int queue_release(durable_conn *c, const queue_def *q, const queue_entry *entries, int n)
{
    if (n <= 0) return 0;
    struct qkeys k;
    keys_of(q, &k);
    const char **argv = calloc((size_t)(2 + 4 * n), sizeof *argv);
    char **keys = calloc((size_t)n, sizeof *keys);
    if (!argv || !keys) abort();
    argv[0] = k.stream;
    argv[1] = GROUP;
    for (int i = 0; i < n; i++) {
        json_t *env = json_loads(entries[i].envelope, 0, NULL);
        const char *key = env ? json_string_value(json_object_get(env, "key")) : NULL;
        keys[i] = strdup(key ? key : "");
        json_decref(env);
        argv[2 + 4 * i] = entries[i].sid;
        argv[3 + 4 * i] = entries[i].job_id;
        argv[4 + 4 * i] = keys[i];
        argv[5 + 4 * i] = entries[i].envelope;
    }
    int rc = eval_ok(c, &release_script, 1, 1 + 4 * n, argv, NULL);
    for (int i = 0; i < n; i++) free(keys[i]);
    free(keys);
    free(argv);
    return rc;
}

int queue_renew(durable_conn *c, const queue_def *q, const char *consumer, const char *const *sids, int n, bool *lost)
{
    for (int i = 0; i < n; i++) lost[i] = false;
    if (n <= 0) return 0;
    struct qkeys k;
    keys_of(q, &k);
    const char **argv = calloc((size_t)(3 + n), sizeof *argv);
    if (!argv) abort();
    argv[0] = k.stream;
    argv[1] = GROUP;
    argv[2] = consumer;
    for (int i = 0; i < n; i++) argv[3 + i] = sids[i];
    redisReply *r = durable_eval(c, &renew_script, 1, 2 + n, argv, NULL);
    free(argv);
    if (!r) {
        set_error("%s", durable_last_error());
        return -1;
    }
    for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e < r->elements; e++)
        for (int i = 0; i < n; i++)
            if (r->element[e]->type == REDIS_REPLY_STRING && !strcmp(r->element[e]->str, sids[i])) lost[i] = true;
    freeReplyObject(r);
    return 0;
}

static long long eval_int(durable_conn *c, durable_script *s, int nkeys, int nargs, const char **argv)
{
    redisReply *r = durable_eval(c, s, nkeys, nargs, argv, NULL);
    if (!r) {
        set_error("%s", durable_last_error());
        return -1;
    }
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    return v;
}

int queue_promote(durable_conn *c, const queue_def *q)
{
    struct qkeys k;
    keys_of(q, &k);
    const char *argv[] = {k.delayed, k.stream, "500"};
    return (int)eval_int(c, &promote_script, 2, 1, argv);
}

int queue_reclaim(durable_conn *c, const queue_def *q, int lease_ms, int max_deaths)
{
    struct qkeys k;
    keys_of(q, &k);
    char idle[16], deaths[16];
    snprintf(idle, sizeof idle, "%d", lease_ms);
    snprintf(deaths, sizeof deaths, "%d", max_deaths);
    const char *argv[] = {k.stream, k.deaths, k.dead, k.deadidx, k.stats,
                          GROUP, "reclaimer", idle, "200", deaths, "q:uniq:"};
    int n = (int)eval_int(c, &reclaim_script, 5, 6, argv);
    if (n > 0) log_warn("jobs: %d job(s) of queue %s taken back from a worker that stopped renewing them", n, q->name);
    return n;
}

int64_t queue_rate_wait(durable_conn *c, const queue_def *q)
{
    if (q->rate_per_second <= 0) return 0;
    struct qkeys k;
    keys_of(q, &k);
    char interval[24];
    snprintf(interval, sizeof interval, "%lld", (long long)(1000.0 / q->rate_per_second + 0.5));
    const char *argv[] = {k.rate, interval};
    return eval_int(c, &rate_script, 1, 1, argv);
}

/* ---------- operating ---------- */

static long long int_reply(durable_conn *c, bool *ok, const char *fmt, const char *key)
{
    redisReply *r = durable_cmd(c, fmt, key);
    if (!r) {
        *ok = false;
        return 0;
    }
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    return v;
}

int queue_stats_get(durable_conn *c, const queue_def *q, queue_stats *s)
{
    memset(s, 0, sizeof *s);
    struct qkeys k;
    keys_of(q, &k);
    bool ok = true;
    long long len = int_reply(c, &ok, "XLEN %s", k.stream);
    s->delayed = int_reply(c, &ok, "ZCARD %s", k.delayed);
    s->dead = int_reply(c, &ok, "HLEN %s", k.dead);
    redisReply *r = durable_cmd(c, "XPENDING %s " GROUP, k.stream);
    if (r) {
        if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->type == REDIS_REPLY_INTEGER)
            s->in_flight = r->element[0]->integer;
        freeReplyObject(r);
    } else if (!strstr(durable_last_error(), "NOGROUP")) {
        ok = false;
    }
    s->waiting = len - s->in_flight > 0 ? len - s->in_flight : 0;
    r = durable_cmd(c, "HGETALL %s", k.stats);
    if (r) {
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
            const char *name = r->element[i]->str;
            long long v = strtoll(r->element[i + 1]->str, NULL, 10);
            if (!strcmp(name, "enqueued")) s->enqueued = v;
            else if (!strcmp(name, "done")) s->done = v;
            else if (!strcmp(name, "skipped")) s->skipped = v;
            else if (!strcmp(name, "retried")) s->retried = v;
            else if (!strcmp(name, "died")) s->died = v;
        }
        freeReplyObject(r);
    } else {
        ok = false;
    }
    if (!ok) set_error("%s", durable_last_error());
    return ok ? 0 : -1;
}

/* A stored dead-letter record, flattened for display: {id, queue, type,
 * key, payload, error, attempts, died_at, first_enqueued}. */
static json_t *dead_view(const char *queue, const char *id, const char *text)
{
    json_t *rec = json_loads(text, 0, NULL);
    json_t *jdoc = rec ? json_object_get(rec, "job") : NULL;
    json_t *out = json_pack("{s:s,s:s}", "id", id, "queue", queue);
    if (!rec) {
        json_object_set_new(out, "error", json_string("(unreadable dead-letter record)"));
        json_object_set_new(out, "raw", json_string(text));
        return out;
    }
    if (json_is_object(jdoc)) {
        json_object_set(out, "type", json_object_get(jdoc, "type") ? json_object_get(jdoc, "type") : json_null());
        json_object_set(out, "key", json_object_get(jdoc, "key") ? json_object_get(jdoc, "key") : json_null());
        json_object_set(out, "payload", json_object_get(jdoc, "p") ? json_object_get(jdoc, "p") : json_null());
        json_object_set(out, "enqueued_at_ms", json_object_get(jdoc, "t") ? json_object_get(jdoc, "t") : json_null());
    } else {
        json_object_set_new(out, "raw", json_string(json_string_value(json_object_get(rec, "raw"))
                                                        ? json_string_value(json_object_get(rec, "raw"))
                                                        : ""));
    }
    json_object_set(out, "error", json_object_get(rec, "error") ? json_object_get(rec, "error") : json_null());
    json_object_set(out, "attempts", json_object_get(rec, "attempts") ? json_object_get(rec, "attempts") : json_null());
    json_object_set(out, "died_at_ms", json_object_get(rec, "died_at") ? json_object_get(rec, "died_at") : json_null());
    json_decref(rec);
    return out;
}

json_t *queue_dead_list(durable_conn *c, const char *queue, int limit)
{
    json_t *list = json_array();
    for (int qi = 0; qi < n_queues; qi++) {
        if (queue && strcmp(queue, queues[qi].name)) continue;
        struct qkeys k;
        keys_of(&queues[qi], &k);
        redisReply *ids = durable_cmd(c, "ZREVRANGE %s 0 %d", k.deadidx, limit - 1);
        if (!ids) {
            set_error("%s", durable_last_error());
            json_decref(list);
            return NULL;
        }
        for (size_t i = 0; ids->type == REDIS_REPLY_ARRAY && i < ids->elements; i++) {
            redisReply *rec = durable_cmd(c, "HGET %s %s", k.dead, ids->element[i]->str);
            if (rec && rec->type == REDIS_REPLY_STRING)
                json_array_append_new(list, dead_view(queues[qi].name, ids->element[i]->str, rec->str));
            if (rec) freeReplyObject(rec);
        }
        freeReplyObject(ids);
    }
    return list;
}

json_t *queue_dead_get(durable_conn *c, const char *job_id)
{
    last_error[0] = '\0';
    for (int qi = 0; qi < n_queues; qi++) {
        struct qkeys k;
        keys_of(&queues[qi], &k);
        redisReply *rec = durable_cmd(c, "HGET %s %s", k.dead, job_id);
        if (!rec) {
            set_error("%s", durable_last_error());
            return NULL;
        }
        if (rec->type == REDIS_REPLY_STRING) {
            json_t *v = dead_view(queues[qi].name, job_id, rec->str);
            freeReplyObject(rec);
            return v;
        }
        freeReplyObject(rec);
    }
    return NULL;
}

int queue_dead_redrive(durable_conn *c, const char *job_id)
{
    for (int qi = 0; qi < n_queues; qi++) {
        struct qkeys k;
        keys_of(&queues[qi], &k);
        redisReply *rec = durable_cmd(c, "HGET %s %s", k.dead, job_id);
        if (!rec) {
            set_error("%s", durable_last_error());
            return -1;
        }
        if (rec->type != REDIS_REPLY_STRING) {
            freeReplyObject(rec);
            continue;
        }
        json_t *doc = json_loads(rec->str, 0, NULL);
        freeReplyObject(rec);
        json_t *jdoc = doc ? json_object_get(doc, "job") : NULL;
        if (!json_is_object(jdoc) || !json_is_string(json_object_get(jdoc, "key"))) {
            set_error("dead jdoc %s has no readable jdoc in it; delete it instead", job_id);
            json_decref(doc);
            return -1;
        }
        json_object_set_new(jdoc, "a", json_integer(0));
        json_object_set_new(jdoc, "t", json_integer(queue_now_ms()));
        json_object_del(jdoc, "err");
        char *env = json_dumps(jdoc, JSON_COMPACT | JSON_ENSURE_ASCII);
        char uniq[256];
        snprintf(uniq, sizeof uniq, "q:uniq:%s", json_string_value(json_object_get(jdoc, "key")));
        const char *argv[] = {k.dead, k.deadidx, k.stream, uniq, k.stats,
                              job_id, env, json_string_value(json_object_get(jdoc, "key"))};
        long long r = eval_int(c, &redrive_script, 5, 3, argv);
        free(env);
        json_decref(doc);
        return r < 0 ? -1 : (int)r;
    }
    return 0;
}

int queue_dead_delete(durable_conn *c, const char *job_id)
{
    for (int qi = 0; qi < n_queues; qi++) {
        struct qkeys k;
        keys_of(&queues[qi], &k);
        redisReply *r = durable_cmd(c, "HDEL %s %s", k.dead, job_id);
        if (!r) {
            set_error("%s", durable_last_error());
            return -1;
        }
        long long n = r->integer;
        freeReplyObject(r);
        if (n > 0) {
            r = durable_cmd(c, "ZREM %s %s", k.deadidx, job_id);
            if (r) freeReplyObject(r);
            return 1;
        }
    }
    return 0;
}

/* ---------- figures for /metrics ---------- */

void queue_count_runs(durable_conn *c, const char *const *run_types, const char *const *outcomes,
                      const int64_t *duration_us, int n)
{
    /* aggregate the batch first: usually one type, one outcome */
    enum { MAXG = 16 };
    struct group { const char *type, *outcome; long long count, us; } g[MAXG];
    int ng = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < ng && (strcmp(g[k].type, run_types[i]) || strcmp(g[k].outcome, outcomes[i]))) k++;
        if (k == ng) {
            if (ng == MAXG) continue;
            g[ng++] = (struct group){run_types[i], outcomes[i], 0, 0};
        }
        g[k].count++;
        g[k].us += duration_us[i];
    }
    if (!ng) return;
    char *cmds[2 * MAXG];
    int lens[2 * MAXG];
    redisReply *replies[2 * MAXG];
    for (int k = 0; k < ng; k++) {
        lens[2 * k] = redisFormatCommand(&cmds[2 * k], "HINCRBY metrics:jobs %s|%s %lld", g[k].type, g[k].outcome,
                                         g[k].count);
        lens[2 * k + 1] = redisFormatCommand(&cmds[2 * k + 1], "HINCRBY metrics:jobs %s|us %lld", g[k].type, g[k].us);
    }
    if (durable_pipeline(c, 2 * ng, cmds, lens, replies) == 0)
        for (int i = 0; i < 2 * ng; i++) freeReplyObject(replies[i]);
}

