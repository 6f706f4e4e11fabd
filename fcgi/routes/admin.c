/*
 * routes/admin.c -- /users (an admin session or token): list, DELETE /users/:id,
 * POST /users/:id/unlock.
 */
#include "auth/auth.h"
#include "core/log.h"
#include "core/validate.h"
#include "routes/routes.h"

/* user_delete's and user_unlock's one column. */
enum { ON_USER_EMAIL };

void
route_users_list(struct request *req)
{
	json_object *list;
	struct user u;
	PGresult *r;
	enum db_status st;
	int i, n;

	st = db_exec(req->arena, STMT_users_list, &r);
	if (st != DB_OK) {
		respond_db_error(req, st, "users list");
		return;
	}
	list = json_object_new_array();
	n = PQntuples(r);
	for (i = 0; i < n && list != NULL; i++) {
		user_from_row(req, r, i, &u);
		list = json_push(list, user_json(&u));
	}
	respond_json(req, 200, J_OBJ("users", list));
}

/* Runs stmt on the route's :id user, logs event and answers {key: true};
 * 404 for an id that is not a UUID or names no user. */
static void
on_user(struct request *req, enum stmt stmt, const char *what,
    const char *event, const char *key)
{
	PGresult *r;
	enum db_status st;

	if (!uuid_valid(req->param[0])) {
		respond_error(req, 404, "User not found");
		return;
	}
	if ((st = db_exec(req->arena, stmt, &r, DB_TEXT(req->param[0]))) !=
	    DB_OK) {
		respond_db_error(req, st, what);
		return;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 404, "User not found");
		return;
	}
	log_event("info", event, LF_S("userId", req->param[0]),
	    LF_S("email", db_text(r, 0, ON_USER_EMAIL)),
	    LF_S("by", req->user->id), LF_S("ip", req->ip));
	respond_json(req, 200, J_BOOL(key, 1));
}

/* The user's sessions go with it (ON DELETE CASCADE). */
void
route_users_delete(struct request *req)
{
	on_user(req, STMT_user_delete, "user delete", "user_deleted",
	    "deleted");
}

/* The user's lockout and per-email login limit are cleared. */
void
route_users_unlock(struct request *req)
{
	on_user(req, STMT_user_unlock, "user unlock", "lockout_cleared", "ok");
}
