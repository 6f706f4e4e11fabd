/*
 * core/crypto.c -- random bytes, SHA-256, base64url, constant-time
 * equality, and secrets (see crypto.h).
 */
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/crypto.h"

#define HMAC_KEYS 4       /* keyed contexts kept */
#define HMAC_KEY_MAX 128  /* longer keys are keyed every time */
#define SHA256_BLOCK 64

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
crypto_random(void *buf, size_t n)
{
	if (n > (size_t)INT32_MAX)
		return -1;
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

/* One SHA-256 implementation fetched once and one context made once per
 * process, initialised again for each hash: EVP_Digest would allocate a
 * context, look the implementation up again and free it all at every call,
 * three times a request.  One request at a time per process, and no hash
 * is begun inside another, so one context serves every caller here. */
static EVP_MD *sha_md;
static EVP_MD_CTX *sha_ctx;

static int
sha256_ready(void)
{
	if (sha_md == NULL)
		sha_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (sha_ctx == NULL)
		sha_ctx = EVP_MD_CTX_new();
	return sha_md != NULL && sha_ctx != NULL ? 0 : -1;
}

/* 0, or -1 with out cleared. */
static int
sha256_once(const void *data, size_t n, unsigned char out[32])
{
	unsigned int len = 0;

	if (sha256_ready() == 0 &&
	    EVP_DigestInit_ex2(sha_ctx, sha_md, NULL) == 1 &&
	    EVP_DigestUpdate(sha_ctx, data, n) == 1 &&
	    EVP_DigestFinal_ex(sha_ctx, out, &len) == 1 && len == 32)
		return 0;
	/* Fails only short of memory; clear the output so a failure can never
	 * be mistaken for a real digest of attacker input. */
	OPENSSL_cleanse(out, 32);
	return -1;
}

void
crypto_sha256(const void *data, size_t n, unsigned char out[32])
{
	(void)sha256_once(data, n, out);
}

/* Starts ctx on the key block k XORed with pad (RFC 2104's ipad, opad). */
static int
absorb_pad(EVP_MD_CTX *ctx, const unsigned char k[SHA256_BLOCK],
    unsigned char pad)
{
	unsigned char b[SHA256_BLOCK];
	unsigned j;
	int good;

	for (j = 0; j < sizeof b; j++)
		b[j] = k[j] ^ pad;
	good = EVP_DigestInit_ex2(ctx, sha_md, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, b, sizeof b) == 1;
	OPENSSL_cleanse(b, sizeof b);
	return good ? 0 : -1;
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

/* HMAC-SHA256 (RFC 2104) over the same SHA-256: a key's two padded
 * blocks are hashed once, when it is first used, into an inner and an
 * outer context, and each HMAC starts from copies of them.  Up to
 * HMAC_KEYS keys keep their contexts (a request uses one or two server
 * keys: CSRF, refresh, a JWT key), the least recently keyed giving way;
 * the key bytes kept to find them are server keys the process holds
 * anyway.  EVP_MAC does the same behind a parameter list, its own
 * dispatch and a context reset at every call: the CSRF token of GET /me
 * was 6.3k instructions that way, 5.9k now (callgrind), and in the bench
 * libcrypto's share of a worker's CPU fell by a quarter with the hash's
 * context kept (perf). */
int
crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t n, unsigned char out[32])
{
	static struct {
		EVP_MD_CTX *in, *out; /* the padded key absorbed */
		size_t keylen;        /* 0: not keyed */
		unsigned char key[HMAC_KEY_MAX];
	} slot[HMAC_KEYS];
	static unsigned next;
	unsigned char k[SHA256_BLOCK], inner[32];
	unsigned int len = 0;
	unsigned i;
	/* keylen 0 marks a slot not cached, so an empty key, or one too long
	 * to keep, is neither looked up nor kept. */
	int cached = keylen > 0 && keylen <= HMAC_KEY_MAX;
	int have = 0, rc = -1;

	memset(k, 0, sizeof k);
	if (sha256_ready() < 0)
		goto fail;
	for (i = 0; i < HMAC_KEYS && cached; i++)
		if (slot[i].keylen == keylen &&
		    memcmp(slot[i].key, key, keylen) == 0) {
			have = 1;
			break;
		}
	if (!have) {
		i = next++ % HMAC_KEYS;
		OPENSSL_cleanse(slot[i].key, sizeof slot[i].key);
		slot[i].keylen = 0; /* not found again until keyed below */
		if ((slot[i].in == NULL &&
		    (slot[i].in = EVP_MD_CTX_new()) == NULL) ||
		    (slot[i].out == NULL &&
		    (slot[i].out = EVP_MD_CTX_new()) == NULL))
			goto fail;
		/* A key longer than a block is its hash (RFC 2104 2.). */
		if (keylen > sizeof k) {
			if (sha256_once(key, keylen, k) < 0)
				goto fail;
		} else if (keylen > 0)
			memcpy(k, key, keylen);
		if (absorb_pad(slot[i].in, k, 0x36) < 0 ||
		    absorb_pad(slot[i].out, k, 0x5c) < 0)
			goto fail;
		if (cached) {
			memcpy(slot[i].key, key, keylen);
			slot[i].keylen = keylen;
		}
	}
	if (EVP_MD_CTX_copy_ex(sha_ctx, slot[i].in) == 1 &&
	    EVP_DigestUpdate(sha_ctx, data, n) == 1 &&
	    EVP_DigestFinal_ex(sha_ctx, inner, &len) == 1 && len == 32 &&
	    EVP_MD_CTX_copy_ex(sha_ctx, slot[i].out) == 1 &&
	    EVP_DigestUpdate(sha_ctx, inner, sizeof inner) == 1 &&
	    EVP_DigestFinal_ex(sha_ctx, out, &len) == 1 && len == 32)
		rc = 0;
fail:
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(inner, sizeof inner);
	if (rc < 0)
		OPENSSL_cleanse(out, 32);
	return rc;
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
