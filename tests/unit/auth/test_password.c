/*
 * test_password.c -- password_hash / verify / needs_rehash with libxcrypt.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/config.h"
#include "tap.h"

#define PW "correct horse battery staple"

static int
configure(enum pw_algo algo, long cost)
{
	cfg.pw_algo = algo;
	cfg.pw_cost = cost;
	return password_init();
}

static void
test_yescrypt(void)
{
	char h1[PW_HASH_MAX], h2[PW_HASH_MAX], h4[PW_HASH_MAX], t[PW_HASH_MAX];
	char long1[200], long2[200];
	size_t n = strlen(PW);

	ok(configure(PW_YESCRYPT, 1) == 0, "password_init, yescrypt cost 1");
	memset(h1, 0, sizeof h1);
	ok(password_hash(PW, n, h1) == 0, "password_hash");
	ok(strncmp(h1, "$y$", 3) == 0 && strlen(h1) < PW_HASH_MAX,
	    "  a yescrypt hash (%s)", h1);
	ok(password_verify(PW, n, h1) == 1, "the right password verifies");
	ok(password_verify("correct horse battery stapler", n + 1, h1) == 0,
	    "a longer password does not");
	ok(password_verify("correct horse battery staplf", n, h1) == 0,
	    "a wrong last character does not");
	ok(password_verify("Correct horse battery staple", n, h1) == 0,
	    "a different case does not");
	ok(password_verify(PW, n - 1, h1) == 0, "a prefix does not");
	ok(password_verify(PW "\0tail", n + 5, h1) == 0,
	    "the password + NUL + more does not (embedded NUL)");
	ok(password_verify(PW "\0", n + 1, h1) == 0,
	    "the password + a trailing NUL does not");
	ok(password_verify("", 0, h1) == 0, "the empty password does not");
	ok(password_hash(PW "\0x", n + 2, t) == -1,
	    "password_hash refuses an embedded NUL");

	ok(password_hash(PW, n, h2) == 0 && strcmp(h1, h2) != 0,
	    "two hashes of one password differ (salt)");
	ok(password_verify(PW, n, h2) == 1, "  and both verify");

	ok(password_verify(PW, n, NULL) == 0, "verify against NULL is 0");
	ok(password_verify(PW, n, "garbage") == 0, "\"garbage\" never verifies");
	ok(password_verify(PW, n, "$") == 0, "\"$\" never verifies");
	ok(password_verify(PW, n, "") == 0, "\"\" never verifies");
	ok(password_verify(PW, n, "$y$") == 0, "\"$y$\" never verifies");
	ok(password_verify(PW, n, "*0") == 0, "a crypt failure token never "
	    "verifies");
	snprintf(t, sizeof t, "%.*s", (int)strlen(h1) - 1, h1);
	ok(password_verify(PW, n, t) == 0, "a hash missing its last character "
	    "never verifies");
	snprintf(t, sizeof t, "%s", h1);
	t[strlen(t) - 1] = t[strlen(t) - 1] == 'A' ? 'B' : 'A';
	ok(password_verify(PW, n, t) == 0, "a hash with its last character "
	    "changed does not verify");

	/* yescrypt has no 72-byte limit (README). */
	memset(long1, 'p', 100);
	long1[100] = '\0';
	memcpy(long2, long1, 101);
	long2[99] = 'q';
	ok(password_hash(long1, 100, t) == 0 &&
	    password_verify(long1, 100, t) == 1 &&
	    password_verify(long2, 100, t) == 0,
	    "yescrypt: a difference at byte 100 counts");

	ok(password_needs_rehash(h1) == 0, "a fresh hash needs no rehash");
	ok(password_needs_rehash("garbage") == 1, "\"garbage\" needs a rehash");

	ok(configure(PW_YESCRYPT, 3) == 0, "reconfigured: yescrypt cost 3");
	ok(password_needs_rehash(h1) == 1, "a cost-1 hash needs a rehash at 3");
	ok(password_verify(PW, n, h1) == 1, "  and still verifies");

	ok(configure(PW_YESCRYPT, 4) == 0 && password_hash(PW, n, h4) == 0,
	    "a hash at cost 4");
	ok(password_needs_rehash(h4) == 0, "  needs no rehash at 4");
	ok(configure(PW_YESCRYPT, 3) == 0, "reconfigured: yescrypt cost 3");
	ok(password_needs_rehash(h4) == 0, "a cost-4 hash needs none at 3");
	ok(password_verify(PW, n, h4) == 1, "  and verifies");

	/* Kept for the bcrypt section. */
	configure(PW_YESCRYPT, 1);
	ok(password_hash(PW, n, h1) == 0, "a cost-1 hash for later");

	ok(configure(PW_BCRYPT, 10) == 0, "password_init, bcrypt cost 10");
	ok(password_needs_rehash(h1) == 1,
	    "a yescrypt hash needs a rehash when bcrypt is configured");
	ok(password_needs_rehash(h4) == 1, "  whatever its cost");
	ok(password_verify(PW, n, h1) == 1,
	    "  and still verifies under bcrypt configuration");
}

static void
test_bcrypt(void)
{
	char b10[PW_HASH_MAX], b11[PW_HASH_MAX], b4[PW_HASH_MAX];
	char y[PW_HASH_MAX];
	size_t n = strlen(PW);

	ok(configure(PW_BCRYPT, 10) == 0, "bcrypt cost 10");
	ok(password_hash(PW, n, b10) == 0 && strncmp(b10, "$2b$10$", 7) == 0,
	    "a $2b$10$ hash (%s)", b10);
	ok(password_verify(PW, n, b10) == 1, "it verifies");
	ok(password_verify("correct horse battery staplf", n, b10) == 0,
	    "a wrong password does not");
	ok(password_verify(PW, n - 1, b10) == 0, "a prefix does not");
	ok(password_verify(PW "\0x", n + 2, b10) == 0, "an embedded NUL does not");
	ok(password_needs_rehash(b10) == 0, "it needs no rehash");
	ok(password_verify(PW, n, "garbage") == 0 &&
	    password_verify(PW, n, "$") == 0,
	    "malformed hashes never verify under bcrypt either");

	ok(configure(PW_BCRYPT, 11) == 0 && password_hash(PW, n, b11) == 0 &&
	    strncmp(b11, "$2b$11$", 7) == 0, "a $2b$11$ hash");
	ok(configure(PW_BCRYPT, 10) == 0, "back to cost 10");
	ok(password_needs_rehash(b11) == 0, "a $2b$11$ hash needs none at 10");
	ok(password_verify(PW, n, b11) == 1, "  and verifies");

	/* Below the configurable range, but a stored hash may be anything. */
	ok(configure(PW_BCRYPT, 4) == 0 && password_hash(PW, n, b4) == 0 &&
	    strncmp(b4, "$2b$04$", 7) == 0, "a $2b$04$ hash");
	ok(configure(PW_BCRYPT, 10) == 0, "back to cost 10");
	ok(password_needs_rehash(b4) == 1, "a $2b$04$ hash needs a rehash at 10");
	ok(password_verify(PW, n, b4) == 1, "  and verifies");

	ok(configure(PW_YESCRYPT, 1) == 0 && password_hash(PW, n, y) == 0,
	    "a yescrypt hash");
	ok(configure(PW_BCRYPT, 10) == 0 && password_needs_rehash(y) == 1,
	    "needs a rehash when bcrypt is configured");
	ok(configure(PW_YESCRYPT, 1) == 0 && password_needs_rehash(b10) == 1,
	    "a bcrypt hash needs a rehash when yescrypt is configured");
	ok(password_verify(PW, n, b10) == 1, "  and verifies");
}

int
main(void)
{
	test_yescrypt();
	test_bcrypt();
	return done_testing();
}
