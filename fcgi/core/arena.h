/*
 * core/arena.h -- request-scoped memory.
 *
 * Every allocation a request makes comes from one arena that the worker
 * resets after FCGX_Finish_r, so nothing a request allocates can outlive it.
 * Objects owned by other libraries (json-c objects, PGresults) are released
 * by cleanups registered with arena_defer.  Memory handed out by an arena
 * belongs to it and dies with it: never free() it.
 */
#ifndef CORE_ARENA_H
#define CORE_ARENA_H

#include <stddef.h>

struct arena_chunk;
struct arena_cleanup;

struct arena {
	struct arena_chunk *head;
	struct arena_cleanup *cleanups;
	size_t used;  /* bytes handed out since the last reset */
	size_t limit; /* hard cap; allocations past it fail */
};

void arena_init(struct arena *, size_t limit);
/* NULL when the cap is reached or malloc fails; memory is zeroed. */
void *arena_alloc(struct arena *, size_t);
char *arena_strndup(struct arena *, const char *, size_t);
char *arena_strdup(struct arena *, const char *);
char *arena_printf(struct arena *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Runs fn(arg) at the next reset, newest first.  -1 when out of memory (fn
 * is then run at once, so the caller never leaks what it registered). */
int arena_defer(struct arena *, void (*fn)(void *), void *arg);
/* Runs the cleanups and releases all memory but the first chunk. */
void arena_reset(struct arena *);
void arena_free(struct arena *);

#endif
