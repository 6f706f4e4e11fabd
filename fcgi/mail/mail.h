/*
 * mail/mail.h -- the mail queue's far end: delivery of bulwark.mail_queue.
 *
 * A route queues a message (a kind and its values) in the statement that
 * causes it; the worker, after the response, claims what is due with a
 * lease, renders each message by its kind (RFC 5322, CRLF), hands it to
 * the transport (a file in BULWARK_MAIL_DIR, or sendmail -t -i) and
 * records the outcome.  A reset link's token is never stored: it is
 * derived from the row's nonce with cfg.mail_key, here and at queue time.
 *
 * Above core/ and db/, beside auth/ (neither knows the other); cmd/ calls
 * it, routes/ derives the reset secret with it.  Never logs a token, an
 * address or a message body.
 */
#ifndef MAIL_MAIL_H
#define MAIL_MAIL_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "core/arena.h"
#include "core/crypto.h"

/* The secret of a queued message's link (a reset or a verification
 * token): derived from its nonce with
 * cfg.mail_key (secret_derive), the same at queue time (the route stores
 * its hash in reset_tokens) and at delivery (the link holds its text).
 * -1 (out wiped) when HMAC fails or there is no key (cfg.mail_key all
 * zero: no JWT key loaded).  The caller secret_wipes out. */
int mail_link_secret(const unsigned char nonce[32], struct secret *out);

/* Delivers up to max due messages: claims them with a lease (claimed_until
 * = now() + 60 s, attempts + 1) in one statement (FOR UPDATE SKIP LOCKED, so
 * workers never wait on each other nor take the same message), renders each
 * by its kind, hands it to the transport, and records success (sent_at) or
 * failure (last_error without any secret, next_attempt_at pushed back:
 * cfg-independent backoff of retry_base * 2^(attempts-1) seconds capped at
 * 1 hour, where retry_base is the BULWARK_MAIL_RETRY_SECONDS env/config
 * value read via config_get, default 60, 1..3600). A message that can never
 * be sent (unknown kind, a To with CR/LF) is marked failed for good (e.g.
 * next_attempt_at 'infinity', last_error says why). Returns the number
 * sent, or -1 when the database is away. Uses the worker's connection
 * through db_exec with arena a (the caller resets it). Never logs a token
 * or a message body; logs mail_sent {id, kind} and mail_failed {id, kind,
 * attempts, error}.
 *
 * Also failed for good: a reset message whose token has expired by now
 * (older than cfg.reset_ttl), a verification older than cfg.verify_ttl,
 * a message that needs a nonce without one.  Claimed messages
 * it has no time left for under the lease are handed back unattempted. */
int mail_deliver(struct arena *a, int max);

/* `bulwark mail-status`: what is pending (due now / later), failed
 * (attempts > 0 and not sent, with their last_error), sent in the last
 * 24 h; one line each, no addresses' secrets.  0, or -1 (message on
 * stderr) when the database is away.  Prints no address either. */
int mail_status(FILE *out, struct arena *a);

/* ---- the parts of delivery, for the unit test --------------------------- */

/* How a step ended: MAIL_OK; MAIL_RETRY, a failure that may pass (the
 * transport, memory, the random generator, the configuration); MAIL_NEVER,
 * this message can never be sent (its row is wrong). */
enum mail_err { MAIL_OK = 0, MAIL_RETRY, MAIL_NEVER };

/* One queued message as its row gives it; the strings are the caller's. */
struct mail_msg {
	long long id;
	const char *kind;           /* "reset", "verify", "new_login", ... */
	const char *to;             /* the To: address, checked here */
	const unsigned char *nonce; /* 32 bytes, or NULL */
	time_t date;                /* the Date: header (when it was queued) */
	const char *ip;             /* a sign-in notice's address, or NULL */
	const char *user_agent;     /* ... and user agent, or NULL */
};

#define MAIL_DATE_LEN 31 /* "Tue, 01 Dec 2026 20:46:10 +0000" */

/* t as an RFC 5322 date in UTC into out.  0, or -1 (out "") for a time
 * gmtime cannot convert or past the year 9999. */
int mail_date(time_t t, char out[MAIL_DATE_LEN + 1]);

/* Renders m: the headers (every value checked for CR, LF and other
 * controls, the To: address by the email rules) and the body of its kind,
 * all lines ending in CRLF, on cfg.mail_from, cfg.public_url and
 * cfg.reset_ttl.  MAIL_OK: *out is the NUL-terminated message, *len bytes,
 * in arena memory; it holds the message's secret, so the caller
 * crypto_wipes it (*len bytes) once the transport has it.  Otherwise *out
 * is NULL and *why a static reason that names no secret nor address. */
enum mail_err mail_render(struct arena *, const struct mail_msg *m,
    char **out, size_t *len, const char **why);

/* The file transport: msg[0..len) written whole under a temporary name in
 * dir (made mode 0700 if missing, one level), fsynced, then renamed to
 * "<now>-<id>.eml".  0, or -1 with the reason in err (no temporary file
 * left behind). */
int mail_send_file(const char *dir, long long id, time_t now,
    const char *msg, size_t len, char *err, size_t errlen);
/* The sendmail transport: prog run as "sendmail -t -i" with msg[0..len) on
 * its standard input, killed (its process group) after timeout_ms.  0 when
 * it took all of it and exited 0; else -1 and err says "exit N",
 * "signal N", "timeout" or what failed.  Needs SIGPIPE ignored (the
 * worker does): a reader gone early is a write error. */
int mail_send_sendmail(const char *prog, const char *msg, size_t len,
    long timeout_ms, char *err, size_t errlen);

#define MAIL_SENDMAIL_TIMEOUT_MS 30000 /* the most a sendmail may take */

/* ---- helper.c: sendmail for a worker that may not exec ------------------ */

/* Forks the helper that runs sendmail for this process from now on (call
 * it before a seccomp filter forbids fork and exec).  0, or -1 with the
 * reason in err.  The helper ends with the process. */
int mail_helper_start(char *err, size_t errlen);
/* 1 once mail_helper_start succeeded (even if the helper died since). */
int mail_helper_active(void);
/* mail_send_sendmail through the helper: the same results. */
int mail_helper_send(const char *msg, size_t len, char *err, size_t errlen);

#define MAIL_RETRY_MAX 3600 /* seconds: the longest wait between attempts */

/* Seconds before the next attempt after the attempts-th failed:
 * base * 2^(attempts-1), at most MAIL_RETRY_MAX. */
long mail_backoff(long base, long attempts);

#endif
