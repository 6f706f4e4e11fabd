/*
 * mail/mail.c -- delivery of the mail queue (see mail.h).
 *
 * A message is rendered at delivery from its row: the kind picks the
 * subject and the body, and a reset link's token is derived again from the
 * row's nonce, so neither the queue nor a log holds a working secret.  The
 * rendered message lives in the caller's arena only while the transport
 * takes it, and is wiped then.  Every header value is checked for line
 * breaks here, whatever checked it before: the address by the email rules,
 * the From: and the URL although config_load refused them already.
 *
 * Delivery is at least once: a crash after the transport took a message
 * and before sent_at is written sends it again when the lease runs out.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/validate.h"
#include "db/db.h"
#include "mail/mail.h"

#define LEASE_SECONDS 60
#define SENDMAIL_TIMEOUT_MS MAIL_SENDMAIL_TIMEOUT_MS
/* A claimed message is started only while this much of its lease is left
 * (the slowest transport and the statements around it); the rest go back
 * to the queue unattempted. */
#define LEASE_RESERVE_MS (SENDMAIL_TIMEOUT_MS + 10000)
#define LINE_MAX_BYTES 998 /* RFC 5322 2.1.1, without the CRLF */
#define STATUS_FAILED_MAX 20

/* mail_claim's columns. */
enum { CLAIM_ID, CLAIM_KIND, CLAIM_TO, CLAIM_NONCE, CLAIM_ATTEMPTS,
	CLAIM_CREATED, CLAIM_AGE, CLAIM_IP, CLAIM_USER_AGENT };
/* mail_status's; mail_status_failed's. */
enum { STATUS_DUE, STATUS_LATER, STATUS_CLAIMED, STATUS_FAILED,
	STATUS_NEVER, STATUS_SENT };
enum { FAILED_ID, FAILED_KIND, FAILED_ATTEMPTS, FAILED_NEXT, FAILED_ERROR };

/* ---- rendering ---------------------------------------------------------- */

/* A message being written into one arena buffer of fixed size; full once
 * something did not fit (the text is then incomplete). */
struct buf {
	char *p;
	size_t len, cap;
	int full;
};

static void buf_add(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->full = 1;
		b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

/* 1 when s is a usable header value: not empty, no CR, LF nor other
 * control character (a tab is folding whitespace and allowed), short
 * enough for one line. */
static int
header_ok(const char *s)
{
	const unsigned char *p;

	if (s == NULL || *s == '\0' || strlen(s) > LINE_MAX_BYTES - 64)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
	"Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

int
mail_date(time_t t, char out[MAIL_DATE_LEN + 1])
{
	struct tm tm;

	/* By hand, not strftime: the names must not follow the locale. */
	out[0] = '\0';
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999)
		return -1;
	snprintf(out, MAIL_DATE_LEN + 1,
	    "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
	    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	return 0;
}

int
mail_link_secret(const unsigned char nonce[32], struct secret *out)
{
	static const unsigned char zero[sizeof cfg.mail_key];

	/* An all-zero key (no JWT key loaded) would make every token
	 * derivable from the queue alone: refuse. */
	if (crypto_equal(cfg.mail_key, sizeof cfg.mail_key, zero,
	    sizeof zero)) {
		secret_wipe(out);
		return -1;
	}
	return secret_derive(out, cfg.mail_key, nonce, 32);
}

/* The bodies of the kinds, on b (CRLF lines); -1 when the message's
 * secret cannot be made. */
static int
body_reset(struct buf *b, const struct mail_msg *m)
{
	struct secret s;
	long min = cfg.reset_ttl / 60 > 0 ? cfg.reset_ttl / 60 : 1;

	if (mail_link_secret(m->nonce, &s) < 0)
		return -1;
	buf_add(b, "Hello,\r\n"
	    "\r\n"
	    "Someone asked to reset the password of the account for this\r\n"
	    "email address. To choose a new password, open this link:\r\n"
	    "\r\n"
	    "%s/reset-password?token=%s\r\n"
	    "\r\n"
	    "The link works once and expires in %ld minute%s.\r\n"
	    "\r\n"
	    "If you did not ask for this, you can ignore this message:\r\n"
	    "nothing changes until the link is used.\r\n",
	    cfg.public_url, s.text, min, min == 1 ? "" : "s");
	secret_wipe(&s);
	return 0;
}

static int
body_password_changed(struct buf *b, const struct mail_msg *m)
{
	(void)m;
	buf_add(b, "Hello,\r\n"
	    "\r\n"
	    "The password of the account for this email address was just\r\n"
	    "changed. If that was you, there is nothing to do.\r\n"
	    "\r\n"
	    "If it was not you, reset your password now at\r\n"
	    "\r\n"
	    "%s/forgot-password\r\n"
	    "\r\n"
	    "and contact support.\r\n",
	    cfg.public_url);
	return 0;
}

static int
body_verify(struct buf *b, const struct mail_msg *m)
{
	struct secret s;
	long h = cfg.verify_ttl / 3600 > 0 ? cfg.verify_ttl / 3600 : 1;

	if (mail_link_secret(m->nonce, &s) < 0)
		return -1;
	buf_add(b, "Hello,\r\n"
	    "\r\n"
	    "Please confirm that this email address is yours by opening\r\n"
	    "this link:\r\n"
	    "\r\n"
	    "%s/verify-email?token=%s\r\n"
	    "\r\n"
	    "The link works once and expires in %ld hour%s.\r\n"
	    "\r\n"
	    "If you did not create an account, you can ignore this message.\r\n",
	    cfg.public_url, s.text, h, h == 1 ? "" : "s");
	secret_wipe(&s);
	return 0;
}

/* What a sign-in notice tells of the sign-in: one line each, the values
 * checked like header values (they come from the request). */
static void
signin_lines(struct buf *b, const struct mail_msg *m)
{
	char when[MAIL_DATE_LEN + 1];

	if (mail_date(m->date, when) < 0)
		snprintf(when, sizeof when, "unknown");
	buf_add(b, "  Time:       %s\r\n"
	    "  Address:    %s\r\n"
	    "  User agent: %s\r\n",
	    when, header_ok(m->ip) ? m->ip : "unknown",
	    header_ok(m->user_agent) ? m->user_agent : "unknown");
}

static int
body_new_login(struct buf *b, const struct mail_msg *m)
{
	buf_add(b, "Hello,\r\n"
	    "\r\n"
	    "There was a new sign-in to your account from an address it has\r\n"
	    "not been used from before:\r\n"
	    "\r\n");
	signin_lines(b, m);
	buf_add(b, "\r\n"
	    "If that was you, there is nothing to do.\r\n"
	    "\r\n"
	    "If it was not you, change your password now (or reset it at\r\n"
	    "%s/forgot-password): that ends every session and\r\n"
	    "token of your account. To end single browser sessions, list\r\n"
	    "them (GET %s/me/sessions) and end the ones you do not know\r\n"
	    "(DELETE %s/me/sessions/<id>).\r\n",
	    cfg.public_url, cfg.public_url, cfg.public_url);
	return 0;
}

static int
body_twofa_replay(struct buf *b, const struct mail_msg *m)
{
	buf_add(b, "Hello,\r\n"
	    "\r\n"
	    "Someone just tried to sign in to your account with a two-factor\r\n"
	    "code of yours that had already been used. It was refused:\r\n"
	    "\r\n");
	signin_lines(b, m);
	buf_add(b, "\r\n"
	    "A used code only works for someone who knows your password and\r\n"
	    "saw one of your codes. Change your password now, or reset it at\r\n"
	    "\r\n"
	    "%s/forgot-password\r\n",
	    cfg.public_url);
	return 0;
}

static int
body_twofa_enabled(struct buf *b, const struct mail_msg *m)
{
	(void)m;
	buf_add(b, "Hello,\r\n"
	    "\r\n"
	    "Two-factor authentication was just turned on for the account\r\n"
	    "for this email address, and its other sessions were ended.\r\n"
	    "\r\n"
	    "If it was not you, someone else holds a session of yours and\r\n"
	    "now the second factor too: a password reset alone will not let\r\n"
	    "you back in. Reset your password at\r\n"
	    "\r\n"
	    "%s/forgot-password\r\n"
	    "\r\n"
	    "and ask the site's operator to turn two-factor authentication\r\n"
	    "off for your account (bulwark user 2fa-off).\r\n",
	    cfg.public_url);
	return 0;
}

static int
body_twofa_disabled(struct buf *b, const struct mail_msg *m)
{
	(void)m;
	buf_add(b, "Hello,\r\n"
	    "\r\n"
	    "Two-factor authentication was just turned off for the account\r\n"
	    "for this email address, and its other sessions were ended.\r\n"
	    "\r\n"
	    "If it was not you, reset your password now at\r\n"
	    "\r\n"
	    "%s/forgot-password\r\n",
	    cfg.public_url);
	return 0;
}

static const struct kind {
	const char *name;
	const char *subject;
	int needs_nonce;
	int (*body)(struct buf *, const struct mail_msg *);
} kinds[] = {
	{ "reset", "Reset your password", 1, body_reset },
	{ "password_changed", "Your password was changed", 0,
	    body_password_changed },
	{ "verify", "Confirm your email address", 1, body_verify },
	{ "new_login", "A new sign-in to your account", 0, body_new_login },
	{ "twofa_replay", "A used two-factor code of yours was tried", 0,
	    body_twofa_replay },
	{ "twofa_enabled", "Two-factor authentication was turned on", 0,
	    body_twofa_enabled },
	{ "twofa_disabled", "Two-factor authentication was turned off", 0,
	    body_twofa_disabled },
};

enum mail_err
mail_render(struct arena *a, const struct mail_msg *m, char **out,
    size_t *len, const char **why)
{
	char date[MAIL_DATE_LEN + 1], to[EMAIL_MAX + 1], mid[33];
	unsigned char rnd[16];
	const struct kind *k = NULL;
	struct buf b = { NULL, 0, 0, 0 };
	enum mail_err rc = MAIL_NEVER;
	size_t i;

	*out = NULL;
	*len = 0;
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (m->kind != NULL && strcmp(m->kind, kinds[i].name) == 0)
			k = &kinds[i];
	if (k == NULL) {
		*why = "unknown kind";
		goto out;
	}
	/* The address: one line, no blank, and a valid email (check_email
	 * trims blanks, hence the explicit test). */
	if (!header_ok(m->to) || strpbrk(m->to, " \t") != NULL ||
	    check_email(m->to, strlen(m->to), to, sizeof to) != NULL) {
		*why = "the To address is not a valid email address";
		goto out;
	}
	if (k->needs_nonce && m->nonce == NULL) {
		*why = "no nonce for the token";
		goto out;
	}
	if (mail_date(m->date, date) < 0) {
		*why = "the date is out of range";
		goto out;
	}
	/* What follows is the configuration's or the moment's: it may pass. */
	rc = MAIL_RETRY;
	if (!header_ok(cfg.mail_from) || !header_ok(k->subject)) {
		*why = "BULWARK_MAIL_FROM is not a valid header value";
		goto out;
	}
	if (!header_ok(cfg.public_url) || strpbrk(cfg.public_url, " \t") !=
	    NULL || strlen(cfg.public_url) > LINE_MAX_BYTES - 100) {
		*why = "BULWARK_PUBLIC_URL is not usable in a link";
		goto out;
	}
	if (crypto_random(rnd, sizeof rnd) < 0) {
		*why = "the random generator failed";
		goto out;
	}
	hex_encode(rnd, sizeof rnd, mid);
	b.cap = 2048 + strlen(cfg.mail_from) + strlen(to) +
	    2 * strlen(cfg.public_url);
	if ((b.p = arena_alloc(a, b.cap)) == NULL) {
		*why = "out of memory";
		goto out;
	}
	buf_add(&b, "Date: %s\r\n"
	    "From: %s\r\n"
	    "To: %s\r\n"
	    "Subject: %s\r\n"
	    "Message-ID: <%lld.%s@bulwark>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "\r\n",
	    date, cfg.mail_from, to, k->subject, m->id, mid);
	if (k->body(&b, m) < 0) {
		*why = "the message's secret could not be derived";
		goto out;
	}
	if (b.full) {
		*why = "the message is too long";
		goto out;
	}
	*out = b.p;
	*len = b.len;
	rc = MAIL_OK;
out:
	if (rc != MAIL_OK && b.p != NULL)
		crypto_wipe(b.p, b.cap);
	return rc;
}

/* ---- transports --------------------------------------------------------- */

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
mail_send_file(const char *dir, long long id, time_t now, const char *msg,
    size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int fd = -1, dfd, made = 0, rc = -1, n1, n2;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mail directory: %s", strerror(errno));
		goto out;
	}
	n1 = snprintf(tmp, sizeof tmp, "%s/.tmp.%lld.%ld", dir, id,
	    (long)getpid());
	n2 = snprintf(dst, sizeof dst, "%s/%lld-%lld.eml", dir,
	    (long long)now, id);
	if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof tmp ||
	    (size_t)n2 >= sizeof dst) {
		snprintf(err, errlen, "mail directory: name too long");
		goto out;
	}
	fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	/* Left by a worker of the same pid that died writing this message:
	 * ours to replace (O_EXCL again, so never through a link). */
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "open: %s", strerror(errno));
		goto out;
	}
	made = 1;
	if (write_all(fd, msg, len) < 0) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		goto out;
	}
	if (fsync(fd) < 0) {
		snprintf(err, errlen, "fsync: %s", strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "close: %s", strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, dst) < 0) {
		snprintf(err, errlen, "rename: %s", strerror(errno));
		goto out;
	}
	made = 0;
	/* The rename itself on disk; best effort, the message is there. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp);
	return rc;
}

/* The child: the pipe on standard input, standard output to /dev/null,
 * standard error kept (the operator's), every other descriptor closed,
 * default signals, its own process group (killed whole on timeout).
 * Only async-signal-safe calls; never returns. */
static void
sendmail_child(int in, const char *prog)
{
	char *argv[] = { (char *)"sendmail", (char *)"-t", (char *)"-i", NULL };
	struct sigaction sa;
	sigset_t none;
	long fd, max;
	int null;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setpgid(0, 0);
	if (in == 0)
		(void)fcntl(0, F_SETFD, 0); /* it was O_CLOEXEC */
	else if (dup2(in, 0) < 0)
		_exit(127);
	if ((null = open("/dev/null", O_WRONLY)) >= 0 && null != 1)
		(void)dup2(null, 1);
	if (close_range(3, ~0U, 0) < 0) {
		max = sysconf(_SC_OPEN_MAX);
		if (max < 0 || max > 65536)
			max = 65536;
		for (fd = 3; fd < max; fd++)
			(void)close((int)fd);
	}
	execv(prog, argv);
	_exit(127);
}

/* Reaps pid before deadline (clock_ms): 0 and *status, 1 on timeout (the
 * child still runs), -1 when waitpid fails. */
static int
reap(pid_t pid, long long deadline, int *status)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	pid_t w;

	for (;;) {
		if ((w = waitpid(pid, status, WNOHANG)) == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -1;
		if (clock_ms() >= deadline)
			return 1;
		nanosleep(&ts, NULL);
	}
}

int
mail_send_sendmail(const char *prog, const char *msg, size_t len,
    long timeout_ms, char *err, size_t errlen)
{
	struct sigaction dfl, old;
	struct pollfd pfd;
	long long deadline = clock_ms() + timeout_ms, left;
	int p[2] = { -1, -1 }, status = 0, werr = 0, timed_out = 0, rc = -1;
	size_t off = 0;
	ssize_t w;
	pid_t pid = -1;

	err[0] = '\0';
	/* SIGCHLD ignored would reap the child behind our back (and its pid
	 * could be another's by the time we kill): the default until done. */
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old);
	if (access(prog, X_OK) < 0) {
		snprintf(err, errlen, "sendmail: %s", strerror(errno));
		goto out;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		sendmail_child(p[0], prog);
	(void)setpgid(pid, pid); /* either side may win; both ask the same */
	close(p[0]);
	p[0] = -1;
	/* Non-blocking, so that a child that never reads cannot hold us past
	 * the deadline. */
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0)
		werr = errno;
	while (werr == 0 && off < len) {
		if ((w = write(p[1], msg + off, len - off)) >= 0) {
			off += (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			werr = errno; /* EPIPE: gone; its status says why */
			break;
		}
		if ((left = deadline - clock_ms()) <= 0) {
			timed_out = 1;
			break;
		}
		pfd.fd = p[1];
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			werr = errno;
			break;
		}
	}
	close(p[1]);
	p[1] = -1;
	if (!timed_out) {
		switch (reap(pid, deadline, &status)) {
		case 0:
			pid = -1;
			break;
		case 1:
			timed_out = 1;
			break;
		default:
			snprintf(err, errlen, "wait: %s", strerror(errno));
			if (errno == ECHILD)
				pid = -1; /* gone: nothing to kill */
			goto out;
		}
	}
	if (timed_out)
		snprintf(err, errlen, "timeout");
	else if (WIFSIGNALED(status))
		snprintf(err, errlen, "signal %d", WTERMSIG(status));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		snprintf(err, errlen, "exit %d", WEXITSTATUS(status));
	else if (werr != 0)
		snprintf(err, errlen, "write: %s", strerror(werr));
	else
		rc = 0;
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	if (pid > 0) {
		/* Still running (a timeout, a failed wait): kill and reap. */
		if (kill(-pid, SIGKILL) < 0)
			(void)kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	sigaction(SIGCHLD, &old, NULL);
	return rc;
}

/* ---- delivery ----------------------------------------------------------- */

long
mail_backoff(long base, long attempts)
{
	long d = base > 0 ? base : 1, i;

	for (i = 1; i < attempts && d < MAIL_RETRY_MAX; i++)
		d *= 2;
	return d < MAIL_RETRY_MAX ? d : MAIL_RETRY_MAX;
}

static int
transport(long long id, const char *msg, size_t len, char *err,
    size_t errlen)
{
	if (cfg.mail_transport == MAIL_FILE) {
		if (cfg.mail_dir == NULL) {
			snprintf(err, errlen, "BULWARK_MAIL_DIR is not set");
			return -1;
		}
		return mail_send_file(cfg.mail_dir, id, time(NULL), msg, len,
		    err, errlen);
	}
	if (mail_helper_active()) /* a sandboxed worker: helper.c */
		return mail_helper_send(msg, len, err, errlen);
	return mail_send_sendmail(cfg.sendmail, msg, len, SENDMAIL_TIMEOUT_MS,
	    err, errlen);
}

/* Delivers row i of the claim r and records the outcome: 1 sent, 0 failed
 * (recorded), -1 when the outcome could not be recorded (the database). */
static int
deliver_one(struct arena *a, PGresult *r, int i, long base)
{
	struct mail_msg m;
	unsigned char nonce[32];
	char err[256], *msg = NULL;
	const char *why = "";
	size_t len = 0;
	long attempts, delay;
	enum mail_err e = MAIL_NEVER;
	PGresult *x;
	int rc = -1;

	memset(nonce, 0, sizeof nonce);
	err[0] = '\0';
	m.id = db_int(r, i, CLAIM_ID);
	m.kind = db_text(r, i, CLAIM_KIND);
	m.to = db_text(r, i, CLAIM_TO);
	m.nonce = NULL;
	m.date = (time_t)db_int(r, i, CLAIM_CREATED);
	m.ip = PQgetisnull(r, i, CLAIM_IP) ? NULL : db_text(r, i, CLAIM_IP);
	m.user_agent = PQgetisnull(r, i, CLAIM_USER_AGENT) ? NULL :
	    db_text(r, i, CLAIM_USER_AGENT);
	attempts = (long)db_int(r, i, CLAIM_ATTEMPTS);
	if (!PQgetisnull(r, i, CLAIM_NONCE)) {
		if (hex_decode(db_text(r, i, CLAIM_NONCE), nonce,
		    sizeof nonce) < 0) {
			why = "the nonce is not 32 bytes";
			goto record;
		}
		m.nonce = nonce;
	}
	/* reset_tokens.expires_at is the queue time plus the same TTL: the
	 * link would not work any more. */
	if ((strcmp(m.kind, "reset") == 0 &&
	    db_int(r, i, CLAIM_AGE) >= cfg.reset_ttl) ||
	    (strcmp(m.kind, "verify") == 0 &&
	    db_int(r, i, CLAIM_AGE) >= cfg.verify_ttl)) {
		why = "expired before it could be sent";
		goto record;
	}
	if ((e = mail_render(a, &m, &msg, &len, &why)) != MAIL_OK)
		goto record;
	e = transport(m.id, msg, len, err, sizeof err) == 0 ? MAIL_OK :
	    MAIL_RETRY;
	why = err;
	crypto_wipe(msg, len);
record:
	crypto_wipe(nonce, sizeof nonce);
	if (e == MAIL_OK) {
		log_event("info", "mail_sent", LF_I("id", m.id),
		    LF_S("kind", m.kind));
		if (db_exec(a, STMT_mail_sent, &x, DB_INT(m.id)) == DB_OK)
			rc = 1;
		goto out;
	}
	delay = mail_backoff(base, attempts);
	log_event("warning", "mail_failed", LF_I("id", m.id),
	    LF_S("kind", m.kind), LF_I("attempts", attempts),
	    LF_S("error", why), LF_S("final", e == MAIL_NEVER ? "yes" : NULL));
	if (db_exec(a, STMT_mail_failed, &x, DB_INT(m.id), DB_TEXT(why),
	    e == MAIL_NEVER ? DB_TEXT(NULL) : DB_INT(delay)) == DB_OK)
		rc = 0;
out:
	return rc;
}

int
mail_deliver(struct arena *a, int max)
{
	PGresult *r, *x;
	long long t0 = clock_ms();
	long base = cfg.mail_retry_seconds;
	int i, n, got, sent = 0, rc = -1;

	if (max <= 0) {
		rc = 0;
		goto out;
	}
	if (db_exec(a, STMT_mail_claim, &r, DB_INT(max),
	    DB_INT(LEASE_SECONDS)) != DB_OK)
		goto out;
	n = PQntuples(r);
	for (i = 0; i < n; i++) {
		/* No time left under the lease: another worker could take the
		 * message while we send it.  Hand the rest back. */
		if (clock_ms() - t0 > LEASE_SECONDS * 1000 - LEASE_RESERVE_MS) {
			for (; i < n; i++)
				(void)db_exec(a, STMT_mail_release, &x,
				    DB_INT(db_int(r, i, CLAIM_ID)));
			break;
		}
		if ((got = deliver_one(a, r, i, base)) < 0)
			goto out;
		sent += got;
	}
	rc = sent;
out:
	return rc;
}

/* ---- mail-status -------------------------------------------------------- */

/* s with every control character as '?', in arena memory (s itself when
 * out of memory: then it is printed as it is). */
static const char *
printable(struct arena *a, const char *s)
{
	char *c, *p;

	if ((c = arena_strdup(a, s)) == NULL)
		return s;
	for (p = c; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

int
mail_status(FILE *out, struct arena *a)
{
	PGresult *r, *f;
	enum db_status st;
	long long attempts;
	int i, n, rc = -1;

	if ((st = db_exec(a, STMT_mail_status, &r)) != DB_OK ||
	    PQntuples(r) != 1 ||
	    (st = db_exec(a, STMT_mail_status_failed, &f,
	    DB_INT(STATUS_FAILED_MAX))) != DB_OK) {
		fprintf(stderr, "bulwark: mail-status: %s\n",
		    st == DB_UNAVAILABLE ? "the database is unavailable" :
		    "the query failed");
		goto out;
	}
	fprintf(out, "pending, due now: %lld (%lld being delivered)\n",
	    db_int(r, 0, STATUS_DUE), db_int(r, 0, STATUS_CLAIMED));
	fprintf(out, "pending, due later: %lld\n", db_int(r, 0, STATUS_LATER));
	fprintf(out, "failed: %lld (%lld for good)\n",
	    db_int(r, 0, STATUS_FAILED), db_int(r, 0, STATUS_NEVER));
	fprintf(out, "sent in the last 24 h: %lld\n",
	    db_int(r, 0, STATUS_SENT));
	n = PQntuples(f);
	for (i = 0; i < n; i++) {
		attempts = db_int(f, i, FAILED_ATTEMPTS);
		fprintf(out, "failed #%lld %s: %lld attempt%s, %s%s, "
		    "last error: %s\n", db_int(f, i, FAILED_ID),
		    printable(a, db_text(f, i, FAILED_KIND)), attempts,
		    attempts == 1 ? "" : "s",
		    PQgetisnull(f, i, FAILED_NEXT) ? "never again" :
		    "next attempt ",
		    PQgetisnull(f, i, FAILED_NEXT) ? "" :
		    rfc3339(a, db_text(f, i, FAILED_NEXT)),
		    printable(a, db_text(f, i, FAILED_ERROR)));
	}
	if (n == STATUS_FAILED_MAX)
		fprintf(out, "(the newest %d failed shown)\n",
		    STATUS_FAILED_MAX);
	rc = fflush(out) == 0 ? 0 : -1;
out:
	return rc;
}
