/*
 * fuzz_cookie.c -- the Cookie header: request_cookie for the names the
 * program reads, and the CSRF cookie's check in request_init.
 *
 * Input: the header's value (cut at the first NUL, as FastCGI would).
 */
#include "fuzz_http.h"

static struct arena arena;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena_init(&arena, 1 << 20);
	fuzz_http_config();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const char *names[] = { "session", "csrf_token", "a", "" };
	char *env[2], *h;
	FCGX_Request fr;
	FCGX_Stream in, out;
	struct request req;
	const char *v;
	size_t i;

	if ((h = arena_alloc(&arena, n + sizeof "HTTP_COOKIE=")) == NULL)
		return 0;
	memcpy(h, "HTTP_COOKIE=", 12);
	memcpy(h + 12, d, n);
	env[0] = h;
	env[1] = NULL;
	fuzz_fcgx(&fr, &in, &out, env, "", 0);
	request_init(&req, &fr, &arena);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((v = request_cookie(&req, names[i])) != NULL) {
			/* A value is a part of the header, never more. */
			FUZZ_ASSERT(strlen(v) <= n);
			FUZZ_ASSERT(strchr(v, ';') == NULL);
		}
	if (req.csrf_cookie_present)
		FUZZ_ASSERT(req.csrf_cookie != NULL &&
		    secret_text_valid(req.csrf_cookie));
	arena_reset(&arena);
	return 0;
}
