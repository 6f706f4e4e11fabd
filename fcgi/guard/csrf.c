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
 *
 * Before the token, the origin (OWASP's origin verification, defense in
 * depth): such a request whose Origin, or else Referer, names neither the
 * host it was sent to nor an origin of BULWARK_CORS_ORIGINS is refused,
 * whatever token it carries.
 */
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "guard/guard.h"

/* The origin ("scheme://host[:port]") of a Referer into out; -1 when it
 * has none. */
static int
referer_origin(const char *ref, char *out, size_t cap)
{
	const char *p = strstr(ref, "://");
	size_t n;

	if (p == NULL || p == ref)
		return -1;
	p += 3;
	n = (size_t)(p - ref) + strcspn(p, "/?#");
	if (n >= cap || n == (size_t)(p - ref))
		return -1;
	memcpy(out, ref, n);
	out[n] = '\0';
	return 0;
}

/* 1 when origin names the host the request was sent to (its Host). */
static int
origin_is_own(const char *origin, const char *host)
{
	const char *p;

	if (host == NULL || *host == '\0')
		return 0;
	if (strncmp(origin, "http://", 7) == 0)
		p = origin + 7;
	else if (strncmp(origin, "https://", 8) == 0)
		p = origin + 8;
	else
		return 0;
	return strcasecmp(p, host) == 0;
}

int
origin_check(struct request *req)
{
	const char *origin = request_header(req, "HTTP_ORIGIN"), *ref;
	char buf[512];

	if (origin == NULL) {
		/* No Origin (an older browser, a plain client): the Referer,
		 * when there is one, says where the request came from. */
		if ((ref = request_header(req, "HTTP_REFERER")) == NULL)
			return 0;
		origin = referer_origin(ref, buf, sizeof buf) == 0 ? buf : "";
	}
	if (origin_is_own(origin, request_header(req, "HTTP_HOST")) ||
	    config_origin_listed(origin))
		return 0;
	log_event("warning", "origin_rejected", LF_S("ip", req->ip),
	    LF_S("origin", origin), LF_S("path", req->path),
	    LF_S("method", req->method));
	respond_error(req, 403, "Origin not allowed");
	return -1;
}

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
