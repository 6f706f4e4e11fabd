/*
 * router.c -- the route table and the checks every route shares.
 *
 * For a matched route, in order: the body size limit (413), the content
 * type of JSON routes (415), CSRF for cookie-authenticated state changes
 * (403), the session (401), the admin role (403); then the handler.
 */
#include <string.h>
#include <strings.h>

#include "bulwark.h"

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

#define NROUTES (sizeof routes / sizeof routes[0])
#define PARAM_MAX 128

/* Matches path against pattern; fills req->param on success. */
static int
match(struct request *req, const char *pattern, const char *path)
{
	const char *p = pattern, *s = path, *seg;
	size_t n;

	req->nparam = 0;
	while (*p != '\0' && *s != '\0') {
		if (*p == ':') {
			while (*p != '\0' && *p != '/')
				p++;
			seg = s;
			while (*s != '\0' && *s != '/')
				s++;
			n = (size_t)(s - seg);
			if (n == 0 || n > PARAM_MAX ||
			    req->nparam == MAX_ROUTE_PARAMS)
				return 0;
			if ((req->param[req->nparam++] =
			    arena_strndup(req->arena, seg, n)) == NULL)
				return 0;
			continue;
		}
		if (*p++ != *s++)
			return 0;
	}
	return *p == '\0' && *s == '\0';
}

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
		if (auth_session(req) < 0)
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
router_dispatch(struct request *req)
{
	char allow[128];
	size_t i, len = 0;
	int path_known = 0;

	allow[0] = '\0';
	for (i = 0; i < NROUTES; i++) {
		if (!match(req, routes[i].pattern, req->path))
			continue;
		if (strcmp(routes[i].method, req->method) == 0) {
			run(req, &routes[i]);
			return;
		}
		path_known = 1;
		if (strstr(allow, routes[i].method) == NULL &&
		    len + strlen(routes[i].method) + 3 < sizeof allow) {
			len += (size_t)snprintf(allow + len, sizeof allow - len,
			    "%s%s", len ? ", " : "", routes[i].method);
		}
	}
	if (path_known) {
		response_header(req, "Allow", allow);
		respond_error(req, 405, "Method not allowed");
	} else
		respond_error(req, 404, "Not found");
}
