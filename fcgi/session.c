/*
 * session.c -- cookie sessions.
 *
 * The cookie holds 256 random bits; the database holds only their SHA-256,
 * so a dump of the sessions table yields no live session.  Sessions expire
 * server-side after BULWARK_SESSION_TTL whatever the browser keeps.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bulwark.h"

int
session_create(struct request *req, const char *user_id)
{
	char tok[TOKEN_LEN + 1], ttl[32];
	unsigned char hash[32];
	const char *vals[5];
	int lens[5] = { 0, 0, 0, 0, 0 };
	PGresult *r;
	enum db_status st;

	if (token_new(tok) < 0) {
		respond_internal(req, "random");
		return -1;
	}
	crypto_sha256(tok, TOKEN_LEN, hash);
	snprintf(ttl, sizeof ttl, "%ld", cfg.session_ttl);
	vals[0] = (const char *)hash;
	lens[0] = sizeof hash;
	vals[1] = user_id;
	vals[2] = ttl;
	vals[3] = req->ip;
	vals[4] = req->user_agent;
	st = db_exec(req->arena, STMT_session_create, 5, vals, lens, &r);
	if (st != DB_OK) {
		OPENSSL_cleanse(tok, sizeof tok);
		respond_db_error(req, st, "session create");
		return -1;
	}
	response_cookie(req, "session", tok, cfg.session_ttl, 1);
	OPENSSL_cleanse(tok, sizeof tok);
	return 0;
}

void
session_after_response(struct request *req)
{
	const char *vals[1] = { (const char *)req->session_hash };
	int lens[1] = { sizeof req->session_hash };
	PGresult *r;

	/* A failure costs nothing but a stale last_seen_at. */
	if (req->has_session && req->touch_session)
		(void)db_exec(req->arena, STMT_session_touch, 1, vals, lens, &r);
}

void
session_clear_cookie(struct request *req)
{
	response_cookie(req, "session", "", 0, 1);
}

int
session_delete_current(struct request *req)
{
	const char *vals[1] = { (const char *)req->session_hash };
	int lens[1] = { sizeof req->session_hash };
	PGresult *r;
	enum db_status st;

	if (!req->has_session)
		return 0;
	st = db_exec(req->arena, STMT_session_delete, 1, vals, lens, &r);
	if (st != DB_OK) {
		respond_db_error(req, st, "session delete");
		return -1;
	}
	return 0;
}
