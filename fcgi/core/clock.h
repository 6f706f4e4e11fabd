/*
 * core/clock.h -- the one clock helper: monotonic time for deadlines and
 * durations, and timestamps as the contract prints them.
 */
#ifndef CORE_CLOCK_H
#define CORE_CLOCK_H

struct arena;

/* CLOCK_MONOTONIC: never jumps with the wall clock. */
long long clock_ms(void);
long long clock_us(void);
/* CLOCK_REALTIME in microseconds since the Unix epoch: the wall clock, for
 * comparing with times the database or a token carries. */
long long clock_wall_us(void);

/* A timestamptz as PostgreSQL prints it with TimeZone=UTC, DateStyle=ISO,
 * in RFC 3339 with milliseconds ("2026-01-02T03:04:05.678Z"); arena
 * memory, or pg itself when it is not in that form. */
const char *rfc3339(struct arena *, const char *pg);

#endif
