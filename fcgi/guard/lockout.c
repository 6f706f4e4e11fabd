/*
 * guard/lockout.c -- account lockout after repeated failed logins.
 *
 * Kept per email, whether or not an account has it, so that a lockout
 * tells nothing about existence.  Durable (a logged table): a restart does
 * not unlock anyone.  The lock lifts by itself after
 * BULWARK_LOCKOUT_SECONDS; a successful login or a password reset clears
 * the count.
 */
#include "core/config.h"
#include "guard/guard.h"

/* lockout_fail's columns. */
enum { LOCKOUT_FAILURES, LOCKOUT_LOCKED };

enum db_status
lockout_check(struct request *req, const char *email,
    struct limit_result *out)
{
	PGresult *r;
	enum db_status st;

	st = db_exec(req->arena, STMT_lockout_check, &r, DB_TEXT(email));
	if (st != DB_OK)
		return st;
	/* A row (milliseconds until the lock lifts) means locked. */
	out->allowed = PQntuples(r) == 0;
	out->retry_after_ms = out->allowed ? 0 : db_int(r, 0, 0);
	return DB_OK;
}

enum db_status
lockout_record_failure(struct request *req, const char *email,
    int *now_locked)
{
	PGresult *r;
	enum db_status st;

	st = db_exec(req->arena, STMT_lockout_fail, &r, DB_TEXT(email),
	    DB_INT(cfg.lockout_threshold), DB_INT(cfg.lockout_seconds));
	if (st != DB_OK)
		return st;
	*now_locked = PQntuples(r) == 1 && db_bool(r, 0, LOCKOUT_LOCKED);
	return DB_OK;
}

enum db_status
lockout_clear(struct request *req, const char *email)
{
	PGresult *r;

	return db_exec(req->arena, STMT_lockout_clear, &r, DB_TEXT(email));
}
