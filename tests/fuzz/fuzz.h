/*
 * tests/fuzz/fuzz.h -- what the libFuzzer drivers share.
 *
 * Each driver is one LLVMFuzzerTestOneInput over one parser of untrusted
 * bytes, built two ways: with clang and -fsanitize=fuzzer (make fuzz), and
 * with gcc and regress_main.c (make fuzz-regress, run by make test) over
 * the inputs kept in tests/fuzz/corpus/<driver>/ and regress/<driver>/.
 * A driver aborts when an oracle fails (a header injected, a parser that
 * accepts what json-c reads otherwise), so both builds report it.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***);

/* An oracle that failed: says which, then aborts (a crash to both). */
#define FUZZ_ASSERT(c)                                                       \
	do {                                                                 \
		if (!(c)) {                                                  \
			fprintf(stderr, "fuzz oracle failed: %s (%s:%d)\n",  \
			    #c, __FILE__, __LINE__);                         \
			abort();                                             \
		}                                                            \
	} while (0)

/* Splits d[0..n) at NUL bytes into at most max NUL-terminated strings in
 * arena memory (the last one takes the rest, NULs cut); missing parts are
 * "".  Returns how many parts the input had. */
static inline size_t
fuzz_split(struct arena *a, const uint8_t *d, size_t n, char **part,
    size_t max)
{
	size_t i, k = 0, start = 0;

	for (i = 0; i < max; i++)
		part[i] = "";
	for (i = 0; i <= n && k < max; i++) {
		if (i == n || (d[i] == '\0' && k + 1 < max)) {
			part[k] = arena_strndup(a, (const char *)d + start,
			    i - start);
			if (part[k] == NULL)
				part[k] = "";
			k++;
			start = i + 1;
		}
	}
	return k;
}

#endif
