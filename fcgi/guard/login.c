/*
 * guard/login.c -- the hardened login, shared by /login and /token/login.
 *
 * The contract's column of checks, each an early return:
 *   1. per-IP rate limit          4. one password hash, always
 *   2. per-email rate limit       5. failure: 401 (counted by step 3)
 *   3. lockout: reserve the check 6. success: lockout count cleared
 * Both routes draw on one budget because the keys do not name the route.
 */
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/crypto.h"
#include "core/ip.h"
#include "core/log.h"
#include "guard/guard.h"

/* user_by_email's own columns, after the user row. */
enum { USER_BY_EMAIL_PASSWORD_HASH = USER_NCOLS, USER_BY_EMAIL_TOTP_SECRET,
	USER_BY_EMAIL_TOTP_KID };

/* The password hash and the TOTP secret of user_by_email's row. */
static void
load_secrets(PGresult *r, struct user *u)
{
	u->password_hash = db_text(r, 0, USER_BY_EMAIL_PASSWORD_HASH);
	u->totp_sealed = PQgetisnull(r, 0, USER_BY_EMAIL_TOTP_SECRET) ? NULL :
	    db_text(r, 0, USER_BY_EMAIL_TOTP_SECRET);
	u->totp_kid = PQgetisnull(r, 0, USER_BY_EMAIL_TOTP_KID) ? NULL :
	    db_text(r, 0, USER_BY_EMAIL_TOTP_KID);
}

static const struct field login_fields[] = {
	{ "email", F_EMAIL, 0, 0 },
	{ "password", F_LOGIN_PASSWORD, 0, 0 },
	{ "code", F_STRING, 1, 32 },
};

/* One login limit: key "login:<kind>:<value>". */
static int
limit(struct request *req, const char *kind, const char *value, long max,
    const char *email)
{
	char key[300];

	snprintf(key, sizeof key, "login:%s:%s", kind, value);
	return rate_limit_enforce(req, key, max, cfg.login_window, kind, email,
	    "Too many login attempts. Try again later.");
}

/* Step 3 for every password check: 0 when email is not locked, with the
 * check reserved and counted as a failure already (*locked: this one
 * locked the email); else the 429 (logged as login_locked) or the
 * database error has been sent. */
static int
reserve(struct request *req, const char *email, int *locked)
{
	struct limit_result lim;
	enum db_status st;

	if ((st = lockout_reserve(req, email, &lim, locked)) != DB_OK) {
		respond_db_error(req, st, "lockout");
		return -1;
	}
	if (lim.allowed)
		return 0;
	log_event("warning", "login_locked", LF_S("email", email),
	    LF_S("ip", req->ip));
	respond_too_many(req, lim.retry_after_ms,
	    "Account temporarily locked. Try again later.");
	return -1;
}

/* Upgrades a hash made with weaker settings than configured; best effort:
 * the login stands if it fails. */
static void
rehash(struct request *req, const struct user *u, const char *pw, size_t len)
{
	char h[PW_HASH_MAX];
	PGresult *r;

	if (!password_needs_rehash(u->password_hash) ||
	    password_hash(pw, len, h) < 0)
		return;
	if (db_exec(req->arena, STMT_user_rehash, &r, DB_TEXT(u->id),
	    DB_TEXT(h), DB_TEXT(u->password_hash)) == DB_OK &&
	    strcmp(PQcmdTuples(r), "1") == 0)
		log_event("info", "password_rehashed", LF_S("userId", u->id));
	crypto_wipe(h, sizeof h);
}

int
login_attempt(struct request *req, struct user *u)
{
	struct field_value v[3];
	const char *email, *stored = NULL;
	char ipkey[IP_TEXT_MAX];
	enum db_status st;
	PGresult *r;
	int found, ok, locked = 0;

	if (body_validate(req, login_fields, 3, v) < 0)
		return -1;
	email = v[0].str;

	/* 1. Per-IP limit; 2. per-email limit. */
	if (limit(req, "ip", ip_limit_key(req->ip, ipkey), cfg.login_ip_limit,
	    email) < 0 ||
	    limit(req, "email", email, cfg.login_email_limit, email) < 0)
		return -1;

	/* 3. Lockout: this password check is reserved, and counted. */
	if (reserve(req, email, &locked) < 0)
		return -1;

	/* 4. One full hash whether or not the user exists. */
	if ((st = db_exec(req->arena, STMT_user_by_email, &r,
	    DB_TEXT(email))) != DB_OK)
		goto dberr;
	found = PQntuples(r) == 1;
	if (found)
		stored = db_text(r, 0, USER_BY_EMAIL_PASSWORD_HASH);
	ok = password_verify(v[1].str, v[1].len, stored);

	/* 5. Failure: counted by the reservation. */
	if (!found || !ok) {
		log_event("info", "login_failed", LF_S("email", email),
		    LF_S("ip", req->ip), LF_S("locked", locked ? "yes" : NULL));
		respond_error(req, 401, "Invalid email or password");
		return -1;
	}

	user_from_row(req, r, 0, u);
	load_secrets(r, u);

	/* Two-factor users need a code; a wrong one, or one already used, is
	 * a failed attempt like a wrong password. */
	if (u->two_factor_enabled) {
		enum twofa_result tr;

		if (!v[2].present) {
			/* The password was right: no failure. */
			if ((st = lockout_release(req, email, locked)) != DB_OK)
				goto dberr;
			log_event("info", "twofa_required", LF_S("userId", u->id),
			    LF_S("email", email), LF_S("ip", req->ip));
			respond_json(req, 401,
			    J_STR("error", "Two-factor code required"),
			    J_BOOL("twoFactorRequired", 1));
			return -1;
		}
		if ((tr = twofa_check(req, u, v[2].str, v[2].len)) ==
		    TWOFA_ANSWERED)
			return -1;
		if (tr != TWOFA_OK) {
			/* A wrong or spent code is a failure, counted by the
			 * reservation. */
			log_event("warning", "twofa_failed",
			    LF_S("userId", u->id), LF_S("email", email),
			    LF_S("ip", req->ip),
			    LF_S("reason", tr == TWOFA_REPLAY ? "replay" : "wrong"),
			    LF_S("locked", locked ? "yes" : NULL));
			respond_error(req, 401, "Invalid two-factor code");
			return -1;
		}
	}

	/* 7. Success. */
	req->user_id_for_log = u->id;
	if ((st = lockout_clear(req, email)) != DB_OK)
		goto dberr;
	req->login_user_id = u->id; /* its address is recorded afterwards */
	rehash(req, u, v[1].str, v[1].len);
	log_event("info", "login_success", LF_S("userId", u->id),
	    LF_S("email", email), LF_S("ip", req->ip));
	return 0;
dberr:
	respond_db_error(req, st, "login");
	return -1;
}

int
login_password_check(struct request *req, struct user *u, const char *pw,
    size_t len)
{
	const char *stored = NULL;
	enum db_status st;
	PGresult *r;
	int ok, locked = 0;

	if (limit(req, "email", u->email, cfg.login_email_limit, u->email) < 0)
		return -1;
	if (reserve(req, u->email, &locked) < 0)
		return -1;
	if ((st = db_exec(req->arena, STMT_user_by_email, &r,
	    DB_TEXT(u->email))) != DB_OK)
		goto dberr;
	if (PQntuples(r) == 1) {
		load_secrets(r, u);
		stored = u->password_hash;
	}
	/* One full hash even if the user vanished meanwhile. */
	ok = password_verify(pw, len, stored);
	if (!ok) {
		log_event("info", "password_check_failed",
		    LF_S("userId", u->id), LF_S("email", u->email),
		    LF_S("ip", req->ip), LF_S("locked", locked ? "yes" : NULL));
		respond_error(req, 401, "Invalid password");
		return -1;
	}
	/* Right: the reservation is given back (not a login, so the count
	 * stays). */
	if ((st = lockout_release(req, u->email, locked)) != DB_OK)
		goto dberr;
	u->password_hash = stored;
	return 0;
dberr:
	respond_db_error(req, st, "password check");
	return -1;
}
