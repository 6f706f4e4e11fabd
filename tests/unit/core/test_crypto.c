/*
 * test_crypto.c -- base64url, SHA-256, constant-time equality, tokens.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/crypto.h"
#include "tap.h"

static int
url_alphabet_only(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* Encodes then decodes in, checking both directions against want. */
static void
vector(const unsigned char *in, size_t n, const char *want)
{
	char enc[128];
	unsigned char dec[128];
	size_t len;
	ssize_t dl;

	len = b64url_encode(in, n, enc, sizeof enc);
	ok(len == strlen(want), "encode %zu bytes: length %zu", n, strlen(want));
	is_str(enc, want, "encode %zu bytes -> \"%s\"", n, want);
	dl = b64url_decode(want, strlen(want), dec, sizeof dec);
	ok(dl == (ssize_t)n && memcmp(dec, in, n) == 0,
	    "decode \"%s\" -> the %zu original bytes", want, n);
}

static void
test_vectors(void)
{
	/* RFC 4648 section 10, without padding (same in both alphabets). */
	vector((const unsigned char *)"", 0, "");
	vector((const unsigned char *)"f", 1, "Zg");
	vector((const unsigned char *)"fo", 2, "Zm8");
	vector((const unsigned char *)"foo", 3, "Zm9v");
	vector((const unsigned char *)"foob", 4, "Zm9vYg");
	vector((const unsigned char *)"fooba", 5, "Zm9vYmE");
	vector((const unsigned char *)"foobar", 6, "Zm9vYmFy");
	/* RFC 4648 section 9 examples, '+' and '/' mapped to '-' and '_'. */
	vector((const unsigned char *)"\x14\xfb\x9c\x03\xd9\x7e", 6, "FPucA9l-");
	vector((const unsigned char *)"\x14\xfb\x9c\x03\xd9", 5, "FPucA9k");
	vector((const unsigned char *)"\x14\xfb\x9c\x03", 4, "FPucAw");
	/* Characters 62 and 63. */
	vector((const unsigned char *)"\xfb\xef\xbe", 3, "----");
	vector((const unsigned char *)"\xff\xff\xff", 3, "____");
	vector((const unsigned char *)"\xfb\xff", 2, "-_8");
}

static void
test_round_trips(void)
{
	unsigned char in[70], dec[80];
	char enc[100];
	size_t n, i, len, want, bad_len = 0, bad_alpha = 0, bad_rt = 0;
	ssize_t dl;

	for (n = 0; n <= 70; n++) {
		for (i = 0; i < n; i++) /* covers 0x00 and 0xff, all bits */
			in[i] = (unsigned char)(i * 37 + n * 11 + (i % 3 == 0 ?
			    0xff : 0));
		want = (n * 4 + 2) / 3; /* ceil(4n/3): no padding */
		memset(enc, 'X', sizeof enc);
		len = b64url_encode(in, n, enc, sizeof enc);
		if (len != want || enc[len] != '\0' || strlen(enc) != want)
			bad_len++;
		if (!url_alphabet_only(enc, len))
			bad_alpha++;
		dl = b64url_decode(enc, len, dec, sizeof dec);
		if (dl != (ssize_t)n || memcmp(dec, in, n) != 0)
			bad_rt++;
	}
	ok(bad_len == 0, "lengths 0..70: encoded length is ceil(4n/3), "
	    "NUL-terminated (%zu wrong)", bad_len);
	ok(bad_alpha == 0, "lengths 0..70: only A-Z a-z 0-9 - _ (%zu wrong)",
	    bad_alpha);
	ok(bad_rt == 0, "lengths 0..70: decode(encode(x)) == x (%zu wrong)",
	    bad_rt);
}

static void
test_decode_rejects(void)
{
	unsigned char out[64];

	ok(b64url_decode("Zg==", 4, out, sizeof out) == -1,
	    "decode rejects '=' padding");
	ok(b64url_decode("Zm9vYg=", 7, out, sizeof out) == -1,
	    "decode rejects a single '='");
	ok(b64url_decode("a+bc", 4, out, sizeof out) == -1,
	    "decode rejects '+' (standard alphabet)");
	ok(b64url_decode("a/bc", 4, out, sizeof out) == -1,
	    "decode rejects '/' (standard alphabet)");
	ok(b64url_decode("Zm9v\n", 5, out, sizeof out) == -1,
	    "decode rejects a newline");
	ok(b64url_decode("Zm 9", 4, out, sizeof out) == -1,
	    "decode rejects a space");
	ok(b64url_decode("Zm\0v", 4, out, sizeof out) == -1,
	    "decode rejects an embedded NUL");
	ok(b64url_decode("Z", 1, out, sizeof out) == -1,
	    "decode rejects length 1 (n %% 4 == 1)");
	ok(b64url_decode("Zm9vY", 5, out, sizeof out) == -1,
	    "decode rejects length 5 (n %% 4 == 1)");
	ok(b64url_decode("Zm9vYmFyZ", 9, out, sizeof out) == -1,
	    "decode rejects length 9 (n %% 4 == 1)");
	/* 'A' has no bits set: only the length rule rejects these. */
	ok(b64url_decode("A", 1, out, sizeof out) == -1,
	    "decode rejects \"A\" (length 1, zero bits)");
	ok(b64url_decode("Zm9vA", 5, out, sizeof out) == -1,
	    "decode rejects \"Zm9vA\" (length 5, zero bits)");
	/* "Zg" is 'f' with four zero bits left over; "Zh" has 0001. */
	ok(b64url_decode("Zh", 2, out, sizeof out) == -1,
	    "decode rejects non-zero trailing bits (2 chars)");
	ok(b64url_decode("Zm9", 3, out, sizeof out) == -1,
	    "decode rejects non-zero trailing bits (3 chars; \"Zm8\" is canonical)");
	ok(b64url_decode("Zm8", 3, out, sizeof out) == 2,
	    "decode accepts the canonical \"Zm8\"");
	ok(b64url_decode("Zm9vYmF_", 8, out, sizeof out) == 6,
	    "decode accepts '_' in a full quantum");
}

static void
test_small_buffers(void)
{
	unsigned char dec[8];
	char enc[16];
	size_t i;
	int intact;

	memset(dec, 0xAA, sizeof dec);
	ok(b64url_decode("Zm9v", 4, dec, 2) == -1,
	    "decode: output 2 bytes for 3 -> -1");
	ok(dec[2] == 0xAA, "decode: nothing written past outcap");
	ok(b64url_decode("Zm9v", 4, dec, 3) == 3 && memcmp(dec, "foo", 3) == 0,
	    "decode: output exactly 3 bytes is enough");
	ok(b64url_decode("", 0, dec, 0) == 0, "decode: empty input, outcap 0");

	memset(enc, 'X', sizeof enc);
	ok(b64url_encode((const unsigned char *)"foo", 3, enc, 4) == 0,
	    "encode: 4 bytes for 4 chars + NUL -> 0");
	for (intact = 1, i = 4; i < sizeof enc; i++)
		if (enc[i] != 'X')
			intact = 0;
	ok(intact, "encode: nothing written past outcap");
	ok(b64url_encode((const unsigned char *)"foo", 3, enc, 5) == 4 &&
	    strcmp(enc, "Zm9v") == 0, "encode: 5 bytes is enough for \"Zm9v\"");
	ok(b64url_encode((const unsigned char *)"f", 1, enc, 2) == 0,
	    "encode: 1 byte into 2 (needs 3) -> 0");
	ok(b64url_encode((const unsigned char *)"f", 1, enc, 3) == 2,
	    "encode: 1 byte into 3 -> 2");
}

static void
sha(const char *in, const char *want)
{
	unsigned char d[32];
	char h[65];

	memset(d, 0, sizeof d);
	crypto_sha256(in, strlen(in), d);
	hex_encode(d, sizeof d, h);
	is_str(h, want, "sha256(\"%.20s%s\")", in, strlen(in) > 20 ? "..." : "");
}

static void
test_sha256(void)
{
	sha("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha("abc",
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void
test_equal(void)
{
	unsigned char a[32], b[32];

	memset(a, 0x5a, sizeof a);
	memcpy(b, a, sizeof b);
	ok(crypto_equal(a, 32, b, 32) == 1, "crypto_equal: equal buffers");
	b[31] ^= 1;
	ok(crypto_equal(a, 32, b, 32) == 0, "crypto_equal: last byte differs");
	b[31] ^= 1;
	b[0] ^= 0x80;
	ok(crypto_equal(a, 32, b, 32) == 0, "crypto_equal: first byte differs");
	b[0] ^= 0x80;
	ok(crypto_equal(a, 32, b, 31) == 0,
	    "crypto_equal: different lengths (a prefix) are unequal");
	ok(crypto_equal(a, 31, b, 32) == 0,
	    "crypto_equal: different lengths, the other way");
	ok(crypto_equal(a, 0, b, 0) == 1, "crypto_equal: two empty strings");
}

static int
cmp_tok(const void *x, const void *y)
{
	return strcmp((const char *)x, (const char *)y);
}

/* A fresh secret's text into out (SECRET_TEXT_LEN + 1 bytes); checks on
 * the way that its hash is the SHA-256 of that text. */
static int mint_bad_hash;

static int
mint_text(char *out)
{
	struct secret s;
	unsigned char h[32];

	if (secret_mint(&s) < 0)
		return -1;
	crypto_sha256(s.text, strlen(s.text), h);
	if (memcmp(h, s.hash, 32) != 0)
		mint_bad_hash++;
	memcpy(out, s.text, sizeof s.text);
	secret_wipe(&s);
	return 0;
}

static void
test_tokens(void)
{
	static char toks[1000][SECRET_TEXT_LEN + 1];
	char t[SECRET_TEXT_LEN + 2], bad[SECRET_TEXT_LEN + 2];
	size_t i, fails = 0, dups = 0;
	unsigned char raw[40];

	memset(t, 'X', sizeof t);
	ok(mint_text(t) == 0, "secret_mint succeeds");
	ok(strlen(t) == SECRET_TEXT_LEN, "token is 43 characters (got %zu)",
	    strlen(t));
	ok(secret_text_valid(t) == 1, "a fresh token is well formed");
	ok(b64url_decode(t, SECRET_TEXT_LEN, raw, sizeof raw) == 32,
	    "a token decodes to 32 bytes");

	for (i = 0; i < 1000; i++)
		if (mint_text(toks[i]) != 0 || !secret_text_valid(toks[i]))
			fails++;
	ok(fails == 0, "1000 tokens: all made and well formed (%zu failed)",
	    fails);
	qsort(toks, 1000, sizeof toks[0], cmp_tok);
	for (i = 1; i < 1000; i++)
		if (strcmp(toks[i - 1], toks[i]) == 0)
			dups++;
	ok(dups == 0, "1000 tokens are all distinct (%zu duplicates)", dups);

	/* 42 'A' + last char: spare bits are the low 2 bits of its value. */
	memset(bad, 'A', SECRET_TEXT_LEN);
	bad[SECRET_TEXT_LEN] = '\0';
	ok(secret_text_valid(bad) == 1, "43 x 'A' is well formed");
	bad[42] = 'E'; /* 4: low bits 00 */
	ok(secret_text_valid(bad) == 1, "last char 'E' (spare bits 00) accepted");
	bad[42] = 'B';
	ok(secret_text_valid(bad) == 0, "last char 'B' (spare bits 01) rejected");
	bad[42] = 'D';
	ok(secret_text_valid(bad) == 0, "last char 'D' (spare bits 11) rejected");
	bad[42] = '_';
	ok(secret_text_valid(bad) == 0, "last char '_' (63) rejected");
	bad[42] = '8'; /* 60 */
	ok(secret_text_valid(bad) == 1, "last char '8' (60) accepted");

	memcpy(bad, t, sizeof t);
	bad[SECRET_TEXT_LEN - 1] = '\0';
	ok(secret_text_valid(bad) == 0, "42 characters rejected");
	memcpy(bad, t, SECRET_TEXT_LEN);
	bad[SECRET_TEXT_LEN] = 'A';
	bad[SECRET_TEXT_LEN + 1] = '\0';
	ok(secret_text_valid(bad) == 0, "44 characters rejected");
	memcpy(bad, t, SECRET_TEXT_LEN + 1);
	bad[10] = '=';
	ok(secret_text_valid(bad) == 0, "a '=' inside rejected");
	memcpy(bad, t, SECRET_TEXT_LEN + 1);
	bad[20] = '.';
	ok(secret_text_valid(bad) == 0, "a '.' inside rejected");
	memcpy(bad, t, SECRET_TEXT_LEN + 1);
	bad[5] = '+';
	ok(secret_text_valid(bad) == 0, "a '+' inside rejected");
	memcpy(bad, t, SECRET_TEXT_LEN + 1);
	bad[0] = '/';
	ok(secret_text_valid(bad) == 0, "a '/' first rejected");
	ok(secret_text_valid("") == 0, "the empty string rejected");
}

static void
test_secrets(void)
{
	struct secret s, p;
	unsigned char h[32], zero[sizeof s];
	static const char text[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

	ok(mint_bad_hash == 0, "every minted secret's hash is SHA-256(text) "
	    "(%d not)", mint_bad_hash);
	ok(secret_parse(&p, text) == 0, "secret_parse takes a well-formed text");
	crypto_sha256(text, SECRET_TEXT_LEN, h);
	ok(strcmp(p.text, text) == 0 && memcmp(p.hash, h, 32) == 0,
	    "  keeping the text and its SHA-256");
	memset(zero, 0, sizeof zero);
	memset(&s, 'X', sizeof s);
	ok(secret_parse(&s, "not a secret") == -1, "secret_parse refuses junk");
	ok(memcmp(&s, zero, sizeof s) == 0, "  and leaves nothing behind");
	memset(&s, 'X', sizeof s);
	ok(secret_parse(&s, NULL) == -1 && memcmp(&s, zero, sizeof s) == 0,
	    "secret_parse refuses NULL (an absent cookie)");
	ok(secret_parse(&s, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9") == -1,
	    "secret_parse refuses non-zero spare bits");
	ok(secret_mint(&s) == 0, "secret_mint");
	secret_wipe(&s);
	ok(memcmp(&s, zero, sizeof s) == 0, "secret_wipe zeroes it all");
}

/* secret_derive: the next refresh token of a spent one. */
static void
test_derive(void)
{
	unsigned char k1[32], k2[32], mac[32], h[32];
	struct secret a, b, c, d;
	char text[64];

	memset(k1, 0x11, sizeof k1);
	memset(k2, 0x22, sizeof k2);
	ok(secret_derive(&a, k1, "parent", 6) == 0 &&
	    secret_derive(&b, k1, "parent", 6) == 0,
	    "secret_derive twice with one key and data");
	ok(strcmp(a.text, b.text) == 0 && memcmp(a.hash, b.hash, 32) == 0,
	    "  gives the same secret");
	ok(secret_text_valid(a.text), "  of the secret shape");
	crypto_sha256(a.text, SECRET_TEXT_LEN, h);
	ok(memcmp(h, a.hash, 32) == 0, "  whose hash is SHA-256(text)");
	ok(crypto_hmac_sha256(k1, 32, "parent", 6, mac) == 0 &&
	    b64url_encode(mac, 32, text, sizeof text) == SECRET_TEXT_LEN &&
	    strcmp(text, a.text) == 0,
	    "  and whose text is base64url(HMAC-SHA256(key, data))");
	ok(crypto_hmac_text(k1, "parent", 6, text) == 0 &&
	    strcmp(text, a.text) == 0,
	    "crypto_hmac_text is secret_derive's text");
	{
		char r1[SECRET_TEXT_LEN + 1], r2[SECRET_TEXT_LEN + 1];

		ok(crypto_random_text(r1) == 0 && crypto_random_text(r2) == 0 &&
		    strlen(r1) == SECRET_TEXT_LEN && secret_text_valid(r1) &&
		    secret_text_valid(r2) && strcmp(r1, r2) != 0,
		    "crypto_random_text: 43 characters of the secret shape, "
		    "a new value each call");
	}
	ok(secret_derive(&c, k2, "parent", 6) == 0 &&
	    strcmp(c.text, a.text) != 0, "another key, another secret");
	ok(secret_derive(&d, k1, "parenT", 6) == 0 &&
	    strcmp(d.text, a.text) != 0, "other data, another secret");
	secret_wipe(&a);
	secret_wipe(&b);
	secret_wipe(&c);
	secret_wipe(&d);
}

/* crypto_hmac_sha256 keeps keyed contexts for a few keys: many keys in
 * turn, keys that are prefixes of each other, keys of a block and just
 * over one (hashed first), keys too long to keep, and the empty key --
 * every answer the same as OpenSSL's own one-shot HMAC's, again and
 * again as the kept contexts give way to each other. */
static void
test_hmac_keys(void)
{
	static const size_t lens[] = { 1, 31, 32, 63, 64, 65, 128, 129, 200, 0 };
	unsigned char keys[10][200], data[150], mine[32], ref[32];
	unsigned int rl;
	size_t k, round, dn, bad = 0, calls = 0;

	for (k = 0; k < 10; k++)
		memset(keys[k], 0x11 + (k % 3 == 0 ? 0 : (int)k), sizeof keys[k]);
	memset(data, 0x5a, sizeof data);
	for (round = 0; round < 4; round++)
		for (k = 0; k < 10; k++) {
			dn = (round * 37 + k * 11) % sizeof data;
			data[0] = (unsigned char)(round * 16 + k);
			rl = 0;
			if (crypto_hmac_sha256(keys[k], lens[k], data, dn,
			    mine) != 0 || HMAC(EVP_sha256(), keys[k],
			    (int)lens[k], data, dn, ref, &rl) == NULL ||
			    rl != 32 || memcmp(mine, ref, 32) != 0)
				bad++;
			calls++;
		}
	ok(bad == 0, "HMAC-SHA256 with 10 keys in turn, 4 rounds (%zu calls):"
	    " each as OpenSSL's HMAC() (%zu differ)", calls, bad);
	ok(crypto_hmac_sha256(keys[0], 32, "", 0, mine) == 0 &&
	    HMAC(EVP_sha256(), keys[0], 32, (const unsigned char *)"", 0, ref,
	    &rl) != NULL && memcmp(mine, ref, 32) == 0,
	    "HMAC of no data");
}

int
main(void)
{
	test_vectors();
	test_round_trips();
	test_decode_rejects();
	test_small_buffers();
	test_sha256();
	test_equal();
	test_tokens();
	test_secrets();
	test_derive();
	test_hmac_keys();
	return done_testing();
}
