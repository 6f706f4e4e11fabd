/*
 * test_jwt.c -- HS256 access tokens, the key ring, the flat JSON parser:
 * RFC 7515/7519/4231 vectors, forged and tampered tokens, time rules.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/jwt.h"
#include "tap.h"

#define NOW 1700000000LL
#define ISS "https://bulwark.test"
#define SKEW 30L
#define SUB "3f1c9a52-7e0b-4d2a-9c61-0b8f5e2d4a17"
#define JTI "Jq8fR2kVb9XwLmN3pT6yZc1aHs4dUe7gOi0jKl5nM2o"

/* Secrets of the test ring: the first signs, the second only verifies. */
static const char SECRET1[] = "correct-horse-battery-staple-2025-abcdefgh";
static const char SECRET2[] = "an older secret, still verifying #2024 !!";

static struct jwt_ring ring;    /* k2025 (SECRET1), then k2024 (SECRET2) */

/* A token header.payload.signature from JSON texts of explicit lengths,
 * signed with key (NULL: no signature at all, "h.p."). */
static size_t
forge_n(const void *key, size_t keylen, const char *h, size_t hl,
    const char *p, size_t pl, char *out, size_t cap)
{
	unsigned char mac[32];
	size_t n, k;

	if ((n = b64url_encode((const unsigned char *)h, hl, out, cap)) == 0 ||
	    n + 2 >= cap)
		return 0;
	out[n++] = '.';
	if ((k = b64url_encode((const unsigned char *)p, pl, out + n,
	    cap - n)) == 0 || n + k + 2 >= cap)
		return 0;
	n += k;
	if (key != NULL && jwt_hs256(key, keylen, out, n, mac) < 0)
		return 0;
	out[n++] = '.';
	out[n] = '\0';
	if (key == NULL)
		return n;
	if ((k = b64url_encode(mac, sizeof mac, out + n, cap - n)) == 0)
		return 0;
	return n + k;
}

/* Signed with SECRET1, the key of kid k2025. */
static size_t
forge(const char *h, const char *p, char *out, size_t cap)
{
	return forge_n(SECRET1, strlen(SECRET1), h, strlen(h), p, strlen(p),
	    out, cap);
}

static const char HDR[] =
    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k2025\"}";

/* Our payload with the given times. */
static void
payload(char *buf, size_t cap, long long iat, long long exp)
{
	snprintf(buf, cap, "{\"sub\":\"" SUB "\",\"email\":\"ann@example.com\","
	    "\"role\":\"user\",\"jti\":\"" JTI "\",\"iat\":%lld,\"exp\":%lld,"
	    "\"iss\":\"" ISS "\"}", iat, exp);
}

static enum jwt_err
verify_with(const struct jwt_ring *r, const char *tok, size_t n,
    struct jwt_claims *c)
{
	return jwt_verify(r, tok, n, NOW, ISS, SKEW, c);
}

/* Verifies tok against the test ring; the claims are dropped. */
static enum jwt_err
v(const char *tok)
{
	struct jwt_claims c;

	return verify_with(&ring, tok, strlen(tok), &c);
}

/* Forges h.p (signed with k2025's key) and verifies it. */
static enum jwt_err
vf(const char *h, const char *p)
{
	char tok[8192];

	if (forge(h, p, tok, sizeof tok) == 0)
		return (enum jwt_err)-1;
	return v(tok);
}

/* Header hdr with our payload, valid at NOW. */
static enum jwt_err
vh(const char *hdr)
{
	char p[1024];

	payload(p, sizeof p, NOW - 10, NOW + 890);
	return vf(hdr, p);
}

/* Our header with payload p. */
static enum jwt_err
vp(const char *p)
{
	return vf(HDR, p);
}

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static void
claims_init(struct jwt_claims *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->sub, sizeof c->sub, "%s", SUB);
	snprintf(c->email, sizeof c->email, "ann@example.com");
	snprintf(c->role, sizeof c->role, "user");
	snprintf(c->jti, sizeof c->jti, "%s", JTI);
	snprintf(c->iss, sizeof c->iss, "%s", ISS);
	c->iat = NOW;
	c->exp = NOW + 900;
}

/* The part'th '.'-separated part of tok (0..2) decoded into out. */
static ssize_t
part(const char *tok, int which, unsigned char *out, size_t cap)
{
	const char *s = tok, *e;

	while (which-- > 0)
		s = strchr(s, '.') + 1;
	if ((e = strchr(s, '.')) == NULL)
		e = s + strlen(s);
	return b64url_decode(s, (size_t)(e - s), out, cap);
}

/* ---- RFC vectors ------------------------------------------------------- */

static void
test_rfc7515(void)
{
	static const char k[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr"
	    "_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
	static const char input[] =
	    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
	    "."
	    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
	static const char want[] =
	    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	/* RFC 7519 section 3.1, line breaks removed: the same token. */
	static const char rfc7519[] =
	    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
	    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
	    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	/* RFC 7519 section 6.1: the same claims, unsecured ("alg":"none"). */
	static const char unsecured[] =
	    "eyJhbGciOiJub25lIn0."
	    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ.";
	static const char hdr[] = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
	static const char pay[] =
	    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n"
	    " \"http://example.com/is_root\":true}";
	unsigned char key[128], mac[32], dec[256];
	char sig[64], joined[512];
	const struct jwt_json_member *m;
	struct jwt_json j;
	struct jwt_ring r;
	struct jwt_claims c;
	ssize_t kl, n;

	kl = b64url_decode(k, strlen(k), key, sizeof key);
	ok(kl == 64, "RFC 7515 A.1: the JWK k decodes to 64 bytes");
	ok(jwt_hs256(key, (size_t)kl, input, strlen(input), mac) == 0,
	    "RFC 7515 A.1: HMAC-SHA256 of the signing input");
	b64url_encode(mac, sizeof mac, sig, sizeof sig);
	is_str(sig, want, "RFC 7515 A.1: the signature is exactly the RFC's");

	n = part(input, 0, dec, sizeof dec);
	ok(n == (ssize_t)strlen(hdr) && memcmp(dec, hdr, (size_t)n) == 0,
	    "RFC 7515 A.1: the header decodes to its octets (with CRLF)");
	ok(jwt_json_parse(&j, (char *)dec, (size_t)n) == 0 && j.n == 2,
	    "  and parses as a flat object of 2 members");
	m = jwt_json_get(&j, "alg");
	ok(m != NULL && m->type == JWT_JSON_STRING && strcmp(m->str, "HS256")
	    == 0, "  alg is \"HS256\"");
	m = jwt_json_get(&j, "typ");
	ok(m != NULL && m->type == JWT_JSON_STRING && strcmp(m->str, "JWT") ==
	    0, "  typ is \"JWT\"");

	n = part(input, 1, dec, sizeof dec);
	ok(n == (ssize_t)strlen(pay) && memcmp(dec, pay, (size_t)n) == 0,
	    "RFC 7515 A.1: the payload decodes to its octets (with CRLF)");
	ok(jwt_json_parse(&j, (char *)dec, (size_t)n) == 0 && j.n == 3,
	    "  and parses as a flat object of 3 members");
	m = jwt_json_get(&j, "iss");
	ok(m != NULL && m->type == JWT_JSON_STRING && m->len == 3 &&
	    strcmp(m->str, "joe") == 0, "  iss is \"joe\"");
	m = jwt_json_get(&j, "exp");
	ok(m != NULL && m->type == JWT_JSON_INT && m->num == 1300819380LL,
	    "  exp is the integer 1300819380");
	m = jwt_json_get(&j, "http://example.com/is_root");
	ok(m != NULL && m->type == JWT_JSON_TRUE,
	    "  http://example.com/is_root is true");
	ok(jwt_json_get(&j, "sub") == NULL, "  and there is no sub");

	snprintf(joined, sizeof joined, "%s.%s", input, want);
	is_str(joined, rfc7519, "RFC 7519 section 3.1 is the same token");

	/* Our verifier refuses it: no kid, and not our claims. */
	ok(jwt_ring_single(&r, "rfc", key, (size_t)kl) == 0,
	    "a ring holding the RFC's 64-byte key");
	ok(jwt_verify(&r, rfc7519, strlen(rfc7519), 1300819370, "joe", 0, &c)
	    == JWT_UNKNOWN_KID, "the RFC token has no kid: unknown_kid");
	ok(jwt_verify(&r, unsecured, strlen(unsecured), 1300819370, "joe", 0,
	    &c) == JWT_MALFORMED,
	    "RFC 7519 section 6.1 (alg none, empty signature): malformed");
	ok(all_zero(&c, sizeof c), "  and the claims are left all zero");
	jwt_ring_wipe(&r);
	crypto_wipe(key, sizeof key);
}

static void
hmac_vector(const char *name, const unsigned char *key, size_t kl,
    const char *data, const char *want)
{
	unsigned char mac[32];
	char h[65];

	ok(jwt_hs256(key, kl, data, strlen(data), mac) == 0,
	    "RFC 4231 %s: computed", name);
	hex_encode(mac, sizeof mac, h);
	is_str(h, want, "RFC 4231 %s: HMAC-SHA-256", name);
}

static void
test_rfc4231(void)
{
	unsigned char k[131];
	unsigned char mac[32];

	memset(k, 0x0b, 20);
	hmac_vector("test case 1", k, 20, "Hi There",
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	hmac_vector("test case 2", (const unsigned char *)"Jefe", 4,
	    "what do ya want for nothing?",
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(k, 0xaa, sizeof k);
	hmac_vector("test case 6 (131-byte key)", k, sizeof k,
	    "Test Using Larger Than Block-Size Key - Hash Key First",
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	hmac_vector("test case 7 (131-byte key, long data)", k, sizeof k,
	    "This is a test using a larger than block-size key and a larger "
	    "than block-size data. The key needs to be hashed before being "
	    "used by the HMAC algorithm.",
	    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
	memset(mac, 0x55, sizeof mac);
	ok(jwt_hs256(k, 0, "x", 1, mac) == -1 && all_zero(mac, sizeof mac),
	    "jwt_hs256 refuses an empty key, the output zeroed");
}

/* ---- signing and the round trip ---------------------------------------- */

static void
test_round_trip(void)
{
	struct jwt_claims c, got;
	char tok[JWT_TOKEN_MAX + 1], want[1024], small[64];
	unsigned char dec[2048];
	ssize_t n, d;
	size_t dots = 0, i;
	char *exact;

	claims_init(&c);
	snprintf(c.kid, sizeof c.kid, "ignored");
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	ok(n > 0 && (size_t)n == strlen(tok), "jwt_sign returns the length "
	    "(%zd)", n);
	for (i = 0; tok[i] != '\0'; i++)
		dots += tok[i] == '.';
	ok(dots == 2, "the token has three parts");
	d = part(tok, 0, dec, sizeof dec);
	dec[d > 0 ? d : 0] = '\0';
	is_str((char *)dec, HDR, "the header is exactly "
	    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k2025\"}");
	d = part(tok, 1, dec, sizeof dec);
	dec[d > 0 ? d : 0] = '\0';
	snprintf(want, sizeof want, "{\"sub\":\"" SUB "\",\"email\":"
	    "\"ann@example.com\",\"role\":\"user\",\"jti\":\"" JTI "\","
	    "\"iat\":%lld,\"exp\":%lld,\"iss\":\"" ISS "\"}", NOW, NOW + 900);
	is_str((char *)dec, want, "the payload holds the claims in order");
	ok(part(tok, 2, dec, sizeof dec) == 32, "the signature is 32 bytes");

	memset(&got, 0x5a, sizeof got);
	ok(verify_with(&ring, tok, (size_t)n, &got) == JWT_OK,
	    "sign -> verify: ok");
	is_str(got.sub, SUB, "  sub");
	is_str(got.email, "ann@example.com", "  email");
	is_str(got.role, "user", "  role");
	is_str(got.jti, JTI, "  jti");
	is_str(got.iss, ISS, "  iss");
	ok(got.iat == NOW && got.exp == NOW + 900, "  iat and exp");
	is_str(got.kid, "k2025", "  kid: the key that verified it");
	/* Read from a buffer of exactly n bytes, no NUL: ASan and valgrind
	 * catch a read past the end. */
	exact = malloc((size_t)n);
	ok(exact != NULL, "a buffer of exactly the token's length");
	if (exact != NULL) {
		memcpy(exact, tok, (size_t)n);
		ok(verify_with(&ring, exact, (size_t)n, &got) == JWT_OK,
		    "  verify reads only len bytes: ok");
		exact[n - 1] = exact[n - 1] == 'A' ? 'Q' : 'A';
		ok(verify_with(&ring, exact, (size_t)n, &got) != JWT_OK,
		    "  and refuses it with its last byte changed");
		free(exact);
	}

	/* Strings that need escaping survive the trip. */
	snprintf(c.email, sizeof c.email, "\"o'neil\\\"@example.com");
	snprintf(c.role, sizeof c.role, "a\tb\nc\x01/\x7f\xc3\xa9\xf0\x9f\x98"
	    "\x80");
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	d = part(tok, 1, dec, sizeof dec);
	dec[d > 0 ? d : 0] = '\0';
	ok(n > 0 && strstr((char *)dec, "\"email\":\"\\\"o'neil\\\\\\\"@"
	    "example.com\"") != NULL, "quotes and backslashes are escaped");
	ok(strstr((char *)dec, "\"role\":\"a\\tb\\nc\\u0001/\x7f\xc3\xa9"
	    "\xf0\x9f\x98\x80\"") != NULL,
	    "control characters escaped, UTF-8 kept as it is");
	ok(verify_with(&ring, tok, (size_t)n, &got) == JWT_OK &&
	    strcmp(got.email, c.email) == 0 && strcmp(got.role, c.role) == 0,
	    "  and come back unchanged from jwt_verify");

	/* The longest claims still make a token jwt_verify takes. */
	claims_init(&c);
	memset(c.sub, 'S', JWT_SUB_MAX);
	memset(c.email, 'E', JWT_EMAIL_MAX);
	memset(c.role, 'R', JWT_ROLE_MAX);
	memset(c.jti, 'J', JWT_JTI_MAX);
	memset(c.iss, 'I', JWT_ISS_MAX);
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	ok(n > 0 && n <= JWT_TOKEN_MAX, "claims at their limits: signed (%zd "
	    "bytes)", n);
	ok(jwt_verify(&ring, tok, (size_t)n, NOW, c.iss, SKEW, &got) ==
	    JWT_OK && strcmp(got.email, c.email) == 0,
	    "  and verified, nothing truncated");
	/* Six bytes of JSON per byte make the payload too long for a token. */
	memset(c.sub, '\x01', JWT_SUB_MAX);
	memset(c.email, '\x01', JWT_EMAIL_MAX);
	memset(c.role, '\x01', JWT_ROLE_MAX);
	memset(c.jti, '\x01', JWT_JTI_MAX);
	memset(c.iss, '\x01', JWT_ISS_MAX);
	ok(jwt_sign(&ring, &c, tok, sizeof tok) == -1 && tok[0] == '\0',
	    "claims that escape past JWT_TOKEN_MAX: refused, out empty");

	claims_init(&c);
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	ok(jwt_sign(&ring, &c, tok, (size_t)n + 1) == n,
	    "outcap of exactly length + 1 is enough");
	memset(tok, 'X', sizeof tok);
	ok(jwt_sign(&ring, &c, tok, (size_t)n) == -1 && tok[0] == '\0',
	    "outcap of length: -1, out the empty string");
	ok(jwt_sign(&ring, &c, small, sizeof small) == -1 && small[0] == '\0',
	    "a 64-byte buffer: -1");
	ok(jwt_sign(&ring, &c, NULL, 0) == -1, "outcap 0: -1");
}

static void
test_sign_refuses(void)
{
	struct jwt_claims c;
	struct jwt_ring empty;
	char tok[JWT_TOKEN_MAX + 1];

	memset(&empty, 0, sizeof empty);
	claims_init(&c);
	ok(jwt_sign(&empty, &c, tok, sizeof tok) == -1, "sign: an empty ring");
	ok(jwt_sign(NULL, &c, tok, sizeof tok) == -1, "sign: no ring");
	ok(jwt_sign(&ring, NULL, tok, sizeof tok) == -1, "sign: no claims");
	c.sub[0] = '\0';
	ok(jwt_sign(&ring, &c, tok, sizeof tok) == -1, "sign: an empty sub");
	claims_init(&c);
	c.email[0] = '\0';
	ok(jwt_sign(&ring, &c, tok, sizeof tok) == -1, "sign: an empty email");
	claims_init(&c);
	c.jti[0] = '\0';
	ok(jwt_sign(&ring, &c, tok, sizeof tok) == -1, "sign: an empty jti");
	claims_init(&c);
	c.iss[0] = '\0';
	ok(jwt_sign(&ring, &c, tok, sizeof tok) == -1, "sign: an empty iss");
	claims_init(&c);
	c.role[0] = '\0';
	ok(jwt_sign(&ring, &c, tok, sizeof tok) == -1, "sign: an empty role");
	claims_init(&c);
	memset(c.role, 'r', sizeof c.role); /* no NUL in the array */
	ok(jwt_sign(&ring, &c, tok, sizeof tok) == -1,
	    "sign: a role that fills its array unterminated");
	claims_init(&c);
	snprintf(c.email, sizeof c.email, "ann\xff@example.com");
	ok(jwt_sign(&ring, &c, tok, sizeof tok) == -1,
	    "sign: an email that is not UTF-8");
	claims_init(&c);
	snprintf(c.sub, sizeof c.sub, "\xed\xa0\x80");
	ok(jwt_sign(&ring, &c, tok, sizeof tok) == -1,
	    "sign: a sub holding an encoded surrogate");
	claims_init(&c);
	c.iat = -1;
	ok(jwt_sign(&ring, &c, tok, sizeof tok) == -1, "sign: iat < 0");
	claims_init(&c);
	c.exp = c.iat - 1;
	ok(jwt_sign(&ring, &c, tok, sizeof tok) == -1, "sign: exp < iat");
	claims_init(&c);
	c.iat = 0;
	c.exp = LLONG_MAX;
	ok(jwt_sign(&ring, &c, tok, sizeof tok) > 0,
	    "sign: iat 0 and exp LLONG_MAX are integers like any other");
}

/* ---- the key ring: rotation -------------------------------------------- */

static void
test_rotation(void)
{
	struct jwt_ring old, newonly, other;
	struct jwt_claims c, got;
	char tok[JWT_TOKEN_MAX + 1], tok2[JWT_TOKEN_MAX + 1];
	unsigned char long1[131], mac[32], sig[64];
	ssize_t n;
	char *dot;

	claims_init(&c);
	ok(jwt_ring_single(&old, "k2024", SECRET2, strlen(SECRET2)) == 0,
	    "a ring of the old key alone (before the rotation)");
	n = jwt_sign(&old, &c, tok, sizeof tok);
	ok(n > 0, "a token signed by the old key");
	ok(verify_with(&ring, tok, (size_t)n, &got) == JWT_OK,
	    "  still verifies under the new ring (old key second)");
	is_str(got.kid, "k2024", "  by kid k2024");
	ok(jwt_ring_single(&newonly, "k2025", SECRET1, strlen(SECRET1)) == 0,
	    "a ring without k2024 (after the rotation)");
	ok(verify_with(&newonly, tok, (size_t)n, &got) == JWT_UNKNOWN_KID,
	    "  refuses it: unknown_kid");
	ok(jwt_ring_single(&other, "k2024", SECRET1, strlen(SECRET1)) == 0,
	    "a ring where kid k2024 names another secret");
	ok(verify_with(&other, tok, (size_t)n, &got) == JWT_BAD_SIGNATURE,
	    "  refuses it: bad_signature");
	ok(all_zero(&got, sizeof got), "  the claims left all zero");
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	ok(verify_with(&newonly, tok, (size_t)n, &got) == JWT_OK,
	    "a new token verifies under the ring of the new key alone");
	ok(verify_with(&old, tok, (size_t)n, &got) == JWT_UNKNOWN_KID,
	    "  but not under the old ring");

	/* A secret longer than the block is kept as its SHA-256: the same
	 * signature as HMAC with the secret itself. */
	memset(long1, 0xaa, sizeof long1);
	long1[7] = 'x';
	ok(jwt_ring_single(&other, "long", long1, sizeof long1) == 0 &&
	    other.keys[0].len == 32, "a 131-byte secret: kept as 32 bytes");
	n = jwt_sign(&other, &c, tok, sizeof tok);
	dot = strrchr(tok, '.');
	ok(n > 0 && dot != NULL && jwt_hs256(long1, sizeof long1, tok,
	    (size_t)(dot - tok), mac) == 0 &&
	    b64url_decode(dot + 1, strlen(dot + 1), sig, sizeof sig) == 32 &&
	    memcmp(sig, mac, 32) == 0,
	    "  its signature is HMAC-SHA256 under the full 131 bytes");
	ok(verify_with(&other, tok, (size_t)n, &got) == JWT_OK,
	    "  and it verifies");
	ok(jwt_ring_single(&other, "b64", long1, 64) == 0 &&
	    other.keys[0].len == 64, "a 64-byte secret is kept as it is");
	n = jwt_sign(&other, &c, tok, sizeof tok);
	dot = strrchr(tok, '.');
	ok(n > 0 && jwt_hs256(long1, 64, tok, (size_t)(dot - tok), mac) == 0
	    && b64url_decode(dot + 1, strlen(dot + 1), sig, sizeof sig) == 32 &&
	    memcmp(sig, mac, 32) == 0, "  and signs as HMAC under it");
	ok(jwt_ring_single(&other, "b65", long1, 65) == 0 &&
	    other.keys[0].len == 32, "a 65-byte secret is hashed");
	n = jwt_sign(&other, &c, tok2, sizeof tok2);
	dot = strrchr(tok2, '.');
	ok(n > 0 && jwt_hs256(long1, 65, tok2, (size_t)(dot - tok2), mac) == 0
	    && b64url_decode(dot + 1, strlen(dot + 1), sig, sizeof sig) == 32 &&
	    memcmp(sig, mac, 32) == 0, "  and signs as HMAC under all 65");

	jwt_ring_wipe(&other);
	ok(all_zero(&other, sizeof other), "jwt_ring_wipe zeroes the ring");
	ok(verify_with(&other, tok, strlen(tok), &got) == JWT_UNKNOWN_KID,
	    "  which then verifies nothing");
	ok(jwt_sign(&other, &c, tok, sizeof tok) == -1,
	    "  and signs nothing");
	jwt_ring_wipe(&old);
	jwt_ring_wipe(&newonly);
}

/* ---- forged headers, re-signed with the right key ---------------------- */

static void
test_forged_headers(void)
{
	char p[1024], tok[2048];

	ok(vh(HDR) == JWT_OK, "control: our header, forged by the test: ok");
	ok(vh("{\"kid\":\"k2025\",\"alg\":\"HS256\"}") == JWT_OK,
	    "members in any order, typ absent: ok");
	ok(vh(" \r\n{ \"alg\" :\t\"HS256\" ,\n\"kid\"\r\n:\"k2025\" }\n ") ==
	    JWT_OK, "JSON whitespace wherever JSON allows it: ok");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k\\u0032025\"}") == JWT_OK,
	    "an escaped kid is the decoded kid: ok");

	payload(p, sizeof p, NOW - 10, NOW + 890);
	ok(forge_n(NULL, 0, "{\"alg\":\"none\",\"kid\":\"k2025\"}",
	    strlen("{\"alg\":\"none\",\"kid\":\"k2025\"}"), p, strlen(p),
	    tok, sizeof tok) > 0 && v(tok) == JWT_MALFORMED,
	    "alg none, no signature: malformed (empty signature)");
	ok(vh("{\"alg\":\"none\",\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg none, signed: bad_alg");
	ok(vh("{\"alg\":\"None\",\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg None: bad_alg");
	ok(vh("{\"alg\":\"HS512\",\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg HS512: bad_alg");
	ok(vh("{\"alg\":\"HS384\",\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg HS384: bad_alg");
	ok(vh("{\"alg\":\"RS256\",\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg RS256: bad_alg");
	ok(vh("{\"alg\":\"ES256\",\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg ES256: bad_alg");
	ok(vh("{\"alg\":\"hs256\",\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg hs256 (case): bad_alg");
	ok(vh("{\"alg\":\"HS256 \",\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg \"HS256 \": bad_alg");
	ok(vh("{\"alg\":\"\",\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg empty: bad_alg");
	ok(vh("{\"typ\":\"JWT\",\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg missing: bad_alg");
	ok(vh("{\"alg\":256,\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg a number: bad_alg");
	ok(vh("{\"alg\":null,\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg null: bad_alg");
	ok(vh("{\"alg\":true,\"kid\":\"k2025\"}") == JWT_BAD_ALG,
	    "alg true: bad_alg");
	ok(vh("{\"alg\":[\"HS256\"],\"kid\":\"k2025\"}") == JWT_MALFORMED,
	    "alg an array: malformed");
	ok(vh("{\"alg\":{\"x\":1},\"kid\":\"k2025\"}") == JWT_MALFORMED,
	    "alg an object: malformed");
	ok(vh("{\"alg\":\"HS256\",\"alg\":\"none\",\"kid\":\"k2025\"}") ==
	    JWT_MALFORMED, "duplicate alg (HS256 then none): malformed");
	ok(vh("{\"alg\":\"none\",\"alg\":\"HS256\",\"kid\":\"k2025\"}") ==
	    JWT_MALFORMED, "duplicate alg (none then HS256): malformed");
	ok(vh("{\"alg\":\"HS256\",\"\\u0061lg\":\"none\",\"kid\":\"k2025\"}")
	    == JWT_MALFORMED, "duplicate alg spelled \\u0061lg: malformed");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\",\"kid\":\"k2024\"}") ==
	    JWT_MALFORMED, "duplicate kid: malformed");
	ok(vh("[\"alg\",\"HS256\"]") == JWT_MALFORMED, "header an array: "
	    "malformed");
	ok(vh("\"HS256\"") == JWT_MALFORMED, "header a string: malformed");
	ok(vh("null") == JWT_MALFORMED, "header null: malformed");
	ok(vh("256") == JWT_MALFORMED, "header a number: malformed");
	ok(vh("{}") == JWT_BAD_ALG, "header {}: bad_alg");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\"}x") == JWT_MALFORMED,
	    "trailing garbage after the header: malformed");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\"}{}") == JWT_MALFORMED,
	    "a second object after the header: malformed");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\",}") == JWT_MALFORMED,
	    "a trailing comma: malformed");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\"") == JWT_MALFORMED,
	    "an unclosed header: malformed");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\",\"crit\":\"exp\"}") ==
	    JWT_BAD_HEADER, "an extra crit member: bad_header");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\",\"crit\":[\"exp\"]}") ==
	    JWT_MALFORMED, "crit as an array: malformed");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\",\"jku\":\"https://x\"}") ==
	    JWT_BAD_HEADER, "an extra jku member: bad_header");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\",\"b64\":false}") ==
	    JWT_BAD_HEADER, "an extra b64 member: bad_header");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\",\"typ\":\"jwt\"}") ==
	    JWT_BAD_HEADER, "typ \"jwt\": bad_header");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\",\"typ\":\"JWS\"}") ==
	    JWT_BAD_HEADER, "typ \"JWS\": bad_header");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2025\",\"typ\":null}") ==
	    JWT_BAD_HEADER, "typ null: bad_header");
	ok(vh("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") == JWT_UNKNOWN_KID,
	    "kid missing: unknown_kid");
	ok(vh("{\"alg\":\"HS256\",\"kid\":2025}") == JWT_UNKNOWN_KID,
	    "kid a number: unknown_kid");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2026\"}") == JWT_UNKNOWN_KID,
	    "kid not in the ring: unknown_kid");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"\"}") == JWT_UNKNOWN_KID,
	    "kid empty: unknown_kid");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"K2025\"}") == JWT_UNKNOWN_KID,
	    "kid K2025 (case): unknown_kid");
	ok(vh("{\"alg\":\"HS256\",\"kid\":\"k2024\"}") == JWT_BAD_SIGNATURE,
	    "kid of the other key (signed with k2025's): bad_signature");
}

/* ---- tampering and broken encodings ------------------------------------ */

static void
flip_part(const char *tok, char *out, size_t cap, const char *role)
{
	/* Re-encodes the payload with another role, the signature kept. */
	char p[1024], h[1024];
	size_t n;

	snprintf(p, sizeof p, "{\"sub\":\"" SUB "\",\"email\":"
	    "\"ann@example.com\",\"role\":\"%s\",\"jti\":\"" JTI "\","
	    "\"iat\":%lld,\"exp\":%lld,\"iss\":\"" ISS "\"}", role, NOW,
	    NOW + 900);
	n = b64url_encode((const unsigned char *)HDR, strlen(HDR), h,
	    sizeof h);
	snprintf(out, cap, "%.*s.", (int)n, h);
	n = strlen(out);
	b64url_encode((const unsigned char *)p, strlen(p), out + n, cap - n);
	snprintf(out + strlen(out), cap - strlen(out), "%s",
	    strrchr(tok, '.'));
}

/* The character whose value is c's with the lowest bit set. */
static char
spare_bit(char c)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz"
	    "0123456789-_";
	const char *p = strchr(a, c);

	return p == NULL ? c : a[(p - a) | 1];
}

/* Base64url length of n bytes. */
static size_t
b64len(size_t n)
{
	return (n * 4 + 2) / 3;
}

/* Our payload with pad bytes of padding claims ("pad0":"ppp...", at most
 * 1000 bytes each, an unknown claim is ignored) into p. */
static void
padded(char *p, size_t cap, size_t pad)
{
	size_t i, k, n;

	payload(p, cap, NOW - 10, NOW + 890);
	n = strlen(p) - 1; /* over the '}' */
	for (i = 0; i < pad; i += k) {
		k = pad - i > 1000 ? 1000 : pad - i;
		n += (size_t)snprintf(p + n, cap - n, ",\"pad%zu\":\"",
		    i / 1000);
		memset(p + n, 'p', k);
		n += k;
		p[n++] = '"';
	}
	snprintf(p + n, cap - n, "}");
}

/* A valid token of exactly want bytes into out (the header padded with
 * spaces, the payload with padded()); its length, or 0 if none. */
static size_t
forge_len(size_t want, char *out, size_t cap)
{
	char h[128], p[JWT_JSON_MAX];
	size_t s, pad;

	for (s = 0; s < 3; s++)
		for (pad = 0; pad < 3000; pad++) {
			snprintf(h, sizeof h, "%.*s%.*s}",
			    (int)strlen(HDR) - 1, HDR, (int)s, "   ");
			padded(p, sizeof p, pad);
			if (b64len(strlen(h)) + b64len(strlen(p)) + 45 == want)
				return forge(h, p, out, cap);
		}
	return 0;
}

static void
test_tampering(void)
{
	struct jwt_claims c, got;
	char tok[JWT_TOKEN_MAX + 1], bad[2 * JWT_TOKEN_MAX], h[256];
	char hb[128], pb[1024], sb[64];
	unsigned char dec[1024];
	const char *d1, *d2;
	ssize_t n, pn;
	size_t i, k;
	enum jwt_err e;
	char *big;

	claims_init(&c);
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	ok(v(tok) == JWT_OK, "control: a fresh token verifies");
	flip_part(tok, bad, sizeof bad, "user");
	is_str(bad, tok, "control: re-encoding the same payload gives the "
	    "same token");
	flip_part(tok, bad, sizeof bad, "admin");
	ok(v(bad) == JWT_BAD_SIGNATURE, "role user -> admin, signature kept: "
	    "bad_signature");
	/* Every single byte of the payload flipped, one at a time. */
	d1 = strchr(tok, '.');
	d2 = strchr(d1 + 1, '.');
	pn = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), dec, sizeof dec);
	for (k = 0, i = 0; pn > 0 && i < (size_t)pn; i++) {
		dec[i] ^= 0x01;
		snprintf(bad, sizeof bad, "%.*s", (int)(d1 - tok + 1), tok);
		b64url_encode(dec, (size_t)pn, bad + strlen(bad),
		    sizeof bad - strlen(bad));
		snprintf(bad + strlen(bad), sizeof bad - strlen(bad), "%s", d2);
		if (v(bad) != JWT_BAD_SIGNATURE)
			k++;
		dec[i] ^= 0x01;
	}
	ok(pn > 0 && k == 0, "each of the %zd payload bytes flipped: "
	    "bad_signature every time (%zu not)", pn, k);
	/* A signature character changed to another (canonical) one. */
	snprintf(bad, sizeof bad, "%s", tok);
	i = (size_t)(strrchr(bad, '.') - bad) + 1;
	bad[i] = bad[i] == 'A' ? 'B' : 'A';
	ok(v(bad) == JWT_BAD_SIGNATURE, "the signature's first character "
	    "changed: bad_signature");
	/* The header's kid changed to the other key of the ring. */
	snprintf(bad, sizeof bad, "%s", tok);
	snprintf(h, sizeof h, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":"
	    "\"k2024\"}");
	k = b64url_encode((const unsigned char *)h, strlen(h), bad, sizeof bad);
	snprintf(bad + k, sizeof bad - k, "%s", d1);
	ok(v(bad) == JWT_BAD_SIGNATURE, "kid switched to k2024, signature "
	    "kept: bad_signature");

	/* The three parts of tok, to rearrange. */
	snprintf(hb, sizeof hb, "%.*s", (int)(d1 - tok), tok);
	snprintf(pb, sizeof pb, "%.*s", (int)(d2 - d1 - 1), d1 + 1);
	snprintf(sb, sizeof sb, "%s", d2 + 1);
	snprintf(bad, sizeof bad, "%s.%s.%s", pb, hb, sb);
	ok(v(bad) == JWT_BAD_ALG, "payload and header swapped: bad_alg");
	snprintf(bad, sizeof bad, "%s.%s.%s", hb, sb, pb);
	ok(v(bad) == JWT_BAD_SIGNATURE, "payload and signature swapped: "
	    "bad_signature");
	snprintf(bad, sizeof bad, "%s.%s.%s", sb, pb, hb);
	ok(v(bad) == JWT_MALFORMED, "header and signature swapped: "
	    "malformed");
	snprintf(bad, sizeof bad, "%s.%s", hb, pb);
	ok(v(bad) == JWT_MALFORMED, "no third part: malformed");
	snprintf(bad, sizeof bad, "%s.%s.", hb, pb);
	ok(v(bad) == JWT_MALFORMED, "an empty signature: malformed");
	snprintf(bad, sizeof bad, "%s..%s", hb, sb);
	ok(v(bad) == JWT_MALFORMED, "an empty payload: malformed");
	snprintf(bad, sizeof bad, ".%s.%s", pb, sb);
	ok(v(bad) == JWT_MALFORMED, "an empty header: malformed");
	snprintf(bad, sizeof bad, "%s.%s.%s.%s", hb, pb, sb, sb);
	ok(v(bad) == JWT_MALFORMED, "four parts: malformed");
	snprintf(bad, sizeof bad, "%s.%s.%s.", hb, pb, sb);
	ok(v(bad) == JWT_MALFORMED, "a trailing dot: malformed");
	ok(v("..") == JWT_MALFORMED, "\"..\": malformed");
	ok(v(".") == JWT_MALFORMED, "\".\": malformed");
	ok(v("") == JWT_MALFORMED, "the empty string: malformed");
	ok(v(hb) == JWT_MALFORMED, "the header alone: malformed");
	ok(jwt_verify(&ring, NULL, 10, NOW, ISS, SKEW, &got) == JWT_MALFORMED,
	    "NULL: malformed");
	e = verify_with(&ring, tok, (size_t)n - 1, &got);
	ok(e == JWT_MALFORMED || e == JWT_BAD_SIGNATURE,
	    "the last character cut (len - 1): %s", jwt_error_name(e));
	ok(verify_with(&ring, tok, (size_t)n - 3, &got) == JWT_BAD_SIGNATURE,
	    "three characters cut (30 bytes of signature): bad_signature");
	ok(verify_with(&ring, tok, (size_t)n - 2, &got) == JWT_MALFORMED,
	    "two characters cut (n %% 4 == 1): malformed");
	snprintf(bad, sizeof bad, "%sAAAA", tok);
	ok(v(bad) == JWT_BAD_SIGNATURE, "four characters more (35 bytes of "
	    "signature): bad_signature");

	/* Base64url must be canonical and unpadded. */
	snprintf(bad, sizeof bad, "%s=.%s.%s", hb, pb, sb);
	ok(v(bad) == JWT_MALFORMED, "'=' padding on the header: malformed");
	snprintf(bad, sizeof bad, "%s.%s.%s=", hb, pb, sb);
	ok(v(bad) == JWT_MALFORMED, "'=' padding on the signature: "
	    "malformed");
	snprintf(bad, sizeof bad, "%s", tok);
	bad[3] = '+';
	ok(v(bad) == JWT_MALFORMED, "'+' in the header: malformed");
	snprintf(bad, sizeof bad, "%s", tok);
	bad[(d1 - tok) + 5] = '/';
	ok(v(bad) == JWT_MALFORMED, "'/' in the payload: malformed");
	snprintf(bad, sizeof bad, "%s", tok);
	bad[strlen(bad) - 1] = spare_bit(bad[strlen(bad) - 1]);
	ok(v(bad) == JWT_MALFORMED, "non-zero spare bits in the signature's "
	    "last character: malformed");
	snprintf(bad, sizeof bad, "%s", tok);
	bad[10] = ' ';
	ok(v(bad) == JWT_MALFORMED, "a space inside: malformed");
	snprintf(bad, sizeof bad, "%s\n", tok);
	ok(v(bad) == JWT_MALFORMED, "a trailing newline: malformed");
	snprintf(bad, sizeof bad, " %s", tok);
	ok(v(bad) == JWT_MALFORMED, "a leading space: malformed");
	memcpy(bad, tok, (size_t)n);
	bad[5] = '\0';
	ok(verify_with(&ring, bad, (size_t)n, &got) == JWT_MALFORMED,
	    "an embedded NUL (explicit length): malformed");
	snprintf(bad, sizeof bad, "Bearer %s", tok);
	ok(v(bad) == JWT_MALFORMED, "\"Bearer \" left on: malformed");

	/* Bounds: nothing over JWT_TOKEN_MAX is decoded. */
	big = malloc(3 * JWT_TOKEN_MAX);
	ok(big != NULL, "a buffer for huge tokens");
	if (big != NULL) {
		memset(big, 'A', 3 * JWT_TOKEN_MAX);
		big[3 * JWT_TOKEN_MAX - 1] = '\0';
		ok(v(big) == JWT_MALFORMED, "12 KiB of 'A': malformed");
		/* A huge header, correctly signed. */
		snprintf(big, 3 * JWT_TOKEN_MAX, "{\"alg\":\"HS256\",\"kid\":"
		    "\"k2025\",\"x\":\"");
		k = strlen(big);
		memset(big + k, 'x', 5000);
		snprintf(big + k + 5000, 8, "\"}");
		ok(vh(big) == JWT_MALFORMED, "a 5 KB header: malformed "
		    "(over JWT_TOKEN_MAX, never decoded)");
		/* Exactly JWT_TOKEN_MAX and a little more: the bound. */
		k = forge_len(JWT_TOKEN_MAX, big, 3 * JWT_TOKEN_MAX);
		ok(k == JWT_TOKEN_MAX && v(big) == JWT_OK,
		    "a valid token of exactly JWT_TOKEN_MAX bytes: ok");
		k = forge_len(JWT_TOKEN_MAX + 2, big, 3 * JWT_TOKEN_MAX);
		ok(k == JWT_TOKEN_MAX + 2 && v(big) == JWT_MALFORMED,
		    "a valid token of JWT_TOKEN_MAX + 2 bytes: malformed");
		/* Within the bound but over the member limit. */
		snprintf(big, 3 * JWT_TOKEN_MAX, "{\"alg\":\"HS256\","
		    "\"kid\":\"k2025\"");
		for (i = 0; i < 40; i++)
			snprintf(big + strlen(big), 3 * JWT_TOKEN_MAX -
			    strlen(big), ",\"m%zu\":%zu", i, i);
		snprintf(big + strlen(big), 3 * JWT_TOKEN_MAX - strlen(big),
		    "}");
		ok(vh(big) == JWT_MALFORMED, "a header of 42 members: "
		    "malformed");
		/* Within the bound, a long value: parsed, then refused. */
		snprintf(big, 3 * JWT_TOKEN_MAX, "{\"alg\":\"HS256\",\"kid\":"
		    "\"k2025\",\"x\":\"");
		k = strlen(big);
		memset(big + k, 'x', 1000);
		snprintf(big + k + 1000, 8, "\"}");
		ok(vh(big) == JWT_BAD_HEADER, "a 1 KB header with an extra "
		    "member: bad_header");
		free(big);
	}
}

/* ---- payloads: JSON strictness after the signature --------------------- */

static void
test_payloads(void)
{
	char p[2048];
	struct jwt_claims got;
	char tok[2048];
	size_t n;
	static const char head[] = "{\"sub\":\"" SUB "\",\"role\":\"user\","
	    "\"jti\":\"" JTI "\",\"iat\":1699999990,\"exp\":1700000890,"
	    "\"iss\":\"" ISS "\",\"email\":";

	ok(vp("[1,2]") == JWT_MALFORMED, "payload an array: malformed");
	ok(vp("\"x\"") == JWT_MALFORMED, "payload a string: malformed");
	ok(vp("null") == JWT_MALFORMED, "payload null: malformed");
	ok(vp("{}") == JWT_BAD_CLAIMS, "payload {}: bad_claims");
	payload(p, sizeof p, NOW - 10, NOW + 890);
	p[strlen(p) - 1] = '\0';
	ok(vp(p) == JWT_MALFORMED, "payload unclosed: malformed");
	payload(p, sizeof p, NOW - 10, NOW + 890);
	snprintf(p + strlen(p), sizeof p - strlen(p), " x");
	ok(vp(p) == JWT_MALFORMED, "garbage after the payload: malformed");
	payload(p, sizeof p, NOW - 10, NOW + 890);
	snprintf(p + strlen(p) - 1, sizeof p - strlen(p) + 1,
	    ",\"sub\":\"00000000-0000-0000-0000-000000000000\"}");
	ok(vp(p) == JWT_MALFORMED, "sub twice: malformed");
	payload(p, sizeof p, NOW - 10, NOW + 890);
	snprintf(p + strlen(p) - 1, sizeof p - strlen(p) + 1,
	    ",\"exp\":9999999999}");
	ok(vp(p) == JWT_MALFORMED, "exp twice: malformed");
	payload(p, sizeof p, NOW - 10, NOW + 890);
	snprintf(p + strlen(p) - 1, sizeof p - strlen(p) + 1,
	    ",\"r\\u006fle\":\"admin\"}");
	ok(vp(p) == JWT_MALFORMED, "role twice (once escaped): malformed");
	payload(p, sizeof p, NOW - 10, NOW + 890);
	snprintf(p + strlen(p) - 1, sizeof p - strlen(p) + 1,
	    ",\"aud\":[\"x\"]}");
	ok(vp(p) == JWT_MALFORMED, "an array claim: malformed (flat only)");
	payload(p, sizeof p, NOW - 10, NOW + 890);
	snprintf(p + strlen(p) - 1, sizeof p - strlen(p) + 1,
	    ",\"x\":1.5e3,\"y\":null,\"z\":false,\"nbf\":1}");
	ok(vp(p) == JWT_OK, "other scalar claims are ignored: ok");

	/* Strings: UTF-8, control characters, escapes. */
	snprintf(p, sizeof p, "%s\"ann\xff@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "invalid UTF-8 (0xff) in a string: "
	    "malformed");
	snprintf(p, sizeof p, "%s\"ann\xc3\x28@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a bad continuation byte: malformed");
	snprintf(p, sizeof p, "%s\"ann\xc0\xaf@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "an overlong form: malformed");
	snprintf(p, sizeof p, "%s\"ann\xed\xa0\x80@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "an encoded surrogate: malformed");
	snprintf(p, sizeof p, "%s\"ann@example.com\xe2\x82\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a truncated sequence: malformed");
	snprintf(p, sizeof p, "%s\"ann\n@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a raw newline in a string: malformed");
	snprintf(p, sizeof p, "%s\"ann\t@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a raw tab in a string: malformed");
	snprintf(p, sizeof p, "%s\"ann\x1f@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a raw 0x1f in a string: malformed");
	snprintf(p, sizeof p, "%s\"ann\\u0000@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a \\u0000 escape: malformed");
	n = (size_t)snprintf(p, sizeof p, "%s\"ann", head);
	memcpy(p + n, "\0@example.com\"}", 15);
	ok(forge_n(SECRET1, strlen(SECRET1), HDR, strlen(HDR), p, n + 15, tok,
	    sizeof tok) > 0 && v(tok) == JWT_MALFORMED,
	    "a raw NUL in a string: malformed");
	snprintf(p, sizeof p, "%s\"ann\\ud800@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a lone high surrogate: malformed");
	snprintf(p, sizeof p, "%s\"ann\\udc00@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a lone low surrogate: malformed");
	snprintf(p, sizeof p, "%s\"ann\\ud800\\u0041@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a high surrogate and \\u0041: malformed");
	snprintf(p, sizeof p, "%s\"ann\\ude00\\ud83d@example.com\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a pair in the wrong order: malformed");
	snprintf(p, sizeof p, "%s\"ann\\ud83d\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a high surrogate at the end: malformed");
	snprintf(p, sizeof p, "%s\"ann\\x41\"}", head);
	ok(vp(p) == JWT_MALFORMED, "an unknown escape \\x: malformed");
	snprintf(p, sizeof p, "%s\"ann\\u00g1\"}", head);
	ok(vp(p) == JWT_MALFORMED, "a bad hex digit in \\u: malformed");

	snprintf(p, sizeof p, "%s\"\\ud83d\\ude00\\u00E9\\\"\\\\\\/\\b\\f\\n"
	    "\\r\\t@x\"}", head);
	ok(forge(HDR, p, tok, sizeof tok) > 0 &&
	    verify_with(&ring, tok, strlen(tok), &got) == JWT_OK &&
	    strcmp(got.email, "\xf0\x9f\x98\x80\xc3\xa9\"\\/\b\f\n\r\t@x") == 0,
	    "a surrogate pair and every escape decode to their bytes");
}

/* ---- claims and time --------------------------------------------------- */

/* Our payload without member skip (0..6), or with member skip replaced
 * by repl when repl is not NULL. */
static enum jwt_err
vclaims(int skip, const char *repl)
{
	char m[7][128], p[2048];
	int i;

	snprintf(m[0], sizeof m[0], "\"sub\":\"%s\"", SUB);
	snprintf(m[1], sizeof m[1], "\"email\":\"ann@example.com\"");
	snprintf(m[2], sizeof m[2], "\"role\":\"user\"");
	snprintf(m[3], sizeof m[3], "\"jti\":\"%s\"", JTI);
	snprintf(m[4], sizeof m[4], "\"iat\":%lld", NOW - 10);
	snprintf(m[5], sizeof m[5], "\"exp\":%lld", NOW + 890);
	snprintf(m[6], sizeof m[6], "\"iss\":\"%s\"", ISS);
	snprintf(p, sizeof p, "{");
	for (i = 0; i < 7; i++) {
		if (i == skip && repl == NULL)
			continue;
		snprintf(p + strlen(p), sizeof p - strlen(p), "%s%s",
		    strlen(p) > 1 ? "," : "", i == skip ? repl : m[i]);
	}
	snprintf(p + strlen(p), sizeof p - strlen(p), "}");
	return vp(p);
}

static void
test_claims(void)
{
	static const char *names[] = { "sub", "email", "role", "jti", "iat",
	    "exp", "iss" };
	char p[1024], longv[400], tok[2048];
	struct jwt_claims c, got;
	size_t i, bad;
	ssize_t n;

	ok(vclaims(-1, NULL) == JWT_OK, "control: all seven claims: ok");
	for (bad = 0, i = 0; i < 7; i++)
		if (vclaims((int)i, NULL) != JWT_BAD_CLAIMS) {
			bad++;
			printf("# missing %s: not bad_claims\n", names[i]);
		}
	ok(bad == 0, "each required claim missing: bad_claims (%zu not)", bad);
	ok(vclaims(4, "\"iat\":\"1699999990\"") == JWT_BAD_CLAIMS,
	    "iat a string: bad_claims");
	ok(vclaims(5, "\"exp\":\"1700000890\"") == JWT_BAD_CLAIMS,
	    "exp a string: bad_claims");
	ok(vclaims(5, "\"exp\":1700000890.0") == JWT_BAD_CLAIMS,
	    "exp 1700000890.0: bad_claims");
	ok(vclaims(5, "\"exp\":1.70000089e9") == JWT_BAD_CLAIMS,
	    "exp 1.70000089e9: bad_claims");
	ok(vclaims(4, "\"iat\":1699999990.5") == JWT_BAD_CLAIMS,
	    "iat a fraction: bad_claims");
	ok(vclaims(5, "\"exp\":99999999999999999999") == JWT_BAD_CLAIMS,
	    "exp past a long long: bad_claims");
	ok(vclaims(5, "\"exp\":true") == JWT_BAD_CLAIMS, "exp true: "
	    "bad_claims");
	ok(vclaims(5, "\"exp\":null") == JWT_BAD_CLAIMS, "exp null: "
	    "bad_claims");
	ok(vclaims(4, "\"iat\":-1") == JWT_BAD_CLAIMS, "iat < 0: bad_claims");
	ok(vclaims(5, "\"exp\":1699999989") == JWT_BAD_CLAIMS,
	    "exp < iat: bad_claims");
	ok(vclaims(0, "\"sub\":42") == JWT_BAD_CLAIMS, "sub a number: "
	    "bad_claims");
	ok(vclaims(0, "\"sub\":\"\"") == JWT_BAD_CLAIMS, "sub empty: "
	    "bad_claims");
	ok(vclaims(2, "\"role\":null") == JWT_BAD_CLAIMS, "role null: "
	    "bad_claims");
	ok(vclaims(3, "\"jti\":true") == JWT_BAD_CLAIMS, "jti true: "
	    "bad_claims");
	ok(vclaims(6, "\"iss\":1") == JWT_BAD_CLAIMS, "iss a number: "
	    "bad_claims");
	snprintf(longv, sizeof longv, "\"email\":\"%.*s@x\"", JWT_EMAIL_MAX - 2,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	ok(vclaims(1, longv) == JWT_OK, "an email of exactly JWT_EMAIL_MAX "
	    "bytes: ok");
	snprintf(longv, sizeof longv, "\"email\":\"%.*s@x\"", JWT_EMAIL_MAX - 1,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	ok(vclaims(1, longv) == JWT_BAD_CLAIMS, "one byte more: bad_claims "
	    "(refused, not truncated)");
	snprintf(longv, sizeof longv, "\"role\":\"%.*s\"", JWT_ROLE_MAX,
	    "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr");
	ok(vclaims(2, longv) == JWT_OK, "a role of JWT_ROLE_MAX bytes: ok");
	snprintf(longv, sizeof longv, "\"role\":\"%.*s\"", JWT_ROLE_MAX + 1,
	    "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr");
	ok(vclaims(2, longv) == JWT_BAD_CLAIMS, "one byte more: bad_claims");
	/* 32 escapes of a 2-byte character and one byte: 65 decoded bytes. */
	snprintf(longv, sizeof longv, "\"sub\":\"");
	for (i = 0; i < JWT_SUB_MAX / 2; i++)
		strcat(longv, "\\u00e9");
	ok(vclaims(0, strcat(longv, "\"")) == JWT_OK,
	    "a sub of %d decoded bytes (%d x \\u00e9): ok", JWT_SUB_MAX,
	    JWT_SUB_MAX / 2);
	longv[strlen(longv) - 1] = '\0';
	ok(vclaims(0, strcat(longv, "x\"")) == JWT_BAD_CLAIMS,
	    "  and one byte more: bad_claims");

	ok(vclaims(6, "\"iss\":\"https://evil.test\"") == JWT_BAD_ISSUER,
	    "another iss: bad_issuer");
	ok(vclaims(6, "\"iss\":\"HTTPS://BULWARK.TEST\"") == JWT_BAD_ISSUER,
	    "iss in capitals: bad_issuer");
	ok(vclaims(6, "\"iss\":\"https://bulwark.test/\"") == JWT_BAD_ISSUER,
	    "iss with a trailing slash: bad_issuer");
	claims_init(&c);
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	ok(jwt_verify(&ring, tok, (size_t)n, NOW, NULL, SKEW, &got) ==
	    JWT_BAD_ISSUER, "issuer NULL: bad_issuer");
	ok(jwt_verify(&ring, tok, (size_t)n, NOW, "", SKEW, &got) ==
	    JWT_BAD_ISSUER, "issuer \"\": bad_issuer");

	/* exp: invalid from exp on, no leeway. */
	c.iat = NOW - 900;
	c.exp = NOW;
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	memset(&got, 0x5a, sizeof got);
	ok(verify_with(&ring, tok, (size_t)n, &got) == JWT_EXPIRED,
	    "exp == now: expired");
	ok(all_zero(&got, sizeof got), "  the claims left all zero");
	ok(jwt_verify(&ring, tok, (size_t)n, NOW - 1, ISS, SKEW, &got) ==
	    JWT_OK, "one second before exp: ok");
	ok(jwt_verify(&ring, tok, (size_t)n, NOW + 1, ISS, SKEW, &got) ==
	    JWT_EXPIRED, "exp < now: expired");
	ok(jwt_verify(&ring, tok, (size_t)n, NOW + 1, ISS, 100000, &got) ==
	    JWT_EXPIRED, "  a large skew does not extend exp");
	ok(jwt_verify(&ring, tok, (size_t)n, LLONG_MAX, ISS, SKEW, &got) ==
	    JWT_EXPIRED, "now LLONG_MAX: expired");
	c.iat = 0;
	c.exp = 0;
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	ok(verify_with(&ring, tok, (size_t)n, &got) == JWT_EXPIRED,
	    "iat == exp == 0: expired");

	/* iat: at most skew seconds ahead of now. */
	c.iat = NOW + SKEW;
	c.exp = c.iat + 900;
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	ok(verify_with(&ring, tok, (size_t)n, &got) == JWT_OK,
	    "iat == now + skew: ok");
	ok(jwt_verify(&ring, tok, (size_t)n, NOW, ISS, 0, &got) ==
	    JWT_IAT_FUTURE, "  with skew 0: iat_future");
	ok(jwt_verify(&ring, tok, (size_t)n, NOW, ISS, -100, &got) ==
	    JWT_IAT_FUTURE, "  with a negative skew (as 0): iat_future");
	ok(jwt_verify(&ring, tok, (size_t)n, LLONG_MIN, ISS, SKEW, &got) ==
	    JWT_IAT_FUTURE, "  at now LLONG_MIN: iat_future, no overflow");
	c.iat = NOW + SKEW + 1;
	c.exp = c.iat + 900;
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	ok(verify_with(&ring, tok, (size_t)n, &got) == JWT_IAT_FUTURE,
	    "iat == now + skew + 1: iat_future");
	ok(jwt_verify(&ring, tok, (size_t)n, NOW, ISS, LONG_MAX, &got) ==
	    JWT_OK, "  with skew LONG_MAX: ok");
	c.iat = NOW;
	c.exp = NOW + 900;
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	ok(jwt_verify(&ring, tok, (size_t)n, NOW, ISS, 0, &got) == JWT_OK,
	    "iat == now with skew 0: ok");

	/* The order: issuer before time, signature before everything. */
	c.exp = NOW;
	snprintf(c.iss, sizeof c.iss, "https://evil.test");
	n = jwt_sign(&ring, &c, tok, sizeof tok);
	ok(verify_with(&ring, tok, (size_t)n, &got) == JWT_BAD_ISSUER,
	    "wrong iss and expired: bad_issuer is reported first");
	snprintf(p, sizeof p, "{\"iss\":\"joe\"}");
	ok(forge_n("another secret, 32 bytes at least..", 35, HDR, strlen(HDR),
	    p, strlen(p), tok, sizeof tok) > 0 && v(tok) == JWT_BAD_SIGNATURE,
	    "no claims under a bad signature: bad_signature first");
}

/* ---- the flat JSON parser on its own ----------------------------------- */

static int
parses(const char *s)
{
	struct jwt_json j;

	return jwt_json_parse(&j, s, strlen(s)) == 0;
}

static void
test_json(void)
{
	static struct jwt_json j;
	const struct jwt_json_member *m;
	static char big[JWT_JSON_MAX + 64];
	static const char ints[] = "{\"i\":9223372036854775807,\"j\":"
	    "-9223372036854775808,\"k\":9223372036854775808,\"l\":"
	    "-9223372036854775809,\"z\":-0,\"f\":2.5,\"e\":1e2}";
	static const char escapes[] = "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t"
	    "\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\uDBFF\\uDFFF\"}";
	size_t i, k;
	static const char *good[] = {
		"{}", " {} ", "\t\r\n{\t\r\n}\t\r\n", "{\"\":1}",
		"{\"a\":\"\"}", "{\"a\":-0}", "{\"a\":0}", "{\"a\":0.5}",
		"{\"a\":-1.25e-3}", "{\"a\":1E+2}", "{\"a\":true,\"b\":false,"
		"\"c\":null}", "{\"a\" : 1 , \"b\" : 2}", "{\"\\u00e9\":1}",
		"{\"a\":\"\\u001f\"}", "{\"a\":\"\x7f\"}",
	};
	static const char *bad[] = {
		"", " ", "[]", "[{}]", "\"a\"", "null", "true", "1", "{",
		"}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{,\"a\":1}",
		"{\"a\":1}}", "{\"a\":1} x", "{\"a\":1}\"", "{\"a\":{}}",
		"{\"a\":[]}", "{\"a\":[1]}", "{a:1}", "{'a':1}",
		"{\"a\":'x'}", "{\"a\":01}", "{\"a\":-01}", "{\"a\":1.}",
		"{\"a\":.5}", "{\"a\":+1}", "{\"a\":-}", "{\"a\":1e}",
		"{\"a\":1e+}", "{\"a\":0x10}", "{\"a\":Infinity}",
		"{\"a\":NaN}", "{\"a\":tru}", "{\"a\":True}", "{\"a\":nul}",
		"{\"a\":nulll}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
		"{\"a\":\"\\u12G4\"}", "{\"a\":\"\\U0041\"}", "{\"a\":\"x}",
		"{\"a\":\"\\\"}", "\xef\xbb\xbf{}", "{\"a\":1\x0b}",
		"{\x0c\"a\":1}", "{\"a\":1 2}", "{\"a\" \"b\":1}",
		"{\"a\"::1}", "{\"a\":1;\"b\":2}", "{\"a\":1,\"a\":2}",
		"{\"a\":1,\"\\u0061\":2}", "{\"\\/\":1,\"/\":2}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udfff\"}",
		"{\"a\":\"\\ud800\\ud800\"}", "{\"a\":\"\\u0000\"}",
		"{\"a\":\"\xe0\x80\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
		"{\"a\":\"\xf8\x88\x80\x80\x80\"}", "{\"a\":\"\x80\"}",
		"{\"\xff\":1}",
	};

	for (k = 0, i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!parses(good[i])) {
			k++;
			printf("# refused: %s\n", good[i]);
		}
	ok(k == 0, "%zu well-formed flat objects parse (%zu not)",
	    sizeof good / sizeof good[0], k);
	for (k = 0, i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parses(bad[i])) {
			k++;
			printf("# accepted: %s\n", bad[i]);
		}
	ok(k == 0, "%zu malformed texts are refused (%zu accepted)",
	    sizeof bad / sizeof bad[0], k);

	ok(jwt_json_parse(&j, "{\"a\":1}garbage", 7) == 0 && j.n == 1,
	    "reads exactly n bytes (no NUL needed)");
	ok(jwt_json_parse(&j, "{\"a\":1}\0", 8) == -1 && j.n == 0,
	    "a NUL after the object: refused, n reset to 0");
	ok(jwt_json_parse(&j, "{\"a\":\"b\0c\"}", 11) == -1,
	    "a NUL inside a string: refused");
	ok(jwt_json_parse(&j, NULL, 0) == -1, "NULL: refused");

	ok(jwt_json_parse(&j, ints, strlen(ints)) == 0 && j.n == 7,
	    "integers at and past the long long limits");
	m = jwt_json_get(&j, "i");
	ok(m != NULL && m->type == JWT_JSON_INT && m->num == LLONG_MAX,
	    "  LLONG_MAX is an integer");
	m = jwt_json_get(&j, "j");
	ok(m != NULL && m->type == JWT_JSON_INT && m->num == LLONG_MIN,
	    "  LLONG_MIN is an integer");
	m = jwt_json_get(&j, "k");
	ok(m != NULL && m->type == JWT_JSON_NUMBER, "  LLONG_MAX + 1 is not");
	m = jwt_json_get(&j, "l");
	ok(m != NULL && m->type == JWT_JSON_NUMBER, "  LLONG_MIN - 1 is not");
	m = jwt_json_get(&j, "z");
	ok(m != NULL && m->type == JWT_JSON_INT && m->num == 0,
	    "  -0 is the integer 0");
	m = jwt_json_get(&j, "f");
	ok(m != NULL && m->type == JWT_JSON_NUMBER, "  2.5 is a number, not "
	    "an integer");
	m = jwt_json_get(&j, "e");
	ok(m != NULL && m->type == JWT_JSON_NUMBER, "  1e2 is a number, not "
	    "an integer");
	ok(jwt_json_get(&j, "x") == NULL, "  jwt_json_get: NULL when absent");

	ok(jwt_json_parse(&j, escapes, strlen(escapes)) == 0, "every escape");
	m = jwt_json_get(&j, "s");
	ok(m != NULL && m->len == 22 && memcmp(m->str, "\"\\/\b\f\n\r\tA"
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 22) == 0 &&
	    m->str[22] == '\0', "  decode to their UTF-8, NUL-terminated");

	/* Members: 32 fit, 33 do not. */
	snprintf(big, sizeof big, "{");
	for (i = 0; i < JWT_JSON_MEMBERS; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big),
		    "%s\"m%zu\":%zu", i ? "," : "", i, i);
	ok(parses(strcat(big, "}")), "%d members: ok", JWT_JSON_MEMBERS);
	big[strlen(big) - 1] = '\0';
	ok(!parses(strcat(big, ",\"one_more\":1}")), "%d members: refused",
	    JWT_JSON_MEMBERS + 1);
	/* Strings: JWT_JSON_STR_MAX decoded bytes fit, one more does not. */
	snprintf(big, sizeof big, "{\"s\":\"");
	memset(big + 6, 'x', JWT_JSON_STR_MAX);
	snprintf(big + 6 + JWT_JSON_STR_MAX, 8, "\"}");
	ok(parses(big), "a string of JWT_JSON_STR_MAX bytes: ok");
	snprintf(big + 6 + JWT_JSON_STR_MAX, 8, "x\"}");
	ok(!parses(big), "one byte more: refused");
	snprintf(big, sizeof big, "{\"s\":\"");
	for (i = 0; i < JWT_JSON_STR_MAX / 2 + 1; i++)
		strcat(big, "\\u00e9");
	strcat(big, "\"}");
	ok(!parses(big), "%d escaped 2-byte characters (over the bound once "
	    "decoded): refused", JWT_JSON_STR_MAX / 2 + 1);
	/* The whole text: JWT_JSON_MAX bytes, whitespace padded. */
	memset(big, ' ', sizeof big);
	memcpy(big, "{}", 2);
	ok(jwt_json_parse(&j, big, JWT_JSON_MAX) == 0, "a text of "
	    "JWT_JSON_MAX bytes: ok");
	ok(jwt_json_parse(&j, big, JWT_JSON_MAX + 1) == -1, "one byte more: "
	    "refused");
	/* Many strings at once never overrun the decode buffer. */
	snprintf(big, sizeof big, "{");
	for (i = 0; i < JWT_JSON_MEMBERS; i++) {
		snprintf(big + strlen(big), sizeof big - strlen(big),
		    "%s\"k%02zu\":\"", i ? "," : "", i);
		k = strlen(big);
		memset(big + k, 'v', 110);
		big[k + 110] = '\0';
		strcat(big, "\"");
	}
	strcat(big, "}");
	ok(jwt_json_parse(&j, big, strlen(big)) == 0 && j.n == 32 &&
	    jwt_json_get(&j, "k31") != NULL && jwt_json_get(&j, "k31")->len ==
	    110, "32 strings of 110 bytes (%zu bytes of JSON): ok",
	    strlen(big));
}

/* ---- the key ring file ------------------------------------------------- */

/* 80 kid characters, cut to length with %.*s. */
#define LONG_KID "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "bbbbbbbbbbbbbbbb"

static void
test_ring_parse(void)
{
	static const char good[] =
	    "# Bulwark access-token keys: the first signs.\n"
	    "\n"
	    "k2025  correct-horse-battery-staple-2025-abcdefgh\n"
	    "   # the previous key, until its tokens expire\n"
	    "\tk2024\tan older secret, still verifying #2024 !!  \t\r\n"
	    "  \r\n";
	struct jwt_ring r, snap;
	char err[256], line[256];
	const char *sec = "this-is-a-secret-that-must-never-be-printed!";
	size_t i;

	ok(strlen(SECRET1) >= 32 && strlen(SECRET2) >= 32,
	    "the test secrets are at least 32 bytes");
	memset(&r, 0x77, sizeof r);
	ok(jwt_ring_parse(good, &r, err, sizeof err) == 0,
	    "a ring file with comments, blank lines, tabs and CRLF");
	ok(r.n == 2, "  two keys");
	is_str(r.keys[0].kid, "k2025", "  the first (the signer) is k2025");
	is_str(r.keys[1].kid, "k2024", "  the second is k2024");
	ok(r.keys[0].len == strlen(SECRET1) && memcmp(r.keys[0].key, SECRET1,
	    strlen(SECRET1)) == 0, "  k2025's secret, exactly");
	ok(r.keys[1].len == strlen(SECRET2) && memcmp(r.keys[1].key, SECRET2,
	    strlen(SECRET2)) == 0,
	    "  k2024's: inner spaces and '#' kept, trailing blanks and CR cut");
	ok(all_zero(&r.keys[2], sizeof r.keys[2] * (JWT_RING_MAX - 2)),
	    "  the unused slots are zero");
	memcpy(&ring, &r, sizeof r);
	jwt_ring_wipe(&r);

	/* Refusals leave *out as it was, and never print a secret. */
	memcpy(&r, &ring, sizeof r);
	memcpy(&snap, &ring, sizeof snap);
	snprintf(line, sizeof line, "k1 shortsecret12345\n");
	ok(jwt_ring_parse(line, &r, err, sizeof err) == -1,
	    "a 16-byte secret: refused");
	ok(strstr(err, "'k1'") != NULL && strstr(err, "line 1") != NULL,
	    "  the message names the kid and the line: %s", err);
	ok(strstr(err, "shortsecret") == NULL, "  and not the secret");
	ok(memcmp(&r, &snap, sizeof r) == 0, "  *out untouched");
	snprintf(line, sizeof line, "k1 %.31s\n", sec);
	ok(jwt_ring_parse(line, &r, err, sizeof err) == -1 &&
	    strstr(err, "31 bytes") != NULL && strstr(err, "this-is") == NULL,
	    "a 31-byte secret: refused, no secret in \"%s\"", err);
	snprintf(line, sizeof line, "k1 %.32s\n", sec);
	ok(jwt_ring_parse(line, &r, err, sizeof err) == 0 && r.n == 1 &&
	    r.keys[0].len == 32, "a 32-byte secret: ok");
	memcpy(&r, &snap, sizeof r);
	snprintf(line, sizeof line, "k1 %.31s   \r\n", sec);
	ok(jwt_ring_parse(line, &r, err, sizeof err) == -1,
	    "31 bytes and trailing blanks: refused (blanks do not count)");
	ok(jwt_ring_parse("# ok\nk1 0123456789abcdef0123456789abcdef\n"
	    "k2 short\n", &r, err, sizeof err) == -1 &&
	    strstr(err, "line 3") != NULL && strstr(err, "'k2'") != NULL &&
	    strstr(err, "short") == NULL, "a short secret on line 3: \"%s\"",
	    err);
	ok(memcmp(&r, &snap, sizeof r) == 0, "  *out untouched");
	ok(jwt_ring_parse("k1 0123456789abcdef0123456789abcdef\n"
	    "k1 fedcba9876543210fedcba9876543210\n", &r, err, sizeof err) ==
	    -1 && strstr(err, "'k1'") != NULL && strstr(err, "twice") != NULL
	    && strstr(err, "fedcba") == NULL, "a kid twice: refused: \"%s\"",
	    err);
	ok(memcmp(&r, &snap, sizeof r) == 0, "  *out untouched");
	snprintf(line, sizeof line, "k/1 %s\n", sec);
	ok(jwt_ring_parse(line, &r, err, sizeof err) == -1 &&
	    strstr(err, "this-is") == NULL && strstr(err, "k/1") == NULL,
	    "a kid with '/': refused: \"%s\"", err);
	snprintf(line, sizeof line, "k\xc3\xa9 %s\n", sec);
	ok(jwt_ring_parse(line, &r, err, sizeof err) == -1,
	    "a kid with a non-ASCII letter: refused");
	snprintf(line, sizeof line, "k:1 %s\n", sec);
	ok(jwt_ring_parse(line, &r, err, sizeof err) == -1,
	    "a kid with ':': refused");
	snprintf(line, sizeof line, "%s\n", sec);
	ok(jwt_ring_parse(line, &r, err, sizeof err) == -1 &&
	    strstr(err, "this-is") == NULL,
	    "a secret alone on its line (no kid): refused, not printed: "
	    "\"%s\"", err);
	snprintf(line, sizeof line, "%.40s\n", JTI);
	ok(jwt_ring_parse(line, &r, err, sizeof err) == -1 &&
	    strstr(err, "Jq8f") == NULL,
	    "a kid-shaped secret alone: refused, not printed: \"%s\"", err);
	snprintf(line, sizeof line, "%.64s %s\n", LONG_KID, sec);
	ok(jwt_ring_parse(line, &r, err, sizeof err) == 0 &&
	    strlen(r.keys[0].kid) == 64, "a kid of 64 characters: ok");
	{
		struct jwt_claims c, got;
		char tok[JWT_TOKEN_MAX + 1];
		ssize_t n;

		claims_init(&c);
		n = jwt_sign(&r, &c, tok, sizeof tok);
		ok(n > 0 && verify_with(&r, tok, (size_t)n, &got) == JWT_OK &&
		    strlen(got.kid) == 64, "  signs and verifies under it");
	}
	memcpy(&r, &snap, sizeof r);
	snprintf(line, sizeof line, "%.65s %s\n", LONG_KID, sec);
	ok(jwt_ring_parse(line, &r, err, sizeof err) == -1,
	    "a kid of 65 characters: refused");
	snprintf(line, sizeof line, "A-Z.a_z-0.9 %s\n", sec);
	ok(jwt_ring_parse(line, &r, err, sizeof err) == 0,
	    "a kid of A-Z a-z 0-9 . _ -: ok");
	memcpy(&r, &snap, sizeof r);
	ok(jwt_ring_parse("", &r, err, sizeof err) == -1,
	    "an empty file: refused: \"%s\"", err);
	ok(jwt_ring_parse("# nothing\n\n   \n\t\r\n", &r, err, sizeof err) ==
	    -1, "comments and blanks only: refused");
	ok(jwt_ring_parse(NULL, &r, err, sizeof err) == -1, "NULL: refused");
	ok(jwt_ring_parse("k1\n", &r, err, sizeof err) == -1,
	    "a kid without a secret: refused");
	ok(jwt_ring_parse("k1   \t \n", &r, err, sizeof err) == -1,
	    "a kid and blanks: refused");
	ok(memcmp(&r, &snap, sizeof r) == 0, "  *out untouched throughout");
	ok(jwt_ring_parse("k1 short", &r, NULL, 0) == -1 &&
	    jwt_ring_parse("k1 short", &r, err, 0) == -1,
	    "err NULL or errlen 0: refused, nothing written");
	ok(jwt_ring_parse("k1 0123456789abcdef0123456789abcdef", &r, err,
	    sizeof err) == 0 && r.n == 1, "no final newline: ok");

	/* JWT_RING_MAX keys fit, one more does not. */
	{
		char text[4096];

		text[0] = '\0';
		for (i = 0; i < JWT_RING_MAX; i++)
			snprintf(text + strlen(text), sizeof text -
			    strlen(text), "key%zu %s\n", i, sec);
		ok(jwt_ring_parse(text, &r, err, sizeof err) == 0 &&
		    r.n == JWT_RING_MAX, "%d keys: ok", JWT_RING_MAX);
		memcpy(&snap, &r, sizeof snap);
		snprintf(text + strlen(text), sizeof text - strlen(text),
		    "key%d %s\n", JWT_RING_MAX, sec);
		ok(jwt_ring_parse(text, &r, err, sizeof err) == -1 &&
		    memcmp(&r, &snap, sizeof r) == 0,
		    "%d keys: refused (\"%s\"), *out untouched",
		    JWT_RING_MAX + 1, err);
	}

	/* jwt_ring_single. */
	memcpy(&snap, &r, sizeof snap);
	ok(jwt_ring_single(&r, "k1", sec, 31) == -1 &&
	    memcmp(&r, &snap, sizeof r) == 0,
	    "jwt_ring_single: 31 bytes refused, *out untouched");
	ok(jwt_ring_single(&r, "k 1", sec, 40) == -1 &&
	    jwt_ring_single(&r, "", sec, 40) == -1 &&
	    jwt_ring_single(&r, NULL, sec, 40) == -1 &&
	    jwt_ring_single(&r, "k1", NULL, 40) == -1 &&
	    memcmp(&r, &snap, sizeof r) == 0,
	    "jwt_ring_single: a bad kid or no secret refused, *out untouched");
	ok(jwt_ring_single(&r, "k1", sec, 32) == 0 && r.n == 1 &&
	    strcmp(r.keys[0].kid, "k1") == 0 && r.keys[0].len == 32 &&
	    all_zero(&r.keys[1], sizeof r.keys[1] * (JWT_RING_MAX - 1)),
	    "jwt_ring_single: 32 bytes: one key, the old ring wiped");
	jwt_ring_wipe(&r);
	jwt_ring_wipe(&snap);
}

static void
test_names(void)
{
	enum jwt_err e;
	const char *n;
	int bad = 0;

	for (e = JWT_OK; e <= JWT_IAT_FUTURE; e++) {
		n = jwt_error_name(e);
		if (n == NULL || strcmp(n, "unknown") == 0 || strlen(n) < 2)
			bad++;
	}
	ok(bad == 0, "jwt_error_name names every reason");
	is_str(jwt_error_name(JWT_OK), "ok", "  JWT_OK is \"ok\"");
	is_str(jwt_error_name(JWT_BAD_SIGNATURE), "bad_signature",
	    "  JWT_BAD_SIGNATURE is \"bad_signature\"");
	is_str(jwt_error_name((enum jwt_err)99), "unknown",
	    "  anything else is \"unknown\"");
}

int
main(void)
{
	/* The ring file parser runs first: it builds the test ring. */
	test_ring_parse();
	test_rfc7515();
	test_rfc4231();
	test_round_trip();
	test_sign_refuses();
	test_rotation();
	test_forged_headers();
	test_tampering();
	test_payloads();
	test_claims();
	test_json();
	test_names();
	jwt_ring_wipe(&ring);
	return done_testing();
}
