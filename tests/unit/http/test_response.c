/*
 * test_response.c -- json_fields_text, the JSON writer of every respond_json
 * answer that holds no json-c object: its text must be what json-c (a
 * parser we did not write) reads back as the same values, for every byte a
 * string can hold, and the same text json-c itself writes for plain values.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/arena.h"
#include "http/http.h"
#include "tap.h"

static struct arena arena;

/* s written as the one field "v", parsed back by json-c: the string it
 * holds, or NULL when the text is not a JSON object with a string "v". */
static const char *
round_trip(const char *s, char *text_out, size_t cap)
{
	static char back[4096];
	const struct json_field f[] = { J_STR("v", s) };
	json_object *o, *v;
	size_t len = 0;
	char *t = json_fields_text(&arena, f, 1, &len);

	if (t == NULL || strlen(t) != len)
		return NULL;
	snprintf(text_out, cap, "%s", t);
	o = json_tokener_parse(t);
	if (o == NULL || !json_object_object_get_ex(o, "v", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		json_object_put(o);
		return NULL;
	}
	snprintf(back, sizeof back, "%s", json_object_get_string(v));
	json_object_put(o);
	return back;
}

static void
test_strings(void)
{
	static const char *plain[] = { "", "a", "alice@example.com",
		"quote \" and backslash \\", "slash / stays", "tab\tnl\ncr\r",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92", "</script>" };
	char text[4096], s[2], all[128];
	const char *back;
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		back = round_trip(plain[i], text, sizeof text);
		is_str(back, plain[i], "round trip of string %zu (%s)", i, text);
	}
	/* Every byte from 1 to 127 alone: parsed back as itself. */
	for (i = 1; i < 128; i++) {
		s[0] = (char)i;
		s[1] = '\0';
		back = round_trip(s, text, sizeof text);
		if (back == NULL || strcmp(back, s) != 0) {
			bad++;
			printf("# byte %zu: %s\n", i, text);
		}
		all[i - 1] = (char)i;
	}
	ok(bad == 0, "each of the bytes 1..127 alone round-trips (%d bad)", bad);
	all[127] = '\0';
	back = round_trip(all, text, sizeof text);
	is_str(back, all, "all of 1..127 in one string round-trip");
	ok(strstr(text, "\\u0001") != NULL && strstr(text, "\\u001f") != NULL &&
	    strstr(text, "\\u007f") != NULL && strstr(text, "\\u000a") != NULL,
	    "control characters are escaped as the log escapes them (%s)", text);

	/* Bytes that are not UTF-8 never reach the client as they are. */
	back = round_trip("a\xff" "b\xc3" "c\xe2\x82", text, sizeof text);
	is_str(back, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd",
	    "bytes that begin no UTF-8 sequence become U+FFFD (%s)", text);
	back = round_trip("\xed\xa0\x80", text, sizeof text);
	ok(back != NULL && strstr(text, "\xed") == NULL,
	    "an encoded surrogate is not sent as is (%s)", text);
}

static void
test_fields(void)
{
	const struct json_field user[] = { J_STR("id", "u1"),
		J_STR("email", "a@b.c"), J_BOOL("emailVerified", 1),
		J_BOOL("twoFactorEnabled", 0), J_STR("createdAt", NULL) };
	const struct json_field f[] = { J_FIELDS("user", user, 5),
		J_INT("n", -9223372036854775807LL - 1), J_INT("z", 0),
		J_INT("big", 9223372036854775807LL), J_OBJ("list",
		json_tokener_parse("[1,\"x\",{\"k\":null}]")) };
	json_object *jc;
	size_t len = 0;
	char *t = json_fields_text(&arena, f, sizeof f / sizeof f[0], &len);

	is_str(t, "{\"user\":{\"id\":\"u1\",\"email\":\"a@b.c\","
	    "\"emailVerified\":true,\"twoFactorEnabled\":false,"
	    "\"createdAt\":null},\"n\":-9223372036854775808,\"z\":0,"
	    "\"big\":9223372036854775807,\"list\":[1,\"x\",{\"k\":null}]}",
	    "nested fields, booleans, null, the extreme integers, a json-c "
	    "object");
	ok(t != NULL && len == strlen(t), "the length is the text's (%zu)", len);
	/* json-c writes the same object, built from the same fields, as the
	 * same text. */
	jc = json_build(f, sizeof f / sizeof f[0]); /* consumes the J_OBJ */
	is_str(jc != NULL ? json_object_to_json_string_ext(jc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL, t,
	    "json-c writes the same text for the same fields");
	json_object_put(jc);

	{
		const struct json_field e[] = { J_STR("error", "Unauthorized") };

		t = json_fields_text(&arena, e, 1, &len);
		is_str(t, "{\"error\":\"Unauthorized\"}", "an error answer");
	}
	{
		const struct json_field n[] = { J_OBJ("x", NULL) };

		ok(json_fields_text(&arena, n, 1, &len) == NULL,
		    "a J_OBJ that failed (NULL) fails the text");
	}
	{
		/* Longer than the first buffer: grows, stays whole. */
		char big[3000];
		const struct json_field b[] = { J_STR("a", big), J_STR("b", big) };
		json_object *o;

		memset(big, 'q', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		t = json_fields_text(&arena, b, 2, &len);
		o = t != NULL ? json_tokener_parse(t) : NULL;
		ok(o != NULL && len == 2 * 2999 + 15 &&
		    json_object_object_length(o) == 2,
		    "6 KB of fields in one object (%zu bytes)", len);
		json_object_put(o);
	}
}

static void
test_out_of_memory(void)
{
	struct arena tiny;
	const struct json_field f[] = { J_STR("k", "value") };
	size_t len = 0;

	arena_init(&tiny, 64); /* less than the writer's first buffer */
	ok(json_fields_text(&tiny, f, 1, &len) == NULL,
	    "an arena too small: NULL, not a cut text");
	arena_free(&tiny);
}

int
main(void)
{
	arena_init(&arena, 1 << 20);
	test_strings();
	test_fields();
	test_out_of_memory();
	arena_free(&arena);
	return done_testing();
}
