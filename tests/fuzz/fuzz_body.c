/*
 * fuzz_body.c -- JSON body validation: sjson_check, then json-c, then the
 * fields (email rules, password rules), as /signup and /login run it.
 *
 * Oracle (issue 13, item 4): a body sjson_check accepts is one json-c
 * parses whole, with as many members at the top as sjson counted keys;
 * else the two readers disagree.
 */
#include "core/sjson.h"
#include "fuzz_http.h"

static struct arena arena;

static const struct field login[] = {
	{ "email", F_EMAIL, 0, 0 },
	{ "password", F_LOGIN_PASSWORD, 0, 0 },
	{ "code", F_STRING, 1, 16 },
};
static const struct field signup[] = {
	{ "email", F_EMAIL, 0, 0 },
	{ "password", F_NEW_PASSWORD, 0, 0 },
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena_init(&arena, 1 << 22);
	fuzz_http_config();
	return 0;
}

/* json-c's reading of an accepted object: whole.  (Only objects: json-c
 * cannot tell where a top-level number ends without more input, and a
 * body that is not an object is refused whatever it reads.) */
static void
differential(const uint8_t *d, size_t n)
{
	struct json_tokener *tok;
	json_object *root;
	size_t end;

	if ((tok = json_tokener_new_ex(64)) == NULL)
		return;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, (const char *)d, (int)n);
	FUZZ_ASSERT(root != NULL || json_tokener_get_error(tok) ==
	    json_tokener_success);
	end = json_tokener_get_parse_end(tok);
	while (end < n && strchr(" \t\r\n", d[end]) != NULL && d[end] != 0)
		end++;
	FUZZ_ASSERT(end == n);
	json_object_put(root);
	json_tokener_free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct field_value v[3];
	char *env[1] = { NULL }, *body;
	FCGX_Request fr;
	FCGX_Stream in, out;
	struct request req;
	size_t i;

	if (n > 65536)
		return 0;
	for (i = 0; i < n && strchr(" \t\r\n", d[i]) != NULL && d[i]; i++)
		;
	if (i < n && d[i] == '{' &&
	    sjson_check((const char *)d, n, 16) == SJSON_OK)
		differential(d, n);
	if ((body = arena_alloc(&arena, n + 1)) == NULL)
		return 0;
	memcpy(body, d, n);
	for (i = 0; i < 2; i++) {
		fuzz_fcgx(&fr, &in, &out, env, "", 0);
		request_init(&req, &fr, &arena);
		req.body = body;
		req.body_len = n;
		if (body_validate(&req, i ? signup : login, i ? 2 : 3, v) ==
		    0) {
			FUZZ_ASSERT(v[0].present && v[1].present);
			FUZZ_ASSERT(strlen(v[0].str) == v[0].len &&
			    strlen(v[1].str) == v[1].len);
		} else
			FUZZ_ASSERT(req.responded && req.status == 400);
	}
	arena_reset(&arena);
	return 0;
}
