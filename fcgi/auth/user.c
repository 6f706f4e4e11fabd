/*
 * auth/user.c -- the user row, the user object, and database errors as
 * answers.
 */
#include "auth/auth.h"
#include "core/clock.h"
#include "core/log.h"

void
user_from_row(struct request *req, PGresult *r, int row, struct user *u)
{
	/* Values point into r, which the arena keeps until the request ends. */
	u->id = db_text(r, row, USER_COL_ID);
	u->email = db_text(r, row, USER_COL_EMAIL);
	u->role = db_text(r, row, USER_COL_ROLE);
	u->email_verified = db_bool(r, row, USER_COL_EMAIL_VERIFIED);
	u->two_factor_enabled = db_bool(r, row, USER_COL_TWO_FACTOR_ENABLED);
	u->created_at = rfc3339(req->arena, db_text(r, row, USER_COL_CREATED_AT));
	u->password_hash = NULL;
	u->totp_sealed = NULL;
	u->totp_kid = NULL;
	u->object = NULL;
}

json_object *
user_json(const struct user *u)
{
	return json_of(J_STR("id", u->id), J_STR("email", u->email),
	    J_STR("role", u->role), J_BOOL("emailVerified", u->email_verified),
	    J_BOOL("twoFactorEnabled", u->two_factor_enabled),
	    J_STR("createdAt", u->created_at));
}

void
respond_user(struct request *req, int status, const struct user *u)
{
	const struct json_field f[] = { J_STR("id", u->id),
		J_STR("email", u->email), J_STR("role", u->role),
		J_BOOL("emailVerified", u->email_verified),
		J_BOOL("twoFactorEnabled", u->two_factor_enabled),
		J_STR("createdAt", u->created_at) };

	/* Rendered by the database as these fields are written (schema/007). */
	if (u->object != NULL) {
		respond_json(req, status, J_RAW("user", u->object));
		return;
	}
	/* The same fields as user_json, written without json-c objects. */
	respond_json(req, status, J_FIELDS("user", f, sizeof f / sizeof f[0]));
}

void
respond_db_error(struct request *req, enum db_status st, const char *what)
{
	if (st == DB_UNAVAILABLE)
		respond_unavailable(req);
	else
		respond_internal(req, what);
}
