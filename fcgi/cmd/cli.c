/*
 * cmd/cli.c -- `bulwark user add --email E [--admin]`.
 *
 * How an operator makes the first admin: the password comes from standard
 * input (one line), never from the command line where `ps` would show it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cmd/cmd.h"
#include "core/crypto.h"
#include "core/utf8.h"
#include "core/validate.h"
#include "db/db.h"

int
cli_is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bulwark user add --email EMAIL [--admin]\n"
	    "  Creates a user; the password is read from standard input.\n");
}

int
cli_user(int argc, char **argv)
{
	char email[256], pw[1030], hash[PW_HASH_MAX], err[1024];
	const char *raw = NULL, *msg, *vals[3];
	size_t len;
	int admin = 0, i, rc = 1;
	PGconn *c = NULL;
	PGresult *r = NULL;

	if (argc < 2 || strcmp(argv[1], "add") != 0) {
		usage(argc >= 2 && cli_is_help(argv[1]) ? stdout : stderr);
		return argc >= 2 && cli_is_help(argv[1]) ? 0 : 2;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--email") == 0 && i + 1 < argc)
			raw = argv[++i];
		else if (strcmp(argv[i], "--admin") == 0)
			admin = 1;
		else if (cli_is_help(argv[i])) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (raw == NULL) {
		usage(stderr);
		return 2;
	}
	if ((msg = check_email(raw, strlen(raw), email, sizeof email)) != NULL) {
		fprintf(stderr, "bulwark: email: %s\n", msg);
		return 2;
	}
	if (isatty(0))
		fprintf(stderr, "Password for %s: ", email);
	if (fgets(pw, sizeof pw, stdin) == NULL) {
		fprintf(stderr, "bulwark: no password on standard input\n");
		return 2;
	}
	len = strcspn(pw, "\r\n");
	pw[len] = '\0';
	if ((msg = check_new_password(pw, len, email)) != NULL ||
	    (!utf8_valid(pw, len) && (msg = "Must be valid UTF-8"))) {
		fprintf(stderr, "bulwark: password: %s\n", msg);
		goto out;
	}
	if (password_init() < 0 || password_hash(pw, len, hash) < 0) {
		fprintf(stderr, "bulwark: cannot hash the password\n");
		goto out;
	}
	if ((c = db_connect_raw(err, sizeof err)) == NULL) {
		fprintf(stderr, "bulwark: %s\n", err);
		goto out;
	}
	vals[0] = email;
	vals[1] = hash;
	vals[2] = admin ? "admin" : "user";
	r = PQexecParams(c, stmt_sql[STMT_user_insert], 3, NULL, vals, NULL,
	    NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "bulwark: %s", PQresultErrorMessage(r));
		goto out;
	}
	if (PQntuples(r) != 1) {
		fprintf(stderr, "bulwark: %s already exists\n", email);
		goto out;
	}
	printf("created %s %s (%s)\n", vals[2], email, PQgetvalue(r, 0, 0));
	rc = 0;
out:
	PQclear(r);
	if (c != NULL)
		PQfinish(c);
	crypto_wipe(pw, sizeof pw);
	crypto_wipe(hash, sizeof hash);
	return rc;
}
