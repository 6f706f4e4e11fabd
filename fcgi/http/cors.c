/*
 * http/cors.c -- pages on another origin (BULWARK_CORS_ORIGINS).
 *
 * An exact allow-list, empty by default (same origin only).  A request
 * whose Origin is listed gets Access-Control-Allow-Origin echoing it, with
 * credentials allowed; a preflight (OPTIONS with
 * Access-Control-Request-Method) to a known path is answered here with the
 * path's methods and the headers a client sends (Content-Type,
 * X-CSRF-Token, Authorization).  Any other origin gets no CORS header at
 * all, so the browser keeps the response from the page.  With a list
 * configured every response says Vary: Origin.
 */
#include <string.h>

#include "core/config.h"
#include "http/http.h"

#define CORS_ALLOW_HEADERS "Content-Type, X-CSRF-Token, Authorization"
#define CORS_EXPOSE_HEADERS "Retry-After, WWW-Authenticate, X-CSRF-Token"
#define CORS_MAX_AGE "600"

int
cors_apply(struct request *req, const struct route *table, size_t n)
{
	const char *origin = request_header(req, "HTTP_ORIGIN");
	char allow[128];

	if (cfg.cors_n == 0)
		return 0;
	response_header(req, "Vary", "Origin");
	if (!config_origin_listed(origin))
		return 0;
	req->cors = 1;
	if (response_header(req, "Access-Control-Allow-Origin", origin) < 0 ||
	    response_header(req, "Access-Control-Allow-Credentials",
	    "true") < 0) {
		respond_internal(req, "cors headers");
		return 1;
	}
	if (strcmp(req->method, "OPTIONS") != 0 ||
	    request_header(req, "HTTP_ACCESS_CONTROL_REQUEST_METHOD") == NULL) {
		response_header(req, "Access-Control-Expose-Headers",
		    CORS_EXPOSE_HEADERS);
		return 0;
	}
	/* A preflight.  An unknown path is the router's 404, which the
	 * browser takes as a refusal. */
	if (!router_methods(req, table, n, allow, sizeof allow))
		return 0;
	response_header(req, "Access-Control-Allow-Methods", allow);
	response_header(req, "Access-Control-Allow-Headers",
	    CORS_ALLOW_HEADERS);
	response_header(req, "Access-Control-Max-Age", CORS_MAX_AGE);
	respond_json(req, 200, J_BOOL("ok", 1));
	return 1;
}
