/*
 * guard/rate_limit.c -- fixed-window rate limits held in PostgreSQL.
 *
 * One statement per check (sql/rate_limit_hit.sql): an upsert that returns
 * the count, so a pool of workers, or several hosts, share one budget
 * exactly.  Every hit counts, allowed or not.
 */
#include "core/log.h"
#include "guard/guard.h"

/* rate_limit_hit's columns. */
enum { RATE_LIMIT_COUNT, RATE_LIMIT_RETRY_MS };

enum db_status
rate_limit_hit(struct request *req, const char *key, long limit,
    long window_s, struct limit_result *out)
{
	PGresult *r;
	enum db_status st;

	st = db_exec(req->arena, STMT_rate_limit_hit, &r, DB_TEXT(key),
	    DB_INT(window_s));
	if (st != DB_OK)
		return st;
	if (PQntuples(r) != 1)
		return DB_ERROR;
	out->allowed = db_int(r, 0, RATE_LIMIT_COUNT) <= limit;
	out->retry_after_ms = out->allowed ? 0 :
	    db_int(r, 0, RATE_LIMIT_RETRY_MS);
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
