/*
 * core/seal.c -- AES-256-GCM under HKDF-SHA256 data keys (see seal.h).
 */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "core/crypto.h"
#include "core/seal.h"

#define SEAL_SALT "bulwark data key v1"
#define SEAL_KID_INFO "bulwark key id"
#define SEAL_KID_BYTES (SEAL_KID_LEN / 2)

/* HKDF-SHA256 (extract and expand) of ikm with SEAL_SALT and info into
 * out[0..outlen): 0, or -1 (out wiped). */
static int
seal_hkdf(EVP_KDF *kdf, const void *ikm, size_t n, const char *info,
    unsigned char *out, size_t outlen)
{
	EVP_KDF_CTX *ctx;
	OSSL_PARAM params[5];
	int rc = -1;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, n);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)SEAL_SALT, sizeof SEAL_SALT - 1);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, strlen(info));
	params[4] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_KDF_CTX_new(kdf)) != NULL &&
	    EVP_KDF_derive(ctx, out, outlen, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(ctx); /* cleanses the key it copied */
	if (rc < 0)
		crypto_wipe(out, outlen);
	return rc;
}

int
seal_key_derive(const void *ikm, size_t n, const char *purpose,
    struct seal_key *out)
{
	EVP_KDF *kdf = NULL;
	unsigned char id[SEAL_KID_BYTES];
	int rc = -1;

	if (ikm == NULL || n < SEAL_IKM_MIN || purpose == NULL ||
	    purpose[0] == '\0')
		goto out;
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		goto out;
	if (seal_hkdf(kdf, ikm, n, purpose, out->key, sizeof out->key) < 0 ||
	    seal_hkdf(kdf, ikm, n, SEAL_KID_INFO, id, sizeof id) < 0)
		goto out;
	hex_encode(id, sizeof id, out->kid);
	rc = 0;
out:
	EVP_KDF_free(kdf);
	crypto_wipe(id, sizeof id);
	if (rc < 0)
		seal_key_wipe(out);
	return rc;
}

ssize_t
seal_encrypt(const struct seal_key *k, const void *aad, size_t aadlen,
    const void *pt, size_t n, unsigned char *out, size_t outcap)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *ct = out + SEAL_NONCE_BYTES;
	int len;
	ssize_t rc = -1;

	if (out == NULL)
		return -1;
	if (k == NULL || (pt == NULL && n > 0) || (aad == NULL && aadlen > 0) ||
	    n > (size_t)INT_MAX - SEAL_OVERHEAD || aadlen > (size_t)INT_MAX ||
	    outcap < n + SEAL_OVERHEAD)
		goto out;
	if (crypto_random(out, SEAL_NONCE_BYTES) < 0)
		goto out;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), k->key, out,
	    NULL) != 1)
		goto out;
	if (aadlen > 0 &&
	    EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
		goto out;
	if (n > 0 && (EVP_EncryptUpdate(ctx, ct, &len, pt, (int)n) != 1 ||
	    (size_t)len != n))
		goto out;
	if (EVP_EncryptFinal_ex(ctx, ct + n, &len) != 1 || len != 0)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_BYTES,
	    ct + n) != 1)
		goto out;
	rc = (ssize_t)(n + SEAL_OVERHEAD);
out:
	EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
	if (rc < 0)
		crypto_wipe(out, outcap);
	return rc;
}

ssize_t
seal_decrypt(const struct seal_key *k, const void *aad, size_t aadlen,
    const unsigned char *in, size_t n, unsigned char *out, size_t outcap)
{
	EVP_CIPHER_CTX *ctx = NULL;
	const unsigned char *ct = in + SEAL_NONCE_BYTES;
	size_t ctlen;
	int len;
	ssize_t rc = -1;

	if (out == NULL)
		return -1;
	if (k == NULL || in == NULL || n < SEAL_OVERHEAD ||
	    (aad == NULL && aadlen > 0) || n > (size_t)INT_MAX ||
	    aadlen > (size_t)INT_MAX || outcap < n - SEAL_OVERHEAD)
		goto out;
	ctlen = n - SEAL_OVERHEAD;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), k->key, in,
	    NULL) != 1)
		goto out;
	if (aadlen > 0 &&
	    EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
		goto out;
	if (ctlen > 0 && (EVP_DecryptUpdate(ctx, out, &len, ct,
	    (int)ctlen) != 1 || (size_t)len != ctlen))
		goto out;
	/* The tag is only read here; OpenSSL keeps its own copy. */
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_BYTES,
	    (void *)(ct + ctlen)) != 1)
		goto out;
	/* Checks the tag in constant time; until it passes, out holds
	 * unauthenticated plaintext that the wipe below removes. */
	if (EVP_DecryptFinal_ex(ctx, out + ctlen, &len) != 1 || len != 0)
		goto out;
	rc = (ssize_t)ctlen;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (rc < 0)
		crypto_wipe(out, outcap);
	return rc;
}

int
seal_kid_valid(const char *kid)
{
	size_t i;

	if (kid == NULL)
		return 0;
	for (i = 0; i < SEAL_KID_LEN; i++)
		if (!((kid[i] >= '0' && kid[i] <= '9') ||
		    (kid[i] >= 'a' && kid[i] <= 'f')))
			return 0;
	return kid[SEAL_KID_LEN] == '\0';
}

void
seal_key_wipe(struct seal_key *k)
{
	if (k != NULL)
		crypto_wipe(k, sizeof *k);
}
