/* jobs_admin.c — see jobs_admin.h. */
#include "shop/jobs_admin.h"

#include "core/log.h"
#include "core/text.h"
#include "db/tx.h"

#include <stdio.h>
#include <string.h>

#define REFUSED 2

static const char QUEUES_DOWN[] = "The job queues (the durable Redis) are unavailable for a moment. Nothing was changed.";

shop_status jobs_queues(job_queue_row *out, int max, int *n, outbox_counts *outbox, bool *have_outbox, shop_error *e)
{
    *n = 0;
    for (int i = 0; i < queue_count() && *n < max; i++) {
        const queue_def *q = queue_at(i);
        out[*n].name = q->name;
        if (queue_stats_get(NULL, q, &out[*n].stats) < 0) {
            log_warn("jobs: figures of queue %s: %s", q->name, queue_last_error());
            return shop_fail(e, SHOP_UNAVAILABLE, NULL, QUEUES_DOWN);
        }
        (*n)++;
    }
    db_conn *c = db_conn_get();
    *have_outbox = c && outbox_repo_counts(c, outbox) == 0;
    return SHOP_OK;
}

/* Text from a dead-letter record for a page: at most outlen - 1 bytes, never
 * cut inside a character, and only valid UTF-8 (anything else shown as ?). */
static void shown(char *out, size_t outlen, json_t *v)
{
    const char *s = json_string_value(v);
    if (!s) s = "";
    size_t n = strlen(s);
    if (n >= outlen) {
        n = outlen - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    if (!text_valid_utf8(out, n))
        for (char *p = out; *p; p++)
            if ((unsigned char)*p >= 0x80) *p = '?';
}

static void dead_row(json_t *d, dead_job_row *r)
{
    memset(r, 0, sizeof *r);
    shown(r->id, sizeof r->id, json_object_get(d, "id"));
    shown(r->queue, sizeof r->queue, json_object_get(d, "queue"));
    shown(r->type, sizeof r->type, json_object_get(d, "type"));
    shown(r->key, sizeof r->key, json_object_get(d, "key"));
    shown(r->error, sizeof r->error, json_object_get(d, "error"));
    r->attempts = (int)json_integer_value(json_object_get(d, "attempts"));
    r->died_at_ms = (int64_t)json_integer_value(json_object_get(d, "died_at_ms"));
}

shop_status jobs_dead(const char *queue, dead_job_row *out, int max, int *n, shop_error *e)
{
    *n = 0;
    json_t *list = queue_dead_list(NULL, queue, max);
    if (!list) return shop_fail(e, SHOP_UNAVAILABLE, NULL, QUEUES_DOWN);
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) {
        if (*n >= max) break;
        dead_row(d, &out[(*n)++]);
    }
    json_decref(list);
    return SHOP_OK;
}

/* ---------- re-drive and delete, audited ---------- */

struct job_change {
    const audit_actor *who;
    const char *id;
    bool redrive;              /* else delete */
    dead_job_row was;
    shop_error *e;
};

static int job_change_tx(db_tx *tx, void *arg)
{
    struct job_change *a = arg;
    json_t *before = json_pack("{s:s,s:s,s:s,s:i,s:s}", "queue", a->was.queue, "type", a->was.type, "key", a->was.key,
                               "attempts", a->was.attempts, "error", a->was.error);
    json_t *after = a->redrive ? json_pack("{s:s,s:s,s:s,s:i}", "queue", a->was.queue, "type", a->was.type, "key",
                                           a->was.key, "attempts", 0)
                               : NULL;
    int rc = audit_record(tx, a->who, a->redrive ? "job.redrive" : "job.delete", "job", a->id, before, after);
    json_decref(before);
    json_decref(after);
    if (rc < 0) return DB_TX_FAILED;
    /* the last step, so a change that fails leaves no row; Redis is not
     * MariaDB: were the COMMIT to fail after it (the row lost), the log
     * line below still tells */
    int r = a->redrive ? queue_dead_redrive(NULL, a->id) : queue_dead_delete(NULL, a->id);
    if (r < 0) {
        log_warn("jobs: %s of dead job %s failed: %s", a->redrive ? "re-drive" : "delete", a->id, queue_last_error());
        shop_fail(a->e, SHOP_UNAVAILABLE, NULL, "%s",
                  a->redrive && queue_last_error()[0] && strstr(queue_last_error(), "delete it instead")
                      ? "This dead entry is not a readable job, so it cannot run again: delete it instead."
                      : QUEUES_DOWN);
        return REFUSED;
    }
    if (r == 0) {
        shop_fail(a->e, SHOP_NOT_FOUND, NULL, "There is no dead job %s (any more).", a->id);
        return REFUSED;
    }
    log_info("jobs: dead job %s (%s %s) %s", a->id, a->was.type, a->was.key, a->redrive ? "re-driven" : "deleted");
    return DB_TX_OK;
}

static shop_status job_change(const audit_actor *who, const char *id, bool redrive, shop_error *e)
{
    struct job_change a = {.who = who, .id = id, .redrive = redrive, .e = e};
    json_t *d = id && *id ? queue_dead_get(NULL, id) : NULL;
    if (!d) {
        if (id && *id && queue_last_error()[0]) return shop_fail(e, SHOP_UNAVAILABLE, NULL, QUEUES_DOWN);
        return shop_fail(e, SHOP_NOT_FOUND, NULL, "There is no dead job %s (any more).", id ? id : "");
    }
    dead_row(d, &a.was);
    json_decref(d);
    int rc = db_tx_run(job_change_tx, &a);
    if (rc == DB_TX_OK) return SHOP_OK;
    if (rc == REFUSED) return e->status;
    return shop_fail(e, SHOP_UNAVAILABLE, NULL, "The audit log is unavailable for a moment. Nothing was changed.");
}

shop_status jobs_redrive(const audit_actor *who, const char *id, shop_error *e) { return job_change(who, id, true, e); }
shop_status jobs_delete(const audit_actor *who, const char *id, shop_error *e) { return job_change(who, id, false, e); }
