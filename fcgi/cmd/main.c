/*
 * cmd/main.c -- the `bulwark` command and its subcommands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "cmd/cmd.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"
#include "mail/mail.h"


static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bulwark [serve [--listen ADDR --workers N]]\n"
	    "       bulwark migrate\n"
	    "       bulwark user add --email EMAIL [--admin]\n"
	    "       bulwark user list\n"
	    "       bulwark user set-role --email EMAIL --role user|admin\n"
	    "       bulwark user set-password --email EMAIL\n"
	    "       bulwark user delete --email EMAIL\n"
	    "       bulwark config\n"
	    "       bulwark hash-bench [--rounds N]\n"
	    "       bulwark mail-deliver\n"
	    "       bulwark mail-status\n"
	    "       bulwark rekey\n"
	    "       bulwark --version\n"
	    "\n"
	    "Hardened authentication API, served over FastCGI.\n"
	    "Each subcommand takes --help.  Configuration comes from the\n"
	    "environment and the file named by BULWARK_CONFIG (see README).\n");
}

static void
serve_usage(FILE *f)
{
	fprintf(f,
	    "usage: bulwark serve\n"
	    "       bulwark serve --listen ADDR --workers N\n"
	    "       bulwark serve --workers N     (systemd socket activation)\n"
	    "\n"
	    "Without --listen, runs one FastCGI worker on the listening socket\n"
	    "it was started with on fd 0 (mod_fcgid, lighttpd bin-path,\n"
	    "spawn-fcgi).  With --listen (a socket path, made mode 0660, or\n"
	    "HOST:PORT), runs its own pool of N workers (default 4): respawns\n"
	    "a worker that dies, stops on SIGTERM or SIGINT, reloads on\n"
	    "SIGHUP.  Started by systemd with one socket (LISTEN_FDS=1 and\n"
	    "LISTEN_PID, the socket on fd 3), runs that pool on it.\n");
}

/* A BULWARK_* key of the environment that the program does not read is
 * most likely a typo: said on stderr and in the log, never fatal (the
 * environment is shared with other programs). */
static void
warn_unknown_env(void)
{
	const char *names[64];
	char name[128], hint[96];
	size_t i, n = config_unknown_env(names, 64);

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "%.*s",
		    (int)strcspn(names[i], "="), names[i]);
		config_suggest(name, hint, sizeof hint);
		fprintf(stderr, "bulwark: warning: %s in the environment is "
		    "not a setting, ignored%s\n", name, hint);
		log_event("warning", "config_unknown_key", LF_S("key", name),
		    LF_S("source", "environment"));
	}
}

static int
load(int need_secret)
{
	char err[512];

	if (config_load(need_secret, err, sizeof err) < 0) {
		fprintf(stderr, "bulwark: %s\n", err);
		/* Under spawn-fcgi stderr is /dev/null: say it in the log too. */
		if (getenv("BULWARK_LOG_FILE") != NULL &&
		    log_open(getenv("BULWARK_LOG_FILE")) == 0)
			log_msg("error", "refusing to start: %s", err);
		return -1;
	}
	if (log_open(cfg.log_file) < 0) {
		fprintf(stderr, "bulwark: cannot open BULWARK_LOG_FILE %s\n",
		    cfg.log_file);
		return -1;
	}
	warn_unknown_env();
	return 0;
}

/* `bulwark config`: what serve would run with, secrets masked; exit 1
 * (with the reason) when serve would refuse it. */
static int
cmd_config(int argc, char **argv)
{
	char err[512];

	if (argc > 1) {
		if (cli_is_help(argv[1])) {
			printf("usage: bulwark config\n"
			    "Prints every setting in force and where it comes "
			    "from (environment, file:line, default),\n"
			    "secrets masked.  Exits 1 when `bulwark serve` "
			    "would refuse the configuration.\n");
			return 0;
		}
		fprintf(stderr, "usage: bulwark config\n");
		return 2;
	}
	if (config_load(1, err, sizeof err) < 0) {
		fprintf(stderr, "bulwark: %s\n", err);
		return 1;
	}
	warn_unknown_env();
	config_show(stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
cmd_serve(int argc, char **argv)
{
	const char *listen = NULL;
	char *end, err[512];
	long workers = 4;
	int i, fd;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			serve_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen = argv[++i];
		else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			workers = strtol(argv[++i], &end, 10);
			if (*end != '\0' || workers < 1 || workers > 256) {
				fprintf(stderr, "bulwark: --workers must be "
				    "1..256\n");
				return 2;
			}
		} else {
			serve_usage(stderr);
			return 2;
		}
	}
	if (load(1) < 0)
		return 1;
	if ((fd = listen_inherited(err, sizeof err)) == -1) {
		fprintf(stderr, "bulwark: %s\n", err);
		log_msg("error", "refusing to start: %s", err);
		return 1;
	}
	if (fd >= 0 && listen != NULL) {
		fprintf(stderr, "bulwark: --listen %s and a socket from systemd "
		    "(LISTEN_FDS): give one of them\n", listen);
		return 2;
	}
	if (fd >= 0)
		return pool_serve(fd, "systemd socket (fd 3)", 0, (int)workers);
	if (listen != NULL)
		return pool_run(listen, (int)workers);
	if (!fd_is_listener(0)) {
		fprintf(stderr, "bulwark: standard input is not a FastCGI "
		    "listening socket; start it from a FastCGI process manager "
		    "or use `bulwark serve --listen ADDR --workers N`\n");
		return 2;
	}
	return worker_run(0, -1);
}

static int
cmd_hash_bench(int argc, char **argv)
{
	long rounds = 20, us;
	char *end;
	int i;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			printf("usage: bulwark hash-bench [--rounds N]\n"
			    "Prints the time of one password verification "
			    "with the configured algorithm and cost.\n");
			return 0;
		} else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			rounds = strtol(argv[++i], &end, 10);
			if (*end != '\0' || rounds < 1 || rounds > 100000)
				return 2;
		} else
			return 2;
	}
	if (load(0) < 0 || password_init() < 0)
		return 1;
	if ((us = password_bench((int)rounds)) < 0)
		return 1;
	printf("algorithm=%s cost=%ld rounds=%ld us_per_hash=%ld "
	    "hashes_per_second=%.1f\n",
	    cfg.pw_algo == PW_BCRYPT ? "bcrypt" : "yescrypt", cfg.pw_cost,
	    rounds, us, us > 0 ? 1e6 / (double)us : 0.0);
	return 0;
}

/* `bulwark mail-deliver`: what is due now (for cron, or a host where no
 * request comes to trigger retries); `bulwark mail-status`: the queue. */
static int
cmd_mail(const char *cmd, int argc, char **argv)
{
	struct arena a;
	int n, rc = 0, total = 0;

	if (argc > 1) {
		if (cli_is_help(argv[1])) {
			printf("usage: bulwark %s\n%s\n", cmd,
			    strcmp(cmd, "mail-status") == 0 ?
			    "Prints what the mail queue holds: due, waiting, "
			    "failed (with the last error), sent today." :
			    "Delivers the queued mail that is due now.");
			return 0;
		}
		fprintf(stderr, "usage: bulwark %s\n", cmd);
		return 2;
	}
	if (load(0) < 0)
		return 1;
	arena_init(&a, 1024 * 1024);
	if (strcmp(cmd, "mail-status") == 0)
		rc = mail_status(stdout, &a) < 0 ? 1 : 0;
	else {
		/* A batch at a time until nothing more is due. */
		while ((n = mail_deliver(&a, 20)) > 0) {
			total += n;
			arena_reset(&a);
		}
		if (n < 0) {
			fprintf(stderr, "bulwark: the database is not "
			    "reachable\n");
			rc = 1;
		} else
			printf("delivered %d message%s\n", total,
			    total == 1 ? "" : "s");
	}
	arena_free(&a);
	db_close();
	return rc;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "serve";

	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc > 1 ? argc - 1 : 1, argc > 1 ? argv + 1 : argv);
	if (cli_is_help(cmd)) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("bulwark %s\n", BULWARK_VERSION);
		return 0;
	}
	if (strcmp(cmd, "migrate") == 0) {
		if (argc > 2 && cli_is_help(argv[2])) {
			printf("usage: bulwark migrate\nApplies the schema "
			    "migrations in order; running it again changes "
			    "nothing.\n");
			return 0;
		}
		return load(0) < 0 ? 1 : migrate_run();
	}
	if (strcmp(cmd, "user") == 0) {
		if (argc > 2 && cli_is_help(argv[2]))
			return cli_user(argc - 1, argv + 1);
		return load(0) < 0 ? 1 : cli_user(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "config") == 0)
		return cmd_config(argc - 1, argv + 1);
	if (strcmp(cmd, "rekey") == 0) {
		if (argc > 2 && cli_is_help(argv[2]))
			return cli_rekey(argc - 1, argv + 1);
		return load(0) < 0 ? 1 : cli_rekey(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "hash-bench") == 0)
		return cmd_hash_bench(argc - 1, argv + 1);
	if (strcmp(cmd, "mail-deliver") == 0 || strcmp(cmd, "mail-status") == 0)
		return cmd_mail(cmd, argc - 1, argv + 1);
	usage(stderr);
	return 2;
}
