/*
 * routes/verify.c -- email verification (API.md "Email verification"):
 * GET /verify-email?token=, POST /verify-email {"token"}, and
 * POST /verify-email/resend.
 *
 * A token is a secret (core/crypto.h) derived from its mail's nonce, like a
 * reset token: the database holds its hash, the queue only the nonce.  It
 * works once, for cfg.verify_ttl seconds.
 */
#include <stdio.h>

#include "auth/auth.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "guard/guard.h"
#include "mail/mail.h"
#include "routes/routes.h"

#define RESEND_WINDOW 3600
#define BAD_TOKEN "Invalid or expired verification token"

/* verify_email's columns. */
enum { VERIFIED_ID, VERIFIED_EMAIL };

/* Spends the token text (NULL: none was sent). */
static void
verify(struct request *req, const char *text)
{
	struct secret tok;
	enum db_status st;
	PGresult *r;

	if (text == NULL || secret_parse(&tok, text) < 0) {
		respond_error(req, 400, BAD_TOKEN);
		return;
	}
	st = db_exec(req->arena, STMT_verify_email, &r,
	    DB_BYTES(tok.hash, sizeof tok.hash));
	secret_wipe(&tok);
	if (st != DB_OK) {
		respond_db_error(req, st, "verify email");
		return;
	}
	if (PQntuples(r) != 1) {
		log_event("info", "email_verify_failed", LF_S("ip", req->ip));
		respond_error(req, 400, BAD_TOKEN);
		return;
	}
	req->user_id_for_log = db_text(r, 0, VERIFIED_ID);
	log_event("info", "email_verified",
	    LF_S("userId", db_text(r, 0, VERIFIED_ID)),
	    LF_S("email", db_text(r, 0, VERIFIED_EMAIL)), LF_S("ip", req->ip));
	respond_json(req, 200, J_BOOL("verified", 1));
}

static const struct field verify_fields[] = {
	{ "token", F_STRING, 0, 0 },
};

void
route_verify_email_link(struct request *req)
{
	verify(req, request_query(req, "token"));
}

void
route_verify_email(struct request *req)
{
	struct field_value v[1];

	if (body_validate(req, verify_fields, 1, v) < 0)
		return;
	verify(req, v[0].str);
}

void
route_verify_resend(struct request *req)
{
	static const char sent[] = "Verification email sent.";
	struct user *u = req->user;
	unsigned char nonce[32];
	struct secret tok = { { 0 }, { 0 } };
	char key[128];
	enum db_status st;
	PGresult *r;

	if (u->email_verified) {
		respond_json(req, 200, J_STR("message", "Email already verified."));
		return;
	}
	snprintf(key, sizeof key, "verify:user:%s", u->id);
	if (rate_limit_enforce(req, key, cfg.verify_resend_limit, RESEND_WINDOW,
	    "verify_resend", u->email,
	    "Too many verification emails. Try again later.") < 0)
		return;
	if (crypto_random(nonce, sizeof nonce) < 0 ||
	    mail_link_secret(nonce, &tok) < 0) {
		respond_internal(req, "verification token");
		goto out;
	}
	st = db_exec(req->arena, STMT_verify_resend, &r, DB_TEXT(u->id),
	    DB_BYTES(tok.hash, sizeof tok.hash), DB_BYTES(nonce, sizeof nonce),
	    DB_INT(cfg.verify_ttl));
	if (st != DB_OK || PQntuples(r) != 1) {
		respond_db_error(req, st != DB_OK ? st : DB_ERROR, "resend");
		goto out;
	}
	req->mail_queued = db_bool(r, 0, 0);
	log_event("info", "verification_sent", LF_S("userId", u->id),
	    LF_S("email", u->email), LF_S("ip", req->ip));
	respond_json(req, 200, J_STR("message", req->mail_queued ? sent :
	    "Email already verified."));
out:
	secret_wipe(&tok);
	crypto_wipe(nonce, sizeof nonce);
}
