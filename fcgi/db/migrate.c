/*
 * db/migrate.c -- `bulwark migrate`: applies schema/NNN_*.sql in order.
 *
 * The migrations are compiled in (tools/embed.pl), so a binary always
 * carries the schema it expects.  Each runs in its own transaction and is
 * recorded in bulwark.schema_migrations; an advisory lock serialises
 * concurrent runs (several hosts deploying at once).  Running it again
 * changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

/* Any fixed number: the lock only has to be the same for every run. */
#define MIGRATE_LOCK "724981553"

static int
ok(PGconn *c, PGresult *r, const char *what)
{
	ExecStatusType s = PQresultStatus(r);

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return 1;
	fprintf(stderr, "bulwark migrate: %s: %s", what,
	    r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c));
	return 0;
}

/* Static SQL only: nothing here comes from a request. */
static int
run_static(PGconn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c, sql);
	int good = ok(c, r, what);

	PQclear(r);
	return good ? 0 : -1;
}

static int
applied(PGconn *c, int version)
{
	char v[16];
	const char *vals[1] = { v };
	PGresult *r;
	int yes;

	snprintf(v, sizeof v, "%d", version);
	r = PQexecParams(c, "SELECT 1 FROM bulwark.schema_migrations "
	    "WHERE version = $1::int", 1, NULL, vals, NULL, NULL, 0);
	if (!ok(c, r, "reading schema_migrations")) {
		PQclear(r);
		return -1;
	}
	yes = PQntuples(r) == 1;
	PQclear(r);
	return yes;
}

static int
apply(PGconn *c, const struct migration *m)
{
	char v[16];
	const char *vals[2] = { v, m->name };
	PGresult *r;

	if (run_static(c, "BEGIN", "begin") < 0)
		return -1;
	if (run_static(c, m->sql, m->name) < 0)
		goto fail;
	snprintf(v, sizeof v, "%d", m->version);
	r = PQexecParams(c, "INSERT INTO bulwark.schema_migrations "
	    "(version, name) VALUES ($1::int, $2)", 2, NULL, vals, NULL, NULL,
	    0);
	if (!ok(c, r, "recording the migration")) {
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	if (run_static(c, "COMMIT", "commit") < 0)
		goto fail;
	printf("applied %03d_%s\n", m->version, m->name);
	return 0;
fail:
	run_static(c, "ROLLBACK", "rollback");
	return -1;
}

int
migrate_run(void)
{
	char err[1024];
	PGconn *c;
	size_t i;
	int rc = 1, n = 0, a;

	if ((c = db_connect_raw(err, sizeof err)) == NULL) {
		fprintf(stderr, "bulwark migrate: %s\n", err);
		return 1;
	}
	if (run_static(c, "SET client_min_messages = warning", "settings") < 0 ||
	    run_static(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")",
	    "lock") < 0)
		goto out;
	if (run_static(c, "CREATE SCHEMA IF NOT EXISTS bulwark; "
	    "CREATE TABLE IF NOT EXISTS bulwark.schema_migrations ("
	    " version int PRIMARY KEY, name text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())",
	    "creating schema_migrations") < 0)
		goto unlock;
	for (i = 0; i < nmigrations; i++) {
		if ((a = applied(c, migrations[i].version)) < 0)
			goto unlock;
		if (a)
			continue;
		if (apply(c, &migrations[i]) < 0)
			goto unlock;
		n++;
	}
	printf("schema up to date (%zu migrations, %d applied now)\n",
	    nmigrations, n);
	rc = 0;
unlock:
	run_static(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")", "unlock");
out:
	PQfinish(c);
	return rc;
}
