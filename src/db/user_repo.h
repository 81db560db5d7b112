/* user_repo.h — the SQL of accounts (migrations/0005): users, their
 * single-use tokens, recovery codes, addresses and saved sizes/brands.
 *
 * Plain rows; every function takes the connection (a unit of work's, from
 * db_tx_conn, or db_conn_get() for a lone read) and never begins or
 * commits. 0 / -1 (store error, logged) unless documented otherwise. */
#ifndef SHOEASE_DB_USER_REPO_H
#define SHOEASE_DB_USER_REPO_H

#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct user_row {
    int64_t id;
    char email[255];
    char name[101];
    char phone[17];
    bool email_verified, phone_verified;
    char password_hash[256];
    char role[16];              /* shopper | staff | superuser */
    char status[12];            /* active | disabled | deleted */
    char second_factor[8];      /* none | sms | totp */
    unsigned char totp_sealed[128];
    size_t totp_sealed_len;
    unsigned char totp_pending[128];
    size_t totp_pending_len;
    int64_t created_at;         /* unix seconds */
} user_row;

/* -2: the e-mail address is taken. */
int user_repo_insert(db_conn *c, const char *email, const char *password_hash, const char *name, int64_t *id_out);
/* 1 found, 0 not, -1 error. FOR UPDATE when lock (inside a unit of work). */
int user_repo_by_email(db_conn *c, const char *email, user_row *out);
int user_repo_by_id(db_conn *c, int64_t id, bool lock, user_row *out);
int user_repo_by_verified_phone(db_conn *c, const char *phone, user_row *out);

int user_repo_set_password(db_conn *c, int64_t id, const char *hash);
/* role: shopper | staff | superuser. */
int user_repo_set_role(db_conn *c, int64_t id, const char *role);
/* status: active | disabled (deleting is user_repo_anonymise). */
int user_repo_set_status(db_conn *c, int64_t id, const char *status);
int user_repo_set_verified(db_conn *c, int64_t id);
int user_repo_set_name(db_conn *c, int64_t id, const char *name);
/* The phone (verified or pending verification). -2: another account has
 * this number verified. */
int user_repo_set_phone(db_conn *c, int64_t id, const char *phone, bool verified);
/* kind: none | sms | totp; sealed may be NULL (keep) — with kind "none"
 * the TOTP secret is removed. */
int user_repo_set_second_factor(db_conn *c, int64_t id, const char *kind, const unsigned char *sealed, size_t len);
int user_repo_set_totp_pending(db_conn *c, int64_t id, const unsigned char *sealed, size_t len);

/* Tokens (purpose: verify_email | reset_password). */
int user_repo_token_insert(db_conn *c, int64_t user_id, const char *purpose, const char *hash_hex, int ttl_seconds);
/* Use a token: 1 it was live (now used; *user_id set), 0 unknown, used or
 * expired. Locks the row (call inside a unit of work). */
int user_repo_token_use(db_conn *c, const char *purpose, const char *hash_hex, int64_t *user_id);
/* Make the user's unused tokens of a purpose unusable (a new one was sent,
 * the password changed). */
int user_repo_tokens_revoke(db_conn *c, int64_t user_id, const char *purpose);

/* Recovery codes: replace them all; use one (1 used, 0 no such unused code). */
int user_repo_recovery_replace(db_conn *c, int64_t user_id, char hashes[][65], int n);
int user_repo_recovery_use(db_conn *c, int64_t user_id, const char *hash_hex);
int user_repo_recovery_left(db_conn *c, int64_t user_id);   /* count or -1 */

/* Addresses. */
typedef struct address_row {
    int64_t id;
    char full_name[101], line1[121], line2[121], city[81], region[81], postcode[17], country[3], phone[17];
    bool is_default;
} address_row;
/* Up to max of the user's addresses, the default first. Count or -1. */
int address_repo_list(db_conn *c, int64_t user_id, address_row *out, int max);
/* 1 found (and theirs), 0 not. */
int address_repo_get(db_conn *c, int64_t user_id, int64_t id, address_row *out);
/* id 0: insert (*id_out). Returns -2 when the row is not the user's. */
int address_repo_save(db_conn *c, int64_t user_id, const address_row *a, int64_t *id_out);
int address_repo_delete(db_conn *c, int64_t user_id, int64_t id);   /* 1 deleted, 0 not theirs */
int address_repo_set_default(db_conn *c, int64_t user_id, int64_t id); /* 1 done, 0 not theirs */
int address_repo_count(db_conn *c, int64_t user_id);

/* Saved sizes and brands: replace the whole set. */
int prefs_repo_sizes(db_conn *c, int64_t user_id, char (*out)[13], int max);   /* count or -1 */
int prefs_repo_set_sizes(db_conn *c, int64_t user_id, char (*sizes)[13], int n);
int prefs_repo_brands(db_conn *c, int64_t user_id, char (*slugs)[81], int max); /* brand slugs; count or -1 */
/* Unknown slugs are ignored; count saved or -1. */
int prefs_repo_set_brands(db_conn *c, int64_t user_id, char (*slugs)[81], int n);

/* Delete my account: personal data erased, the row kept (orders point at
 * it) as "deleted-<id>@invalid" with no name, phone, password or factors;
 * addresses, tokens, codes and saved preferences deleted. */
int user_repo_anonymise(db_conn *c, int64_t id);

#endif
