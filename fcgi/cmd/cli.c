/*
 * cmd/cli.c -- `bulwark user ...`: the operator's commands.
 *
 *   user add --email E [--admin]     a new user (the first admin)
 *   user list                        every user, tab-separated
 *   user set-role --email E --role R user or admin
 *   user set-password --email E      like a reset: every session and token
 *   user delete --email E            the user, their sessions and tokens
 *   user 2fa-off --email E           two-factor off, every session ended
 *
 * A password never comes from the command line, where `ps` would show it:
 * from a terminal it is read twice without echo, from a pipe as one line.
 * Exit codes a script can rely on (docs/bulwark.8): 0 done, 1 a failure
 * (the database, the configuration), 2 a usage error or a refused input,
 * 3 no such user, 4 the email is taken.  What was done goes to stdout in
 * one line, a failure to stderr as "bulwark: ...".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cmd/cmd.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/validate.h"
#include "db/db.h"

enum cli_exit {
	CLI_OK = 0,
	CLI_FAIL = 1,
	CLI_USAGE = 2,
	CLI_NO_USER = 3,
	CLI_EXISTS = 4,
};

#define PW_LINE_MAX 1030 /* 1024 bytes, CR LF, NUL, one to spare */

int
cli_is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bulwark user add --email EMAIL [--admin]\n"
	    "       bulwark user list\n"
	    "       bulwark user set-role --email EMAIL --role user|admin\n"
	    "       bulwark user set-password --email EMAIL\n"
	    "       bulwark user delete --email EMAIL\n"
	    "       bulwark user 2fa-off --email EMAIL\n"
	    "\n"
	    "Passwords are read from standard input: twice without echo from a\n"
	    "terminal, one line from a pipe.  set-password ends every session\n"
	    "and token of the user, like a password reset; 2fa-off turns two-\n"
	    "factor authentication off and does the same.  Exit status: 0 done,\n"
	    "1 failure, 2 usage or refused input, 3 no such user, 4 email "
	    "taken.\n");
}

/* ---- reading a password --------------------------------------------------- */

static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

static void
restore_tty(int sig)
{
	if (tty_changed)
		tcsetattr(0, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line from standard input into buf (cap PW_LINE_MAX), without its
 * line end; echo off when it is a terminal.  Its length, or -1. */
static long
read_line(const char *prompt, char *buf, size_t cap)
{
	struct termios t;
	size_t len;
	int tty = isatty(0), got;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		if (tcgetattr(0, &saved_tty) == 0) {
			t = saved_tty;
			t.c_lflag &= ~(tcflag_t)ECHO;
			t.c_lflag |= ECHONL;
			signal(SIGINT, restore_tty);
			signal(SIGTERM, restore_tty);
			tty_changed = tcsetattr(0, TCSAFLUSH, &t) == 0;
		}
	}
	got = fgets(buf, (int)cap, stdin) != NULL;
	if (tty_changed) {
		tcsetattr(0, TCSAFLUSH, &saved_tty);
		tty_changed = 0;
	}
	if (!got)
		return -1;
	len = strcspn(buf, "\r\n");
	if (buf[len] == '\0' && len + 1 == cap) {
		crypto_wipe(buf, cap);
		return -2; /* no line end within the limit: too long */
	}
	buf[len] = '\0';
	return (long)len;
}

/* The new password for email into pw (PW_LINE_MAX), checked by the signup
 * rules; from a terminal asked twice.  Its length, or -1 after saying why
 * (the caller exits CLI_USAGE). */
static long
read_new_password(const char *email, char *pw)
{
	char again[PW_LINE_MAX], prompt[320];
	const char *msg;
	long len, len2;

	snprintf(prompt, sizeof prompt, "New password for %s: ", email);
	if ((len = read_line(prompt, pw, PW_LINE_MAX)) < 0) {
		fprintf(stderr, "bulwark: %s\n", len == -2 ?
		    "password: the line is too long" :
		    "no password on standard input");
		return -1;
	}
	if ((msg = check_new_password(pw, (size_t)len, email)) != NULL ||
	    (!utf8_valid(pw, (size_t)len) && (msg = "Must be valid UTF-8"))) {
		fprintf(stderr, "bulwark: password: %s\n", msg);
		return -1;
	}
	if (isatty(0)) {
		len2 = read_line("Again: ", again, sizeof again);
		if (len2 != len || !crypto_equal(pw, (size_t)len, again,
		    (size_t)len2)) {
			crypto_wipe(again, sizeof again);
			fprintf(stderr, "bulwark: the passwords differ\n");
			return -1;
		}
		crypto_wipe(again, sizeof again);
	}
	return len;
}

/* ---- arguments ------------------------------------------------------------ */

struct cli_args {
	const char *email_raw;
	const char *role;
	int admin;
	char email[256];
};

/* Parses the options of `user <sub>` (argv[0] is the subcommand).
 * CLI_OK, or an exit code after the message (help: -1, exit 0). */
static int
parse(int argc, char **argv, struct cli_args *a, int want_email)
{
	const char *msg;
	int i;

	memset(a, 0, sizeof *a);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--email") == 0 && i + 1 < argc)
			a->email_raw = argv[++i];
		else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			a->role = argv[++i];
		else if (strcmp(argv[i], "--admin") == 0)
			a->admin = 1;
		else if (cli_is_help(argv[i])) {
			usage(stdout);
			return -1;
		} else {
			fprintf(stderr, "bulwark: user %s: unexpected %s\n",
			    argv[0], argv[i]);
			return CLI_USAGE;
		}
	}
	if (!want_email) {
		if (a->email_raw == NULL && a->role == NULL && !a->admin)
			return CLI_OK;
		fprintf(stderr, "bulwark: user %s takes no option\n", argv[0]);
		return CLI_USAGE;
	}
	if (a->email_raw == NULL) {
		fprintf(stderr, "bulwark: user %s needs --email EMAIL\n",
		    argv[0]);
		return CLI_USAGE;
	}
	if ((msg = check_email(a->email_raw, strlen(a->email_raw), a->email,
	    sizeof a->email)) != NULL) {
		fprintf(stderr, "bulwark: email: %s\n", msg);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* Connects; CLI_OK or CLI_FAIL after saying why. */
static int
connect_db(void)
{
	if (db_ensure() == DB_OK)
		return CLI_OK;
	fprintf(stderr, "bulwark: the database is not reachable, or its "
	    "schema is not migrated (bulwark migrate); see DATABASE_URL\n");
	return CLI_FAIL;
}

/* What an operator did, in the log when there is a log file (on a
 * terminal the line printed says it). */
#define AUDIT(...)                                                           \
	do {                                                                 \
		if (cfg.log_file != NULL)                                    \
			log_event("info", __VA_ARGS__);                      \
	} while (0)

/* Runs stmt; on failure says so and returns CLI_FAIL. */
#define RUN(a, stmt, r, ...)                                                 \
	(db_exec((a), (stmt), (r), __VA_ARGS__) == DB_OK ? CLI_OK :         \
	    (fprintf(stderr, "bulwark: the database refused the change or "  \
	    "went away\n"), CLI_FAIL))

/* ---- the subcommands ------------------------------------------------------ */

static int
user_add(struct arena *ar, struct cli_args *a)
{
	char pw[PW_LINE_MAX], hash[PW_HASH_MAX];
	const char *role = a->admin ? "admin" : "user";
	PGresult *r;
	long len;
	int rc = CLI_USAGE;

	if ((len = read_new_password(a->email, pw)) < 0)
		goto out;
	rc = CLI_FAIL;
	if (password_init() < 0 || password_hash(pw, (size_t)len, hash) < 0) {
		fprintf(stderr, "bulwark: cannot hash the password\n");
		goto out;
	}
	if ((rc = connect_db()) != CLI_OK ||
	    (rc = RUN(ar, STMT_user_insert, &r, DB_TEXT(a->email),
	    DB_TEXT(hash), DB_TEXT(role))) != CLI_OK)
		goto out;
	if (PQntuples(r) != 1) {
		fprintf(stderr, "bulwark: %s already exists\n", a->email);
		rc = CLI_EXISTS;
		goto out;
	}
	AUDIT("user_created", LF_S("userId", db_text(r, 0, 0)),
	    LF_S("email", a->email), LF_S("role", role), LF_S("by", "cli"));
	printf("created %s %s (%s)\n", role, a->email, db_text(r, 0, 0));
out:
	crypto_wipe(pw, sizeof pw);
	crypto_wipe(hash, sizeof hash);
	return rc;
}

static int
user_list(struct arena *ar)
{
	PGresult *r;
	int rc, i;

	if ((rc = connect_db()) != CLI_OK ||
	    (rc = RUN(ar, STMT_users_list, &r)) != CLI_OK)
		return rc;
	printf("id\temail\trole\temail_verified\ttwo_factor\tcreated_at\n");
	for (i = 0; i < PQntuples(r); i++)
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", db_text(r, i, USER_COL_ID),
		    db_text(r, i, USER_COL_EMAIL), db_text(r, i, USER_COL_ROLE),
		    db_bool(r, i, USER_COL_EMAIL_VERIFIED) ? "yes" : "no",
		    db_bool(r, i, USER_COL_TWO_FACTOR_ENABLED) ? "yes" : "no",
		    db_text(r, i, USER_COL_CREATED_AT));
	return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

static int
user_set_role(struct arena *ar, struct cli_args *a)
{
	PGresult *r;
	int rc;

	if (a->role == NULL || (strcmp(a->role, "user") != 0 &&
	    strcmp(a->role, "admin") != 0)) {
		fprintf(stderr, "bulwark: user set-role needs --role user or "
		    "--role admin\n");
		return CLI_USAGE;
	}
	if ((rc = connect_db()) != CLI_OK ||
	    (rc = RUN(ar, STMT_user_set_role, &r, DB_TEXT(a->email),
	    DB_TEXT(a->role))) != CLI_OK)
		return rc;
	if (PQntuples(r) != 1) {
		fprintf(stderr, "bulwark: no user %s\n", a->email);
		return CLI_NO_USER;
	}
	AUDIT("role_changed", LF_S("userId", db_text(r, 0, 0)),
	    LF_S("email", a->email), LF_S("from", db_text(r, 0, 1)),
	    LF_S("role", a->role), LF_S("by", "cli"));
	printf("role of %s: %s -> %s\n", a->email, db_text(r, 0, 1), a->role);
	return CLI_OK;
}

static int
user_set_password(struct arena *ar, struct cli_args *a)
{
	char pw[PW_LINE_MAX], hash[PW_HASH_MAX];
	PGresult *r;
	long len;
	int rc = CLI_USAGE;

	if ((len = read_new_password(a->email, pw)) < 0)
		goto out;
	rc = CLI_FAIL;
	if (password_init() < 0 || password_hash(pw, (size_t)len, hash) < 0) {
		fprintf(stderr, "bulwark: cannot hash the password\n");
		goto out;
	}
	if ((rc = connect_db()) != CLI_OK ||
	    (rc = RUN(ar, STMT_user_set_password, &r, DB_TEXT(a->email),
	    DB_TEXT(hash))) != CLI_OK)
		goto out;
	if (PQntuples(r) != 1) {
		fprintf(stderr, "bulwark: no user %s\n", a->email);
		rc = CLI_NO_USER;
		goto out;
	}
	AUDIT("password_set", LF_S("userId", db_text(r, 0, 0)),
	    LF_S("email", a->email), LF_S("by", "cli"));
	printf("password set for %s; sessions ended: %lld, refresh families "
	    "revoked: %lld, access tokens issued before now refused\n",
	    a->email, db_int(r, 0, 1), db_int(r, 0, 2));
out:
	crypto_wipe(pw, sizeof pw);
	crypto_wipe(hash, sizeof hash);
	return rc;
}

static int
user_delete(struct arena *ar, struct cli_args *a)
{
	PGresult *r;
	int rc;

	if ((rc = connect_db()) != CLI_OK ||
	    (rc = RUN(ar, STMT_user_delete_by_email, &r,
	    DB_TEXT(a->email))) != CLI_OK)
		return rc;
	if (PQntuples(r) != 1) {
		fprintf(stderr, "bulwark: no user %s\n", a->email);
		return CLI_NO_USER;
	}
	AUDIT("user_deleted", LF_S("userId", db_text(r, 0, 0)),
	    LF_S("email", a->email), LF_S("by", "cli"));
	printf("deleted %s (%s)\n", a->email, db_text(r, 0, 0));
	return CLI_OK;
}

/* For a user who lost the second factor, or whose session was hijacked
 * to turn it on: no route can turn it off without a code. */
static int
user_2fa_off(struct arena *ar, struct cli_args *a)
{
	PGresult *r;
	int rc;

	if ((rc = connect_db()) != CLI_OK ||
	    (rc = RUN(ar, STMT_user_2fa_off, &r, DB_TEXT(a->email))) != CLI_OK)
		return rc;
	if (PQntuples(r) != 1) {
		fprintf(stderr, "bulwark: no user %s\n", a->email);
		return CLI_NO_USER;
	}
	AUDIT("twofa_disabled", LF_S("userId", db_text(r, 0, 0)),
	    LF_S("email", a->email), LF_S("by", "cli"));
	printf("two-factor authentication %s for %s; every session and "
	    "token ended\n", db_bool(r, 0, 1) ? "turned off" : "was not on",
	    a->email);
	return CLI_OK;
}

int
cli_user(int argc, char **argv)
{
	static const struct {
		const char *name;
		int want_email;
	} subs[] = { { "add", 1 }, { "list", 0 }, { "set-role", 1 },
	    { "set-password", 1 }, { "delete", 1 }, { "2fa-off", 1 } };
	struct cli_args a;
	struct arena ar;
	size_t i;
	int rc;

	if (argc < 2 || cli_is_help(argv[1])) {
		usage(argc >= 2 ? stdout : stderr);
		return argc >= 2 ? CLI_OK : CLI_USAGE;
	}
	for (i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			break;
	if (i == sizeof subs / sizeof subs[0]) {
		fprintf(stderr, "bulwark: user: unknown command %s\n", argv[1]);
		usage(stderr);
		return CLI_USAGE;
	}
	if ((rc = parse(argc - 1, argv + 1, &a, subs[i].want_email)) != 0)
		return rc < 0 ? CLI_OK : rc;
	arena_init(&ar, 256 * 1024);
	if (strcmp(argv[1], "add") == 0)
		rc = user_add(&ar, &a);
	else if (strcmp(argv[1], "list") == 0)
		rc = user_list(&ar);
	else if (strcmp(argv[1], "set-role") == 0)
		rc = user_set_role(&ar, &a);
	else if (strcmp(argv[1], "set-password") == 0)
		rc = user_set_password(&ar, &a);
	else if (strcmp(argv[1], "2fa-off") == 0)
		rc = user_2fa_off(&ar, &a);
	else
		rc = user_delete(&ar, &a);
	arena_free(&ar);
	db_close();
	return rc;
}
