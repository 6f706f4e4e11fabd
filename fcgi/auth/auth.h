/*
 * auth/auth.h -- who the user is: the user row and its JSON, passwords,
 * cookie sessions; and how a database status becomes an answer.
 *
 * Above http/ and db/, below the defenses (guard/) and the routes.
 */
#ifndef AUTH_AUTH_H
#define AUTH_AUTH_H

#include <stddef.h>

#include "core/crypto.h"
#include "db/db.h"
#include "http/http.h"

/* ---- user.c: the user row (sql/user.cols) ------------------------------- */

struct user {
	const char *id;
	const char *email;
	const char *role;
	int email_verified;
	int two_factor_enabled;
	const char *created_at;    /* RFC 3339 */
	const char *password_hash; /* only where a route loads it */
	const char *totp_sealed;   /* ... and the TOTP secret in force (hex of
	                              the sealed bytes) with its key id, or NULL */
	const char *totp_kid;
	const char *object;        /* the user object as JSON text, when the
	                              session lookup read only it and the id
	                              (session_authenticate's object_only):
	                              then every other field is NULL or 0 */
};

/* Fills u from the user columns (enum user_col) of row `row` of r; the
 * strings live as long as r (the request's arena). */
void user_from_row(struct request *, PGresult *r, int row, struct user *u);
/* The contract's user object, or NULL when out of memory.  Never a hash. */
json_object *user_json(const struct user *);
/* Sends {"user": ...}. */
void respond_user(struct request *, int status, const struct user *);
/* 503 for DB_UNAVAILABLE, else 500 (logged with what). */
void respond_db_error(struct request *, enum db_status, const char *what);

/* ---- password.c: libxcrypt ---------------------------------------------- */

#define PW_HASH_MAX 128

/* Computes the dummy hash with the configured algorithm and cost. */
int password_init(void);
int password_hash(const char *pw, size_t len, char out[PW_HASH_MAX]);
/* 1 when pw matches hash, 0 otherwise.  hash NULL: verifies against the
 * dummy hash (same algorithm and cost) and returns 0. */
int password_verify(const char *pw, size_t len, const char *hash);
/* 1 when hash was made with weaker settings than configured. */
int password_needs_rehash(const char *hash);
/* Time of one hash with the configured settings, in microseconds. */
long password_bench(int rounds);

/* ---- session.c: the session cookie -------------------------------------- */

/* Authenticates the session cookie; on failure sends 401/503 and returns
 * -1.  On success req->user, req->session_hash and req->has_session are
 * set.  object_only: the route reads nothing of the user but its id and
 * the user object, so the lookup is sql/session_me.sql and req->user has
 * only id and object (struct user). */
int session_authenticate(struct request *, int object_only);
/* Issues a session for user_id: inserts it, ends the session the request
 * carried (one browser, one session), and sets the cookies. */
int session_create(struct request *, const char *user_id);
/* The hash of the session cookie the request carried, if well-formed:
 * 1 with *out filled, else 0.  What a new session replaces. */
int session_presented(struct request *, struct secret *out);
/* Sets the session cookie to sid's text and binds the CSRF token to it
 * (the row is the caller's). */
void session_set_cookie(struct request *, const struct secret *sid);
/* The CSRF token bound to a session: base64url of HMAC-SHA256 of the
 * session's hash under the CSRF key of the ring's first key.  -1 when
 * HMAC fails. */
int session_csrf_token(const unsigned char hash[32],
    char out[SECRET_TEXT_LEN + 1]);
/* 1 when token is the session's CSRF token under the CSRF key of any key
 * of the ring (constant-time comparisons). */
int session_csrf_valid(const unsigned char hash[32], const char *token);
void session_clear_cookie(struct request *);
int session_delete_current(struct request *);
/* Work that no response waits for, run after FCGX_Finish_r: records
 * last_seen_at (at most once a minute per session), and a login's address
 * (req->login_user_id): one never seen for that user logs
 * suspicious_login and queues the new-login alert (req->mail_queued). */
void session_after_response(struct request *);

/* ---- token.c: access tokens (JWT) and refresh families ----------------- */

/* Authenticates "Authorization: Bearer <access token>": the signature
 * under the key ring, expiry, issuer; then one round trip for the user as
 * stored now, the revocation mark and the deny list.  On failure answers
 * 401 with WWW-Authenticate (or 503/500) and returns -1.  On success
 * req->user, has_bearer, token_jti and token_exp are set. */
int token_authenticate(struct request *);
/* 1 when the request sends "Authorization: Bearer ...": a route that takes
 * a session or a token then judges it by the token alone. */
int token_presented(struct request *);
/* 401 {"error":"Unauthorized"} with WWW-Authenticate: Bearer (RFC 6750),
 * error="invalid_token" when a token was presented. */
void token_unauthorized(struct request *, int invalid);
/* A new refresh family for u, and the contract's pair: token login, and a
 * bearer caller whose password or 2FA change revoked what it had.  The
 * fields of extra (consumed; NULL: none) are answered before the pair's. */
void token_issue(struct request *, const struct user *u, json_object *extra);
/* /token/refresh: spends the presented refresh token (text as sent) and
 * answers the next pair; a spent one revokes its family.  Always answers. */
void token_refresh(struct request *, const char *text);
/* /token/logout: denies the request's access token until it expires and
 * revokes the family of refresh_text (NULL: none) if it is the user's. */
void token_logout(struct request *, const char *refresh_text);

#endif
