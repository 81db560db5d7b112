/* otp.c — one-time codes in the durable Redis (see otp.h).
 *
 *   otp:<subject>       hash {h: keyed hash of "<subject>:<code>", tries: left}, TTL OTP_TTL_SECONDS
 *   otp:cool:<subject>  "1", TTL OTP_RESEND_SECONDS
 *
 * Issue is one script (check the cool-down, store the hash, start the
 * cool-down), so two racing requests cannot both get a code. Check spends a
 * try first (one script: HINCRBY tries -1, then hand back the stored hash;
 * on the last try the key is deleted there and then), and only then
 * compares the hashes, in C, in constant time. Every check therefore costs
 * a try before anyone learns whether it was right, so however many checks
 * race, at most OTP_MAX_TRIES codes are ever compared against one issued
 * code. A right code is consumed by a second script that deletes the key
 * only if it still holds the same hash: of two racing right answers exactly
 * one wins. Codes are never logged; subjects neither (one may hold a phone
 * number). */
#include "shop/otp.h"

#include "core/log.h"
#include "core/secrets.h"
#include "durable/durable.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define OTP_SUBJECT_MAX 100
#define OTP_TYPED_MAX 64              /* longer input is not a code with a few spaces */

static durable_script issue_script = {
    .src = "local p = redis.call('PTTL', KEYS[2])\n"
           "if p ~= -2 then\n"
           "  if p < 0 then\n" /* a cool-down without a TTL must not block for ever */
           "    p = tonumber(ARGV[4]) * 1000\n"
           "    redis.call('PEXPIRE', KEYS[2], p)\n"
           "  end\n"
           "  return {0, p}\n"
           "end\n"
           "redis.call('DEL', KEYS[1])\n"
           "redis.call('HSET', KEYS[1], 'h', ARGV[1], 'tries', ARGV[2])\n"
           "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
           "redis.call('SET', KEYS[2], '1', 'EX', ARGV[4])\n"
           "return {1, 0}\n",
};

/* Spend a try: {0} no live code; {1, hash, tries left}. The last try
 * deletes the code at once, whatever the answer. */
static durable_script spend_script = {
    .src = "if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end\n"
           "local left = redis.call('HINCRBY', KEYS[1], 'tries', -1)\n"
           "local h = redis.call('HGET', KEYS[1], 'h')\n"
           "if left <= 0 then redis.call('DEL', KEYS[1]) end\n"
           "if left < 0 or not h then return {0} end\n"
           "return {1, h, left}\n",
};

/* Use up a code that was right: delete it if it is still the same one.
 * 1 it was ours, 0 someone else used it (or it expired, or was replaced). */
static durable_script consume_script = {
    .src = "if redis.call('HGET', KEYS[1], 'h') == ARGV[1] then\n"
           "  redis.call('DEL', KEYS[1])\n"
           "  return 1\n"
           "end\n"
           "return 0\n",
};

static bool subject_ok(const char *subject)
{
    if (!subject) {
        log_error("otp: no subject");
        return false;
    }
    size_t n = 0;
    for (const char *p = subject; *p; p++, n++) {
        if (n >= OTP_SUBJECT_MAX || *p < 0x20 || *p > 0x7e) {
            log_error("otp: refused a subject (not 1-%d printable ASCII characters)", OTP_SUBJECT_MAX);
            return false;
        }
    }
    if (n == 0) {
        log_error("otp: refused an empty subject");
        return false;
    }
    return true;
}

/* Keyed hash of "<subject>:<code>": a hash says nothing of the code and is
 * good for its own subject only. */
static void code_hash(const char *subject, const char code[OTP_DIGITS + 1], char out[SECRET_HASH_HEX])
{
    char msg[OTP_SUBJECT_MAX + 1 + OTP_DIGITS + 1];
    int n = snprintf(msg, sizeof msg, "%s:%s", subject, code);
    secret_hash_hex("otp", msg, (size_t)n, out);
    sodium_memzero(msg, sizeof msg);
}

static otp_result store_error(const char *what, redisReply *r)
{
    if (r) {
        log_error("otp: %s: unexpected reply from the durable Redis", what);
        freeReplyObject(r);
    } else {
        log_error("otp: %s: %s", what, durable_last_error());
    }
    return OTP_STORE_ERROR;
}

otp_result otp_issue(const char *subject, char code[OTP_DIGITS + 1], int *retry_after)
{
    code[0] = '\0';
    if (retry_after) *retry_after = 0;
    if (!subject_ok(subject)) return OTP_STORE_ERROR;

    char fresh[OTP_DIGITS + 1];
    snprintf(fresh, sizeof fresh, "%06u", (unsigned)randombytes_uniform(1000000));
    char h[SECRET_HASH_HEX];
    code_hash(subject, fresh, h);

    char key[OTP_SUBJECT_MAX + 16], cool[OTP_SUBJECT_MAX + 16], tries[16], ttl[16], resend[16];
    snprintf(key, sizeof key, "otp:%s", subject);
    snprintf(cool, sizeof cool, "otp:cool:%s", subject);
    snprintf(tries, sizeof tries, "%d", OTP_MAX_TRIES);
    snprintf(ttl, sizeof ttl, "%d", OTP_TTL_SECONDS);
    snprintf(resend, sizeof resend, "%d", OTP_RESEND_SECONDS);
    const char *argv[] = {key, cool, h, tries, ttl, resend};
    redisReply *r = durable_eval(NULL, &issue_script, 2, 4, argv, NULL);
    otp_result res;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_INTEGER) {
        res = store_error("issue", r);
    } else {
        if (r->element[0]->integer == 1) {
            memcpy(code, fresh, sizeof fresh);
            res = OTP_OK;
        } else {
            long long ms = r->element[1]->integer;
            long long s = (ms + 999) / 1000;
            if (s < 1) s = 1;
            if (s > OTP_RESEND_SECONDS) s = OTP_RESEND_SECONDS;
            if (retry_after) *retry_after = (int)s;
            res = OTP_COOLDOWN;
        }
        freeReplyObject(r);
    }
    sodium_memzero(fresh, sizeof fresh);
    sodium_memzero(h, sizeof h);
    return res;
}

/* What was typed as exactly 6 digits (spaces dropped), or -1. */
static int normalise(const char *typed, char out[OTP_DIGITS + 1])
{
    if (!typed) return -1;
    size_t n = 0, seen = 0;
    for (const char *p = typed; *p; p++) {
        if (++seen > OTP_TYPED_MAX) return -1;
        if (*p == ' ') continue;
        if (*p < '0' || *p > '9' || n == OTP_DIGITS) return -1;
        out[n++] = *p;
    }
    out[n] = '\0';
    return n == OTP_DIGITS ? 0 : -1;
}

otp_result otp_check(const char *subject, const char *typed)
{
    if (!subject_ok(subject)) return OTP_STORE_ERROR;
    char code[OTP_DIGITS + 1];
    /* not six digits: it cannot be right, and spends no try (a typo in the
     * form is not a guess) */
    if (normalise(typed, code) < 0) {
        sodium_memzero(code, sizeof code);
        return OTP_WRONG;
    }
    char h[SECRET_HASH_HEX];
    code_hash(subject, code, h);
    sodium_memzero(code, sizeof code);

    char key[OTP_SUBJECT_MAX + 16];
    snprintf(key, sizeof key, "otp:%s", subject);
    const char *argv[] = {key, h};
    redisReply *r = durable_eval(NULL, &spend_script, 1, 0, argv, NULL);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->element[0]->type != REDIS_REPLY_INTEGER) {
        sodium_memzero(h, sizeof h);
        return store_error("check", r);
    }
    if (r->element[0]->integer == 0) {
        freeReplyObject(r);
        sodium_memzero(h, sizeof h);
        return OTP_EXPIRED;
    }
    if (r->elements != 3 || r->element[1]->type != REDIS_REPLY_STRING || r->element[2]->type != REDIS_REPLY_INTEGER) {
        sodium_memzero(h, sizeof h);
        return store_error("check", r);
    }
    bool right = r->element[1]->len == SECRET_HASH_HEX - 1 && sodium_memcmp(r->element[1]->str, h, SECRET_HASH_HEX - 1) == 0;
    long long left = r->element[2]->integer;
    freeReplyObject(r);

    otp_result res;
    if (!right) {
        res = left <= 0 ? OTP_TOO_MANY : OTP_WRONG;
    } else if (left <= 0) {
        res = OTP_OK;   /* the last try: the spend script deleted the code already */
    } else {
        redisReply *c = durable_eval(NULL, &consume_script, 1, 1, argv, NULL);
        if (!c || c->type != REDIS_REPLY_INTEGER) {
            res = store_error("check", c);
        } else {
            res = c->integer == 1 ? OTP_OK : OTP_EXPIRED;
            freeReplyObject(c);
        }
    }
    sodium_memzero(h, sizeof h);
    return res;
}
