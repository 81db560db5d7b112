/* tag_versions.c — see tag_versions.h. A chained hash table under one
 * mutex (a lookup is two short string compares), and a generation counter
 * that only the watch thread changes: odd while it applies invalidations. */
#include "cache/tag_versions.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024

struct tag {
    struct tag *next;
    uint64_t hash;
    int64_t version;
    size_t len;
    char name[];
};

struct tag_versions {
    pthread_mutex_t lock;
    atomic_uint_fast64_t gen;
    size_t count, max;
    struct tag *buckets[NBUCKETS];
};

static uint64_t hash_name(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

tag_versions *tv_new(size_t max_tags)
{
    tag_versions *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    pthread_mutex_init(&t->lock, NULL);
    atomic_init(&t->gen, 0);
    t->max = max_tags ? max_tags : 1;
    return t;
}

static void clear(tag_versions *t)
{
    for (size_t b = 0; b < NBUCKETS; b++) {
        for (struct tag *e = t->buckets[b], *next; e; e = next) {
            next = e->next;
            free(e);
        }
        t->buckets[b] = NULL;
    }
    t->count = 0;
}

void tv_free(tag_versions *t)
{
    if (!t) return;
    clear(t);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static struct tag **find(tag_versions *t, const char *name, size_t len, uint64_t h)
{
    struct tag **pp = &t->buckets[h % NBUCKETS];
    while (*pp && !((*pp)->hash == h && (*pp)->len == len && memcmp((*pp)->name, name, len) == 0)) pp = &(*pp)->next;
    return pp;
}

bool tv_get(tag_versions *t, const char *const *tags, int n, int64_t *versions, uint64_t *token, tv_quiet_fn quiet,
            void *ctx)
{
    uint64_t g = atomic_load(&t->gen);
    *token = g;
    if (g & 1) return false; /* the watch is applying invalidations */
    bool all = true;
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < n && all; i++) {
        size_t len = strlen(tags[i]);
        struct tag *e = *find(t, tags[i], len, hash_name(tags[i], len));
        if (e) versions[i] = e->version;
        else all = false;
    }
    pthread_mutex_unlock(&t->lock);
    /* Known is not enough: an invalidation may be waiting unread, or have
     * been read and applied while we looked (the generation moved). */
    return all && quiet(ctx) && atomic_load(&t->gen) == g;
}

void tv_learn(tag_versions *t, const char *const *tags, int n, const int64_t *versions, uint64_t token,
              tv_quiet_fn quiet, void *ctx)
{
    pthread_mutex_lock(&t->lock);
    if (!(token & 1) && atomic_load(&t->gen) == token && quiet(ctx)) {
        for (int i = 0; i < n; i++) {
            if (versions[i] < 0) continue;
            size_t len = strlen(tags[i]);
            uint64_t h = hash_name(tags[i], len);
            struct tag *e = *find(t, tags[i], len, h);
            if (e) {
                e->version = versions[i];
                continue;
            }
            if (t->count >= t->max) clear(t); /* forgetting is always safe: it costs a Redis read */
            if (!(e = malloc(sizeof *e + len + 1))) break;
            e->hash = h;
            e->len = len;
            e->version = versions[i];
            memcpy(e->name, tags[i], len + 1);
            e->next = t->buckets[h % NBUCKETS];
            t->buckets[h % NBUCKETS] = e;
            t->count++;
        }
    }
    pthread_mutex_unlock(&t->lock);
}

void tv_changing(tag_versions *t)
{
    if (!(atomic_load(&t->gen) & 1)) atomic_fetch_add(&t->gen, 1);
}

void tv_changed(tag_versions *t, const char *const *names, const size_t *lens, int n, bool all)
{
    pthread_mutex_lock(&t->lock);
    if (all) {
        clear(t);
    } else {
        for (int i = 0; i < n; i++) {
            struct tag **pp = find(t, names[i], lens[i], hash_name(names[i], lens[i]));
            if (*pp) {
                struct tag *e = *pp;
                *pp = e->next;
                free(e);
                t->count--;
            }
        }
    }
    /* even again, and never the value any token was handed out at */
    atomic_fetch_add(&t->gen, (atomic_load(&t->gen) & 1) ? 1 : 2);
    pthread_mutex_unlock(&t->lock);
}

size_t tv_size(tag_versions *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}
