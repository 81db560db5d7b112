/* password.h — passwords: the policy, Argon2id hashes, verification.
 *
 *   char why[160];
 *   if (password_policy(pw, email, why, sizeof why) != 0) → show why beside the field
 *   char hash[PASSWORD_HASH_MAX];
 *   if (password_hash(pw, hash) != 0) → 503
 *   if (password_verify(stored, pw)) { if (password_needs_rehash(stored)) → store password_hash(pw) }
 *
 * Rules: 10 to 128 characters, no composition rules, none of the 10,000
 * most common passwords (data/common-passwords.txt, case-insensitive), not
 * the e-mail address itself. Hashes are libsodium's crypto_pwhash_str
 * (Argon2id) with PASSWORD_HASH_OPS / PASSWORD_HASH_MEM_MB (measured:
 * docs/ARCHITECTURE.md); at most PASSWORD_HASH_CONCURRENCY hashes run at
 * once per process, so a burst of sign-ins cannot exhaust memory (the
 * others wait their turn). */
#ifndef SHOEASE_SHOP_PASSWORD_H
#define SHOEASE_SHOP_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MIN_CHARS 10
#define PASSWORD_MAX_CHARS 128
#define PASSWORD_HASH_MAX 128
#define PASSWORD_HASH_CONCURRENCY 2

/* 0 acceptable, -1 refused with the reason for the shopper in why. */
int password_policy(const char *pw, const char *email, char *why, size_t whylen);
/* Is pw (any case) one of the common passwords? */
bool password_is_common(const char *pw);
/* 0, or -1 (out of memory: the caller answers 503). */
int password_hash(const char *pw, char out[PASSWORD_HASH_MAX]);
/* true when pw matches stored. An empty or foreign stored hash never matches. */
bool password_verify(const char *stored, const char *pw);
/* Spend what a verification costs, for a caller with no account to check
 * (so the answer takes as long either way). */
void password_verify_dummy(const char *pw);
bool password_needs_rehash(const char *stored);

#endif
