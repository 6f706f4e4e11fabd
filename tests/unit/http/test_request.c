/*
 * test_request.c -- request_init, request_cookie, request_query on a fake
 * FastCGI request (FCGX_GetParam reads envp).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "http/http.h"
#include "tap.h"

#define MAXENV 16

static struct arena arena;
static FCGX_Request fr;
static struct request req;
static char envbuf[MAXENV][2048];
static char *env[MAXENV + 1];

/* request_init over the given "NAME=value" strings (NULL-terminated). */
static int
init_with(const char *first, ...)
{
	va_list ap;
	const char *s;
	size_t n = 0;

	va_start(ap, first);
	for (s = first; s != NULL && n < MAXENV; s = va_arg(ap, const char *)) {
		snprintf(envbuf[n], sizeof envbuf[n], "%s", s);
		env[n] = envbuf[n];
		n++;
	}
	va_end(ap);
	env[n] = NULL;
	memset(&fr, 0, sizeof fr);
	fr.envp = env;
	arena_reset(&arena);
	return request_init(&req, &fr, &arena);
}

static const char *
cookie(const char *header, const char *name)
{
	static char h[1024];

	if (header != NULL) {
		snprintf(h, sizeof h, "HTTP_COOKIE=%s", header);
		init_with(h, (const char *)NULL);
	} else
		init_with((const char *)NULL);
	return request_cookie(&req, name);
}

static const char *
query(const char *qs, const char *name)
{
	static char q[1024];

	snprintf(q, sizeof q, "QUERY_STRING=%s", qs);
	init_with(q, (const char *)NULL);
	return request_query(&req, name);
}

static void
test_cookies(void)
{
	const char *h = "a=1; session=abc; b=2";
	struct secret tok;
	char buf[128];

	is_str(cookie(h, "session"), "abc", "cookie in the middle");
	is_str(cookie(h, "a"), "1", "first cookie");
	is_str(cookie(h, "b"), "2", "last cookie");
	is_str(cookie("a=1;session=abc;b=2", "session"), "abc",
	    "no spaces after ';'");
	is_str(cookie("  session = abc  ;x=1", "session"), "abc",
	    "spaces around name and value");
	is_str(cookie("x=1;\tsession=abc\t", "session"), "abc", "tabs");
	is_str(cookie("session=\"quoted\"", "session"), "quoted",
	    "a quoted value loses its quotes");
	is_str(cookie("session=\"", "session"), "\"",
	    "a lone quote is kept as is");
	is_str(cookie("session=first; session=second", "session"), "first",
	    "the first of duplicates wins");
	is_str(cookie("xsession=1; session=2", "session"), "2",
	    "\"xsession\" is not \"session\"");
	is_str(cookie("sessionx=1; session=2", "session"), "2",
	    "\"sessionx\" is not \"session\"");
	is_str(cookie("sessionx=1", "session"), NULL,
	    "only a longer name: absent");
	is_str(cookie("session=1", "sess"), NULL, "a shorter name: absent");
	is_str(cookie("a=1; b=2", "session"), NULL, "absent");
	is_str(cookie(NULL, "session"), NULL, "no Cookie header");
	is_str(cookie("", "session"), NULL, "an empty Cookie header");
	is_str(cookie("session=; a=1", "session"), "", "an empty value is \"\"");
	is_str(cookie("session=", "session"), "", "an empty value at the end");
	is_str(cookie("flag; session=v", "session"), "v",
	    "a name without a value is skipped");
	is_str(cookie("session; a=1", "session"), NULL,
	    "a bare name is not a cookie with that name");
	is_str(cookie("session=a=b", "session"), "a=b",
	    "the value keeps later '='");
	is_str(cookie(";;; session=v;;", "session"), "v", "stray semicolons");
	is_str(cookie("=x; session=v", "session"), "v", "an empty name");

	ok(secret_mint(&tok) == 0, "a secret for the csrf_token cookie");
	snprintf(buf, sizeof buf, "HTTP_COOKIE=csrf_token=%s", tok.text);
	init_with(buf, (const char *)NULL);
	ok(req.csrf_cookie_present == 1,
	    "request_init: a well-formed csrf_token cookie is noted");
	init_with("HTTP_COOKIE=csrf_token=short", (const char *)NULL);
	ok(req.csrf_cookie_present == 0, "  a malformed one is not");
	init_with((const char *)NULL);
	ok(req.csrf_cookie_present == 0, "  nor a missing one");
}

static void
test_query(void)
{
	const char *qs = "a=1&b=hello%20world&c=x+y&d=%zz&e=%00&f=%4&g=&"
	    "h=%41%42&i=%c3%A9&j=100%25";

	is_str(query(qs, "a"), "1", "plain value");
	is_str(query(qs, "b"), "hello world", "%%20 decoded");
	is_str(query(qs, "c"), "x y", "'+' is a space");
	is_str(query(qs, "d"), NULL, "bad escape %%zz: NULL");
	is_str(query(qs, "e"), NULL, "%%00: NULL");
	is_str(query(qs, "f"), NULL, "truncated escape %%4 before '&': NULL");
	is_str(query(qs, "g"), "", "empty value");
	is_str(query(qs, "h"), "AB", "%%41%%42");
	is_str(query(qs, "i"), "\xc3\xa9", "mixed-case hex %%c3%%A9");
	is_str(query(qs, "j"), "100%", "%%25 is a literal '%%'");
	is_str(query(qs, "z"), NULL, "absent name");
	is_str(query("", "a"), NULL, "empty query string");
	is_str(query("x=%4", "x"), NULL, "truncated escape at the end");
	is_str(query("x=%", "x"), NULL, "a lone '%%' at the end");
	is_str(query("x=%41", "x"), "A", "an escape at the very end");
	is_str(query("ab=2&a=1", "a"), "1", "\"ab\" is not \"a\"");
	is_str(query("xa=2&a=1", "a"), "1", "\"xa\" is not \"a\"");
	is_str(query("a=1&a=2", "a"), "1", "the first of duplicates wins");
	is_str(query("flag&a=1", "flag"), NULL, "a name without '=' is absent");
	is_str(query("flag&a=1", "a"), "1", "  and does not hide the next one");
	is_str(query("a=1=2", "a"), "1=2", "the value keeps later '='");
	is_str(query("&&a=1&&", "a"), "1", "stray '&'");
	init_with((const char *)NULL);
	is_str(req.query, "", "no QUERY_STRING: query is \"\"");
	is_str(request_query(&req, "a"), NULL, "  and nothing is found");
}

static void
test_init(void)
{
	char ua[600];

	ok(init_with("PATH_INFO=/login", "SCRIPT_NAME=/auth",
	    (const char *)NULL) == 0, "request_init returns 0");
	is_str(req.path, "/login", "PATH_INFO wins over SCRIPT_NAME");
	init_with("PATH_INFO=", "SCRIPT_NAME=/users", (const char *)NULL);
	is_str(req.path, "/users", "empty PATH_INFO: SCRIPT_NAME");
	init_with("SCRIPT_NAME=/me", (const char *)NULL);
	is_str(req.path, "/me", "only SCRIPT_NAME");
	init_with("PATH_INFO=/health", (const char *)NULL);
	is_str(req.path, "/health", "only PATH_INFO");
	init_with((const char *)NULL);
	is_str(req.path, "/", "neither: \"/\"");
	init_with("PATH_INFO=", "SCRIPT_NAME=", (const char *)NULL);
	is_str(req.path, "/", "both empty: \"/\"");

	is_str(req.method, "GET", "no REQUEST_METHOD: GET");
	init_with("REQUEST_METHOD=POST", (const char *)NULL);
	is_str(req.method, "POST", "REQUEST_METHOD");

	init_with((const char *)NULL);
	ok(req.content_length == -1, "no CONTENT_LENGTH: -1 (%ld)",
	    req.content_length);
	init_with("CONTENT_LENGTH=", (const char *)NULL);
	ok(req.content_length == -1, "empty CONTENT_LENGTH: -1 (%ld)",
	    req.content_length);
	init_with("CONTENT_LENGTH=123", (const char *)NULL);
	ok(req.content_length == 123, "CONTENT_LENGTH=123 (%ld)",
	    req.content_length);
	init_with("CONTENT_LENGTH=0", (const char *)NULL);
	ok(req.content_length == 0, "CONTENT_LENGTH=0 (%ld)",
	    req.content_length);
	init_with("CONTENT_LENGTH=abc", (const char *)NULL);
	ok(req.content_length == -2, "CONTENT_LENGTH=abc: -2 (%ld)",
	    req.content_length);
	init_with("CONTENT_LENGTH=12x", (const char *)NULL);
	ok(req.content_length == -2, "CONTENT_LENGTH=12x: -2 (%ld)",
	    req.content_length);
	init_with("CONTENT_LENGTH=-5", (const char *)NULL);
	ok(req.content_length == -2, "CONTENT_LENGTH=-5: -2 (%ld)",
	    req.content_length);
	init_with("CONTENT_LENGTH=+12", (const char *)NULL);
	ok(req.content_length == -2, "CONTENT_LENGTH=+12 (a sign): -2 (%ld)",
	    req.content_length);
	init_with("CONTENT_LENGTH= 12", (const char *)NULL);
	ok(req.content_length == -2, "CONTENT_LENGTH=' 12' (a leading space): "
	    "-2 (%ld)", req.content_length);
	init_with("CONTENT_LENGTH=12 ", (const char *)NULL);
	ok(req.content_length == -2, "CONTENT_LENGTH='12 ' (a trailing space): "
	    "-2 (%ld)", req.content_length);
	/* Past LONG_MAX: too large (413 later), not malformed (400). */
	init_with("CONTENT_LENGTH=99999999999999999999", (const char *)NULL);
	ok(req.content_length == LONG_MAX, "CONTENT_LENGTH=99999999999999999999 "
	    "(past a long): LONG_MAX (%ld)", req.content_length);
	init_with("CONTENT_LENGTH=99999999999999999999999", (const char *)NULL);
	ok(req.content_length == LONG_MAX, "CONTENT_LENGTH=99999999999999999999999"
	    ": LONG_MAX (%ld)", req.content_length);
	init_with("CONTENT_LENGTH=9223372036854775807", (const char *)NULL);
	ok(req.content_length == LONG_MAX, "CONTENT_LENGTH=LONG_MAX exactly: "
	    "LONG_MAX (%ld)", req.content_length);
	init_with("CONTENT_LENGTH=9223372036854775806", (const char *)NULL);
	ok(req.content_length == LONG_MAX - 1, "CONTENT_LENGTH=LONG_MAX-1: "
	    "kept as is (%ld)", req.content_length);
	init_with("CONTENT_LENGTH=99999999999999999999x", (const char *)NULL);
	ok(req.content_length == -2, "CONTENT_LENGTH past a long with trailing "
	    "junk: -2 (%ld)", req.content_length);
	init_with("CONTENT_LENGTH=-99999999999999999999", (const char *)NULL);
	ok(req.content_length == -2, "CONTENT_LENGTH negative past a long: -2 "
	    "(%ld)", req.content_length);
	init_with("CONTENT_LENGTH=123", (const char *)NULL);
	init_with("CONTENT_LENGTH=", (const char *)NULL);
	ok(req.content_length == -1, "empty CONTENT_LENGTH after a set one: -1 "
	    "(%ld)", req.content_length);

	init_with("REMOTE_ADDR=::ffff:192.0.2.8", "HTTP_USER_AGENT=curl/8.0",
	    "CONTENT_TYPE=application/json", (const char *)NULL);
	is_str(req.ip, "192.0.2.8", "ip from client_ip (canonical)");
	is_str(req.user_agent, "curl/8.0", "user agent");
	is_str(req.content_type, "application/json", "content type");
	ok(req.fcgi == &fr && req.arena == &arena && req.responded == 0 &&
	    req.user == NULL && req.body == NULL, "request fields initialised");
	/* The parameters are read in one pass: the first of a name wins (as
	 * FCGX_GetParam), and a longer name is another name. */
	init_with("HTTP_COOKIEX=a=1", "REQUEST_METHODS=PUT",
	    "REQUEST_METHOD=POST", "REQUEST_METHOD=DELETE",
	    "HTTP_COOKIE=b=2", "REMOTE_ADDR=192.0.2.9",
	    "REMOTE_ADDR=192.0.2.10", "PATH_INFO=/me", (const char *)NULL);
	is_str(req.method, "POST", "the first REQUEST_METHOD, not a longer name");
	is_str(req.cookie_header, "b=2", "HTTP_COOKIE, not HTTP_COOKIEX");
	is_str(req.ip, "192.0.2.9", "the first REMOTE_ADDR");
	is_str(req.path, "/me", "PATH_INFO after the others");
	init_with("REQUEST_METHOD=", "SCRIPT_NAME=/s", (const char *)NULL);
	is_str(req.method, "GET", "an empty REQUEST_METHOD: GET");
	is_str(req.path, "/s", "no PATH_INFO: SCRIPT_NAME");
	init_with((const char *)NULL);
	is_str(req.ip, "unknown", "no REMOTE_ADDR: ip \"unknown\"");
	is_str(req.user_agent, "", "no user agent: \"\"");

	init_with("HTTP_USER_AGENT=a\tb\x01" "c\x7f" "d", (const char *)NULL);
	is_str(req.user_agent, "a b c d",
	    "user agent control characters become spaces");
	init_with("HTTP_USER_AGENT=ok\xc3", (const char *)NULL);
	is_str(req.user_agent, "ok", "a split UTF-8 sequence is cut");
	memset(ua, 0, sizeof ua);
	memcpy(ua, "HTTP_USER_AGENT=", 16);
	memset(ua + 16, 'u', 500);
	init_with(ua, (const char *)NULL);
	ok(strlen(req.user_agent) == 256, "user agent bounded to 256 bytes "
	    "(%zu)", strlen(req.user_agent));
}

int
main(void)
{
	arena_init(&arena, 1 << 20);
	test_cookies();
	test_query();
	test_init();
	arena_free(&arena);
	return done_testing();
}
