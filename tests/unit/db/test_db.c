/*
 * test_db.c -- the readers of binary result columns (db/db.c), on results
 * built with libpq's own PQmakeEmptyPGresult/PQsetvalue: db_time_us turns
 * PostgreSQL's wire timestamptz (microseconds since 2000-01-01 UTC, big
 * endian) into Unix microseconds, and refuses what is not one.
 */
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "tap.h"

/* A one-row, one-column result of format fmt holding len bytes of v (NULL:
 * a NULL value). */
static PGresult *
one_value(int fmt, const unsigned char *v, int len)
{
	PGresAttDesc col = { (char *)"t", 0, 0, fmt, 1184 /* timestamptz */, 8, -1 };
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	if (r == NULL || !PQsetResultAttrs(r, 1, &col) ||
	    !PQsetvalue(r, 0, 0, (char *)v, v == NULL ? -1 : len)) {
		printf("Bail out! cannot build a PGresult\n");
		exit(1);
	}
	return r;
}

/* PostgreSQL's wire form of t microseconds since 2000-01-01. */
static void
be64(long long t, unsigned char out[8])
{
	unsigned long long u = (unsigned long long)t;
	int i;

	for (i = 7; i >= 0; i--, u >>= 8)
		out[i] = (unsigned char)(u & 0xff);
}

static void
time_is(long long pg, long long want, const char *name)
{
	unsigned char b[8];
	long long got = 0;
	PGresult *r;
	int rc;

	be64(pg, b);
	r = one_value(1, b, 8);
	rc = db_time_us(r, 0, 0, &got);
	ok(rc == 0 && got == want, "%s: %lld", name, want);
	if (rc != 0 || got != want)
		printf("#   rc %d, got %lld\n", rc, got);
	PQclear(r);
}

static void
refused(PGresult *r, const char *name)
{
	long long got = 12345;

	ok(db_time_us(r, 0, 0, &got) == -1 && got == 12345, "refused: %s", name);
	PQclear(r);
}

int
main(void)
{
	const long long epoch2000 = 946684800LL * 1000000;
	unsigned char b[8];

	/* Values as PostgreSQL computes them:
	 * SELECT (extract(epoch FROM t) - 946684800) * 1e6 for each. */
	time_is(0, epoch2000, "2000-01-01T00:00:00Z");
	time_is(1, epoch2000 + 1, "one microsecond later");
	time_is(-1, epoch2000 - 1, "one microsecond before (1999)");
	/* 2026-12-02T17:00:00.123456Z: 1796230800.123456 s since 1970. */
	time_is(1796230800123456LL - epoch2000, 1796230800123456LL, "2026-12-02T17:00:00.123456Z");
	/* 1970-01-01T00:00:00Z and before it. */
	time_is(-epoch2000, 0, "the Unix epoch");
	time_is(-epoch2000 - 86400LL * 1000000, -86400LL * 1000000, "1969-12-31T00:00:00Z");

	be64(0x7fffffffffffffffLL, b);
	refused(one_value(1, b, 8), "infinity");
	be64((long long)(-0x7fffffffffffffffLL - 1), b);
	refused(one_value(1, b, 8), "-infinity");
	be64(0, b);
	refused(one_value(1, b, 7), "7 bytes");
	refused(one_value(0, (const unsigned char *)"2000-01-01 00:00:00+00", 22), "a text column");
	refused(one_value(1, NULL, 0), "NULL");
	return done_testing();
}
