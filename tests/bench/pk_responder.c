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
 * on standard input: spawn-fcgi -s SOCK -F N -- pk_responder.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

#define STMT "bench_pk"
#define SQL "SELECT id, email FROM bench_pk WHERE id = $1"

static PGconn *conn;
static volatile sig_atomic_t busy, stopping;

/* SIGTERM (spawn-fcgi's and the bench's stop), SIGINT, SIGUSR1 (libfcgi's
 * own): waiting for a connection, leave at once; in a request, finish it
 * first.  Installed before FCGX_Init, which then keeps it: libfcgi's own
 * handler only sets a flag and would leave the worker blocked in accept. */
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

int
main(void)
{
	const char *id = getenv("BENCH_PK_ID");
	struct sigaction sa;
	FCGX_Request fr;
	int rc, failures = 0;

	if (id == NULL || *id == '\0')
		id = "1";
	if (!is_listener(0)) {
		fprintf(stderr, "pk_responder: standard input is not a "
		    "listening socket; run it under spawn-fcgi\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop; /* no SA_RESTART: accept() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		fprintf(stderr, "pk_responder: cannot initialise libfcgi\n");
		return 1;
	}
	if (db_open() < 0)
		return 1;
	while (!stopping) {
		rc = FCGX_Accept_r(&fr);
		if (rc < 0) {
			if (stopping || rc == -EINTR)
				continue;
			/* One failed accept (a peer that went away, EINTR,
			 * EMFILE) is not the end: only a listening socket
			 * that is gone is. */
			if (!is_listener(0)) {
				fprintf(stderr, "pk_responder: listening socket "
				    "unusable: %s\n", strerror(rc < 0 &&
				    rc > -4096 ? -rc : EINVAL));
				return 1;
			}
			if (++failures > 10)
				usleep(100000);
			continue;
		}
		failures = 0;
		busy = 1;
		handle(&fr, id);
		FCGX_Finish_r(&fr);
		busy = 0;
	}
	FCGX_Free(&fr, 1);
	PQfinish(conn);
	return 0;
}
