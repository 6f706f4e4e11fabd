/*
 * guard/csrf.c -- CSRF tokens bound to the session (OWASP's signed
 * double-submit cookie).
 *
 * A state-changing request that a session cookie authenticates must carry
 * X-CSRF-Token equal to its csrf_token cookie, and both must equal the one
 * token the server derives from that session (auth/session.c): an HMAC of
 * the session's hash under a server key.  A cross-site attacker can make
 * the browser send the cookies but cannot read them to set the header; a
 * cookie planted by a sibling subdomain, or taken from another session,
 * is not this session's token and fails even when header and cookie are
 * equal.  Every comparison is constant-time.
 */
#include <string.h>

#include "core/crypto.h"
#include "core/log.h"
#include "guard/guard.h"

int
csrf_check(struct request *req, const unsigned char sid_hash[32])
{
	const char *hdr = request_header(req, "HTTP_X_CSRF_TOKEN");
	const char *cookie = req->csrf_cookie;
	char *want = req->csrf_want;
	int ok = 0;

	/* The session's token: what must match, and what the answer sets
	 * (a 403 included) when the browser's cookie is missing or another,
	 * so a client that lost it recovers with its next request.  Only the
	 * holder of the session cookie can read it. */
	if (session_csrf_token(sid_hash, want) < 0)
		want[0] = '\0';
	if (want[0] != '\0' && hdr != NULL && cookie != NULL)
		ok = crypto_equal(hdr, strlen(hdr), cookie, strlen(cookie)) &&
		    session_csrf_valid(sid_hash, cookie);
	if (ok)
		return 0;
	log_event("warning", "csrf_rejected", LF_S("ip", req->ip),
	    LF_S("path", req->path), LF_S("method", req->method));
	respond_error(req, 403, "Invalid CSRF token");
	return -1;
}
