/*
 * core/crypto.c -- random bytes, SHA-256, base64url, constant-time
 * equality, and secrets (see crypto.h).
 */
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "core/crypto.h"

#define HMAC_KEYS 4       /* keyed contexts kept */
#define HMAC_KEY_MAX 128  /* longer keys are keyed every time */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
crypto_random(void *buf, size_t n)
{
	if (n > (size_t)INT32_MAX)
		return -1;
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

void
crypto_sha256(const void *data, size_t n, unsigned char out[32])
{
	static EVP_MD *md; /* fetched once per process, never freed */
	unsigned int len = 32;

	if (md == NULL)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	/* Fails only short of memory; clear the output so a failure can never
	 * be mistaken for a real digest of attacker input. */
	if (md == NULL || EVP_Digest(data, n, out, &len, md, NULL) != 1)
		memset(out, 0, 32);
}

size_t
b64url_encode(const unsigned char *in, size_t n, char *out, size_t outcap)
{
	size_t i, o = 0, need = (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0);
	uint32_t v;

	if (outcap < need + 1)
		return 0;
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int
b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

ssize_t
b64url_decode(const char *in, size_t n, unsigned char *out, size_t outcap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i, o = 0, rest = n % 4, full = n - rest;
	int a, b, c, d;
	uint32_t v;

	/* 4 characters are 3 bytes; a tail of 2 or 3 is 1 or 2 more. */
	if (rest == 1 || full / 4 * 3 + (rest > 0 ? rest - 1 : 0) > outcap)
		return -1;
	for (i = 0; i < full; i += 4) {
		a = b64url_value(p[i]);
		b = b64url_value(p[i + 1]);
		c = b64url_value(p[i + 2]);
		d = b64url_value(p[i + 3]);
		if ((a | b | c | d) < 0)
			return -1;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 |
		    (uint32_t)d;
		out[o++] = (unsigned char)(v >> 16);
		out[o++] = (unsigned char)(v >> 8);
		out[o++] = (unsigned char)v;
	}
	if (rest == 0)
		return (ssize_t)o;
	a = b64url_value(p[i]);
	b = b64url_value(p[i + 1]);
	c = rest == 3 ? b64url_value(p[i + 2]) : 0;
	if ((a | b | c) < 0)
		return -1;
	v = (uint32_t)a << 12 | (uint32_t)b << 6 | (uint32_t)c;
	/* Leftover bits must be zero: one encoding per value. */
	if ((rest == 2 && (v >> 6 & 0xf) != 0) ||
	    (rest == 3 && (v & 0x3) != 0))
		return -1;
	out[o++] = (unsigned char)(v >> 10);
	if (rest == 3)
		out[o++] = (unsigned char)(v >> 2);
	return (ssize_t)o;
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
hex_decode(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((hi = hex_digit((unsigned char)s[2 * i])) < 0 ||
		    (lo = hex_digit((unsigned char)s[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int
crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

int
crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t n, unsigned char out[32])
{
	/* One context per key, up to HMAC_KEYS keys, each made once: a new
	 * context and a digest looked up by name cost more than the HMAC of a
	 * hash (callgrind: 18k instructions a call), and keying a context
	 * (the padded key hashed twice) half of what is left, so a context
	 * already keyed with this key is only reset (EVP_MAC_init with no
	 * key).  A request uses one or two server keys (CSRF, refresh, a
	 * JWT key); one request at a time per process.  The key bytes kept
	 * here to find the context are the same server keys the process
	 * holds anyway. */
	static struct {
		EVP_MAC_CTX *ctx;
		size_t keylen;
		unsigned char key[HMAC_KEY_MAX];
	} slot[HMAC_KEYS];
	static unsigned next;
	EVP_MAC *mac;
	OSSL_PARAM params[2];
	size_t outlen = 0;
	unsigned i;
	int have = 0;

	for (i = 0; i < HMAC_KEYS; i++)
		if (slot[i].ctx != NULL && slot[i].keylen == keylen &&
		    memcmp(slot[i].key, key, keylen) == 0) {
			have = 1;
			break;
		}
	if (!have) {
		i = next++ % HMAC_KEYS;
		if (slot[i].ctx == NULL) {
			if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
				goto fail;
			slot[i].ctx = EVP_MAC_CTX_new(mac);
			EVP_MAC_free(mac); /* the context keeps its reference */
			params[0] = OSSL_PARAM_construct_utf8_string(
			    OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
			params[1] = OSSL_PARAM_construct_end();
			if (slot[i].ctx == NULL ||
			    EVP_MAC_CTX_set_params(slot[i].ctx, params) != 1) {
				EVP_MAC_CTX_free(slot[i].ctx);
				slot[i].ctx = NULL;
				goto fail;
			}
		}
		OPENSSL_cleanse(slot[i].key, sizeof slot[i].key);
		slot[i].keylen = 0; /* not cached until keyed below */
	}
	if (EVP_MAC_init(slot[i].ctx, have ? NULL : key, have ? 0 : keylen,
	    NULL) != 1)
		goto fail;
	if (!have && keylen <= HMAC_KEY_MAX) {
		memcpy(slot[i].key, key, keylen);
		slot[i].keylen = keylen;
	}
	if (EVP_MAC_update(slot[i].ctx, data, n) == 1 &&
	    EVP_MAC_final(slot[i].ctx, out, &outlen, 32) == 1 && outlen == 32)
		return 0;
fail:
	OPENSSL_cleanse(out, 32);
	return -1;
}

void
crypto_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

int
secret_text_valid(const char *s)
{
	size_t i;

	for (i = 0; i < SECRET_TEXT_LEN; i++)
		if (s[i] == '\0' || b64url_value((unsigned char)s[i]) < 0)
			return 0;
	/* 32 bytes leave 2 spare bits in the last character: must be 0. */
	return s[SECRET_TEXT_LEN] == '\0' &&
	    (b64url_value((unsigned char)s[SECRET_TEXT_LEN - 1]) & 3) == 0;
}

/* s from 32 bytes: their base64url text and its SHA-256.  got: the bytes
 * are there (else -1).  raw is wiped; so is s on failure. */
static int
secret_from_bytes(struct secret *s, unsigned char raw[SECRET_BYTES], int got)
{
	int rc = -1;

	if (got && b64url_encode(raw, SECRET_BYTES, s->text, sizeof s->text) ==
	    SECRET_TEXT_LEN) {
		crypto_sha256(s->text, SECRET_TEXT_LEN, s->hash);
		rc = 0;
	}
	OPENSSL_cleanse(raw, SECRET_BYTES);
	if (rc < 0)
		secret_wipe(s);
	return rc;
}

int
secret_mint(struct secret *s)
{
	unsigned char raw[SECRET_BYTES];

	return secret_from_bytes(s, raw, crypto_random(raw, sizeof raw) == 0);
}

/* out from 32 bytes: their base64url text.  got: the bytes are there
 * (else -1).  raw is wiped; so is out on failure. */
static int
text_from_bytes(char out[SECRET_TEXT_LEN + 1], unsigned char raw[32], int got)
{
	int rc = -1;

	if (got && b64url_encode(raw, 32, out, SECRET_TEXT_LEN + 1) ==
	    SECRET_TEXT_LEN)
		rc = 0;
	OPENSSL_cleanse(raw, 32);
	if (rc < 0)
		OPENSSL_cleanse(out, SECRET_TEXT_LEN + 1);
	return rc;
}

int
crypto_random_text(char out[SECRET_TEXT_LEN + 1])
{
	unsigned char raw[SECRET_BYTES];

	return text_from_bytes(out, raw, crypto_random(raw, sizeof raw) == 0);
}

int
secret_derive(struct secret *s, const unsigned char key[32],
    const void *data, size_t n)
{
	unsigned char mac[SECRET_BYTES];

	return secret_from_bytes(s, mac,
	    crypto_hmac_sha256(key, 32, data, n, mac) == 0);
}

int
crypto_hmac_text(const unsigned char key[32], const void *data, size_t n,
    char out[SECRET_TEXT_LEN + 1])
{
	unsigned char mac[32];

	return text_from_bytes(out, mac,
	    crypto_hmac_sha256(key, 32, data, n, mac) == 0);
}

int
secret_parse(struct secret *s, const char *text)
{
	if (text == NULL || !secret_text_valid(text)) {
		secret_wipe(s);
		return -1;
	}
	memcpy(s->text, text, SECRET_TEXT_LEN + 1);
	crypto_sha256(s->text, SECRET_TEXT_LEN, s->hash);
	return 0;
}

void
secret_wipe(struct secret *s)
{
	OPENSSL_cleanse(s, sizeof *s);
}
