/*
 * core/totp.c -- base32, HOTP and TOTP (see totp.h).
 */
#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/crypto.h"
#include "core/totp.h"

#define TOTP_MAC_MAX 64 /* SHA-512 */

static const char b32_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

size_t
base32_encode(const unsigned char *in, size_t n, char *out, size_t outcap,
    int pad)
{
	size_t i, o = 0, need;
	uint64_t v = 0;
	int bits = 0;

	if (n > (SIZE_MAX - 8) / 8) /* n * 8 + 4 must not wrap */
		return 0;
	need = pad ? (n + 4) / 5 * 8 : (n * 8 + 4) / 5;
	if (outcap < need + 1)
		return 0;
	for (i = 0; i < n; i++) {
		v = v << 8 | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alpha[v >> bits & 31];
		}
		v &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[o++] = b32_alpha[v << (5 - bits) & 31];
	while (o < need)
		out[o++] = '=';
	out[o] = '\0';
	crypto_wipe(&v, sizeof v); /* it held the last input bits */
	return o;
}

static int
b32_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

ssize_t
base32_decode(const char *in, size_t n, unsigned char *out, size_t outcap)
{
	/* '=' a group of 8 ends with, by how many characters carry data. */
	static const signed char pads[8] = { 0, -1, 6, -1, 4, 3, -1, 1 };
	size_t i, data = n, o = 0;
	uint32_t v = 0;
	int bits = 0, d;
	ssize_t rc = -1;

	/* Padding, if any, fills the last group of 8 exactly. */
	while (data > 0 && in[data - 1] == '=')
		data--;
	if (pads[data % 8] < 0)
		goto out;
	if (data != n && (n % 8 != 0 || n - data != (size_t)pads[data % 8]))
		goto out;
	for (i = 0; i < data; i++) {
		if ((d = b32_value((unsigned char)in[i])) < 0)
			goto out;
		v = v << 5 | (uint32_t)d;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o == outcap)
				goto out;
			out[o++] = (unsigned char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero: one encoding per value. */
	if (v == 0)
		rc = (ssize_t)o;
out:
	crypto_wipe(&v, sizeof v);
	return rc;
}

static const char *
totp_digest(enum totp_alg alg)
{
	switch (alg) {
	case TOTP_SHA1:
		return "SHA1";
	case TOTP_SHA256:
		return "SHA256";
	case TOTP_SHA512:
		return "SHA512";
	}
	return NULL;
}

/* HMAC under alg of the 8-byte big-endian counter into mac (TOTP_MAC_MAX
 * bytes); its length, or 0 (mac wiped) when OpenSSL fails. */
static size_t
totp_hmac(EVP_MAC *mac, const char *digest, const unsigned char *key,
    size_t keylen, unsigned long long counter,
    unsigned char out[TOTP_MAC_MAX])
{
	EVP_MAC_CTX *ctx;
	OSSL_PARAM params[2];
	unsigned char msg[8];
	size_t outlen = 0;
	int i;

	for (i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, keylen, params) != 1 ||
	    EVP_MAC_update(ctx, msg, sizeof msg) != 1 ||
	    EVP_MAC_final(ctx, out, &outlen, TOTP_MAC_MAX) != 1 ||
	    outlen < 20 || outlen > TOTP_MAC_MAX) {
		crypto_wipe(out, TOTP_MAC_MAX);
		outlen = 0;
	}
	EVP_MAC_CTX_free(ctx); /* cleanses the key it holds */
	return outlen;
}

/* RFC 4226 section 5.3: 31 bits at the offset the last nibble names. */
static long
totp_truncate(const unsigned char *m, size_t len, int digits)
{
	unsigned int off = m[len - 1] & 0xf;
	uint32_t bin;
	long mod = 1;

	while (digits-- > 0)
		mod *= 10;
	bin = (uint32_t)(m[off] & 0x7f) << 24 | (uint32_t)m[off + 1] << 16 |
	    (uint32_t)m[off + 2] << 8 | m[off + 3];
	return (long)(bin % (uint32_t)mod);
}

/* hotp() with a MAC already fetched. */
static long
totp_code(EVP_MAC *mac, enum totp_alg alg, const unsigned char *key,
    size_t keylen, unsigned long long counter, int digits)
{
	unsigned char m[TOTP_MAC_MAX];
	const char *digest = totp_digest(alg);
	size_t len;
	long code = -1;

	if (digest == NULL || key == NULL || keylen == 0 || digits < 6 ||
	    digits > 8)
		return -1;
	if ((len = totp_hmac(mac, digest, key, keylen, counter, m)) > 0)
		code = totp_truncate(m, len, digits);
	crypto_wipe(m, sizeof m);
	return code;
}

long
hotp(enum totp_alg alg, const unsigned char *key, size_t keylen,
    unsigned long long counter, int digits)
{
	EVP_MAC *mac;
	long code;

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return -1;
	code = totp_code(mac, alg, key, keylen, counter, digits);
	EVP_MAC_free(mac);
	return code;
}

/* a if bit is 1, b if it is 0, without a branch. */
static long long
totp_select(unsigned int bit, long long a, long long b)
{
	uint64_t m = -(uint64_t)bit;

	return (long long)(((uint64_t)a & m) | ((uint64_t)b & ~m));
}

long long
totp_step(long long unix_seconds)
{
	if (unix_seconds < 0)
		return -1;
	return unix_seconds / TOTP_STEP;
}

int
totp_verify(const unsigned char *key, size_t keylen, const char *code,
    size_t codelen, long long unix_seconds, long long *step)
{
	EVP_MAC *mac = NULL;
	char want[TOTP_DIGITS];
	long long now, s, best = -1;
	long c;
	size_t i;
	int k, failed = 0;
	unsigned int found = 0, eq;

	if (code == NULL || codelen != TOTP_DIGITS || step == NULL ||
	    (now = totp_step(unix_seconds)) < 0)
		goto out;
	for (i = 0; i < codelen; i++)
		if (code[i] < '0' || code[i] > '9')
			goto out;
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		goto out;
	for (k = -1; k <= 1; k++) {
		if ((s = now + k) < 0)
			continue; /* the first 30 seconds of 1970 */
		if ((c = totp_code(mac, TOTP_SHA1, key, keylen,
		    (unsigned long long)s, TOTP_DIGITS)) < 0) {
			failed = 1;
			continue;
		}
		for (i = TOTP_DIGITS; i-- > 0; c /= 10)
			want[i] = (char)('0' + c % 10);
		/* eq is 1 or 0 without a branch on the code; the last (the
		 * highest) match wins. */
		eq = (unsigned int)(CRYPTO_memcmp(want, code,
		    TOTP_DIGITS) == 0);
		found |= eq;
		best = totp_select(eq, s, best);
	}
	crypto_wipe(want, sizeof want);
out:
	EVP_MAC_free(mac);
	if (found && !failed) {
		*step = best;
		return 0;
	}
	return -1;
}
