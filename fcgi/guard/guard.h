/*
 * guard/guard.h -- the defenses: rate limits, lockout, the hardened login,
 * CSRF.  Every counter lives in PostgreSQL, so every worker and every host
 * shares one budget exactly.
 */
#ifndef GUARD_GUARD_H
#define GUARD_GUARD_H

#include "auth/auth.h"
#include "db/db.h"
#include "http/http.h"

struct limit_result {
	int allowed;
	long long retry_after_ms; /* when !allowed */
};

/* ---- rate_limit.c ------------------------------------------------------- */

/* Counts one hit on key against limit per window_s seconds. */
enum db_status rate_limit_hit(struct request *, const char *key, long limit,
    long window_s, struct limit_result *);
/* rate_limit_hit that answers for itself: 0 when allowed; otherwise the
 * 429 (logged as rate_limited with key kind, and email when not NULL) or
 * the database error has been sent and -1 is returned. */
int rate_limit_enforce(struct request *, const char *key, long limit,
    long window_s, const char *kind, const char *email, const char *message);

/* ---- lockout.c ---------------------------------------------------------- */

/* Whether email is locked now, and for how long (a read, no count). */
enum db_status lockout_check(struct request *, const char *email,
    struct limit_result *);
/* Reserves one password check for email before the hash, atomically:
 * allowed, and counted as a failed attempt already (*now_locked: this one
 * reached the threshold and locked the email, its own check still goes
 * ahead); or not allowed while the email is locked.  After the hash: a
 * wrong password needs nothing more; a login that succeeds calls
 * lockout_clear; a right password that is no login (the two-factor step
 * still to come, a password check) calls lockout_release. */
enum db_status lockout_reserve(struct request *, const char *email,
    struct limit_result *, int *now_locked);
/* Gives a reservation back: one failure less, and the lock lifted when
 * undo_lock (that reservation's *now_locked). */
enum db_status lockout_release(struct request *, const char *email,
    int undo_lock);
enum db_status lockout_clear(struct request *, const char *email);

/* ---- login.c ------------------------------------------------------------ */

/* The hardened login (API.md "Login"): validates the body and runs every
 * check.  0 with *u filled (strings in the request's arena) when the
 * password is right; -1 when a response has been sent.  The one function
 * /login and /token/login call, so both draw on one budget. */
int login_attempt(struct request *, struct user *u);

/* A password check outside login (the current password of /me/password,
 * later that of /me/2fa/disable): each is a password oracle too, so it
 * draws on the login budget, the per-email limit and the lockout, and a
 * wrong password counts as a failed login for that email.  0 when pw is
 * u's password (u->password_hash is then filled, arena memory); -1 after
 * the answer: 429, or 401 {"error":"Invalid password"}. */
int login_password_check(struct request *, struct user *u, const char *pw,
    size_t len);

/* ---- twofa.c: the second factor ----------------------------------------- */

#define TWOFA_RECOVERY_CODES 10
#define TWOFA_RECOVERY_LEN 19 /* "ABCD-EFGH-IJKL-MNOP": 80 bits, base32 */

enum twofa_result {
	TWOFA_OK,       /* a valid code, spent now */
	TWOFA_WRONG,    /* not a valid code of u's */
	TWOFA_REPLAY,   /* a valid TOTP code whose step was used (logged
	                   twofa_replay, the user mailed) */
	TWOFA_ANSWERED, /* 503 or 500 sent (no data key, the database) */
};

/* Checks code (as typed: blanks and dashes ignored) for u, whose
 * totp_sealed and totp_kid the caller loaded (user_by_email): a TOTP code
 * for the steps around now, spent by compare-and-set, or an unused
 * recovery code, spent.  The caller counts TWOFA_WRONG and TWOFA_REPLAY
 * as failed attempts and answers them. */
enum twofa_result twofa_check(struct request *, const struct user *u,
    const char *code, size_t len);
/* Opens a sealed TOTP secret (hex of what sql/ stores) of user_id with the
 * data key kid: 0, or -1 after answering 503 (the key is not configured)
 * or 500 (it does not open).  The caller wipes secret. */
int twofa_open(struct request *, const char *user_id, const char *sealed_hex,
    const char *kid, unsigned char secret[20]);
/* A TOTP code as typed (blanks and dashes ignored) against secret for the
 * steps around now: 0 with *step set, or -1.  Spends nothing. */
int twofa_totp_match(const unsigned char secret[20], const char *code,
    size_t len, long long *step);
/* Ten fresh recovery codes as shown to the user, and the SHA-256 of each
 * as stored.  0, or -1 (all wiped) when the generator fails. */
int twofa_recovery_codes(char codes[TWOFA_RECOVERY_CODES][TWOFA_RECOVERY_LEN + 1],
    unsigned char hashes[TWOFA_RECOVERY_CODES * 32]);
/* The stored form of a recovery code as typed: 0, or -1 when it is not
 * one (wrong length or alphabet). */
int twofa_recovery_hash(const char *code, size_t len, unsigned char out[32]);

/* ---- csrf.c ------------------------------------------------------------- */

/* 0 when the request carries the X-CSRF-Token of the session whose
 * cookie hashes to sid_hash; else sends 403. */
int csrf_check(struct request *, const unsigned char sid_hash[32]);
/* 0 when the request's Origin (else Referer; neither: 0) is its own host
 * or one of BULWARK_CORS_ORIGINS; else sends 403 {"error":"Origin not
 * allowed"}, logged as origin_rejected. */
int origin_check(struct request *);

#endif
