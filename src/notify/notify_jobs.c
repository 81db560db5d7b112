/* notify_jobs.c — see notify_jobs.h. A temporary failure (server down,
 * timeout, 4xx) is retried with backoff; a permanent one (bad address,
 * missing template, 5xx) goes to the dead letters at once, where an
 * operator can see the reason and re-drive it after fixing the cause. */
#include "notify/notify_jobs.h"

#include "notify/mail.h"
#include "notify/sms.h"

#include <stdio.h>

job_result notify_mail_job(const job *j, char *err, size_t errlen)
{
    const char *to = json_string_value(json_object_get(j->payload, "to"));
    const char *tmpl = json_string_value(json_object_get(j->payload, "template"));
    json_t *ctx = json_object_get(j->payload, "ctx");
    if (!to || !mail_address_valid(to)) {
        snprintf(err, errlen, "mail.send: missing or invalid \"to\" address");
        return JOB_FAILED;
    }
    if (!tmpl) {
        snprintf(err, errlen, "mail.send: missing \"template\"");
        return JOB_FAILED;
    }
    json_t *own = json_is_object(ctx) ? NULL : json_object();
    mail_message m = {0};
    if (mail_render(tmpl, own ? own : ctx, &m, err, errlen) != 0) {
        json_decref(own);
        return JOB_FAILED;
    }
    json_decref(own);
    char id[160];
    m.to = to;
    m.message_id = mail_message_id(j->key, id, sizeof id);
    enum mail_result rc = mail_send(&m, err, errlen);
    mail_message_free(&m);
    return rc == MAIL_SENT ? JOB_DONE : rc == MAIL_RETRY ? JOB_RETRY : JOB_FAILED;
}

job_result notify_sms_job(const job *j, char *err, size_t errlen)
{
    const char *to = json_string_value(json_object_get(j->payload, "to"));
    const char *body = json_string_value(json_object_get(j->payload, "body"));
    if (!to || !body) {
        snprintf(err, errlen, "sms.send: needs \"to\" and \"body\"");
        return JOB_FAILED;
    }
    enum sms_result rc = sms_send(to, body, j->key, err, errlen);
    return rc == SMS_SENT ? JOB_DONE : rc == SMS_RETRY ? JOB_RETRY : JOB_FAILED;
}
