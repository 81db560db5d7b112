/* test_twofactor.c — second factors: TOTP against RFC 6238's SHA-1 test
 * vectors (the window, replays, malformed codes), base32 and the otpauth://
 * URI, sealing of secrets, the enrolment QR code, recovery codes; and the
 * SMS one-time codes (shop/otp.c) against a real redis-server started here
 * (used once, tries, cool-down, subjects kept apart, racing checks). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/buf.h"
#include "core/config.h"
#include "durable/durable.h"
#include "shop/otp.h"
#include "shop/twofactor.h"

static const unsigned char rfc_secret[TOTP_SECRET_BYTES] = "12345678901234567890";

/* ---------- TOTP ---------- */

static const struct {
    time_t t;
    const char *code;   /* the last 6 digits of RFC 6238's 8-digit SHA-1 vector */
} vectors[] = {
    {59, "287082"},         {1111111109, "081804"}, {1111111111, "050471"},
    {1234567890, "005924"}, {2000000000, "279037"},
};

static void test_totp_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        char code[7];
        assert_int_equal(totp_code_at(rfc_secret, vectors[i].t, code), 0);
        assert_string_equal(code, vectors[i].code);
        long long step = vectors[i].t / 30;
        /* at its own time, and one step either side */
        assert_int_equal(totp_check(rfc_secret, vectors[i].code, vectors[i].t, -1), step);
        assert_int_equal(totp_check(rfc_secret, vectors[i].code, vectors[i].t + 30, -1), step);
        assert_int_equal(totp_check(rfc_secret, vectors[i].code, vectors[i].t - 30, -1), step);
        /* two steps away: refused */
        assert_int_equal(totp_check(rfc_secret, vectors[i].code, vectors[i].t + 60, -1), -1);
        assert_int_equal(totp_check(rfc_secret, vectors[i].code, vectors[i].t - 60, -1), -1);
        /* a replay: the step was used already */
        assert_int_equal(totp_check(rfc_secret, vectors[i].code, vectors[i].t, step), -1);
        assert_int_equal(totp_check(rfc_secret, vectors[i].code, vectors[i].t + 30, step + 1), -1);
        /* the previous step used: this one is still fine */
        assert_int_equal(totp_check(rfc_secret, vectors[i].code, vectors[i].t, step - 1), step);
    }
}

static void test_totp_input(void **state)
{
    (void)state;
    time_t t = 1111111111;
    assert_int_equal(totp_check(rfc_secret, "050 471", t, -1), t / 30);
    assert_int_equal(totp_check(rfc_secret, " 050471 ", t, -1), t / 30);
    const char *bad[] = {"12345", "1234567", "12a456", "", "05047", "0504711", "050-471", "050471\n",
                         "\xef\xbc\x90" "50471", "+50471", "-50471", "05O471"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(totp_check(rfc_secret, bad[i], t, -1), -1);
    assert_int_equal(totp_check(rfc_secret, NULL, t, -1), -1);
    /* a wrong code of the right shape */
    assert_int_equal(totp_check(rfc_secret, "050472", t, -1), -1);
    /* a fresh secret's current code is accepted at now */
    unsigned char s[TOTP_SECRET_BYTES];
    totp_new_secret(s);
    char code[7];
    time_t now = time(NULL);
    assert_int_equal(totp_code_at(s, now, code), 0);
    assert_int_equal(strlen(code), 6);
    assert_int_equal(totp_check(s, code, now, -1), now / 30);
}

/* ---------- base32, URI ---------- */

static void test_base32_uri(void **state)
{
    (void)state;
    char b[64];
    assert_int_equal(totp_base32(rfc_secret, 0, b, sizeof b), 0);
    assert_string_equal(b, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_int_equal(totp_base32(rfc_secret, 1, b, sizeof b), 0);
    assert_string_equal(b, "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
    /* exactly enough room, and one byte short */
    assert_int_equal(totp_base32(rfc_secret, 0, b, 33), 0);
    assert_int_equal(totp_base32(rfc_secret, 0, b, 32), -1);
    assert_int_equal(totp_base32(rfc_secret, 1, b, 40), 0);
    assert_int_equal(totp_base32(rfc_secret, 1, b, 39), -1);

    char uri[300];
    assert_int_equal(totp_uri(rfc_secret, "Shoe Ease", "ada+shoes@example.com", uri, sizeof uri), 0);
    assert_string_equal(uri, "otpauth://totp/Shoe%20Ease:ada%2Bshoes%40example.com"
                             "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Shoe%20Ease"
                             "&algorithm=SHA1&digits=6&period=30");
    assert_int_equal(totp_uri(rfc_secret, "A:B", "x&y=z", uri, sizeof uri), 0);
    assert_non_null(strstr(uri, "/A%3AB:x%26y%3Dz?"));
    assert_int_equal(totp_uri(rfc_secret, "ShoEase", "a-b_c.d~e", uri, sizeof uri), 0);
    assert_non_null(strstr(uri, "/ShoEase:a-b_c.d~e?"));
    /* too small: -1, and nothing of the secret left behind */
    char small[60];
    assert_int_equal(totp_uri(rfc_secret, "ShoEase", "ada@example.com", small, sizeof small), -1);
    assert_string_equal(small, "");
    assert_int_equal(totp_uri(rfc_secret, NULL, "a", uri, sizeof uri), -1);
    assert_int_equal(totp_uri(rfc_secret, "a", NULL, uri, sizeof uri), -1);
}

/* ---------- sealing ---------- */

static void test_seal(void **state)
{
    (void)state;
    unsigned char s[TOTP_SECRET_BYTES], back[TOTP_SECRET_BYTES], sealed[TOTP_SEALED_MAX];
    totp_new_secret(s);
    long n = totp_seal(s, sealed, sizeof sealed);
    assert_true(n > TOTP_SECRET_BYTES && n <= TOTP_SEALED_MAX);
    assert_int_equal(totp_open(sealed, (size_t)n, back), 0);
    assert_memory_equal(s, back, sizeof s);
    /* two seals of the same secret differ (random nonce) */
    unsigned char sealed2[TOTP_SEALED_MAX];
    assert_int_equal(totp_seal(s, sealed2, sizeof sealed2), n);
    assert_memory_not_equal(sealed, sealed2, (size_t)n);
    /* every tampered byte is caught */
    for (long i = 0; i < n; i++) {
        sealed[i] ^= 0x01;
        assert_int_equal(totp_open(sealed, (size_t)n, back), -1);
        sealed[i] ^= 0x01;
    }
    assert_int_equal(totp_open(sealed, (size_t)n - 1, back), -1);
    assert_int_equal(totp_open(sealed, 0, back), -1);
    /* too small a buffer to seal into */
    assert_int_equal(totp_seal(s, sealed2, 20), -1);
    /* another SECRET_KEY */
    char *saved = cfg.secret_key;
    cfg.secret_key = "another-secret-key-entirely-0123456789";
    assert_int_equal(totp_open(sealed, (size_t)n, back), -1);
    cfg.secret_key = saved;
    assert_int_equal(totp_open(sealed, (size_t)n, back), 0);
    assert_memory_equal(s, back, sizeof s);
}

/* ---------- QR ---------- */

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
    return n;
}

static void test_qr_svg(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    buf_puts(&b, "<p>");   /* appends */
    assert_int_equal(qr_svg("hello", &b), 0);
    const char *s = buf_cstr(&b);
    assert_true(strncmp(s, "<p><svg xmlns=\"http://www.w3.org/2000/svg\" ", 43) == 0);
    assert_non_null(strstr(s, "viewBox=\"0 0 29 29\""));
    assert_non_null(strstr(s, "width=\"145\" height=\"145\""));
    assert_non_null(strstr(s, "shape-rendering=\"crispEdges\""));
    assert_non_null(strstr(s, "role=\"img\""));
    assert_non_null(strstr(s, "aria-label=\""));
    assert_non_null(strstr(s, "<rect width=\"29\" height=\"29\" fill=\"#fff\"/>"));
    assert_int_equal(count(s, "<path"), 1);
    assert_int_equal(count(s, "<svg"), 1);
    size_t len = strlen(s);
    assert_true(len > 9 && strcmp(s + len - 9, "\"/></svg>") == 0);
    /* the top-left finder pattern: a 7-module dark run at the quiet zone's corner */
    assert_non_null(strstr(s, "d=\"M4 4h7v1h-7z"));
    /* every dark run lies inside the symbol */
    const char *p = strstr(s, "d=\"") + 3;
    int runs = 0;
    while (*p == 'M') {
        int x, y, w, w2, used;
        assert_int_equal(sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &w, &w2, &used), 4);
        assert_int_equal(w, w2);
        assert_true(x >= 4 && y >= 4 && w >= 1 && x + w <= 25 && y < 25);
        p += used;
        runs++;
    }
    assert_true(runs > 21);
    assert_true(*p == '"');
    buf_free(&b);

    /* a real enrolment URI: a larger version, still one path */
    char uri[300];
    assert_int_equal(totp_uri(rfc_secret, "ShoEase", "ada@example.com", uri, sizeof uri), 0);
    assert_int_equal(qr_svg(uri, &b), 0);
    int n = 0;
    assert_int_equal(sscanf(buf_cstr(&b), "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d", &n), 1);
    assert_true(n > 29 && (n - 8 - 17) % 4 == 0);   /* 17 + 4·version modules + the quiet zone */
    assert_int_equal(count(buf_cstr(&b), "<path"), 1);
    buf_free(&b);

    /* too long for any QR code */
    char *big = malloc(8000);
    memset(big, 'x', 7999);
    big[7999] = '\0';
    assert_int_equal(qr_svg(big, &b), -1);
    free(big);
    buf_free(&b);
}

/* ---------- recovery codes ---------- */

static void test_recovery_codes(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        char codes[RECOVERY_CODES][RECOVERY_CODE_CHARS];
        recovery_codes_new(codes);
        for (int i = 0; i < RECOVERY_CODES; i++) {
            assert_int_equal(strlen(codes[i]), 11);
            for (int k = 0; k < 11; k++) {
                char c = codes[i][k];
                if (k == 5) assert_int_equal(c, '-');
                else assert_true((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'));
            }
            for (int j = 0; j < i; j++) assert_string_not_equal(codes[i], codes[j]);
            char norm[11];
            assert_int_equal(recovery_code_normalise(codes[i], norm), 0);
            assert_int_equal(strlen(norm), 10);
            assert_memory_equal(norm, codes[i], 5);
            assert_memory_equal(norm + 5, codes[i] + 6, 5);
        }
    }
    char out[11];
    assert_int_equal(recovery_code_normalise("ABCDE-FGH23", out), 0);
    assert_string_equal(out, "abcdefgh23");
    assert_int_equal(recovery_code_normalise(" abcde fgh23 ", out), 0);
    assert_string_equal(out, "abcdefgh23");
    assert_int_equal(recovery_code_normalise("a-b-c-d-e-f-g-h-2-3", out), 0);
    assert_string_equal(out, "abcdefgh23");
    const char *bad[] = {"",           "abcde-fgh2",   "abcde-fgh234", "abcde-fgh01", "abcde-fgh18",
                         "abcde_fgh23", "abcde\tfgh23", "abcdé-fgh2",   "abcde-fgh2=", "-----------"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(recovery_code_normalise(bad[i], out), -1);
        assert_string_equal(out, "");
    }
    assert_int_equal(recovery_code_normalise(NULL, out), -1);
}

/* ---------- a real redis-server for otp ---------- */

#define OTP_SUBJECT_LIMIT_TEST 100 /* otp.c refuses longer subjects */

static pid_t redis_pid;
static char redis_bin[512];

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int find_redis(void)
{
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:/usr/bin:/usr/local/bin:/usr/sbin", path ? path : "");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(redis_bin, sizeof redis_bin, "%s/redis-server", d);
        if (access(redis_bin, X_OK) == 0) return 0;
    }
    return -1;
}

static void stop_redis(void)
{
    if (redis_pid <= 0) return;
    durable_thread_close();
    kill(redis_pid, SIGTERM);
    for (int i = 0; i < 100; i++) {   /* up to 5 s, then kill */
        if (waitpid(redis_pid, NULL, WNOHANG) == redis_pid) {
            redis_pid = 0;
            return;
        }
        usleep(50 * 1000);
    }
    kill(redis_pid, SIGKILL);
    waitpid(redis_pid, NULL, 0);
    redis_pid = 0;
}

static int start_redis(void **state)
{
    (void)state;
    if (find_redis() < 0) {
        fprintf(stderr, "test_twofactor: redis-server is not installed (apt-get install redis-server): "
                        "the otp tests need a real one\n");
        return -1;
    }
    int port = free_port();
    if (port < 0) return -1;
    char portstr[16], pw[33];
    snprintf(portstr, sizeof portstr, "%d", port);
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(pw, sizeof pw, rnd, sizeof rnd);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive a crashed test */
        if (getppid() != parent) _exit(127);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDOUT_FILENO);
        char *argv[] = {redis_bin, "--port", portstr, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                        "--requirepass", pw, "--daemonize", "no", NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    redis_pid = pid;
    static char url[128];
    snprintf(url, sizeof url, "redis://:%s@127.0.0.1:%d/0", pw, port);
    cfg.queue_redis_url = url;
    for (int i = 0; i < 200; i++) {   /* up to 10 s */
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            redis_pid = 0;
            fprintf(stderr, "test_twofactor: %s exited before answering\n", redis_bin);
            return -1;
        }
        /* the client reconnects at most every 250 ms per thread */
        if (durable_ping() == 0) return 0;
        usleep(100 * 1000);
    }
    fprintf(stderr, "test_twofactor: redis-server on port %d did not answer PING: %s\n", port, durable_last_error());
    stop_redis();
    return -1;
}

static int end_redis(void **state)
{
    (void)state;
    stop_redis();
    return 0;
}

/* ---------- otp ---------- */

static void fresh_subject(char *out, size_t len, const char *what)
{
    static int n;
    snprintf(out, len, "test-%s:%d:%d", what, (int)getpid(), ++n);
}

static void assert_code(const char *code)
{
    assert_int_equal(strlen(code), OTP_DIGITS);
    for (int i = 0; i < OTP_DIGITS; i++) assert_true(code[i] >= '0' && code[i] <= '9');
}

/* Any 6-digit code other than code. */
static void wrong_code(const char *code, char out[OTP_DIGITS + 1])
{
    memcpy(out, code, OTP_DIGITS + 1);
    out[5] = (char)(out[5] == '9' ? '0' : out[5] + 1);
}

static void test_otp_used_once(void **state)
{
    (void)state;
    char subject[64], code[OTP_DIGITS + 1];
    int wait = -5;
    fresh_subject(subject, sizeof subject, "once");
    assert_int_equal(otp_issue(subject, code, &wait), OTP_OK);
    assert_code(code);
    assert_int_equal(wait, 0);

    /* what is stored: a keyed hash, not the code; TTLs on both keys */
    redisReply *r = durable_cmd(NULL, "HGETALL otp:%s", subject);
    assert_non_null(r);
    assert_int_equal(r->elements, 4);
    for (size_t i = 0; i < r->elements; i++) assert_null(strstr(r->element[i]->str, code));
    freeReplyObject(r);
    r = durable_cmd(NULL, "HGET otp:%s h", subject);
    assert_non_null(r);
    assert_int_equal(r->len, 64);
    freeReplyObject(r);
    r = durable_cmd(NULL, "TTL otp:%s", subject);
    assert_true(r->integer > OTP_TTL_SECONDS - 5 && r->integer <= OTP_TTL_SECONDS);
    freeReplyObject(r);
    r = durable_cmd(NULL, "TTL otp:cool:%s", subject);
    assert_true(r->integer > OTP_RESEND_SECONDS - 5 && r->integer <= OTP_RESEND_SECONDS);
    freeReplyObject(r);

    char spaced[16];
    snprintf(spaced, sizeof spaced, "%.3s %.3s", code, code + 3);
    assert_int_equal(otp_check(subject, spaced), OTP_OK);
    assert_int_equal(otp_check(subject, code), OTP_EXPIRED);
    r = durable_cmd(NULL, "EXISTS otp:%s", subject);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);

    /* never issued */
    fresh_subject(subject, sizeof subject, "never");
    assert_int_equal(otp_check(subject, "123456"), OTP_EXPIRED);
}

static void test_otp_tries(void **state)
{
    (void)state;
    char subject[64], code[OTP_DIGITS + 1], wrong[OTP_DIGITS + 1];
    int wait;
    /* four wrong, then the right one on the last try */
    fresh_subject(subject, sizeof subject, "tries");
    assert_int_equal(otp_issue(subject, code, &wait), OTP_OK);
    wrong_code(code, wrong);
    for (int i = 0; i < OTP_MAX_TRIES - 1; i++) assert_int_equal(otp_check(subject, wrong), OTP_WRONG);
    assert_int_equal(otp_check(subject, code), OTP_OK);
    assert_int_equal(otp_check(subject, code), OTP_EXPIRED);

    /* five wrong: gone, even for the right code */
    fresh_subject(subject, sizeof subject, "toomany");
    assert_int_equal(otp_issue(subject, code, &wait), OTP_OK);
    wrong_code(code, wrong);
    for (int i = 0; i < OTP_MAX_TRIES - 1; i++) assert_int_equal(otp_check(subject, wrong), OTP_WRONG);
    assert_int_equal(otp_check(subject, wrong), OTP_TOO_MANY);
    assert_int_equal(otp_check(subject, code), OTP_EXPIRED);

    /* malformed input spends no try */
    fresh_subject(subject, sizeof subject, "malformed");
    assert_int_equal(otp_issue(subject, code, &wait), OTP_OK);
    const char *bad[] = {"", "12345", "1234567", "12a456", "12-456", "１２３４５６", NULL};
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(otp_check(subject, bad[i]), OTP_WRONG);
    redisReply *r = durable_cmd(NULL, "HGET otp:%s tries", subject);
    assert_non_null(r);
    assert_string_equal(r->str, "5");
    freeReplyObject(r);
    assert_int_equal(otp_check(subject, code), OTP_OK);
}

static void test_otp_cooldown(void **state)
{
    (void)state;
    char subject[64], code[OTP_DIGITS + 1], code2[OTP_DIGITS + 1];
    int wait = -5;
    fresh_subject(subject, sizeof subject, "cool");
    assert_int_equal(otp_issue(subject, code, &wait), OTP_OK);
    assert_int_equal(otp_issue(subject, code2, &wait), OTP_COOLDOWN);
    assert_string_equal(code2, "");
    assert_true(wait >= 1 && wait <= OTP_RESEND_SECONDS);
    /* the first code still works */
    assert_int_equal(otp_check(subject, code), OTP_OK);
    assert_int_equal(otp_issue(subject, code2, NULL), OTP_COOLDOWN);

    /* almost over: rounded up, at least 1 s */
    redisReply *r = durable_cmd(NULL, "PEXPIRE otp:cool:%s 300", subject);
    freeReplyObject(r);
    assert_int_equal(otp_issue(subject, code2, &wait), OTP_COOLDOWN);
    assert_int_equal(wait, 1);
    /* over: a new code replaces any old one */
    r = durable_cmd(NULL, "DEL otp:cool:%s", subject);
    freeReplyObject(r);
    assert_int_equal(otp_issue(subject, code, &wait), OTP_OK);
    r = durable_cmd(NULL, "DEL otp:cool:%s", subject);
    freeReplyObject(r);
    assert_int_equal(otp_issue(subject, code2, &wait), OTP_OK);
    if (strcmp(code, code2) != 0) assert_int_equal(otp_check(subject, code), OTP_WRONG);
    assert_int_equal(otp_check(subject, code2), OTP_OK);

    /* a cool-down key that lost its TTL does not block for ever */
    fresh_subject(subject, sizeof subject, "cool-nottl");
    r = durable_cmd(NULL, "SET otp:cool:%s 1", subject);
    freeReplyObject(r);
    assert_int_equal(otp_issue(subject, code, &wait), OTP_COOLDOWN);
    assert_int_equal(wait, OTP_RESEND_SECONDS);
    r = durable_cmd(NULL, "TTL otp:cool:%s", subject);
    assert_true(r->integer > 0);
    freeReplyObject(r);
}

static void test_otp_subjects(void **state)
{
    (void)state;
    char a[64], b[64], code_a[OTP_DIGITS + 1], code_b[OTP_DIGITS + 1];
    int wait;
    fresh_subject(a, sizeof a, "subject-a");
    fresh_subject(b, sizeof b, "subject-b");
    assert_int_equal(otp_issue(a, code_a, &wait), OTP_OK);
    assert_int_equal(otp_issue(b, code_b, &wait), OTP_OK);
    if (strcmp(code_a, code_b) != 0) assert_int_equal(otp_check(b, code_a), OTP_WRONG);
    /* even a hash copied over is bound to its subject */
    redisReply *r = durable_cmd(NULL, "HGET otp:%s h", a);
    assert_non_null(r);
    redisReply *w = durable_cmd(NULL, "HSET otp:%s h %s", b, r->str);
    freeReplyObject(r);
    freeReplyObject(w);
    assert_int_equal(otp_check(b, code_a), OTP_WRONG);
    assert_int_equal(otp_check(a, code_a), OTP_OK);

    /* subjects the app would never make */
    char code[OTP_DIGITS + 1];
    char longest[OTP_SUBJECT_LIMIT_TEST + 2];
    memset(longest, 's', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    assert_int_equal(otp_issue(longest, code, &wait), OTP_STORE_ERROR);
    assert_int_equal(otp_check(longest, "123456"), OTP_STORE_ERROR);
    longest[OTP_SUBJECT_LIMIT_TEST] = '\0';   /* 100: fine */
    r = durable_cmd(NULL, "DEL otp:cool:%s", longest);
    freeReplyObject(r);
    assert_int_equal(otp_issue(longest, code, &wait), OTP_OK);
    assert_int_equal(otp_check(longest, code), OTP_OK);
    const char *bad[] = {"", "a\nb", "tab\there", "caf\xc3\xa9", "nul-free\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(otp_issue(bad[i], code, &wait), OTP_STORE_ERROR);
        assert_int_equal(otp_check(bad[i], "123456"), OTP_STORE_ERROR);
    }
    assert_int_equal(otp_issue(NULL, code, &wait), OTP_STORE_ERROR);
    assert_int_equal(otp_check(NULL, "123456"), OTP_STORE_ERROR);
}

/* Racing checks, each thread with its own connection. */
struct racer {
    const char *subject;
    const char *typed;
    pthread_barrier_t *go;
    otp_result res;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->go);
    r->res = otp_check(r->subject, r->typed);
    durable_thread_close();
    return NULL;
}

#define RACERS 12

static void run_race(const char *subject, const char *typed, int counts[5])
{
    pthread_t t[RACERS];
    struct racer rs[RACERS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        rs[i] = (struct racer){.subject = subject, .typed = typed, .go = &go, .res = OTP_STORE_ERROR};
        assert_int_equal(pthread_create(&t[i], NULL, race, &rs[i]), 0);
    }
    for (int i = 0; i < RACERS; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    memset(counts, 0, 5 * sizeof counts[0]);
    for (int i = 0; i < RACERS; i++) {
        assert_true(rs[i].res >= OTP_OK && rs[i].res <= OTP_COOLDOWN);
        counts[rs[i].res]++;
    }
}

static void test_otp_races(void **state)
{
    (void)state;
    char subject[64], code[OTP_DIGITS + 1], wrong[OTP_DIGITS + 1];
    int wait, counts[5];
    /* the right code, twelve times at once: used exactly once */
    fresh_subject(subject, sizeof subject, "race-right");
    assert_int_equal(otp_issue(subject, code, &wait), OTP_OK);
    run_race(subject, code, counts);
    assert_int_equal(counts[OTP_OK], 1);
    assert_int_equal(counts[OTP_OK] + counts[OTP_EXPIRED], RACERS);

    /* twelve guesses at once: at most OTP_MAX_TRIES are ever compared */
    fresh_subject(subject, sizeof subject, "race-wrong");
    assert_int_equal(otp_issue(subject, code, &wait), OTP_OK);
    wrong_code(code, wrong);
    run_race(subject, wrong, counts);
    assert_int_equal(counts[OTP_OK], 0);
    assert_int_equal(counts[OTP_WRONG], OTP_MAX_TRIES - 1);
    assert_int_equal(counts[OTP_TOO_MANY], 1);
    assert_int_equal(counts[OTP_EXPIRED], RACERS - OTP_MAX_TRIES);
    assert_int_equal(otp_check(subject, code), OTP_EXPIRED);
}

static void test_otp_store_down(void **state)
{
    (void)state;
    /* last: the server goes away; failures are reported, never hidden */
    char subject[64], code[OTP_DIGITS + 1];
    int wait;
    fresh_subject(subject, sizeof subject, "down");
    stop_redis();
    assert_int_equal(otp_issue(subject, code, &wait), OTP_STORE_ERROR);
    assert_string_equal(code, "");
    assert_int_equal(otp_check(subject, "123456"), OTP_STORE_ERROR);
}

int main(void)
{
    cfg.secret_key = "test-secret-key-for-test_twofactor-0123456789";
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_totp_vectors), cmocka_unit_test(test_totp_input), cmocka_unit_test(test_base32_uri),
        cmocka_unit_test(test_seal),         cmocka_unit_test(test_qr_svg),     cmocka_unit_test(test_recovery_codes),
    };
    const struct CMUnitTest otp[] = {
        cmocka_unit_test(test_otp_used_once), cmocka_unit_test(test_otp_tries),
        cmocka_unit_test(test_otp_cooldown),  cmocka_unit_test(test_otp_subjects),
        cmocka_unit_test(test_otp_races),     cmocka_unit_test(test_otp_store_down),
    };
    int failed = cmocka_run_group_tests_name("twofactor", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("otp", otp, start_redis, end_redis);
    return failed ? 1 : 0;
}
