/*
 * cmd/worker.c -- one FastCGI worker: many connections, one request at a
 * time.
 *
 * The worker accepts connections itself and waits (epoll) on the listening
 * socket and on every connection it holds, and serves whichever has a whole
 * request, so a connection the web server keeps open (FCGI_KEEP_CONN) never
 * makes another wait while it sits idle.  libfcgi still speaks the
 * protocol: each connection has its own FCGX_Request, whose listen_sock is
 * -1, so libfcgi can read and write the connection but never accept; when
 * it finds the connection broken it closes it and returns an error instead
 * of blocking in accept().
 *
 * Nothing reaches libfcgi unchecked: the bytes pending are peeked at and
 * checked by fcgi_check (conn.c) first, and only a request that is whole
 * and sound is handed to FCGX_Accept_r.  A request that is not whole yet
 * waits in the set with a deadline (BULWARK_READ_TIMEOUT from accept, or
 * from its first byte on a kept connection), so it holds no worker; a bad
 * one is closed and logged (never its bytes).  Kept connections that are
 * idle have no deadline, but a worker holds at most IDLE_MAX of them and
 * closes the least recently used beyond, and at most CONN_MAX in all.
 *
 * Signals are blocked except inside epoll_pwait, so SIGTERM lets the
 * request in hand finish and never interrupts a write half-way; on the way
 * out, requests already whole on held connections are served too.  Linux
 * runs a pending handler there only when epoll_pwait sleeps (EINTR): one
 * that finds events ready returns them and leaves the signal pending, so a
 * worker never idle under load would never stop.  After BUSY_CHECK events
 * (accepts, ready connections) in a row with no sleep it asks sigpending.  A
 * failed accept is logged and the loop goes on: only a shutdown, or a
 * listening socket that is gone, ends it (under mod_fcgid the process must
 * never leave on its own).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
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

#define CONN_MAX 256     /* connections a worker holds */
#define IDLE_MAX 64      /* of them kept and idle */
#define LINGER_MS 2000   /* reading a closing peer out before close() */
#define EVENTS 64
#define ACCEPT_RUN 16    /* accepts in a row without epoll_pwait */
#define BUSY_CHECK 16    /* events without sleep between sigpending calls */
#define LISTENER 0       /* epoll tag of the listening socket */

enum cstate {
	C_FREE,
	C_NEW,     /* accepted, its first request not whole yet */
	C_IDLE,    /* kept after a request, nothing pending */
	C_PARTIAL, /* kept, a request begun but not whole */
	C_LINGER,  /* answered, written side shut, read until EOF */
};

/* A connection the worker holds.  fr is libfcgi's view of it: between
 * requests it owns no memory, only the descriptor. */
struct conn {
	FCGX_Request fr;
	int fd;
	enum cstate state;
	int watched;        /* in the epoll set (not before it must wait) */
	int edge;           /* watched edge-triggered: waits for more bytes */
	int bounded;        /* SO_RCVTIMEO and SO_SNDTIMEO set */
	size_t need;        /* bytes pending before a new check makes sense */
	long long deadline; /* ms (clock_ms); 0: none */
	long long used;     /* ms of its last request: idle ones go LRU */
};

static volatile sig_atomic_t stopping;
static int conn_hw;  /* conns[conn_hw..] are all free */
static int nidle;    /* conns in C_IDLE */
static long long last_mail_check; /* clock_ms of the last mail_deliver */
static struct conn conns[CONN_MAX];
static int epfd = -1, lfd = -1, listener_paused;
static long long listener_resume;   /* ms: EMFILE pause ends */
static unsigned char window[FC_WINDOW]; /* the bytes peeked at */
static const char *web_server_addrs; /* FCGI_WEB_SERVER_ADDRS, as libfcgi */
static struct arena arena; /* a request's memory, reset after it */

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static sigset_t stop_signals; /* SIGTERM, SIGINT, SIGUSR1: blocked */

/* A stop signal that epoll_pwait left pending (it had events ready) is
 * taken here; it stays pending, and runs on_stop once the mask goes back. */
static void
stop_if_pending(void)
{
	sigset_t p;

	if (sigpending(&p) == 0 && sigandset(&p, &p, &stop_signals) == 0 &&
	    !sigisemptyset(&p))
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

/* Every change of state goes through here, so the counts stay right. */
static void
set_state(struct conn *c, enum cstate st)
{
	int i = (int)(c - conns);

	nidle += (st == C_IDLE) - (c->state == C_IDLE);
	c->state = st;
	if (st != C_FREE && i >= conn_hw)
		conn_hw = i + 1;
	while (conn_hw > 0 && conns[conn_hw - 1].state == C_FREE)
		conn_hw--;
}

/* Puts c in the epoll set, or changes how it is watched; -1 when epoll
 * refused (the caller closes it: a connection nobody watches would never
 * be served). */
static int
conn_watch(struct conn *c, int edge)
{
	struct epoll_event ev;

	if (c->watched && c->edge == edge)
		return 0;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | (edge ? EPOLLET : 0);
	ev.data.u32 = (uint32_t)(c - conns) + 1;
	if (epoll_ctl(epfd, c->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd,
	    &ev) < 0) {
		log_msg("warning", "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	c->edge = edge;
	c->watched = 1;
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c->state == C_FREE)
		return;
	/* close() takes it out of the epoll set too: no other descriptor
	 * refers to the connection (the mail helper was forked before any
	 * was accepted, and nothing dups them). */
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	set_state(c, C_FREE);
}

/* Reads and writes libfcgi does on c wait at most the read timeout.  Not
 * needed while a request is whole before it is handed over, nothing but
 * its answer is written, and the answer fits the socket's empty buffer
 * (http/response.c bounds a larger one itself), so a connection that
 * serves one request and closes, what lighttpd and Apache make, never
 * pays for them.  Set for a body that is not whole, for records libfcgi
 * answers by itself, and once a connection is kept. */
static void
conn_bound(struct conn *c)
{
	if (!c->bounded)
		request_bound_io(c->fd);
	c->bounded = 1;
}

/* The held connection to give up for a new one: the least recently used
 * idle one, or with a bound on idle ones only (idle_only), none. */
static struct conn *
conn_victim(int idle_only)
{
	struct conn *v = NULL;
	int i;

	for (i = 0; i < conn_hw; i++) {
		if (conns[i].state == C_IDLE) {
			if (v == NULL || v->state != C_IDLE ||
			    conns[i].used < v->used)
				v = &conns[i];
		} else if (!idle_only && conns[i].state != C_FREE &&
		    (v == NULL || (v->state != C_IDLE &&
		    conns[i].deadline < v->deadline)))
			v = &conns[i];
	}
	return v;
}

/* libfcgi's FCGI_WEB_SERVER_ADDRS: a TCP peer must be one of the IPv4
 * addresses listed (comma-separated), when the variable is set. */
static int
peer_allowed(const struct sockaddr_storage *ss)
{
	char ip[INET_ADDRSTRLEN];
	const char *p, *e;
	size_t n;

	if (web_server_addrs == NULL || ss->ss_family != AF_INET)
		return 1;
	if (inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
	    ip, sizeof ip) == NULL)
		return 0;
	n = strlen(ip);
	for (p = web_server_addrs; *p != '\0'; p = *e ? e + 1 : e) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && memcmp(p, ip, n) == 0)
			return 1;
	}
	return 0;
}

static void
listener_pause(int on)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.u32 = LISTENER;
	if (on && !listener_paused) {
		(void)epoll_ctl(epfd, EPOLL_CTL_DEL, lfd, NULL);
		listener_resume = clock_ms() + 100;
	} else if (!on && listener_paused &&
	    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		/* Still paused: tried again at the next deadline, rather than
		 * never accepting again. */
		listener_resume = clock_ms() + 100;
		return;
	}
	listener_paused = on;
}

static int conn_check(struct conn *c);
static void bound_idle(void);

/* Accepts one connection (one per wake-up, so that idle workers take
 * their share; the loop takes more in a row only while it holds none).
 * 1 when one was taken, 0 when none was (or it was refused), -1 when the
 * listening socket is unusable. */
static int
accept_one(void)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct conn *c = NULL;
	int fd, i, one = 1, rcvbuf = FC_WINDOW * 2;

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
	    SOCK_CLOEXEC)) < 0) {
		if (errno == EBADF || errno == ENOTSOCK || errno == EINVAL) {
			log_msg("error", "listening socket unusable: %s",
			    strerror(errno));
			return -1;
		}
		if (errno == EMFILE || errno == ENFILE) {
			log_msg("warning", "accept failed: %s",
			    strerror(errno));
			if ((c = conn_victim(1)) != NULL)
				conn_close(c);
			else
				listener_pause(1);
		}
		return 0; /* EAGAIN: another worker took it */
	}
	if (!peer_allowed(&ss)) {
		close(fd);
		return 1; /* the queue may hold more */
	}
	for (i = 0; i < CONN_MAX && c == NULL; i++)
		if (conns[i].state == C_FREE)
			c = &conns[i];
	if (c == NULL) {
		c = conn_victim(0);
		conn_close(c);
	}
	/* The check needs a receive buffer that holds a whole request. */
	if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof one);
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof rcvbuf);
	}
	FCGX_InitRequest(&c->fr, -1, 0);
	c->fr.ipcFd = fd;
	/* Kept from libfcgi's point of view, so that FCGX_Accept_r and
	 * FCGX_Finish_r never close it themselves on success; detached, so
	 * that when they close it on an error they do not block lingering. */
	c->fr.keepConnection = 1;
	c->fr.detached = 1;
	c->fd = fd;
	set_state(c, C_NEW);
	c->watched = 0;
	c->edge = 0;
	c->bounded = 0;
	c->need = 0;
	c->deadline = clock_ms() + cfg.read_timeout * 1000;
	c->used = clock_ms();
	/* The web server has usually sent the request with the connect: it
	 * is served now, and a connection closed after it never enters the
	 * epoll set.  One that must wait, or is kept, is watched from here. */
	(void)conn_check(c);
	if (c->state != C_FREE && !c->watched && conn_watch(c, 0) < 0)
		conn_close(c);
	return 1;
}

/* accept_one for the loop: a listening socket that is unusable stops the
 * worker with status 1.  1 when the queue may hold more. */
static int
accept_next(int *rc)
{
	int got = accept_one();

	if (got < 0) {
		*rc = 1;
		stopping = 1;
		return 0;
	}
	return got;
}

/* Reads out through libfcgi the rest of a request's STDIN that the check
 * did not wait for (a body past what it peeks), for at most LINGER_MS in
 * all, so that a connection the web server keeps stays usable: closing it
 * instead would make nginx send its next request, a POST it must not
 * retry, on a connection that is gone (a 502).  The web servers send a
 * body they buffered at full speed; a peer that trickles loses the
 * connection after LINGER_MS.  1 when the stream ended clean. */
static int
read_out(FCGX_Request *fr, int fd)
{
	char sink[4096];
	long long left, end = clock_ms() + LINGER_MS;
	struct timeval tv;

	while ((left = end - clock_ms()) > 0) {
		tv.tv_sec = (time_t)(left / 1000);
		tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		if (FCGX_GetStr(sink, sizeof sink, fr->in) <= 0)
			break;
	}
	request_bound_io(fd); /* the connection's bound again */
	return FCGX_HasSeenEOF(fr->in) == EOF && FCGX_GetError(fr->in) == 0;
}

/* Handles one request and finishes it: the response is sent whole before
 * any work that it does not need.  whole: the check saw the request to
 * the end of its STDIN, so what the handler did not read can be read out
 * now without waiting and the connection can be kept. */
static void
handle(struct conn *c, struct arena *a, int whole)
{
	FCGX_Request *fr = &c->fr;
	struct request req;
	long long t0 = clock_us();
	char sink[4096];
	int keep;

	request_init(&req, fr, a);
	routes_dispatch(&req);
	if (!req.responded)
		respond_internal(&req, "no response");
	log_event("info", "request", LF_S("method", req.method),
	    LF_S("path", req.path), LF_I("status", req.status),
	    LF_MILLI("duration", clock_us() - t0), LF_S("ip", req.ip),
	    LF_S("userId", req.user_id_for_log));
	if (whole)
		while (FCGX_GetStr(sink, sizeof sink, fr->in) > 0)
			;
	else if (fr->keepConnection && fr->ipcFd >= 0)
		whole = read_out(fr, fr->ipcFd);
	keep = fr->keepConnection && whole;
	fr->keepConnection = 1; /* we close it, below, not libfcgi */
	FCGX_Finish_r(fr);
	/* FastCGI parameters are gone now: only arena copies may be used. */
	session_after_response(&req);
	if (req.mail_queued || clock_ms() - last_mail_check >= MAIL_CHECK_MS) {
		last_mail_check = clock_ms();
		(void)mail_deliver(a, MAIL_BATCH);
	}
	if (fr->ipcFd < 0) {
		/* libfcgi met an error and closed it (epoll forgets it). */
		c->fd = -1;
		set_state(c, C_FREE);
	} else if (keep) {
		set_state(c, C_IDLE);
		c->deadline = 0;
		c->need = 0;
		c->used = clock_ms();
		/* Requests to come may be pipelined behind answers the web
		 * server has not read yet: from now on every write is bounded. */
		conn_bound(c);
		if (conn_watch(c, 0) < 0)
			conn_close(c);
	} else if (whole) {
		conn_close(c); /* all it sent has been read: nothing to lose */
	} else {
		/* Unread bytes at close() could reset the connection before
		 * the web server reads the answer: read them out first. */
		(void)shutdown(c->fd, SHUT_WR);
		set_state(c, C_LINGER);
		c->deadline = clock_ms() + LINGER_MS;
		if (conn_watch(c, 0) < 0)
			conn_close(c);
	}
}

/* Looks at what a connection has sent; serves a whole request.  1 when a
 * request was served, 0 otherwise. */
static int
conn_check(struct conn *c)
{
	struct fc_result r;
	ssize_t n;
	int avail = 0, rc;

	if (c->state == C_LINGER) {
		while ((n = recv(c->fd, window, sizeof window,
		    MSG_DONTWAIT)) > 0)
			;
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return 0;
	}
	if (c->need > 0 && ioctl(c->fd, FIONREAD, &avail) == 0 &&
	    (size_t)avail < c->need)
		return 0; /* not enough new bytes to get further */
	n = recv(c->fd, window, sizeof window, MSG_PEEK | MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* Closed: between requests that is how a web server
			 * says goodbye; inside one it gave up. */
			if (c->state == C_PARTIAL)
				log_event("warning", "fastcgi_closed",
				    LF_S("reason", "peer closed mid-request"));
			conn_close(c);
		}
		return 0;
	}
	rc = fcgi_check(window, (size_t)n, &r);
	if (rc == FC_BAD) {
		log_event("warning", "fastcgi_refused",
		    LF_S("reason", r.why), LF_I("bytes", n));
		conn_close(c);
		return 0;
	}
	if (rc == FC_MORE) {
		if (c->state == C_IDLE)
			c->deadline = clock_ms() + cfg.read_timeout * 1000;
		if (c->state != C_NEW)
			set_state(c, C_PARTIAL);
		c->need = r.need;
		if (conn_watch(c, 1) < 0)
			conn_close(c);
		return 0;
	}
	c->need = 0;
	if (c->watched && conn_watch(c, 0) < 0) {
		conn_close(c);
		return 0;
	}
	/* A body past what the check saw is read by libfcgi as it comes, and
	 * records libfcgi answers itself are written before the request's:
	 * either could wait on the web server. */
	if (rc != FC_READY || r.replies > 0)
		conn_bound(c);
	if (FCGX_Accept_r(&c->fr) < 0) {
		/* libfcgi disagreed with the check and closed it. */
		log_event("warning", "fastcgi_refused",
		    LF_S("reason", "libfcgi refused the request"));
		c->fd = -1;
		set_state(c, C_FREE);
		return 0;
	}
	handle(c, &arena, rc == FC_READY);
	arena_reset(&arena);
	bound_idle();
	return 1;
}

/* Closes what has run out of time; returns ms to the next deadline, or -1. */
static int
expire(void)
{
	long long now = clock_ms(), next = -1;
	int i;

	for (i = 0; i < conn_hw; i++) {
		struct conn *c = &conns[i];

		if (c->state == C_FREE || c->deadline == 0)
			continue;
		if (c->deadline <= now) {
			if (c->state != C_LINGER)
				log_event("warning", "fastcgi_timeout",
				    LF_S("reason", c->need == 0 ?
				    "no request in time" :
				    "request not whole in time"),
				    LF_I("seconds", cfg.read_timeout));
			conn_close(c);
		} else if (next < 0 || c->deadline - now < next)
			next = c->deadline - now;
	}
	if (listener_paused) {
		if (listener_resume <= now)
			listener_pause(0);
		else if (next < 0 || listener_resume - now < next)
			next = listener_resume - now;
	}
	return next > 1000000 ? 1000000 : (int)next;
}

/* At most IDLE_MAX kept idle connections: the least recently used go. */
static void
bound_idle(void)
{
	struct conn *v;

	while (nidle > IDLE_MAX && (v = conn_victim(1)) != NULL)
		conn_close(v);
}

int
worker_run(int listen_fd, int ready_fd)
{
	struct epoll_event ev, evs[EVENTS];
	struct sigaction sa;
	sigset_t old;
	int i, n, fl, wait_ms, run = 0, busy = 0, rc = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_stop; /* no SA_RESTART: epoll_pwait must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL); /* mod_fcgid and libfcgi's own stop */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGUSR1);
	sigprocmask(SIG_BLOCK, &stop_signals, &old);

	if (sandbox_drop_user() < 0)
		return 1;
	if (password_init() < 0) {
		log_msg("error", "cannot compute the dummy password hash");
		return 1;
	}
	if (FCGX_Init() != 0) {
		log_msg("error", "cannot initialise libfcgi");
		return 1;
	}
	/* FCGX_Init installs its own SIGPIPE handler: a closed peer is a
	 * write error to handle, not a signal, so ignore it again. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	web_server_addrs = getenv("FCGI_WEB_SERVER_ADDRS");
	/* Workers share the listening socket: whoever is idle takes the
	 * next connection, the others get EAGAIN instead of blocking. */
	lfd = listen_fd;
	if ((fl = fcntl(lfd, F_GETFL)) < 0 ||
	    fcntl(lfd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    (epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		log_msg("error", "listening socket unusable: %s",
		    strerror(errno));
		return 1;
	}
	/* EPOLLEXCLUSIVE: a new connection wakes one idle worker, not all of
	 * them only for the others to find EAGAIN (a worker busy with a
	 * request is not woken; it finds the socket ready when it waits). */
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.u32 = LISTENER;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		log_msg("error", "listening socket unusable: %s",
		    strerror(errno));
		return 1;
	}
	for (i = 0; i < CONN_MAX; i++)
		conns[i].fd = -1;
	arena_init(&arena, (size_t)cfg.max_body_bytes * 4 + ARENA_EXTRA);
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
		if (busy >= BUSY_CHECK) {
			busy = 0;
			stop_if_pending();
			if (stopping)
				break;
		}
		wait_ms = expire();
		/* A worker that holds nothing after serving a connection it
		 * accepted tries the next at once: under load, with a new
		 * connection per request (lighttpd, Apache), the queue is
		 * seldom empty, and an epoll_pwait to learn so would cost a
		 * system call per request.  At most ACCEPT_RUN in a row, then
		 * epoll_pwait has its turn; each counts as busy for the stop
		 * check above. */
		if (run > 0 && run < ACCEPT_RUN && conn_hw == 0 &&
		    !listener_paused) {
			run = accept_next(&rc) ? run + 1 : 0;
			busy++;
			continue;
		}
		run = 0;
		n = stopping ? -1 : epoll_pwait(epfd, evs, EVENTS, wait_ms,
		    &old);
		busy = n > 0 ? busy + n : 0; /* n == 0 or EINTR: it slept */
		if (n < 0) {
			if (errno != EINTR) {
				log_msg("error", "epoll_pwait: %s",
				    strerror(errno));
				usleep(100000);
			}
			continue;
		}
		for (i = 0; i < n; i++) {
			uint32_t tag = evs[i].data.u32;

			if (tag == LISTENER)
				run = accept_next(&rc);
			else if (tag <= CONN_MAX &&
			    conns[tag - 1].state != C_FREE)
				(void)conn_check(&conns[tag - 1]);
		}
	}
	/* Requests already whole on held connections are served on the way
	 * out; then every connection is closed. */
	for (i = 0; i < CONN_MAX; i++)
		if (conns[i].state == C_NEW || conns[i].state == C_IDLE ||
		    conns[i].state == C_PARTIAL)
			(void)conn_check(&conns[i]);
	for (i = 0; i < CONN_MAX; i++)
		conn_close(&conns[i]);
	close(epfd);
	arena_free(&arena);
	db_close();
	log_event("info", "worker_stopped", LF_I("pid", getpid()));
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
