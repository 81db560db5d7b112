/* sms.c — text messages through a provider (see sms.h).
 *
 *   log   one JSON line per message, appended to SMS_LOG_PATH with a single
 *         write(2) on an O_APPEND descriptor (lines from several worker
 *         processes never interleave); the file is created 0600: it holds
 *         one-time codes.
 *   http  a Twilio-style gateway: urlencoded form POST (To, From, Body),
 *         HTTP basic auth, idempotency key headers. */
#include "notify/sms.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/text.h"

#define SMS_BODY_MAX 1600          /* bytes: 10 concatenated segments at most */
#define SMS_KEY_MAX 255
#define CONNECT_TIMEOUT_MS 5000L
#define TOTAL_TIMEOUT_MS 15000L
#define RESPONSE_KEEP 4096         /* bytes of the gateway's answer we hold */
#define RESPONSE_ERR 200           /* bytes of it that go into err */

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int sms_number_valid(const char *number)
{
    if (!number || number[0] != '+') return 0;
    size_t n = 0;
    for (const char *p = number + 1; *p; p++, n++)
        if (*p < '0' || *p > '9') return 0;
    return n >= 8 && n <= 15 && number[1] != '0';
}

/* ---- log provider ---- */

/* mkdir -p of the directory part of path (new directories 0700). */
static int make_parents(const char *path)
{
    char *dir = strdup(path);
    if (!dir) return -1;
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; ; p++) {
            if (*p == '/' || *p == '\0') {
                char c = *p;
                *p = '\0';
                if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                    rc = -1;
                    break;
                }
                *p = c;
                if (!c) break;
            }
        }
    }
    free(dir);
    return rc;
}

static enum sms_result log_send(const char *to, const char *body, const char *key, char *err, size_t errlen)
{
    const char *path = cfg.sms_log_path;
    if (!path || !path[0]) {
        seterr(err, errlen, "SMS_LOG_PATH is empty");
        return SMS_RETRY;
    }
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char when[96];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s}", "time", when, "to", to, "from",
                             cfg.sms_from ? cfg.sms_from : "", "body", body, "key", key);
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (!text) {
        seterr(err, errlen, "log: cannot encode the message as JSON");
        return SMS_RETRY;
    }
    buf b = BUF_INIT;
    buf_puts(&b, text);
    buf_putc(&b, '\n');
    free(text);

    if (make_parents(path) != 0) {
        seterr(err, errlen, "log: cannot create the directory of %s: %s", path, strerror(errno));
        buf_free(&b);
        return SMS_RETRY;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        seterr(err, errlen, "log: %s: %s", path, strerror(errno));
        buf_free(&b);
        return SMS_RETRY;
    }
    ssize_t w = write(fd, b.data, b.len);
    int saved = errno;
    close(fd);
    enum sms_result rc = SMS_SENT;
    if (w < 0 || (size_t)w != b.len) {
        seterr(err, errlen, "log: %s: %s", path, w < 0 ? strerror(saved) : "short write");
        rc = SMS_RETRY;
    }
    buf_free(&b);
    return rc;
}

/* ---- http provider ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init(void) { curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    buf *b = userp;
    size_t n = size * nmemb;
    if (b->len < RESPONSE_KEEP) buf_append(b, data, n < RESPONSE_KEEP - b->len ? n : RESPONSE_KEEP - b->len);
    return n;
}

/* The start of the gateway's answer, safe for a log line: at most
 * RESPONSE_ERR bytes, whole UTF-8 characters, control characters as spaces. */
static void response_excerpt(const buf *b, char *out, size_t outlen)
{
    size_t n = b->len < RESPONSE_ERR ? b->len : RESPONSE_ERR;
    if (n >= outlen) n = outlen - 1;
    while (n > 0 && n < b->len && ((unsigned char)b->data[n] & 0xC0) == 0x80) n--;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b->data[i];
        out[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    out[n] = '\0';
    if (!text_valid_utf8(out, n)) {        /* not text: say so rather than pass bytes on */
        text_copy(out, outlen, "(binary response)");
    }
}

static int append_field(CURL *h, buf *form, const char *name, const char *value)
{
    char *esc = curl_easy_escape(h, value, 0);
    if (!esc) return -1;
    if (form->len) buf_putc(form, '&');
    buf_printf(form, "%s=%s", name, esc);
    curl_free(esc);
    return 0;
}

static enum sms_result http_send(const char *to, const char *body, const char *key, char *err, size_t errlen)
{
    const char *url = cfg.sms_gateway_url ? cfg.sms_gateway_url : "";
    if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) {
        seterr(err, errlen, "SMS_GATEWAY_URL must be an http(s):// address");
        log_error("sms: SMS_GATEWAY_URL must be an http(s):// address");
        return SMS_RETRY;
    }
    pthread_once(&curl_once, curl_init);
    if (!curl_ok) {
        seterr(err, errlen, "libcurl initialisation failed");
        return SMS_RETRY;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        seterr(err, errlen, "out of memory");
        return SMS_RETRY;
    }
    enum sms_result result = SMS_RETRY;
    buf form = BUF_INIT, response = BUF_INIT, line = BUF_INIT;
    struct curl_slist *headers = NULL, *tmp;
    if (append_field(h, &form, "To", to) || append_field(h, &form, "From", cfg.sms_from ? cfg.sms_from : "") ||
        append_field(h, &form, "Body", body)) {
        seterr(err, errlen, "out of memory");
        goto out;
    }
    buf_printf(&line, "I-Twilio-Idempotency-Token: %s", key);
    if (!(tmp = curl_slist_append(headers, line.data))) goto oom;
    headers = tmp;
    buf_reset(&line);
    buf_printf(&line, "Idempotency-Key: %s", key);
    if (!(tmp = curl_slist_append(headers, line.data))) goto oom;
    headers = tmp;
    /* no "Expect: 100-continue" round trip for a form of a few KB */
    if (!(tmp = curl_slist_append(headers, "Expect:"))) goto oom;
    headers = tmp;

    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, cfg.sms_account_sid ? cfg.sms_account_sid : "");
    curl_easy_setopt(h, CURLOPT_PASSWORD, cfg.sms_auth_token ? cfg.sms_auth_token : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form.len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        seterr(err, errlen, "gateway: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        result = SMS_RETRY;
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status <= 299) {
        result = SMS_SENT;
        goto out;
    }
    result = (status == 429 || status >= 500 || status < 400) ? SMS_RETRY : SMS_REJECTED;
    char excerpt[RESPONSE_ERR + 1];
    response_excerpt(&response, excerpt, sizeof excerpt);
    seterr(err, errlen, "gateway HTTP %ld: %s", status, excerpt);
    if (status == 401 || status == 403)
        log_error("sms: the gateway refused our credentials (HTTP %ld): check SMS_ACCOUNT_SID/SMS_AUTH_TOKEN", status);
    goto out;
oom:
    seterr(err, errlen, "out of memory");
out:
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    buf_free(&form);
    buf_free(&response);
    buf_free(&line);
    return result;
}

/* ---- the table ---- */

static const sms_provider providers[] = {
    {"log", log_send},
    {"http", http_send},
};

const sms_provider *sms_current(void)
{
    const char *name = cfg.sms_provider ? cfg.sms_provider : "log";
    for (size_t i = 0; i < sizeof providers / sizeof *providers; i++)
        if (!strcmp(providers[i].name, name)) return &providers[i];
    return NULL;
}

static int key_valid(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > SMS_KEY_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c <= ' ' || c >= 0x7f) return 0; /* it goes into HTTP headers */
    }
    return 1;
}

enum sms_result sms_send(const char *to, const char *body, const char *idempotency_key, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!sms_number_valid(to)) {
        seterr(err, errlen, "invalid number (E.164 expected: + and 8 to 15 digits)");
        return SMS_REJECTED;
    }
    size_t n = body ? strlen(body) : 0;
    if (n == 0 || n > SMS_BODY_MAX) {
        seterr(err, errlen, "message body must be 1 to %d bytes", SMS_BODY_MAX);
        return SMS_REJECTED;
    }
    if (!text_valid_utf8(body, n)) {
        seterr(err, errlen, "message body is not valid UTF-8");
        return SMS_REJECTED;
    }
    if (!key_valid(idempotency_key)) {
        seterr(err, errlen, "invalid idempotency key (1 to %d printable ASCII characters, no spaces)", SMS_KEY_MAX);
        return SMS_REJECTED;
    }
    const sms_provider *p = sms_current();
    if (!p) {
        seterr(err, errlen, "SMS_PROVIDER=%s: use log or http", cfg.sms_provider ? cfg.sms_provider : "");
        log_error("sms: SMS_PROVIDER=%s: use log or http", cfg.sms_provider ? cfg.sms_provider : "");
        return SMS_RETRY;
    }
    return p->send(to, body, idempotency_key, err, errlen);
}
