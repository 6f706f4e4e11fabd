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
 * set. */
int session_authenticate(struct request *);
/* Issues a session for user_id: inserts it and sets the cookie. */
int session_create(struct request *, const char *user_id);
/* Sets the session cookie to sid's text (the row is the caller's). */
void session_set_cookie(struct request *, const struct secret *sid);
void session_clear_cookie(struct request *);
int session_delete_current(struct request *);
/* Work that no response waits for, run after FCGX_Finish_r: records
 * last_seen_at (at most once a minute per session). */
void session_after_response(struct request *);

#endif
