/* secrets.h — keys derived from SECRET_KEY, one per purpose, and the small
 * keyed operations built on them (libsodium). Changing SECRET_KEY rotates
 * every one of them: outstanding links and codes stop working, sealed TOTP
 * secrets must be enrolled again (docs).
 *
 *   char h[SECRET_HASH_HEX];
 *   secret_hash_hex("token", token, strlen(token), h);   // what the database stores for a link token
 *   secret_random_token(tok, sizeof tok);                // 256 bits, base64url: a link token
 */
#ifndef SHOEASE_CORE_SECRETS_H
#define SHOEASE_CORE_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_KEY_BYTES 32
#define SECRET_HASH_HEX 65            /* 64 hex characters + NUL */
#define SECRET_TOKEN_CHARS 44         /* 32 bytes base64url without padding + NUL */

/* The 32-byte key for purpose ("token", "otp", "totp-seal", ...). */
void secret_subkey(const char *purpose, unsigned char out[SECRET_KEY_BYTES]);
/* Keyed BLAKE2b-256 of data under purpose's key, as hex. */
void secret_hash_hex(const char *purpose, const void *data, size_t len, char out[SECRET_HASH_HEX]);
/* 32 random bytes as base64url (no padding) in out (≥ SECRET_TOKEN_CHARS). */
void secret_random_token(char *out, size_t outlen);
/* Seal / open a small secret (crypto_secretbox, random nonce) under
 * purpose's key. Seal returns the sealed length (≤ outlen) or -1; open
 * returns the plain length or -1 when it was tampered with or sealed
 * under another SECRET_KEY. */
long secret_seal(const char *purpose, const unsigned char *plain, size_t len, unsigned char *out, size_t outlen);
long secret_open(const char *purpose, const unsigned char *sealed, size_t len, unsigned char *out, size_t outlen);
/* Constant-time equality of two strings (different lengths are unequal,
 * and only the length is learnt). */
bool secret_equal(const char *a, const char *b);

#endif
