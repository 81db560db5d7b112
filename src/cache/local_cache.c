/* local_cache.c — see local_cache.h. A chained hash table plus an LRU list,
 * under one mutex: lookups are a hash and a pointer walk, far cheaper than
 * the Redis round trip that precedes them. */
#include "cache/local_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096

struct node {
    local_entry pub;           /* first: the public view of this node */
    atomic_int refs;           /* the table holds one; each response one */
    uint64_t hash;
    char *key;
    struct node *chain;        /* bucket chain */
    struct node *lru_prev, *lru_next;
    char data[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct node *buckets[NBUCKETS];
static struct node *lru_head, *lru_tail; /* head = most recently used */
static size_t total_bytes;

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void unref(struct node *n)
{
    if (atomic_fetch_sub(&n->refs, 1) == 1) {
        free(n->key);
        free(n);
    }
}

void local_cache_release(const local_entry *e)
{
    if (e) unref((struct node *)e);
}

static void lru_unlink(struct node *n)
{
    if (n->lru_prev) n->lru_prev->lru_next = n->lru_next; else lru_head = n->lru_next;
    if (n->lru_next) n->lru_next->lru_prev = n->lru_prev; else lru_tail = n->lru_prev;
    n->lru_prev = n->lru_next = NULL;
}

static void lru_push_front(struct node *n)
{
    n->lru_next = lru_head;
    if (lru_head) lru_head->lru_prev = n;
    lru_head = n;
    if (!lru_tail) lru_tail = n;
}

/* Remove n from the table (caller holds the lock). */
static void drop(struct node *n)
{
    struct node **pp = &buckets[n->hash % NBUCKETS];
    while (*pp && *pp != n) pp = &(*pp)->chain;
    if (*pp) *pp = n->chain;
    lru_unlink(n);
    total_bytes -= n->pub.len + n->pub.gz_len;
    unref(n);
}

static struct node *find(const char *key, uint64_t h)
{
    for (struct node *n = buckets[h % NBUCKETS]; n; n = n->chain)
        if (n->hash == h && strcmp(n->key, key) == 0) return n;
    return NULL;
}

const local_entry *local_cache_get(const char *key, int64_t version)
{
    uint64_t h = hash_key(key);
    pthread_mutex_lock(&lock);
    struct node *n = find(key, h);
    if (n && n->pub.version != version) {
        drop(n); /* rendered at another version: an older one is never asked for again (a newer
                  * one, in a race with a change, is fetched from Redis again) */
        n = NULL;
    }
    if (n) {
        atomic_fetch_add(&n->refs, 1);
        lru_unlink(n);
        lru_push_front(n);
    }
    pthread_mutex_unlock(&lock);
    return n ? &n->pub : NULL;
}

void local_cache_put(const char *key, int64_t version, int64_t rendered_at, const char *etag,
                     const char *content_type, const char *body, size_t len, const char *gz, size_t gz_len)
{
    if (len + gz_len > LOCAL_CACHE_MAX_BYTES / 16) return; /* one page must not flush the rest */
    struct node *n = malloc(sizeof *n + len + gz_len);
    if (!n) return;
    memset(n, 0, sizeof *n);
    atomic_init(&n->refs, 1);
    n->hash = hash_key(key);
    n->key = strdup(key);
    if (!n->key) { free(n); return; }
    memcpy(n->data, body, len);
    if (gz_len) memcpy(n->data + len, gz, gz_len);
    n->pub.gz_len = gz_len;
    n->pub.gz_body = gz_len ? n->data + len : NULL;
    n->pub.version = version;
    n->pub.rendered_at = rendered_at;
    snprintf(n->pub.etag, sizeof n->pub.etag, "%s", etag);
    snprintf(n->pub.content_type, sizeof n->pub.content_type, "%s", content_type);
    n->pub.len = len;
    n->pub.body = n->data;

    pthread_mutex_lock(&lock);
    struct node *old = find(key, n->hash);
    if (old) drop(old);
    n->chain = buckets[n->hash % NBUCKETS];
    buckets[n->hash % NBUCKETS] = n;
    lru_push_front(n);
    total_bytes += len + gz_len;
    while (total_bytes > LOCAL_CACHE_MAX_BYTES && lru_tail && lru_tail != n) drop(lru_tail);
    pthread_mutex_unlock(&lock);
}
