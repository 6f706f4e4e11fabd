/*
 * pk_responder.c -- the bench's yardstick: the least any FastCGI application
 * can do per request through the same lighttpd, with one database round
 * trip, the same as Bulwark's GET /me.
 *
 * One libpq connection opened at start (after spawn-fcgi's fork, as it
 * execs each worker), one statement prepared once, and per request:
 * PQexecPrepared of a primary-key SELECT with a fixed id, a small JSON body
 * with a Content-Type header, FCGX_Finish_r.  No logging, no parsing.
 *
 *   DATABASE_URL   libpq connection string (else libpq's PG* variables)
 *   BENCH_PK_ID    the id to select (default 1)
 *
 * Run it under a FastCGI process manager that hands it the listening socket
 * on standard input: spawn-fcgi -s SOCK -F N -- pk_responder.  Each worker
 * serves every connection it accepted (below), kept ones included.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

#define STMT "bench_pk"
#define SQL "SELECT id, email FROM bench_pk WHERE id = $1"

static PGconn *conn;
static volatile sig_atomic_t busy, stopping;

/* SIGTERM (spawn-fcgi's and the bench's stop), SIGINT, SIGUSR1 (libfcgi's
 * own): waiting, leave at once; in a request, finish it first.  Installed
 * before FCGX_Init, which then keeps it. */
static void
on_stop(int sig)
{
	(void)sig;
	if (!busy)
		_exit(0);
	stopping = 1;
}

static int
is_listener(int fd)
{
	int v = 0;
	socklen_t len = sizeof v;

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 &&
	    v != 0;
}

/* Connects and prepares the statement; 0 or -1 (reason on stderr). */
static int
db_open(void)
{
	const char *url = getenv("DATABASE_URL");
	PGresult *r;
	int ok;

	if (conn != NULL)
		PQfinish(conn);
	conn = PQconnectdb(url != NULL ? url : "");
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "pk_responder: connect: %s",
		    conn != NULL ? PQerrorMessage(conn) : "out of memory\n");
		return -1;
	}
	r = PQprepare(conn, STMT, SQL, 1, NULL);
	ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "pk_responder: prepare: %s",
		    PQerrorMessage(conn));
	PQclear(r);
	return ok ? 0 : -1;
}

static void
reply(FCGX_Request *fr, int status, const char *body)
{
	char head[256];
	size_t blen = strlen(body);
	int n;

	n = snprintf(head, sizeof head,
	    "Status: %d %s\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "\r\n",
	    status, status == 200 ? "OK" : "Service Unavailable", blen);
	/* A client that went away: nothing to do, FCGX_Finish_r follows. */
	(void)FCGX_PutStr(head, n, fr->out);
	(void)FCGX_PutStr(body, (int)blen, fr->out);
}

static void
handle(FCGX_Request *fr, const char *id)
{
	const char *vals[1] = { id };
	char body[512];
	PGresult *r;

	r = PQexecPrepared(conn, STMT, 1, vals, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK ||
	    PQntuples(r) != 1) {
		PQclear(r);
		reply(fr, 503, "{\"error\":\"Service unavailable\"}");
		if (PQstatus(conn) != CONNECTION_OK)
			(void)db_open(); /* next request uses the new one */
		return;
	}
	/* The table holds digits and plain ASCII addresses: nothing to
	 * escape. */
	snprintf(body, sizeof body, "{\"id\":%s,\"email\":\"%s\"}",
	    PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
	PQclear(r);
	reply(fr, 200, body);
}

/* The connections a worker holds: like Bulwark's worker (cmd/worker.c), it
 * accepts itself and serves whichever connection has a request, so a
 * connection the front end keeps open (nginx fastcgi_keep_conn) never
 * stalls the others; libfcgi speaks the protocol through one FCGX_Request
 * per connection whose listen_sock (-1) can never accept.  The yardstick
 * checks nothing: it is the ceiling, not a server. */
#define MAXCONN 256

static FCGX_Request reqs[MAXCONN];
static int inuse[MAXCONN], watched[MAXCONN];

static void
serve_conn(int epfd, int i, const char *id)
{
	int keep;

	busy = 1;
	if (FCGX_Accept_r(&reqs[i]) < 0) { /* closed: libfcgi closed it */
		inuse[i] = 0;
		busy = 0;
		return;
	}
	keep = reqs[i].keepConnection;
	handle(&reqs[i], id);
	reqs[i].keepConnection = 1;
	FCGX_Finish_r(&reqs[i]);
	if (reqs[i].ipcFd < 0)
		inuse[i] = 0;
	else if (!keep) {
		close(reqs[i].ipcFd); /* leaves the epoll set with it */
		inuse[i] = 0;
	} else if (!watched[i]) {
		struct epoll_event ev;

		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, reqs[i].ipcFd, &ev) < 0) {
			close(reqs[i].ipcFd);
			inuse[i] = 0;
		} else
			watched[i] = 1;
	}
	busy = 0;
}

int
main(void)
{
	const char *id = getenv("BENCH_PK_ID");
	struct epoll_event ev, evs[64];
	struct sigaction sa;
	int epfd, fd, i, k, n;
	char peek;

	if (id == NULL || *id == '\0')
		id = "1";
	if (!is_listener(0)) {
		fprintf(stderr, "pk_responder: standard input is not a "
		    "listening socket; run it under spawn-fcgi\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop; /* no SA_RESTART: epoll_wait returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (FCGX_Init() != 0) {
		fprintf(stderr, "pk_responder: cannot initialise libfcgi\n");
		return 1;
	}
	sigaction(SIGPIPE, &sa, NULL);
	if (db_open() < 0)
		return 1;
	if (fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK) < 0 ||
	    (epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("pk_responder: epoll");
		return 1;
	}
	/* The listening socket wakes one idle worker per connection, as
	 * Bulwark's does (EPOLLEXCLUSIVE). */
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.u32 = MAXCONN;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) < 0) {
		perror("pk_responder: epoll_ctl");
		return 1;
	}
	while (!stopping) {
		if ((n = epoll_wait(epfd, evs, 64, -1)) < 0)
			continue; /* EINTR */
		for (k = 0; k < n && !stopping; k++) {
			i = (int)evs[k].data.u32;
			if (i < MAXCONN) {
				if (inuse[i])
					serve_conn(epfd, i, id);
				continue;
			}
			if ((fd = accept4(0, NULL, NULL, SOCK_CLOEXEC)) < 0) {
				if (errno == EBADF || errno == EINVAL ||
				    errno == ENOTSOCK) {
					fprintf(stderr, "pk_responder: listening "
					    "socket unusable: %s\n",
					    strerror(errno));
					return 1;
				}
				continue; /* EAGAIN: another worker took it */
			}
			for (i = 0; i < MAXCONN && inuse[i]; i++)
				;
			if (i == MAXCONN) {
				close(fd);
				continue;
			}
			FCGX_InitRequest(&reqs[i], -1, 0);
			reqs[i].ipcFd = fd;
			reqs[i].keepConnection = 1;
			reqs[i].detached = 1;
			inuse[i] = 1;
			watched[i] = 0;
			/* Like Bulwark's worker: a request that came with the
			 * connection is served at once, and only a connection
			 * that must wait, or is kept, enters the epoll set. */
			if (recv(fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) == 1) {
				serve_conn(epfd, i, id);
				continue;
			}
			ev.events = EPOLLIN;
			ev.data.u32 = (uint32_t)i;
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
				close(fd);
				inuse[i] = 0;
				continue;
			}
			watched[i] = 1;
		}
	}
	PQfinish(conn);
	return 0;
}
