/* notify.c — `shoease mail test ADDRESS` and `shoease sms test NUMBER
 * [TEXT]`: an operator's check that mail and SMS leave. The message goes the
 * way every real one does: a unit of work writes it to the outbox, the job
 * queue carries it, a `shoease worker` sends it. The command then waits (up
 * to 30 s, unless --no-wait) and says whether it was sent or why not. */
#include "cmd/cmd.h"

#include "core/config.h"
#include "db/tx.h"
#include "durable/durable.h"
#include "jobs/outbox.h"
#include "jobs/queue.h"
#include "notify/mail.h"
#include "notify/sms.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct test_message {
    const char *type, *key;
    json_t *payload;
};

static int add_to_outbox(db_tx *tx, void *arg)
{
    struct test_message *m = arg;
    return outbox_add(tx, m->type, m->key, m->payload, 0) == 0 ? DB_TX_OK : DB_TX_FAILED;
}

/* Wait for the key's job to finish: 0 sent, 1 dead (reason printed), 2 still
 * waiting. */
static int wait_for(const char *key, const char *queue, int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        if (queue_key_done(NULL, key) == 1) return 0;
        if (i % 10 == 9) {
            json_t *dead = queue_dead_list(NULL, queue, 20);
            size_t k;
            json_t *d;
            json_array_foreach(dead, k, d) {
                const char *dk = json_string_value(json_object_get(d, "key"));
                if (dk && !strcmp(dk, key)) {
                    fprintf(stderr, "failed: %s\n(shoease jobs show %s)\n",
                            json_string_value(json_object_get(d, "error")), json_string_value(json_object_get(d, "id")));
                    json_decref(dead);
                    return 1;
                }
            }
            json_decref(dead);
        }
        usleep(100 * 1000);
    }
    return 2;
}

static int send_test(const char *what, const char *type, const char *queue, json_t *payload, bool wait)
{
    unsigned char rnd[8];
    char hex[17], key[64];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(key, sizeof key, "%s-test:%s", what, hex);
    struct test_message m = {type, key, payload};
    if (db_tx_run(add_to_outbox, &m) != DB_TX_OK) {
        fprintf(stderr, "shoease %s: could not record the message in the outbox (MariaDB: %s)\n", what,
                db_last_error());
        return 1;
    }
    printf("queued %s (key %s)\n", what, key);
    if (!wait) return 0;
    int rc = wait_for(key, queue, 30);
    if (rc == 0) printf("sent\n");
    else if (rc == 2)
        fprintf(stderr, "not sent yet after 30 s: is `shoease worker` running? (`shoease jobs` shows the queue)\n");
    return rc;
}

int cmd_mail(int argc, char **argv)
{
    bool wait = !(argc > 3 && !strcmp(argv[3], "--no-wait"));
    if (argc < 3 || argc > 4 || strcmp(argv[1], "test") || (argc == 4 && wait)) {
        fprintf(stderr, "usage: shoease mail test ADDRESS [--no-wait]\n");
        return 2;
    }
    if (!mail_address_valid(argv[2])) {
        fprintf(stderr, "shoease mail: '%s' is not an e-mail address\n", argv[2]);
        return 2;
    }
    char host[128] = "?", when[40];
    gethostname(host, sizeof host - 1);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    json_t *payload = json_pack("{s:s,s:s,s:{s:s,s:s}}", "to", argv[2], "template", "test", "ctx", "sent_at", when,
                                "host", host);
    int rc = send_test("mail", "mail.send", "mail", payload, wait);
    json_decref(payload);
    return rc;
}

int cmd_sms(int argc, char **argv)
{
    bool wait = true;
    const char *number = NULL, *text = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--no-wait")) wait = false;
        else if (!number) number = argv[i];
        else if (!text) text = argv[i];
    }
    if (argc < 3 || strcmp(argv[1], "test") || !number) {
        fprintf(stderr, "usage: shoease sms test NUMBER [TEXT] [--no-wait]   (NUMBER in E.164: +447700900123)\n");
        return 2;
    }
    if (!sms_number_valid(number)) {
        fprintf(stderr, "shoease sms: '%s' is not a phone number in E.164 form (+ and 8-15 digits)\n", number);
        return 2;
    }
    char body[200];
    snprintf(body, sizeof body, "%s", text ? text : "");
    if (!text) snprintf(body, sizeof body, "Test message from %s.", cfg.site_name);
    json_t *payload = json_pack("{s:s,s:s}", "to", number, "body", body);
    int rc = send_test("sms", "sms.send", "sms", payload, wait);
    json_decref(payload);
    return rc;
}
