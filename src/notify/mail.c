/* mail.c — e-mail over SMTP with libcurl's SMTP and MIME API (see mail.h).
 *
 * Message layout (built by libcurl, never by hand):
 *
 *   Date, From, To, Subject, Message-ID, MIME-Version, Auto-Submitted
 *   Content-Type: multipart/mixed                   (libcurl's top level)
 *     Content-Type: multipart/alternative           (when there is HTML)
 *       text/plain; charset=utf-8, quoted-printable
 *       text/html; charset=utf-8, quoted-printable
 *
 * Without HTML the text part sits directly in the top level. The outer
 * multipart/mixed is where attachments (invoices) will go.
 *
 * Bodies are normalised to CRLF line ends first: libcurl's quoted-printable
 * encoder only treats CRLF as a line break (a bare LF would become =0A). */
#include "notify/mail.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "template/mustache.h"

#define CONNECT_TIMEOUT_MS 5000L
#define TOTAL_TIMEOUT_MS 30000L
#define POOL_MAX_IDLE_S 20L       /* a pooled SMTP session idle longer is not reused */
#define HEADER_LINE_MAX 78        /* RFC 5322's "SHOULD" line length */
#define ENCODED_WORD_MAX 75       /* RFC 2047 */
#define ENCODED_WORD_OVERHEAD 12  /* "=?UTF-8?B?" + "?=" */
#define NAME_MAX_LEN 64           /* template names: [a-z0-9_-] */

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- one-time set-up: libcurl, libsodium, the template environment ---- */

static pthread_once_t libs_once = PTHREAD_ONCE_INIT;
static int libs_ok;

static void libs_init(void)
{
    /* Both are idempotent; libcurl >= 7.84 makes curl_global_init thread-safe,
     * the once keeps older ones right too. Never cleaned up: process lifetime. */
    libs_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK && sodium_init() >= 0;
}

/* ---- one pool of SMTP sessions per process ----
 *
 * Every send gets an easy handle of its own, but the connections live in a
 * libcurl share used by all the process's threads: a burst of order mails
 * reuses a few open sessions instead of a connect, greeting, EHLO (and TLS
 * and AUTH with a real provider) and QUIT per message — cheaper for us, and
 * providers limit new connections more tightly than messages. A session
 * idle for more than POOL_MAX_IDLE_S is closed rather than reused: servers
 * drop idle ones after minutes (RFC 5321 asks them to wait at least 5), and
 * libcurl checks a pooled socket is still open before it reuses it.
 *
 * The pool belongs to the process that made it: after fork() the child
 * makes its own and never touches the parent's (whose sockets and locks it
 * merely inherited). */
typedef struct smtp_pool {
    CURLSH *share;
    pid_t pid;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
} smtp_pool;

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static smtp_pool *pool;
static pid_t pool_failed; /* the process that could not make one (warned once) */

static void pool_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *user)
{
    (void)h;
    (void)access;
    pthread_mutex_lock(&((smtp_pool *)user)->locks[data]);
}

static void pool_unlock(CURL *h, curl_lock_data data, void *user)
{
    (void)h;
    pthread_mutex_unlock(&((smtp_pool *)user)->locks[data]);
}

/* This process's share, made on first use; NULL (no pooling: every message
 * on a connection of its own, as before) when libcurl cannot make one. */
static CURLSH *smtp_share(void)
{
    pid_t me = getpid();
    pthread_mutex_lock(&pool_mu);
    if ((!pool || pool->pid != me) && pool_failed != me) {
        smtp_pool *p = calloc(1, sizeof *p); /* the parent's, if any, is left as it is: see above */
        CURLSH *sh = p ? curl_share_init() : NULL;
        if (sh) {
            for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&p->locks[i], NULL);
            p->share = sh;
            p->pid = me;
            if (curl_share_setopt(sh, CURLSHOPT_USERDATA, p) != CURLSHE_OK ||
                curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, pool_lock) != CURLSHE_OK ||
                curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, pool_unlock) != CURLSHE_OK ||
                curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
                curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
                curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
                curl_share_cleanup(sh);
                sh = NULL;
            }
        }
        if (sh) {
            pool = p;
        } else {
            free(p);
            pool_failed = me;
            log_warn("mail: libcurl could not make a connection pool; every message opens its own SMTP session");
            pool = NULL;
        }
    }
    CURLSH *out = pool && pool->pid == me ? pool->share : NULL;
    pthread_mutex_unlock(&pool_mu);
    return out;
}

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static mst_env *mail_env;

static void env_init(void) { mail_env = mst_env_new_dir(cfg.template_dir); }

/* ---- addresses ---- */

static int is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

static int domain_valid(const char *d, size_t len)
{
    if (len == 0 || len > 253) return 0;
    int labels = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || d[i] == '.') {
            size_t n = i - start;
            if (n == 0 || n > 63 || d[start] == '-' || d[i - 1] == '-') return 0;
            labels++;
            start = i + 1;
        } else {
            unsigned char c = (unsigned char)d[i];
            if (!isascii(c) || !(isalnum(c) || c == '-')) return 0;
        }
    }
    return labels >= 2;
}

int mail_address_valid(const char *addr)
{
    if (!addr) return 0;
    size_t n = strlen(addr);
    if (n < 3 || n > 254) return 0;
    const char *at = strchr(addr, '@');
    if (!at || strchr(at + 1, '@')) return 0;
    size_t local = (size_t)(at - addr);
    if (local == 0 || local > 64 || addr[0] == '.' || addr[local - 1] == '.') return 0;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (c == '.') {
            if (addr[i + 1] == '.') return 0;
        } else if (!is_atext(c)) {
            return 0;
        }
    }
    return domain_valid(at + 1, n - local - 1);
}

/* MAIL_FROM: "Name <addr>" or "addr". Fills the envelope address and the
 * display name (quotes removed; may be empty). 0, or -1 when malformed. */
static int parse_from(const char *from, char *addr, size_t addrlen, char *name, size_t namelen)
{
    if (!from || strpbrk(from, "\r\n")) return -1;
    while (*from == ' ' || *from == '\t') from++;
    size_t len = strlen(from);
    while (len && (from[len - 1] == ' ' || from[len - 1] == '\t')) len--;
    const char *lt = memchr(from, '<', len);
    name[0] = '\0';
    if (!lt) {
        if (len >= addrlen) return -1;
        memcpy(addr, from, len);
        addr[len] = '\0';
    } else {
        if (len == 0 || from[len - 1] != '>') return -1;
        size_t alen = (size_t)(from + len - 1 - (lt + 1));
        if (alen >= addrlen) return -1;
        memcpy(addr, lt + 1, alen);
        addr[alen] = '\0';
        size_t nlen = (size_t)(lt - from);
        while (nlen && (from[nlen - 1] == ' ' || from[nlen - 1] == '\t')) nlen--;
        const char *nm = from;
        if (nlen >= 2 && nm[0] == '"' && nm[nlen - 1] == '"') {
            nm++;
            nlen -= 2;
        }
        if (nlen >= namelen) return -1;
        memcpy(name, nm, nlen);
        name[nlen] = '\0';
    }
    return mail_address_valid(addr) ? 0 : -1;
}

/* ---- header text: RFC 2047 ---- */

static int needs_encoding(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f) return 1;
        if (c == '=' && i + 1 < len && s[i + 1] == '?') return 1; /* would read as an encoded word */
    }
    return 0;
}

/* Can plain ASCII text be folded at its spaces so that every line keeps to
 * 78 characters, `used` being taken on the first? Not when a word is too
 * long, nor with leading, trailing or doubled spaces (a folded line must
 * not be white space only): such text is sent as encoded words instead. */
static int foldable(const char *s, size_t len, size_t used)
{
    if (len && (s[0] == ' ' || s[len - 1] == ' ')) return 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ' ') continue;
        size_t word = i - start;
        if (word == 0 && len) return 0;
        if ((start == 0 ? used + word : 1 + word) > HEADER_LINE_MAX) return 0;
        start = i + 1;
    }
    return 1;
}

/* Append s as header text, `used` characters being already on the first
 * line ("Subject: " = 9). See mail_encode_subject. */
static int encode_header_text(const char *s, size_t len, size_t used, buf *out)
{
    if (len > MAIL_SUBJECT_MAX || !text_valid_utf8(s, len) || memchr(s, '\r', len) || memchr(s, '\n', len))
        return -1;
    size_t line = used;
    if (!needs_encoding(s, len) && foldable(s, len, used)) {
        /* ASCII: fold before a space when the line would grow past 78. The
         * space stays (it becomes the folding white space), so unfolding
         * gives back the exact text. */
        size_t i = 0;
        while (i <= len) {
            const char *sp = memchr(s + i, ' ', len - i);
            size_t end = sp ? (size_t)(sp - s) : len;
            size_t word = end - i;
            if (i > 0) {
                if (line + 1 + word > HEADER_LINE_MAX) {
                    buf_puts(out, "\r\n");
                    line = 0;
                }
                buf_putc(out, ' ');
                line++;
            }
            buf_append(out, s + i, word);
            line += word;
            if (!sp) break;
            i = end + 1;
        }
        return 0;
    }
    /* Encoded words of whole characters, each fitting on its line. */
    size_t pos = 0;
    int first = 1;
    char b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
    while (pos < len) {
        /* the first word follows "Subject: "; the others start a folded
         * line of their own, after its one space */
        size_t room = first ? (line < HEADER_LINE_MAX - 24 ? HEADER_LINE_MAX - line : 24) : HEADER_LINE_MAX - 1;
        if (room > ENCODED_WORD_MAX) room = ENCODED_WORD_MAX;
        size_t chunk = (room - ENCODED_WORD_OVERHEAD) / 4 * 3;
        if (chunk > len - pos) chunk = len - pos;
        /* never cut a UTF-8 sequence: back off to the start of a character */
        while (chunk > 0 && pos + chunk < len && ((unsigned char)s[pos + chunk] & 0xC0) == 0x80) chunk--;
        if (chunk == 0) return -1; /* cannot happen with valid UTF-8 and room >= 24 */
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s + pos, chunk, sodium_base64_VARIANT_ORIGINAL);
        if (!first) {
            buf_puts(out, "\r\n ");
            line = 1;
        }
        buf_puts(out, "=?UTF-8?B?");
        buf_puts(out, b64);
        buf_puts(out, "?=");
        line += ENCODED_WORD_OVERHEAD + strlen(b64);
        pos += chunk;
        first = 0;
    }
    return 0;
}

int mail_encode_subject(const char *subject, buf *out)
{
    if (!subject || !out) return -1;
    size_t before = out->len;
    if (encode_header_text(subject, strlen(subject), strlen("Subject: "), out) != 0) {
        out->len = before;
        if (out->data) out->data[before] = '\0';
        return -1;
    }
    return 0;
}

/* ---- Message-ID ---- */

/* The host of PUBLIC_URL: no scheme, user info, port, path; lower case. */
static void public_host(char *out, size_t outlen)
{
    const char *u = cfg.public_url ? cfg.public_url : "";
    const char *p = strstr(u, "://");
    p = p ? p + 3 : u;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t h;
    if (n && p[0] == '[') {               /* IPv6 literal: keep the brackets */
        const char *rb = memchr(p, ']', n);
        h = rb ? (size_t)(rb - p) + 1 : n;
    } else {
        h = strcspn(p, ":/?#");
        if (h > n) h = n;
    }
    size_t k = 0;
    for (size_t i = 0; i < h && k + 1 < outlen; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '@') continue;
        out[k++] = (char)tolower(c);
    }
    out[k] = '\0';
    if (k == 0) text_copy(out, outlen, "localhost");
}

const char *mail_message_id(const char *idempotency_key, char *out, size_t outlen)
{
    if (!out || outlen == 0) return out;
    pthread_once(&libs_once, libs_init);
    unsigned char hash[16];
    const char *key = idempotency_key ? idempotency_key : "";
    crypto_generichash(hash, sizeof hash, (const unsigned char *)key, strlen(key), NULL, 0);
    char hex[2 * sizeof hash + 1];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    char host[256];
    public_host(host, sizeof host);
    int n = snprintf(out, outlen, "<%s@%s>", hex, host);
    if (n < 0 || (size_t)n >= outlen) out[0] = '\0'; /* never a cut, invalid id */
    return out;
}

static int message_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 5 || n > 250 || id[0] != '<' || id[n - 1] != '>') return 0;
    int at = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= ' ' || c >= 0x7f || c == '<' || c == '>') return 0;
        if (c == '@') at++;
    }
    return at == 1 && id[1] != '@' && id[n - 2] != '@';
}

/* ---- rendering ---- */

static int name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > NAME_MAX_LEN) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return 0;
    }
    return 1;
}

static int render_part(json_t *ctx, const char *name, const char *kind, char **out, char *err, size_t errlen)
{
    char tname[NAME_MAX_LEN + 32];
    snprintf(tname, sizeof tname, "email/%s.%s", name, kind);
    buf b = BUF_INIT;
    char why[256] = "";
    if (mst_render(mail_env, tname, ctx, &b, why, sizeof why) != 0) {
        buf_free(&b);
        seterr(err, errlen, "%s: %s", tname, why);
        return -1;
    }
    *out = buf_detach(&b);
    return 0;
}

/* Does templates/email/<name>.<kind>.mustache exist? 1 yes, 0 no, -1 error. */
static int template_exists(const char *name, const char *kind, char *err, size_t errlen)
{
    buf path = BUF_INIT;
    buf_printf(&path, "%s/email/%s.%s.mustache", cfg.template_dir ? cfg.template_dir : ".", name, kind);
    struct stat st;
    int rc = stat(path.data, &st) == 0 ? 1 : (errno == ENOENT || errno == ENOTDIR) ? 0 : -1;
    if (rc < 0) seterr(err, errlen, "%s: %s", path.data, strerror(errno));
    buf_free(&path);
    return rc;
}

int mail_render(const char *name, json_t *ctx, mail_message *out, char *err, size_t errlen)
{
    if (!out) return -1;
    memset(out, 0, sizeof *out);
    if (!name_valid(name)) {
        seterr(err, errlen, "invalid mail template name");
        return -1;
    }
    if (ctx && !json_is_object(ctx)) {
        seterr(err, errlen, "mail context must be a JSON object");
        return -1;
    }
    pthread_once(&env_once, env_init);
    if (!mail_env) {
        seterr(err, errlen, "mail templates: out of memory");
        return -1;
    }
    json_t *c = ctx ? json_copy(ctx) : json_object(); /* shallow: values are shared, not copied */
    if (!c) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    json_object_set_new(c, "site_name", json_string(cfg.site_name ? cfg.site_name : ""));
    json_object_set_new(c, "public_url", json_string(cfg.public_url ? cfg.public_url : ""));

    char *subject = NULL;
    int rc = -1;
    if (render_part(c, name, "subject", &subject, err, errlen) != 0) goto done;
    /* trim, then it must be one non-empty line */
    char *s = subject;
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    memmove(subject, s, n);
    subject[n] = '\0';
    if (n == 0 || strpbrk(subject, "\r\n")) {
        seterr(err, errlen, "email/%s.subject: the subject must be one non-empty line", name);
        goto done;
    }
    out->subject = subject;
    subject = NULL;
    if (render_part(c, name, "txt", &out->text, err, errlen) != 0) goto done;
    int html = template_exists(name, "html", err, errlen);
    if (html < 0) goto done;
    if (html && render_part(c, name, "html", &out->html, err, errlen) != 0) goto done;
    rc = 0;
done:
    free(subject);
    json_decref(c);
    if (rc != 0) mail_message_free(out);
    return rc;
}

void mail_message_free(mail_message *m)
{
    if (!m) return;
    free(m->subject);
    free(m->text);
    free(m->html);
    m->subject = m->text = m->html = NULL;
}

/* ---- sending ---- */

/* A copy of s with every line ending CRLF (LF, CR and CRLF all count). */
static void append_crlf(buf *out, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '\r') {
            buf_puts(out, "\r\n");
            if (p[1] == '\n') p++;
        } else if (*p == '\n') {
            buf_puts(out, "\r\n");
        } else {
            buf_putc(out, *p);
        }
    }
}

static void rfc5322_date(char *out, size_t outlen)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The last line the server sent (CURLINFO_HEADER_IN), for err. Client
 * lines (which carry AUTH) are never looked at. */
typedef struct smtp_trace {
    char last[200];
    int quit;        /* QUIT was sent: its "221" is not the reason */
} smtp_trace;

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *userp)
{
    (void)h;
    smtp_trace *t = userp;
    if (type == CURLINFO_HEADER_OUT && size >= 4 && !strncasecmp(data, "QUIT", 4)) t->quit = 1;
    if (type != CURLINFO_HEADER_IN || t->quit) return 0;
    size_t k = 0;
    for (size_t i = 0; i < size && k + 1 < sizeof t->last; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == '\r' || c == '\n') break;
        t->last[k++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    t->last[k] = '\0';
    return 0;
}

static int add_part(curl_mime *mime, const char *body, const char *type)
{
    curl_mimepart *part = curl_mime_addpart(mime);
    if (!part) return -1;
    buf b = BUF_INIT;
    append_crlf(&b, body);
    CURLcode rc = curl_mime_data(part, buf_cstr(&b), b.len);
    buf_free(&b);
    if (rc != CURLE_OK || curl_mime_type(part, type) != CURLE_OK ||
        curl_mime_encoder(part, "quoted-printable") != CURLE_OK)
        return -1;
    return 0;
}

/* The body: text alone, or multipart/alternative (text, then html: the
 * preferred part comes last, RFC 2046). */
static curl_mime *build_mime(CURL *h, const mail_message *m)
{
    curl_mime *mime = curl_mime_init(h);
    if (!mime) return NULL;
    if (!m->html) {
        if (add_part(mime, m->text, "text/plain; charset=utf-8") != 0) goto fail;
        return mime;
    }
    curl_mime *alt = curl_mime_init(h);
    if (!alt) goto fail;
    if (add_part(alt, m->text, "text/plain; charset=utf-8") != 0 ||
        add_part(alt, m->html, "text/html; charset=utf-8") != 0) {
        curl_mime_free(alt);
        goto fail;
    }
    curl_mimepart *part = curl_mime_addpart(mime);
    if (!part || curl_mime_subparts(part, alt) != CURLE_OK) { /* on success mime owns alt */
        curl_mime_free(alt);
        goto fail;
    }
    if (curl_mime_type(part, "multipart/alternative") != CURLE_OK) goto fail;
    return mime;
fail:
    curl_mime_free(mime);
    return NULL;
}

static struct curl_slist *add_header(struct curl_slist *list, int *failed, const char *line)
{
    struct curl_slist *n = curl_slist_append(list, line);
    if (!n) {
        *failed = 1;
        return list;
    }
    return n;
}

static enum mail_result classify(CURLcode rc, long code)
{
    if (rc == CURLE_OK) return MAIL_SENT;
    switch (rc) {
    /* Our configuration or the relay's, not the message: retrying succeeds
     * once an operator fixes it, so the mail is kept (and the error logged). */
    case CURLE_LOGIN_DENIED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return MAIL_RETRY;
    default:
        break;
    }
    if (code >= 500 && code <= 599) return MAIL_REJECTED;
    if (code >= 400 && code <= 499) return MAIL_RETRY;
    /* connection refused, DNS, timeouts, a dropped connection, out of memory */
    return MAIL_RETRY;
}

enum mail_result mail_send(const mail_message *m, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!m || !m->subject || !m->text) {
        seterr(err, errlen, "incomplete message");
        return MAIL_REJECTED;
    }
    if (!mail_address_valid(m->to)) {
        seterr(err, errlen, "invalid recipient address");
        return MAIL_REJECTED;
    }
    if (!text_valid_utf8(m->text, strlen(m->text)) || (m->html && !text_valid_utf8(m->html, strlen(m->html)))) {
        seterr(err, errlen, "message body is not valid UTF-8");
        return MAIL_REJECTED;
    }
    buf subject = BUF_INIT;
    if (mail_encode_subject(m->subject, &subject) != 0) {
        seterr(err, errlen, "invalid subject (line break, NUL, bad UTF-8 or too long)");
        buf_free(&subject);
        return MAIL_REJECTED;
    }
    char idbuf[256];
    const char *msgid = m->message_id;
    if (!msgid) {
        /* no idempotency key given: a random, unique id */
        unsigned char rnd[16];
        char hex[33];
        pthread_once(&libs_once, libs_init);
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
        msgid = mail_message_id(hex, idbuf, sizeof idbuf);
    }
    if (!message_id_valid(msgid)) {
        seterr(err, errlen, "invalid Message-ID");
        buf_free(&subject);
        return MAIL_REJECTED;
    }
    /* Configuration: an operator's mistake, so MAIL_RETRY (the mail waits
     * for the fix) and an error in the log. */
    char from_addr[256], from_name[256];
    if (parse_from(cfg.mail_from, from_addr, sizeof from_addr, from_name, sizeof from_name) != 0) {
        seterr(err, errlen, "MAIL_FROM is not \"Name <address>\" or an address");
        log_error("mail: MAIL_FROM is not \"Name <address>\" or an address");
        buf_free(&subject);
        return MAIL_RETRY;
    }
    const char *url = cfg.smtp_url ? cfg.smtp_url : "";
    if (strncmp(url, "smtp://", 7) && strncmp(url, "smtps://", 8)) {
        seterr(err, errlen, "SMTP_URL must start with smtp:// or smtps://");
        log_error("mail: SMTP_URL must start with smtp:// or smtps://");
        buf_free(&subject);
        return MAIL_RETRY;
    }
    pthread_once(&libs_once, libs_init);
    if (!libs_ok) {
        seterr(err, errlen, "libcurl/libsodium initialisation failed");
        buf_free(&subject);
        return MAIL_RETRY;
    }

    /* headers */
    buf line = BUF_INIT;
    struct curl_slist *headers = NULL, *rcpt = NULL;
    int failed = 0;
    char date[64];
    rfc5322_date(date, sizeof date);
    buf_printf(&line, "Date: %s", date);
    headers = add_header(headers, &failed, line.data);
    buf_reset(&line);
    buf_puts(&line, "From: ");
    if (from_name[0] && needs_encoding(from_name, strlen(from_name))) {
        if (encode_header_text(from_name, strlen(from_name), strlen("From: "), &line) != 0) {
            buf_free(&line);
            buf_free(&subject);
            seterr(err, errlen, "MAIL_FROM: the name is not valid UTF-8");
            log_error("mail: MAIL_FROM: the name is not valid UTF-8");
            return MAIL_RETRY;
        }
        buf_printf(&line, " <%s>", from_addr);
    } else {
        const char *f = cfg.mail_from;
        while (*f == ' ' || *f == '\t') f++;
        size_t fl = strlen(f);
        while (fl && (f[fl - 1] == ' ' || f[fl - 1] == '\t')) fl--;
        buf_append(&line, f, fl);
    }
    headers = add_header(headers, &failed, line.data);
    buf_reset(&line);
    buf_printf(&line, "To: %s", m->to);
    headers = add_header(headers, &failed, line.data);
    buf_reset(&line);
    buf_printf(&line, "Subject: %s", subject.data);
    headers = add_header(headers, &failed, line.data);
    buf_reset(&line);
    buf_printf(&line, "Message-ID: %s", msgid);
    headers = add_header(headers, &failed, line.data);
    headers = add_header(headers, &failed, "MIME-Version: 1.0");
    headers = add_header(headers, &failed, "Auto-Submitted: auto-generated");
    rcpt = add_header(rcpt, &failed, m->to);
    buf_free(&line);
    buf_free(&subject);

    enum mail_result result = MAIL_RETRY;
    CURL *h = failed ? NULL : curl_easy_init();
    curl_mime *mime = h ? build_mime(h, m) : NULL;
    if (!mime) {
        seterr(err, errlen, "out of memory building the message");
        goto out;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    smtp_trace trace = {{0}, 0};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLSH *sh = smtp_share();
    if (sh) {
        curl_easy_setopt(h, CURLOPT_SHARE, sh);
#if LIBCURL_VERSION_NUM >= 0x074100
        curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, POOL_MAX_IDLE_S);
#endif
    }
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cfg.smtp_ca_file && cfg.smtp_ca_file[0]) curl_easy_setopt(h, CURLOPT_CAINFO, cfg.smtp_ca_file);
    if (cfg.smtp_starttls) curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (cfg.smtp_username && cfg.smtp_username[0]) {
        curl_easy_setopt(h, CURLOPT_USERNAME, cfg.smtp_username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, cfg.smtp_password ? cfg.smtp_password : "");
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from_addr);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    /* The debug callback only keeps the server's last reply line for err. */
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, &trace);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);

    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    result = classify(rc, code);
    if (result != MAIL_SENT) {
        const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        if (code > 0)
            seterr(err, errlen, "%s (SMTP %ld%s%s)", why, code, trace.last[0] ? ": " : "", trace.last);
        else
            seterr(err, errlen, "%s", why);
        if (rc == CURLE_LOGIN_DENIED || rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_USE_SSL_FAILED)
            log_error("mail: %s: check SMTP_URL, SMTP_USERNAME/SMTP_PASSWORD, SMTP_STARTTLS, SMTP_CA_FILE", why);
    }
out:
    if (h) curl_easy_cleanup(h);
    if (mime) curl_mime_free(mime); /* after the handle, as libcurl's examples do */
    curl_slist_free_all(headers);
    curl_slist_free_all(rcpt);
    return result;
}
