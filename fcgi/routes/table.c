/*
 * routes/table.c -- the route table and the checks every route shares.
 *
 * For a matched route, in order: the body size limit (413), the content
 * type of JSON routes (415), CSRF for cookie-authenticated state changes
 * (403), the session (401), the admin role (403); then the handler.
 */
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "core/config.h"
#include "guard/guard.h"
#include "http/http.h"
#include "routes/routes.h"

/* What a route needs before its handler runs. */
enum route_flag {
	R_JSON = 1 << 0,     /* takes a JSON body: 415 / 400 */
	R_SESSION = 1 << 1,  /* needs a session (401) */
	R_ADMIN = 1 << 2,    /* needs an admin session (403) */
	R_NO_CSRF = 1 << 3,  /* exempt from the CSRF check */
};

static const struct route routes[] = {
	{ "GET", "/health", route_health, 0 },
	{ "POST", "/signup", route_signup, R_JSON | R_NO_CSRF },
	{ "POST", "/login", route_login, R_JSON | R_NO_CSRF },
	{ "POST", "/logout", route_logout, R_SESSION },
	{ "GET", "/me", route_me, R_SESSION },
	{ "GET", "/users", route_users_list, R_SESSION | R_ADMIN },
	{ "DELETE", "/users/:id", route_users_delete, R_SESSION | R_ADMIN },
	{ "POST", "/users/:id/unlock", route_users_unlock, R_SESSION | R_ADMIN },
};

static int
unsafe_method(const char *m)
{
	return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 &&
	    strcmp(m, "OPTIONS") != 0;
}

/* "application/json" with optional parameters, case-insensitive. */
static int
is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static void
run(struct request *req, const struct route *r)
{
	if (r->flags & R_JSON) {
		if (req->content_length > cfg.max_body_bytes) {
			respond_error(req, 413, "Request body too large");
			return;
		}
		if (!is_json_type(req->content_type)) {
			respond_error(req, 415,
			    "Content-Type must be application/json");
			return;
		}
		if (request_read_body(req) < 0)
			return;
	} else if (req->content_length > cfg.max_body_bytes) {
		respond_error(req, 413, "Request body too large");
		return;
	}
	if (r->flags & R_SESSION) {
		if (unsafe_method(req->method) && !(r->flags & R_NO_CSRF) &&
		    request_cookie(req, "session") != NULL &&
		    csrf_check(req) < 0)
			return;
		if (session_authenticate(req) < 0)
			return;
		if ((r->flags & R_ADMIN) &&
		    strcmp(req->user->role, "admin") != 0) {
			respond_error(req, 403, "Forbidden");
			return;
		}
	}
	r->fn(req);
}

void
routes_dispatch(struct request *req)
{
	const struct route *r;

	if ((r = router_match(req, routes, sizeof routes / sizeof routes[0])) !=
	    NULL)
		run(req, r);
}
