/*
 * core/crypto.h -- random bytes, SHA-256, base64url, constant-time
 * equality (OpenSSL), and the one secret type every token is made of.
 *
 * Every secret Bulwark issues comes from RAND_bytes and is compared with
 * CRYPTO_memcmp.  A failing generator is an error, never a fallback.
 */
#ifndef CORE_CRYPTO_H
#define CORE_CRYPTO_H

#include <stddef.h>
#include <sys/types.h>

/* RAND_bytes; -1 when the generator fails (never fall back). */
int crypto_random(void *buf, size_t n);
/* out is all zero if the digest cannot be computed (out of memory). */
void crypto_sha256(const void *data, size_t n, unsigned char out[32]);
/* Base64url without padding; returns the length written (excluding NUL),
 * or 0 when outcap is too small. */
size_t b64url_encode(const unsigned char *in, size_t n, char *out,
    size_t outcap);
/* Decodes base64url (no padding, zero spare bits); returns bytes written
 * or -1. */
ssize_t b64url_decode(const char *in, size_t n, unsigned char *out,
    size_t outcap);
/* The value of hex digit c (either case), or -1. */
int hex_digit(int c);
/* Lower-case hex of in[0..n) into out (2n + 1 bytes, NUL-terminated). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* Exactly 2n hex digits of s (either case) into out[0..n): 0, or -1. */
int hex_decode(const char *s, unsigned char *out, size_t n);
/* Constant-time equality of two byte strings (length is not secret). */
int crypto_equal(const void *a, size_t alen, const void *b, size_t blen);
/* HMAC-SHA256 of data[0..n) under key[0..keylen): 0, or -1 (out zeroed)
 * when OpenSSL cannot compute it (out of memory). */
int crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t n, unsigned char out[32]);
/* OPENSSL_cleanse: a wipe the compiler may not drop. */
void crypto_wipe(void *p, size_t n);

/*
 * A secret: 256 random bits as the client holds them (base64url text, 43
 * characters) and as the server stores them (the SHA-256 of that text), so
 * a dump of any table of secrets yields none that works.  Sessions use it;
 * refresh, reset and verification tokens are the same thing.  Lives on the
 * caller's stack; secret_wipe it before it goes out of scope.
 */
#define SECRET_BYTES 32
#define SECRET_TEXT_LEN 43
#define SECRET_HASH_LEN 32

struct secret {
	char text[SECRET_TEXT_LEN + 1];     /* what the client holds */
	unsigned char hash[SECRET_HASH_LEN]; /* what the database holds */
};

/* A fresh secret from RAND_bytes.  -1 (and s wiped) when the generator
 * fails. */
int secret_mint(struct secret *s);
/* 256 random bits as their 43 characters of base64url, without the hash
 * secret_mint adds (for a value nothing stores: the CSRF cookie). */
int crypto_random_text(char out[SECRET_TEXT_LEN + 1]);
/* A secret derived from data with a server key: its text is the base64url
 * of HMAC-SHA256(key, data), so whoever holds the key derives the same
 * secret from the same data again, and nobody else can.  -1 (s wiped)
 * when HMAC fails. */
int secret_derive(struct secret *s, const unsigned char key[32],
    const void *data, size_t n);
/* The text of secret_derive without its hash: for a token that is
 * compared, never stored (the session's CSRF token).  -1 (out wiped) when
 * HMAC fails. */
int crypto_hmac_text(const unsigned char key[32], const void *data, size_t n,
    char out[SECRET_TEXT_LEN + 1]);
/* A secret the client presented: -1 (s wiped) unless text is exactly a
 * well-formed secret text; else s holds its text and hash. */
int secret_parse(struct secret *s, const char *text);
/* 1 when text is exactly SECRET_TEXT_LEN base64url characters that
 * decode to SECRET_BYTES (the spare bits zero). */
int secret_text_valid(const char *text);
void secret_wipe(struct secret *s);

#endif
