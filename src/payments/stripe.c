/* stripe.c — cards through Stripe PaymentIntents over libcurl, and Stripe's
 * webhook signatures. STRIPE_API_BASE points at https://api.stripe.com in
 * production and at stripe-mock in the tests and the local stack (which
 * answers like Stripe but keeps no state: a PaymentIntent there never
 * moves on by itself, so "paid" arrives by the signed webhook). */
#include "payments/payments.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONNECT_TIMEOUT_MS 3000
#define TIMEOUT_MS 10000

struct body {
    char *data;
    size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t add = size * n;
    if (b->len + add > 1 << 20) return 0; /* no provider answer is this big */
    char *d = realloc(b->data, b->len + add + 1);
    if (!d) return 0;
    memcpy(d + b->len, p, add);
    b->len += add;
    d[b->len] = '\0';
    b->data = d;
    return add;
}

static pay_state state_of(const char *status)
{
    if (!status) return PAY_STATE_PENDING;
    if (!strcmp(status, "succeeded")) return PAY_STATE_SUCCEEDED;
    if (!strcmp(status, "canceled")) return PAY_STATE_CANCELLED;
    return PAY_STATE_PENDING; /* requires_payment_method, requires_action, processing, … */
}

/* One API call: method "POST" (form = the urlencoded body) or "GET". */
static pay_status call(const char *method, const char *path, const char *form, const char *idempotency_key,
                       payment_result *out)
{
    if (!cfg.stripe_secret_key || !cfg.stripe_secret_key[0]) {
        snprintf(out->error, sizeof out->error, "card payments are not configured (STRIPE_SECRET_KEY)");
        return PAY_RETRY;
    }
    CURL *curl = curl_easy_init();
    if (!curl) return PAY_RETRY;
    char url[512], errbuf[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof url, "%s%s", cfg.stripe_api_base, path);
    struct curl_slist *headers = NULL;
    char idem[200];
    if (idempotency_key) {
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", idempotency_key);
        headers = curl_slist_append(headers, idem);
    }
    headers = curl_slist_append(headers, "Stripe-Version: 2024-06-20");
    headers = curl_slist_append(headers, "Expect:");
    struct body b = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_USERNAME, cfg.stripe_secret_key);
    curl_easy_setopt(curl, CURLOPT_PASSWORD, "");
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
    if (!strcmp(method, "POST")) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form ? form : "");
    CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    pay_status st;
    json_t *doc = b.data ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    if (rc != CURLE_OK) {
        snprintf(out->error, sizeof out->error, "the card provider did not answer: %.200s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        st = PAY_RETRY;
    } else if (code >= 200 && code < 300 && json_is_object(doc)) {
        const char *id = json_string_value(json_object_get(doc, "id"));
        if (id) text_copy(out->ref, sizeof out->ref, id);
        const char *secret = json_string_value(json_object_get(doc, "client_secret"));
        if (secret) text_copy(out->client_secret, sizeof out->client_secret, secret);
        out->amount = json_integer_value(json_object_get(doc, "amount"));
        const char *cur = json_string_value(json_object_get(doc, "currency"));
        if (cur) {
            text_copy(out->currency, sizeof out->currency, cur);
            for (char *p = out->currency; *p; p++)
                if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
        }
        const char *object = json_string_value(json_object_get(doc, "object"));
        const char *status = json_string_value(json_object_get(doc, "status"));
        if (status) text_copy(out->provider_status, sizeof out->provider_status, status);
        if (object && !strcmp(object, "refund"))
            out->state = status && !strcmp(status, "succeeded") ? PAY_STATE_REFUNDED : PAY_STATE_PENDING;
        else
            out->state = state_of(status);
        st = PAY_OK;
    } else {
        const char *msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
        snprintf(out->error, sizeof out->error, "the card provider answered %ld: %.180s", code, msg ? msg : "");
        st = code == 429 || code >= 500 || code == 0 ? PAY_RETRY : PAY_DECLINED;
    }
    json_decref(doc);
    free(b.data);
    return st;
}

static char *escape(const char *s)
{
    CURL *c = curl_easy_init();
    char *e = c ? curl_easy_escape(c, s, 0) : NULL;
    char *out = strdup(e ? e : "");
    curl_free(e);
    if (c) curl_easy_cleanup(c);
    return out;
}

static pay_status stripe_initiate(const payment_request *req, payment_result *out)
{
    memset(out, 0, sizeof *out);
    char cur[4];
    text_copy(cur, sizeof cur, req->currency);
    for (char *p = cur; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    char *num = escape(req->order_number), *mail = escape(req->email ? req->email : "");
    char form[700];
    snprintf(form, sizeof form,
             "amount=%lld&currency=%s&metadata[order]=%s&description=Order%%20%s&automatic_payment_methods[enabled]=true%s%s",
             (long long)req->amount, cur, num, num, req->email ? "&receipt_email=" : "", req->email ? mail : "");
    free(num);
    free(mail);
    pay_status st = call("POST", "/v1/payment_intents", form, req->idempotency_key, out);
    if (st == PAY_OK && out->amount != req->amount) {
        /* never go on with a charge of another amount than the order's */
        snprintf(out->error, sizeof out->error, "the provider made a payment of %lld, not %lld", (long long)out->amount,
                 (long long)req->amount);
        return PAY_DECLINED;
    }
    return st;
}

static pay_status stripe_status(const char *ref, payment_result *out)
{
    memset(out, 0, sizeof *out);
    char path[160];
    snprintf(path, sizeof path, "/v1/payment_intents/%s", ref);
    return call("GET", path, NULL, NULL, out);
}

static pay_status stripe_confirm(const char *ref, const char *idem, payment_result *out)
{
    memset(out, 0, sizeof *out);
    char path[180];
    snprintf(path, sizeof path, "/v1/payment_intents/%s/confirm", ref);
    return call("POST", path, "", idem, out);
}

static pay_status stripe_capture(const char *ref, const char *idem, payment_result *out)
{
    memset(out, 0, sizeof *out);
    char path[180];
    snprintf(path, sizeof path, "/v1/payment_intents/%s/capture", ref);
    return call("POST", path, "", idem, out);
}

static pay_status stripe_cancel(const char *ref, const char *idem, payment_result *out)
{
    memset(out, 0, sizeof *out);
    char path[180];
    snprintf(path, sizeof path, "/v1/payment_intents/%s/cancel", ref);
    return call("POST", path, "", idem, out);
}

static pay_status stripe_refund(const char *ref, int64_t amount, const char *idem, payment_result *out)
{
    memset(out, 0, sizeof *out);
    char *r = escape(ref);
    char form[300];
    snprintf(form, sizeof form, "payment_intent=%s&amount=%lld", r, (long long)amount);
    free(r);
    pay_status st = call("POST", "/v1/refunds", form, idem, out);
    if (st == PAY_OK && out->state != PAY_STATE_REFUNDED && out->state != PAY_STATE_PENDING) out->state = PAY_STATE_REFUNDED;
    return st;
}

const payment_provider stripe_provider = {
    .name = "stripe", .initiate = stripe_initiate, .confirm = stripe_confirm, .status = stripe_status,
    .capture = stripe_capture, .refund = stripe_refund, .cancel = stripe_cancel, .parse_webhook = stripe_webhook_verify};

/* ---------- webhooks ---------- */

int stripe_webhook_verify(const char *secret, const char *header, const char *body, size_t len, time_t now,
                          webhook_event *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!secret || !*secret) {
        snprintf(err, errlen, "no webhook secret is configured");
        return -1;
    }
    if (!header || !*header) {
        snprintf(err, errlen, "the request is not signed (no Stripe-Signature)");
        return -1;
    }
    /* "t=1492774577,v1=5257a8…,v1=…,v0=…" */
    long long t = -1;
    const char *sigs[8];
    size_t siglens[8];
    int nsig = 0;
    for (const char *p = header; *p;) {
        const char *end = p + strcspn(p, ",");
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq) {
            size_t kl = (size_t)(eq - p);
            if (kl == 1 && p[0] == 't') {
                char num[24];
                size_t nl = (size_t)(end - eq - 1);
                if (nl == 0 || nl >= sizeof num) break;
                memcpy(num, eq + 1, nl);
                num[nl] = '\0';
                long long v;
                if (text_parse_int64(num, 0, 1LL << 40, &v)) t = v;
            } else if (kl == 2 && p[0] == 'v' && p[1] == '1' && nsig < 8) {
                sigs[nsig] = eq + 1;
                siglens[nsig++] = (size_t)(end - eq - 1);
            }
        }
        p = *end ? end + 1 : end;
    }
    if (t < 0 || nsig == 0) {
        snprintf(err, errlen, "the Stripe-Signature header is malformed");
        return -1;
    }
    if (llabs((long long)now - t) > STRIPE_WEBHOOK_TOLERANCE) {
        snprintf(err, errlen, "the signature is too old or from the future (replayed?)");
        return -1;
    }
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char ts[24], hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    int tl = snprintf(ts, sizeof ts, "%lld.", t);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (size_t)tl);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    bool match = false;
    for (int i = 0; i < nsig; i++)
        if (siglens[i] == sizeof hex - 1 && sodium_memcmp(sigs[i], hex, sizeof hex - 1) == 0) match = true;
    if (!match) {
        snprintf(err, errlen, "no signature matches (wrong secret, or the body was changed)");
        return -1;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *obj = json_object_get(json_object_get(doc, "data"), "object");
    const char *id = json_string_value(json_object_get(doc, "id"));
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (!json_is_object(doc) || !id || !type || !json_is_object(obj)) {
        snprintf(err, errlen, "the event is not a Stripe event object");
        json_decref(doc);
        return -1;
    }
    if (strlen(id) >= sizeof out->id || strlen(type) >= sizeof out->type) {
        /* never cut an id: two long ones cut alike would count as one event */
        snprintf(err, errlen, "the event's id or type is too long");
        json_decref(doc);
        return -1;
    }
    text_copy(out->id, sizeof out->id, id);
    text_copy(out->type, sizeof out->type, type);
    const char *object = json_string_value(json_object_get(obj, "object"));
    const char *ref = object && !strcmp(object, "payment_intent") ? json_string_value(json_object_get(obj, "id"))
                                                                   : json_string_value(json_object_get(obj, "payment_intent"));
    if (ref && strlen(ref) < sizeof out->ref) text_copy(out->ref, sizeof out->ref, ref);
    const char *order = json_string_value(json_object_get(json_object_get(obj, "metadata"), "order"));
    if (order) text_copy(out->order_number, sizeof out->order_number, order);
    out->amount = json_integer_value(json_object_get(obj, "amount"));
    const char *cur = json_string_value(json_object_get(obj, "currency"));
    if (cur) {
        text_copy(out->currency, sizeof out->currency, cur);
        for (char *p = out->currency; *p; p++)
            if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
    }
    if (!strcmp(type, "payment_intent.succeeded")) out->state = PAY_STATE_SUCCEEDED;
    else if (!strcmp(type, "payment_intent.payment_failed")) out->state = PAY_STATE_FAILED;
    else if (!strcmp(type, "payment_intent.canceled")) out->state = PAY_STATE_CANCELLED;
    /* only a full refund refunds the order; a partial one is the operator's to record */
    else if (!strcmp(type, "charge.refunded") && json_is_true(json_object_get(obj, "refunded"))) out->state = PAY_STATE_REFUNDED;
    else out->state = PAY_STATE_PENDING;
    json_decref(doc);
    return 0;
}
