/*
 * cmd/sandbox.c -- least privilege for a worker: the user it runs as, and
 * the system calls it may make once it is connected.
 *
 * sandbox_drop_user: a worker started as root (by `bulwark serve`, whose
 * master stays root to bind and respawn, or by spawn-fcgi or mod_fcgid)
 * becomes BULWARK_USER, its primary group and that user's supplementary
 * groups, before it connects to anything.  The log file is already open
 * (the descriptor is inherited); BULWARK_MAIL_DIR must be writable by
 * that user.
 *
 * sandbox_enter: once the database is connected and before the first
 * accept, a seccomp filter (libseccomp) allows only the system calls a
 * serving worker makes -- the list below, measured with strace -f over the
 * integration suite.  execve, execveat, fork and clone, ptrace and a few
 * more fail with EPERM, so the refusal can be seen; any other call not on
 * the list kills the process (the pool master logs the signal, SIGSYS,
 * and forks a new worker).  The sendmail transport, which must exec, runs
 * in a helper forked just before the filter (mail/helper.c).
 * BULWARK_SECCOMP=0 leaves the filter off (a debugger, valgrind); the
 * helper is used all the same.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <seccomp.h>

#include "cmd/cmd.h"
#include "core/config.h"
#include "core/log.h"
#include "mail/mail.h"

/* What a connected worker calls: its accept loop (poll, accept4, peeks,
 * socket options, timed reads), libpq (reconnects over a unix socket or
 * TCP, name lookups), OpenSSL and libxcrypt (memory, randomness, time),
 * the log (an O_APPEND write) and the file mail transport (open, write,
 * fsync, rename, unlink, mkdir). */
static const char *const allowed[] = {
	/* descriptors and files */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close",
	"lseek", "fstat", "newfstatat", "statx", "stat", "lstat", "fcntl",
	"dup", "dup2", "dup3", "openat", "open", "mkdir", "mkdirat",
	"rename", "renameat", "renameat2", "unlink", "unlinkat", "fsync",
	"fdatasync", "access", "faccessat", "faccessat2", "getcwd",
	/* sockets: the FastCGI connections, libpq, the resolver */
	"accept", "accept4", "connect", "bind", "recvfrom", "recvmsg",
	"recvmmsg", "sendto", "sendmsg", "sendmmsg", "setsockopt",
	"getsockopt", "getsockname", "getpeername", "shutdown", "poll",
	"ppoll", "select", "pselect6", "epoll_create1", "epoll_ctl",
	"epoll_wait", "epoll_pwait",
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	/* time */
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	"nanosleep", "clock_nanosleep",
	/* the process itself; signals (SIGTERM, abort) */
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid",
	"getegid", "getgroups", "getrlimit", "prlimit64", "uname",
	"sysinfo", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"rt_sigpending", "rt_sigtimedwait", "sigaltstack", "restart_syscall",
	"tgkill", "futex", "sched_yield", "getrandom", "rseq",
	"set_robust_list", "exit", "exit_group",
};

/* Refused with EPERM rather than killing: a program or a process is
 * exactly what an attacker who took the worker would start. */
static const char *const refused[] = {
	"execve", "execveat", "fork", "vfork", "clone3",
#if !defined(__SANITIZE_ADDRESS__)
	"clone", "ptrace", "kill",
#endif
	"process_vm_readv", "process_vm_writev", "setuid", "setgid",
	"setreuid", "setregid", "setresuid", "setresgid", "setgroups",
	"chmod", "fchmod", "fchmodat", "chown", "fchown", "fchownat",
	"link", "linkat", "symlink", "symlinkat",
};

/* ASan and UBSan at run time (make SANITIZE=1 only): their report
 * (readlink, /proc/self/maps) and LeakSanitizer's check at exit, whose
 * tracer is a clone sharing our memory (CLONE_VM) that ptraces us. */
#if defined(__SANITIZE_ADDRESS__)
static const char *const sanitizer[] = {
	"readlink", "readlinkat", "getdents64", "prctl", "sched_getaffinity",
	"wait4", "waitid", "pipe", "pipe2", "ptrace", "kill", "tkill",
};
#endif

static int
add_names(scmp_filter_ctx ctx, uint32_t action, const char *const *names,
    size_t n, int *count)
{
	size_t i;
	int nr;

	for (i = 0; i < n; i++) {
		/* A call this architecture does not have is nothing to allow. */
		if ((nr = seccomp_syscall_resolve_name(names[i])) ==
		    __NR_SCMP_ERROR)
			continue;
		if (seccomp_rule_add(ctx, action, nr, 0) < 0) {
			log_msg("error", "seccomp: cannot add %s", names[i]);
			return -1;
		}
		(*count)++;
	}
	return 0;
}

int
sandbox_drop_user(void)
{
	const char *name = config_get("BULWARK_USER");
	struct passwd *pw = NULL;

	if (name != NULL && *name != '\0') {
		errno = 0;
		if ((pw = getpwnam(name)) == NULL) {
			log_msg("error", "BULWARK_USER=%s names no user%s%s", name,
			    errno != 0 ? ": " : "", errno != 0 ?
			    strerror(errno) : "");
			return -1;
		}
	}
	if (geteuid() != 0) {
		if (pw != NULL && pw->pw_uid != geteuid())
			log_msg("warning", "not started as root: running as "
			    "uid %ld, not as BULWARK_USER=%s", (long)geteuid(),
			    name);
		return 0;
	}
	if (pw == NULL) {
		log_msg("warning", "running as root: set BULWARK_USER to the "
		    "unprivileged user the workers should run as");
		return 0;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_msg("error", "cannot become BULWARK_USER=%s: %s", name,
		    strerror(errno));
		return -1;
	}
	/* No way back: a process that could regain root did not drop it. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_msg("error", "BULWARK_USER=%s: root could be regained", name);
		return -1;
	}
	log_event("info", "worker_user", LF_I("pid", getpid()),
	    LF_S("user", name), LF_I("uid", pw->pw_uid),
	    LF_I("gid", pw->pw_gid));
	return 0;
}

int
sandbox_enter(void)
{
	const char *v = config_get("BULWARK_SECCOMP");
	scmp_filter_ctx ctx = NULL;
	char err[256];
	int n = 0, rc = -1, r;

	if (v != NULL && *v != '\0' && strcmp(v, "0") != 0 &&
	    strcmp(v, "1") != 0) {
		log_msg("error", "BULWARK_SECCOMP must be 0 or 1");
		return -1;
	}
	/* Before the filter: the one process that may still run sendmail.
	 * With the filter off too, so that there is one way to send. */
	if (cfg.mail_transport == MAIL_SENDMAIL &&
	    mail_helper_start(err, sizeof err) < 0) {
		log_msg("error", "cannot start the mail helper: %s", err);
		return -1;
	}
	if (v != NULL && strcmp(v, "0") == 0) {
		log_msg("warning", "BULWARK_SECCOMP=0: the system call filter "
		    "is off");
		return 0;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		log_msg("error", "seccomp: cannot initialise the filter");
		return -1;
	}
	if (add_names(ctx, SCMP_ACT_ALLOW, allowed,
	    sizeof allowed / sizeof allowed[0], &n) < 0 ||
	    add_names(ctx, SCMP_ACT_ERRNO(EPERM), refused,
	    sizeof refused / sizeof refused[0], &n) < 0)
		goto out;
#if defined(__SANITIZE_ADDRESS__)
	/* clone for LeakSanitizer's tracer (CLONE_VM); fork (no CLONE_VM)
	 * stays refused. */
	if (add_names(ctx, SCMP_ACT_ALLOW, sanitizer,
	    sizeof sanitizer / sizeof sanitizer[0], &n) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_VM, CLONE_VM)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_VM, 0)) < 0) {
		log_msg("error", "seccomp: cannot add the sanitizer's calls");
		goto out;
	}
#endif
	/* socket(2) for the three families libpq and the resolver use; any
	 * other (a netlink or raw socket) is refused.  (Each comparison's
	 * second datum, unused by these operators, is written out: clang
	 * warns of the missing initializer otherwise.) */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_INET, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_INET6, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
	    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_GT, AF_INET6, 0)) < 0) {
		log_msg("error", "seccomp: cannot add socket");
		goto out;
	}
	/* ioctl only for FIONREAD (how much a connection has sent, the
	 * worker's loop); anything else, a terminal question of stdio, is
	 * answered "not a terminal". */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_NE, FIONREAD, 0)) < 0) {
		log_msg("error", "seccomp: cannot add ioctl");
		goto out;
	}
	if ((r = seccomp_load(ctx)) < 0) {
		log_msg("error", "seccomp: cannot load the filter: %s (set "
		    "BULWARK_SECCOMP=0 where none can be loaded)",
		    strerror(-r));
		goto out;
	}
	log_event("info", "seccomp_on", LF_I("pid", getpid()),
	    LF_I("rules", n + 5));
	rc = 0;
out:
	seccomp_release(ctx);
	return rc;
}
