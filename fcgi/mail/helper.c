/*
 * mail/helper.c -- the sendmail transport for a worker that may not run
 * programs.
 *
 * Once its seccomp filter is in place a worker can neither fork a program
 * nor exec one (cmd/sandbox.c).  Before the filter, mail_helper_start forks
 * this helper: a small process that shares a socketpair with the worker and
 * does nothing but run mail_send_sendmail for each message it is handed.
 * It runs as the worker's user (forked after the drop), holds no other
 * descriptor, and ends when the worker does (end of file, or its parent's
 * death signal).
 *
 * The exchange, on a stream socket: the worker writes a 4-byte length and
 * the message; the helper answers a 4-byte result (0 or -1), a 4-byte
 * length and that many bytes of the error text.  One message at a time:
 * a worker is single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/crypto.h"
#include "mail/mail.h"

#define HELPER_MAX_MSG (4 * 1024 * 1024) /* a rendered mail is a few KB */
#define HELPER_ERR_MAX 200

/* -1: no helper (the worker sends itself); >= 0: the worker's end; -2: the
 * helper died, every later message fails until the worker is replaced. */
static int helper_fd = -1;

static int
full_read(int fd, void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, c, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
full_write(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, c, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The helper's loop on fd; never returns.  The message is wiped once sent:
 * a reset mail holds a link that is a secret. */
static void
helper_main(int fd, pid_t parent)
{
	char err[HELPER_ERR_MAX];
	uint32_t len, elen;
	int32_t rc;
	char *msg;
	int null;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	(void)prctl(PR_SET_NAME, "bulwark-mail");
	/* Only its socket and standard error: not the listening socket (fd 0
	 * under a FastCGI manager), nor the database's, nor the log. */
	if (fd != 3) {
		if (dup2(fd, 3) < 0)
			_exit(1);
		fd = 3;
	}
	if ((null = open("/dev/null", O_RDWR)) >= 0) {
		(void)dup2(null, 0);
		(void)dup2(null, 1);
	}
	(void)close_range(4, ~0U, 0);
	for (;;) {
		if (full_read(fd, &len, sizeof len) < 0)
			_exit(0);
		if (len == 0 || len > HELPER_MAX_MSG || (msg = malloc(len)) == NULL)
			_exit(1);
		if (full_read(fd, msg, len) < 0)
			_exit(1);
		err[0] = '\0';
		rc = mail_send_sendmail(cfg.sendmail, msg, len,
		    MAIL_SENDMAIL_TIMEOUT_MS, err, sizeof err) == 0 ? 0 : -1;
		crypto_wipe(msg, len);
		free(msg);
		elen = (uint32_t)strnlen(err, sizeof err - 1);
		if (full_write(fd, &rc, sizeof rc) < 0 ||
		    full_write(fd, &elen, sizeof elen) < 0 ||
		    full_write(fd, err, elen) < 0)
			_exit(1);
	}
}

int
mail_helper_start(char *err, size_t errlen)
{
	int sv[2];
	pid_t pid, me = getpid();

	if (helper_fd >= 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		helper_main(sv[1], me);
	}
	close(sv[1]);
	helper_fd = sv[0];
	return 0;
}

int
mail_helper_active(void)
{
	return helper_fd != -1;
}

/* The helper is gone or out of step: it is never used again. */
static int
helper_lost(const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "mail helper: %s", what);
	if (helper_fd >= 0)
		close(helper_fd);
	helper_fd = -2;
	return -1;
}

int
mail_helper_send(const char *msg, size_t len, char *err, size_t errlen)
{
	/* mail_send_sendmail's own deadline, and time to say so. */
	long long deadline = clock_ms() + MAIL_SENDMAIL_TIMEOUT_MS + 5000;
	struct pollfd pfd;
	uint32_t n = (uint32_t)len, elen;
	int32_t rc;
	char text[HELPER_ERR_MAX];
	long long left;
	int p;

	err[0] = '\0';
	if (helper_fd == -2)
		return helper_lost("gone (the worker must be restarted)", err,
		    errlen);
	if (helper_fd < 0 || len == 0 || len > HELPER_MAX_MSG) {
		snprintf(err, errlen, "mail helper: no helper or bad length");
		return -1;
	}
	if (full_write(helper_fd, &n, sizeof n) < 0 ||
	    full_write(helper_fd, msg, len) < 0)
		return helper_lost(strerror(errno), err, errlen);
	for (;;) {
		if ((left = deadline - clock_ms()) <= 0)
			return helper_lost("no answer", err, errlen);
		pfd.fd = helper_fd;
		pfd.events = POLLIN;
		if ((p = poll(&pfd, 1, (int)left)) > 0)
			break;
		if (p < 0 && errno != EINTR)
			return helper_lost(strerror(errno), err, errlen);
	}
	if (full_read(helper_fd, &rc, sizeof rc) < 0 ||
	    full_read(helper_fd, &elen, sizeof elen) < 0 ||
	    elen >= sizeof text || full_read(helper_fd, text, elen) < 0)
		return helper_lost("gone", err, errlen);
	text[elen] = '\0';
	if (rc != 0) {
		snprintf(err, errlen, "%s", elen > 0 ? text : "failed");
		return -1;
	}
	return 0;
}
