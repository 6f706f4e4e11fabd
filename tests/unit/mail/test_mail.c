/*
 * test_mail.c -- the parts of mail delivery that stand alone: the RFC 5322
 * date, the reset secret, rendering (headers, CRLF, refusals of anything
 * that could inject a header, the links), the backoff, and the file and
 * sendmail transports in a temporary directory.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/crypto.h"
#include "mail/mail.h"
#include "tap.h"

#define LEAK_FD 57
#define DEC_2026 1796157970 /* Tue, 01 Dec 2026 20:46:10 +0000 */
/* base64url(HMAC-SHA256(key 00 01 .. 1f, 32 bytes of 0xab)), by Python. */
#define VECTOR_TOKEN "3ilecocSvmO2NSkHsfd8u0Q36BXADBen_PhmcLIUGvE"

static struct arena arena;
static unsigned char nonce_ab[32];
static char tmpdir[64];

static void
configure(void)
{
	size_t i;

	for (i = 0; i < sizeof cfg.mail_key; i++)
		cfg.mail_key[i] = (unsigned char)i;
	memset(nonce_ab, 0xab, sizeof nonce_ab);
	cfg.mail_from = (char *)"Bulwark <no-reply@example.test>";
	cfg.public_url = (char *)"https://auth.example.test";
	cfg.reset_ttl = 3600;
}

static void
test_date(void)
{
	char d[MAIL_DATE_LEN + 1];

	ok(mail_date(DEC_2026, d) == 0, "mail_date succeeds");
	is_str(d, "Tue, 01 Dec 2026 20:46:10 +0000", "RFC 5322 date, UTC");
	ok(strlen(d) == MAIL_DATE_LEN, "MAIL_DATE_LEN is its length");
	mail_date(0, d);
	is_str(d, "Thu, 01 Jan 1970 00:00:00 +0000", "the epoch");
	mail_date(951782400, d);
	is_str(d, "Tue, 29 Feb 2000 00:00:00 +0000", "a leap day");
	mail_date(253402300799LL, d);
	is_str(d, "Fri, 31 Dec 9999 23:59:59 +0000", "the last second of 9999");
	ok(mail_date(253402300800LL, d) == -1 && d[0] == '\0',
	    "year 10000 refused");
}

static void
test_secret(void)
{
	struct secret s, t;
	unsigned char other[32];

	ok(mail_link_secret(nonce_ab, &s) == 0, "mail_link_secret");
	is_str(s.text, VECTOR_TOKEN,
	    "text is base64url(HMAC-SHA256(key, nonce))");
	ok(secret_derive(&t, cfg.mail_key, nonce_ab, 32) == 0 &&
	    memcmp(s.hash, t.hash, 32) == 0, "hash is secret_derive's");
	ok(secret_text_valid(s.text), "a well-formed secret text");
	memset(other, 0xac, sizeof other);
	mail_link_secret(other, &t);
	ok(strcmp(s.text, t.text) != 0, "another nonce, another secret");
	memset(cfg.mail_key, 0, sizeof cfg.mail_key);
	ok(mail_link_secret(nonce_ab, &t) == -1 && t.text[0] == '\0',
	    "an all-zero key (no JWT key) is refused");
	configure();
	secret_wipe(&s);
	secret_wipe(&t);
}

/* 1 when every CR in msg[0..n) is followed by LF and every LF preceded by
 * CR, and no line is longer than 998 bytes. */
static int
crlf_only(const char *msg, size_t n)
{
	size_t i, line = 0;

	for (i = 0; i < n; i++) {
		if (msg[i] == '\r' && (i + 1 == n || msg[i + 1] != '\n'))
			return 0;
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			return 0;
		line = msg[i] == '\n' ? 0 : line + 1;
		if (line > 999)
			return 0;
	}
	return n >= 2 && msg[n - 2] == '\r' && msg[n - 1] == '\n';
}

/* The value of header name in msg (up to CRLF) into out; 0 or -1. */
static int
header(const char *msg, const char *name, char *out, size_t cap)
{
	const char *end = strstr(msg, "\r\n\r\n"), *p = msg, *e;
	size_t nl = strlen(name);

	while (p != NULL && p < end) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ':' &&
		    p[nl + 1] == ' ') {
			p += nl + 2;
			e = strstr(p, "\r\n");
			if ((size_t)(e - p) >= cap)
				return -1;
			memcpy(out, p, (size_t)(e - p));
			out[e - p] = '\0';
			return 0;
		}
		p = strstr(p, "\r\n");
		p = p != NULL ? p + 2 : NULL;
	}
	return -1;
}

/* "<id.32 hex@bulwark>" */
static int
message_id_ok(const char *v, const char *id)
{
	size_t i, n = strlen(id);

	if (v[0] != '<' || strncmp(v + 1, id, n) != 0 || v[1 + n] != '.')
		return 0;
	for (i = 0; i < 32; i++)
		if (!strchr("0123456789abcdef", v[2 + n + i]))
			return 0;
	return strcmp(v + 2 + n + 32, "@bulwark>") == 0;
}

static void
test_render_reset(void)
{
	static const char *want_headers =
	    "Date: Tue, 01 Dec 2026 20:46:10 +0000\r\n"
	    "From: Bulwark <no-reply@example.test>\r\n"
	    "To: user@example.com\r\n"
	    "Subject: Reset your password\r\n";
	static const char *want_tail =
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "\r\n"
	    "Hello,\r\n";
	struct mail_msg m = { 42, "reset", "user@example.com", nonce_ab,
		DEC_2026, NULL, NULL };
	char *msg = NULL, *msg2 = NULL, v[256], id1[256], id2[256];
	const char *why = NULL, *p;
	size_t len = 0, len2;

	ok(mail_render(&arena, &m, &msg, &len, &why) == MAIL_OK,
	    "reset renders");
	if (msg == NULL)
		return;
	ok(len == strlen(msg), "length as returned");
	ok(strncmp(msg, want_headers, strlen(want_headers)) == 0,
	    "Date, From, To, Subject first, in order");
	p = strstr(msg, "\r\nMessage-ID: ");
	ok(p != NULL && strstr(p + 2, "\r\n") != NULL &&
	    strncmp(strstr(p + 2, "\r\n") + 2, want_tail,
	    strlen(want_tail)) == 0,
	    "then Message-ID, MIME-Version, Content-Type, "
	    "Content-Transfer-Encoding, Auto-Submitted, a blank line, "
	    "the body");
	ok(header(msg, "Message-ID", id1, sizeof id1) == 0 &&
	    message_id_ok(id1, "42"), "Message-ID <42.<32 hex>@bulwark>: %s",
	    id1);
	ok(crlf_only(msg, len), "every line ends in CRLF, none too long");
	ok(strstr(msg, "\r\nhttps://auth.example.test/reset-password?token="
	    VECTOR_TOKEN "\r\n") != NULL, "the link on its own line");
	ok(strstr(msg, "expires in 60 minutes.") != NULL,
	    "expires in 60 minutes");
	ok(strstr(msg, "works once") != NULL, "works once");
	ok(strstr(msg, "ignore this message") != NULL, "may be ignored");
	ok(header(msg, "Content-Type", v, sizeof v) == 0 &&
	    strcmp(v, "text/plain; charset=utf-8") == 0, "plain text UTF-8");

	ok(mail_render(&arena, &m, &msg2, &len2, &why) == MAIL_OK &&
	    header(msg2, "Message-ID", id2, sizeof id2) == 0 &&
	    strcmp(id1, id2) != 0, "each rendering its own Message-ID");
	crypto_wipe(msg, len);
	ok(msg[0] == '\0' && msg[len - 1] == '\0', "crypto_wipe clears it");

	cfg.reset_ttl = 30;
	mail_render(&arena, &m, &msg, &len, &why);
	ok(msg != NULL && strstr(msg, "expires in 1 minute.") != NULL,
	    "a TTL under a minute says 1 minute");
	cfg.reset_ttl = 5400;
	mail_render(&arena, &m, &msg, &len, &why);
	ok(msg != NULL && strstr(msg, "expires in 90 minutes.") != NULL,
	    "5400 s is 90 minutes");
	cfg.reset_ttl = 3600;
}

static void
test_render_changed(void)
{
	struct mail_msg m = { 7, "password_changed", "user@example.com", NULL,
		DEC_2026, NULL, NULL };
	char *msg = NULL, v[256];
	const char *why = NULL;
	size_t len = 0;

	ok(mail_render(&arena, &m, &msg, &len, &why) == MAIL_OK,
	    "password_changed renders");
	if (msg == NULL)
		return;
	ok(header(msg, "Subject", v, sizeof v) == 0 &&
	    strcmp(v, "Your password was changed") == 0, "its subject");
	ok(header(msg, "To", v, sizeof v) == 0 &&
	    strcmp(v, "user@example.com") == 0, "its To");
	ok(crlf_only(msg, len), "CRLF throughout");
	ok(strstr(msg, "\r\nhttps://auth.example.test/forgot-password\r\n") !=
	    NULL, "the forgot-password link on its own line");
	ok(strstr(msg, "contact support") != NULL, "contact support");
	ok(strstr(msg, "token=") == NULL, "no token");
	ok(header(msg, "Auto-Submitted", v, sizeof v) == 0 &&
	    strcmp(v, "auto-generated") == 0, "Auto-Submitted");
	m.nonce = nonce_ab; /* a nonce it does not need changes nothing */
	ok(mail_render(&arena, &m, &msg, &len, &why) == MAIL_OK &&
	    strstr(msg, VECTOR_TOKEN) == NULL, "a stray nonce is not used");
}

static void
refused(const char *kind, const char *to, const unsigned char *nonce,
    enum mail_err want, const char *what)
{
	struct mail_msg m = { 1, kind, to, nonce, DEC_2026, NULL, NULL };
	char *msg = (char *)"untouched";
	const char *why = NULL;
	size_t len = 99;
	enum mail_err e;

	e = mail_render(&arena, &m, &msg, &len, &why);
	ok(e == want && msg == NULL && len == 0 && why != NULL &&
	    strpbrk(why, "\r\n") == NULL && strstr(why, "@") == NULL,
	    "refused (%s, %s): %s", want == MAIL_NEVER ? "never" : "retry",
	    why != NULL ? why : "(no reason)", what);
}

static void
test_refusals(void)
{
	refused("welcome", "user@example.com", NULL, MAIL_NEVER,
	    "an unknown kind");
	refused(NULL, "user@example.com", NULL, MAIL_NEVER, "no kind");
	refused("reset", "user@example.com\r\nBcc: evil@example.net", nonce_ab,
	    MAIL_NEVER, "To with CRLF and a header after it");
	refused("reset", "user@example.com\nBcc: evil@example.net", nonce_ab,
	    MAIL_NEVER, "To with a bare LF");
	refused("reset", "user@example.com\r", nonce_ab, MAIL_NEVER,
	    "To ending in CR");
	refused("password_changed", "\r\nuser@example.com", NULL, MAIL_NEVER,
	    "To starting with CRLF");
	refused("reset", "user@example.com ", nonce_ab, MAIL_NEVER,
	    "To with a trailing space");
	refused("reset", "us er@example.com", nonce_ab, MAIL_NEVER,
	    "To with a space");
	refused("reset", "a@b@example.com", nonce_ab, MAIL_NEVER,
	    "To with two '@'");
	refused("reset", "example.com", nonce_ab, MAIL_NEVER, "To without '@'");
	refused("reset", "", nonce_ab, MAIL_NEVER, "an empty To");
	refused("reset", NULL, nonce_ab, MAIL_NEVER, "no To");
	refused("reset", "user@example.com\t", nonce_ab, MAIL_NEVER,
	    "To with a tab");
	refused("reset", "user@exa\x01mple.com", nonce_ab, MAIL_NEVER,
	    "To with a control character");
	refused("reset", "user@example.com", NULL, MAIL_NEVER,
	    "a reset without a nonce");

	cfg.mail_from =
	    (char *)"Bulwark <a@example.test>\r\nBcc: x@example.net";
	refused("reset", "user@example.com", nonce_ab, MAIL_RETRY,
	    "a From with CRLF (the configuration)");
	cfg.mail_from = (char *)"Bulwark\n<a@example.test>";
	refused("password_changed", "user@example.com", NULL, MAIL_RETRY,
	    "a From with LF");
	cfg.mail_from = (char *)"";
	refused("password_changed", "user@example.com", NULL, MAIL_RETRY,
	    "an empty From");
	configure();
	cfg.public_url = (char *)"https://x.test\r\nBcc: y@example.net";
	refused("reset", "user@example.com", nonce_ab, MAIL_RETRY,
	    "a public URL with CRLF");
	configure();
	memset(cfg.mail_key, 0, sizeof cfg.mail_key);
	refused("reset", "user@example.com", nonce_ab, MAIL_RETRY,
	    "no key to derive the token");
	configure();
}

static void
test_backoff(void)
{
	ok(mail_backoff(60, 1) == 60, "first failure: the base");
	ok(mail_backoff(60, 2) == 120, "second: twice");
	ok(mail_backoff(60, 3) == 240, "third: four times");
	ok(mail_backoff(60, 6) == 1920, "sixth: 32 times");
	ok(mail_backoff(60, 7) == 3600, "capped at an hour");
	ok(mail_backoff(60, 1000000) == 3600, "a huge count: an hour");
	ok(mail_backoff(1, 1) == 1 && mail_backoff(1, 4) == 8 &&
	    mail_backoff(1, 13) == 3600, "base 1: 1, 8, capped");
	ok(mail_backoff(3600, 1) == 3600 && mail_backoff(3600, 2) == 3600,
	    "base 3600 stays at an hour");
	ok(mail_backoff(60, 0) == 60, "0 attempts counts as the first");
}

/* Reads path whole into buf; its length or -1. */
static long
slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

/* How many entries dir has (. and .. aside); the last name into last. */
static int
entries(const char *dir, char *last, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		snprintf(last, cap, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

static void
test_file(void)
{
	static const char msg[] = "Subject: x\r\n\r\nbody\r\n";
	char dir[128], path[512], name[256], buf[256], err[256], file[128];
	struct stat st;
	FILE *f;

	snprintf(dir, sizeof dir, "%s/mail", tmpdir);
	ok(mail_send_file(dir, 17, DEC_2026, msg, sizeof msg - 1, err,
	    sizeof err) == 0, "file transport: a message written");
	ok(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 0777) == 0700, "the missing directory made 0700");
	ok(entries(dir, name, sizeof name) == 1, "one file, no temporary left");
	is_str(name, "1796157970-17.eml", "named <unix-time>-<id>.eml");
	snprintf(path, sizeof path, "%s/%s", dir, name);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	ok(slurp(path, buf, sizeof buf) == (long)sizeof msg - 1 &&
	    strcmp(buf, msg) == 0, "the whole message, byte for byte");

	/* A stale temporary of this pid and id is replaced, not followed. */
	snprintf(path, sizeof path, "%s/.tmp.18.%ld", dir, (long)getpid());
	f = fopen(path, "w");
	if (f != NULL)
		fclose(f);
	ok(mail_send_file(dir, 18, DEC_2026, msg, sizeof msg - 1, err,
	    sizeof err) == 0 && access(path, F_OK) < 0,
	    "a stale temporary name is replaced");
	ok(entries(dir, name, sizeof name) == 2, "two messages now");

	snprintf(file, sizeof file, "%s/plain", tmpdir);
	f = fopen(file, "w");
	if (f != NULL)
		fclose(f);
	snprintf(dir, sizeof dir, "%s/plain/mail", tmpdir);
	err[0] = '\0';
	ok(mail_send_file(dir, 19, DEC_2026, msg, sizeof msg - 1, err,
	    sizeof err) == -1 && err[0] != '\0',
	    "a directory that cannot be made fails: %s", err);
	snprintf(dir, sizeof dir, "%s/a/b", tmpdir);
	ok(mail_send_file(dir, 19, DEC_2026, msg, sizeof msg - 1, err,
	    sizeof err) == -1, "only one level is made: %s", err);
	ok(mail_send_file(file, 20, DEC_2026, msg, sizeof msg - 1, err,
	    sizeof err) == -1, "a name that is not a directory fails: %s",
	    err);
}

/* A shell script at tmpdir/name running body. */
static const char *
script(const char *name, const char *body)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	if ((f = fopen(path, "w")) == NULL)
		return path;
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0700);
	return path;
}

static void
test_sendmail(void)
{
	static const char msg[] = "To: a@example.com\r\n\r\nhello\r\n";
	char err[256], body[1024], out[128], buf[1 << 16], *big;
	const char *prog;
	long long t0;
	size_t n = 1 << 20;
	int fd;

	snprintf(out, sizeof out, "%s/sent", tmpdir);
	snprintf(body, sizeof body,
	    "echo \"$0 $*\" > %s.args; cat > %s; "
	    "if [ -e /proc/$$/fd/%d ]; then echo leaked; else echo closed; fi"
	    " > %s.fds; exit 0", out, out, LEAK_FD, out);
	prog = script("ok.sh", body);
	/* A descriptor of ours without O_CLOEXEC: the child must close it. */
	fd = open("/dev/null", O_RDONLY);
	ok(fd >= 0 && dup2(fd, LEAK_FD) == LEAK_FD, "fd %d open here", LEAK_FD);
	ok(mail_send_sendmail(prog, msg, sizeof msg - 1, 5000, err,
	    sizeof err) == 0, "sendmail exiting 0: success (%s)", err);
	close(LEAK_FD);
	close(fd);
	ok(slurp(out, buf, sizeof buf) == (long)sizeof msg - 1 &&
	    strcmp(buf, msg) == 0, "it read the whole message on stdin");
	snprintf(body, sizeof body, "%s.args", out);
	ok(slurp(body, buf, sizeof buf) > 0 && strstr(buf, " -t -i\n") != NULL,
	    "run as sendmail -t -i: %.*s", (int)strcspn(buf, "\n"), buf);
	snprintf(body, sizeof body, "%s.fds", out);
	ok(slurp(body, buf, sizeof buf) > 0 && strcmp(buf, "closed\n") == 0,
	    "no descriptor of ours leaks into it");

	/* SIGCHLD ignored (children reaped by the kernel): still an exit
	 * status, and the disposition given back. */
	signal(SIGCHLD, SIG_IGN);
	ok(mail_send_sendmail(prog, msg, sizeof msg - 1, 5000, err,
	    sizeof err) == 0, "with SIGCHLD ignored too (%s)", err);
	ok(signal(SIGCHLD, SIG_DFL) == SIG_IGN, "SIGCHLD ignored again after");

	prog = script("fail.sh", "cat >/dev/null; exit 3");
	ok(mail_send_sendmail(prog, msg, sizeof msg - 1, 5000, err,
	    sizeof err) == -1, "exit 3: failure");
	is_str(err, "exit 3", "reported as exit 3");

	prog = script("signal.sh", "kill -TERM $$");
	ok(mail_send_sendmail(prog, msg, sizeof msg - 1, 5000, err,
	    sizeof err) == -1, "killed by a signal: failure");
	is_str(err, "signal 15", "reported as signal 15");

	prog = script("slow.sh", "sleep 10");
	t0 = clock_ms();
	ok(mail_send_sendmail(prog, msg, sizeof msg - 1, 300, err,
	    sizeof err) == -1, "a sendmail that hangs: failure");
	is_str(err, "timeout", "reported as timeout");
	ok(clock_ms() - t0 < 2000, "after the deadline, not after it ends "
	    "(%lld ms)", clock_ms() - t0);

	/* Does not read a message larger than the pipe: the write must not
	 * block past the deadline either. */
	big = malloc(n);
	if (big != NULL) {
		memset(big, 'x', n);
		t0 = clock_ms();
		ok(mail_send_sendmail(prog, big, n, 300, err,
		    sizeof err) == -1 && strcmp(err, "timeout") == 0 &&
		    clock_ms() - t0 < 2000,
		    "a reader that never reads: timeout on the write");
		prog = script("early.sh", "exit 0");
		ok(mail_send_sendmail(prog, big, n, 5000, err,
		    sizeof err) == -1 && strncmp(err, "write: ", 7) == 0,
		    "exits 0 without reading it all: failure (%s)", err);
		prog = script("early1.sh", "exit 1");
		ok(mail_send_sendmail(prog, big, n, 5000, err,
		    sizeof err) == -1 && strcmp(err, "exit 1") == 0,
		    "exits 1 without reading: exit 1 (%s)", err);
		free(big);
	}

	snprintf(body, sizeof body, "%s/missing", tmpdir);
	ok(mail_send_sendmail(body, msg, sizeof msg - 1, 5000, err,
	    sizeof err) == -1 && strstr(err, "sendmail: ") == err,
	    "a missing program: %s", err);
}

int
main(void)
{
	char cmd[128];

	/* As the worker has it: a gone reader is EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/bulwark-test-mail.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	arena_init(&arena, 1 << 20);
	configure();
	test_date();
	test_secret();
	test_render_reset();
	test_render_changed();
	test_refusals();
	test_backoff();
	test_file();
	test_sendmail();
	arena_free(&arena);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return done_testing();
}
