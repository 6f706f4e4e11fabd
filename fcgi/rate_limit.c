/*
 * rate_limit.c -- fixed-window rate limits held in PostgreSQL.
 *
 * One statement per check (sql/rate_limit_hit.sql): an upsert that returns
 * the count, so a pool of workers, or several hosts, share one budget
 * exactly.  Every hit counts, allowed or not.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bulwark.h"

enum db_status
rate_limit_hit(struct request *req, const char *key, long limit,
    long window_s, struct limit_result *out)
{
	char win[24];
	const char *vals[2] = { key, win };
	PGresult *r;
	enum db_status st;
	long long count;

	snprintf(win, sizeof win, "%ld", window_s);
	st = db_exec(req->arena, STMT_rate_limit_hit, 2, vals, NULL, &r);
	if (st != DB_OK)
		return st;
	if (PQntuples(r) != 1)
		return DB_ERROR;
	count = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	out->allowed = count <= limit;
	out->retry_after_ms = out->allowed ? 0 :
	    strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	return DB_OK;
}

enum db_status
rate_limit_clear(struct request *req, const char *key)
{
	const char *vals[1] = { key };
	PGresult *r;

	return db_exec(req->arena, STMT_rate_limit_clear, 1, vals, NULL, &r);
}

void
respond_too_many(struct request *req, long long retry_ms, const char *message)
{
	char ra[24];

	snprintf(ra, sizeof ra, "%ld", retry_after_seconds(retry_ms));
	response_header(req, "Retry-After", ra);
	respond_error(req, 429, message);
}

long
retry_after_seconds(long long ms)
{
	long s = (long)((ms + 999) / 1000);

	return s < 1 ? 1 : s;
}
