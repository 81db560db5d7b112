/* test_payments.c — payments/stripe.c's webhook check: the signature
 * (HMAC-SHA256 of "<t>.<body>", any v1 may match, 300 s tolerance,
 * constant-time compare) and the event parsed from the body; the provider
 * table. Pure functions: no network. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "payments/payments.h"

static const char SECRET[] = "whsec_test_0123456789abcdef";
static const time_t NOW = 1796000000;

/* "t=<t>,v1=<hex HMAC>" for body at t with key. */
static void sign(char *out, size_t outlen, const char *key, time_t t, const char *body)
{
    char ts[32];
    int tl = snprintf(ts, sizeof ts, "%lld.", (long long)t);
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (size_t)tl);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[2 * sizeof mac + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, outlen, "t=%lld,v1=%s", (long long)t, hex);
}

static const char SUCCEEDED[] =
    "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":"
    "{\"id\":\"pi_123\",\"object\":\"payment_intent\",\"amount\":8999,\"currency\":\"gbp\","
    "\"status\":\"succeeded\",\"metadata\":{\"order\":\"SE7K3M9QXD2F\"}}}}";

static int verify(const char *header, const char *body, time_t now, webhook_event *ev, char *err)
{
    return stripe_webhook_verify(SECRET, header, body, strlen(body), now, ev, err, 200);
}

static void test_genuine_event_is_parsed(void **state)
{
    (void)state;
    char h[200], err[200];
    webhook_event ev;
    sign(h, sizeof h, SECRET, NOW, SUCCEEDED);
    assert_int_equal(verify(h, SUCCEEDED, NOW, &ev, err), 0);
    assert_string_equal(ev.id, "evt_1");
    assert_string_equal(ev.type, "payment_intent.succeeded");
    assert_string_equal(ev.ref, "pi_123");
    assert_string_equal(ev.order_number, "SE7K3M9QXD2F");
    assert_int_equal(ev.amount, 8999);
    assert_string_equal(ev.currency, "GBP");
    assert_int_equal(ev.state, PAY_STATE_SUCCEEDED);
    /* within the tolerance either way */
    assert_int_equal(verify(h, SUCCEEDED, NOW + STRIPE_WEBHOOK_TOLERANCE, &ev, err), 0);
    assert_int_equal(verify(h, SUCCEEDED, NOW - STRIPE_WEBHOOK_TOLERANCE, &ev, err), 0);
}

static void test_any_v1_may_match(void **state)
{
    (void)state;
    char good[200], h[400], err[200];
    webhook_event ev;
    sign(good, sizeof good, SECRET, NOW, SUCCEEDED);
    /* a rolled secret: the old one's signature first, v0 ignored */
    snprintf(h, sizeof h, "t=%lld,v1=%064d,v0=abc,%s", (long long)NOW, 0, strchr(good, ',') + 1);
    assert_int_equal(verify(h, SUCCEEDED, NOW, &ev, err), 0);
}

static void test_refusals(void **state)
{
    (void)state;
    char h[200], err[200];
    webhook_event ev;
    sign(h, sizeof h, SECRET, NOW, SUCCEEDED);
    /* stale, from the future */
    assert_int_equal(verify(h, SUCCEEDED, NOW + STRIPE_WEBHOOK_TOLERANCE + 1, &ev, err), -1);
    assert_non_null(strstr(err, "too old"));
    assert_int_equal(verify(h, SUCCEEDED, NOW - STRIPE_WEBHOOK_TOLERANCE - 1, &ev, err), -1);
    /* another secret, another body */
    char other[200];
    sign(other, sizeof other, "whsec_someone_else", NOW, SUCCEEDED);
    assert_int_equal(verify(other, SUCCEEDED, NOW, &ev, err), -1);
    assert_non_null(strstr(err, "no signature matches"));
    char changed[sizeof SUCCEEDED];
    memcpy(changed, SUCCEEDED, sizeof SUCCEEDED);
    *strstr(changed, "8999") = '1';
    assert_int_equal(verify(h, changed, NOW, &ev, err), -1);
    /* unsigned, malformed headers, no secret configured */
    assert_int_equal(stripe_webhook_verify(SECRET, NULL, SUCCEEDED, strlen(SUCCEEDED), NOW, &ev, err, 200), -1);
    assert_non_null(strstr(err, "not signed"));
    static const char *const bad[] = {"", "t=", "v1=abc", "t=abc,v1=00", "t=1796000000", "t=1796000000,v1=",
                                      "t=-5,v1=00", "t=99999999999999999999,v1=00", ",,,", "t=1796000000,v1=zz"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_int_equal(verify(bad[i], SUCCEEDED, NOW, &ev, err), -1);
    assert_int_equal(stripe_webhook_verify("", h, SUCCEEDED, strlen(SUCCEEDED), NOW, &ev, err, 200), -1);
    /* a signed body that is not an event */
    static const char *const junk[] = {"{not json", "[]", "{\"id\":\"evt_1\"}", "{\"id\":1,\"type\":\"x\",\"data\":{}}",
                                       "{\"id\":\"e\",\"type\":\"t\",\"data\":{\"object\":5}}"};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        sign(h, sizeof h, SECRET, NOW, junk[i]);
        assert_int_equal(verify(h, junk[i], NOW, &ev, err), -1);
    }
    /* an id too long to keep whole is refused, never cut */
    char longid[400];
    snprintf(longid, sizeof longid, "{\"id\":\"evt_%0150d\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{}}}", 7);
    sign(h, sizeof h, SECRET, NOW, longid);
    assert_int_equal(verify(h, longid, NOW, &ev, err), -1);
}

static void test_refund_events(void **state)
{
    (void)state;
    char h[200], err[200];
    webhook_event ev;
    static const char full[] = "{\"id\":\"evt_r\",\"type\":\"charge.refunded\",\"data\":{\"object\":{\"id\":\"ch_1\","
                               "\"object\":\"charge\",\"payment_intent\":\"pi_9\",\"amount\":500,\"amount_refunded\":500,"
                               "\"refunded\":true,\"currency\":\"eur\"}}}";
    sign(h, sizeof h, SECRET, NOW, full);
    assert_int_equal(verify(h, full, NOW, &ev, err), 0);
    assert_string_equal(ev.ref, "pi_9");
    assert_int_equal(ev.state, PAY_STATE_REFUNDED);
    static const char partial[] = "{\"id\":\"evt_p\",\"type\":\"charge.refunded\",\"data\":{\"object\":{\"id\":\"ch_1\","
                                  "\"object\":\"charge\",\"payment_intent\":\"pi_9\",\"amount\":500,"
                                  "\"amount_refunded\":100,\"refunded\":false,\"currency\":\"eur\"}}}";
    sign(h, sizeof h, SECRET, NOW, partial);
    assert_int_equal(verify(h, partial, NOW, &ev, err), 0);
    assert_int_equal(ev.state, PAY_STATE_PENDING);
}

static void test_providers(void **state)
{
    (void)state;
    const payment_provider *cod = payment_provider_named("cod"), *stripe = payment_provider_named("stripe");
    assert_non_null(cod);
    assert_non_null(stripe);
    assert_null(payment_provider_named("paypal"));
    assert_null(payment_provider_named(NULL));
    assert_null(cod->parse_webhook);          /* cash on delivery sends none */
    assert_non_null(stripe->parse_webhook);
    assert_non_null(stripe->confirm);
    payment_result r;
    assert_int_equal(cod->initiate(&(payment_request){.amount = 4599, .currency = "GBP", .order_number = "SE0000000001"},
                                   &r),
                     PAY_OK);
    assert_int_equal(r.amount, 4599);
    assert_string_equal(r.ref, "cod-SE0000000001");
    assert_int_equal(cod->refund(r.ref, 4599, "k", &r), PAY_OK);
    assert_int_equal(r.state, PAY_STATE_REFUNDED);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genuine_event_is_parsed), cmocka_unit_test(test_any_v1_may_match),
        cmocka_unit_test(test_refusals), cmocka_unit_test(test_refund_events), cmocka_unit_test(test_providers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
