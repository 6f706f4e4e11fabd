/*
 * auth/token.c -- tokens for API clients: short-lived JWT access tokens
 * and refresh tokens in families.
 *
 * An access token is checked against the key ring (core/jwt.c) and then,
 * in one round trip, against the user as stored now, the user's revocation
 * mark and the deny list: a deleted or demoted user loses access on the
 * next request, and a logged-out token at once on every worker.
 *
 * A refresh token is a secret (core/crypto.h) stored only as its hash, in
 * a family with an absolute lifetime.  Spending one issues the next in the
 * same statement (sql/token_refresh.sql).  The next token is derived from
 * the spent one with a server key, and the access token that goes with it
 * from that, so a retry of the same token within the grace window
 * (BULWARK_REFRESH_REUSE_INTERVAL) gets exactly the same pair while the
 * database still holds nothing but hashes; any other reuse of a spent
 * token revokes the family.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/auth.h"
#include "core/config.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/validate.h"

/* An iat this far ahead of our clock is still taken (another host's). */
#define IAT_SKEW_SECONDS 60
/*
 * A jti is "<family id>.<issued>.<tag>": the refresh family the token came
 * with (so /token/logout can end it), when it was issued in microseconds
 * on the database's clock (so the revocation mark is exact although iat
 * is whole seconds), and 8 base64url characters of HMAC of the refresh
 * token's hash under the refresh key (unique, and the same again for a
 * retry within the grace window).  The signature covers all of it.
 */
#define JTI_FAMILY_LEN 36
#define JTI_TAG_BYTES 6
#define JTI_TAG_LEN 8

/* token_user's own columns, after the user row. */
enum { TOKEN_USER_REVOKED = USER_NCOLS, TOKEN_USER_DENIED };
/* token_family_create's columns. */
enum { FAMILY_ID, FAMILY_ISSUED_US };
/* token_refresh's own columns, after the user row. */
enum { REFRESH_OUTCOME = USER_NCOLS, REFRESH_FAMILY, REFRESH_USER_ID,
	REFRESH_ISSUED_US };

void
token_unauthorized(struct request *req, int invalid)
{
	response_header(req, "WWW-Authenticate", invalid ?
	    "Bearer realm=\"bulwark\", error=\"invalid_token\"" :
	    "Bearer realm=\"bulwark\"");
	respond_error(req, 401, "Unauthorized");
}

/* The jti of the access token issued at issued_us with refresh token rt
 * of family.  -1 when it cannot be made. */
static int
make_jti(char out[JWT_JTI_MAX + 1], const char *family, long long issued_us,
    const struct secret *rt)
{
	unsigned char in[4 + SECRET_HASH_LEN], raw[32];
	char tag[JTI_TAG_LEN + 1];
	int rc = -1, n;

	/* Labelled: the next refresh token is HMAC of the bare hash under
	 * the same key, and the jti, which anyone holding the access token
	 * reads, must tell nothing of it. */
	memcpy(in, "jti:", 4);
	memcpy(in + 4, rt->hash, SECRET_HASH_LEN);
	if (strlen(family) == JTI_FAMILY_LEN && issued_us > 0 &&
	    crypto_hmac_sha256(cfg.refresh_key, sizeof cfg.refresh_key,
	    in, sizeof in, raw) == 0 &&
	    b64url_encode(raw, JTI_TAG_BYTES, tag, sizeof tag) == JTI_TAG_LEN) {
		n = snprintf(out, JWT_JTI_MAX + 1, "%s.%lld.%s", family,
		    issued_us, tag);
		rc = n > 0 && n <= JWT_JTI_MAX ? 0 : -1;
	}
	crypto_wipe(raw, sizeof raw);
	return rc;
}

/* Splits a jti that make_jti made: its family (arena memory) and when it
 * was issued.  -1 when it is not of that form. */
static int
jti_parse(struct request *req, const char *jti, const char **family,
    long long *issued_us)
{
	const char *p = jti + JTI_FAMILY_LEN + 1;
	char *end, *f;
	long long v;

	if (strlen(jti) <= JTI_FAMILY_LEN + 1 || jti[JTI_FAMILY_LEN] != '.' ||
	    *p < '1' || *p > '9')
		return -1;
	errno = 0;
	v = strtoll(p, &end, 10);
	if (errno != 0 || *end != '.' || strlen(end + 1) != JTI_TAG_LEN ||
	    (f = arena_strndup(req->arena, jti, JTI_FAMILY_LEN)) == NULL ||
	    !uuid_valid(f))
		return -1;
	*family = f;
	*issued_us = v;
	return 0;
}

/* 1 when an Authorization value h uses the Bearer scheme (RFC 6750 2.1:
 * case-insensitive, then a space). */
static int
bearer_scheme(const char *h)
{
	return h != NULL && strncasecmp(h, "Bearer ", 7) == 0;
}

/* The token of "Authorization: Bearer <token>" (RFC 6750 2.1: the scheme
 * is case-insensitive, one or more spaces, then the b64token), or NULL;
 * *present tells whether an Authorization header was sent at all. */
static const char *
bearer_token(struct request *req, int *present)
{
	const char *h = request_header(req, "HTTP_AUTHORIZATION"), *t;
	size_t i;

	*present = h != NULL;
	if (!bearer_scheme(h))
		return NULL;
	for (t = h + 7; *t == ' '; t++)
		;
	for (i = 0; t[i] != '\0'; i++)
		if (!isalnum((unsigned char)t[i]) &&
		    strchr("-._~+/=", t[i]) == NULL)
			return NULL;
	return i > 0 ? t : NULL;
}

int
token_presented(struct request *req)
{
	return bearer_scheme(request_header(req, "HTTP_AUTHORIZATION"));
}

int
token_authenticate(struct request *req)
{
	struct jwt_claims c;
	enum jwt_err e;
	const char *tok, *family = NULL, *why = NULL;
	long long issued_us = 0;
	struct user *u;
	PGresult *r;
	enum db_status st;
	int present;

	if ((tok = bearer_token(req, &present)) == NULL) {
		token_unauthorized(req, present);
		return -1;
	}
	e = jwt_verify(&cfg.jwt_ring, tok, strlen(tok), (long long)time(NULL),
	    cfg.jwt_issuer, IAT_SKEW_SECONDS, &c);
	if (e == JWT_INTERNAL) {
		respond_internal(req, "jwt");
		return -1;
	}
	/* Signed by us, so these hold for every token we made; one that
	 * breaks them was made with a stolen key or by a bug. */
	if (e != JWT_OK)
		why = jwt_error_name(e);
	else if (!uuid_valid(c.sub))
		why = "sub";
	else if (jti_parse(req, c.jti, &family, &issued_us) < 0 ||
	    issued_us / 1000000 != c.iat)
		why = "jti";
	if (why != NULL) {
		log_event("info", "token_refused", LF_S("reason", why),
		    LF_S("ip", req->ip));
		token_unauthorized(req, 1);
		return -1;
	}
	st = db_exec(req->arena, STMT_token_user, &r, DB_TEXT(c.sub),
	    DB_INT(issued_us), DB_TEXT(c.jti), DB_TEXT(family));
	if (st != DB_OK) {
		respond_db_error(req, st, "token user");
		return -1;
	}
	if (PQntuples(r) != 1 || db_bool(r, 0, TOKEN_USER_REVOKED) ||
	    db_bool(r, 0, TOKEN_USER_DENIED)) {
		log_event("info", "token_refused", LF_S("reason",
		    PQntuples(r) != 1 ? "no_user" : db_bool(r, 0,
		    TOKEN_USER_DENIED) ? "denied" : "revoked"),
		    LF_S("userId", c.sub), LF_S("ip", req->ip));
		token_unauthorized(req, 1);
		return -1;
	}
	if ((u = arena_alloc(req->arena, sizeof *u)) == NULL ||
	    (req->token_jti = arena_strdup(req->arena, c.jti)) == NULL) {
		respond_internal(req, "token user");
		return -1;
	}
	user_from_row(req, r, 0, u);
	req->user = u;
	req->has_bearer = 1;
	req->token_exp = c.exp;
	req->token_family = family;
	req->user_id_for_log = u->id;
	return 0;
}

/* Adds every field of from to into (both consumed): into, or NULL when
 * out of memory. */
static json_object *
json_merge(json_object *into, json_object *from)
{
	int ok = into != NULL && from != NULL;

	if (ok) {
		json_object_object_foreach(from, k, v) {
			if (json_object_object_add(into, k,
			    json_object_get(v)) != 0) {
				json_object_put(v);
				ok = 0;
				break;
			}
		}
	}
	json_object_put(from);
	if (!ok) {
		json_object_put(into);
		return NULL;
	}
	return into;
}

/* Answers {"accessToken","refreshToken","tokenType","expiresIn"}: the
 * access token for u issued at issued_us (microseconds) with refresh token
 * rt of family, and rt; after the fields of extra (consumed; NULL: none). */
static void
respond_pair(struct request *req, const struct user *u, const char *family,
    long long issued_us, const struct secret *rt, long expires_in,
    json_object *extra)
{
	struct jwt_claims c;
	char at[JWT_TOKEN_MAX + 1], jti[JWT_JTI_MAX + 1];
	json_object *pair;

	if (make_jti(jti, family, issued_us, rt) < 0) {
		json_object_put(extra);
		respond_internal(req, "jti");
		return;
	}

	memset(&c, 0, sizeof c);
	if (snprintf(c.sub, sizeof c.sub, "%s", u->id) >= (int)sizeof c.sub ||
	    snprintf(c.email, sizeof c.email, "%s", u->email) >=
	    (int)sizeof c.email ||
	    snprintf(c.role, sizeof c.role, "%s", u->role) >=
	    (int)sizeof c.role ||
	    snprintf(c.jti, sizeof c.jti, "%s", jti) >= (int)sizeof c.jti ||
	    snprintf(c.iss, sizeof c.iss, "%s", cfg.jwt_issuer) >=
	    (int)sizeof c.iss) {
		json_object_put(extra);
		respond_internal(req, "token claims");
		return;
	}
	c.iat = issued_us / 1000000;
	c.exp = c.iat + cfg.access_ttl;
	if (jwt_sign(&cfg.jwt_ring, &c, at, sizeof at) < 0) {
		json_object_put(extra);
		respond_internal(req, "token sign");
		return;
	}
	pair = json_of(J_STR("accessToken", at), J_STR("refreshToken", rt->text),
	    J_STR("tokenType", "Bearer"), J_INT("expiresIn", expires_in));
	crypto_wipe(at, sizeof at);
	if (extra != NULL)
		pair = json_merge(extra, pair);
	respond(req, 200, pair);
}

void
token_issue(struct request *req, const struct user *u, json_object *extra)
{
	struct secret rt;
	PGresult *r;
	enum db_status st;

	if (secret_mint(&rt) < 0) {
		json_object_put(extra);
		respond_internal(req, "random");
		return;
	}
	st = db_exec(req->arena, STMT_token_family_create, &r, DB_TEXT(u->id),
	    DB_BYTES(rt.hash, sizeof rt.hash), DB_INT(cfg.refresh_ttl));
	if (st != DB_OK || PQntuples(r) != 1) {
		json_object_put(extra);
		respond_db_error(req, st != DB_OK ? st : DB_ERROR,
		    "refresh family");
	} else
		respond_pair(req, u, db_text(r, 0, FAMILY_ID),
		    db_int(r, 0, FAMILY_ISSUED_US), &rt, cfg.access_ttl, extra);
	secret_wipe(&rt);
}

void
token_refresh(struct request *req, const char *text)
{
	struct secret cur, next;
	const char *outcome;
	long long issued_us, left;
	struct user u;
	PGresult *r;
	enum db_status st;

	/* A malformed token names no family: no database trip. */
	if (secret_parse(&cur, text) < 0) {
		respond_error(req, 401, "Invalid refresh token");
		return;
	}
	if (secret_derive(&next, cfg.refresh_key, cur.hash,
	    sizeof cur.hash) < 0) {
		respond_internal(req, "refresh derive");
		goto out;
	}
	st = db_exec(req->arena, STMT_token_refresh, &r,
	    DB_BYTES(cur.hash, sizeof cur.hash),
	    DB_BYTES(next.hash, sizeof next.hash),
	    DB_INT(cfg.refresh_reuse_interval));
	if (st != DB_OK || PQntuples(r) != 1) {
		respond_db_error(req, st != DB_OK ? st : DB_ERROR, "refresh");
		goto out;
	}
	outcome = db_text(r, 0, REFRESH_OUTCOME);
	if (strcmp(outcome, "reuse") == 0)
		log_event("warning", "refresh_token_reuse",
		    LF_S("familyId", db_text(r, 0, REFRESH_FAMILY)),
		    LF_S("userId", db_text(r, 0, REFRESH_USER_ID)),
		    LF_S("ip", req->ip));
	if ((strcmp(outcome, "rotated") != 0 &&
	    strcmp(outcome, "grace") != 0) ||
	    PQgetisnull(r, 0, USER_COL_ID)) {
		respond_error(req, 401, "Invalid refresh token");
		goto out;
	}
	user_from_row(req, r, 0, &u);
	req->user_id_for_log = u.id;
	if (strcmp(outcome, "grace") == 0)
		log_event("info", "refresh_token_retry",
		    LF_S("familyId", db_text(r, 0, REFRESH_FAMILY)),
		    LF_S("userId", u.id), LF_S("ip", req->ip));
	/* A retry gets the same access token: what is left of its life. */
	issued_us = db_int(r, 0, REFRESH_ISSUED_US);
	left = issued_us / 1000000 + cfg.access_ttl - (long long)time(NULL);
	respond_pair(req, &u, db_text(r, 0, REFRESH_FAMILY), issued_us, &next,
	    strcmp(outcome, "grace") != 0 || left > cfg.access_ttl ?
	    cfg.access_ttl : left < 1 ? 1 : (long)left, NULL);
out:
	secret_wipe(&cur);
	secret_wipe(&next);
}

void
token_logout(struct request *req, const char *refresh_text)
{
	struct secret rt;
	int given;
	PGresult *r;
	enum db_status st;

	given = refresh_text != NULL && secret_parse(&rt, refresh_text) == 0;
	st = db_exec(req->arena, STMT_token_logout, &r,
	    DB_TEXT(req->token_jti), DB_INT(req->token_exp),
	    DB_TEXT(req->user->id),
	    DB_BYTES_IF(given, rt.hash, sizeof rt.hash),
	    DB_TEXT(req->token_family));
	if (given)
		secret_wipe(&rt);
	if (st != DB_OK || PQntuples(r) != 1) {
		respond_db_error(req, st != DB_OK ? st : DB_ERROR,
		    "token logout");
		return;
	}
	log_event("info", "token_revoked", LF_S("userId", req->user->id),
	    LF_I("families", db_int(r, 0, 0)), LF_S("ip", req->ip));
	respond_json(req, 200, J_BOOL("ok", 1));
}
