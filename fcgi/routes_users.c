/*
 * routes_users.c -- /me, /users, DELETE /users/:id.
 */
#include <ctype.h>
#include <string.h>

#include "bulwark.h"

void
route_me(struct request *req)
{
	json_object *o = json_object_new_object(), *u = user_json(req->user);

	if (o == NULL || u == NULL) {
		json_object_put(o);
		json_object_put(u);
		respond_internal(req, "me response");
		return;
	}
	json_object_object_add(o, "user", u);
	respond(req, 200, o);
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

void
route_users_delete(struct request *req)
{
	const char *id = req->param[0], *vals[1];
	json_object *o;
	PGresult *r;
	enum db_status st;

	if (!uuid_well_formed(id)) {
		respond_error(req, 404, "User not found");
		return;
	}
	vals[0] = id;
	st = db_exec(req->arena, STMT_user_delete, 1, vals, NULL, &r);
	if (st != DB_OK) {
		respond_db_error(req, st, "user delete");
		return;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 404, "User not found");
		return;
	}
	log_event("info", "user_deleted", LF_S("userId", id),
	    LF_S("email", PQgetvalue(r, 0, 0)), LF_S("by", req->user->id),
	    LF_S("ip", req->ip));
	o = json_object_new_object();
	if (o != NULL)
		json_object_object_add(o, "deleted",
		    json_object_new_boolean(1));
	respond(req, 200, o);
}

void
route_users_unlock(struct request *req)
{
	const char *id = req->param[0], *vals[1];
	json_object *o;
	PGresult *r;
	enum db_status st;

	if (!uuid_well_formed(id)) {
		respond_error(req, 404, "User not found");
		return;
	}
	vals[0] = id;
	st = db_exec(req->arena, STMT_user_unlock, 1, vals, NULL, &r);
	if (st != DB_OK) {
		respond_db_error(req, st, "user unlock");
		return;
	}
	if (PQntuples(r) != 1) {
		respond_error(req, 404, "User not found");
		return;
	}
	log_event("info", "lockout_cleared", LF_S("userId", id),
	    LF_S("email", PQgetvalue(r, 0, 0)), LF_S("by", req->user->id),
	    LF_S("ip", req->ip));
	o = json_object_new_object();
	if (o != NULL)
		json_object_object_add(o, "ok", json_object_new_boolean(1));
	respond(req, 200, o);
}
