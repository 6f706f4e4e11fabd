/*
 * auth.c -- who is asking: the session cookie.
 */
#include <string.h>

#include "bulwark.h"

int
auth_session(struct request *req)
{
	const char *cookie = request_cookie(req, "session");
	const char *vals[1];
	int lens[1];
	PGresult *r;
	struct user *u;
	enum db_status st;

	/* A malformed cookie cannot name a session: no database trip. */
	if (cookie == NULL || !token_well_formed(cookie)) {
		if (cookie != NULL)
			session_clear_cookie(req);
		respond_error(req, 401, "Unauthorized");
		return -1;
	}
	crypto_sha256(cookie, TOKEN_LEN, req->session_hash);
	vals[0] = (const char *)req->session_hash;
	lens[0] = sizeof req->session_hash;
	st = db_exec(req->arena, STMT_session_user, 1, vals, lens, &r);
	if (st != DB_OK) {
		respond_db_error(req, st, "session lookup");
		return -1;
	}
	if (PQntuples(r) != 1) {
		session_clear_cookie(req);
		respond_error(req, 401, "Unauthorized");
		return -1;
	}
	if ((u = arena_alloc(req->arena, sizeof *u)) == NULL) {
		respond_internal(req, "session user");
		return -1;
	}
	user_from_row(req, r, 0, 0, u);
	/* last_seen_at over a minute old: recorded after the response. */
	req->touch_session = PQgetvalue(r, 0, 6)[0] == 't';
	req->user = u;
	req->has_session = 1;
	req->user_id_for_log = u->id;
	return 0;
}
