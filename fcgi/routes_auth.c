/*
 * routes_auth.c -- /health, /signup, /login, /logout.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bulwark.h"

void
route_health(struct request *req)
{
	json_object *o;
	PGresult *r;
	int ok;

	ok = db_exec(req->arena, STMT_health, 0, NULL, NULL, &r) == DB_OK;
	if (!ok)
		response_header(req, "Retry-After", "5");
	o = json_object_new_object();
	if (o != NULL)
		json_object_object_add(o, "status",
		    json_object_new_string(ok ? "ok" : "unavailable"));
	respond(req, ok ? 200 : 503, o);
}

static const struct field signup_fields[] = {
	{ "email", F_EMAIL, 0, 0 },
	{ "password", F_NEW_PASSWORD, 0, 0 },
};

void
route_signup(struct request *req)
{
	struct field_value v[2];
	char hash[PW_HASH_MAX], tok[TOKEN_LEN + 1], ttl[32], key[128];
	unsigned char sid[32];
	const char *vals[6];
	int lens[6] = { 0, 0, sizeof sid, 0, 0, 0 };
	enum db_status st;
	struct user u;
	PGresult *r;

	if (body_validate(req, signup_fields, 2, v) < 0)
		return;
	/* Each signup costs a password hash: a per-IP budget keeps signups
	 * from eating the CPU that logins need, and from probing emails in
	 * bulk through the 409. */
	snprintf(key, sizeof key, "signup:ip:%s", ip_limit_key(req));
	if (rate_limit_enforce(req, key, cfg.signup_ip_limit,
	    cfg.signup_window, "signup", NULL,
	    "Too many signups. Try again later.") < 0)
		return;
	/* Hashing first also makes a taken email cost the same time. */
	if (password_hash(v[1].str, v[1].len, hash) < 0 || token_new(tok) < 0) {
		respond_internal(req, "password hash");
		return;
	}
	crypto_sha256(tok, TOKEN_LEN, sid);
	snprintf(ttl, sizeof ttl, "%ld", cfg.session_ttl);
	vals[0] = v[0].str;
	vals[1] = hash;
	vals[2] = (const char *)sid;
	vals[3] = ttl;
	vals[4] = req->ip;
	vals[5] = req->user_agent;
	st = db_exec(req->arena, STMT_signup, 6, vals, lens, &r);
	if (st != DB_OK) {
		respond_db_error(req, st, "signup");
		goto out;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 409, "Email already registered");
		goto out;
	}
	user_from_row(req, r, 0, 0, &u);
	req->user_id_for_log = u.id;
	response_cookie(req, "session", tok, cfg.session_ttl, 1);
	log_event("info", "signup", LF_S("userId", u.id),
	    LF_S("email", u.email), LF_S("ip", req->ip));
	respond_user(req, 201, &u);
out:
	OPENSSL_cleanse(tok, sizeof tok);
	OPENSSL_cleanse(hash, sizeof hash);
}

void
route_login(struct request *req)
{
	struct user u;

	if (login_attempt(req, &u) < 0 || session_create(req, u.id) < 0)
		return;
	respond_user(req, 200, &u);
}

void
route_logout(struct request *req)
{
	json_object *o;

	if (session_delete_current(req) < 0)
		return;
	session_clear_cookie(req);
	log_event("info", "logout", LF_S("userId", req->user->id),
	    LF_S("ip", req->ip));
	o = json_object_new_object();
	if (o != NULL)
		json_object_object_add(o, "ok", json_object_new_boolean(1));
	respond(req, 200, o);
}
