/*
 * routes_users.c -- /me, /users, DELETE /users/:id, POST /users/:id/unlock.
 */
#include <ctype.h>
#include <string.h>

#include "bulwark.h"

void
route_me(struct request *req)
{
	respond_user(req, 200, req->user);
}

void
route_users_list(struct request *req)
{
	json_object *o, *list, *uj;
	struct user u;
	PGresult *r;
	enum db_status st;
	int i, n;

	st = db_exec(req->arena, STMT_users_list, 0, NULL, NULL, &r);
	if (st != DB_OK) {
		respond_db_error(req, st, "users list");
		return;
	}
	o = json_object_new_object();
	list = json_object_new_array();
	if (o == NULL || list == NULL)
		goto oom;
	json_object_object_add(o, "users", list);
	n = PQntuples(r);
	for (i = 0; i < n; i++) {
		user_from_row(req, r, i, 0, &u);
		if ((uj = user_json(&u)) == NULL ||
		    json_object_array_add(list, uj) < 0) {
			json_object_put(uj);
			goto oom;
		}
	}
	respond(req, 200, o);
	return;
oom:
	if (o == NULL)
		json_object_put(list);
	json_object_put(o);
	respond_internal(req, "users response");
}

/* The canonical 8-4-4-4-12 hex form; anything else names no user. */
static int
uuid_well_formed(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* Runs stmt with the route's :id; NULL after a response (404 for an id
 * that is not a UUID or names no user), else the result with one row. */
static PGresult *
on_user(struct request *req, enum stmt stmt, const char *what)
{
	const char *vals[1] = { req->param[0] };
	PGresult *r;
	enum db_status st;

	if (!uuid_well_formed(vals[0])) {
		respond_error(req, 404, "User not found");
		return NULL;
	}
	if ((st = db_exec(req->arena, stmt, 1, vals, NULL, &r)) != DB_OK) {
		respond_db_error(req, st, what);
		return NULL;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 404, "User not found");
		return NULL;
	}
	return r;
}

static void
respond_flag(struct request *req, const char *key)
{
	json_object *o = json_object_new_object();

	if (o != NULL)
		json_object_object_add(o, key, json_object_new_boolean(1));
	respond(req, 200, o);
}

void
route_users_delete(struct request *req)
{
	PGresult *r;

	if ((r = on_user(req, STMT_user_delete, "user delete")) == NULL)
		return;
	log_event("info", "user_deleted", LF_S("userId", req->param[0]),
	    LF_S("email", PQgetvalue(r, 0, 0)), LF_S("by", req->user->id),
	    LF_S("ip", req->ip));
	respond_flag(req, "deleted");
}

void
route_users_unlock(struct request *req)
{
	PGresult *r;

	if ((r = on_user(req, STMT_user_unlock, "user unlock")) == NULL)
		return;
	log_event("info", "lockout_cleared", LF_S("userId", req->param[0]),
	    LF_S("email", PQgetvalue(r, 0, 0)), LF_S("by", req->user->id),
	    LF_S("ip", req->ip));
	respond_flag(req, "ok");
}
