/* test_core.c — unit tests of the pieces every request relies on: text
 * validation, the buffer, the arena, the router and host matching. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/gzip.h"
#include "core/text.h"
#include "http/router.h"

static void test_utf8(void **state)
{
    (void)state;
    assert_true(text_valid_utf8("plain ascii", 11));
    assert_true(text_valid_utf8("caf\xc3\xa9", 5));                 /* é */
    assert_true(text_valid_utf8("\xf0\x9f\x91\x9f", 4));            /* 👟 */
    assert_false(text_valid_utf8("\xff\xfe", 2));
    assert_false(text_valid_utf8("\xc3", 1));                        /* truncated */
    assert_false(text_valid_utf8("\xc0\xaf", 2));                    /* overlong '/' */
    assert_false(text_valid_utf8("\xed\xa0\x80", 3));                /* surrogate */
    assert_false(text_valid_utf8("\xf4\x90\x80\x80", 4));            /* > U+10FFFF */
    assert_false(text_valid_utf8("a\0b", 3));                        /* NUL */
}

static void test_percent(void **state)
{
    (void)state;
    char out[64];
    assert_true(text_valid_percent_encoding("/search?q=a%20b", 15));
    assert_false(text_valid_percent_encoding("/x?q=%zz", 8));
    assert_false(text_valid_percent_encoding("/x?q=%2", 7));
    assert_false(text_valid_percent_encoding("%", 1));
    assert_int_equal(text_percent_decode("a%20b+c", 7, out, true), 5);
    assert_string_equal(out, "a b c");
    assert_int_equal(text_percent_decode("a+b", 3, out, false), 3);
    assert_string_equal(out, "a+b");
    assert_int_equal(text_percent_decode("%4", 2, out, true), -1);
}

static void test_parse_int(void **state)
{
    (void)state;
    long long v;
    assert_true(text_parse_int64("42", 0, 100, &v));
    assert_int_equal(v, 42);
    assert_false(text_parse_int64("abc", 0, 100, &v));
    assert_false(text_parse_int64("", 0, 100, &v));
    assert_false(text_parse_int64("101", 0, 100, &v));
    assert_false(text_parse_int64("-1", 0, 100, &v));
    assert_false(text_parse_int64("99999999999999999999999", 0, 100, &v));
    assert_false(text_parse_int64("1 ", 0, 100, &v));
}

static void test_format_and_copy(void **state)
{
    (void)state;
    char out[TEXT_INT64_DIGITS], want[32];
    const int64_t values[] = {0, 1, -1, 9, 10, -10, 123456789, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        size_t n = text_format_int64(values[i], out);
        snprintf(want, sizeof want, "%lld", (long long)values[i]);
        assert_string_equal(out, want);
        assert_int_equal(n, strlen(want));
    }
    assert_int_equal(text_format_uint64(UINT64_MAX, out), 20);
    assert_string_equal(out, "18446744073709551615");
    char small[4];
    assert_int_equal(text_copy(small, sizeof small, "GBP"), 3);
    assert_string_equal(small, "GBP");
    assert_int_equal(text_copy(small, sizeof small, "toolong"), 3);
    assert_string_equal(small, "too");
    assert_int_equal(text_copy(small, sizeof small, ""), 0);
    assert_string_equal(small, "");
}

static void test_buf(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    assert_string_equal(buf_cstr(&b), "");
    buf_printf(&b, "%d-%s", 7, "x");
    buf_append_html(&b, "<a href='x'>&\"", 14);
    assert_string_equal(buf_cstr(&b), "7-x&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
    for (int i = 0; i < 10000; i++) buf_putc(&b, 'z');
    assert_int_equal(b.len, 40 + 10000);
    char *s = buf_detach(&b);
    assert_null(b.data);
    free(s);
}

static void test_arena(void **state)
{
    (void)state;
    arena *a = arena_new();
    char *big = arena_alloc(a, 3 << 20); /* larger than a chunk */
    memset(big, 1, 3 << 20);
    for (int i = 0; i < 10000; i++) {
        char *s = arena_printf(a, "item-%d", i);
        assert_true(((uintptr_t)s & 15) == 0);
        assert_string_equal(s, arena_printf(a, "item-%d", i));
    }
    arena_free(a);
}

static void handler_a(http_request *req, http_response *res) { (void)req; (void)res; }
static void handler_b(http_request *req, http_response *res) { (void)req; (void)res; }

static void test_router(void **state)
{
    (void)state;
    router_clear();
    router_add("GET", "/products/{slug}", handler_a);
    router_add("GET", "/category/{slug}/page/{n}", handler_b);
    router_add("POST", "/cart/add", handler_b);
    http_request req = {0};
    req.pool = arena_new();
    http_handler h = NULL;

    req.method = "GET";
    req.path = "/products/air-runner";
    assert_int_equal(router_match(&req, &h), ROUTE_FOUND);
    assert_ptr_equal(h, handler_a);
    assert_string_equal(req_param(&req, "slug"), "air-runner");

    req.path = "/category/men/page/3";
    assert_int_equal(router_match(&req, &h), ROUTE_FOUND);
    assert_string_equal(req_param(&req, "slug"), "men");
    assert_string_equal(req_param(&req, "n"), "3");

    req.method = "HEAD"; /* routed as GET */
    req.path = "/products/x";
    assert_int_equal(router_match(&req, &h), ROUTE_FOUND);

    req.method = "GET";
    req.path = "/products/";
    assert_int_equal(router_match(&req, &h), ROUTE_NOT_FOUND);
    req.path = "/products/a/b";
    assert_int_equal(router_match(&req, &h), ROUTE_NOT_FOUND);
    req.path = "/cart/add";
    assert_int_equal(router_match(&req, &h), ROUTE_METHOD_NOT_ALLOWED);
    arena_free(req.pool);
    router_clear();
}

static void test_hosts(void **state)
{
    (void)state;
    setenv("SHOEASE_ENV_FILE", "/dev/null", 1);
    setenv("ALLOWED_HOSTS", "localhost, .ngrok-free.app,shop.example", 1);
    assert_int_equal(config_load(), 0);
    assert_true(config_host_allowed("localhost", 9));
    assert_true(config_host_allowed("ngrok-free.app", 14));
    assert_true(config_host_allowed("abc.ngrok-free.app", 18));
    assert_true(config_host_allowed("SHOP.example", 12));
    assert_false(config_host_allowed("evil.example", 12));
    assert_false(config_host_allowed("xngrok-free.app", 15));
    assert_false(config_host_allowed("shop.example.evil", 17));
    unsetenv("ALLOWED_HOSTS");
}

static void test_production_check(void **state)
{
    (void)state;
    setenv("SHOEASE_ENV_FILE", "/dev/null", 1);
    setenv("SHOEASE_ENV", "production", 1);
    setenv("SECRET_KEY", "change-me", 1);
    setenv("DEBUG", "1", 1);
    setenv("ALLOWED_HOSTS", "", 1);
    assert_int_equal(config_load(), 0);
    buf out = BUF_INIT;
    assert_true(config_check_deploy(&out) >= 3);
    assert_non_null(strstr(buf_cstr(&out), "SECRET_KEY"));
    assert_non_null(strstr(buf_cstr(&out), "DEBUG"));
    assert_non_null(strstr(buf_cstr(&out), "ALLOWED_HOSTS"));
    buf_free(&out);

    setenv("SECRET_KEY", "0123456789abcdef0123456789abcdef-long-enough", 1);
    setenv("DEBUG", "0", 1);
    setenv("ALLOWED_HOSTS", "shop.example", 1);
    setenv("ADMIN_PATH", "/portal-7f3a9", 1);   /* too short to be secret: refused below, then fixed */
    setenv("MARIADB_PASSWORD", "pw", 1);
    setenv("RUN_AS_USER", "nobody", 1); /* CI runs as root */
    assert_int_equal(config_load(), 0);
    /* a guessable admin path, the durable Redis without a password, SMS only
     * into a file, no Stripe keys: refused */
    assert_int_equal(config_check_deploy(&out), 4);
    assert_non_null(strstr(buf_cstr(&out), "ADMIN_PATH is short"));
    assert_non_null(strstr(buf_cstr(&out), "STRIPE_SECRET_KEY"));
    assert_non_null(strstr(buf_cstr(&out), "QUEUE_REDIS_URL"));
    assert_non_null(strstr(buf_cstr(&out), "SMS_PROVIDER"));
    buf_free(&out);
    setenv("ADMIN_PATH", "/staff-3f9a0c41d2e87b65", 1);
    setenv("QUEUE_REDIS_URL", "rediss://:s3cret@redis.example:6380/0", 1);
    setenv("STRIPE_SECRET_KEY", "sk_live_x", 1);
    setenv("STRIPE_WEBHOOK_SECRET", "whsec_x", 1);
    setenv("SMS_PROVIDER", "http", 1);
    setenv("SMS_GATEWAY_URL", "http://sms.example/send", 1);
    assert_int_equal(config_load(), 0);
    assert_int_equal(config_check_deploy(&out), 1); /* the gateway must be https */
    assert_non_null(strstr(buf_cstr(&out), "SMS_GATEWAY_URL"));
    buf_free(&out);
    setenv("SMS_GATEWAY_URL", "https://sms.example/send", 1);
    assert_int_equal(config_load(), 0);
    assert_int_equal(config_check_deploy(NULL), 0);
    /* staff without a second factor: never in production */
    setenv("ADMIN_REQUIRE_2FA", "0", 1);
    assert_int_equal(config_load(), 0);
    assert_int_equal(config_check_deploy(&out), 1);
    assert_non_null(strstr(buf_cstr(&out), "ADMIN_REQUIRE_2FA"));
    buf_free(&out);
    unsetenv("ADMIN_REQUIRE_2FA");
    /* an admin path that is one of the shop's own, or not one segment: refused at load */
    setenv("ADMIN_PATH", "/account", 1);
    assert_int_equal(config_load(), -1);
    setenv("ADMIN_PATH", "/staff/3f9a0c41d2e87b65", 1);
    assert_int_equal(config_load(), -1);
    setenv("ADMIN_PATH", "/staff-3f9a0c41d2e87b65", 1);

    setenv("WORKERS", "lots", 1);
    assert_int_equal(config_load(), -1); /* a bad number is an error, not a default */
    const char *vars[] = {"SHOEASE_ENV", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "ADMIN_PATH", "MARIADB_PASSWORD", "WORKERS",
                          "RUN_AS_USER", "QUEUE_REDIS_URL", "SMS_PROVIDER", "SMS_GATEWAY_URL", "STRIPE_SECRET_KEY",
                          "STRIPE_WEBHOOK_SECRET"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) unsetenv(vars[i]);
}

static void test_gzip(void **state)
{
    (void)state;
    assert_true(gzip_accepted("gzip"));
    assert_true(gzip_accepted("gzip, deflate, br"));
    assert_true(gzip_accepted("br;q=1.0, gzip;q=0.8"));
    assert_true(gzip_accepted("deflate, GZIP"));
    assert_false(gzip_accepted(NULL));
    assert_false(gzip_accepted("identity"));
    assert_false(gzip_accepted("gzip;q=0"));
    assert_false(gzip_accepted("gzip; q=0.0, br"));
    assert_false(gzip_accepted("x-gzipped"));
    buf page = BUF_INIT, gz = BUF_INIT;
    for (int i = 0; i < 200; i++) buf_printf(&page, "<li class=\"card\">Shoe %d</li>\n", i);
    assert_true(gzip_compress(page.data, page.len, &gz));
    assert_true(gz.len < page.len / 3);
    assert_int_equal((unsigned char)gz.data[0], 0x1f); /* gzip magic */
    assert_int_equal((unsigned char)gz.data[1], 0x8b);
    buf small = BUF_INIT;
    assert_false(gzip_compress("tiny", 4, &small)); /* not worth it */
    assert_int_equal(small.len, 0);
    buf_free(&page);
    buf_free(&gz);
    buf_free(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),   cmocka_unit_test(test_percent), cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_format_and_copy),
        cmocka_unit_test(test_buf),    cmocka_unit_test(test_arena),   cmocka_unit_test(test_router),
        cmocka_unit_test(test_hosts),  cmocka_unit_test(test_production_check), cmocka_unit_test(test_gzip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
