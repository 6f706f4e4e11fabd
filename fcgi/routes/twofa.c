/*
 * routes/twofa.c -- /me/2fa/enable, /me/2fa/verify, /me/2fa/disable
 * (API.md "Two-factor authentication").
 *
 * enable seals a fresh 160-bit secret under the first data key (bound to
 * the user's id) and stores it as pending; verify checks a code against
 * the pending secret and puts it in force with ten recovery codes, shown
 * once; disable needs the password (on the login budget) and a code or a
 * recovery code.  Enabling and disabling end the user's other sessions and
 * refresh families and set the revocation mark, like a password change: a
 * bearer caller gets a fresh pair beside the answer.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/seal.h"
#include "core/totp.h"
#include "guard/guard.h"
#include "routes/routes.h"

#define NOT_CONFIGURED "Two-factor authentication is not configured"
#define WRONG_CODE "Invalid two-factor code"

/* totp_pending's columns. */
enum { PENDING_SECRET, PENDING_KID, PENDING_ENABLED };

/* Appends s percent-encoded (RFC 3986 unreserved kept) to out; -1 when it
 * does not fit. */
static int
url_encode(char *out, size_t cap, size_t *len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (*len + 4 > cap)
			return -1;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || c == '@')
			out[(*len)++] = (char)c;
		else {
			out[(*len)++] = '%';
			out[(*len)++] = hex[c >> 4];
			out[(*len)++] = hex[c & 15];
		}
	}
	out[*len] = '\0';
	return 0;
}

/* otpauth://totp/<issuer>:<email>?secret=<b32>&issuer=<issuer> */
static int
otpauth_url(char *out, size_t cap, const char *email, const char *b32)
{
	size_t len = 0;
	int n;

	n = snprintf(out, cap, "otpauth://totp/");
	if (n < 0 || (size_t)n >= cap)
		return -1;
	len = (size_t)n;
	if (url_encode(out, cap, &len, cfg.totp_issuer) < 0 ||
	    url_encode(out, cap, &len, ":") < 0 ||
	    url_encode(out, cap, &len, email) < 0)
		return -1;
	n = snprintf(out + len, cap - len, "?secret=%s&issuer=", b32);
	if (n < 0 || (size_t)n >= cap - len)
		return -1;
	len += (size_t)n;
	return url_encode(out, cap, &len, cfg.totp_issuer);
}

/* The answer of a change that set the revocation mark: a bearer caller's
 * own token died with it, so it gets a fresh pair beside the fields. */
static void
respond_changed(struct request *req, json_object *obj)
{
	if (req->has_bearer)
		token_issue(req, req->user, obj);
	else
		respond(req, 200, obj);
}

void
route_twofa_enable(struct request *req)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	unsigned char sealed[TOTP_SECRET_BYTES + SEAL_OVERHEAD];
	char b32[TOTP_SECRET_B32_LEN + 1], url[512];
	const struct seal_key *k = &cfg.data_keys[0];
	struct user *u = req->user;
	enum db_status st;
	PGresult *r;

	if (cfg.n_data_keys == 0) {
		respond_error(req, 503, NOT_CONFIGURED);
		return;
	}
	if (u->two_factor_enabled) {
		respond_error(req, 409, "Two-factor authentication is already "
		    "enabled");
		return;
	}
	if (crypto_random(secret, sizeof secret) < 0 ||
	    base32_encode(secret, sizeof secret, b32, sizeof b32, 0) !=
	    TOTP_SECRET_B32_LEN ||
	    seal_encrypt(k, u->id, strlen(u->id), secret, sizeof secret,
	    sealed, sizeof sealed) != (ssize_t)sizeof sealed) {
		respond_internal(req, "two-factor secret");
		goto out;
	}
	if (otpauth_url(url, sizeof url, u->email, b32) < 0) {
		respond_internal(req, "otpauth url");
		goto out;
	}
	st = db_exec(req->arena, STMT_totp_enable, &r, DB_TEXT(u->id),
	    DB_BYTES(sealed, sizeof sealed), DB_TEXT(k->kid));
	if (st != DB_OK) {
		respond_db_error(req, st, "totp enable");
		goto out;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 409, "Two-factor authentication is already "
		    "enabled");
		goto out;
	}
	log_event("info", "twofa_pending", LF_S("userId", u->id),
	    LF_S("ip", req->ip));
	respond_json(req, 200, J_STR("secret", b32), J_STR("otpauthUrl", url));
out:
	crypto_wipe(secret, sizeof secret);
	crypto_wipe(b32, sizeof b32);
	crypto_wipe(url, sizeof url);
}

static const struct field code_fields[] = {
	{ "code", F_STRING, 0, 32 },
};

void
route_twofa_verify(struct request *req)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	unsigned char hashes[TWOFA_RECOVERY_CODES * 32];
	char codes[TWOFA_RECOVERY_CODES][TWOFA_RECOVERY_LEN + 1];
	struct field_value v[1];
	struct user *u = req->user;
	json_object *list, *answer = NULL;
	const char *hex;
	long long step;
	enum db_status st;
	PGresult *r;
	int i, match;

	memset(codes, 0, sizeof codes);
	memset(hashes, 0, sizeof hashes);
	if (body_validate(req, code_fields, 1, v) < 0)
		return;
	st = db_exec(req->arena, STMT_totp_pending, &r, DB_TEXT(u->id));
	if (st != DB_OK) {
		respond_db_error(req, st, "totp pending");
		return;
	}
	if (PQntuples(r) == 1 && db_bool(r, 0, PENDING_ENABLED)) {
		respond_error(req, 409, "Two-factor authentication is already "
		    "enabled");
		return;
	}
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, PENDING_SECRET)) {
		respond_error(req, 400, "Two-factor setup was not started: "
		    "call /me/2fa/enable first");
		return;
	}
	hex = db_text(r, 0, PENDING_SECRET);
	if (twofa_open(req, u->id, hex, db_text(r, 0, PENDING_KID), secret) < 0)
		return;
	match = twofa_totp_match(secret, v[0].str, v[0].len, &step) == 0;
	crypto_wipe(secret, sizeof secret);
	if (!match) {
		log_event("info", "twofa_failed", LF_S("userId", u->id),
		    LF_S("ip", req->ip), LF_S("reason", "setup"));
		respond_error(req, 400, WRONG_CODE);
		return;
	}
	/* The answer is built before anything changes: the codes are shown
	 * once, so 2FA must not go on without them being sent. */
	if (twofa_recovery_codes(codes, hashes) < 0) {
		respond_internal(req, "recovery codes");
		return;
	}
	list = json_object_new_array();
	for (i = 0; i < TWOFA_RECOVERY_CODES; i++)
		list = json_push(list, json_object_new_string(codes[i]));
	if (list == NULL || (answer = json_of(J_BOOL("enabled", 1),
	    J_OBJ("recoveryCodes", list))) == NULL) {
		respond_internal(req, "recovery codes answer");
		goto out;
	}
	st = db_exec(req->arena, STMT_totp_activate, &r, DB_TEXT(u->id),
	    DB_INT(step), DB_TEXT(hex), DB_BYTES(hashes, sizeof hashes),
	    DB_BYTES_IF(req->has_session, req->session_hash,
	    sizeof req->session_hash));
	if (st != DB_OK) {
		respond_db_error(req, st, "totp activate");
		goto out;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 409, "Two-factor setup changed meanwhile: "
		    "call /me/2fa/enable again");
		goto out;
	}
	req->mail_queued = 1;
	u->two_factor_enabled = 1;
	log_event("info", "twofa_enabled", LF_S("userId", u->id),
	    LF_S("email", u->email), LF_S("ip", req->ip));
	respond_changed(req, answer);
	answer = NULL;
out:
	json_object_put(answer);
	crypto_wipe(codes, sizeof codes);
	crypto_wipe(hashes, sizeof hashes);
}

static const struct field disable_fields[] = {
	{ "password", F_LOGIN_PASSWORD, 0, 0 },
	{ "code", F_STRING, 0, 32 },
};

void
route_twofa_disable(struct request *req)
{
	struct field_value v[2];
	struct user *u = req->user;
	enum twofa_result tr;
	enum db_status st;
	PGresult *r;
	int locked = 0;

	if (body_validate(req, disable_fields, 2, v) < 0)
		return;
	if (!u->two_factor_enabled) {
		respond_error(req, 409, "Two-factor authentication is not "
		    "enabled");
		return;
	}
	/* The password, on the login budget; then the code, counted like a
	 * wrong password when it fails. */
	if (login_password_check(req, u, v[0].str, v[0].len) < 0)
		return;
	if ((tr = twofa_check(req, u, v[1].str, v[1].len)) == TWOFA_ANSWERED)
		return;
	if (tr != TWOFA_OK) {
		struct limit_result lim;

		/* Counted like a wrong password: one more reservation that is
		 * never given back (none is left to take while locked). */
		if ((st = lockout_reserve(req, u->email, &lim, &locked)) !=
		    DB_OK) {
			respond_db_error(req, st, "lockout");
			return;
		}
		log_event("warning", "twofa_failed", LF_S("userId", u->id),
		    LF_S("email", u->email), LF_S("ip", req->ip),
		    LF_S("reason", tr == TWOFA_REPLAY ? "replay" : "wrong"),
		    LF_S("locked", locked ? "yes" : NULL));
		respond_error(req, 400, WRONG_CODE);
		return;
	}
	st = db_exec(req->arena, STMT_totp_disable, &r, DB_TEXT(u->id),
	    DB_BYTES_IF(req->has_session, req->session_hash,
	    sizeof req->session_hash));
	if (st != DB_OK) {
		respond_db_error(req, st, "totp disable");
		return;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 409, "Two-factor authentication is not "
		    "enabled");
		return;
	}
	req->mail_queued = 1;
	u->two_factor_enabled = 0;
	log_event("info", "twofa_disabled", LF_S("userId", u->id),
	    LF_S("email", u->email), LF_S("ip", req->ip));
	respond_changed(req, json_of(J_BOOL("enabled", 0)));
}
