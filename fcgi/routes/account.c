/*
 * routes/account.c -- the user's own account: /signup, /login, /logout,
 * /me.
 */
#include "auth/auth.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/ip.h"
#include "core/log.h"
#include "guard/guard.h"
#include "mail/mail.h"
#include "routes/routes.h"

static const struct field signup_fields[] = {
	{ "email", F_EMAIL, 0, 0 },
	{ "password", F_NEW_PASSWORD, 0, 0 },
};

void
route_signup(struct request *req)
{
	struct field_value v[2];
	char hash[PW_HASH_MAX], ipkey[IP_TEXT_MAX], key[128];
	struct secret sid = { { 0 }, { 0 } }, old = { { 0 }, { 0 } };
	struct secret vt = { { 0 }, { 0 } };
	unsigned char nonce[32];
	int had_one;
	enum db_status st;
	struct user u;
	PGresult *r;

	if (body_validate(req, signup_fields, 2, v) < 0)
		return;
	/* Each signup costs a password hash: a per-IP budget keeps signups
	 * from eating the CPU that logins need, and from probing emails in
	 * bulk through the 409. */
	snprintf(key, sizeof key, "signup:ip:%s", ip_limit_key(req->ip, ipkey));
	if (rate_limit_enforce(req, key, cfg.signup_ip_limit,
	    cfg.signup_window, "signup", NULL,
	    "Too many signups. Try again later.") < 0)
		return;
	/* Hashing first also makes a taken email cost the same time. */
	if (password_hash(v[1].str, v[1].len, hash) < 0 ||
	    secret_mint(&sid) < 0 || crypto_random(nonce, sizeof nonce) < 0 ||
	    mail_link_secret(nonce, &vt) < 0) {
		respond_internal(req, "password hash");
		goto out;
	}
	/* The user, its first session, its verification mail and its first
	 * known address in one statement. */
	had_one = session_presented(req, &old);
	st = db_exec(req->arena, STMT_signup, &r, DB_TEXT(v[0].str),
	    DB_TEXT(hash), DB_BYTES(sid.hash, sizeof sid.hash),
	    DB_INT(cfg.session_ttl), DB_TEXT(req->ip),
	    DB_TEXT(req->user_agent),
	    DB_BYTES_IF(had_one, old.hash, sizeof old.hash),
	    DB_BYTES(vt.hash, sizeof vt.hash), DB_BYTES(nonce, sizeof nonce),
	    DB_INT(cfg.verify_ttl), DB_TEXT(ipkey));
	if (st != DB_OK) {
		respond_db_error(req, st, "signup");
		goto out;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 409, "Email already registered");
		goto out;
	}
	user_from_row(req, r, 0, &u);
	req->user_id_for_log = u.id;
	req->mail_queued = 1;
	session_set_cookie(req, &sid);
	log_event("info", "signup", LF_S("userId", u.id),
	    LF_S("email", u.email), LF_S("ip", req->ip));
	respond_user(req, 201, &u);
out:
	secret_wipe(&old);
	secret_wipe(&sid);
	secret_wipe(&vt);
	crypto_wipe(nonce, sizeof nonce);
	crypto_wipe(hash, sizeof hash);
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
	if (session_delete_current(req) < 0)
		return;
	session_clear_cookie(req);
	log_event("info", "logout", LF_S("userId", req->user->id),
	    LF_S("ip", req->ip));
	respond_json(req, 200, J_BOOL("ok", 1));
}

void
route_me(struct request *req)
{
	respond_user(req, 200, req->user);
}
