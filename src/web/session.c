/* session.c — see session.h.
 *
 *   sess:<key>     hash: lvl uid puid role ver csrf name cart cn created seen abs ip ua [flash fk]
 *                  TTL = the idle timeout, refreshed when seen (at most once a minute)
 *   usess:<uid>    sorted set of the user's session keys by creation time */
#include "web/session.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "durable/durable.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ID_BYTES 32
#define ANON_IDLE_SECONDS (2 * 3600)
#define TOUCH_EVERY_SECONDS 60

static int idle_seconds(const web_session *s)
{
    if (s->level == SESSION_ANON) return ANON_IDLE_SECONDS;
    if (strcmp(s->role, "shopper")) return cfg.staff_session_seconds;
    return cfg.session_idle_seconds;
}

/* id (the cookie) → key (its hash, hex) */
static void key_of(const char *id, char key[SESSION_KEY_HEX + 1])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)id, strlen(id), NULL, 0);
    sodium_bin2hex(key, SESSION_KEY_HEX + 1, h, sizeof h);
}

static void new_id(char *out, size_t outlen)
{
    unsigned char rnd[ID_BYTES];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(out, outlen, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void set_cookie(http_request *req, http_response *res, const char *id, int max_age)
{
    res_add_header(res, "Set-Cookie",
                   arena_printf(req->pool, "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s", SESSION_COOKIE, id,
                                max_age, cfg.secure_cookies ? "; Secure" : ""));
}

static void clear_cookie(http_request *req, http_response *res)
{
    if (!res) return; /* a quiet load (hidden routes) leaves the answer alone */
    res_add_header(res, "Set-Cookie",
                   arena_printf(req->pool, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s", SESSION_COOKIE,
                                cfg.secure_cookies ? "; Secure" : ""));
}

static const char *device_of(http_request *req)
{
    const char *ua = req_header(req, "User-Agent");
    if (!ua) return "";
    char *d = arena_strndup(req->pool, ua, 160);
    /* keep it printable: it is shown on the security page */
    for (char *p = d; *p; p++)
        if ((unsigned char)*p < ' ') *p = ' ';
    size_t n = strlen(d);
    while (n && !text_valid_utf8(d, n)) d[--n] = '\0';
    return d;
}

/* Write a whole new session record (and index it). */
static int store_new(http_request *req, web_session *s, int64_t now)
{
    char sk[80], lvl[4], uid[24], puid[24], created[24], seen[24], abs_[24], ver[4];
    snprintf(sk, sizeof sk, "sess:%s", s->key);
    snprintf(lvl, sizeof lvl, "%d", (int)s->level);
    snprintf(uid, sizeof uid, "%lld", (long long)s->user_id);
    snprintf(puid, sizeof puid, "%lld", (long long)s->pending_user_id);
    snprintf(created, sizeof created, "%lld", (long long)s->created);
    snprintf(seen, sizeof seen, "%lld", (long long)now);
    snprintf(abs_, sizeof abs_, "%lld", (long long)s->expires_abs);
    snprintf(ver, sizeof ver, "%d", s->verified ? 1 : 0);
    const char *ip = req->client_ip ? req->client_ip : "";
    const char *ua = device_of(req);
    char *cmds[3];
    int lens[3], n = 0;
    redisReply *replies[3];
    char cn[16], mfa[4], auth[24];
    snprintf(cn, sizeof cn, "%d", s->cart_items);
    snprintf(mfa, sizeof mfa, "%d", s->two_factor ? 1 : 0);
    snprintf(auth, sizeof auth, "%lld", (long long)s->auth_at);
    lens[n] = redisFormatCommand(&cmds[n],
                                 "HSET %s lvl %s uid %s puid %s role %s ver %s csrf %s name %s cart %s cn %s created %s "
                                 "seen %s abs %s ip %s ua %s mfa %s auth %s",
                                 sk, lvl, uid, puid, s->role, ver, s->csrf, s->name, s->cart, cn, created, seen, abs_, ip,
                                 ua, mfa, auth);
    n++;
    int ttl = idle_seconds(s);
    if (s->expires_abs - now < ttl) ttl = (int)(s->expires_abs - now);
    if (ttl < 1) ttl = 1;
    lens[n] = redisFormatCommand(&cmds[n], "EXPIRE %s %d", sk, ttl);
    n++;
    int64_t owner = s->user_id ? s->user_id : s->pending_user_id;
    if (owner) {
        lens[n] = redisFormatCommand(&cmds[n], "ZADD usess:%lld %lld %s", (long long)owner, (long long)s->created, s->key);
        n++;
    }
    if (durable_pipeline(NULL, n, cmds, lens, replies) < 0) return -1;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (replies[i]->type == REDIS_REPLY_ERROR) rc = -1;
        freeReplyObject(replies[i]);
    }
    return rc;
}

static void delete_key(const char *key, int64_t owner)
{
    char *cmds[2];
    int lens[2], n = 0;
    redisReply *replies[2];
    lens[n] = redisFormatCommand(&cmds[n], "DEL sess:%s", key);
    n++;
    if (owner) {
        lens[n] = redisFormatCommand(&cmds[n], "ZREM usess:%lld %s", (long long)owner, key);
        n++;
    }
    if (durable_pipeline(NULL, n, cmds, lens, replies) == 0)
        for (int i = 0; i < n; i++) freeReplyObject(replies[i]);
}

static long long field_int(redisReply *r, size_t i) { return r->element[i]->type == REDIS_REPLY_STRING ? strtoll(r->element[i]->str, NULL, 10) : 0; }

static int load(http_request *req, http_response *res);

int session_load(http_request *req, http_response *res) { return load(req, res); }
int session_load_quiet(http_request *req) { return load(req, NULL); }

static int load(http_request *req, http_response *res)
{
    req->session = NULL;
    const char *id = req_cookie(req, SESSION_COOKIE);
    if (!id) return 0;
    size_t n = strlen(id);
    if (n < 40 || n > 64) { /* not one of ours */
        clear_cookie(req, res);
        return 0;
    }
    char key[SESSION_KEY_HEX + 1];
    key_of(id, key);
    redisReply *r =
        durable_cmd(NULL, "HMGET sess:%s lvl uid puid role ver csrf created seen abs flash fk name cart cn mfa auth", key);
    if (!r) return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 16 || r->element[0]->type != REDIS_REPLY_STRING) {
        /* expired, signed out, or never existed */
        freeReplyObject(r);
        clear_cookie(req, res);
        return 0;
    }
    web_session *s = arena_alloc(req->pool, sizeof *s);
    memcpy(s->key, key, sizeof s->key);
    s->level = (session_level)field_int(r, 0);
    s->user_id = field_int(r, 1);
    s->pending_user_id = field_int(r, 2);
    if (r->element[3]->type == REDIS_REPLY_STRING) text_copy(s->role, sizeof s->role, r->element[3]->str);
    s->verified = field_int(r, 4) == 1;
    if (r->element[5]->type == REDIS_REPLY_STRING) text_copy(s->csrf, sizeof s->csrf, r->element[5]->str);
    s->created = field_int(r, 6);
    s->seen = field_int(r, 7);
    s->expires_abs = field_int(r, 8);
    bool had_flash = r->element[9]->type == REDIS_REPLY_STRING;
    if (had_flash) {
        text_copy(s->flash, sizeof s->flash, r->element[9]->str);
        if (r->element[10]->type == REDIS_REPLY_STRING) text_copy(s->flash_kind, sizeof s->flash_kind, r->element[10]->str);
    }
    if (r->element[11]->type == REDIS_REPLY_STRING) text_copy(s->name, sizeof s->name, r->element[11]->str);
    if (r->element[12]->type == REDIS_REPLY_STRING) text_copy(s->cart, sizeof s->cart, r->element[12]->str);
    s->cart_items = (int)field_int(r, 13);
    s->two_factor = field_int(r, 14) == 1;
    s->auth_at = field_int(r, 15);
    freeReplyObject(r);
    int64_t now = (int64_t)time(NULL);
    if (s->level > SESSION_FULL || !s->csrf[0] || now >= s->expires_abs) {
        delete_key(key, s->user_id ? s->user_id : s->pending_user_id);
        clear_cookie(req, res);
        return 0;
    }
    req->session = s;
    req->log_user_id = s->level == SESSION_FULL ? s->user_id : 0;
    /* refresh the idle timeout, at most once a minute (the flash stays until
     * a page shows it: session_flash_shown) */
    (void)had_flash;
    if (now - s->seen >= TOUCH_EVERY_SECONDS) {
        int ttl = idle_seconds(s);
        if (s->expires_abs - now < ttl) ttl = (int)(s->expires_abs - now);
        char *cmds[3];
        int lens[3], m = 0;
        redisReply *replies[3];
        lens[m] = redisFormatCommand(&cmds[m], "HSET sess:%s seen %lld", key, (long long)now);
        m++;
        lens[m] = redisFormatCommand(&cmds[m], "EXPIRE sess:%s %d", key, ttl > 0 ? ttl : 1);
        m++;
        if (durable_pipeline(NULL, m, cmds, lens, replies) == 0)
            for (int i = 0; i < m; i++) freeReplyObject(replies[i]);
    }
    return 1;
}

static web_session *fresh(http_request *req, session_level level, int64_t user_id, const char *role, bool verified,
                          const char *name, char *id, size_t idlen)
{
    web_session *s = arena_alloc(req->pool, sizeof *s);
    text_copy(s->name, sizeof s->name, name ? name : "");
    new_id(id, idlen);
    key_of(id, s->key);
    unsigned char rnd[32];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(s->csrf, sizeof s->csrf, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    s->level = level;
    if (level == SESSION_FULL) s->user_id = user_id;
    if (level == SESSION_MFA) s->pending_user_id = user_id;
    text_copy(s->role, sizeof s->role, role ? role : "shopper");
    s->verified = verified;
    s->created = (int64_t)time(NULL);
    s->seen = s->created;
    int64_t life = level == SESSION_ANON ? ANON_IDLE_SECONDS * 12
                   : strcmp(s->role, "shopper") ? cfg.staff_session_seconds
                                                : cfg.session_absolute_seconds;
    s->expires_abs = s->created + life;
    return s;
}

int session_create(http_request *req, http_response *res)
{
    char id[64];
    web_session *s = fresh(req, SESSION_ANON, 0, "shopper", false, NULL, id, sizeof id);
    if (store_new(req, s, s->created) < 0) return -1;
    set_cookie(req, res, id, (int)(s->expires_abs - s->created));
    req->session = s;
    return 0;
}

int session_sign_in(http_request *req, http_response *res, int64_t user_id, const char *role, bool verified,
                    session_level level, const char *name)
{
    web_session *old = req->session;
    char id[64];
    web_session *s = fresh(req, level, user_id, role, verified, name, id, sizeof id);
    if (old) {
        /* the bag of this visit travels with the visitor (merged at sign-in) */
        memcpy(s->cart, old->cart, sizeof s->cart);
        s->cart_items = old->cart_items;
    }
    /* signed in through the second step of this very sign-in */
    s->two_factor = level == SESSION_FULL && old && old->level == SESSION_MFA && old->pending_user_id == user_id;
    s->auth_at = s->created;
    if (store_new(req, s, s->created) < 0) return -1;
    /* the old id (known to whoever could fix it on the visitor) is gone */
    if (old) delete_key(old->key, old->user_id ? old->user_id : old->pending_user_id);
    set_cookie(req, res, id, (int)(s->expires_abs - s->created));
    req->session = s;
    req->log_user_id = level == SESSION_FULL ? user_id : 0;
    return 0;
}

int session_reauthenticated(http_request *req)
{
    if (!req->session) return -1;
    int64_t now = (int64_t)time(NULL);
    redisReply *r = durable_cmd(NULL, "HSET sess:%s auth %lld", req->session->key, (long long)now);
    if (!r) return -1;
    freeReplyObject(r);
    req->session->auth_at = now;
    return 0;
}

int session_sign_out(http_request *req, http_response *res)
{
    web_session *s = req->session;
    if (s) delete_key(s->key, s->user_id ? s->user_id : s->pending_user_id);
    clear_cookie(req, res);
    req->session = NULL;
    req->log_user_id = 0;
    return 0;
}

int session_set_cart(http_request *req, const char *public_id, int items)
{
    if (!req->session) return -1;
    redisReply *r = durable_cmd(NULL, "HSET sess:%s cart %s cn %d", req->session->key, public_id ? public_id : "",
                                items);
    if (!r) return -1;
    freeReplyObject(r);
    text_copy(req->session->cart, sizeof req->session->cart, public_id ? public_id : "");
    req->session->cart_items = items;
    return 0;
}

int session_checkout_key(http_request *req, char out[44])
{
    if (!req->session) return -1;
    redisReply *r = durable_cmd(NULL, "HGET sess:%s ck", req->session->key);
    if (!r) return -1;
    bool have = r->type == REDIS_REPLY_STRING && r->len == 43;
    if (have) memcpy(out, r->str, 44);
    freeReplyObject(r);
    if (have) return 0;
    char fresh_key[44];
    unsigned char rnd[32];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(fresh_key, sizeof fresh_key, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    /* HSETNX: two tabs rendering at once end with the same key */
    r = durable_cmd(NULL, "HSETNX sess:%s ck %s", req->session->key, fresh_key);
    if (!r) return -1;
    freeReplyObject(r);
    r = durable_cmd(NULL, "HGET sess:%s ck", req->session->key);
    if (!r) return -1;
    have = r->type == REDIS_REPLY_STRING && r->len == 43;
    if (have) memcpy(out, r->str, 44);
    freeReplyObject(r);
    return have ? 0 : -1;
}

int session_new_checkout_key(http_request *req)
{
    if (!req->session) return -1;
    redisReply *r = durable_cmd(NULL, "HDEL sess:%s ck", req->session->key);
    if (!r) return -1;
    freeReplyObject(r);
    return 0;
}

int session_remember_order(http_request *req, const char *number, const char *token)
{
    if (!req->session) return -1;
    redisReply *r = durable_cmd(NULL, "HSET sess:%s lo %s:%s", req->session->key, number, token);
    if (!r) return -1;
    freeReplyObject(r);
    return 0;
}

int session_order_token(http_request *req, const char *number, char *out, size_t outlen)
{
    if (!req->session) return 0;
    redisReply *r = durable_cmd(NULL, "HGET sess:%s lo", req->session->key);
    if (!r) return 0;
    int found = 0;
    size_t nl = strlen(number);
    if (r->type == REDIS_REPLY_STRING && r->len > nl + 1 && !strncmp(r->str, number, nl) && r->str[nl] == ':') {
        text_copy(out, outlen, r->str + nl + 1);
        found = 1;
    }
    freeReplyObject(r);
    return found;
}

int session_set_name(http_request *req, const char *name)
{
    if (!req->session) return -1;
    redisReply *r = durable_cmd(NULL, "HSET sess:%s name %s", req->session->key, name);
    if (!r) return -1;
    freeReplyObject(r);
    text_copy(req->session->name, sizeof req->session->name, name);
    return 0;
}

void session_flash_shown(http_request *req)
{
    if (!req->session || !req->session->flash[0]) return;
    redisReply *r = durable_cmd(NULL, "HDEL sess:%s flash fk", req->session->key);
    if (r) freeReplyObject(r);
}

int session_flash(http_request *req, const char *kind, const char *message)
{
    if (!req->session) return -1;
    redisReply *r = durable_cmd(NULL, "HSET sess:%s flash %s fk %s", req->session->key, message, kind);
    if (!r) return -1;
    freeReplyObject(r);
    return 0;
}

/* The user's session keys (dropping index entries whose session expired). */
static redisReply *user_keys(int64_t user_id)
{
    redisReply *r = durable_cmd(NULL, "ZREVRANGE usess:%lld 0 199", (long long)user_id);
    return r;
}

int session_mark_verified(int64_t user_id)
{
    redisReply *keys = user_keys(user_id);
    if (!keys) return -1;
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *r = durable_cmd(NULL, "EXISTS sess:%s", keys->element[i]->str);
        if (r && r->integer) {
            redisReply *w = durable_cmd(NULL, "HSET sess:%s ver 1", keys->element[i]->str);
            if (w) freeReplyObject(w);
        }
        if (r) freeReplyObject(r);
    }
    freeReplyObject(keys);
    return 0;
}

int session_end_all(int64_t user_id, const char *except)
{
    redisReply *keys = user_keys(user_id);
    if (!keys) return -1;
    int n = 0;
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        if (except && !strcmp(k, except)) continue;
        delete_key(k, user_id);
        n++;
    }
    freeReplyObject(keys);
    return n;
}

int session_end_one(int64_t user_id, const char *key)
{
    if (!text_is_lower_hex(key, SESSION_KEY_HEX)) return 0;
    redisReply *r = durable_cmd(NULL, "ZSCORE usess:%lld %s", (long long)user_id, key);
    if (!r) return -1;
    bool theirs = r->type == REDIS_REPLY_STRING;
    freeReplyObject(r);
    if (!theirs) return 0;
    delete_key(key, user_id);
    return 1;
}

json_t *session_list(int64_t user_id, const char *current_key)
{
    redisReply *keys = user_keys(user_id);
    if (!keys) return NULL;
    json_t *out = json_array();
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        redisReply *r = durable_cmd(NULL, "HMGET sess:%s lvl created seen ip ua", k);
        if (!r) {
            json_decref(out);
            freeReplyObject(keys);
            return NULL;
        }
        if (r->elements == 5 && r->element[0]->type == REDIS_REPLY_STRING) {
            if (strtol(r->element[0]->str, NULL, 10) == SESSION_FULL)
                json_array_append_new(
                    out, json_pack("{s:s,s:b,s:I,s:I,s:s,s:s}", "key", k, "current", current_key && !strcmp(k, current_key),
                                   "created", (json_int_t)field_int(r, 1), "seen", (json_int_t)field_int(r, 2), "ip",
                                   r->element[3]->type == REDIS_REPLY_STRING ? r->element[3]->str : "", "device",
                                   r->element[4]->type == REDIS_REPLY_STRING ? r->element[4]->str : ""));
        } else {
            /* expired: tidy the index */
            redisReply *z = durable_cmd(NULL, "ZREM usess:%lld %s", (long long)user_id, k);
            if (z) freeReplyObject(z);
        }
        freeReplyObject(r);
    }
    freeReplyObject(keys);
    return out;
}
