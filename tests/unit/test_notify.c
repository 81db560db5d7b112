/* test_notify.c — mail and SMS: address and number checks, Message-IDs,
 * RFC 2047 subjects, rendering of the e-mail templates, refusal of header
 * injection, the SMS providers (log file; http against a local gateway
 * stand-in) and real SMTP sends: to the repository's SMTP sink
 * (tools/smtpd.py, the .eml read back with Python's email parser) and to a
 * scripted server answering 4xx/5xx. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/text.h"
#include "notify/mail.h"
#include "notify/sms.h"

#define PYTHON "/usr/bin/python3"

/* ---- helpers: temp dirs, files, child processes, ports ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&b, chunk, n);
    fclose(f);
    return buf_detach(&b);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* What a test started, so that its teardown can clean up even after a
 * failed assertion (a server left running would hold the test's output
 * pipe open and meson would wait for it). */
#define MAX_SERVERS 4
static pid_t servers[MAX_SERVERS];
static char tmpdirs[MAX_SERVERS][32];

static char *make_tmpdir(void)
{
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (tmpdirs[i][0]) continue;
        strcpy(tmpdirs[i], "/tmp/test_notify.XXXXXX");
        assert_non_null(mkdtemp(tmpdirs[i]));
        return tmpdirs[i];
    }
    fail_msg("too many temporary directories");
    return NULL;
}

static void stop_server(pid_t pid);

static int cleanup(void **state)
{
    (void)state;
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (servers[i] > 0) stop_server(servers[i]);
        if (tmpdirs[i][0]) rm_rf(tmpdirs[i]);
        tmpdirs[i][0] = '\0';
    }
    return 0;
}

/* Start argv[0] with stdout to /dev/null; wait until it accepts on port. */
static pid_t spawn_server(char *const argv[], int port)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    for (int i = 0; pid > 0 && i < MAX_SERVERS; i++) {
        if (servers[i] <= 0) {
            servers[i] = pid;
            break;
        }
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDOUT_FILENO);
        execv(argv[0], argv);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        if (port_open(port)) return pid;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) fail_msg("%s exited before listening", argv[0]);
        usleep(50 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("%s did not listen on port %d", argv[0], port);
    return -1;
}

static void stop_server(pid_t pid)
{
    for (int i = 0; i < MAX_SERVERS; i++)
        if (servers[i] == pid) servers[i] = 0;
    kill(pid, SIGTERM);
    int status;
    for (int i = 0; i < 100; i++) { /* up to 5 s, then kill */
        if (waitpid(pid, &status, WNOHANG) == pid) return;
        usleep(50 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

static int run_wait(char *const argv[])
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- mail: addresses, ids, subjects ---- */

static void test_address_valid(void **state)
{
    (void)state;
    const char *good[] = {"ada@example.com", "first.last+tag@sub.example.co.uk", "o'brien@example.ie",
                          "x@a.bc", "UPPER_case-1@Example.COM", "a!#$%&*/=?^`{|}~@xn--mnchen-3ya.de"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!mail_address_valid(good[i])) fail_msg("should be valid: %s", good[i]);
    const char *bad[] = {"", "ada", "@example.com", "ada@", "ada@example", "ada@@example.com",
                         "a@b@example.com", "ada @example.com", "ada@exa mple.com", "<ada@example.com>",
                         "Ada <ada@example.com>", "ada@example.com,bob@example.com",
                         "ada@example.com\r\nBcc: eve@example.com", "ada@example.com\n", ".ada@example.com",
                         "ada.@example.com", "a..da@example.com", "ada@-example.com", "ada@example-.com",
                         "ada@example..com", "ada@.example.com", "ada@example.com.", "jos\xc3\xa9@example.com",
                         "ada@ex\xc3\xa4mple.com", "\"ada\"@example.com", "ada@[127.0.0.1]", "ada@exa_mple.com",
                         "ada;x@example.com", "ada\\@example.com", "ada(c)@example.com"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (mail_address_valid(bad[i])) fail_msg("should be invalid: %s", bad[i]);
    assert_false(mail_address_valid(NULL));

    /* lengths: local part 64 bytes, whole address 254 */
    char a[300];
    memset(a, 'a', 64);
    strcpy(a + 64, "@example.com");
    assert_true(mail_address_valid(a));
    memset(a, 'a', 65);
    strcpy(a + 65, "@example.com");
    assert_false(mail_address_valid(a));
    /* 10 + '@' + 4 labels of 59 chars joined by dots (239) + ".com" = 254 */
    buf b = BUF_INIT;
    buf_puts(&b, "aaaaaaaaaa@");
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 59; k++) buf_putc(&b, 'd');
        buf_putc(&b, '.');
    }
    buf_puts(&b, "com");
    assert_int_equal(b.len, 254);
    assert_true(mail_address_valid(b.data));
    buf_reset(&b);
    buf_puts(&b, "aaaaaaaaaaa@");
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 59; k++) buf_putc(&b, 'd');
        buf_putc(&b, '.');
    }
    buf_puts(&b, "com");
    assert_int_equal(b.len, 255);
    assert_false(mail_address_valid(b.data));
    buf_reset(&b);
    buf_puts(&b, "a@");
    for (int k = 0; k < 64; k++) buf_putc(&b, 'd'); /* a 64-byte label */
    buf_puts(&b, ".com");
    assert_false(mail_address_valid(b.data));
    buf_free(&b);
}

static void test_message_id(void **state)
{
    (void)state;
    char *saved = cfg.public_url;
    char a[128], b[128], c[128];
    cfg.public_url = "https://Shop.Example.com:8443/some/path";
    assert_ptr_equal(mail_message_id("order-confirmation:42", a, sizeof a), a);
    mail_message_id("order-confirmation:42", b, sizeof b);
    mail_message_id("order-confirmation:43", c, sizeof c);
    assert_string_equal(a, b);         /* deterministic: a resend carries the same id */
    assert_string_not_equal(a, c);

    /* "<" + 32 hex of BLAKE2b-128(key) + "@" + host + ">" */
    unsigned char h[16];
    char hex[33], want[128];
    crypto_generichash(h, sizeof h, (const unsigned char *)"order-confirmation:42", 21, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(want, sizeof want, "<%s@shop.example.com>", hex);
    assert_string_equal(a, want);
    assert_int_equal(strlen(a), 1 + 32 + 1 + strlen("shop.example.com") + 1);

    cfg.public_url = "http://user:pw@localhost:8080";
    mail_message_id("k", a, sizeof a);
    assert_non_null(strstr(a, "@localhost>"));
    cfg.public_url = "http://[::1]:8080/";
    mail_message_id("k", a, sizeof a);
    assert_non_null(strstr(a, "@[::1]>"));
    cfg.public_url = "";
    mail_message_id("k", a, sizeof a);
    assert_non_null(strstr(a, "@localhost>"));

    char small[20];
    mail_message_id("k", small, sizeof small); /* too small: empty, never a cut id */
    assert_string_equal(small, "");
    cfg.public_url = saved;
}

/* Decode "Subject: " + value back to text, checking the encoded words. */
static void check_encoded_subject(const char *value, const char *original)
{
    buf all = BUF_INIT, decoded = BUF_INIT;
    buf_puts(&all, "Subject: ");
    buf_puts(&all, value);
    /* every line at most 78 characters */
    const char *line = all.data;
    for (;;) {
        const char *end = strstr(line, "\r\n");
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (n > 78) fail_msg("line of %zu characters: %.*s", n, (int)n, line);
        if (!end) break;
        assert_true(end[2] == ' '); /* folded: continuation starts with a space */
        line = end + 2;
    }
    /* every word "=?UTF-8?B?...?=", at most 75 characters, whole characters */
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\r' || *p == '\n') p++;
        if (!*p) break;
        assert_memory_equal(p, "=?UTF-8?B?", 10);
        const char *q = strstr(p + 10, "?=");
        assert_non_null(q);
        size_t wlen = (size_t)(q + 2 - p);
        assert_true(wlen <= 75);
        unsigned char bin[64];
        size_t binlen;
        assert_int_equal(sodium_base642bin(bin, sizeof bin, p + 10, (size_t)(q - (p + 10)), NULL, &binlen, NULL,
                                           sodium_base64_VARIANT_ORIGINAL), 0);
        assert_true(binlen > 0);
        assert_true((bin[0] & 0xC0) != 0x80); /* does not start inside a character */
        assert_true(text_valid_utf8((const char *)bin, binlen));
        buf_append(&decoded, bin, binlen);
        p = q + 2;
    }
    assert_string_equal(buf_cstr(&decoded), original);
    buf_free(&all);
    buf_free(&decoded);
}

static void test_encode_subject(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    assert_int_equal(mail_encode_subject("Your order #1042 has shipped", &b), 0);
    assert_string_equal(b.data, "Your order #1042 has shipped");   /* ASCII: as is */

    buf_reset(&b);
    assert_int_equal(mail_encode_subject("Caf\xc3\xa9", &b), 0);
    assert_string_equal(b.data, "=?UTF-8?B?Q2Fmw6k=?=");

    /* long, mixed 1-4 byte characters: several words, none cut a character */
    const char *longer = "Ihre Bestellung bei Schuh-M\xc3\xbcller: Gr\xc3\xb6\xc3\x9f" "e 42 \xe2\x9c\x93 \xe2\x80\x94 "
                         "danke sch\xc3\xb6n \xf0\x9f\x91\x9f\xf0\x9f\x91\x9f\xf0\x9f\x91\x9f, bis bald! "
                         "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe4\xbb\xb6\xe5\x90\x8d";
    buf_reset(&b);
    assert_int_equal(mail_encode_subject(longer, &b), 0);
    assert_non_null(strstr(b.data, "\r\n =?UTF-8?B?"));  /* folded into several words */
    check_encoded_subject(b.data, longer);
    /* every split point: a 4-byte character at each offset */
    for (int pad = 0; pad < 50; pad++) {
        char s[200];
        memset(s, 'x', (size_t)pad);
        strcpy(s + pad, "\xf0\x9f\x91\x9f\xc3\xa9\xe2\x9c\x93\xf0\x9f\x91\x9f\xc3\xa9\xe2\x9c\x93\xf0\x9f\x91\x9f"
                        "\xc3\xa9\xe2\x9c\x93\xf0\x9f\x91\x9f\xc3\xa9\xe2\x9c\x93\xf0\x9f\x91\x9f\xc3\xa9\xe2\x9c\x93");
        buf_reset(&b);
        assert_int_equal(mail_encode_subject(s, &b), 0);
        check_encoded_subject(b.data, s);
    }

    /* "=?" in ASCII would read as an encoded word: encoded too */
    buf_reset(&b);
    assert_int_equal(mail_encode_subject("50% off =?x?", &b), 0);
    check_encoded_subject(b.data, "50% off =?x?");

    /* long ASCII: folded at spaces, unfolds to the same text */
    const char *ascii = "This is a rather long subject line that goes on and on so that it needs folding "
                        "at some space to stay within seventy-eight characters";
    buf_reset(&b);
    assert_int_equal(mail_encode_subject(ascii, &b), 0);
    assert_non_null(strstr(b.data, "\r\n "));
    buf u = BUF_INIT;
    for (const char *p = b.data; *p; p++)
        if (*p != '\r' && *p != '\n') buf_putc(&u, *p);
    assert_string_equal(u.data, ascii);
    buf_free(&u);
    size_t first = (size_t)(strstr(b.data, "\r\n") - b.data);
    assert_true(strlen("Subject: ") + first <= 78);

    /* ASCII that cannot fold within 78 characters at single spaces (a long
     * token, doubled or edge spaces): encoded words, which can be split */
    char token[120];
    memset(token, 'x', sizeof token - 1);
    token[sizeof token - 1] = '\0';
    const char *odd[] = {token, "two  spaces", " leading", "trailing ", "tab\there"};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        buf_reset(&b);
        assert_int_equal(mail_encode_subject(odd[i], &b), 0);
        check_encoded_subject(b.data, odd[i]);
    }

    /* refused, and out left as it was */
    buf_reset(&b);
    buf_puts(&b, "keep");
    assert_int_equal(mail_encode_subject("Hello\r\nBcc: eve@example.com", &b), -1);
    assert_int_equal(mail_encode_subject("Hello\nBcc: eve@example.com", &b), -1);
    assert_int_equal(mail_encode_subject("Hello\rthere", &b), -1);
    assert_int_equal(mail_encode_subject("bad \xff utf-8", &b), -1);
    assert_int_equal(mail_encode_subject("\xc3", &b), -1);
    char huge[MAIL_SUBJECT_MAX + 2];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_int_equal(mail_encode_subject(huge, &b), -1);
    assert_string_equal(b.data, "keep");
    buf_free(&b);
}

/* ---- mail: rendering ---- */

/* Runs in a child with a template directory of its own: a mail without an
 * HTML part, a subject to trim, a multi-line and an empty subject, a broken
 * HTML template (an error, not "missing"). The template environment is made
 * once per process, on the directory configured at the first render, and a
 * child inherits its parent's: so this test runs first, before the parent
 * renders anything. */
static int child_render_dir(const char *dir)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/email", dir);
    if (mkdir(path, 0700) != 0) return 10;
#define PUT(name, text) \
    do { \
        snprintf(path, sizeof path, "%s/email/%s", dir, name); \
        FILE *f = fopen(path, "w"); \
        if (!f) return 11; \
        fputs(text, f); \
        fclose(f); \
    } while (0)
    PUT("plain.subject.mustache", "\n  Hello {{{name}}} from {{{site_name}}}  \n\n");
    PUT("plain.txt.mustache", "Hi {{{name}}},\nvisit {{{public_url}}}\n");
    PUT("twolines.subject.mustache", "Hello\n{{name}}\n");
    PUT("twolines.txt.mustache", "x\n");
    PUT("empty.subject.mustache", "{{#nothing}}x{{/nothing}}\n");
    PUT("empty.txt.mustache", "x\n");
    PUT("broken.subject.mustache", "Broken\n");
    PUT("broken.txt.mustache", "x\n");
    PUT("broken.html.mustache", "{{#open}} never closed\n");
#undef PUT
    cfg.template_dir = (char *)dir;
    json_t *ctx = json_pack("{s:s}", "name", "Ada & Bo");
    mail_message m;
    if (mail_render("plain", ctx, &m, err, sizeof err) != 0) return 20;
    if (strcmp(m.subject, "Hello Ada & Bo from ShoEase")) return 21;
    if (strcmp(m.text, "Hi Ada & Bo,\nvisit https://shop.example.com:8443\n")) return 22;
    if (m.html != NULL) return 23;                      /* no html template: text only */
    mail_message_free(&m);
    if (mail_render("twolines", ctx, &m, err, sizeof err) != -1 || !strstr(err, "one")) return 30;
    if (m.subject || m.text || m.html) return 31;
    if (mail_render("empty", ctx, &m, err, sizeof err) != -1) return 32;
    if (mail_render("broken", ctx, &m, err, sizeof err) != -1) return 33; /* a syntax error is not "missing" */
    if (!strstr(err, "broken.html")) return 34;
    if (mail_render("absent", ctx, &m, err, sizeof err) != -1) return 35;
    json_decref(ctx);
    return 0;
}

static void test_render_own_dir(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(child_render_dir(dir));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_render_test_mail(void **state)
{
    (void)state;
    char err[256] = "";
    json_t *ctx = json_pack("{s:s, s:s}", "sent_at", "2026-11-24T10:00:00Z", "host", "web-1 <&>");
    mail_message m;
    assert_int_equal(mail_render("test", ctx, &m, err, sizeof err), 0);
    assert_string_equal(m.subject, "Test mail from ShoEase");
    /* text: values as they are (no HTML escaping) */
    assert_non_null(strstr(m.text, "test mail from ShoEase"));
    assert_non_null(strstr(m.text, "2026-11-24T10:00:00Z"));
    assert_non_null(strstr(m.text, "web-1 <&>"));
    assert_non_null(strstr(m.text, "https://shop.example.com:8443"));
    assert_null(strstr(m.text, "&amp;"));
    /* html: through the layout, escaped */
    assert_non_null(m.html);
    assert_non_null(strstr(m.html, "<!doctype html>"));
    assert_non_null(strstr(m.html, "max-width:600px"));
    assert_non_null(strstr(m.html, "<title>Test mail from ShoEase</title>"));
    assert_non_null(strstr(m.html, "Test mail</h1>"));
    assert_non_null(strstr(m.html, "web-1 &lt;&amp;&gt;"));
    assert_non_null(strstr(m.html, "2026-11-24T10:00:00Z"));
    assert_non_null(strstr(m.html, "href=\"https://shop.example.com:8443\""));
    assert_non_null(strstr(m.html, "operator ran a mail test"));  /* the footer block, filled */
    assert_null(strstr(m.html, "{{"));
    assert_null(strstr(m.html, "<style"));
    /* the caller's context is not changed */
    assert_null(json_object_get(ctx, "site_name"));
    assert_int_equal(json_object_size(ctx), 2);
    mail_message_free(&m);
    assert_null(m.subject);
    mail_message_free(&m); /* twice is harmless */

    assert_int_equal(mail_render("test", NULL, &m, err, sizeof err), 0); /* no context: still renders */
    mail_message_free(&m);
    assert_int_equal(mail_render("no-such-mail", ctx, &m, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    assert_int_equal(mail_render("../layout", ctx, &m, err, sizeof err), -1);
    assert_int_equal(mail_render("", ctx, &m, err, sizeof err), -1);
    json_t *arr = json_array();
    assert_int_equal(mail_render("test", arr, &m, err, sizeof err), -1);
    json_decref(arr);
    json_decref(ctx);
}

/* ---- mail: refusals that never touch the network ---- */

static void test_header_injection(void **state)
{
    (void)state;
    char *saved = cfg.smtp_url;
    /* a black-hole address (TEST-NET-1): any attempt to connect would take
     * the 5 s connect timeout */
    cfg.smtp_url = "smtp://192.0.2.1:25";
    char id[128], err[256];
    mail_message_id("inject", id, sizeof id);
    mail_message m = {.subject = "Hello\r\nBcc: eve@example.com", .text = "hi\n", .html = NULL,
                      .to = "ada@example.com", .message_id = id};
    double t0 = now_s();
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_REJECTED);
    assert_non_null(strstr(err, "subject"));
    m.subject = "Hello\nBcc: eve@example.com";
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_REJECTED);
    m.subject = "Hello";
    m.to = "ada@example.com\r\nBcc: eve@example.com";
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_REJECTED);
    m.to = "ada@example.com, eve@example.com";
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_REJECTED);
    m.to = "ada@example.com";
    m.message_id = "<x@y>\r\nBcc: eve@example.com";
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_REJECTED);
    m.message_id = "no-brackets@example.com";
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_REJECTED);
    m.message_id = id;
    m.text = "bad \xff body";
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_REJECTED);
    m.text = NULL;
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_REJECTED);
    assert_int_equal(mail_send(NULL, err, sizeof err), MAIL_REJECTED);
    /* a broken MAIL_FROM is the operator's to fix: the mail waits (retry) */
    char *from = cfg.mail_from;
    cfg.mail_from = "ShoEase <orders@shoease.test>\r\nBcc: eve@example.com";
    m.text = "hi\n";
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_RETRY);
    assert_non_null(strstr(err, "MAIL_FROM"));
    cfg.mail_from = from;
    assert_true(now_s() - t0 < 2.0); /* nothing waited for the network */
    cfg.smtp_url = saved;
}

/* ---- mail: real sends ---- */

/* Reads the .eml with Python's email package (policy.default decodes RFC 2047
 * and quoted-printable) and compares subject, text part (exactly), a piece
 * of the html part, the Message-ID; checks every raw line is <= 78 chars. */
static const char *check_eml_py =
    "import sys, email\n"
    "from email import policy\n"
    "path, subject, text, html_piece, msgid = sys.argv[1:6]\n"
    "raw = open(path, 'rb').read()\n"
    "msg = email.message_from_bytes(raw, policy=policy.default)\n"
    "def fail(what, got):\n"
    "    print('eml check:', what, repr(got), file=sys.stderr); sys.exit(1)\n"
    "if str(msg['subject']) != subject: fail('subject', str(msg['subject']))\n"
    "if msg['message-id'] != msgid: fail('message-id', msg['message-id'])\n"
    "if msg['auto-submitted'] != 'auto-generated': fail('auto-submitted', msg['auto-submitted'])\n"
    "if msg['mime-version'] != '1.0': fail('mime-version', msg['mime-version'])\n"
    "if msg['date'] is None or msg['date'].datetime.utcoffset().total_seconds() != 0: fail('date', msg['date'])\n"
    "plain = msg.get_body(('plain',))\n"
    "got = plain and plain.get_content().replace('\\r\\n', '\\n')\n"
    "if got != text: fail('text', got)\n"
    "if plain.get_content_charset() != 'utf-8' or plain['content-transfer-encoding'] != 'quoted-printable':\n"
    "    fail('text headers', str(plain))\n"
    "html = msg.get_body(('html',))\n"
    "if html is None or html_piece not in html.get_content(): fail('html', html and html.get_content())\n"
    "alt = [p for p in msg.walk() if p.get_content_type() == 'multipart/alternative']\n"
    "if len(alt) != 1: fail('multipart/alternative parts', len(alt))\n"
    "kinds = [p.get_content_type() for p in alt[0].iter_parts()]\n"
    "if kinds != ['text/plain', 'text/html']: fail('alternatives', kinds)\n"
    "for line in raw.split(b'\\n'):\n"
    "    if line.startswith(b'X-Envelope') or b'boundary=' in line: continue  # the sink's, libcurl's\n"
    "    if len(line.rstrip(b'\\r')) > 78: fail('long line', line)\n";

static char *newest_eml(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char *best = NULL;
    *count = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || n < 5 || strcmp(e->d_name + n - 4, ".eml")) continue;
        (*count)++;
        if (!best || strcmp(e->d_name, best) > 0) {
            free(best);
            best = strdup(e->d_name);
        }
    }
    closedir(d);
    if (!best) return NULL;
    buf p = BUF_INIT;
    buf_printf(&p, "%s/%s", dir, best);
    free(best);
    return buf_detach(&p);
}

static void test_send_smtp_sink(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char maildir[128], portstr[16], url[64], err[512] = "";
    snprintf(maildir, sizeof maildir, "%s/mail", dir);
    int port = free_port();
    snprintf(portstr, sizeof portstr, "%d", port);
    char *argv[] = {PYTHON, SOURCE_ROOT "/tools/smtpd.py", "--port", portstr, "--maildir", maildir, NULL};
    pid_t pid = spawn_server(argv, port);
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
    char *saved = cfg.smtp_url;
    cfg.smtp_url = url;

    /* 1. the operator's test mail, rendered from templates/email/test.* */
    json_t *ctx = json_pack("{s:s, s:s}", "sent_at", "2026-11-24T10:00:00Z", "host", "web-1");
    mail_message m;
    assert_int_equal(mail_render("test", ctx, &m, err, sizeof err), 0);
    json_decref(ctx);
    char id[128];
    m.to = "ada@example.com";
    m.message_id = mail_message_id("mail-test:1", id, sizeof id);
    enum mail_result rc = mail_send(&m, err, sizeof err);
    if (rc != MAIL_SENT) fail_msg("mail_send: %d %s", rc, err);
    int count;
    char *eml = newest_eml(maildir, &count);
    assert_non_null(eml);
    assert_int_equal(count, 1);
    char *raw = read_file(eml);
    assert_non_null(raw);
    assert_non_null(strstr(raw, "X-Envelope-From: orders@shoease.test\r\n"));
    assert_non_null(strstr(raw, "X-Envelope-To: ada@example.com\r\n"));
    assert_non_null(strstr(raw, "\r\nSubject: Test mail from ShoEase\r\n"));
    assert_non_null(strstr(raw, "\r\nFrom: ShoEase <orders@shoease.test>\r\n"));
    assert_non_null(strstr(raw, "\r\nTo: ada@example.com\r\n"));
    char want[192];
    snprintf(want, sizeof want, "\r\nMessage-ID: %s\r\n", id);
    assert_non_null(strstr(raw, want));
    assert_non_null(strstr(raw, "\r\nDate: "));
    assert_non_null(strstr(raw, "+0000\r\n"));
    assert_non_null(strstr(raw, "\r\nMIME-Version: 1.0\r\n"));
    assert_null(strstr(raw, "Mime-Version"));              /* libcurl did not add a second one */
    assert_non_null(strstr(raw, "\r\nAuto-Submitted: auto-generated\r\n"));
    assert_non_null(strstr(raw, "Content-Type: multipart/alternative"));
    assert_non_null(strstr(raw, "Content-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(raw, "Content-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strstr(raw, "Content-Transfer-Encoding: quoted-printable\r\n"));
    assert_non_null(strstr(raw, "2026-11-24T10:00:00Z"));
    assert_true(strstr(raw, "text/plain") < strstr(raw, "text/html")); /* the preferred part last */
    free(raw);
    {
        char *py[] = {PYTHON, "-c", (char *)check_eml_py, eml, "Test mail from ShoEase", m.text, "Test mail</h1>", id,
                      NULL};
        assert_int_equal(run_wait(py), 0);
    }
    free(eml);
    mail_message_free(&m);

    /* 2. a hand-made message: non-ASCII subject and body, long lines, a line
     * starting with a dot, trailing spaces, CRLF and bare CR line ends. The
     * parser must give back the exact text (line ends as LF). */
    const char *subject = "Ihre Bestellung bei Schuh-M\xc3\xbcller: Gr\xc3\xb6\xc3\x9f" "e 42 \xe2\x9c\x93 \xe2\x80\x94 "
                          "danke sch\xc3\xb6n \xf0\x9f\x91\x9f, wir freuen uns auf Ihren n\xc3\xa4" "chsten Einkauf!";
    const char *text = "Gr\xc3\xbc\xc3\x9f" "e, Ad\xc3\xa4 \xf0\x9f\x91\x9f\n"
                       ".a line that starts with a dot\n"
                       ".\n"
                       "trailing spaces   \n"
                       "a long line: Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
                       "incididunt ut labore et dolore magna aliqua = 100% caf\xc3\xa9\r\n"
                       "crlf line\r\n"
                       "end\n";
    const char *text_lf = "Gr\xc3\xbc\xc3\x9f" "e, Ad\xc3\xa4 \xf0\x9f\x91\x9f\n"
                          ".a line that starts with a dot\n"
                          ".\n"
                          "trailing spaces   \n"
                          "a long line: Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
                          "incididunt ut labore et dolore magna aliqua = 100% caf\xc3\xa9\n"
                          "crlf line\n"
                          "end\n";
    mail_message m2 = {.subject = (char *)subject, .text = (char *)text,
                       .html = "<p>Gr\xc3\xbc\xc3\x9f" "e &amp; <b>danke</b></p>\n", .to = "bo@example.org",
                       .message_id = mail_message_id("mail-test:2", id, sizeof id)};
    rc = mail_send(&m2, err, sizeof err);
    if (rc != MAIL_SENT) fail_msg("mail_send: %d %s", rc, err);
    eml = newest_eml(maildir, &count);
    assert_int_equal(count, 2);
    raw = read_file(eml);
    assert_non_null(strstr(raw, "\r\nSubject: =?UTF-8?B?"));
    for (const char *p = raw; *p; p++) /* 7-bit on the wire: QP and encoded words */
        if ((unsigned char)*p >= 0x80) fail_msg("8-bit byte in the message at %td", p - raw);
    free(raw);
    {
        char *py[] = {PYTHON, "-c", (char *)check_eml_py, eml, (char *)subject, (char *)text_lf,
                      "<b>danke</b>", id, NULL};
        assert_int_equal(run_wait(py), 0);
    }
    free(eml);

    /* 3. a text-only message has no multipart/alternative */
    mail_message m3 = {.subject = "Plain", .text = "just text\n", .html = NULL, .to = "cy@example.net",
                       .message_id = NULL};   /* no key: a random id */
    rc = mail_send(&m3, err, sizeof err);
    if (rc != MAIL_SENT) fail_msg("mail_send: %d %s", rc, err);
    eml = newest_eml(maildir, &count);
    assert_int_equal(count, 3);
    raw = read_file(eml);
    assert_null(strstr(raw, "multipart/alternative"));
    assert_non_null(strstr(raw, "Content-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(raw, "\r\nMessage-ID: <"));
    free(raw);
    free(eml);

    /* 4. the server is gone: temporary */
    stop_server(pid);
    mail_message m4 = {.subject = "Again", .text = "x\n", .to = "ada@example.com", .message_id = id};
    double t0 = now_s();
    assert_int_equal(mail_send(&m4, err, sizeof err), MAIL_RETRY);
    assert_true(err[0] != '\0');
    assert_true(now_s() - t0 < 5.0);

    cfg.smtp_url = saved;
}

/* A scripted SMTP server: RCPT with "reject" in it gets 550, with "later"
 * 451; a message to a "spam" recipient is refused after DATA with 554. */
static const char *fake_smtp_py =
    "import socketserver, sys\n"
    "class H(socketserver.StreamRequestHandler):\n"
    "    def w(self, s):\n"
    "        self.wfile.write((s + '\\r\\n').encode()); self.wfile.flush()\n"
    "    def handle(self):\n"
    "        self.w('220 fake ESMTP'); spam = False\n"
    "        while True:\n"
    "            line = self.rfile.readline()\n"
    "            if not line: return\n"
    "            cmd = line.decode('ascii', 'replace').strip(); u = cmd.upper()\n"
    "            if u.startswith('EHLO') or u.startswith('HELO'): self.w('250 fake')\n"
    "            elif u.startswith('MAIL'): self.w('250 2.1.0 OK')\n"
    "            elif u.startswith('RCPT'):\n"
    "                if 'reject' in cmd: self.w('550 5.1.1 <reject@example.com>: no such user')\n"
    "                elif 'later' in cmd: self.w('451 4.7.1 greylisted, try again later')\n"
    "                else:\n"
    "                    spam = 'spam' in cmd; self.w('250 2.1.5 OK')\n"
    "            elif u == 'DATA':\n"
    "                self.w('354 go ahead')\n"
    "                while True:\n"
    "                    l = self.rfile.readline()\n"
    "                    if not l or l in (b'.\\r\\n', b'.\\n'): break\n"
    "                self.w('554 5.7.1 message refused as spam' if spam else '250 2.0.0 queued')\n"
    "            elif u.startswith('QUIT'):\n"
    "                self.w('221 bye'); return\n"
    "            else: self.w('502 5.5.2 not implemented')\n"
    "class S(socketserver.ThreadingTCPServer):\n"
    "    allow_reuse_address = True\n"
    "    daemon_threads = True\n"
    "S(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";

static void test_send_smtp_codes(void **state)
{
    (void)state;
    int port = free_port();
    char portstr[16], url[64], err[512], id[128];
    snprintf(portstr, sizeof portstr, "%d", port);
    char *argv[] = {PYTHON, "-c", (char *)fake_smtp_py, portstr, NULL};
    pid_t pid = spawn_server(argv, port);
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
    char *saved = cfg.smtp_url;
    cfg.smtp_url = url;
    mail_message m = {.subject = "Codes", .text = "x\n", .html = "<p>x</p>\n", .to = "ok@example.com",
                      .message_id = mail_message_id("codes", id, sizeof id)};
    enum mail_result rc = mail_send(&m, err, sizeof err);
    if (rc != MAIL_SENT) fail_msg("mail_send: %d %s", rc, err);

    m.to = "reject@example.com";
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_REJECTED);
    assert_non_null(strstr(err, "550"));
    assert_non_null(strstr(err, "no such user"));   /* the server's reason */

    m.to = "later@example.com";
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_RETRY);
    assert_non_null(strstr(err, "451"));
    assert_non_null(strstr(err, "greylisted"));

    m.to = "spam@example.com";
    assert_int_equal(mail_send(&m, err, sizeof err), MAIL_REJECTED);
    assert_non_null(strstr(err, "554"));

    stop_server(pid);
    cfg.smtp_url = saved;
}

/* ---- SMS ---- */

static void test_sms_number_valid(void **state)
{
    (void)state;
    const char *good[] = {"+447700900123", "+12025550123", "+12345678", "+123456789012345", "+4915112345678"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!sms_number_valid(good[i])) fail_msg("should be valid: %s", good[i]);
    const char *bad[] = {"", "+", "447700900123", "+1234567", "+1234567890123456", "+0447700900123",
                         "+44 7700 900123", "+44-7700-900123", "+44770090012a", "++447700900123",
                         "+447700900123\n", "00447700900123", "+\xd9\xa4\xd9\xa4\xd9\xa4\xd9\xa4\xd9\xa4"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (sms_number_valid(bad[i])) fail_msg("should be invalid: %s", bad[i]);
    assert_false(sms_number_valid(NULL));
}

static void test_sms_log(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/var/outbox/sms.log", dir);   /* parents do not exist yet */
    char *saved_path = cfg.sms_log_path, *saved_provider = cfg.sms_provider;
    cfg.sms_log_path = path;
    cfg.sms_provider = "log";
    assert_non_null(sms_current());
    assert_string_equal(sms_current()->name, "log");

    assert_int_equal(sms_send("+447700900123", "Your ShoEase code is 123456", "otp:42:1", err, sizeof err), SMS_SENT);
    assert_int_equal(sms_send("+12025550123", "Caf\xc3\xa9 \"quoted\"\nline \xf0\x9f\x91\x9f", "otp:43:1", err,
                              sizeof err), SMS_SENT);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);   /* codes are secrets */

    /* refused before the provider: nothing written */
    assert_int_equal(sms_send("07700900123", "x", "k1", err, sizeof err), SMS_REJECTED);
    assert_int_equal(sms_send("+447700900123", "", "k2", err, sizeof err), SMS_REJECTED);
    assert_int_equal(sms_send("+447700900123", NULL, "k2", err, sizeof err), SMS_REJECTED);
    assert_int_equal(sms_send("+447700900123", "bad \xc3", "k3", err, sizeof err), SMS_REJECTED);
    assert_int_equal(sms_send("+447700900123", "x", "bad key", err, sizeof err), SMS_REJECTED);
    assert_int_equal(sms_send("+447700900123", "x", "k\r\nX: y", err, sizeof err), SMS_REJECTED);
    assert_int_equal(sms_send("+447700900123", "x", "", err, sizeof err), SMS_REJECTED);
    char body[1602];
    memset(body, 'a', 1601);
    body[1601] = '\0';
    assert_int_equal(sms_send("+447700900123", body, "k4", err, sizeof err), SMS_REJECTED);
    body[1600] = '\0';                        /* exactly 1600 bytes: fine */
    assert_int_equal(sms_send("+447700900123", body, "k5", err, sizeof err), SMS_SENT);

    char *text = read_file(path);
    assert_non_null(text);
    json_t *lines[3];
    int n = 0;
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        assert_true(n < 3);
        lines[n] = json_loadb(line, (size_t)(nl - line), JSON_REJECT_DUPLICATES, NULL);
        assert_non_null(lines[n]);
        n++;
    }
    assert_int_equal(n, 3);
    assert_string_equal(json_string_value(json_object_get(lines[0], "to")), "+447700900123");
    assert_string_equal(json_string_value(json_object_get(lines[0], "from")), "ShoEase");
    assert_string_equal(json_string_value(json_object_get(lines[0], "body")), "Your ShoEase code is 123456");
    assert_string_equal(json_string_value(json_object_get(lines[0], "key")), "otp:42:1");
    const char *when = json_string_value(json_object_get(lines[0], "time"));
    assert_non_null(when);
    assert_int_equal(strlen(when), strlen("2026-11-24T10:00:00.000Z"));
    assert_true(when[4] == '-' && when[10] == 'T' && when[strlen(when) - 1] == 'Z');
    assert_string_equal(json_string_value(json_object_get(lines[1], "body")),
                        "Caf\xc3\xa9 \"quoted\"\nline \xf0\x9f\x91\x9f");
    assert_int_equal(strlen(json_string_value(json_object_get(lines[2], "body"))), 1600);
    for (int i = 0; i < n; i++) json_decref(lines[i]);
    free(text);

    /* an unwritable place: temporary, with the reason */
    cfg.sms_log_path = "/proc/no-such-dir/sms.log";
    assert_int_equal(sms_send("+447700900123", "x", "k6", err, sizeof err), SMS_RETRY);
    assert_true(err[0] != '\0');

    cfg.sms_log_path = saved_path;
    cfg.sms_provider = saved_provider;
}

/* A gateway stand-in: POST /<status> answers <status> with a JSON body and
 * appends the request (path, headers, body) as a JSON line to a file. */
static const char *gateway_py =
    "import json, sys\n"
    "from http.server import BaseHTTPRequestHandler, HTTPServer\n"
    "port, log = int(sys.argv[1]), sys.argv[2]\n"
    "class H(BaseHTTPRequestHandler):\n"
    "    def do_POST(self):\n"
    "        body = self.rfile.read(int(self.headers.get('Content-Length', 0))).decode()\n"
    "        with open(log, 'a') as f:\n"
    "            f.write(json.dumps({'path': self.path, 'headers': dict(self.headers), 'body': body}) + '\\n')\n"
    "        status = int(self.path.strip('/'))\n"
    "        out = json.dumps({'code': status, 'message': 'gateway says %d\\nplease ' % status + 'x' * 400}).encode()\n"
    "        self.send_response(status)\n"
    "        self.send_header('Content-Type', 'application/json')\n"
    "        self.send_header('Content-Length', str(len(out)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(out)\n"
    "    def log_message(self, *a): pass\n"
    "HTTPServer(('127.0.0.1', port), H).serve_forever()\n";

static void test_sms_http(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char log[256], portstr[16], url[96], err[512];
    snprintf(log, sizeof log, "%s/requests.jsonl", dir);
    int port = free_port();
    snprintf(portstr, sizeof portstr, "%d", port);
    char *argv[] = {PYTHON, "-c", (char *)gateway_py, portstr, log, NULL};
    pid_t pid = spawn_server(argv, port);

    char *saved[] = {cfg.sms_provider, cfg.sms_gateway_url, cfg.sms_account_sid, cfg.sms_auth_token};
    cfg.sms_provider = "http";
    cfg.sms_account_sid = "AC123";
    cfg.sms_auth_token = "s3cret";
    assert_string_equal(sms_current()->name, "http");

    const char *body = "Your code is 123456 & caf\xc3\xa9+more=yes";
    struct { int status; enum sms_result want; } cases[] = {
        {201, SMS_SENT}, {200, SMS_SENT}, {429, SMS_RETRY}, {500, SMS_RETRY},
        {503, SMS_RETRY}, {400, SMS_REJECTED}, {404, SMS_REJECTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d/%d", port, cases[i].status);
        cfg.sms_gateway_url = url;
        err[0] = '\0';
        enum sms_result rc = sms_send("+447700900123", body, "otp:42:1", err, sizeof err);
        if (rc != cases[i].want) fail_msg("HTTP %d: got %d (%s)", cases[i].status, rc, err);
        if (cases[i].want != SMS_SENT) {
            char code[16];
            snprintf(code, sizeof code, "%d", cases[i].status);
            assert_non_null(strstr(err, code));
            assert_non_null(strstr(err, "gateway says"));   /* the gateway's answer ... */
            assert_null(strchr(err, '\n'));                  /* ... on one line ... */
            assert_true(strlen(err) < 260);                  /* ... and cut */
        }
    }
    stop_server(pid);

    /* what the gateway saw */
    char *text = read_file(log);
    assert_non_null(text);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    json_t *req = json_loadb(text, (size_t)(nl - text), 0, NULL);
    assert_non_null(req);
    assert_string_equal(json_string_value(json_object_get(req, "path")), "/201");
    assert_string_equal(json_string_value(json_object_get(req, "body")),
                        "To=%2B447700900123&From=ShoEase&Body=Your%20code%20is%20123456%20%26%20caf%C3%A9%2Bmore%3Dyes");
    json_t *h = json_object_get(req, "headers");
    /* base64("AC123:s3cret") */
    assert_string_equal(json_string_value(json_object_get(h, "Authorization")), "Basic QUMxMjM6czNjcmV0");
    assert_string_equal(json_string_value(json_object_get(h, "I-Twilio-Idempotency-Token")), "otp:42:1");
    assert_string_equal(json_string_value(json_object_get(h, "Idempotency-Key")), "otp:42:1");
    assert_string_equal(json_string_value(json_object_get(h, "Content-Type")), "application/x-www-form-urlencoded");
    assert_null(json_object_get(h, "Expect"));
    json_decref(req);
    free(text);

    /* the gateway is gone: temporary */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/201", port);
    cfg.sms_gateway_url = url;
    assert_int_equal(sms_send("+447700900123", body, "otp:42:2", err, sizeof err), SMS_RETRY);
    assert_true(err[0] != '\0');
    /* not an http(s) address: configuration, temporary */
    cfg.sms_gateway_url = "file:///etc/passwd";
    assert_int_equal(sms_send("+447700900123", body, "otp:42:3", err, sizeof err), SMS_RETRY);

    cfg.sms_provider = saved[0];
    cfg.sms_gateway_url = saved[1];
    cfg.sms_account_sid = saved[2];
    cfg.sms_auth_token = saved[3];
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    cfg.template_dir = SOURCE_ROOT "/templates";
    cfg.site_name = "ShoEase";
    cfg.public_url = "https://shop.example.com:8443";
    cfg.smtp_url = "smtp://127.0.0.1:1";
    cfg.mail_from = "ShoEase <orders@shoease.test>";
    cfg.smtp_username = "";
    cfg.smtp_password = "";
    cfg.smtp_ca_file = "";
    cfg.sms_provider = "log";
    cfg.sms_log_path = "/nonexistent/sms.log";
    cfg.sms_gateway_url = "";
    cfg.sms_account_sid = "";
    cfg.sms_auth_token = "";
    cfg.sms_from = "ShoEase";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_render_own_dir, cleanup), /* first: see child_render_dir */
        cmocka_unit_test_teardown(test_address_valid, cleanup),
        cmocka_unit_test_teardown(test_message_id, cleanup),
        cmocka_unit_test_teardown(test_encode_subject, cleanup),
        cmocka_unit_test_teardown(test_render_test_mail, cleanup),
        cmocka_unit_test_teardown(test_header_injection, cleanup),
        cmocka_unit_test_teardown(test_send_smtp_sink, cleanup),
        cmocka_unit_test_teardown(test_send_smtp_codes, cleanup),
        cmocka_unit_test_teardown(test_sms_number_valid, cleanup),
        cmocka_unit_test_teardown(test_sms_log, cleanup),
        cmocka_unit_test_teardown(test_sms_http, cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
