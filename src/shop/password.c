/* password.c — see password.h. */
#include "shop/password.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"

#include <ctype.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COMMON_FILE "data/common-passwords.txt"
#define COMMON_BUCKETS 16384

/* ---------- the common passwords: an open-addressing set of lower-case strings ---------- */

static char **common;
static pthread_once_t common_once = PTHREAD_ONCE_INIT;

static unsigned long hash_str(const char *s)
{
    unsigned long h = 5381;
    for (; *s; s++) h = h * 33 + (unsigned char)*s;
    return h;
}

static void lower(char *s)
{
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

static void load_common(void)
{
    const char *path = getenv("COMMON_PASSWORDS_FILE");
    if (!path) path = COMMON_FILE;
    FILE *f = fopen(path, "r");
    common = calloc(COMMON_BUCKETS, sizeof *common);
    if (!common) abort();
    if (!f) {
        /* a missing list must not silently allow "password123": the
         * policy then refuses every password (see password_policy) */
        log_error("passwords: cannot read %s: registrations and password changes are refused until it is there", path);
        free(common);
        common = NULL;
        return;
    }
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < COMMON_BUCKETS / 2) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        lower(line);
        unsigned long i = hash_str(line) % COMMON_BUCKETS;
        while (common[i] && strcmp(common[i], line)) i = (i + 1) % COMMON_BUCKETS;
        if (!common[i]) {
            common[i] = strdup(line);
            n++;
        }
    }
    fclose(f);
}

bool password_is_common(const char *pw)
{
    pthread_once(&common_once, load_common);
    if (!common) return true;
    char low[PASSWORD_MAX_CHARS * 4 + 1];
    text_copy(low, sizeof low, pw);
    lower(low);
    unsigned long i = hash_str(low) % COMMON_BUCKETS;
    while (common[i]) {
        if (!strcmp(common[i], low)) return true;
        i = (i + 1) % COMMON_BUCKETS;
    }
    return false;
}

/* ---------- the policy ---------- */

int password_policy(const char *pw, const char *email, char *why, size_t whylen)
{
    size_t bytes = pw ? strlen(pw) : 0;
    if (!pw || !text_valid_utf8(pw, bytes)) {
        snprintf(why, whylen, "Choose a password.");
        return -1;
    }
    size_t n = text_utf8_chars(pw);
    if (n < PASSWORD_MIN_CHARS) {
        snprintf(why, whylen, "Use at least %d characters (a few words together make a good password).",
                 PASSWORD_MIN_CHARS);
        return -1;
    }
    if (n > PASSWORD_MAX_CHARS) {
        snprintf(why, whylen, "Use at most %d characters.", PASSWORD_MAX_CHARS);
        return -1;
    }
    pthread_once(&common_once, load_common);
    if (!common) {
        snprintf(why, whylen, "Passwords cannot be checked right now. Please try again later.");
        return -1;
    }
    if (password_is_common(pw)) {
        snprintf(why, whylen, "This is one of the most common passwords, and easily guessed. Choose another.");
        return -1;
    }
    if (email && !strcasecmp(pw, email)) {
        snprintf(why, whylen, "Your password must not be your e-mail address.");
        return -1;
    }
    return 0;
}

/* ---------- hashing ---------- */

static sem_t slots;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

static void init_slots(void) { sem_init(&slots, 0, PASSWORD_HASH_CONCURRENCY); }

static unsigned long long ops(void) { return (unsigned long long)(cfg.password_ops > 0 ? cfg.password_ops : 3); }
static size_t mem(void) { return (size_t)(cfg.password_mem_mb > 0 ? cfg.password_mem_mb : 64) << 20; }

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX])
{
    pthread_once(&slots_once, init_slots);
    sem_wait(&slots);
    int rc = crypto_pwhash_str(out, pw, strlen(pw), ops(), mem());
    sem_post(&slots);
    if (rc != 0) log_error("passwords: hashing failed (out of memory?)");
    return rc == 0 ? 0 : -1;
}

bool password_verify(const char *stored, const char *pw)
{
    if (!stored || strncmp(stored, "$argon2id$", 10)) return false;
    pthread_once(&slots_once, init_slots);
    sem_wait(&slots);
    bool ok = crypto_pwhash_str_verify(stored, pw, strlen(pw)) == 0;
    sem_post(&slots);
    return ok;
}

static char dummy_hash[PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    unsigned char rnd[16];
    char pw[33];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(pw, sizeof pw, rnd, sizeof rnd);
    if (password_hash(pw, dummy_hash) != 0) dummy_hash[0] = '\0';
}

void password_verify_dummy(const char *pw)
{
    /* a hash made once with the current cost, verified against pw */
    pthread_once(&dummy_once, make_dummy);
    (void)password_verify(dummy_hash, pw);
}

bool password_needs_rehash(const char *stored)
{
    return crypto_pwhash_str_needs_rehash(stored, ops(), mem()) != 0;
}
