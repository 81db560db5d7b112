/* admin_jobs.c — the admin portal's background jobs (what `shoease jobs`
 * shows, shop/jobs_admin.h).
 *
 *   GET  ADMIN_PATH/jobs[?queue=NAME]          per queue: waiting, in flight, waiting to retry, dead; the dead jobs
 *   POST ADMIN_PATH/jobs/dead/{id}/redrive     put a dead job back on its queue, attempts from 1
 *   POST ADMIN_PATH/jobs/dead/{id}/delete      drop it for good (the password again: STAFF_DANGER)
 *
 * A dead job is shown by type, key, queue, attempts and error — never its
 * payload. Each change is audited (entity "job") by the shop layer. */
#include "views/views.h"

#include "shop/jobs_admin.h"
#include "views/admin_ui.h"
#include "views/forms.h"

#include <stdlib.h>
#include <string.h>

static void jobs_page(http_request *req, http_response *res, int status, const shop_error *problem)
{
    const char *queue = req_query(req, "queue");
    if (queue && !queue_named(queue)) queue = NULL;
    job_queue_row queues[16];
    int nq = 0;
    outbox_counts outbox;
    bool have_outbox = false;
    shop_error e;
    if (jobs_queues(queues, 16, &nq, &outbox, &have_outbox, &e) != SHOP_OK) {
        view_shop_error(req, res, &e);
        return;
    }
    dead_job_row *rows = calloc(JOBS_DEAD_SHOWN, sizeof *rows); /* ~75 KB: not on a request thread's stack */
    if (!rows) abort();
    int nd = 0;
    if (jobs_dead(queue, rows, JOBS_DEAD_SHOWN, &nd, &e) != SHOP_OK) {
        free(rows);
        view_shop_error(req, res, &e);
        return;
    }
    json_t *qs = json_array();
    for (int i = 0; i < nq; i++) {
        const queue_stats *s = &queues[i].stats;
        json_array_append_new(qs, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:s}", "name", queues[i].name,
                                            "waiting", (json_int_t)s->waiting, "in_flight", (json_int_t)s->in_flight,
                                            "delayed", (json_int_t)s->delayed, "dead", (json_int_t)s->dead, "enqueued",
                                            (json_int_t)s->enqueued, "done", (json_int_t)s->done, "retried",
                                            (json_int_t)s->retried, "died", (json_int_t)s->died, "has_dead",
                                            s->dead > 0, "filter",
                                            admin_url(req, arena_printf(req->pool, "/jobs?queue=%s", queues[i].name))));
    }
    json_t *list = json_array();
    for (int i = 0; i < nd; i++) {
        const dead_job_row *d = &rows[i];
        /* an id as a path segment (ids of entries that were not jobs are whatever was written) */
        buf path = BUF_INIT;
        buf_puts(&path, admin_url(req, "/jobs/dead/"));
        buf_append_percent(&path, d->id, NULL);
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s}", "id", d->id, "queue", d->queue,
                                              "type", d->type[0] ? d->type : "(not a job)", "key", d->key, "error",
                                              d->error, "attempts", d->attempts, "died",
                                              admin_time(req, d->died_at_ms / 1000), "redrive",
                                              arena_printf(req->pool, "%s/redrive", buf_cstr(&path)), "delete",
                                              arena_printf(req->pool, "%s/delete", buf_cstr(&path))));
        buf_free(&path);
    }
    free(rows);
    json_t *ctx = json_pack("{s:s,s:o,s:o,s:b,s:s,s:b}", "page_title", "Jobs", "queues", qs, "dead", list, "no_dead",
                            nd == 0, "queue", queue ? queue : "", "filtered", queue != NULL);
    if (have_outbox)
        json_object_set_new(ctx, "outbox",
                            json_pack("{s:I,s:I,s:I,s:I}", "unsent", (json_int_t)outbox.pending, "unfinished",
                                      (json_int_t)outbox.sent_unfinished, "done", (json_int_t)outbox.done, "dead",
                                      (json_int_t)outbox.dead));
    if (problem) json_object_set_new(ctx, "jobs_error", json_string(problem->message));
    admin_page(req, res, status, "admin/jobs", "jobs", ctx);
}

void admin_jobs(http_request *req, http_response *res) { jobs_page(req, res, 200, NULL); }

static void dead_change(http_request *req, http_response *res, bool redrive)
{
    const char *id = req_param(req, "id");
    audit_actor who = admin_actor(req);
    shop_error e;
    shop_status st = redrive ? jobs_redrive(&who, id, &e) : jobs_delete(&who, id, &e);
    if (st != SHOP_OK) {
        jobs_page(req, res, view_error_status(&e), &e);
        return;
    }
    admin_done(req, res, "/jobs",
               redrive ? arena_printf(req->pool, "Dead job %s is back on its queue; its attempts start again.", id)
                       : arena_printf(req->pool, "Dead job %s is deleted.", id));
}

void admin_job_redrive(http_request *req, http_response *res) { dead_change(req, res, true); }
void admin_job_delete(http_request *req, http_response *res) { dead_change(req, res, false); }
