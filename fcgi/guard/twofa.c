/*
 * guard/twofa.c -- the second factor (API.md "Two-factor authentication").
 *
 * A code is either a TOTP code (6 digits) or a recovery code (16 base32
 * characters, shown in groups of four).  Each works once:
 *   - a TOTP code's time step must be newer than the last one accepted for
 *     the user, and the move to it is one compare-and-set statement
 *     (sql/totp_use.sql), so of two logins racing with one code exactly one
 *     passes; an older code than the last is refused too;
 *   - a recovery code's row is marked used by one UPDATE ... WHERE used_at
 *     IS NULL (sql/recovery_use.sql).
 * The TOTP secret is stored sealed (core/seal.c) and opened here, on the
 * stack, for the one check; it is wiped before anything else happens.
 */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/seal.h"
#include "core/totp.h"
#include "guard/guard.h"

#define RECOVERY_RAW 10 /* 80 bits */

/* The code as typed, without blanks and dashes, upper-cased, into out
 * (cap bytes); its length, or 0 when it does not fit or holds anything
 * else than letters and digits. */
static size_t
normalize(const char *code, size_t len, char *out, size_t cap)
{
	size_t i, n = 0;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)code[i];
		if (c == ' ' || c == '-' || c == '\t')
			continue;
		if (!isascii(c) || !isalnum(c) || n + 1 >= cap)
			return 0;
		out[n++] = (char)toupper(c);
	}
	out[n] = '\0';
	return n;
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

int
twofa_recovery_hash(const char *code, size_t len, unsigned char out[32])
{
	char norm[TWOFA_RECOVERY_LEN + 2];
	unsigned char raw[RECOVERY_RAW];
	int rc = -1;

	if (normalize(code, len, norm, sizeof norm) == TWOFA_RECOVERY_LEN - 3 &&
	    base32_decode(norm, strlen(norm), raw, sizeof raw) ==
	    RECOVERY_RAW) {
		crypto_sha256(norm, strlen(norm), out);
		rc = 0;
	}
	crypto_wipe(norm, sizeof norm);
	crypto_wipe(raw, sizeof raw);
	return rc;
}

int
twofa_recovery_codes(char codes[TWOFA_RECOVERY_CODES][TWOFA_RECOVERY_LEN + 1],
    unsigned char hashes[TWOFA_RECOVERY_CODES * 32])
{
	unsigned char raw[RECOVERY_RAW];
	char b32[TWOFA_RECOVERY_LEN];
	int i, rc = 0;

	for (i = 0; rc == 0 && i < TWOFA_RECOVERY_CODES; i++) {
		if (crypto_random(raw, sizeof raw) < 0 ||
		    base32_encode(raw, sizeof raw, b32, sizeof b32, 0) != 16) {
			rc = -1;
			break;
		}
		crypto_sha256(b32, 16, hashes + (size_t)i * 32);
		snprintf(codes[i], TWOFA_RECOVERY_LEN + 1, "%.4s-%.4s-%.4s-%.4s",
		    b32, b32 + 4, b32 + 8, b32 + 12);
	}
	crypto_wipe(raw, sizeof raw);
	crypto_wipe(b32, sizeof b32);
	if (rc < 0) {
		crypto_wipe(codes, sizeof(char[TWOFA_RECOVERY_CODES]
		    [TWOFA_RECOVERY_LEN + 1]));
		crypto_wipe(hashes, (size_t)TWOFA_RECOVERY_CODES * 32);
	}
	return rc;
}

int
twofa_open(struct request *req, const char *user_id, const char *sealed_hex,
    const char *kid, unsigned char secret[TOTP_SECRET_BYTES])
{
	unsigned char ct[TOTP_SECRET_BYTES + SEAL_OVERHEAD];
	const struct seal_key *k;
	size_t hexlen = sealed_hex != NULL ? strlen(sealed_hex) : 0;
	ssize_t n;

	if ((k = config_data_key(kid)) == NULL) {
		/* A key that sealed secrets was removed from the ring. */
		log_event("error", "twofa_key_missing", LF_S("userId", user_id),
		    LF_S("kid", kid));
		respond_error(req, 503,
		    "Two-factor authentication is not configured");
		return -1;
	}
	if (hexlen != 2 * sizeof ct ||
	    hex_decode(sealed_hex, ct, sizeof ct) < 0 ||
	    (n = seal_decrypt(k, user_id, strlen(user_id), ct, sizeof ct,
	    secret, TOTP_SECRET_BYTES)) != TOTP_SECRET_BYTES) {
		crypto_wipe(secret, TOTP_SECRET_BYTES);
		respond_internal(req, "two-factor secret does not open");
		return -1;
	}
	return 0;
}

/* 1 when code as typed is a TOTP code (six digits once blanks and dashes
 * are gone), with norm[] holding them; the caller wipes norm. */
static int
totp_typed(const char *code, size_t len, char norm[TWOFA_RECOVERY_LEN + 2])
{
	size_t n = normalize(code, len, norm, TWOFA_RECOVERY_LEN + 2);

	return n == TOTP_DIGITS && all_digits(norm, n);
}

int
twofa_totp_match(const unsigned char secret[TOTP_SECRET_BYTES],
    const char *code, size_t len, long long *step)
{
	char norm[TWOFA_RECOVERY_LEN + 2];
	int rc = -1;

	if (totp_typed(code, len, norm))
		rc = totp_verify(secret, TOTP_SECRET_BYTES, norm, TOTP_DIGITS,
		    (long long)time(NULL), step);
	crypto_wipe(norm, sizeof norm);
	return rc;
}

enum twofa_result
twofa_check(struct request *req, const struct user *u, const char *code,
    size_t len)
{
	unsigned char secret[TOTP_SECRET_BYTES], hash[32];
	char norm[TWOFA_RECOVERY_LEN + 2];
	long long step;
	enum db_status st;
	PGresult *r;
	int match;

	if (totp_typed(code, len, norm)) {
		match = 0;
		if (u->totp_sealed != NULL) {
			if (twofa_open(req, u->id, u->totp_sealed, u->totp_kid,
			    secret) < 0) {
				crypto_wipe(norm, sizeof norm);
				return TWOFA_ANSWERED;
			}
			match = totp_verify(secret, sizeof secret, norm,
			    TOTP_DIGITS, (long long)time(NULL), &step) == 0;
			crypto_wipe(secret, sizeof secret);
		}
		crypto_wipe(norm, sizeof norm);
		if (!match)
			return TWOFA_WRONG;
		st = db_exec(req->arena, STMT_totp_use, &r, DB_TEXT(u->id),
		    DB_INT(step), DB_TEXT(req->ip), DB_TEXT(req->user_agent));
		if (st != DB_OK || PQntuples(r) != 1) {
			respond_db_error(req, st != DB_OK ? st : DB_ERROR,
			    "totp use");
			return TWOFA_ANSWERED;
		}
		if (db_bool(r, 0, 0))
			return TWOFA_OK;
		req->mail_queued = 1;
		log_event("warning", "twofa_replay", LF_S("userId", u->id),
		    LF_S("email", u->email), LF_S("ip", req->ip));
		return TWOFA_REPLAY;
	}
	crypto_wipe(norm, sizeof norm);
	if (twofa_recovery_hash(code, len, hash) < 0)
		return TWOFA_WRONG;
	st = db_exec(req->arena, STMT_recovery_use, &r, DB_TEXT(u->id),
	    DB_BYTES(hash, sizeof hash));
	if (st != DB_OK) {
		respond_db_error(req, st, "recovery code");
		return TWOFA_ANSWERED;
	}
	if (PQntuples(r) != 1)
		return TWOFA_WRONG;
	log_event("info", "recovery_code_used", LF_S("userId", u->id),
	    LF_S("ip", req->ip));
	return TWOFA_OK;
}
