/* argon2_time.c — how long one Argon2id password check takes on this
 * machine, made exactly as the app makes it (src/shop/password.c: libsodium's
 * crypto_pwhash_str / crypto_pwhash_str_verify, PASSWORD_HASH_OPS passes over
 * PASSWORD_HASH_MEM_MB MiB). A sign-in costs one verify, so this bounds
 * sign-ins per second: at most (cores / verify time).
 *
 *   cc -O2 -o argon2_time bench/argon2_time.c -lsodium -lpthread
 *   argon2_time OPS MEM_MB N THREADS
 *
 * Hashes a random password once, then THREADS threads each verify it N
 * times; prints one JSON line: {"ops":3,"mem_mb":64,"threads":T,"verifies":V,
 * "secs":S,"ms_per_verify":M,"verifies_per_s":R} (ms_per_verify = wall time
 * x threads / verifies: the time one check holds a core). */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char stored[crypto_pwhash_STRBYTES];
static const char *password = "correct horse battery staple, timed";
static int per_thread;
static int failures;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *verify_loop(void *arg)
{
    (void)arg;
    for (int i = 0; i < per_thread; i++)
        if (crypto_pwhash_str_verify(stored, password, strlen(password)) != 0) __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: argon2_time OPS MEM_MB N THREADS\n");
        return 2;
    }
    unsigned long long ops = strtoull(argv[1], NULL, 10);
    size_t mem = (size_t)strtoull(argv[2], NULL, 10) << 20;
    per_thread = atoi(argv[3]);
    int threads = atoi(argv[4]);
    if (sodium_init() < 0 || ops < 1 || mem == 0 || per_thread < 1 || threads < 1 || threads > 64) return 2;
    if (crypto_pwhash_str(stored, password, strlen(password), ops, mem) != 0) {
        fprintf(stderr, "argon2_time: hashing failed (out of memory?)\n");
        return 1;
    }
    pthread_t t[64];
    double t0 = now();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, verify_loop, NULL);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    double secs = now() - t0;
    int n = per_thread * threads;
    if (failures) {
        fprintf(stderr, "argon2_time: %d of %d checks failed\n", failures, n);
        return 1;
    }
    printf("{\"ops\":%llu,\"mem_mb\":%s,\"threads\":%d,\"verifies\":%d,\"secs\":%.4f,\"ms_per_verify\":%.2f,"
           "\"verifies_per_s\":%.2f}\n",
           ops, argv[2], threads, n, secs, 1000.0 * secs * threads / n, n / secs);
    return 0;
}
