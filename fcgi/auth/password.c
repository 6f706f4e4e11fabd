/*
 * auth/password.c -- password hashing with libxcrypt.
 *
 * yescrypt by default, bcrypt ($2b$) when configured.  Verification always
 * runs one full hash: against the user's hash, or against a dummy hash made
 * at start-up with the same algorithm and cost when there is no user, so an
 * unknown email and a wrong password cost the same time.
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/crypto.h"

static struct crypt_data cd; /* one request at a time per process */
static char dummy_hash[PW_HASH_MAX];
/* "$y$j9T$" or "$2b$12$": the configured algorithm-and-cost prefix. */
static char cfg_params[CRYPT_GENSALT_OUTPUT_SIZE];
/* yescrypt's prefixes for costs 1..11, to order two hashes by cost. */
static char yescrypt_params[12][16];

/* A fresh setting (algorithm, cost, salt from RAND_bytes) into out, which
 * holds CRYPT_GENSALT_OUTPUT_SIZE bytes as libxcrypt requires. */
static int
make_setting(enum pw_algo algo, long cost,
    char out[CRYPT_GENSALT_OUTPUT_SIZE])
{
	unsigned char rb[32];
	int rc = 0;

	if (crypto_random(rb, sizeof rb) < 0)
		return -1;
	/* bcrypt takes exactly 16 bytes of salt; yescrypt up to 32. */
	if (crypt_gensalt_rn(algo == PW_BCRYPT ? "$2b$" : "$y$",
	    (unsigned long)cost, (const char *)rb, algo == PW_BCRYPT ? 16 : 32,
	    out, CRYPT_GENSALT_OUTPUT_SIZE) == NULL)
		rc = -1;
	crypto_wipe(rb, sizeof rb);
	return rc;
}

/* Length of the algorithm-and-cost prefix of a hash or setting: up to and
 * including the third '$' ("$2b$12$", "$y$j9T$"), or 0. */
static size_t
params_len(const char *h)
{
	const char *p;
	int dollars = 0;

	for (p = h; *p != '\0'; p++)
		if (*p == '$' && ++dollars == 3)
			return (size_t)(p - h) + 1;
	return 0;
}

int
password_hash(const char *pw, size_t len, char out[PW_HASH_MAX])
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;
	char *tmp;
	int rc = -1;

	/* crypt takes a C string: callers have rejected embedded NULs. */
	if (memchr(pw, '\0', len) != NULL ||
	    make_setting(cfg.pw_algo, cfg.pw_cost, setting) < 0)
		return -1;
	if ((tmp = malloc(len + 1)) == NULL)
		return -1;
	memcpy(tmp, pw, len);
	tmp[len] = '\0';
	h = crypt_rn(tmp, setting, &cd, (int)sizeof cd);
	if (h != NULL && h[0] == '$' && strlen(h) < PW_HASH_MAX) {
		snprintf(out, PW_HASH_MAX, "%s", h);
		rc = 0;
	}
	crypto_wipe(tmp, len);
	free(tmp);
	crypto_wipe(&cd, sizeof cd);
	return rc;
}

int
password_verify(const char *pw, size_t len, const char *hash)
{
	const char *h, *want;
	char *tmp;
	int ok = 0;

	want = (hash != NULL && params_len(hash) > 0) ? hash : dummy_hash;
	if ((tmp = malloc(len + 1)) == NULL)
		return 0;
	memcpy(tmp, pw, len);
	tmp[len] = '\0';
	h = crypt_rn(tmp, want, &cd, (int)sizeof cd);
	/* The dummy hash never "matches": its password is random and gone.
	 * Nor does a password longer than bcrypt reads: its tail would not
	 * count.  Both still cost the full hash above. */
	if (h != NULL && want != dummy_hash && memchr(pw, '\0', len) == NULL &&
	    !(strncmp(want, "$2", 2) == 0 && len > BCRYPT_MAX_BYTES))
		ok = crypto_equal(h, strlen(h), want, strlen(want));
	crypto_wipe(tmp, len);
	free(tmp);
	crypto_wipe(&cd, sizeof cd);
	return ok;
}

/* yescrypt cost (1..11) of a hash, from its parameter prefix; 0 unknown. */
static long
yescrypt_cost(const char *hash, size_t plen)
{
	long c;

	for (c = 1; c <= 11; c++)
		if (strlen(yescrypt_params[c]) == plen &&
		    memcmp(yescrypt_params[c], hash, plen) == 0)
			return c;
	return 0;
}

int
password_needs_rehash(const char *hash)
{
	size_t hl = params_len(hash), cl = params_len(cfg_params);

	if (hl == cl && memcmp(hash, cfg_params, cl) == 0)
		return 0;
	/* Another algorithm than the configured one is always redone; a
	 * higher cost of the configured one is kept. */
	if (cfg.pw_algo == PW_BCRYPT)
		return !(strncmp(hash, "$2b$", 4) == 0 && hl == 7 &&
		    atoi(hash + 4) >= cfg.pw_cost);
	return !(strncmp(hash, "$y$", 3) == 0 &&
	    yescrypt_cost(hash, hl) >= cfg.pw_cost);
}

int
password_init(void)
{
	char s[CRYPT_GENSALT_OUTPUT_SIZE];
	struct secret pw;
	size_t n;
	long c;
	int rc;

	for (c = 1; c <= 11; c++) {
		if (make_setting(PW_YESCRYPT, c, s) < 0 ||
		    (n = params_len(s)) == 0 || n >= sizeof yescrypt_params[c])
			return -1;
		memcpy(yescrypt_params[c], s, n);
		yescrypt_params[c][n] = '\0';
	}
	if (make_setting(cfg.pw_algo, cfg.pw_cost, cfg_params) < 0)
		return -1;
	if ((n = params_len(cfg_params)) == 0)
		return -1;
	cfg_params[n] = '\0';
	/* The dummy's password is random and forgotten at once. */
	if (secret_mint(&pw) < 0)
		return -1;
	rc = password_hash(pw.text, SECRET_TEXT_LEN, dummy_hash);
	secret_wipe(&pw);
	return rc;
}

long
password_bench(int rounds)
{
	long long t0 = clock_us();
	int i;

	for (i = 0; i < rounds; i++)
		if (password_verify("correct horse battery", 21, dummy_hash) < 0)
			return -1;
	return (long)((clock_us() - t0) / (rounds > 0 ? rounds : 1));
}
