/*
 * core/seal.h -- secrets encrypted at rest: AES-256-GCM under a data key
 * derived with HKDF-SHA256 (RFC 5869) from the server's secret material,
 * with OpenSSL 3 only.
 *
 * A sealed value is nonce (12 random bytes) || ciphertext || tag (16); the
 * caller stores it beside the kid of the key that sealed it and binds it
 * to its row with aad (the user id), so a ciphertext copied to another
 * user's row does not open.  To rotate, derive the new key and the old
 * one, seal with the new, open with whichever key's kid the row names.
 *
 * A struct seal_key lives on the caller's stack (or in static storage for
 * the life of the process); seal_key_wipe it when done.  Nothing here
 * logs, and no failure leaves plaintext in an output buffer.
 */
#ifndef CORE_SEAL_H
#define CORE_SEAL_H

#include <stddef.h>
#include <sys/types.h>

#define SEAL_KEY_BYTES 32
#define SEAL_NONCE_BYTES 12
#define SEAL_TAG_BYTES 16
#define SEAL_OVERHEAD (SEAL_NONCE_BYTES + SEAL_TAG_BYTES)
#define SEAL_KID_LEN 16   /* hex chars of the key id */
#define SEAL_IKM_MIN 32   /* bytes of secret material at least */

struct seal_key {
	char kid[SEAL_KID_LEN + 1];            /* public id stored beside every ciphertext */
	unsigned char key[SEAL_KEY_BYTES];     /* AES-256 key */
};

/* Derives a data key from secret material ikm (>= 32 bytes, else -1) with
 * HKDF-SHA256 (fixed salt "bulwark data key v1", info = purpose, e.g.
 * "totp"); the kid is the lower-hex of the first 8 bytes of a second HKDF
 * output with info "bulwark key id" (so it reveals nothing of the key and
 * is the same for the same material on every host).  The kid names the
 * material, not the purpose: two purposes of one material share a kid.
 * 0, or -1 (out wiped; also for a NULL or empty purpose). */
int seal_key_derive(const void *ikm, size_t n, const char *purpose,
    struct seal_key *out);
/* AES-256-GCM: out = nonce (12 random bytes from RAND_bytes) ||
 * ciphertext || tag (16).  aad binds the ciphertext to its context (the
 * caller passes the user id; aad may be NULL when aadlen is 0).  outcap
 * must be >= n + SEAL_OVERHEAD.  pt and out must not overlap.  Returns
 * bytes written (n + SEAL_OVERHEAD) or -1 (out[0..outcap) wiped: never
 * leaves plaintext in out on failure). */
ssize_t seal_encrypt(const struct seal_key *k, const void *aad,
    size_t aadlen, const void *pt, size_t n, unsigned char *out,
    size_t outcap);
/* The inverse: -1 for any tampering (tag, nonce, ciphertext, aad,
 * truncation) or wrong key, or outcap < n - SEAL_OVERHEAD; out[0..outcap)
 * wiped on failure.  in and out must not overlap; out is never NULL.  Returns plaintext
 * length. */
ssize_t seal_decrypt(const struct seal_key *k, const void *aad,
    size_t aadlen, const unsigned char *in, size_t n, unsigned char *out,
    size_t outcap);
/* 1 when kid is exactly SEAL_KID_LEN lower-case hex digits (a kid read
 * back from the database), else 0. */
int seal_kid_valid(const char *kid);
void seal_key_wipe(struct seal_key *k);

#endif
