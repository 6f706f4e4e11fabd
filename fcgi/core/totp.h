/*
 * core/totp.h -- one-time codes for two-factor authentication: base32
 * (RFC 4648), HOTP (RFC 4226) and TOTP (RFC 6238), with OpenSSL only.
 *
 * Bulwark's codes are SHA-1, 6 digits, 30-second steps, one step of clock
 * skew either way, from a 160-bit secret that authenticator apps take as
 * base32.  SHA-256 and SHA-512 are here for the RFC 6238 vectors.
 *
 * Nothing here allocates a secret on the heap (OpenSSL's HMAC context
 * holds the key while it runs and cleanses it when freed) and every
 * buffer that held key material or a MAC is wiped before return.  Nothing
 * here logs.
 */
#ifndef CORE_TOTP_H
#define CORE_TOTP_H

#include <stddef.h>
#include <sys/types.h>

#define TOTP_SECRET_BYTES 20      /* 160 bits */
#define TOTP_SECRET_B32_LEN 32    /* base32 of 20 bytes, no padding */
#define TOTP_DIGITS 6
#define TOTP_STEP 30

enum totp_alg { TOTP_SHA1, TOTP_SHA256, TOTP_SHA512 };

/* RFC 4648 base32 (alphabet A-Z2-7).  pad=1 writes '=' padding.  Returns
 * length written (excl NUL, out is NUL-terminated), 0 if outcap too small
 * (then out is untouched). */
size_t base32_encode(const unsigned char *in, size_t n, char *out,
    size_t outcap, int pad);
/* Decodes base32: case-insensitive, optional correct '=' padding, no other
 * characters (no spaces), non-zero leftover bits rejected.  Returns bytes
 * written or -1 (then out may hold a partial result: the caller wipes it
 * if it was meant to hold a secret). */
ssize_t base32_decode(const char *in, size_t n, unsigned char *out,
    size_t outcap);
/* RFC 4226 HOTP with dynamic truncation: the code as an integer
 * (0 .. 10^digits-1), or -1 (digits outside 6..8, no key, an unknown alg,
 * or OpenSSL failing).  digits 6..8. */
long hotp(enum totp_alg alg, const unsigned char *key, size_t keylen,
    unsigned long long counter, int digits);
/* The RFC 6238 step of a unix time: floor(t / TOTP_STEP) (t >= 0); -1 for
 * a negative t. */
long long totp_step(long long unix_seconds);
/* Checks a 6-digit SHA-1 code typed by a user (exactly TOTP_DIGITS ASCII
 * digits, else invalid) against steps now-1, now, now+1 (now =
 * totp_step(unix_seconds)), comparing every candidate in constant time and
 * always computing all three (no early exit).  On a match returns 0 and
 * sets *step to the matching step (if more than one matches, the highest);
 * otherwise -1 (*step untouched).  code need not be NUL-terminated. */
int totp_verify(const unsigned char *key, size_t keylen, const char *code,
    size_t codelen, long long unix_seconds, long long *step);

#endif
