/*
 * lockout.c -- account lockout after repeated failed logins.
 *
 * Kept per email, whether or not an account has it, so that a lockout
 * tells nothing about existence.  Durable (a logged table): a restart does
 * not unlock anyone.  The lock lifts by itself after
 * BULWARK_LOCKOUT_SECONDS; a successful login or a password reset clears
 * the count.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bulwark.h"

enum db_status
lockout_check(struct request *req, const char *email,
    struct limit_result *out)
{
	const char *vals[1] = { email };
	PGresult *r;
	enum db_status st;

	st = db_exec(req->arena, STMT_lockout_check, 1, vals, NULL, &r);
	if (st != DB_OK)
		return st;
	out->allowed = PQntuples(r) == 0;
	out->retry_after_ms = out->allowed ? 0 :
	    strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	return DB_OK;
}

enum db_status
lockout_record_failure(struct request *req, const char *email,
    int *now_locked)
{
	char thr[24], secs[24];
	const char *vals[3] = { email, thr, secs };
	PGresult *r;
	enum db_status st;

	snprintf(thr, sizeof thr, "%ld", cfg.lockout_threshold);
	snprintf(secs, sizeof secs, "%ld", cfg.lockout_seconds);
	st = db_exec(req->arena, STMT_lockout_fail, 3, vals, NULL, &r);
	if (st != DB_OK)
		return st;
	*now_locked = PQntuples(r) == 1 && PQgetvalue(r, 0, 1)[0] == 't';
	return DB_OK;
}

enum db_status
lockout_clear(struct request *req, const char *email)
{
	const char *vals[1] = { email };
	PGresult *r;

	return db_exec(req->arena, STMT_lockout_clear, 1, vals, NULL, &r);
}
