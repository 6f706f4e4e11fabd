/*
 * test_sjson.c -- the strict JSON lexer and sjson_check: what it refuses
 * (a key twice after decoding, lone surrogates, \u0000, raw controls, bad
 * UTF-8, too deep), and that well-formed JSON of any shape passes.
 */
#include <stdlib.h>
#include <string.h>

#include "core/sjson.h"
#include "tap.h"

static enum sjson_err
check(const char *s)
{
	return sjson_check(s, strlen(s), 16);
}

static void
test_accepted(void)
{
	static const char *good[] = {
		"{}", " { } ", "[]", "\"x\"", "0", "-1.5e+3", "true", "null",
		"{\"email\":\"a@b.co\",\"password\":\"pw\"}",
		"{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}",
		"{\"p\":\"\\ud83d\\ude00\"}", /* a surrogate pair: U+1F600 */
		"{\"p\":\"\\uD83D\\uDE00\"}",
		"{\"p\":\"\xf0\x9f\x98\x80\"}",
		"{\"e\":\"x\",\"E\":\"y\"}",   /* keys are case-sensitive */
		"{\"ab\":1,\"a\":2,\"abc\":3}",
		"{\"\":1}",
		"{\"x\":{\"k\":1},\"y\":{\"k\":1}}", /* one key per object */
	};
	size_t i;

	for (i = 0; i < sizeof good / sizeof *good; i++)
		ok(check(good[i]) == SJSON_OK, "accepted: %s", good[i]);
}

static void
test_refused(void)
{
	static const struct {
		const char *in;
		enum sjson_err want;
	} bad[] = {
		{ "{\"email\":\"a\",\"email\":\"b\"}", SJSON_DUP_KEY },
		{ "{\"email\":\"a\",\"\\u0065mail\":\"b\"}", SJSON_DUP_KEY },
		{ "{\"e\\/\":1,\"e/\":2}", SJSON_DUP_KEY },
		{ "{\"x\":{\"k\":1,\"k\":2}}", SJSON_DUP_KEY },
		{ "[{\"k\":1,\"k\":2}]", SJSON_DUP_KEY },
		{ "{\"p\":\"\\ud800\"}", SJSON_SURROGATE },
		{ "{\"p\":\"\\udc00\"}", SJSON_SURROGATE },
		{ "{\"p\":\"\\ud800x\"}", SJSON_SURROGATE },
		{ "{\"p\":\"\\ud800\\u0041\"}", SJSON_SURROGATE },
		{ "{\"p\":\"\\ud800\\ud800\"}", SJSON_SURROGATE },
		{ "{\"\\udfff\":1}", SJSON_SURROGATE },
		{ "{\"p\":\"\\u0000\"}", SJSON_NUL },
		{ "{\"p\":\"a\x01\"}", SJSON_CONTROL },
		{ "{\"p\":\"\xc0\xaf\"}", SJSON_UTF8 },
		{ "{\"p\":\"\xed\xa0\x80\"}", SJSON_UTF8 },
		{ "{\"p\":\"\\u12\"}", SJSON_SYNTAX },
		{ "{\"p\":\"\\x41\"}", SJSON_SYNTAX },
		{ "{\"p\":1,}", SJSON_SYNTAX },
		{ "{\"p\":01}", SJSON_SYNTAX },
		{ "{} x", SJSON_SYNTAX },
		{ "{}{}", SJSON_SYNTAX },
		{ "", SJSON_SYNTAX },
		{ "{\"p\"}", SJSON_SYNTAX },
		{ "[1,]", SJSON_SYNTAX },
		{ "{'a':1}", SJSON_SYNTAX },
		{ "tru", SJSON_SYNTAX },
	};
	size_t i;
	enum sjson_err e;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		e = check(bad[i].in);
		ok(e == bad[i].want, "refused as %s: %s (got %s)",
		    sjson_error_name(bad[i].want), bad[i].in,
		    sjson_error_name(e));
	}
}

static void
test_depth(void)
{
	char buf[128];
	size_t i;

	memset(buf, 0, sizeof buf);
	for (i = 0; i < 16; i++)
		buf[i] = '[';
	for (i = 16; i < 32; i++)
		buf[i] = ']';
	ok(check(buf) == SJSON_OK, "16 nested arrays pass at depth 16");
	memmove(buf + 1, buf, 32);
	buf[0] = '[';
	buf[33] = ']';
	ok(check(buf) == SJSON_DEPTH, "17 are refused");
}

/* Many keys: the duplicate check sorts, and finds the last against the
 * first. */
static void
test_many_keys(void)
{
	size_t n = 5000, i, off = 0, cap = n * 16 + 16;
	char *buf = malloc(cap);

	if (buf == NULL) {
		ok(0, "malloc");
		return;
	}
	buf[off++] = '{';
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s\"k%zu\":1",
		    i ? "," : "", i);
	memcpy(buf + off, "}", 2);
	ok(check(buf) == SJSON_OK, "5000 different keys pass");
	off += (size_t)snprintf(buf + off, cap - off, ",\"k0\":2}");
	ok(check(buf) == SJSON_DUP_KEY, "and one more k0 at the end is a "
	    "duplicate");
	free(buf);
}

/* sjson_string on in (a JSON string, quotes included) with str_max max and
 * an output buffer of cap bytes: the error, and the decoded text in out. */
static enum sjson_err
decode(const char *in, size_t max, size_t cap, char *out, size_t *len)
{
	static char buf[256];
	struct sjson j = { (const unsigned char *)in,
		(const unsigned char *)in + strlen(in), buf, buf + cap, max };
	const char *s = NULL;
	enum sjson_err e;

	*len = 0;
	out[0] = '\0';
	if ((e = sjson_string(&j, &s, len)) == SJSON_OK)
		memcpy(out, s, *len + 1);
	return e;
}

/* Plain runs are copied whole: the same text, the same limits, the same
 * error at the same byte as one byte at a time. */
static void
test_strings(void)
{
	static const struct {
		const char *in, *want;
		size_t max, cap;
		enum sjson_err err;
	} t[] = {
		{ "\"plain ascii run\"", "plain ascii run", 0, 64, SJSON_OK },
		{ "\"a\\\"b\\\\c\\/d\\ne\"", "a\"b\\c/d\ne", 0, 64, SJSON_OK },
		{ "\"caf\xc3\xa9 au lait\"", "caf\xc3\xa9 au lait", 0, 64, SJSON_OK },
		{ "\"x\\u0041y\x7fz\"", "xAy\x7fz", 0, 64, SJSON_OK },
		{ "\"\"", "", 0, 64, SJSON_OK },
		{ "\"abcd\"", "abcd", 4, 64, SJSON_OK },    /* at the limit */
		{ "\"abcde\"", "", 4, 64, SJSON_LONG },     /* one over */
		{ "\"ab\\ncd\"", "", 4, 64, SJSON_LONG }, /* over after an escape */
		{ "\"abcd\"", "abcd", 0, 5, SJSON_OK },     /* the NUL fits */
		{ "\"abcd\"", "", 0, 4, SJSON_LONG },       /* it does not */
		{ "\"abc\x01\"", "", 0, 64, SJSON_CONTROL },
		{ "\"abcdef\x01\"", "", 4, 64, SJSON_LONG }, /* the limit first */
		{ "\"abc", "", 0, 64, SJSON_SYNTAX },       /* no closing quote */
		{ "\"abc\\", "", 0, 64, SJSON_SYNTAX },
	};
	char out[256];
	size_t i, len;
	enum sjson_err e;

	for (i = 0; i < sizeof t / sizeof *t; i++) {
		e = decode(t[i].in, t[i].max, t[i].cap, out, &len);
		ok(e == t[i].err && (e != SJSON_OK ||
		    (len == strlen(t[i].want) && strcmp(out, t[i].want) == 0)),
		    "string %zu: %s (max %zu, room %zu)", i, sjson_error_name(e),
		    t[i].max, t[i].cap);
	}
}

int
main(void)
{
	test_accepted();
	test_refused();
	test_depth();
	test_many_keys();
	test_strings();
	return done_testing();
}
