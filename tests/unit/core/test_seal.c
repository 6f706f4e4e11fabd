/*
 * test_seal.c -- HKDF-SHA256 data keys and AES-256-GCM sealing.
 */
#include <string.h>

#include "core/crypto.h"
#include "core/seal.h"
#include "tap.h"

#define IKM "0123456789abcdef0123456789abcdef" /* 32 bytes */
#define AAD "6f1c2d1e-0b7a-4c1e-9a61-3f0e2d9c8b7a" /* a user id */

static int
all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
test_derive(void)
{
	/* Computed independently with /usr/bin/python3's hmac and hashlib,
	 * HKDF written out by hand from RFC 5869 (extract: PRK =
	 * HMAC-SHA256(salt, ikm); expand: T(i) = HMAC(PRK, T(i-1) || info ||
	 * i)), the script first checked against RFC 5869 test case A.1:
	 *   ikm = "0123456789abcdef0123456789abcdef", salt = "bulwark data
	 *   key v1"; info "totp", L 32 -> key; info "bulwark key id", L 8 ->
	 *   kid. */
	static const char want_key[] =
	    "219aaaa47ea0887e561c8e58ecb338bd52708685ce55c33352fff109f876b1a3";
	static const char want_kid[] = "fb87e1f451f2d659";
	struct seal_key k, k2, other;
	char hex[2 * SEAL_KEY_BYTES + 1];
	unsigned char ikm2[64];
	size_t i;

	ok(seal_key_derive(IKM, 32, "totp", &k) == 0, "derive from 32 bytes");
	hex_encode(k.key, sizeof k.key, hex);
	is_str(hex, want_key, "the key is HKDF-SHA256 (python3 vector)");
	is_str(k.kid, want_kid, "the kid is HKDF with info \"bulwark key id\"");
	ok(strlen(k.kid) == SEAL_KID_LEN && seal_kid_valid(k.kid),
	    "the kid is %d lower-case hex characters", SEAL_KID_LEN);
	ok(strncmp(hex, k.kid, SEAL_KID_LEN) != 0,
	    "the kid is not the start of the key");
	ok(seal_key_derive(IKM, 32, "totp", &k2) == 0 &&
	    strcmp(k.kid, k2.kid) == 0 &&
	    memcmp(k.key, k2.key, sizeof k.key) == 0,
	    "the same material derives the same key and kid again");
	ok(seal_key_derive(IKM, 32, "recovery", &other) == 0 &&
	    memcmp(k.key, other.key, sizeof k.key) != 0 &&
	    strcmp(k.kid, other.kid) == 0,
	    "another purpose: another key, the same kid (it names material)");
	memcpy(ikm2, IKM, 32);
	ikm2[31] ^= 1;
	ok(seal_key_derive(ikm2, 32, "totp", &other) == 0 &&
	    strcmp(k.kid, other.kid) != 0 &&
	    memcmp(k.key, other.key, sizeof k.key) != 0 &&
	    seal_kid_valid(other.kid),
	    "one bit of other material: another key and another kid");
	for (i = 0; i < sizeof ikm2; i++)
		ikm2[i] = (unsigned char)(i * 7);
	ok(seal_key_derive(ikm2, 64, "totp", &other) == 0 &&
	    strcmp(k.kid, other.kid) != 0, "64 bytes of material are fine");

	memset(&other, 0xaa, sizeof other);
	ok(seal_key_derive(IKM, 31, "totp", &other) == -1,
	    "31 bytes of material refused");
	ok(all_zero((unsigned char *)&other, sizeof other),
	    "and the key is left wiped");
	ok(seal_key_derive(IKM, 0, "totp", &other) == -1, "no material refused");
	ok(seal_key_derive(NULL, 32, "totp", &other) == -1, "NULL refused");
	ok(seal_key_derive(IKM, 32, "", &other) == -1, "empty purpose refused");
	ok(seal_key_derive(IKM, 32, NULL, &other) == -1, "no purpose refused");

	ok(!seal_kid_valid("fb87e1f451f2d65") &&
	    !seal_kid_valid("fb87e1f451f2d6590") &&
	    !seal_kid_valid("FB87E1F451F2D659") &&
	    !seal_kid_valid("fb87e1f451f2d65g") && !seal_kid_valid(NULL),
	    "seal_kid_valid refuses short, long, upper-case and non-hex");
	seal_key_wipe(&k);
	ok(all_zero((unsigned char *)&k, sizeof k), "seal_key_wipe zeroes");
	seal_key_wipe(&k2);
	seal_key_wipe(&other);
}

static void
test_seal(void)
{
	static const unsigned char pt[20] = "\x01\x02secret-totp-key\xfe\xff";
	struct seal_key k, wrong;
	unsigned char box[sizeof pt + SEAL_OVERHEAD], box2[sizeof box];
	unsigned char bad[sizeof box + 1], out[64];
	size_t i, bit, flips = 0, refused = 0, wiped = 0, cut = 0;
	ssize_t n;

	if (seal_key_derive(IKM, 32, "totp", &k) < 0 ||
	    seal_key_derive(IKM "x", 33, "totp", &wrong) < 0) {
		ok(0, "derive keys");
		return;
	}
	n = seal_encrypt(&k, AAD, strlen(AAD), pt, sizeof pt, box, sizeof box);
	ok(n == (ssize_t)(sizeof pt + SEAL_OVERHEAD),
	    "seal: %zu bytes -> %zu", sizeof pt, sizeof pt + SEAL_OVERHEAD);
	ok(memmem(box, sizeof box, "secret-totp-key", 15) == NULL,
	    "the plaintext is not in the box");
	memset(out, 0, sizeof out);
	n = seal_decrypt(&k, AAD, strlen(AAD), box, sizeof box, out, sizeof out);
	ok(n == sizeof pt && memcmp(out, pt, sizeof pt) == 0,
	    "open: the same 20 bytes");
	n = seal_decrypt(&k, AAD, strlen(AAD), box, sizeof box, out, sizeof pt);
	ok(n == sizeof pt, "an output of exactly the plaintext size is enough");

	ok(seal_encrypt(&k, AAD, strlen(AAD), pt, sizeof pt, box2,
	    sizeof box2) == (ssize_t)sizeof box2 &&
	    memcmp(box, box2, SEAL_NONCE_BYTES) != 0 &&
	    memcmp(box, box2, sizeof box) != 0,
	    "two seals of the same plaintext differ (random nonce)");
	ok(seal_decrypt(&k, AAD, strlen(AAD), box2, sizeof box2, out,
	    sizeof out) == sizeof pt && memcmp(out, pt, sizeof pt) == 0,
	    "and both open");

	/* Every single-bit flip in nonce, ciphertext and tag. */
	for (i = 0; i < sizeof box; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, box, sizeof box);
			bad[i] ^= (unsigned char)(1u << bit);
			memset(out, 0x5a, sizeof out);
			flips++;
			if (seal_decrypt(&k, AAD, strlen(AAD), bad, sizeof box,
			    out, sizeof out) == -1)
				refused++;
			if (all_zero(out, sizeof out))
				wiped++;
		}
	ok(flips == sizeof box * 8 && refused == flips,
	    "each of the %zu single-bit flips (nonce %d, ciphertext %zu, tag %d"
	    " bytes) refused: %zu", flips, SEAL_NONCE_BYTES, sizeof pt,
	    SEAL_TAG_BYTES, refused);
	ok(wiped == flips, "and out wiped every time (%zu)", wiped);

	memset(out, 0x5a, sizeof out);
	ok(seal_decrypt(&k, AAD "x", strlen(AAD) + 1, box, sizeof box, out,
	    sizeof out) == -1 && all_zero(out, sizeof out),
	    "a longer aad refused, out wiped");
	memcpy(bad, AAD, strlen(AAD));
	bad[0] ^= 1;
	ok(seal_decrypt(&k, bad, strlen(AAD), box, sizeof box, out,
	    sizeof out) == -1, "another user id as aad refused");
	ok(seal_decrypt(&k, NULL, 0, box, sizeof box, out, sizeof out) == -1,
	    "no aad refused");
	memset(out, 0x5a, sizeof out);
	ok(seal_decrypt(&wrong, AAD, strlen(AAD), box, sizeof box, out,
	    sizeof out) == -1 && all_zero(out, sizeof out),
	    "the wrong key refused, out wiped");

	/* Every truncation, and one byte more. */
	for (i = 0; i < sizeof box; i++)
		if (seal_decrypt(&k, AAD, strlen(AAD), box, i, out,
		    sizeof out) == -1)
			cut++;
	ok(cut == sizeof box, "each of the %zu truncations refused (%zu)",
	    sizeof box, cut);
	memcpy(bad, box, sizeof box);
	bad[sizeof box] = 0;
	ok(seal_decrypt(&k, AAD, strlen(AAD), bad, sizeof box + 1, out,
	    sizeof out) == -1, "a byte appended refused");
	ok(seal_decrypt(&k, AAD, strlen(AAD), box, sizeof box, out,
	    sizeof pt - 1) == -1, "an output one byte short refused");

	memset(box2, 0x5a, sizeof box2);
	ok(seal_encrypt(&k, AAD, strlen(AAD), pt, sizeof pt, box2,
	    sizeof box2 - 1) == -1 && all_zero(box2, sizeof box2 - 1),
	    "seal refuses an output one byte short, and leaves it wiped");

	/* An empty plaintext still carries a tag. */
	n = seal_encrypt(&k, AAD, strlen(AAD), NULL, 0, box2, sizeof box2);
	ok(n == SEAL_OVERHEAD, "an empty plaintext seals to %d bytes",
	    SEAL_OVERHEAD);
	ok(seal_decrypt(&k, AAD, strlen(AAD), box2, SEAL_OVERHEAD, out,
	    sizeof out) == 0, "and opens to 0 bytes");
	box2[SEAL_OVERHEAD - 1] ^= 0x80;
	ok(seal_decrypt(&k, AAD, strlen(AAD), box2, SEAL_OVERHEAD, out,
	    sizeof out) == -1, "its tag is checked too");
	seal_key_wipe(&k);
	seal_key_wipe(&wrong);
}

int
main(void)
{
	test_derive();
	test_seal();
	return done_testing();
}
