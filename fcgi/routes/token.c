/*
 * routes/token.c -- tokens for API clients: /token/login, /token/me,
 * /token/refresh, /token/logout.
 */
#include "auth/auth.h"
#include "guard/guard.h"
#include "routes/routes.h"

void
route_token_login(struct request *req)
{
	struct user u;

	/* The same login as /login: one budget, one lockout. */
	if (login_attempt(req, &u) < 0)
		return;
	token_issue(req, &u, NULL);
}

void
route_token_me(struct request *req)
{
	respond_user(req, 200, req->user);
}

static const struct field refresh_fields[] = {
	{ "refreshToken", F_STRING, 0, 0 }, /* any string: a wrong one is 401 */
};

void
route_token_refresh(struct request *req)
{
	struct field_value v[1];

	if (body_validate(req, refresh_fields, 1, v) < 0)
		return;
	token_refresh(req, v[0].str);
}

static const struct field logout_fields[] = {
	{ "refreshToken", F_STRING, 1, 0 },
};

void
route_token_logout(struct request *req)
{
	struct field_value v[1] = { { NULL, 0, 0 } };

	/* The body is optional: none at all ends the access token alone. */
	if (req->body_len > 0 && body_validate(req, logout_fields, 1, v) < 0)
		return;
	token_logout(req, v[0].present ? v[0].str : NULL);
}
