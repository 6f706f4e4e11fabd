/*
 * guard/lockout.c -- account lockout after repeated failed logins.
 *
 * Kept per email, whether or not an account has it, so that a lockout
 * tells nothing about existence.  Durable (a logged table): a restart does
 * not unlock anyone.  The lock lifts by itself after
 * BULWARK_LOCKOUT_SECONDS; a successful login or a password reset clears
 * the count.
 *
 * A password check is reserved before the hash (lockout_reserve), in the
 * statement that decides whether the email is locked: checking first and
 * counting after the hash let racing attempts past the threshold each get
 * a check.  Now exactly BULWARK_LOCKOUT_THRESHOLD passwords are checked
 * per lock period however many attempts race (docs/SECURITY.md).
 */
#include "core/config.h"
#include "guard/guard.h"

/* lockout_reserve's columns. */
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
lockout_reserve(struct request *req, const char *email,
    struct limit_result *out, int *now_locked)
{
	PGresult *r;
	enum db_status st;

	*now_locked = 0;
	st = db_exec(req->arena, STMT_lockout_reserve, &r, DB_TEXT(email),
	    DB_INT(cfg.lockout_threshold), DB_INT(cfg.lockout_seconds));
	if (st != DB_OK)
		return st;
	if (PQntuples(r) == 1) {
		out->allowed = 1;
		out->retry_after_ms = 0;
		*now_locked = db_bool(r, 0, LOCKOUT_LOCKED);
		return DB_OK;
	}
	/* Locked: how long for is only what the 429 says. */
	if ((st = lockout_check(req, email, out)) != DB_OK)
		return st;
	out->allowed = 0;
	if (out->retry_after_ms <= 0)
		out->retry_after_ms = 1000; /* it lifted meanwhile */
	return DB_OK;
}

enum db_status
lockout_release(struct request *req, const char *email, int undo_lock)
{
	PGresult *r;

	return db_exec(req->arena, STMT_lockout_release, &r, DB_TEXT(email),
	    DB_TEXT(undo_lock ? "true" : "false"));
}

enum db_status
lockout_clear(struct request *req, const char *email)
{
	PGresult *r;

	return db_exec(req->arena, STMT_lockout_clear, &r, DB_TEXT(email));
}
