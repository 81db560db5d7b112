/* notify_jobs.h — the job handlers that send mail and SMS (job table:
 * app.c). Enqueue them through the outbox (jobs/outbox.h) when the message
 * is born in a transaction, or with queue_enqueue otherwise.
 *
 *   mail.send   payload {"to": "ada@example.com", "template": "test", "ctx": {...}}
 *               renders templates/email/<template>.* and sends it; the
 *               Message-ID comes from the job's key
 *   sms.send    payload {"to": "+447700900123", "body": "Your code is 123456"} */
#ifndef SHOEASE_NOTIFY_JOBS_H
#define SHOEASE_NOTIFY_JOBS_H

#include "jobs/queue.h"

job_result notify_mail_job(const job *j, char *err, size_t errlen);
job_result notify_sms_job(const job *j, char *err, size_t errlen);

#endif
