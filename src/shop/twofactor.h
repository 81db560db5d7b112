/* twofactor.h — the second factors' building blocks: TOTP (RFC 6238, with
 * Debian's liboath), its enrolment QR code (libqrencode, drawn as SVG), the
 * sealing of TOTP secrets at rest, and recovery codes.
 *
 *   unsigned char secret[TOTP_SECRET_BYTES];
 *   totp_new_secret(secret);
 *   char uri[300];  totp_uri(secret, "ShoEase", "ada@example.com", uri, sizeof uri);
 *   buf svg = BUF_INIT;  qr_svg(uri, &svg);                   // <svg ...>...</svg>
 *   long long step = totp_check(secret, "123456", time(NULL), last_step);   // ≥ 0 accepted
 *
 * Rules: codes are compared in constant time; a code is accepted for the
 * current 30-second step and one step either side (clock drift), and never
 * twice (the caller keeps the last accepted step and passes it back);
 * secrets are stored only sealed (secret_seal, purpose "totp"); recovery
 * codes are shown once and stored only as keyed hashes. */
#ifndef SHOEASE_SHOP_TWOFACTOR_H
#define SHOEASE_SHOP_TWOFACTOR_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TOTP_SECRET_BYTES 20          /* 160 bits, as RFC 4226 recommends */
#define TOTP_SEALED_MAX 96
#define RECOVERY_CODES 10
#define RECOVERY_CODE_CHARS 16        /* "xxxxx-xxxxx" + NUL, with room */

void totp_new_secret(unsigned char secret[TOTP_SECRET_BYTES]);
/* RFC 4648 base32 without padding (what authenticator apps take typed in),
 * in groups of four separated by spaces when grouped. 0 or -1 (too small). */
int totp_base32(const unsigned char secret[TOTP_SECRET_BYTES], int grouped, char *out, size_t outlen);
/* otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30
 * (issuer and account percent-encoded). 0 or -1. */
int totp_uri(const unsigned char secret[TOTP_SECRET_BYTES], const char *issuer, const char *account, char *out,
             size_t outlen);
/* The code for a time (tests, and a tool for support staff never). */
int totp_code_at(const unsigned char secret[TOTP_SECRET_BYTES], time_t when, char out[7]);
/* Check a 6-digit code at now: the accepted time step (≥ 0), or -1 when it
 * is wrong, malformed, or for a step ≤ last_step (a replay). */
long long totp_check(const unsigned char secret[TOTP_SECRET_BYTES], const char *code, time_t now, long long last_step);

/* Seal a secret for the database / open it. Sealed length or -1; open: 0 or -1. */
long totp_seal(const unsigned char secret[TOTP_SECRET_BYTES], unsigned char *out, size_t outlen);
int totp_open(const unsigned char *sealed, size_t len, unsigned char secret[TOTP_SECRET_BYTES]);

/* text as a QR code (error correction M), an <svg> element with a 4-module
 * quiet zone, one <path> for the dark modules, viewBox in modules,
 * shape-rendering="crispEdges", role="img" and an aria-label. Appends to
 * out. 0 or -1 (text too long for a QR code). */
int qr_svg(const char *text, buf *out);

/* Ten fresh recovery codes "xxxxx-xxxxx" (base32 lower-case, 50 bits each). */
void recovery_codes_new(char codes[RECOVERY_CODES][RECOVERY_CODE_CHARS]);
/* The comparable form of what a shopper typed (case, spaces and dashes
 * ignored): 10 characters. 0, or -1 when it cannot be a recovery code. */
int recovery_code_normalise(const char *typed, char out[11]);

#endif
