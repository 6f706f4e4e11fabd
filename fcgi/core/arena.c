/*
 * core/arena.c -- request-scoped memory (see arena.h).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

#define CHUNK_MIN (16 * 1024)
#define ALIGN 16

struct arena_chunk {
	struct arena_chunk *next;
	size_t size; /* usable bytes after the header */
	size_t off;
};

struct arena_cleanup {
	struct arena_cleanup *next;
	void (*fn)(void *);
	void *arg;
};

void
arena_init(struct arena *a, size_t limit)
{
	memset(a, 0, sizeof *a);
	a->limit = limit;
}

static void *
chunk_data(struct arena_chunk *c)
{
	return (char *)c + ((sizeof *c + ALIGN - 1) & ~(size_t)(ALIGN - 1));
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c;
	size_t need, hdr, size;
	void *p;

	if (n == 0)
		n = 1;
	if (n > a->limit || a->used > a->limit - n)
		return NULL;
	need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	c = a->head;
	if (c == NULL || c->size - c->off < need) {
		hdr = (sizeof *c + ALIGN - 1) & ~(size_t)(ALIGN - 1);
		size = need > CHUNK_MIN ? need : CHUNK_MIN;
		if ((c = malloc(hdr + size)) == NULL)
			return NULL;
		c->size = size;
		c->off = 0;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)chunk_data(c) + c->off;
	c->off += need;
	a->used += n;
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX || (p = arena_alloc(a, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = arena_alloc(a, (size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int
arena_defer(struct arena *a, void (*fn)(void *), void *arg)
{
	struct arena_cleanup *c;

	/* Cleanups do not count against the cap: they must always register. */
	if ((c = malloc(sizeof *c)) == NULL) {
		fn(arg);
		return -1;
	}
	c->fn = fn;
	c->arg = arg;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

void
arena_reset(struct arena *a)
{
	struct arena_cleanup *c;
	struct arena_chunk *k;

	while ((c = a->cleanups) != NULL) {
		a->cleanups = c->next;
		c->fn(c->arg);
		free(c);
	}
	/* Keep the oldest chunk (the bottom of the list) for the next request. */
	while (a->head != NULL && a->head->next != NULL) {
		k = a->head;
		a->head = k->next;
		free(k);
	}
	if (a->head != NULL) {
		if (a->head->size > 4 * CHUNK_MIN) {
			free(a->head);
			a->head = NULL;
		} else
			a->head->off = 0;
	}
	a->used = 0;
}

void
arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->head);
	a->head = NULL;
}
