/* arena.h — a per-request memory pool (the nginx idea).
 *
 * Everything a request allocates for its own use (parsed parameters, route
 * captures, header copies, small strings) comes from its arena and is freed
 * in one go when the response has been sent. Nothing allocated here may be
 * kept past the request. */
#ifndef SHOEASE_ARENA_H
#define SHOEASE_ARENA_H

#include <stddef.h>

typedef struct arena arena;

arena *arena_new(void);
void arena_free(arena *a);
void *arena_alloc(arena *a, size_t size);            /* zeroed, 16-byte aligned */
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
