/*
 * cmd/cmd.h -- the `bulwark` command: the FastCGI worker, the pre-forking
 * pool, and the operator's subcommands.  The top layer: it may use every
 * other, and nothing uses it.
 */
#ifndef CMD_CMD_H
#define CMD_CMD_H

#include <stddef.h>

#define BULWARK_VERSION "0.1.0"

/* 1 when a is "--help" or "-h": the one help check of every subcommand. */
int cli_is_help(const char *a);

/* ---- worker.c ----------------------------------------------------------- */

/* Serves requests on listen_fd until SIGTERM/SIGINT.  Returns exit code.
 * ready_fd >= 0: a pipe to the pool master, told our pid once we serve. */
int worker_run(int listen_fd, int ready_fd);
/* 1 when fd is a listening socket (started by a FastCGI manager). */
int fd_is_listener(int fd);

/* ---- conn.c ------------------------------------------------------------- */

#define FC_PARAMS_MAX (128 * 1024)  /* all name-value pairs of a request */
#define FC_RECORDS_MAX 256          /* records up to the end of STDIN */
#define FC_WINDOW (256 * 1024)      /* bytes of a request checked at most */

enum { FC_MORE, FC_READY, FC_LARGE, FC_BAD };

struct fc_result {
	size_t need;     /* FC_MORE: bytes pending before it can go on */
	int keep;        /* the web server asked FCGI_KEEP_CONN */
	int replies;     /* records libfcgi answers by itself while it reads
			  * the request (FCGI_GET_VALUES, another request's
			  * BEGIN_REQUEST) */
	const char *why; /* FC_BAD: a fixed phrase, never the peer's bytes */
};

/* Checks b[0..n), the bytes pending on a connection from the start of a
 * request: FC_READY when the whole request is there and libfcgi may read
 * it; FC_LARGE when its parameters are whole and good but its body goes on
 * past 64 KiB; FC_MORE when more must come; FC_BAD when it must be
 * refused (r->why).  Not reentrant (one static buffer). */
int fcgi_check(const unsigned char *b, size_t n, struct fc_result *r);

/* ---- sandbox.c ---------------------------------------------------------- */

/* As root: become BULWARK_USER (its groups too) before connecting; a
 * warning when it is unset.  -1 (logged) when it names no user or the
 * drop fails: the worker must not serve. */
int sandbox_drop_user(void);
/* Once connected, before the first accept: the seccomp allow-list (and,
 * for the sendmail transport, the mail helper forked just before it).
 * -1 (logged): the worker must not serve.  BULWARK_SECCOMP=0: nothing. */
int sandbox_enter(void);

/* ---- pool.c ------------------------------------------------------------- */

/* Binds "host:port" or a unix path (mode 0660). -1 with err on failure. */
int listen_open(const char *spec, char *err, size_t errlen);
int pool_run(const char *spec, int workers);
/* The pool on the open listening socket fd; own_path: label is the socket
 * file, removed at the end. */
int pool_serve(int fd, const char *label, int own_path, int workers);
/* systemd socket activation: fd 3 when LISTEN_PID/LISTEN_FDS hand us one
 * socket, -2 when they hand us none, -1 with err when they are wrong. */
#define LISTEN_FDS_START 3
int listen_inherited(char *err, size_t errlen);

/* ---- cli.c -------------------------------------------------------------- */

/* `bulwark user add|list|set-role|set-password|delete ...`; argv[0] is
 * "user".  Returns the exit code (cli.c lists them). */
int cli_user(int argc, char **argv);

/* ---- rekey.c ------------------------------------------------------------ */

/* `bulwark rekey`: every stored 2FA secret re-sealed under the current
 * data key; argv[0] is "rekey".  0, or 1 when one failed. */
int cli_rekey(int argc, char **argv);

#endif
