/*
 * cmd/pool.c -- `bulwark serve --listen ADDR --workers N`: a pre-forking pool.
 *
 * The master binds once, forks N workers that accept on the shared socket,
 * and then only watches signals through a self-pipe (php-fpm's model):
 * SIGCHLD reaps and respawns, SIGTERM/SIGINT stop (workers finish the
 * request in hand; stragglers are killed after a grace period), SIGHUP
 * re-reads the configuration and replaces the workers one at a time, the
 * next once the previous one's replacement is forked, so the pool never
 * stands empty.  The master never sleeps: a delayed respawn is a deadline
 * its poll loop honours.  It holds no database connection and no request
 * state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"

#define MAX_WORKERS 256
#define GRACE_SECONDS 30
#define BACKLOG 1024

static int sigpipe_fd[2] = { -1, -1 };
static int ready_pipe[2] = { -1, -1 }; /* workers say "serving" with their pid */

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	(void)!write(sigpipe_fd[1], &c, 1);
	errno = saved;
}

int
listen_open(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_un un;
	struct addrinfo hints, *ai = NULL;
	struct stat st;
	const char *colon;
	char host[256];
	mode_t old;
	int fd = -1, one = 1, rc;

	if (spec[0] == '/' || spec[0] == '.') {
		if (strlen(spec) >= sizeof un.sun_path) {
			snprintf(err, errlen, "%s: path too long", spec);
			return -1;
		}
		memset(&un, 0, sizeof un);
		un.sun_family = AF_UNIX;
		memcpy(un.sun_path, spec, strlen(spec) + 1);
		/* A socket left by a previous run is replaced; one that a
		 * running pool still answers on, or anything else at that
		 * path, is refused. */
		if (lstat(spec, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				snprintf(err, errlen, "%s exists and is not a "
				    "socket", spec);
				return -1;
			}
			if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
			    0)) < 0)
				goto syserr;
			rc = connect(fd, (struct sockaddr *)&un, sizeof un);
			close(fd);
			fd = -1;
			if (rc == 0) {
				snprintf(err, errlen, "%s: another process is "
				    "listening on it", spec);
				return -1;
			}
			unlink(spec);
		}
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto syserr;
		old = umask(0117); /* 0660: the web server's group only */
		rc = bind(fd, (struct sockaddr *)&un, sizeof un);
		umask(old);
		if (rc < 0 || chmod(spec, 0660) < 0)
			goto syserr;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL ||
		    (size_t)(colon - spec) >= sizeof host) {
			snprintf(err, errlen, "%s: expected HOST:PORT or a "
			    "socket path", spec);
			return -1;
		}
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		if ((rc = getaddrinfo(host[0] ? host : "127.0.0.1", colon + 1,
		    &hints, &ai)) != 0) {
			snprintf(err, errlen, "%s: %s", spec, gai_strerror(rc));
			return -1;
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof one) < 0 ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			freeaddrinfo(ai);
			goto syserr;
		}
		freeaddrinfo(ai);
	}
	if (listen(fd, BACKLOG) < 0)
		goto syserr;
	return fd;
syserr:
	snprintf(err, errlen, "%s: %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

struct slot {
	pid_t pid;
	long long started;    /* ms, monotonic */
	long long respawn_at; /* ms; when pid == 0: fork again from then */
	int retiring;         /* to be replaced by a reload */
	int signalled;        /* retiring, and told so */
	int ready;            /* has said it serves */
};

static struct slot slots[MAX_WORKERS];
static int nslots;

static pid_t
spawn(int listen_fd, int i)
{
	pid_t pid, parent = getpid();
	struct sigaction sa;
	sigset_t none;
	int rc;

	if ((pid = fork()) < 0) {
		log_msg("error", "fork: %s", strerror(errno));
		slots[i].respawn_at = clock_ms() + 1000;
		return -1;
	}
	if (pid > 0) {
		slots[i].pid = pid;
		slots[i].started = clock_ms();
		slots[i].retiring = 0;
		slots[i].signalled = 0;
		slots[i].ready = 0;
		return pid;
	}
	/* Child: die with the master, drop its signal plumbing. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	close(sigpipe_fd[0]);
	close(sigpipe_fd[1]);
	close(ready_pipe[0]);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	rc = worker_run(listen_fd, ready_pipe[1]);
	_exit(rc);
}

static int
slot_of(pid_t pid)
{
	int i;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid == pid)
			return i;
	return -1;
}

static int
live_workers(void)
{
	int i, n = 0;

	for (i = 0; i < nslots; i++)
		n += slots[i].pid > 0;
	return n;
}

static void
signal_all(int sig)
{
	int i;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, sig);
}

/* Reaps exited workers and schedules their replacement: at once, or a
 * second later for a worker that died within a second of its start, so a
 * crash at start-up does not become a fork storm. */
static void
reap(void)
{
	pid_t pid;
	int status, i;
	long long now;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((i = slot_of(pid)) < 0)
			continue;
		if (!slots[i].retiring) {
			if (WIFSIGNALED(status))
				log_event("error", "worker_died",
				    LF_I("pid", pid),
				    LF_I("signal", WTERMSIG(status)));
			else
				log_event("warning", "worker_exited",
				    LF_I("pid", pid),
				    LF_I("status", WEXITSTATUS(status)));
		}
		now = clock_ms();
		slots[i].respawn_at = (!slots[i].retiring &&
		    now - slots[i].started < 1000) ? now + 1000 : now;
		slots[i].pid = 0;
	}
}

/* Forks what is due; returns the ms until the next delayed respawn (or
 * the default tick). */
static int
respawn_due(int listen_fd)
{
	long long now = clock_ms(), wait = 1000;
	int i;

	for (i = 0; i < nslots; i++) {
		if (slots[i].pid != 0)
			continue;
		if (slots[i].respawn_at <= now)
			spawn(listen_fd, i);
		if (slots[i].pid == 0 && slots[i].respawn_at - now < wait)
			wait = slots[i].respawn_at - now;
	}
	return wait < 0 ? 0 : (int)wait;
}

/* Marks the workers that have said they serve. */
static void
read_ready(void)
{
	pid_t pids[64];
	ssize_t n, k;
	int i;

	while ((n = read(ready_pipe[0], pids, sizeof pids)) > 0)
		for (k = 0; k < n / (ssize_t)sizeof pids[0]; k++)
			if ((i = slot_of(pids[k])) >= 0)
				slots[i].ready = 1;
}

/* A reload retires one worker at a time: the next is told once the one
 * before is gone and its replacement serves.  The one told is told again
 * every tick, in case the signal came just before it blocked in accept(). */
static void
retire_next(void)
{
	int i, busy = 0;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid > 0 && slots[i].signalled) {
			kill(slots[i].pid, SIGTERM);
			busy = 1;
		}
	for (i = 0; i < nslots && !busy; i++)
		if (slots[i].pid == 0 || !slots[i].ready)
			busy = 1; /* a replacement still to come */
	for (i = 0; i < nslots && !busy; i++)
		if (slots[i].pid > 0 && slots[i].retiring) {
			slots[i].signalled = 1;
			kill(slots[i].pid, SIGTERM);
			busy = 1;
		}
}

static void
stop_all(void)
{
	time_t deadline = time(NULL) + GRACE_SECONDS;
	pid_t pid;
	int status, i;

	signal_all(SIGTERM);
	while (live_workers() > 0) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			if ((i = slot_of(pid)) >= 0)
				slots[i].pid = 0;
			continue;
		}
		if (time(NULL) >= deadline) {
			log_msg("warning", "workers did not stop in %ds: killing",
			    GRACE_SECONDS);
			signal_all(SIGKILL);
			deadline = time(NULL) + 5;
		}
		usleep(20000);
		/* A worker blocked in accept() between its last check and the
		 * signal is woken by a second SIGTERM. */
		signal_all(SIGTERM);
	}
}

/* Socket activation (sd_listen_fds(3) without libsystemd): the socket is
 * fd 3 when LISTEN_PID is our pid and LISTEN_FDS is 1.  The variables are
 * removed, so that nothing started later takes the socket for its own. */
int
listen_inherited(char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long n;

	if (pid == NULL || fds == NULL)
		return -2;
	errno = 0;
	n = strtol(pid, &end, 10);
	if (errno != 0 || *end != '\0' || end == pid || n != (long)getpid())
		return -2; /* meant for another process */
	n = strtol(fds, &end, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (*end != '\0' || end == fds || n != 1) {
		snprintf(err, errlen, "socket activation passed LISTEN_FDS=%s; "
		    "bulwark serves exactly one socket (one ListenStream=)",
		    fds);
		return -1;
	}
	if (!fd_is_listener(LISTEN_FDS_START)) {
		snprintf(err, errlen, "socket activation: fd %d is not a "
		    "listening stream socket", LISTEN_FDS_START);
		return -1;
	}
	if (fcntl(LISTEN_FDS_START, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "socket activation: fd %d: %s",
		    LISTEN_FDS_START, strerror(errno));
		return -1;
	}
	return LISTEN_FDS_START;
}

int
pool_run(const char *spec, int workers)
{
	char err[512];
	int fd;

	if (workers < 1 || workers > MAX_WORKERS) /* before binding */
		return pool_serve(-1, spec, 0, workers);
	if ((fd = listen_open(spec, err, sizeof err)) < 0) {
		fprintf(stderr, "bulwark: %s\n", err);
		return 1;
	}
	return pool_serve(fd, spec, spec[0] == '/' || spec[0] == '.', workers);
}

/* The pool on a socket that is open already: its own (own_path: a socket
 * file it removes when it stops) or one it was given (systemd's, which
 * stays: systemd owns the file and keeps listening on it). */
int
pool_serve(int fd, const char *label, int own_path, int workers)
{
	struct sigaction sa;
	struct pollfd pfd[2];
	unsigned char sigs[64];
	char err[512];
	ssize_t n, k;
	int i, stop = 0, reload = 0, wait_ms = 1000;

	if (workers < 1 || workers > MAX_WORKERS) {
		fprintf(stderr, "bulwark: --workers must be 1..%d\n",
		    MAX_WORKERS);
		return 2;
	}
	if (pipe2(sigpipe_fd, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(ready_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		perror("bulwark: pipe");
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	nslots = workers;
	for (i = 0; i < nslots; i++)
		spawn(fd, i);
	log_event("info", "pool_started", LF_I("pid", getpid()),
	    LF_S("listen", label), LF_I("workers", workers));

	while (!stop) {
		pfd[0].fd = sigpipe_fd[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = ready_pipe[0];
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, wait_ms) < 0 && errno != EINTR)
			break;
		read_ready();
		while ((n = read(sigpipe_fd[0], sigs, sizeof sigs)) > 0)
			for (k = 0; k < n; k++) {
				if (sigs[k] == SIGTERM || sigs[k] == SIGINT)
					stop = 1;
				else if (sigs[k] == SIGHUP)
					reload = 1;
			}
		if (stop)
			break;
		if (reload) {
			reload = 0;
			if (config_load(1, err, sizeof err) < 0) {
				log_msg("error", "reload refused, keeping the "
				    "running configuration: %s", err);
			} else {
				log_open(cfg.log_file);
				log_event("info", "pool_reload",
				    LF_I("pid", getpid()));
				for (i = 0; i < nslots; i++)
					if (slots[i].pid > 0)
						slots[i].retiring = 1;
			}
		}
		reap();
		wait_ms = respawn_due(fd);
		retire_next();
	}
	log_event("info", "pool_stopping", LF_I("pid", getpid()));
	stop_all();
	close(fd);
	if (own_path)
		unlink(label);
	log_event("info", "pool_stopped", LF_I("pid", getpid()));
	return 0;
}
