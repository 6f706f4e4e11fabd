/*
 * routes/password.c -- /forgot-password, /reset-password, /me/password.
 *
 * A reset link is mailed, never answered: /forgot-password gives the same
 * answer, after the same work, whether or not the email has an account,
 * and the mail goes out after the response (mail/mail.c), so neither the
 * body nor the time tells.  The token is a secret derived from the queued
 * message's nonce with a server key; the database holds its hash in
 * reset_tokens and the nonce in mail_queue, neither of which opens
 * anything.  A reset or a change ends everything the old password opened:
 * sessions, refresh families, access tokens (the revocation mark).
 */
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/ip.h"
#include "core/log.h"
#include "core/validate.h"
#include "guard/guard.h"
#include "mail/mail.h"
#include "routes/routes.h"

#define RESET_WINDOW 3600 /* the reset limits are per hour */

/* forgot_password's column; reset_apply's; password_change's. */
enum { FORGOT_MATCHED };
enum { RESET_USER_ID, RESET_EMAIL };
enum { CHANGE_EMAIL };

static const struct field forgot_fields[] = {
	{ "email", F_EMAIL, 0, 0 },
};

void
route_forgot_password(struct request *req)
{
	struct field_value v[1];
	unsigned char nonce[32];
	char ipkey[IP_TEXT_MAX], key[300];
	struct secret tok = { { 0 }, { 0 } };
	PGresult *r;
	enum db_status st;
	int matched;

	if (body_validate(req, forgot_fields, 1, v) < 0)
		return;
	/* Both limits count unknown emails too: the answer must not tell. */
	snprintf(key, sizeof key, "reset:ip:%s", ip_limit_key(req->ip, ipkey));
	if (rate_limit_enforce(req, key, cfg.reset_ip_limit, RESET_WINDOW,
	    "reset_ip", v[0].str,
	    "Too many password reset requests. Try again later.") < 0)
		return;
	snprintf(key, sizeof key, "reset:email:%s", v[0].str);
	if (rate_limit_enforce(req, key, cfg.reset_email_limit, RESET_WINDOW,
	    "reset_email", v[0].str,
	    "Too many password reset requests. Try again later.") < 0)
		return;
	/* The same work whatever the email: a nonce, its token, one
	 * statement that writes only for an account. */
	if (crypto_random(nonce, sizeof nonce) < 0 ||
	    mail_link_secret(nonce, &tok) < 0) {
		respond_internal(req, "reset token");
		goto out;
	}
	st = db_exec(req->arena, STMT_forgot_password, &r, DB_TEXT(v[0].str),
	    DB_BYTES(tok.hash, sizeof tok.hash), DB_BYTES(nonce, sizeof nonce),
	    DB_INT(cfg.reset_ttl));
	if (st != DB_OK || PQntuples(r) != 1) {
		respond_db_error(req, st != DB_OK ? st : DB_ERROR, "forgot");
		goto out;
	}
	matched = db_bool(r, 0, FORGOT_MATCHED);
	req->mail_queued = matched;
	log_event("info", "reset_requested", LF_S("email", v[0].str),
	    LF_S("ip", req->ip), LF_S("matched", matched ? "yes" : "no"));
	respond_json(req, 200, J_STR("message", "If an account with that email "
	    "exists, a reset link has been sent."));
out:
	secret_wipe(&tok);
	crypto_wipe(nonce, sizeof nonce);
}

static const struct field reset_fields[] = {
	{ "token", F_STRING, 0, 0 },
	{ "newPassword", F_NEW_PASSWORD, 0, 0 },
};

/* The new password may not be the account's email; the 400 names the
 * field like any validation failure. */
static int
not_the_email(struct request *req, const struct field_value *pw,
    const char *email, const char *field)
{
	const char *msg = check_new_password(pw->str, pw->len, email);

	if (msg == NULL)
		return 0;
	respond_invalid(req, field, msg);
	return -1;
}

void
route_reset_password(struct request *req)
{
	struct field_value v[2];
	char hash[PW_HASH_MAX], ipkey[IP_TEXT_MAX], key[300];
	struct secret tok = { { 0 }, { 0 } };
	PGresult *r;
	enum db_status st;

	if (body_validate(req, reset_fields, 2, v) < 0)
		return;
	snprintf(key, sizeof key, "reset-password:ip:%s",
	    ip_limit_key(req->ip, ipkey));
	if (rate_limit_enforce(req, key, cfg.reset_ip_limit, RESET_WINDOW,
	    "reset_password_ip", NULL,
	    "Too many password reset attempts. Try again later.") < 0)
		return;
	/* A malformed token names nothing: no database trip. */
	if (secret_parse(&tok, v[0].str) < 0) {
		respond_error(req, 400, "Invalid or expired reset token");
		return;
	}
	st = db_exec(req->arena, STMT_reset_lookup, &r,
	    DB_BYTES(tok.hash, sizeof tok.hash));
	if (st != DB_OK) {
		respond_db_error(req, st, "reset lookup");
		goto out;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 400, "Invalid or expired reset token");
		goto out;
	}
	if (not_the_email(req, &v[1], db_text(r, 0, 0), "newPassword") < 0)
		goto out;
	if (password_hash(v[1].str, v[1].len, hash) < 0) {
		respond_internal(req, "password hash");
		goto out;
	}
	st = db_exec(req->arena, STMT_reset_apply, &r,
	    DB_BYTES(tok.hash, sizeof tok.hash), DB_TEXT(hash));
	crypto_wipe(hash, sizeof hash);
	if (st != DB_OK) {
		respond_db_error(req, st, "reset apply");
		goto out;
	}
	/* Spent by a concurrent use between the two statements. */
	if (PQntuples(r) != 1) {
		respond_error(req, 400, "Invalid or expired reset token");
		goto out;
	}
	req->user_id_for_log = db_text(r, 0, RESET_USER_ID);
	log_event("info", "password_reset",
	    LF_S("userId", db_text(r, 0, RESET_USER_ID)),
	    LF_S("email", db_text(r, 0, RESET_EMAIL)), LF_S("ip", req->ip));
	respond_json(req, 200, J_STR("message", "Password has been reset."));
out:
	secret_wipe(&tok);
}

static const struct field change_fields[] = {
	{ "currentPassword", F_LOGIN_PASSWORD, 0, 0 },
	{ "newPassword", F_NEW_PASSWORD, 0, 0 },
};

void
route_me_password(struct request *req)
{
	static const char done[] = "Password has been changed.";
	struct field_value v[2];
	char hash[PW_HASH_MAX];
	struct user *u = req->user;
	PGresult *r;
	enum db_status st;

	if (body_validate(req, change_fields, 2, v) < 0 ||
	    not_the_email(req, &v[1], u->email, "newPassword") < 0)
		return;
	/* The current password, on the login budget. */
	if (login_password_check(req, u, v[0].str, v[0].len) < 0)
		return;
	if (password_hash(v[1].str, v[1].len, hash) < 0) {
		respond_internal(req, "password hash");
		return;
	}
	st = db_exec(req->arena, STMT_password_change, &r, DB_TEXT(u->id),
	    DB_TEXT(hash), DB_TEXT(u->password_hash),
	    DB_BYTES_IF(req->has_session, req->session_hash,
	    sizeof req->session_hash));
	crypto_wipe(hash, sizeof hash);
	if (st != DB_OK) {
		respond_db_error(req, st, "password change");
		return;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 409, "The password was changed meanwhile");
		return;
	}
	req->mail_queued = 1;
	log_event("info", "password_changed", LF_S("userId", u->id),
	    LF_S("email", u->email), LF_S("ip", req->ip),
	    LF_S("by", req->has_bearer ? "token" : "session"));
	/* The mark ended the caller's own access token and the change its
	 * refresh family: a bearer caller gets a fresh pair. */
	if (req->has_bearer)
		token_issue(req, u, json_of(J_STR("message", done)));
	else
		respond_json(req, 200, J_STR("message", done));
}
