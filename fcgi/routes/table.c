/*
 * routes/table.c -- the route table and the checks every route shares.
 *
 * For a matched route, in order: the body size limit (413), the content
 * type of JSON routes (415); then who asks: a bearer token (401 with
 * WWW-Authenticate), or a session cookie with CSRF for state changes (403,
 * then 401); a verified email where it is required (403); the admin role
 * (403); then the handler.  A route that takes
 * both uses the token when the request sends Authorization, and then needs
 * no CSRF header: no other site can make a browser send one.  Before
 * all of it, the CORS headers for a listed origin, and its preflights
 * (http/cors.c); a cookie's state change from another origin is refused
 * before its CSRF token is looked at (guard/csrf.c).
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
	R_SESSION = 1 << 1,  /* takes a session (401 without one) */
	R_ADMIN = 1 << 2,    /* needs an admin (403) */
	R_NO_CSRF = 1 << 3,  /* exempt from the CSRF check */
	R_BEARER = 1 << 4,   /* takes an access token (401 without one) */
	R_JSON_OPT = 1 << 5, /* a JSON body, or none at all */
	R_UNVERIFIED = 1 << 6, /* open to users whose email is not verified
	                          (BULWARK_REQUIRE_EMAIL_VERIFICATION) */
	R_OBJECT = 1 << 7,   /* by session, reads only the user object and id
	                        (session_me.sql); taken only with R_UNVERIFIED
	                        and without R_ADMIN, whose checks need more */
};
/* Session or bearer: either authenticates. */
#define R_AUTH (R_SESSION | R_BEARER)

static const struct route routes[] = {
	{ "GET", "/health", route_health, 0 },
	{ "POST", "/signup", route_signup, R_JSON | R_NO_CSRF },
	{ "POST", "/login", route_login, R_JSON | R_NO_CSRF },
	{ "POST", "/logout", route_logout, R_SESSION | R_UNVERIFIED },
	{ "GET", "/me", route_me, R_SESSION | R_UNVERIFIED | R_OBJECT },
	{ "GET", "/users", route_users_list, R_AUTH | R_ADMIN },
	{ "DELETE", "/users/:id", route_users_delete, R_AUTH | R_ADMIN },
	{ "POST", "/users/:id/unlock", route_users_unlock, R_AUTH | R_ADMIN },
	{ "POST", "/token/login", route_token_login, R_JSON | R_NO_CSRF },
	{ "GET", "/token/me", route_token_me, R_BEARER | R_UNVERIFIED },
	{ "POST", "/token/refresh", route_token_refresh, R_JSON | R_NO_CSRF },
	{ "POST", "/token/logout", route_token_logout,
	    R_BEARER | R_JSON_OPT | R_UNVERIFIED },
	{ "POST", "/forgot-password", route_forgot_password, R_JSON | R_NO_CSRF },
	{ "POST", "/reset-password", route_reset_password, R_JSON | R_NO_CSRF },
	{ "POST", "/me/password", route_me_password, R_AUTH | R_JSON },
	{ "POST", "/me/2fa/enable", route_twofa_enable, R_AUTH | R_JSON_OPT },
	{ "POST", "/me/2fa/verify", route_twofa_verify, R_AUTH | R_JSON },
	{ "POST", "/me/2fa/disable", route_twofa_disable, R_AUTH | R_JSON },
	{ "GET", "/verify-email", route_verify_email_link, 0 },
	{ "POST", "/verify-email", route_verify_email, R_JSON | R_NO_CSRF },
	{ "POST", "/verify-email/resend", route_verify_resend,
	    R_AUTH | R_JSON_OPT | R_UNVERIFIED },
	{ "GET", "/me/sessions", route_sessions_list, R_AUTH | R_UNVERIFIED },
	{ "DELETE", "/me/sessions/:id", route_sessions_delete,
	    R_AUTH | R_UNVERIFIED },
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

/* Who asks, for a route with R_SESSION and/or R_BEARER: 0, or -1 after
 * the answer. */
static int
authenticate(struct request *req, unsigned flags)
{
	struct secret sid;
	int rc;

	if ((flags & R_BEARER) && (!(flags & R_SESSION) ||
	    token_presented(req)))
		return token_authenticate(req);
	/* A cookie that could name a session must come with its CSRF token
	 * on a state change; one that cannot is a 401 below anyway. */
	if (unsafe_method(req->method) && !(flags & R_NO_CSRF) &&
	    session_presented(req, &sid)) {
		rc = origin_check(req);
		if (rc == 0)
			rc = csrf_check(req, sid.hash);
		secret_wipe(&sid);
		if (rc < 0)
			return -1;
	}
	/* The role and the verified flag are not in session_me's row: a
	 * route that is checked for them gets the whole user. */
	return session_authenticate(req, (flags & R_OBJECT) &&
	    (flags & R_UNVERIFIED) && !(flags & R_ADMIN));
}

static void
run(struct request *req, const struct route *r)
{
	if ((r->flags & R_JSON) || ((r->flags & R_JSON_OPT) &&
	    req->content_length > 0)) {
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
	if (r->flags & R_AUTH) {
		if (authenticate(req, r->flags) < 0)
			return;
		/* API.md "Email verification": with the setting on, an
		 * unverified user may only look, verify and leave. */
		if (cfg.require_email_verification &&
		    !req->user->email_verified && !(r->flags & R_UNVERIFIED)) {
			respond_error(req, 403, "Email not verified");
			return;
		}
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
	size_t n = sizeof routes / sizeof routes[0];

	if (cors_apply(req, routes, n))
		return;
	if ((r = router_match(req, routes, n)) != NULL)
		run(req, r);
}
