/*
 * guard/csrf.c -- double-submit CSRF tokens.
 *
 * The csrf_token cookie (random, not HttpOnly) is set on any response to a
 * request that lacks one (http/response.c).  A state-changing request that a
 * session cookie authenticates must echo it in X-CSRF-Token; the two are
 * compared in constant time.  A cross-site attacker can make the browser
 * send the cookie but cannot read it to set the header.
 */
#include <string.h>

#include "core/crypto.h"
#include "core/log.h"
#include "guard/guard.h"

int
csrf_check(struct request *req)
{
	const char *hdr = request_header(req, "HTTP_X_CSRF_TOKEN");
	const char *cookie = request_cookie(req, "csrf_token");

	if (hdr != NULL && cookie != NULL && secret_text_valid(cookie) &&
	    crypto_equal(hdr, strlen(hdr), cookie, strlen(cookie)))
		return 0;
	log_event("warning", "csrf_rejected", LF_S("ip", req->ip),
	    LF_S("path", req->path), LF_S("method", req->method));
	respond_error(req, 403, "Invalid CSRF token");
	return -1;
}
