/* ratelimit.c — see ratelimit.h. Keys: rl:<class>:<what>:<hash of subject>. */
#include "web/ratelimit.h"

#include "durable/durable.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* The limits. Generous enough for a family sharing an address, tight
 * enough that guessing passwords or codes is hopeless. */
static const rate_rule rules[RATE_CLASSES] = {
    [RATE_LOGIN] = {"login", 30, 600, 30, 900, "email"},
    [RATE_REGISTER] = {"register", 10, 3600, 0, 0, NULL},
    [RATE_RESET] = {"reset", 10, 3600, 3, 3600, "email"},
    [RATE_OTP_SEND] = {"otp-send", 20, 3600, 10, 3600, "phone"},
    [RATE_OTP_CHECK] = {"otp-check", 30, 900, 10, 900, "phone"},
    [RATE_WRITE] = {"write", 300, 60, 0, 0, NULL},
};

const rate_rule *ratelimit_rule(rate_class c) { return c > RATE_NONE && c < RATE_CLASSES ? &rules[c] : NULL; }

/* KEYS: counter. ARGV: window s. The count after this hit, and the TTL. */
static durable_script hit_script = {.src =
    "local n = redis.call('INCR', KEYS[1])\n"
    "if n == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end\n"
    "local ttl = redis.call('TTL', KEYS[1])\n"
    "if ttl < 0 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) ttl = tonumber(ARGV[1]) end\n"
    "return {n, ttl}\n"};

static void key_for(const rate_rule *r, const char *what, const char *subject, char *out, size_t outlen)
{
    /* hashed: the key names no address or e-mail */
    unsigned char h[16];
    char hex[33];
    crypto_generichash(h, sizeof h, (const unsigned char *)subject, strlen(subject), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(out, outlen, "rl:%s:%s:%s", r->name, what, hex);
}

int ratelimit_hit(rate_class c, const char *what, const char *subject, int *retry_after)
{
    const rate_rule *r = ratelimit_rule(c);
    if (!r || !subject) return 0;
    bool acct = !strcmp(what, "acct");
    int limit = acct ? r->per_account : r->per_ip, window = acct ? r->per_account_window : r->per_ip_window;
    if (limit <= 0) return 0;
    char key[128], win[16];
    key_for(r, what, subject, key, sizeof key);
    snprintf(win, sizeof win, "%d", window);
    const char *argv[] = {key, win};
    redisReply *rep = durable_eval(NULL, &hit_script, 1, 1, argv, NULL);
    if (!rep) return -1;
    int over = 0;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
        over = rep->element[0]->integer > limit;
        *retry_after = (int)rep->element[1]->integer;
    }
    freeReplyObject(rep);
    return over;
}

void ratelimit_reset(rate_class c, const char *what, const char *subject)
{
    const rate_rule *r = ratelimit_rule(c);
    if (!r || !subject) return;
    char key[128];
    key_for(r, what, subject, key, sizeof key);
    redisReply *rep = durable_cmd(NULL, "DEL %s", key);
    if (rep) freeReplyObject(rep);
}
