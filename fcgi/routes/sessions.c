/*
 * routes/sessions.c -- the user's own sessions (API.md "Sessions"):
 * GET /me/sessions and DELETE /me/sessions/:id, by session or bearer.
 *
 * A session is named by its handle, a random UUID of its own: never the
 * cookie, nor the hash the database keys it by.  Another user's handle is
 * a 404, the same as one that does not exist.
 */
#include "auth/auth.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/validate.h"
#include "routes/routes.h"

/* sessions_list's columns. */
enum { LIST_HANDLE, LIST_CREATED, LIST_SEEN, LIST_IP, LIST_AGENT,
	LIST_CURRENT };

#define NOT_FOUND "Session not found"

void
route_sessions_list(struct request *req)
{
	json_object *list;
	enum db_status st;
	PGresult *r;
	int i, n;

	st = db_exec(req->arena, STMT_sessions_list, &r, DB_TEXT(req->user->id),
	    DB_BYTES_IF(req->has_session, req->session_hash,
	    sizeof req->session_hash));
	if (st != DB_OK) {
		respond_db_error(req, st, "sessions list");
		return;
	}
	list = json_object_new_array();
	n = PQntuples(r);
	for (i = 0; i < n && list != NULL; i++)
		list = json_push(list, json_of(
		    J_STR("id", db_text(r, i, LIST_HANDLE)),
		    J_STR("createdAt", rfc3339(req->arena,
		    db_text(r, i, LIST_CREATED))),
		    J_STR("lastSeenAt", rfc3339(req->arena,
		    db_text(r, i, LIST_SEEN))),
		    J_STR("ip", db_text(r, i, LIST_IP)),
		    J_STR("userAgent", db_text(r, i, LIST_AGENT)),
		    J_BOOL("current", db_bool(r, i, LIST_CURRENT))));
	respond_json(req, 200, J_OBJ("sessions", list));
}

void
route_sessions_delete(struct request *req)
{
	const char *handle = req->param[0];
	enum db_status st;
	PGresult *r;

	/* Not a UUID: no session has it, and the database need not say so. */
	if (!uuid_valid(handle)) {
		respond_error(req, 404, NOT_FOUND);
		return;
	}
	st = db_exec(req->arena, STMT_session_end, &r, DB_TEXT(handle),
	    DB_TEXT(req->user->id),
	    DB_BYTES_IF(req->has_session, req->session_hash,
	    sizeof req->session_hash));
	if (st != DB_OK) {
		respond_db_error(req, st, "session end");
		return;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 404, NOT_FOUND);
		return;
	}
	if (db_bool(r, 0, 0))
		session_clear_cookie(req);
	log_event("info", "session_ended", LF_S("userId", req->user->id),
	    LF_S("ip", req->ip), LF_S("current", db_bool(r, 0, 0) ? "yes" :
	    NULL));
	respond_json(req, 200, J_BOOL("ok", 1));
}
