/* test_durable_events.c — pure parts of the durable Redis client and the
 * event writer: QUEUE_REDIS_URL parsing, and what a backlog batch adds up
 * to (no servers needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "durable/durable.h"
#include "events/writer.h"

#include <string.h>

static void test_url(void **state)
{
    (void)state;
    durable_url u;
    char err[160];
    assert_int_equal(durable_url_parse("redis://127.0.0.1:16380/0", &u, err, sizeof err), 0);
    assert_false(u.tls);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 16380);
    assert_int_equal(u.db, 0);
    assert_string_equal(u.password, "");

    assert_int_equal(durable_url_parse("rediss://:p%40ss%3Aword@redis.example.com/3", &u, err, sizeof err), 0);
    assert_true(u.tls);
    assert_string_equal(u.host, "redis.example.com");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 3);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "p@ss:word");

    assert_int_equal(durable_url_parse("redis://app:secret@[::1]:6390", &u, err, sizeof err), 0);
    assert_string_equal(u.user, "app");
    assert_string_equal(u.password, "secret");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6390);

    const char *bad[] = {"http://x", "redis://", "redis://host:0", "redis://host:99999", "redis://host:12ab",
                         "redis://host/300", "redis://[::1", "redis://:%zz@host"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(durable_url_parse(bad[i], &u, err, sizeof err), -1);
        assert_true(err[0] != '\0');
        assert_null(strstr(err, "zz")); /* never echo the password part */
    }
}

static void test_batch_summary(void **state)
{
    (void)state;
    const char *batch =
        "0011223344556677 4\n"
        "{\"time\":\"2026-11-30T10:00:00.000Z\",\"request_id\":\"r1\",\"method\":\"GET\",\"path\":\"/search\","
        "\"query\":\"q=Trail++RUNNING&size=uk-9,uk-9.5\",\"status\":200,\"vid\":\"0123456789abcdef0123456789abcdef\"}\n"
        "{\"time\":\"2026-11-30T10:00:01.000Z\",\"request_id\":\"r2\",\"method\":\"GET\",\"path\":\"/products/x-1\","
        "\"status\":304}\n"
        "{\"time\":\"2026-11-30T10:00:02.000Z\",\"request_id\":\"r3\",\"method\":\"POST\",\"path\":\"/search\","
        "\"query\":\"q=nope\",\"status\":200,\"vid\":\"0123456789abcdef0123456789abcdef\"}\n"
        "{\"time\":\"2026-11-30T10:00:03.000Z\",\"request_id\":\"r4\",\"method\":\"GET\",\"path\":\"/category/men\","
        "\"query\":\"size=uk-9%2Cuk-09,UK-10,uk-10.0,zz-1,uk-1234&brand=x\",\"status\":200}\n"
        "{\"event\":\"view\",\"vid\":\"0123456789abcdef0123456789abcdef\",\"slug\":\"x-1\",\"time_ms\":1}";
    json_t *s = events_batch_summary(batch, strlen(batch));
    assert_int_equal(json_integer_value(json_object_get(s, "activity")), 4);
    json_t *an = json_object_get(s, "analytics");
    assert_int_equal(json_integer_value(json_object_get(an, "2026-11-30|search|trail running")), 1);
    assert_int_equal(json_integer_value(json_object_get(an, "2026-11-30|product_view|x-1")), 1);
    assert_null(json_object_get(an, "2026-11-30|search|nope")); /* a POST is not a search */
    /* sizes asked for: by anyone (no visitor needed), only as the filter writes them */
    assert_int_equal(json_integer_value(json_object_get(an, "2026-11-30|size_filter|uk-9")), 2);
    assert_int_equal(json_integer_value(json_object_get(an, "2026-11-30|size_filter|uk-9.5")), 1);
    assert_null(json_object_get(an, "2026-11-30|size_filter|zz-1"));
    assert_null(json_object_get(an, "2026-11-30|size_filter|uk-09"));
    assert_null(json_object_get(an, "2026-11-30|size_filter|UK-10"));
    assert_null(json_object_get(an, "2026-11-30|size_filter|uk-10.0"));
    assert_null(json_object_get(an, "2026-11-30|size_filter|uk-1234"));
    json_t *searches = json_object_get(s, "searches");
    assert_int_equal(json_array_size(searches), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(searches, 0), "q")), "trail running");
    json_t *p = json_object_get(json_object_get(s, "preferences"), "v:0123456789abcdef0123456789abcdef");
    assert_int_equal(json_integer_value(json_object_get(p, "sizes.uk-9")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "sizes.uk-9_5")), 1); /* '.' is not a field path */
    json_t *v = json_object_get(json_object_get(s, "views"), "v:0123456789abcdef0123456789abcdef");
    assert_int_equal(json_array_size(v), 1);
    json_decref(s);

    /* junk: lines that are not JSON, a bad visitor id, no header */
    const char *junk = "zz 3\nnot json\n{\"event\":\"view\",\"vid\":\"XYZ\",\"slug\":\"a\"}\n{}";
    s = events_batch_summary(junk, strlen(junk));
    assert_int_equal(json_object_size(json_object_get(s, "views")), 0);
    json_decref(s);
    s = events_batch_summary("no newline", 10);
    assert_int_equal(json_integer_value(json_object_get(s, "activity")), 0);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_batch_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
