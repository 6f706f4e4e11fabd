/*
 * test_log.c -- json_escape_append and log_fields / log_msg lines.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/log.h"
#include "tap.h"

/* Parses s[0..n) strictly as one complete JSON value; NULL if it is not. */
static json_object *
parse_strict(const char *s, size_t n)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != n)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Escapes s into a fresh buffer; checks the literal and what it decodes to. */
static void
escape(const char *s, const char *want_literal, const char *want_decoded,
    const char *what)
{
	char buf[256];
	size_t len = 0;
	json_object *o;

	buf[0] = '\0';
	json_escape_append(buf, sizeof buf, &len, s);
	is_str(buf, want_literal, "escape %s", what);
	ok(len == strlen(buf), "  len tracks the output (%zu)", len);
	o = parse_strict(buf, len);
	ok(o != NULL && json_object_is_type(o, json_type_string) &&
	    strcmp(json_object_get_string(o), want_decoded) == 0,
	    "  json-c decodes it back to the expected string");
	json_object_put(o);
}

static void
test_escape(void)
{
	char buf[64], big[2000];
	size_t len;
	json_object *o;

	escape("", "\"\"", "", "the empty string");
	escape("plain", "\"plain\"", "plain", "plain ASCII");
	escape("a\"b", "\"a\\\"b\"", "a\"b", "a quote");
	escape("a\\b", "\"a\\\\b\"", "a\\b", "a backslash");
	escape("\\\"", "\"\\\\\\\"\"", "\\\"", "backslash then quote");
	escape("a\nb\rc\td", "\"a\\u000ab\\u000dc\\u0009d\"", "a\nb\rc\td",
	    "newline, CR, tab");
	escape("\x01\x1f", "\"\\u0001\\u001f\"", "\x01\x1f",
	    "control characters 0x01 and 0x1f");
	escape("\x7f", "\"\\u007f\"", "\x7f", "DEL");
	escape(" ~", "\" ~\"", " ~", "0x20 and 0x7e pass");
	escape("/", "\"/\"", "/", "a slash passes");
	escape("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80\"", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	    "valid 2-, 3- and 4-byte UTF-8 passes");
	escape("a\xff" "b", "\"a\\ufffdb\"", "a\xef\xbf\xbd" "b",
	    "an invalid byte becomes \\ufffd");
	escape("\xc3", "\"\\ufffd\"", "\xef\xbf\xbd", "a truncated sequence");
	escape("\xc0\x80", "\"\\ufffd\\ufffd\"", "\xef\xbf\xbd\xef\xbf\xbd",
	    "an overlong NUL: two replacements");
	escape("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"",
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "a surrogate");

	/* Appending after existing content. */
	strcpy(buf, "{\"k\":");
	len = strlen(buf);
	json_escape_append(buf, sizeof buf, &len, "v\"");
	is_str(buf, "{\"k\":\"v\\\"\"", "appends after existing content");
	ok(len == strlen(buf), "  len updated to %zu", len);

	/* A long value is cut (at 512 input bytes) with "..." and stays JSON. */
	{
		char *lbuf = malloc(4096), *val = malloc(1001);
		size_t l = 0;

		memset(val, 'x', 1000);
		val[1000] = '\0';
		lbuf[0] = '\0';
		json_escape_append(lbuf, 4096, &l, val);
		ok(l == 512 + 5 && strncmp(lbuf + l - 4, "...\"", 4) == 0,
		    "a 1000-byte value is cut to 512 bytes + \"...\" (len %zu)",
		    l);
		o = parse_strict(lbuf, l);
		ok(o != NULL, "  the cut value is valid JSON");
		json_object_put(o);
		free(lbuf);
		free(val);
	}

	/* A multibyte sequence is never split by the cut. */
	{
		size_t i, l = 0;

		for (i = 0; i + 2 < sizeof big - 1; i += 3)
			memcpy(big + i, "\xe2\x82\xac", 3);
		big[i] = '\0';
		buf[0] = '\0';
		json_escape_append(buf, sizeof buf, &l, big);
		o = parse_strict(buf, l);
		ok(o != NULL, "a long run of 3-byte characters cut at a small "
		    "cap is valid JSON (\"%s\")", buf);
		json_object_put(o);
	}
}

/* Every cap from 1 to 80, at two starting offsets: never writes at or past
 * cap, always NUL-terminates, keeps the prefix, and appends either nothing
 * (no room for even "") or exactly one valid JSON string.  The cap that
 * leaves room for exactly one byte is left to test_one_byte_room(). */
static void
truncation(const char *s, const char *what)
{
	static const char *prefixes[] = { "", "{\"k\":" };
	char buf[128], full[1024];
	size_t cap, i, p, len, plen, flen = 0;
	int bad;
	json_object *o;

	full[0] = '\0';
	json_escape_append(full, sizeof full, &flen, s);
	for (p = 0; p < 2; p++) {
		plen = strlen(prefixes[p]);
		bad = 0;
		for (cap = plen + 1; cap <= 80 && !bad; cap++) {
			if (cap == plen + 2)
				continue;
			memset(buf, 0xA5, sizeof buf);
			memcpy(buf, prefixes[p], plen + 1);
			len = plen;
			json_escape_append(buf, cap, &len, s);
			if (len >= cap || buf[len] != '\0' || strlen(buf) != len) {
				bad = 1;
				printf("# cap %zu: len %zu, not terminated\n",
				    cap, len);
				break;
			}
			for (i = cap; i < sizeof buf; i++)
				if ((unsigned char)buf[i] != 0xA5) {
					bad = 1;
					printf("# cap %zu: byte %zu written past "
					    "cap\n", cap, i);
					break;
				}
			if (memcmp(buf, prefixes[p], plen) != 0) {
				bad = 1;
				printf("# cap %zu: prefix damaged\n", cap);
			}
			if (len == plen) {
				/* Nothing appended: only when "" cannot fit. */
				if (cap - plen >= 3) {
					bad = 1;
					printf("# cap %zu: nothing appended "
					    "although \"\" fits\n", cap);
				}
				continue;
			}
			if ((o = parse_strict(buf + plen, len - plen)) == NULL ||
			    !json_object_is_type(o, json_type_string)) {
				bad = 1;
				printf("# cap %zu: appended '%s' is not a JSON "
				    "string\n", cap, buf + plen);
			}
			json_object_put(o);
			/* With some room, a cut value says so and keeps what
			 * fitted rather than collapsing to "". */
			if (cap - plen >= 20 && strcmp(buf + plen, full) != 0 &&
			    (len - plen < 5 || strcmp(buf + len - 4, "...\"") != 0)) {
				bad = 1;
				printf("# cap %zu: cut value '%s' does not end in "
				    "...\"\n", cap, buf + plen);
			}
		}
		ok(!bad, "truncation of %s after \"%s\": caps %zu..80 give "
		    "valid, terminated output within cap, cut with \"...\"",
		    what, prefixes[p], plen + 1);
	}
}

/* Room for one byte and the NUL: "" does not fit, and a lone '"' is not
 * JSON, so nothing may be appended. */
static void
one_byte_room(const char *prefix)
{
	char buf[32];
	size_t plen = strlen(prefix), len = plen, i;
	int intact = 1;

	memset(buf, 0xA5, sizeof buf);
	memcpy(buf, prefix, plen + 1);
	json_escape_append(buf, plen + 2, &len, "value");
	for (i = plen + 2; i < sizeof buf; i++)
		if ((unsigned char)buf[i] != 0xA5)
			intact = 0;
	ok(intact && len < plen + 2 && buf[len] == '\0',
	    "room for one byte after \"%s\": stays within cap, terminated",
	    prefix);
	ok(len == plen, "room for one byte after \"%s\": nothing appended "
	    "(got '%s')", prefix, buf + plen);
}

static void
test_truncation(void)
{
	one_byte_room("");
	one_byte_room("{\"k\":");
	truncation("hello world, a plain ASCII value that is long enough",
	    "ASCII");
	truncation("\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"",
	    "quotes");
	truncation("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d",
	    "control characters");
	truncation("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "UTF-8");
	truncation("\xff\xfe\xc0\x80\xed\xa0\x80\xff\xfe\xff", "invalid bytes");
	truncation("", "the empty string");
}

/* Reads the whole file at path into a malloc'd NUL-terminated string. */
static char *
slurp(const char *path, size_t *n)
{
	char *s = malloc(65536);
	ssize_t r;
	int fd;

	*n = 0;
	if (s == NULL || (fd = open(path, O_RDONLY)) < 0) {
		free(s);
		return NULL;
	}
	while ((r = read(fd, s + *n, 65535 - *n)) > 0)
		*n += (size_t)r;
	close(fd);
	s[*n] = '\0';
	return s;
}

static size_t
count_char(const char *s, size_t n, char c)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (s[i] == c)
			k++;
	return k;
}

static const char *
get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void
test_log_fields(void)
{
	char path[] = "/tmp/bulwark-test-log.XXXXXX";
	char *text, *big;
	const char *tm;
	size_t n, first;
	int fd, i;
	json_object *o, *v;
	struct log_field many[40];
	char keys[40][16];

	if ((fd = mkstemp(path)) < 0) {
		ok(0, "mkstemp");
		return;
	}
	close(fd);
	ok(log_open(path) == 0, "log_open on a temporary file");

	log_event("info", "unit_test",
	    LF_S("msg", "line one\nline \"two\"\t\\end"),
	    LF_I("count", 42), LF_I("neg", -7),
	    LF_MILLI("ms", 1234), LF_MILLI("neg_ms", -5),
	    LF_MILLI("zero_ms", 0), LF_MILLI("whole_ms", 2000),
	    LF_MILLI("neg_big", -1999),
	    LF_S("skipped", NULL), LF_S("utf8", "caf\xc3\xa9"),
	    LF_S("bad", "x\xffy"), LF_S("we\"ird\nkey", "v"));
	text = slurp(path, &n);
	ok(text != NULL && n > 0, "the log file has content");
	if (text == NULL)
		return;
	ok(count_char(text, n, '\n') == 1 && text[n - 1] == '\n',
	    "exactly one line, ending in a newline");
	o = parse_strict(text, n - 1);
	ok(o != NULL && json_object_is_type(o, json_type_object),
	    "the line is one valid JSON object");
	if (o == NULL)
		printf("#   line: %s", text);
	is_str(get_str(o, "level"), "info", "level");
	is_str(get_str(o, "event"), "unit_test", "event");
	tm = get_str(o, "time");
	ok(tm != NULL && strlen(tm) == 24 && tm[4] == '-' && tm[10] == 'T' &&
	    tm[19] == '.' && tm[23] == 'Z',
	    "time is YYYY-MM-DDTHH:MM:SS.mmmZ (%s)", tm ? tm : "(null)");
	is_str(get_str(o, "msg"), "line one\nline \"two\"\t\\end",
	    "a value with newlines, quotes, tab and backslash round-trips");
	ok(json_object_object_get_ex(o, "count", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) == 42, "LF_I 42 is the integer 42");
	ok(json_object_object_get_ex(o, "neg", &v) &&
	    json_object_get_int64(v) == -7, "LF_I -7 is -7");
	ok(strstr(text, "\"ms\":1.234,") != NULL, "LF_MILLI 1234 -> 1.234");
	ok(strstr(text, "\"neg_ms\":-0.005,") != NULL, "LF_MILLI -5 -> -0.005");
	ok(strstr(text, "\"zero_ms\":0.000,") != NULL, "LF_MILLI 0 -> 0.000");
	ok(strstr(text, "\"whole_ms\":2.000,") != NULL,
	    "LF_MILLI 2000 -> 2.000");
	ok(strstr(text, "\"neg_big\":-1.999,") != NULL,
	    "LF_MILLI -1999 -> -1.999");
	ok(json_object_object_get_ex(o, "ms", &v) &&
	    json_object_is_type(v, json_type_double) &&
	    json_object_get_double(v) > 1.2339 &&
	    json_object_get_double(v) < 1.2341, "  json-c reads 1.234 as a double");
	ok(!json_object_object_get_ex(o, "skipped", NULL),
	    "a NULL string value is left out");
	is_str(get_str(o, "utf8"), "caf\xc3\xa9", "UTF-8 value kept");
	is_str(get_str(o, "bad"), "x\xef\xbf\xbdy",
	    "invalid byte replaced by U+FFFD");
	is_str(get_str(o, "we\"ird\nkey"), "v", "keys are escaped too");
	json_object_put(o);
	first = n;
	free(text);

	/* log_msg appends a second line. */
	log_msg("warning", "hello %d %s", 5, "\"world\"");
	text = slurp(path, &n);
	ok(text != NULL && count_char(text, n, '\n') == 2,
	    "log_msg appends a second line");
	o = text != NULL ? parse_strict(text + first, n - first - 1) : NULL;
	ok(o != NULL, "  which is valid JSON");
	is_str(get_str(o, "event"), "message", "  event is \"message\"");
	is_str(get_str(o, "message"), "hello 5 \"world\"", "  message formatted");
	ok(json_object_object_get_ex(o, "pid", &v) &&
	    json_object_get_int64(v) == getpid(), "  pid is ours");
	json_object_put(o);
	first = n;
	free(text);

	/* Many long fields overflow the 8 KiB line: still one valid line. */
	big = malloc(600);
	memset(big, '\x01', 599); /* 6 output bytes each */
	big[599] = '\0';
	for (i = 0; i < 40; i++) {
		snprintf(keys[i], sizeof keys[i], "k%d", i);
		many[i] = LF_S(keys[i], big);
	}
	log_fields("info", "overflow", many, 40);
	free(big);
	text = slurp(path, &n);
	ok(text != NULL && count_char(text, n, '\n') == 3 && text[n - 1] == '\n',
	    "an overflowing line is still exactly one line");
	o = text != NULL ? parse_strict(text + first, n - first - 1) : NULL;
	ok(o != NULL, "an overflowing line (40 x 600 control bytes) is still "
	    "valid JSON");
	if (o == NULL && text != NULL)
		printf("#   tail: %s", text + (n > 80 ? n - 80 : 0));
	is_str(o != NULL ? get_str(o, "event") : NULL, "overflow",
	    "  and keeps its event");
	json_object_put(o);
	free(text);

	log_open(NULL);
	unlink(path);
}

int
main(void)
{
	test_escape();
	test_truncation();
	test_log_fields();
	return done_testing();
}
