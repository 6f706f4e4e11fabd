/*
 * db/db.c -- the worker's one PostgreSQL connection.
 *
 * Opened after fork, never before.  Every statement in sql/ is prepared once
 * per connection, and again after a reconnect.  While the server is away
 * callers get DB_UNAVAILABLE (the route answers 503).  A refused connection
 * costs microseconds and is retried on the next request, so service resumes
 * the moment the server is back; an attempt that was slow (a host that does
 * not answer) is not repeated for RECONNECT_MS, so an outage never makes
 * every request wait for connect_timeout.
 *
 * No statement may hang a worker: the server stops it after
 * BULWARK_DB_TIMEOUT seconds (statement_timeout), and the worker gives up
 * on its own two seconds later (a stalled server, a lost network), closes
 * the connection and answers 503.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"

#define RECONNECT_MS 1000
#define SLOW_CONNECT_MS 50
#define IDLE_PROBE_MS 100
#define CLIENT_GRACE_MS 2000

static PGconn *conn;
static long long retry_after_ms; /* no attempt before this (monotonic) */
static int down;                 /* logged as down; log the way back */
static long long last_used_ms;   /* when the last statement finished */

static PGconn *
connect_params(void)
{
	/* search_path is pinned: SQL names resolve in schema bulwark only
	 * (pg_catalog is always searched first).  TimeZone and DateStyle fix
	 * the text of a timestamptz ("2026-01-02 03:04:05.678+00"), which
	 * json.c turns into RFC 3339.  Keepalives notice a dead peer on TCP.
	 * Keywords after dbname override what DATABASE_URL expands to; the
	 * application_name before it is only a default. */
	static char options[256];
	const char *keys[] = { "application_name", "dbname", "options",
		"connect_timeout", "keepalives", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "tcp_user_timeout",
		NULL };
	const char *vals[] = { "bulwark", cfg.database_url, options, "3", "1",
		"10", "3", "3", "15000", NULL };

	snprintf(options, sizeof options,
	    "-c search_path=bulwark -c TimeZone=UTC -c DateStyle=ISO "
	    "-c statement_timeout=%ld -c lock_timeout=%ld "
	    "-c idle_in_transaction_session_timeout=%ld",
	    cfg.db_timeout * 1000, cfg.db_timeout * 500,
	    cfg.db_timeout * 1000);

	if (cfg.database_url == NULL) /* libpq's PG* variables */
		vals[1] = "";
	return PQconnectdbParams(keys, vals, 1);
}

PGconn *
db_connect_raw(char *err, size_t errlen)
{
	PGconn *c = connect_params();

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to the database: %s",
		    PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

void
db_close(void)
{
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
}

static int
prepare_all(PGconn *c)
{
	PGresult *r;
	int i, ok;

	for (i = 0; i < STMT__COUNT; i++) {
		r = PQprepare(c, stmt_name[i], stmt_sql[i], 0, NULL);
		ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			log_event("error", "internal_error",
			    LF_S("what", "prepare"),
			    LF_S("statement", stmt_name[i]),
			    LF_S("detail", r != NULL ?
			    PQresultErrorMessage(r) : "out of memory"));
		PQclear(r);
		if (!ok)
			return -1;
	}
	return 0;
}

/* 1 when the server has closed the connection: what it sent before (a
 * termination notice) has been read, and what is left is the end of the
 * stream.  libpq notices that only on a read past the notice, which may
 * be the next statement's, so a worker that sat idle through a restart
 * would fail its first request. */
static int
peer_closed(int fd)
{
	char c;

	return fd >= 0 && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

enum db_status
db_ensure(void)
{
	long long t;

	t = clock_ms();
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK) {
		/* After an idle spell, read what the server sent meanwhile: a
		 * termination notice (a restart) turns the status to
		 * CONNECTION_BAD here rather than failing the request's first
		 * statement.  A connection in steady use skips the syscall. */
		if (t - last_used_ms < IDLE_PROBE_MS &&
		    PQtransactionStatus(conn) == PQTRANS_IDLE)
			return DB_OK;
		if (PQconsumeInput(conn) == 1 &&
		    PQstatus(conn) == CONNECTION_OK &&
		    PQtransactionStatus(conn) == PQTRANS_IDLE &&
		    !peer_closed(PQsocket(conn)))
			return DB_OK;
	}
	if (t < retry_after_ms)
		return DB_UNAVAILABLE;
	db_close();
	conn = connect_params();
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK ||
	    prepare_all(conn) < 0) {
		if (!down && conn != NULL)
			log_event("error", "db_unavailable", LF_I("pid", getpid()),
			    LF_S("detail", PQerrorMessage(conn)));
		down = 1;
		db_close();
		if (clock_ms() - t > SLOW_CONNECT_MS)
			retry_after_ms = clock_ms() + RECONNECT_MS;
		return DB_UNAVAILABLE;
	}
	log_event("info", "db_connected", LF_I("pid", getpid()),
	    LF_S("after_outage", down ? "yes" : NULL));
	down = 0;
	retry_after_ms = 0;
	return DB_OK;
}

static void
clear_result(void *r)
{
	PQclear(r);
}

/* Waits for the result of the statement just sent, until the deadline.
 * The result (possibly an error result), or NULL on timeout or a lost
 * connection; the caller owns it. */
static PGresult *
await_result(long long deadline)
{
	struct pollfd pfd;
	PGresult *r, *extra;
	long long left;
	int rc;

	while (PQisBusy(conn)) {
		if ((left = deadline - clock_ms()) <= 0)
			return NULL;
		pfd.fd = PQsocket(conn);
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno != EINTR)
			return NULL;
		if (rc > 0 && PQconsumeInput(conn) == 0)
			break; /* PQgetResult reports the error */
	}
	r = PQgetResult(conn);
	while ((extra = PQgetResult(conn)) != NULL) /* one statement: none */
		PQclear(extra);
	return r;
}

enum db_status
db_run(struct arena *a, enum stmt s, const struct db_arg *args, size_t n,
    PGresult **out)
{
	const char *vals[DB_MAX_ARGS], *state;
	char nums[DB_MAX_ARGS][24];
	int lens[DB_MAX_ARGS], fmts[DB_MAX_ARGS];
	size_t i;
	PGresult *r;
	ExecStatusType st;

	*out = NULL;
	if (n > DB_MAX_ARGS)
		return DB_ERROR;
	for (i = 0; i < n; i++) {
		lens[i] = 0;
		fmts[i] = 0;
		switch (args[i].kind) {
		case DBA_TEXT:
			vals[i] = args[i].ptr;
			break;
		case DBA_INT:
			snprintf(nums[i], sizeof nums[i], "%lld", args[i].num);
			vals[i] = nums[i];
			break;
		case DBA_BYTES:
			if (args[i].len > (size_t)1 << 30)
				return DB_ERROR;
			vals[i] = args[i].ptr;
			lens[i] = (int)args[i].len;
			fmts[i] = 1;
			break;
		default:
			return DB_ERROR;
		}
	}
	if (db_ensure() != DB_OK)
		return DB_UNAVAILABLE;
	if (PQsendQueryPrepared(conn, stmt_name[s], (int)n, vals, lens, fmts,
	    stmt_binary[s]) == 0)
		r = NULL;
	else if ((r = await_result(clock_ms() + cfg.db_timeout * 1000 +
	    CLIENT_GRACE_MS)) == NULL && PQstatus(conn) == CONNECTION_OK) {
		/* The server did not answer in time: give the connection up
		 * (its state is unknown) and answer 503. */
		log_event("error", "db_unavailable", LF_I("pid", getpid()),
		    LF_S("statement", stmt_name[s]),
		    LF_S("detail", "no answer before the deadline"));
		down = 1;
		db_close();
		return DB_UNAVAILABLE;
	}
	last_used_ms = clock_ms();
	st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (arena_defer(a, clear_result, r) < 0)
			return DB_ERROR;
		*out = r;
		return DB_OK;
	}
	state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (PQstatus(conn) != CONNECTION_OK || state == NULL ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) {
		log_event("error", "db_unavailable", LF_I("pid", getpid()),
		    LF_S("statement", stmt_name[s]),
		    LF_S("detail", PQerrorMessage(conn)));
		down = 1;
		PQclear(r);
		db_close();
		return DB_UNAVAILABLE;
	}
	/* Cancelled by statement_timeout or lock_timeout: an overloaded
	 * database, not a bug.  The connection itself is fine. */
	if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0) {
		log_event("error", "db_unavailable", LF_I("pid", getpid()),
		    LF_S("statement", stmt_name[s]), LF_S("sqlstate", state));
		PQclear(r);
		return DB_UNAVAILABLE;
	}
	/* Values are never logged: they may hold secrets. */
	log_event("error", "internal_error", LF_S("what", "statement"),
	    LF_S("statement", stmt_name[s]), LF_S("sqlstate", state),
	    LF_S("detail", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)));
	PQclear(r);
	return DB_ERROR;
}

const char *
db_text(PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col);
}

int
db_bool(PGresult *r, int row, int col)
{
	const char *v = PQgetvalue(r, row, col);

	/* Binary: one byte, 1 for true; text: "t". */
	if (PQfformat(r, col) == 1)
		return PQgetlength(r, row, col) == 1 && v[0] == 1;
	return v[0] == 't';
}

int
db_time_us(PGresult *r, int row, int col, long long *out)
{
	/* 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix microseconds. */
	const long long pg_epoch = 946684800LL * 1000000;
	const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
	unsigned long long u = 0;
	long long t;
	int i;

	if (PQfformat(r, col) != 1 || PQgetisnull(r, row, col) ||
	    PQgetlength(r, row, col) != 8)
		return -1;
	for (i = 0; i < 8; i++)
		u = u << 8 | v[i];
	t = (long long)u;
	/* +-infinity are INT64_MAX and INT64_MIN: no time to add to. */
	if (t > LLONG_MAX - pg_epoch || t < LLONG_MIN + pg_epoch)
		return -1;
	*out = t + pg_epoch;
	return 0;
}

long long
db_int(PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}
