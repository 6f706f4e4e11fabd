/*
 * fuzz_jwt.c -- access tokens: jwt_verify on the input as a token (against
 * a ring of three keys), the flat JSON parser on the input as a header or
 * payload, and a round trip: a token signed over claims taken from the
 * input verifies to the same claims, and one byte changed never does.
 */
#include <string.h>

#include "core/jwt.h"
#include "fuzz.h"

static struct jwt_ring ring;
static const long long NOW = 1790000000; /* 2026 */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] =
	    "k1 0123456789abcdef0123456789abcdef\n"
	    "k2 a-second-secret-of-enough-length-x\n"
	    "old " "0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef\n";
	char err[256];

	(void)argc;
	(void)argv;
	if (jwt_ring_parse(text, &ring, err, sizeof err) < 0) {
		fprintf(stderr, "jwt_ring_parse: %s\n", err);
		abort();
	}
	return 0;
}

static void
copy_claim(char *dst, size_t cap, const uint8_t *d, size_t n, size_t *off,
    size_t want)
{
	size_t k = want < n - *off ? want : n - *off;

	if (k >= cap)
		k = cap - 1;
	memcpy(dst, d + *off, k);
	dst[k] = '\0';
	*off += k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct jwt_json j;
	struct jwt_claims c, got;
	char tok[JWT_TOKEN_MAX + 1];
	enum jwt_err e;
	ssize_t len;
	size_t off = 0;

	/* The input as a token, and as JSON. */
	e = jwt_verify(&ring, (const char *)d, n, NOW, "bulwark", 30, &got);
	if (e != JWT_OK) {
		static const struct jwt_claims zero;
		FUZZ_ASSERT(memcmp(&got, &zero, sizeof got) == 0);
	}
	(void)jwt_json_parse(&j, (const char *)d, n);

	/* The input as claims: sign, verify, compare. */
	memset(&c, 0, sizeof c);
	if (n < 4)
		return 0;
	copy_claim(c.sub, sizeof c.sub, d, n, &off, d[0] % 40);
	copy_claim(c.email, sizeof c.email, d, n, &off, d[1] % 64);
	copy_claim(c.role, sizeof c.role, d, n, &off, d[2] % 8);
	copy_claim(c.jti, sizeof c.jti, d, n, &off, d[3] % 40);
	memcpy(c.iss, "bulwark", 8);
	c.iat = NOW - 10;
	c.exp = NOW + 900;
	if ((len = jwt_sign(&ring, &c, tok, sizeof tok)) < 0)
		return 0;
	e = jwt_verify(&ring, tok, (size_t)len, NOW, "bulwark", 30, &got);
	FUZZ_ASSERT(e == JWT_OK);
	FUZZ_ASSERT(strcmp(got.sub, c.sub) == 0 &&
	    strcmp(got.email, c.email) == 0 && strcmp(got.role, c.role) == 0 &&
	    strcmp(got.jti, c.jti) == 0 && got.exp == c.exp &&
	    got.iat == c.iat && strcmp(got.kid, "k1") == 0);
	/* One byte changed (the last of the signature: always a change of
	 * the signature's bytes or a non-canonical encoding). */
	tok[len - 1] = tok[len - 1] == 'A' ? 'B' : 'A';
	FUZZ_ASSERT(jwt_verify(&ring, tok, (size_t)len, NOW, "bulwark", 30,
	    &got) != JWT_OK);
	return 0;
}
