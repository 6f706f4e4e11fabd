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

int
rate_limit_enforce(struct request *req, const char *key, long limit,
    long window_s, const char *kind, const char *email, const char *message)
{
	struct limit_result lim;
	enum db_status st;

	if ((st = rate_limit_hit(req, key, limit, window_s, &lim)) != DB_OK) {
		respond_db_error(req, st, "rate limit");
		return -1;
	}
	if (lim.allowed)
		return 0;
	log_event("warning", "rate_limited", LF_S("key", kind),
	    LF_S("ip", req->ip), LF_S("email", email));
	respond_too_many(req, lim.retry_after_ms, message);
	return -1;
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
