/* accounts.c — see accounts.h. Keys in the durable Redis:
 *   lock:ip:<user>:<address hash>   failed sign-ins from one address (TTL LOCK_SECONDS)
 *   lock:acct:<user>                failed sign-ins from anywhere (TTL LOCK_SECONDS)
 *   lock:ipkeys:<user>              the lock:ip keys of the user (so a reset ends them)
 *   2fa:fail:<user>                 wrong second-factor codes (TTL LOCK_SECONDS)
 *   totp:last:<user>                the last accepted TOTP step (no replays) */
#include "shop/accounts.h"

#include "core/config.h"
#include "core/log.h"
#include "core/secrets.h"
#include "core/text.h"
#include "db/tx.h"
#include "db/user_repo.h"
#include "durable/durable.h"
#include "jobs/outbox.h"
#include "jobs/queue.h"
#include "notify/mail.h"
#include "notify/sms.h"
#include "shop/otp.h"
#include "shop/password.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TWO_FA_FAILS 10

static const char WRONG_CREDENTIALS[] = "That e-mail address and password do not match an account.";
static const char STORE_DOWN[] = "Accounts are unavailable for a moment. Nothing was changed; please try again shortly.";

int accounts_normalise_email(const char *in, char *out, size_t outlen)
{
    if (!in) return -1;
    while (*in == ' ' || *in == '\t') in++;
    size_t n = strlen(in);
    while (n && (in[n - 1] == ' ' || in[n - 1] == '\t')) n--;
    if (n == 0 || n >= outlen) return -1;
    for (size_t i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)in[i]);
    out[n] = '\0';
    return mail_address_valid(out) ? 0 : -1;
}

static bool valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n > 100 || !text_valid_utf8(name ? name : "", n)) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < ' ') return false;
    return true;
}

/* A mail through the outbox, in tx. */
static int mail_in_tx(db_tx *tx, const char *key, const char *to, const char *tmpl, json_t *ctx)
{
    json_t *payload = json_pack("{s:s,s:s,s:o}", "to", to, "template", tmpl, "ctx", ctx);
    int rc = outbox_add(tx, "mail.send", key, payload, 0);
    json_decref(payload);
    return rc;
}

/* ---------- registration ---------- */

struct registration {
    const char *email, *name, *hash;
    int64_t user_id;
    bool existed;
};

static int register_tx(db_tx *tx, void *arg)
{
    struct registration *r = arg;
    db_conn *c = db_tx_conn(tx);
    r->existed = false;
    int rc = user_repo_insert(c, r->email, r->hash, r->name, &r->user_id);
    if (rc == -2) {
        /* the address has an account: tell its owner, say the same to the visitor */
        user_row u;
        if (user_repo_by_email(c, r->email, &u) != 1) return DB_TX_FAILED;
        r->existed = true;
        r->user_id = u.id;
        char key[96];
        time_t day = time(NULL) / 86400;
        snprintf(key, sizeof key, "register-again:%lld:%lld", (long long)u.id, (long long)day);
        return mail_in_tx(tx, key, r->email, "already_registered", json_pack("{s:s}", "name", u.name)) == 0
                   ? DB_TX_OK
                   : DB_TX_FAILED;
    }
    if (rc < 0) return DB_TX_FAILED;
    char token[SECRET_TOKEN_CHARS], hash[SECRET_HASH_HEX], key[96];
    secret_random_token(token, sizeof token);
    secret_hash_hex("token", token, strlen(token), hash);
    if (user_repo_token_insert(c, r->user_id, "verify_email", hash, VERIFY_TOKEN_TTL) < 0) return DB_TX_FAILED;
    snprintf(key, sizeof key, "verify-email:%.32s", hash);
    return mail_in_tx(tx, key, r->email, "verify", json_pack("{s:s,s:s}", "name", r->name, "token", token)) == 0
               ? DB_TX_OK
               : DB_TX_FAILED;
}

shop_status accounts_register(const char *email_in, const char *password, const char *name, shop_error *e)
{
    char email[255], why[200];
    if (accounts_normalise_email(email_in, email, sizeof email) < 0)
        return shop_fail(e, SHOP_INVALID, "email", "Enter an e-mail address like name@example.com.");
    if (!valid_name(name)) return shop_fail(e, SHOP_INVALID, "name", "Use at most 100 characters for your name.");
    if (password_policy(password, email, why, sizeof why) != 0) return shop_fail(e, SHOP_INVALID, "password", "%s", why);
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(password, hash) != 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    struct registration r = {.email = email, .name = name ? name : "", .hash = hash};
    if (db_tx_run(register_tx, &r) != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}

struct verification {
    const char *hash;
    int64_t user_id;
    bool used;
};

static int verify_tx(db_tx *tx, void *arg)
{
    struct verification *v = arg;
    db_conn *c = db_tx_conn(tx);
    int r = user_repo_token_use(c, "verify_email", v->hash, &v->user_id);
    if (r < 0) return DB_TX_FAILED;
    v->used = r == 1;
    if (!v->used) return DB_TX_OK;
    return user_repo_set_verified(c, v->user_id) == 0 ? DB_TX_OK : DB_TX_FAILED;
}

shop_status accounts_verify_email(const char *token, int64_t *user_id, shop_error *e)
{
    char hash[SECRET_HASH_HEX];
    secret_hash_hex("token", token ? token : "", token ? strlen(token) : 0, hash);
    struct verification v = {.hash = hash};
    if (db_tx_run(verify_tx, &v) != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (!v.used)
        return shop_fail(e, SHOP_EXPIRED, NULL,
                         "This link has been used already or is too old. Sign in and ask for a new one.");
    *user_id = v.user_id;
    return SHOP_OK;
}

struct resend {
    int64_t user_id;
    bool already;
};

static int resend_tx(db_tx *tx, void *arg)
{
    struct resend *r = arg;
    db_conn *c = db_tx_conn(tx);
    user_row u;
    if (user_repo_by_id(c, r->user_id, true, &u) != 1) return DB_TX_FAILED;
    if (u.email_verified) {
        r->already = true;
        return DB_TX_OK;
    }
    if (user_repo_tokens_revoke(c, u.id, "verify_email") < 0) return DB_TX_FAILED;
    char token[SECRET_TOKEN_CHARS], hash[SECRET_HASH_HEX], key[96];
    secret_random_token(token, sizeof token);
    secret_hash_hex("token", token, strlen(token), hash);
    if (user_repo_token_insert(c, u.id, "verify_email", hash, VERIFY_TOKEN_TTL) < 0) return DB_TX_FAILED;
    snprintf(key, sizeof key, "verify-email:%.32s", hash);
    return mail_in_tx(tx, key, u.email, "verify", json_pack("{s:s,s:s}", "name", u.name, "token", token)) == 0
               ? DB_TX_OK
               : DB_TX_FAILED;
}

shop_status accounts_resend_verification(int64_t user_id, shop_error *e)
{
    struct resend r = {.user_id = user_id};
    if (db_tx_run(resend_tx, &r) != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r.already) return shop_fail(e, SHOP_CONFLICT, NULL, "Your e-mail address is verified already.");
    return SHOP_OK;
}

/* ---------- locks ---------- */

static void ip_key(int64_t uid, const char *ip, char *out, size_t outlen)
{
    char h[SECRET_HASH_HEX];
    secret_hash_hex("lock", ip ? ip : "?", ip ? strlen(ip) : 1, h);
    snprintf(out, outlen, "lock:ip:%lld:%.32s", (long long)uid, h);
}

/* Seconds left on a lock, 0 when none, -1 on a store error. */
static int lock_left(const char *key, int limit)
{
    redisReply *r = durable_cmd(NULL, "GET %s", key);
    if (!r) return -1;
    long long n = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    if (n < limit) return 0;
    r = durable_cmd(NULL, "TTL %s", key);
    if (!r) return -1;
    int ttl = r->type == REDIS_REPLY_INTEGER && r->integer > 0 ? (int)r->integer : 1;
    freeReplyObject(r);
    return ttl;
}

/* One more failure; returns the new count (-1 on error). */
static long long count_failure(const char *key)
{
    char *cmds[2];
    int lens[2];
    redisReply *replies[2];
    lens[0] = redisFormatCommand(&cmds[0], "INCR %s", key);
    lens[1] = redisFormatCommand(&cmds[1], "EXPIRE %s %d NX", key, LOCK_SECONDS);
    if (durable_pipeline(NULL, 2, cmds, lens, replies) < 0) return -1;
    long long n = replies[0]->type == REDIS_REPLY_INTEGER ? replies[0]->integer : -1;
    freeReplyObject(replies[0]);
    freeReplyObject(replies[1]);
    return n;
}

static void forget(const char *key)
{
    redisReply *r = durable_cmd(NULL, "DEL %s", key);
    if (r) freeReplyObject(r);
}

static void account_locked_mail(const user_row *u)
{
    char key[96];
    snprintf(key, sizeof key, "account-locked:%lld:%lld", (long long)u->id, (long long)(time(NULL) / LOCK_SECONDS));
    json_t *payload = json_pack("{s:s,s:s,s:{s:s,s:i}}", "to", u->email, "template", "account_locked", "ctx", "name",
                                u->name, "minutes", LOCK_SECONDS / 60);
    if (queue_enqueue(&(job_spec){.type = "mail.send", .key = key, .payload = payload}) == QUEUE_ERROR)
        log_warn("accounts: could not queue the account-locked mail for user %lld: %s", (long long)u->id,
                 queue_last_error());
    json_decref(payload);
}

static shop_status locked(shop_error *e, int seconds)
{
    shop_fail(e, SHOP_LOCKED, NULL,
              "Too many wrong passwords. Try again in %d minute%s, or reset your password now.", (seconds + 59) / 60,
              (seconds + 59) / 60 == 1 ? "" : "s");
    if (e) e->retry_after = seconds;
    return SHOP_LOCKED;
}

/* ---------- signing in ---------- */

static void fill_sign_in(const user_row *u, sign_in *out)
{
    memset(out, 0, sizeof *out);
    out->user_id = u->id;
    text_copy(out->name, sizeof out->name, u->name);
    text_copy(out->email, sizeof out->email, u->email);
    text_copy(out->role, sizeof out->role, u->role);
    out->verified = u->email_verified;
    if (strcmp(u->second_factor, "none")) {
        out->needs_second_factor = true;
        text_copy(out->second_factor, sizeof out->second_factor, u->second_factor);
    }
    size_t pl = strlen(u->phone);
    if (pl >= 3) snprintf(out->phone_hint, sizeof out->phone_hint, "%s", u->phone + pl - 3);
}

shop_status accounts_sign_in(const char *email_in, const char *password, const char *client_ip, sign_in *out,
                             shop_error *e)
{
    char email[255];
    if (accounts_normalise_email(email_in, email, sizeof email) < 0 || !password || !*password) {
        if (password) password_verify_dummy(password);
        return shop_fail(e, SHOP_DENIED, NULL, WRONG_CREDENTIALS);
    }
    db_conn *c = db_conn_get();
    user_row u;
    int found = c ? user_repo_by_email(c, email, &u) : -1;
    if (found < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (found == 0) {
        password_verify_dummy(password); /* as long as a real check */
        return shop_fail(e, SHOP_DENIED, NULL, WRONG_CREDENTIALS);
    }
    char ipk[128], acctk[64];
    ip_key(u.id, client_ip, ipk, sizeof ipk);
    snprintf(acctk, sizeof acctk, "lock:acct:%lld", (long long)u.id);
    int left = lock_left(ipk, LOCK_FAILS_PER_ADDRESS);
    int left_all = left == 0 ? lock_left(acctk, LOCK_FAILS_PER_ACCOUNT) : 0;
    if (left < 0 || left_all < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (left > 0 || left_all > 0) {
        password_verify_dummy(password);
        return locked(e, left > 0 ? left : left_all);
    }
    if (!password_verify(u.password_hash, password)) {
        long long n_ip = count_failure(ipk), n_all = count_failure(acctk);
        /* remember which per-address counters exist, so a reset can end them */
        redisReply *w = durable_cmd(NULL, "SADD lock:ipkeys:%lld %s", (long long)u.id, ipk);
        if (w) freeReplyObject(w);
        w = durable_cmd(NULL, "EXPIRE lock:ipkeys:%lld %d", (long long)u.id, LOCK_SECONDS);
        if (w) freeReplyObject(w);
        if (n_all == LOCK_FAILS_PER_ACCOUNT) {
            log_warn("accounts: user %lld locked after %d failed sign-ins", (long long)u.id, LOCK_FAILS_PER_ACCOUNT);
            account_locked_mail(&u);
        }
        if (n_ip >= LOCK_FAILS_PER_ADDRESS) return locked(e, LOCK_SECONDS);
        if (n_all >= LOCK_FAILS_PER_ACCOUNT) return locked(e, LOCK_SECONDS);
        return shop_fail(e, SHOP_DENIED, NULL, WRONG_CREDENTIALS);
    }
    if (strcmp(u.status, "active"))
        return shop_fail(e, SHOP_DENIED, NULL, "This account is disabled. Please contact us if you think this is wrong.");
    forget(ipk);
    if (password_needs_rehash(u.password_hash)) {
        /* the cost was raised since this hash was made */
        char fresh[PASSWORD_HASH_MAX];
        if (password_hash(password, fresh) == 0) user_repo_set_password(c, u.id, fresh);
    }
    fill_sign_in(&u, out);
    return SHOP_OK;
}

static shop_status code_failed(int64_t user_id, shop_error *e, const char *msg)
{
    char key[64];
    snprintf(key, sizeof key, "2fa:fail:%lld", (long long)user_id);
    long long n = count_failure(key);
    if (n >= TWO_FA_FAILS) {
        shop_fail(e, SHOP_LOCKED, NULL, "Too many wrong codes. Try again in %d minutes.", LOCK_SECONDS / 60);
        if (e) e->retry_after = LOCK_SECONDS;
        return SHOP_LOCKED;
    }
    return shop_fail(e, SHOP_DENIED, "code", "%s", msg);
}

static int totp_last(int64_t uid, long long *step)
{
    redisReply *r = durable_cmd(NULL, "GET totp:last:%lld", (long long)uid);
    if (!r) return -1;
    *step = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
    freeReplyObject(r);
    return 0;
}

static void totp_used(int64_t uid, long long step)
{
    redisReply *r = durable_cmd(NULL, "SET totp:last:%lld %lld EX 3600", (long long)uid, step);
    if (r) freeReplyObject(r);
}

struct recovery_use {
    int64_t user_id;
    const char *hash;
    int used;
};

static int recovery_tx(db_tx *tx, void *arg)
{
    struct recovery_use *r = arg;
    r->used = user_repo_recovery_use(db_tx_conn(tx), r->user_id, r->hash);
    return r->used < 0 ? DB_TX_FAILED : DB_TX_OK;
}

static void recovery_hash(int64_t uid, const char *normalised, char out[SECRET_HASH_HEX])
{
    char msg[64];
    int n = snprintf(msg, sizeof msg, "%lld:%s", (long long)uid, normalised);
    secret_hash_hex("recovery", msg, (size_t)n, out);
}

shop_status accounts_second_factor(int64_t user_id, const char *method, const char *code, shop_error *e)
{
    char key[64];
    snprintf(key, sizeof key, "2fa:fail:%lld", (long long)user_id);
    int left = lock_left(key, TWO_FA_FAILS);
    if (left < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (left > 0) {
        shop_fail(e, SHOP_LOCKED, NULL, "Too many wrong codes. Try again in %d minutes.", (left + 59) / 60);
        if (e) e->retry_after = left;
        return SHOP_LOCKED;
    }
    db_conn *c = db_conn_get();
    user_row u;
    if (!c || user_repo_by_id(c, user_id, false, &u) != 1) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    /* disabled between the password and the code: disabling an account
     * ends its sessions, but not one made a moment later */
    if (strcmp(u.status, "active"))
        return shop_fail(e, SHOP_DENIED, NULL, "This account is disabled. Please contact us if you think this is wrong.");
    if (!code) code = "";
    if (!strcmp(method, "totp")) {
        unsigned char secret[TOTP_SECRET_BYTES];
        long long last;
        if (strcmp(u.second_factor, "totp") || totp_open(u.totp_sealed, u.totp_sealed_len, secret) != 0)
            return shop_fail(e, SHOP_DENIED, "code", "Use the way of signing in your account has set up.");
        if (totp_last(user_id, &last) < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
        long long step = totp_check(secret, code, time(NULL), last);
        sodium_memzero(secret, sizeof secret);
        if (step < 0) return code_failed(user_id, e, "That code is not right (or was used already). Enter the current code from your app.");
        totp_used(user_id, step);
    } else if (!strcmp(method, "sms")) {
        char subject[48];
        snprintf(subject, sizeof subject, "login:%lld", (long long)user_id);
        otp_result r = otp_check(subject, code);
        if (r == OTP_STORE_ERROR) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
        if (r == OTP_EXPIRED) return shop_fail(e, SHOP_EXPIRED, "code", "That code has expired. Ask for a new one.");
        if (r == OTP_TOO_MANY) return shop_fail(e, SHOP_EXPIRED, "code", "Too many wrong tries. Ask for a new code.");
        if (r != OTP_OK) return code_failed(user_id, e, "That code is not right. Check the text message and try again.");
    } else if (!strcmp(method, "recovery")) {
        char norm[11], hash[SECRET_HASH_HEX];
        if (recovery_code_normalise(code, norm) != 0)
            return code_failed(user_id, e, "A recovery code looks like abcde-fgh23.");
        recovery_hash(user_id, norm, hash);
        struct recovery_use r = {.user_id = user_id, .hash = hash};
        if (db_tx_run(recovery_tx, &r) != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
        if (r.used != 1) return code_failed(user_id, e, "That recovery code is not right or was used already.");
    } else {
        return shop_fail(e, SHOP_INVALID, "method", "Choose how to confirm it is you.");
    }
    forget(key);
    return SHOP_OK;
}

static shop_status send_code(const char *subject, const char *phone, const char *what, shop_error *e)
{
    char code[OTP_DIGITS + 1];
    int wait = 0;
    otp_result r = otp_issue(subject, code, &wait);
    if (r == OTP_STORE_ERROR) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == OTP_COOLDOWN) {
        shop_fail(e, SHOP_LOCKED, NULL, "A code was sent a moment ago. You can ask for another in %d seconds.", wait);
        if (e) e->retry_after = wait;
        return SHOP_LOCKED;
    }
    if (!phone) return SHOP_OK; /* (a number with no account: nothing is sent, the answer is the same) */
    char body[160], key[128];
    snprintf(body, sizeof body, "%s %s code: %s. It expires in %d minutes. Never share it.", cfg.site_name, what, code,
             OTP_TTL_SECONDS / 60);
    /* one job per code: the key names the subject and the code's hash */
    char h[SECRET_HASH_HEX];
    secret_hash_hex("otp-job", body, strlen(body), h);
    snprintf(key, sizeof key, "otp-sms:%.16s", h);
    json_t *payload = json_pack("{s:s,s:s}", "to", phone, "body", body);
    int rc = queue_enqueue(&(job_spec){.type = "sms.send", .key = key, .payload = payload});
    json_decref(payload);
    if (rc == QUEUE_ERROR) return shop_fail(e, SHOP_UNAVAILABLE, NULL, "The text message could not be sent. Please try again.");
    return SHOP_OK;
}

shop_status accounts_send_login_code(int64_t user_id, shop_error *e)
{
    db_conn *c = db_conn_get();
    user_row u;
    if (!c || user_repo_by_id(c, user_id, false, &u) != 1) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (!u.phone_verified) return shop_fail(e, SHOP_INVALID, NULL, "Your account has no verified phone number.");
    char subject[48];
    snprintf(subject, sizeof subject, "login:%lld", (long long)user_id);
    return send_code(subject, u.phone, "sign-in", e);
}

static int normalise_phone(const char *in, char *out, size_t outlen)
{
    size_t k = 0;
    for (; in && *in && k + 1 < outlen; in++)
        if (*in != ' ' && *in != '-' && *in != '(' && *in != ')') out[k++] = *in;
    out[k] = '\0';
    return sms_number_valid(out) ? 0 : -1;
}

shop_status accounts_sms_login_start(const char *phone_in, shop_error *e)
{
    char phone[20];
    if (normalise_phone(phone_in, phone, sizeof phone) < 0)
        return shop_fail(e, SHOP_INVALID, "phone", "Enter your number with its country code, like +44 7700 900123.");
    db_conn *c = db_conn_get();
    user_row u;
    int found = c ? user_repo_by_verified_phone(c, phone, &u) : -1;
    if (found < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    char subject[48];
    snprintf(subject, sizeof subject, "sms-login:%s", phone);
    return send_code(subject, found == 1 ? phone : NULL, "sign-in", e);
}

shop_status accounts_sms_login_finish(const char *phone_in, const char *code, sign_in *out, shop_error *e)
{
    char phone[20];
    if (normalise_phone(phone_in, phone, sizeof phone) < 0)
        return shop_fail(e, SHOP_INVALID, "phone", "Enter your number with its country code, like +44 7700 900123.");
    char subject[48];
    snprintf(subject, sizeof subject, "sms-login:%s", phone);
    otp_result r = otp_check(subject, code ? code : "");
    if (r == OTP_STORE_ERROR) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == OTP_EXPIRED) return shop_fail(e, SHOP_EXPIRED, "code", "That code has expired. Ask for a new one.");
    if (r == OTP_TOO_MANY) return shop_fail(e, SHOP_EXPIRED, "code", "Too many wrong tries. Ask for a new code.");
    if (r != OTP_OK) return shop_fail(e, SHOP_DENIED, "code", "That code is not right. Check the text message and try again.");
    db_conn *c = db_conn_get();
    user_row u;
    int found = c ? user_repo_by_verified_phone(c, phone, &u) : -1;
    if (found < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (found == 0) return shop_fail(e, SHOP_EXPIRED, "code", "That code has expired. Ask for a new one.");
    fill_sign_in(&u, out);
    /* the code proved the phone: that is the SMS factor; an account with an
     * authenticator app still needs it */
    if (!strcmp(u.second_factor, "sms")) {
        out->needs_second_factor = false;
        out->second_factor[0] = '\0';
    }
    return SHOP_OK;
}

/* ---------- password reset ---------- */

shop_status accounts_reset_request(const char *email_in, shop_error *e)
{
    char email[255];
    if (accounts_normalise_email(email_in, email, sizeof email) < 0)
        return shop_fail(e, SHOP_INVALID, "email", "Enter an e-mail address like name@example.com.");
    /* the lookup happens in the job: the answer cannot depend on it */
    char h[SECRET_HASH_HEX], key[96];
    secret_hash_hex("reset-job", email, strlen(email), h);
    snprintf(key, sizeof key, "reset-request:%.24s:%lld", h, (long long)(time(NULL) / 60));
    json_t *payload = json_pack("{s:s}", "email", email);
    int rc = queue_enqueue(&(job_spec){.type = "accounts.reset", .key = key, .payload = payload});
    json_decref(payload);
    if (rc == QUEUE_ERROR) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}

struct reset_send {
    const char *email;
    bool sent;
};

static int reset_send_tx(db_tx *tx, void *arg)
{
    struct reset_send *r = arg;
    db_conn *c = db_tx_conn(tx);
    user_row u;
    int found = user_repo_by_email(c, r->email, &u);
    if (found < 0) return DB_TX_FAILED;
    if (found == 0 || strcmp(u.status, "active")) return DB_TX_OK;
    if (user_repo_tokens_revoke(c, u.id, "reset_password") < 0) return DB_TX_FAILED;
    char token[SECRET_TOKEN_CHARS], hash[SECRET_HASH_HEX], key[96];
    secret_random_token(token, sizeof token);
    secret_hash_hex("token", token, strlen(token), hash);
    if (user_repo_token_insert(c, u.id, "reset_password", hash, RESET_TOKEN_TTL) < 0) return DB_TX_FAILED;
    snprintf(key, sizeof key, "reset-mail:%.32s", hash);
    r->sent = true;
    return mail_in_tx(tx, key, u.email, "reset",
                      json_pack("{s:s,s:s,s:i}", "name", u.name, "token", token, "minutes", RESET_TOKEN_TTL / 60)) == 0
               ? DB_TX_OK
               : DB_TX_FAILED;
}

job_result accounts_reset_job(const job *j, char *err, size_t errlen)
{
    const char *email = json_string_value(json_object_get(j->payload, "email"));
    if (!email) {
        snprintf(err, errlen, "accounts.reset: no email in the payload");
        return JOB_FAILED;
    }
    struct reset_send r = {.email = email};
    if (db_tx_run(reset_send_tx, &r) != DB_TX_OK) {
        snprintf(err, errlen, "accounts.reset: MariaDB: %s", db_last_error());
        return JOB_RETRY;
    }
    return JOB_DONE;
}

shop_status accounts_reset_check(const char *token, shop_error *e)
{
    char hash[SECRET_HASH_HEX];
    secret_hash_hex("token", token ? token : "", token ? strlen(token) : 0, hash);
    db_conn *c = db_conn_get();
    if (!c) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    db_stmt *st = db_prepare(c, "SELECT 1 FROM user_tokens WHERE token_hash = ? AND purpose = 'reset_password' "
                                "AND used_at IS NULL AND expires_at > NOW()");
    if (!st) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    db_bind_text(st, 0, hash, -1);
    int r = db_exec(st) == 0 ? db_fetch(st) : -1;
    db_reset(st);
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 0) return shop_fail(e, SHOP_EXPIRED, NULL, "This reset link has been used already or is too old. Ask for a new one.");
    return SHOP_OK;
}

struct reset_finish {
    const char *hash, *pw_hash;
    int64_t user_id;
    bool used;
};

static int reset_finish_tx(db_tx *tx, void *arg)
{
    struct reset_finish *r = arg;
    db_conn *c = db_tx_conn(tx);
    int u = user_repo_token_use(c, "reset_password", r->hash, &r->user_id);
    if (u < 0) return DB_TX_FAILED;
    r->used = u == 1;
    if (!r->used) return DB_TX_OK;
    if (user_repo_set_password(c, r->user_id, r->pw_hash) < 0) return DB_TX_FAILED;
    /* proving the mailbox also proves the address */
    if (user_repo_set_verified(c, r->user_id) < 0) return DB_TX_FAILED;
    return user_repo_tokens_revoke(c, r->user_id, "reset_password") == 0 ? DB_TX_OK : DB_TX_FAILED;
}

shop_status accounts_reset_finish(const char *token, const char *password, int64_t *user_id, shop_error *e)
{
    if (accounts_reset_check(token, e) != SHOP_OK) return e ? e->status : SHOP_EXPIRED;
    char why[200];
    if (password_policy(password, NULL, why, sizeof why) != 0) return shop_fail(e, SHOP_INVALID, "password", "%s", why);
    char pw_hash[PASSWORD_HASH_MAX], hash[SECRET_HASH_HEX];
    if (password_hash(password, pw_hash) != 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    secret_hash_hex("token", token, strlen(token), hash);
    struct reset_finish r = {.hash = hash, .pw_hash = pw_hash};
    if (db_tx_run(reset_finish_tx, &r) != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (!r.used) return shop_fail(e, SHOP_EXPIRED, NULL, "This reset link has been used already or is too old. Ask for a new one.");
    /* a reset ends every lock of the account */
    char key[64];
    snprintf(key, sizeof key, "lock:acct:%lld", (long long)r.user_id);
    forget(key);
    snprintf(key, sizeof key, "2fa:fail:%lld", (long long)r.user_id);
    forget(key);
    redisReply *keys = durable_cmd(NULL, "SMEMBERS lock:ipkeys:%lld", (long long)r.user_id);
    for (size_t i = 0; keys && i < keys->elements; i++) forget(keys->element[i]->str);
    if (keys) freeReplyObject(keys);
    snprintf(key, sizeof key, "lock:ipkeys:%lld", (long long)r.user_id);
    forget(key);
    *user_id = r.user_id;
    return SHOP_OK;
}

/* ---------- the account ---------- */

shop_status accounts_get(int64_t user_id, account *out, shop_error *e)
{
    db_conn *c = db_conn_get();
    user_row u;
    int r = c ? user_repo_by_id(c, user_id, false, &u) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 0 || strcmp(u.status, "active")) return shop_fail(e, SHOP_NOT_FOUND, NULL, "No such account.");
    memset(out, 0, sizeof *out);
    out->id = u.id;
    text_copy(out->email, sizeof out->email, u.email);
    text_copy(out->name, sizeof out->name, u.name);
    text_copy(out->phone, sizeof out->phone, u.phone);
    out->email_verified = u.email_verified;
    out->phone_verified = u.phone_verified;
    text_copy(out->role, sizeof out->role, u.role);
    text_copy(out->second_factor, sizeof out->second_factor, u.second_factor);
    out->recovery_codes_left = user_repo_recovery_left(c, u.id);
    out->created_at = u.created_at;
    return SHOP_OK;
}

shop_status accounts_set_name(int64_t user_id, const char *name, shop_error *e)
{
    if (!valid_name(name)) return shop_fail(e, SHOP_INVALID, "name", "Use at most 100 characters for your name.");
    db_conn *c = db_conn_get();
    if (!c || user_repo_set_name(c, user_id, name) < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}

/* The password again, before something that matters. */
static shop_status check_password(int64_t user_id, const char *password, user_row *u, shop_error *e)
{
    db_conn *c = db_conn_get();
    if (!c || user_repo_by_id(c, user_id, false, u) != 1) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (!password || !password_verify(u->password_hash, password))
        return shop_fail(e, SHOP_DENIED, "password", "That is not your current password.");
    return SHOP_OK;
}

shop_status accounts_confirm_password(int64_t user_id, const char *password, shop_error *e)
{
    user_row u;
    return check_password(user_id, password, &u, e);
}

shop_status accounts_change_password(int64_t user_id, const char *current, const char *fresh, shop_error *e)
{
    user_row u;
    if (check_password(user_id, current, &u, e) != SHOP_OK) {
        if (e && e->field) e->field = "current_password";
        return e ? e->status : SHOP_DENIED;
    }
    char why[200], hash[PASSWORD_HASH_MAX];
    if (password_policy(fresh, u.email, why, sizeof why) != 0) return shop_fail(e, SHOP_INVALID, "new_password", "%s", why);
    if (password_hash(fresh, hash) != 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    db_conn *c = db_conn_get();
    if (!c || user_repo_set_password(c, user_id, hash) < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    user_repo_tokens_revoke(c, user_id, "reset_password");
    return SHOP_OK;
}

shop_status accounts_phone_start(int64_t user_id, const char *phone_in, shop_error *e)
{
    char phone[20];
    if (normalise_phone(phone_in, phone, sizeof phone) < 0)
        return shop_fail(e, SHOP_INVALID, "phone", "Enter your number with its country code, like +44 7700 900123.");
    db_conn *c = db_conn_get();
    user_row other;
    int r = c ? user_repo_by_verified_phone(c, phone, &other) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == 1 && other.id != user_id)
        return shop_fail(e, SHOP_CONFLICT, "phone", "This number belongs to another account.");
    /* remember the number being verified; the code proves it */
    redisReply *w = durable_cmd(NULL, "SET phone:pending:%lld %s EX %d", (long long)user_id, phone, OTP_TTL_SECONDS);
    if (!w) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    freeReplyObject(w);
    char subject[48];
    snprintf(subject, sizeof subject, "phone:%lld", (long long)user_id);
    return send_code(subject, phone, "verification", e);
}

shop_status accounts_phone_confirm(int64_t user_id, const char *code, shop_error *e)
{
    char subject[48];
    snprintf(subject, sizeof subject, "phone:%lld", (long long)user_id);
    otp_result r = otp_check(subject, code ? code : "");
    if (r == OTP_STORE_ERROR) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    if (r == OTP_EXPIRED || r == OTP_TOO_MANY)
        return shop_fail(e, SHOP_EXPIRED, "code", "That code has expired or had too many tries. Ask for a new one.");
    if (r != OTP_OK) return shop_fail(e, SHOP_DENIED, "code", "That code is not right. Check the text message and try again.");
    redisReply *p = durable_cmd(NULL, "GETDEL phone:pending:%lld", (long long)user_id);
    if (!p) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    char phone[20] = "";
    if (p->type == REDIS_REPLY_STRING) text_copy(phone, sizeof phone, p->str);
    freeReplyObject(p);
    if (!phone[0]) return shop_fail(e, SHOP_EXPIRED, "code", "That code has expired. Ask for a new one.");
    db_conn *c = db_conn_get();
    int rc = c ? user_repo_set_phone(c, user_id, phone, true) : -1;
    if (rc == -2) return shop_fail(e, SHOP_CONFLICT, "phone", "This number belongs to another account.");
    if (rc < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}

shop_status accounts_totp_begin(int64_t user_id, char *secret_b32, size_t b32len, buf *qr, shop_error *e)
{
    db_conn *c = db_conn_get();
    user_row u;
    if (!c || user_repo_by_id(c, user_id, false, &u) != 1) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    unsigned char secret[TOTP_SECRET_BYTES], sealed[TOTP_SEALED_MAX];
    totp_new_secret(secret);
    long n = totp_seal(secret, sealed, sizeof sealed);
    char uri[512];
    int ok = n > 0 && totp_base32(secret, 1, secret_b32, b32len) == 0 &&
             totp_uri(secret, cfg.site_name, u.email, uri, sizeof uri) == 0 && qr_svg(uri, qr) == 0;
    sodium_memzero(secret, sizeof secret);
    if (!ok) return shop_fail(e, SHOP_UNAVAILABLE, NULL, "The set-up code could not be made. Please try again.");
    if (user_repo_set_totp_pending(c, user_id, sealed, (size_t)n) < 0)
        return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}

struct enable_totp {
    int64_t user_id;
    const unsigned char *sealed;
    size_t len;
    char (*hashes)[65];
};

static int enable_totp_tx(db_tx *tx, void *arg)
{
    struct enable_totp *t = arg;
    db_conn *c = db_tx_conn(tx);
    if (user_repo_set_second_factor(c, t->user_id, "totp", t->sealed, t->len) < 0) return DB_TX_FAILED;
    return user_repo_recovery_replace(c, t->user_id, t->hashes, RECOVERY_CODES) == 0 ? DB_TX_OK : DB_TX_FAILED;
}

static void new_recovery(int64_t uid, char codes[RECOVERY_CODES][RECOVERY_CODE_CHARS], char hashes[RECOVERY_CODES][65])
{
    recovery_codes_new(codes);
    for (int i = 0; i < RECOVERY_CODES; i++) {
        char norm[11];
        recovery_code_normalise(codes[i], norm);
        recovery_hash(uid, norm, hashes[i]);
    }
}

shop_status accounts_totp_confirm(int64_t user_id, const char *code, char codes[RECOVERY_CODES][RECOVERY_CODE_CHARS],
                                  shop_error *e)
{
    db_conn *c = db_conn_get();
    user_row u;
    if (!c || user_repo_by_id(c, user_id, false, &u) != 1) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    unsigned char secret[TOTP_SECRET_BYTES];
    if (!u.totp_pending_len || totp_open(u.totp_pending, u.totp_pending_len, secret) != 0)
        return shop_fail(e, SHOP_EXPIRED, NULL, "Start the set-up again: scan a new code.");
    long long step = totp_check(secret, code ? code : "", time(NULL), -1);
    sodium_memzero(secret, sizeof secret);
    if (step < 0) return shop_fail(e, SHOP_DENIED, "code", "That code is not right. Enter the 6 digits your app shows now.");
    char hashes[RECOVERY_CODES][65];
    new_recovery(user_id, codes, hashes);
    struct enable_totp t = {user_id, u.totp_pending, u.totp_pending_len, hashes};
    if (db_tx_run(enable_totp_tx, &t) != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    totp_used(user_id, step);
    return SHOP_OK;
}

shop_status accounts_set_second_factor(int64_t user_id, const char *kind, const char *password, shop_error *e)
{
    user_row u;
    if (check_password(user_id, password, &u, e) != SHOP_OK) return e ? e->status : SHOP_DENIED;
    if (strcmp(kind, "sms") && strcmp(kind, "none"))
        return shop_fail(e, SHOP_INVALID, "kind", "Choose text messages, or no second step.");
    if (!strcmp(kind, "sms") && !u.phone_verified)
        return shop_fail(e, SHOP_INVALID, "kind", "Verify a phone number first.");
    db_conn *c = db_conn_get();
    if (!c || user_repo_set_second_factor(c, user_id, kind, NULL, 0) < 0)
        return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}

struct regenerate {
    int64_t user_id;
    char (*hashes)[65];
};

static int regenerate_tx(db_tx *tx, void *arg)
{
    struct regenerate *r = arg;
    return user_repo_recovery_replace(db_tx_conn(tx), r->user_id, r->hashes, RECOVERY_CODES) == 0 ? DB_TX_OK
                                                                                                   : DB_TX_FAILED;
}

shop_status accounts_recovery_regenerate(int64_t user_id, const char *password,
                                         char codes[RECOVERY_CODES][RECOVERY_CODE_CHARS], shop_error *e)
{
    user_row u;
    if (check_password(user_id, password, &u, e) != SHOP_OK) return e ? e->status : SHOP_DENIED;
    if (!strcmp(u.second_factor, "none"))
        return shop_fail(e, SHOP_INVALID, NULL, "Recovery codes are for accounts with a second sign-in step.");
    char hashes[RECOVERY_CODES][65];
    new_recovery(user_id, codes, hashes);
    struct regenerate r = {user_id, hashes};
    if (db_tx_run(regenerate_tx, &r) != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}

/* ---------- delete my account ---------- */

static int delete_tx(db_tx *tx, void *arg)
{
    int64_t uid = *(int64_t *)arg;
    db_conn *c = db_tx_conn(tx);
    if (user_repo_anonymise(c, uid) < 0) return DB_TX_FAILED;
    char key[64];
    snprintf(key, sizeof key, "forget-user:%lld", (long long)uid);
    json_t *payload = json_pack("{s:I}", "user_id", (json_int_t)uid);
    int rc = outbox_add(tx, "events.forget", key, payload, 0);
    json_decref(payload);
    return rc == 0 ? DB_TX_OK : DB_TX_FAILED;
}

shop_status accounts_delete(int64_t user_id, const char *password, shop_error *e)
{
    user_row u;
    if (check_password(user_id, password, &u, e) != SHOP_OK) return e ? e->status : SHOP_DENIED;
    if (db_tx_run(delete_tx, &user_id) != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    return SHOP_OK;
}
