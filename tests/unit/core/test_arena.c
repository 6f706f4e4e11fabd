/*
 * test_arena.c -- request-scoped memory: alignment, zeroing, cap, cleanups.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "tap.h"

static int order[16];
static int norder;

static void
record(void *arg)
{
	if (norder < 16)
		order[norder++] = *(int *)arg;
}

static int
all_bytes(const void *p, size_t n, unsigned char v)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != v)
			return 0;
	return 1;
}

static void
test_alignment_and_zero(void)
{
	struct arena a;
	size_t n, misaligned = 0, dirty = 0;
	unsigned char *p;

	arena_init(&a, 1 << 20);
	ok(a.used == 0 && a.limit == (1 << 20) && a.head == NULL &&
	    a.cleanups == NULL, "arena_init: empty, limit set");
	for (n = 0; n <= 100; n++) {
		if ((p = arena_alloc(&a, n)) == NULL ||
		    (uintptr_t)p % 16 != 0)
			misaligned++;
		else {
			if (!all_bytes(p, n, 0))
				dirty++;
			memset(p, 0xEE, n); /* dirty it for the reuse below */
		}
	}
	ok(misaligned == 0, "sizes 0..100: every pointer 16-byte aligned "
	    "(%zu not)", misaligned);
	ok(dirty == 0, "sizes 0..100: fresh memory is zeroed");

	arena_reset(&a);
	for (dirty = 0, n = 1; n <= 100; n++) {
		if ((p = arena_alloc(&a, n)) == NULL || !all_bytes(p, n, 0))
			dirty++;
		if (p != NULL)
			memset(p, 0xEE, n);
	}
	ok(dirty == 0, "after reset, reused (dirtied) memory is zeroed again");
	arena_free(&a);
}

static void
test_strings(void)
{
	struct arena a;
	char *s, *big;

	arena_init(&a, 1 << 20);
	is_str(arena_strndup(&a, "hello world", 5), "hello", "strndup cuts");
	is_str(arena_strndup(&a, "ab", 0), "", "strndup of 0 bytes is \"\"");
	s = arena_strndup(&a, "a\0b", 3);
	ok(s != NULL && s[0] == 'a' && s[1] == '\0' && s[2] == 'b' &&
	    s[3] == '\0', "strndup copies n bytes and adds a NUL");
	is_str(arena_strdup(&a, "copy me"), "copy me", "strdup");
	is_str(arena_printf(&a, "%s-%d-%05.1f", "x", 42, 2.5), "x-42-002.5",
	    "printf formats");
	is_str(arena_printf(&a, "%s", ""), "", "printf of the empty string");
	big = arena_printf(&a, "%40000d", 7);
	ok(big != NULL && strlen(big) == 40000 && big[39999] == '7',
	    "printf longer than a chunk (40000 chars)");
	arena_free(&a);
}

static void
test_cap(void)
{
	struct arena a;
	char *p, *q;

	arena_init(&a, 1000);
	p = arena_alloc(&a, 600);
	ok(p != NULL && a.used == 600, "600 of 1000: OK, used 600 (%zu)",
	    a.used);
	q = arena_alloc(&a, 400);
	ok(q != NULL && a.used == 1000, "400 more reaches the cap exactly "
	    "(used %zu)", a.used);
	ok(q != NULL && (q >= p + 600 || q + 400 <= p),
	    "the two blocks do not overlap");
	ok(arena_alloc(&a, 1) == NULL, "1 byte past the cap: NULL");
	ok(arena_alloc(&a, 0) == NULL, "0 bytes at the cap: NULL (counts as 1)");
	ok(a.used == 1000, "a failed allocation does not change used (%zu)",
	    a.used);
	ok(arena_strdup(&a, "") == NULL, "strdup at the cap: NULL");
	ok(arena_printf(&a, "x") == NULL, "printf at the cap: NULL");
	arena_reset(&a);
	ok(a.used == 0, "reset: used back to 0");
	ok(arena_alloc(&a, 1001) == NULL, "a single allocation over the cap: "
	    "NULL");
	ok(arena_alloc(&a, SIZE_MAX) == NULL, "SIZE_MAX: NULL");
	ok(arena_alloc(&a, SIZE_MAX - 8) == NULL, "SIZE_MAX - 8: NULL");
	ok(arena_strndup(&a, "x", SIZE_MAX) == NULL, "strndup of SIZE_MAX: NULL");
	ok(a.used == 0, "still nothing used (%zu)", a.used);
	ok(arena_alloc(&a, 1000) != NULL, "after reset the whole cap is "
	    "available again");
	arena_free(&a);

	/* used counts requested bytes, not the rounding. */
	arena_init(&a, 1 << 20);
	arena_alloc(&a, 3);
	arena_alloc(&a, 5);
	ok(a.used == 8, "used sums requested sizes (3 + 5 = %zu)", a.used);
	arena_free(&a);
}

static void
test_large_and_many(void)
{
	struct arena a;
	unsigned char *small1, *big, *small2, *ptrs[1000];
	size_t i, bad = 0;

	arena_init(&a, 64 << 20);
	small1 = arena_alloc(&a, 100);
	big = arena_alloc(&a, 200000); /* beyond a 16 KiB chunk */
	ok(big != NULL && (uintptr_t)big % 16 == 0,
	    "200000 bytes: allocated and aligned");
	ok(big != NULL && all_bytes(big, 200000, 0), "  and zeroed");
	if (big != NULL)
		memset(big, 0xBB, 200000); /* ASan checks the whole range */
	small2 = arena_alloc(&a, 100);
	ok(small1 != NULL && small2 != NULL, "small allocations around it");
	if (small2 != NULL)
		memset(small2, 0xCC, 100);
	memset(small1, 0xDD, 100);
	ok(all_bytes(big, 200000, 0xBB) && all_bytes(small1, 100, 0xDD) &&
	    all_bytes(small2, 100, 0xCC), "none of them overlap");
	ok(a.used == 200200, "used is 200200 (%zu)", a.used);

	/* Many blocks over several chunks keep their contents. */
	for (i = 0; i < 1000; i++) {
		ptrs[i] = arena_alloc(&a, 100);
		if (ptrs[i] == NULL)
			bad++;
		else
			memset(ptrs[i], (int)(i & 0xff), 100);
	}
	for (i = 0; i < 1000; i++)
		if (ptrs[i] != NULL && !all_bytes(ptrs[i], 100,
		    (unsigned char)(i & 0xff)))
			bad++;
	ok(bad == 0, "1000 x 100 bytes over several chunks: all distinct and "
	    "intact (%zu bad)", bad);
	arena_reset(&a);
	ok(a.used == 0, "reset after large allocations");
	big = arena_alloc(&a, 200000);
	ok(big != NULL && all_bytes(big, 200000, 0),
	    "a large allocation after reset is zeroed");
	arena_free(&a);
}

static void
test_defer(void)
{
	struct arena a;
	int one = 1, two = 2, three = 3, four = 4;
	char *p;

	arena_init(&a, 1 << 20);
	norder = 0;
	ok(arena_defer(&a, record, &one) == 0 &&
	    arena_defer(&a, record, &two) == 0 &&
	    arena_defer(&a, record, &three) == 0, "three cleanups registered");
	ok(norder == 0, "cleanups do not run before reset");
	arena_reset(&a);
	ok(norder == 3 && order[0] == 3 && order[1] == 2 && order[2] == 1,
	    "reset runs them newest first (got %d: %d %d %d)", norder,
	    order[0], order[1], order[2]);
	arena_reset(&a);
	ok(norder == 3, "a second reset runs nothing again");

	/* Cleanups are not limited by the cap. */
	arena_free(&a);
	arena_init(&a, 16);
	p = arena_alloc(&a, 16);
	ok(p != NULL && arena_alloc(&a, 1) == NULL, "a 16-byte arena is full");
	norder = 0;
	ok(arena_defer(&a, record, &four) == 0,
	    "arena_defer still registers at the cap");
	ok(norder == 0, "  and does not run it at once");
	arena_free(&a);
	ok(norder == 1 && order[0] == 4, "arena_free runs pending cleanups");
	ok(a.head == NULL && a.cleanups == NULL && a.used == 0,
	    "arena_free leaves the arena empty");
	p = arena_alloc(&a, 10);
	ok(p != NULL, "an arena can be used again after arena_free");
	arena_free(&a);
}

static void
test_reuse(void)
{
	struct arena a;
	void *p1, *p2, *p3;

	arena_init(&a, 1 << 20);
	p1 = arena_alloc(&a, 64);
	arena_alloc(&a, 20000); /* forces a second chunk */
	arena_reset(&a);
	p2 = arena_alloc(&a, 64);
	ok(p1 != NULL && p1 == p2, "reset keeps the first chunk: same address "
	    "for the first allocation");
	arena_reset(&a);
	p3 = arena_alloc(&a, 64);
	ok(p3 == p1, "and again after a second reset");
	arena_free(&a);
}

int
main(void)
{
	test_alignment_and_zero();
	test_strings();
	test_cap();
	test_large_and_many();
	test_defer();
	test_reuse();
	return done_testing();
}
