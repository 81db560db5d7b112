/* fuzz_webhook.c — stripe_webhook_verify, which reads what anyone on the
 * internet can POST to /webhooks/stripe: a Stripe-Signature header and a
 * body. The input is split at its first newline into header and body.
 * Twice: as it comes (a forged signature must be refused), and signed with
 * the secret (so the JSON parser behind the signature check is reached
 * too). Never a crash; an accepted event's fields are NUL-terminated within
 * their buffers, its state one of the known ones. */
#include "payments/payments.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SECRET[] = "whsec_fuzz";
static const time_t NOW = 1796000000;

static void check(const webhook_event *ev)
{
    if (memchr(ev->id, 0, sizeof ev->id) == NULL || memchr(ev->type, 0, sizeof ev->type) == NULL ||
        memchr(ev->ref, 0, sizeof ev->ref) == NULL || memchr(ev->order_number, 0, sizeof ev->order_number) == NULL ||
        memchr(ev->currency, 0, sizeof ev->currency) == NULL)
        abort();
    if (ev->state < PAY_STATE_PENDING || ev->state > PAY_STATE_REFUNDED) abort();
    if (!ev->id[0] || !ev->type[0]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    static bool ready;
    if (!ready) {
        if (sodium_init() < 0) abort();
        ready = true;
    }
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hl = nl ? (size_t)(nl - data) : size;
    char *header = malloc(hl + 1);
    if (!header) return 0;
    memcpy(header, data, hl);
    header[hl] = '\0';
    const char *body = nl ? (const char *)nl + 1 : "";
    size_t blen = nl ? size - hl - 1 : 0;
    webhook_event ev;
    char err[200];
    if (stripe_webhook_verify(SECRET, header, body, blen, NOW, &ev, err, sizeof err) == 0) check(&ev);
    else if (!err[0]) abort();   /* a refusal says why */

    /* the same body, genuinely signed */
    char ts[32];
    int tl = snprintf(ts, sizeof ts, "%lld.", (long long)NOW);
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (size_t)tl);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, blen);
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[2 * sizeof mac + 1], signed_header[120];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(signed_header, sizeof signed_header, "t=%lld,v1=%s", (long long)NOW, hex);
    if (stripe_webhook_verify(SECRET, signed_header, body, blen, NOW, &ev, err, sizeof err) == 0) check(&ev);
    free(header);
    return 0;
}
