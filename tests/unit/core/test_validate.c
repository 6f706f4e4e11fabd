/*
 * test_validate.c -- check_email, check_new_password, utf8_valid, utf8_chars.
 */
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/utf8.h"
#include "core/validate.h"
#include "tap.h"

#define INVALID "Invalid email address"
#define TOO_LONG "Must be at most 254 characters"

static char out[512];

/* check_email on a C string with a generous output buffer. */
static const char *
email(const char *s)
{
	memset(out, 0, sizeof out);
	return check_email(s, strlen(s), out, sizeof out);
}

/* s with control characters shown as \xNN, for a one-line description. */
static const char *
show(const char *s)
{
	static char buf[600];
	size_t o = 0;

	for (; *s != '\0' && o + 5 < sizeof buf; s++)
		if ((unsigned char)*s < 0x20)
			o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x",
			    (unsigned char)*s);
		else
			buf[o++] = *s;
	buf[o] = '\0';
	return buf;
}

static void
good_email(const char *in, const char *want)
{
	const char *msg = email(in);

	is_str(msg, NULL, "valid: \"%s\"", show(in));
	is_str(out, want, "  normalised to \"%s\"", want);
}

static void
bad_email(const char *in, const char *want_msg)
{
	is_str(email(in), want_msg, "rejected: \"%s\"", show(in));
}

/* n copies of the UTF-8 sequence u. */
static char *
rep(const char *u, size_t n)
{
	size_t k = strlen(u), i;
	char *s = malloc(k * n + 1);

	if (s == NULL)
		abort();
	for (i = 0; i < n; i++)
		memcpy(s + i * k, u, k);
	s[k * n] = '\0';
	return s;
}

static void
test_email(void)
{
	char buf[300], *local;
	const char *msg;

	good_email("user@example.com", "user@example.com");
	good_email("  User@Example.COM \t\n", "user@example.com");
	good_email("first.last+tag@sub.example.co.uk",
	    "first.last+tag@sub.example.co.uk");
	good_email("a!#$%&'*/=?^_`{|}~-@b-c.d9", "a!#$%&'*/=?^_`{|}~-@b-c.d9");
	good_email("x@1.2", "x@1.2");

	bad_email("", "Required");
	bad_email(" \t ", "Required");
	bad_email("userexample.com", INVALID);
	bad_email("a@b@example.com", INVALID);
	bad_email("a@@example.com", INVALID);
	bad_email("@example.com", INVALID);
	bad_email("user@", INVALID);
	bad_email("user@localhost", INVALID);
	bad_email("a@b..c", INVALID);
	bad_email("a@.b.com", INVALID);
	bad_email("a@b.com.", INVALID);
	bad_email("a@-b.com", INVALID);
	bad_email("a@b-.com", INVALID);
	bad_email("a@b.-com", INVALID);
	bad_email("a@b.com-", INVALID);
	bad_email("a@b_c.com", INVALID);
	bad_email("a b@example.com", INVALID);
	bad_email("ab@exa mple.com", INVALID);
	bad_email("ab@example.com x", INVALID);
	bad_email("j\xc3\xb6hn@example.com", INVALID);
	bad_email("john@ex\xc3\xa4mple.com", INVALID);
	bad_email("\"john\"@example.com", INVALID);
	bad_email("jo\"hn@example.com", INVALID);
	bad_email("a(b)@example.com", INVALID);
	bad_email("a,b@example.com", INVALID);
	bad_email("a@[1.2.3.4]", INVALID);

	/* 254 characters exactly: local part of 242 + "@example.com" (12). */
	local = rep("a", 242);
	snprintf(buf, sizeof buf, "%s@example.com", local);
	ok(strlen(buf) == 254, "built a 254-character address");
	is_str(email(buf), NULL, "254 characters accepted");
	ok(strlen(out) == 254, "  and copied whole");
	snprintf(buf, sizeof buf, "  %s@example.com  ", local);
	is_str(email(buf), NULL, "254 characters plus surrounding spaces accepted");
	snprintf(buf, sizeof buf, "%sa@example.com", local);
	ok(strlen(buf) == 255, "built a 255-character address");
	is_str(email(buf), TOO_LONG, "255 characters rejected");
	free(local);

	/* An output buffer too small is refused, not overflowed. */
	memset(buf, 'Z', sizeof buf);
	msg = check_email("user@example.com", 16, buf, 16);
	ok(msg != NULL, "outcap 16 for 16 characters + NUL is refused");
	ok(buf[16] == 'Z', "  nothing written past outcap");
	msg = check_email("user@example.com", 16, buf, 17);
	ok(msg == NULL && strcmp(buf, "user@example.com") == 0,
	    "outcap 17 is enough");

	/* Only len bytes are looked at. */
	is_str(check_email("user@example.comXXX", 16, out, sizeof out), NULL,
	    "len bounds the input");
	is_str(out, "user@example.com", "  and the copy");

	/* A NUL inside the given length is not a local-part character (the
	 * CLI and future callers pass lengths; body_validate happens to strip
	 * NULs first). */
	is_str(check_email("a\0b@example.com", 15, out, sizeof out), INVALID,
	    "an embedded NUL in the local part is rejected");
	is_str(check_email("ab@exa\0mple.com", 15, out, sizeof out), INVALID,
	    "an embedded NUL in the domain is rejected");
}

static void
test_password(void)
{
	char *s;

	is_str(check_new_password("1234567", 7, NULL),
	    "Must be at least 8 characters", "7 ASCII characters: too short");
	is_str(check_new_password("12345678", 8, NULL), NULL,
	    "8 ASCII characters: OK");
	is_str(check_new_password("", 0, NULL), "Must be at least 8 characters",
	    "empty: too short");

	s = rep("a", 128);
	is_str(check_new_password(s, 128, NULL), NULL, "128 ASCII characters: OK");
	free(s);
	s = rep("a", 129);
	is_str(check_new_password(s, 129, NULL), "Must be at most 128 characters",
	    "129 ASCII characters: too long");
	free(s);

	s = rep("\xc3\xa9", 8); /* 8 x U+00E9 = 16 bytes */
	is_str(check_new_password(s, 16, NULL), NULL,
	    "8 two-byte characters (16 bytes): OK");
	free(s);
	s = rep("\xc3\xa9", 7); /* 14 bytes, but 7 characters */
	is_str(check_new_password(s, 14, NULL), "Must be at least 8 characters",
	    "7 two-byte characters (14 bytes): too short");
	free(s);
	s = rep("\xf0\x9f\x98\x80", 7); /* 28 bytes, 7 characters */
	is_str(check_new_password(s, 28, NULL), "Must be at least 8 characters",
	    "7 four-byte characters (28 bytes): too short");
	free(s);
	s = rep("\xc3\xa9", 128);
	is_str(check_new_password(s, 256, NULL), NULL,
	    "128 x 'é' (256 bytes): OK");
	free(s);
	s = rep("\xc3\xa9", 129);
	is_str(check_new_password(s, 258, NULL), "Must be at most 128 characters",
	    "129 x 'é': too long");
	free(s);

	is_str(check_new_password("User@Example.com", 16, "user@example.com"),
	    "Must not be the same as the email",
	    "equal to the email, case aside: rejected");
	is_str(check_new_password("user@example.com", 16, "user@example.com"),
	    "Must not be the same as the email", "equal to the email: rejected");
	is_str(check_new_password("user@example.co", 15, "user@example.com"),
	    NULL, "a prefix of the email: OK");
	is_str(check_new_password("user@example.com1", 17, "user@example.com"),
	    NULL, "the email plus a character: OK");
	is_str(check_new_password("user@example.com", 16, NULL), NULL,
	    "no email given: OK");
}

static void
valid(const char *s, size_t n, int want, const char *what)
{
	ok(utf8_valid(s, n) == want, "utf8_valid %s: %s", what,
	    want ? "valid" : "invalid");
}

static void
test_utf8(void)
{
	valid("", 0, 1, "empty");
	valid("plain ascii", 11, 1, "ASCII");
	valid("\xc3\xa9", 2, 1, "U+00E9 (2 bytes)");
	valid("\xe2\x82\xac", 3, 1, "U+20AC (3 bytes)");
	valid("\xf0\x9f\x98\x80", 4, 1, "U+1F600 (4 bytes)");
	valid("\xf4\x8f\xbf\xbf", 4, 1, "U+10FFFF");
	valid("\xef\xbf\xbd", 3, 1, "U+FFFD");
	valid("\xed\x9f\xbf", 3, 1, "U+D7FF (just below surrogates)");
	valid("\xee\x80\x80", 3, 1, "U+E000 (just above surrogates)");
	valid("a\0b", 3, 1, "an embedded NUL (a valid code point)");
	valid("\xc0\x80", 2, 0, "overlong C0 80");
	valid("\xc1\xbf", 2, 0, "overlong C1 BF");
	valid("\xe0\x80\x80", 3, 0, "overlong E0 80 80");
	valid("\xe0\x9f\xbf", 3, 0, "overlong E0 9F BF");
	valid("\xf0\x8f\xbf\xbf", 4, 0, "overlong F0 8F BF BF");
	valid("\xed\xa0\x80", 3, 0, "surrogate ED A0 80");
	valid("\xed\xbf\xbf", 3, 0, "surrogate ED BF BF");
	valid("\xf4\x90\x80\x80", 4, 0, "F4 90 80 80 (above U+10FFFF)");
	valid("\xf5\x80\x80\x80", 4, 0, "F5 lead byte");
	valid("\xf8\x88\x80\x80\x80", 5, 0, "F8 lead byte");
	valid("\xfe", 1, 0, "FE");
	valid("\xff", 1, 0, "FF");
	valid("\x80", 1, 0, "a lone continuation byte");
	valid("a\xbf", 2, 0, "a continuation byte after ASCII");
	valid("\xc3", 1, 0, "truncated 2-byte sequence");
	valid("\xe2\x82", 2, 0, "truncated 3-byte sequence");
	valid("\xf0\x9f\x98", 3, 0, "truncated 4-byte sequence");
	valid("ab\xc3", 3, 0, "truncated sequence at the end");
	valid("\xc3" "A", 2, 0, "lead byte followed by ASCII");
	valid("\xe2\x82" "A", 3, 0, "3-byte lead, bad third byte");
	valid("\xc3\xa9", 1, 0, "length cuts a valid sequence");

	ok(utf8_chars("", 0) == 0, "utf8_chars(\"\") == 0");
	ok(utf8_chars("abc", 3) == 3, "utf8_chars(\"abc\") == 3");
	ok(utf8_chars("\xc3\xa9", 2) == 1, "utf8_chars(\"é\") == 1");
	ok(utf8_chars("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10) == 4,
	    "utf8_chars(\"aé€😀\") == 4");
	ok(utf8_chars("abcdef", 4) == 4, "utf8_chars counts only n bytes");
}

static void
test_rfc3339(void)
{
	struct arena a;
	static const char *cases[][2] = {
		{ "2026-11-27 09:22:22.910123+00", "2026-11-27T09:22:22.910Z" },
		{ "2026-11-27 09:22:22.91+00", "2026-11-27T09:22:22.910Z" },
		{ "2026-11-27 09:22:22.9+00", "2026-11-27T09:22:22.900Z" },
		{ "2026-11-27 09:22:22+00", "2026-11-27T09:22:22.000Z" },
		{ "2026-01-02 03:04:05.000001+00", "2026-01-02T03:04:05.000Z" },
		/* Not the UTC ISO form: passed through, never mangled. */
		{ "2026-11-27 09:22:22.91+01", "2026-11-27 09:22:22.91+01" },
		{ "2026-11-27T09:22:22+00", "2026-11-27T09:22:22+00" },
		{ "2026-11-27 09:22:22.9x+00", "2026-11-27 09:22:22.9x+00" },
		{ "short+00", "short+00" },
		{ "", "" },
	};
	size_t i;

	arena_init(&a, 1 << 20);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_str(rfc3339(&a, cases[i][0]), cases[i][1], "rfc3339 '%s'",
		    cases[i][0]);
	arena_free(&a);
}

int
main(void)
{
	test_email();
	test_password();
	test_utf8();
	test_rfc3339();
	return done_testing();
}
