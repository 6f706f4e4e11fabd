/*
 * fuzz_request.c -- FastCGI parameters to a request: request_init (method,
 * path, query, Content-Length, User-Agent, client IP, the CSRF cookie),
 * the cookie and query readers, route matching, the body read, and a
 * response through the security headers and cookies.
 *
 * Input: NUL-separated "NAME=value" parameters; an empty one ends them,
 * and what follows is standard input.
 */
#include "fuzz_http.h"

#define MAXENV 64

static struct arena arena;

static void
route_ok(struct request *req)
{
	respond_json(req, 200, J_BOOL("ok", 1));
}

static const struct route table[] = {
	{ "GET", "/health", route_ok, 0 },
	{ "POST", "/login", route_ok, 0 },
	{ "GET", "/users", route_ok, 0 },
	{ "DELETE", "/users/:id", route_ok, 0 },
	{ "POST", "/users/:id/unlock", route_ok, 0 },
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena_init(&arena, 1 << 20);
	fuzz_http_config();
	cfg.max_body_bytes = 4096;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *env[MAXENV + 1];
	size_t i = 0, k = 0, start;
	FCGX_Request fr;
	FCGX_Stream in, out;
	struct request req;
	const struct route *rt;
	const char *v;

	/* Parameters up to an empty one (or the end). */
	while (i < n && k < MAXENV) {
		start = i;
		while (i < n && d[i] != '\0')
			i++;
		if (i == start) {
			i++;
			break;
		}
		if ((env[k] = arena_strndup(&arena, (const char *)d + start,
		    i - start)) != NULL)
			k++;
		if (i < n)
			i++;
	}
	env[k] = NULL;
	fuzz_fcgx(&fr, &in, &out, env, d + i, n - (i < n ? i : n));
	request_init(&req, &fr, &arena);
	FUZZ_ASSERT(req.method != NULL && req.path != NULL &&
	    req.query != NULL && req.ip != NULL && req.user_agent != NULL);
	FUZZ_ASSERT(strlen(req.user_agent) <= 256);
	request_cookie(&req, "session");
	request_query(&req, "token");
	request_query(&req, "");
	if ((v = request_header(&req, "HTTP_X_CSRF_TOKEN")) != NULL)
		FUZZ_ASSERT(strlen(v) < n + 1);
	if ((rt = router_match(&req, table, sizeof table /
	    sizeof table[0])) != NULL) {
		FUZZ_ASSERT(req.nparam <= MAX_ROUTE_PARAMS);
		if (request_read_body(&req) == 0) {
			FUZZ_ASSERT(req.body_len <= 4096);
			response_cookie(&req, "x", "y", 60, 1);
			rt->fn(&req);
		}
	}
	FUZZ_ASSERT(req.responded);
	arena_reset(&arena);
	return 0;
}
