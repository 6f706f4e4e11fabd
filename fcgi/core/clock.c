/*
 * core/clock.c -- monotonic time and RFC 3339 timestamps.
 */
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/clock.h"

long long
clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long
clock_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
rfc3339(struct arena *a, const char *pg)
{
	char frac[4] = "000", *out;
	size_t i, n = strlen(pg);
	const char *p;

	/* "YYYY-MM-DD HH:MM:SS[.f{1,6}]+00" -> "YYYY-MM-DDTHH:MM:SS.mmmZ" */
	if (n < 22 || pg[10] != ' ' || strcmp(pg + n - 3, "+00") != 0)
		return pg;
	p = pg + 19;
	if (*p == '.')
		for (i = 0, p++; i < 3 && *p >= '0' && *p <= '9'; i++, p++)
			frac[i] = *p;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p != pg + n - 3 || (out = arena_alloc(a, 25)) == NULL)
		return pg;
	memcpy(out, pg, 19);
	out[10] = 'T';
	out[19] = '.';
	memcpy(out + 20, frac, 3);
	out[23] = 'Z';
	out[24] = '\0';
	return out;
}
