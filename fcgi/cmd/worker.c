/*
 * cmd/worker.c -- one FastCGI worker: accept, handle, finish, repeat.
 *
 * Signals are blocked while a request is handled and unblocked only around
 * FCGX_Accept_r, so SIGTERM lets the request in hand finish and never
 * interrupts a write half-way.  A failed accept is logged and the loop goes
 * on: only a shutdown, or a listening socket that is gone, ends it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "auth/auth.h"
#include "cmd/cmd.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"
#include "http/http.h"
#include "mail/mail.h"
#include "routes/routes.h"

/* Mail a request queued goes at once, after its response; what is due
 * again (a retry) is looked for at most this often by each worker. */
#define MAIL_CHECK_MS 1000
#define MAIL_BATCH 5

#define ARENA_EXTRA (1024 * 1024)

static volatile sig_atomic_t stopping;
static long long last_mail_check; /* clock_ms of the last mail_deliver */

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

int
fd_is_listener(int fd)
{
	int v = 0;
	socklen_t len = sizeof v;

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 &&
	    v != 0;
}

/* Handles one request and finishes it: the response is sent whole before
 * any work that it does not need. */
static void
handle(FCGX_Request *fr, struct arena *a)
{
	struct request req;
	long long t0 = clock_us();

	request_init(&req, fr, a);
	routes_dispatch(&req);
	if (!req.responded)
		respond_internal(&req, "no response");
	log_event("info", "request", LF_S("method", req.method),
	    LF_S("path", req.path), LF_I("status", req.status),
	    LF_MILLI("duration", clock_us() - t0), LF_S("ip", req.ip),
	    LF_S("userId", req.user_id_for_log));
	FCGX_Finish_r(fr);
	/* FastCGI parameters are gone now: only arena copies may be used. */
	session_after_response(&req);
	if (req.mail_queued || clock_ms() - last_mail_check >= MAIL_CHECK_MS) {
		last_mail_check = clock_ms();
		(void)mail_deliver(a, MAIL_BATCH);
	}
}

int
worker_run(int listen_fd, int ready_fd)
{
	struct sigaction sa;
	sigset_t block, old;
	FCGX_Request fr;
	struct arena a;
	int rc, failures = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_stop; /* no SA_RESTART: accept() must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL); /* mod_fcgid and libfcgi's own stop */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);

	if (sandbox_drop_user() < 0)
		return 1;
	if (password_init() < 0) {
		log_msg("error", "cannot compute the dummy password hash");
		return 1;
	}
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_msg("error", "cannot initialise libfcgi");
		return 1;
	}
	/* FCGX_Init installs its own SIGPIPE handler: a closed peer is a
	 * write error to handle, not a signal, so ignore it again. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	arena_init(&a, (size_t)cfg.max_body_bytes * 4 + ARENA_EXTRA);
	(void)db_ensure(); /* a database that is down now is retried later */
	if (sandbox_enter() < 0)
		return 1;
	log_event("info", "worker_started", LF_I("pid", getpid()));
	if (ready_fd >= 0) {
		pid_t me = getpid();

		/* One write of 4 bytes to a pipe is atomic. */
		(void)!write(ready_fd, &me, sizeof me);
		close(ready_fd);
	}

	while (!stopping) {
		sigprocmask(SIG_UNBLOCK, &block, NULL);
		rc = stopping ? -EINTR : FCGX_Accept_r(&fr);
		sigprocmask(SIG_BLOCK, &block, NULL);
		if (rc < 0) {
			if (stopping)
				break;
			if (rc == -EBADF || rc == -ENOTSOCK || rc == -EINVAL) {
				log_msg("error", "listening socket unusable: %s",
				    strerror(-rc));
				return 1;
			}
			if (rc != -EINTR) {
				log_msg("warning", "accept failed: %s",
				    rc < -0 && rc > -4096 ? strerror(-rc) :
				    "protocol error");
				/* Back off only when failures come in a run. */
				if (++failures > 10)
					usleep(100000);
			}
			continue;
		}
		failures = 0;
		handle(&fr, &a);
		arena_reset(&a);
	}
	FCGX_Free(&fr, 1);
	arena_free(&a);
	db_close();
	log_event("info", "worker_stopped", LF_I("pid", getpid()));
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}
