/* twofactor.c — TOTP (liboath), its enrolment QR code (libqrencode, as
 * SVG), sealed secrets and recovery codes. See twofactor.h.
 *
 * liboath's own validators compare the typed code with strcmp, so
 * totp_check generates the candidate codes of the three accepted steps with
 * oath_totp_generate and compares them itself with sodium_memcmp. */
#include "shop/twofactor.h"

#include "core/secrets.h"

#include <liboath/oath.h>
#include <limits.h>
#include <pthread.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOTP_DIGITS 6
#define TOTP_PERIOD 30
#define TOTP_WINDOW 1                 /* steps accepted either side of now */
#define TOTP_B32_CHARS 32             /* 20 bytes = 160 bits = 32 base32 characters, no padding */
#define QR_QUIET 4                    /* modules of white around the symbol */
#define QR_PX 5                       /* CSS pixels per module */

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_ready = -1;

static void oath_start(void) { oath_ready = oath_init() == OATH_OK ? 0 : -1; }

static int oath_ok(void)
{
    pthread_once(&oath_once, oath_start);
    return oath_ready;
}

/* ---------- TOTP ---------- */

void totp_new_secret(unsigned char secret[TOTP_SECRET_BYTES]) { randombytes_buf(secret, TOTP_SECRET_BYTES); }

int totp_base32(const unsigned char secret[TOTP_SECRET_BYTES], int grouped, char *out, size_t outlen)
{
    size_t need = grouped ? TOTP_B32_CHARS + TOTP_B32_CHARS / 4 - 1 + 1 : TOTP_B32_CHARS + 1;
    if (!out || outlen < need || oath_ok() < 0) return -1;
    char *enc = NULL;
    size_t enclen = 0;
    if (oath_base32_encode((const char *)secret, TOTP_SECRET_BYTES, &enc, &enclen) != OATH_OK || !enc) return -1;
    /* 160 bits fill 32 characters exactly: no padding to drop, but be sure */
    while (enclen > 0 && enc[enclen - 1] == '=') enclen--;
    int rc = -1;
    if (enclen == TOTP_B32_CHARS) {
        size_t o = 0;
        for (size_t i = 0; i < enclen; i++) {
            if (grouped && i > 0 && i % 4 == 0) out[o++] = ' ';
            out[o++] = enc[i];
        }
        out[o] = '\0';
        rc = 0;
    }
    sodium_memzero(enc, enclen);
    free(enc);
    return rc;
}

/* Appends s to out at *pos, percent-encoding all but RFC 3986's unreserved
 * characters when encode; false when it does not fit. */
static bool put(char *out, size_t outlen, size_t *pos, const char *s, bool encode)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = !encode || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                     *p == '-' || *p == '.' || *p == '_' || *p == '~';
        size_t n = plain ? 1 : 3;
        if (*pos + n >= outlen) return false;
        if (plain) {
            out[(*pos)++] = (char)*p;
        } else {
            out[(*pos)++] = '%';
            out[(*pos)++] = hex[*p >> 4];
            out[(*pos)++] = hex[*p & 15];
        }
    }
    out[*pos] = '\0';
    return true;
}

int totp_uri(const unsigned char secret[TOTP_SECRET_BYTES], const char *issuer, const char *account, char *out,
             size_t outlen)
{
    if (!issuer || !account || !out || outlen == 0) return -1;
    char b32[TOTP_B32_CHARS + 1];
    if (totp_base32(secret, 0, b32, sizeof b32) < 0) return -1;
    size_t pos = 0;
    bool ok = put(out, outlen, &pos, "otpauth://totp/", false) && put(out, outlen, &pos, issuer, true) &&
              put(out, outlen, &pos, ":", false) && put(out, outlen, &pos, account, true) &&
              put(out, outlen, &pos, "?secret=", false) && put(out, outlen, &pos, b32, false) &&
              put(out, outlen, &pos, "&issuer=", false) && put(out, outlen, &pos, issuer, true) &&
              put(out, outlen, &pos, "&algorithm=SHA1&digits=6&period=30", false);
    sodium_memzero(b32, sizeof b32);
    if (!ok) {
        sodium_memzero(out, outlen);   /* never leave half a secret behind */
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* The code of time step `step` (≥ 0). */
static int code_for_step(const unsigned char secret[TOTP_SECRET_BYTES], long long step, char out[TOTP_DIGITS + 1])
{
    if (step < 0 || step > LLONG_MAX / TOTP_PERIOD || oath_ok() < 0) return -1;
    time_t at = (time_t)(step * TOTP_PERIOD);
    return oath_totp_generate((const char *)secret, TOTP_SECRET_BYTES, at, TOTP_PERIOD, OATH_TOTP_DEFAULT_START_TIME,
                              TOTP_DIGITS, out) == OATH_OK
               ? 0
               : -1;
}

static long long step_of(time_t t)
{
    long long s = (long long)t;
    return s >= 0 ? s / TOTP_PERIOD : -1;
}

int totp_code_at(const unsigned char secret[TOTP_SECRET_BYTES], time_t when, char out[7])
{
    out[0] = '\0';
    return code_for_step(secret, step_of(when), out);
}

/* What the shopper typed as exactly 6 digits (spaces dropped), or -1. */
static int normalise_code(const char *code, char out[TOTP_DIGITS + 1])
{
    if (!code) return -1;
    size_t n = 0;
    for (const char *p = code; *p; p++) {
        if (*p == ' ') continue;
        if (*p < '0' || *p > '9' || n == TOTP_DIGITS) return -1;
        out[n++] = *p;
    }
    out[n] = '\0';
    return n == TOTP_DIGITS ? 0 : -1;
}

long long totp_check(const unsigned char secret[TOTP_SECRET_BYTES], const char *code, time_t now, long long last_step)
{
    char typed[TOTP_DIGITS + 1];
    if (normalise_code(code, typed) < 0) return -1;
    long long now_step = step_of(now);
    if (now_step < 0) return -1;
    long long accepted = -1;
    /* every candidate is generated and compared, whichever matches */
    for (long long s = now_step - TOTP_WINDOW; s <= now_step + TOTP_WINDOW; s++) {
        char want[TOTP_DIGITS + 1];
        if (code_for_step(secret, s, want) < 0) continue;
        bool match = sodium_memcmp(want, typed, TOTP_DIGITS) == 0;
        sodium_memzero(want, sizeof want);
        /* the earliest step the code is right for that was not used yet */
        if (match && s > last_step && accepted < 0) accepted = s;
    }
    sodium_memzero(typed, sizeof typed);
    return accepted;
}

/* ---------- sealing ---------- */

long totp_seal(const unsigned char secret[TOTP_SECRET_BYTES], unsigned char *out, size_t outlen)
{
    return secret_seal("totp", secret, TOTP_SECRET_BYTES, out, outlen);
}

int totp_open(const unsigned char *sealed, size_t len, unsigned char secret[TOTP_SECRET_BYTES])
{
    if (!sealed || len > TOTP_SEALED_MAX) return -1;
    unsigned char plain[TOTP_SEALED_MAX];
    long n = secret_open("totp", sealed, len, plain, sizeof plain);
    int rc = -1;
    if (n == TOTP_SECRET_BYTES) {
        memcpy(secret, plain, TOTP_SECRET_BYTES);
        rc = 0;
    }
    sodium_memzero(plain, sizeof plain);
    return rc;
}

/* ---------- QR code ---------- */

int qr_svg(const char *text, buf *out)
{
    if (!text || !out) return -1;
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) return -1;
    int w = qr->width, n = w + 2 * QR_QUIET;
    buf_printf(out,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\""
               " shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code for your authenticator app\">"
               "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
               n, n, n * QR_PX, n * QR_PX, n, n);
    /* one rectangle per horizontal run of dark modules */
    for (int y = 0; y < w; y++) {
        const unsigned char *row = qr->data + (size_t)y * (size_t)w;
        for (int x = 0; x < w;) {
            if (!(row[x] & 1)) {
                x++;
                continue;
            }
            int x0 = x;
            while (x < w && (row[x] & 1)) x++;
            buf_printf(out, "M%d %dh%dv1h-%dz", x0 + QR_QUIET, y + QR_QUIET, x - x0, x - x0);
        }
    }
    buf_puts(out, "\"/></svg>");
    QRcode_free(qr);
    return 0;
}

/* ---------- recovery codes ---------- */

static const char b32_lower[] = "abcdefghijklmnopqrstuvwxyz234567";

void recovery_codes_new(char codes[RECOVERY_CODES][RECOVERY_CODE_CHARS])
{
    for (int i = 0; i < RECOVERY_CODES; i++) {
        bool dup;
        do {
            unsigned char rnd[8] = {0};
            randombytes_buf(rnd, 7);           /* 56 bits, of which 50 are used */
            uint64_t bits = 0;
            for (int k = 0; k < 7; k++) bits = bits << 8 | rnd[k];
            sodium_memzero(rnd, sizeof rnd);
            char *c = codes[i];
            int o = 0;
            for (int k = 0; k < 10; k++) {
                if (k == 5) c[o++] = '-';
                c[o++] = b32_lower[bits & 31];
                bits >>= 5;
            }
            c[o] = '\0';
            dup = false;
            for (int j = 0; j < i; j++)
                if (strcmp(codes[j], c) == 0) dup = true;
        } while (dup);
    }
}

int recovery_code_normalise(const char *typed, char out[11])
{
    out[0] = '\0';
    if (!typed) return -1;
    size_t n = 0;
    for (const char *p = typed; *p; p++) {
        char c = *p;
        if (c == ' ' || c == '-') continue;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) || n == 10) {
            sodium_memzero(out, 11);
            out[0] = '\0';
            return -1;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    if (n != 10) {
        sodium_memzero(out, 11);
        out[0] = '\0';
        return -1;
    }
    return 0;
}
