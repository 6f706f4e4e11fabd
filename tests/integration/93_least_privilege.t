# Least privilege (docs/SECURITY.md "Least privilege"): workers started as
# root become BULWARK_USER (here www-data, the one user that can reach the
# test cluster's second socket, as Apache's workers do) before they
# connect, and once
# connected run under a seccomp allow-list in which execve and fork fail.
#
# What is observed, never asked of the program: the kernel's own account of
# each worker (/proc/<pid>/status: Uid, Gid, Groups, NoNewPrivs, Seccomp),
# and what a worker can still do when made to try.  For that last part the
# test builds a probe library (never part of the shipped binary) and starts
# the workers with it in LD_PRELOAD: its constructor installs a SIGUSR2
# handler that calls execve("/bin/sh", ...) and fork() inside the worker and
# writes down what they returned.  With the filter on both fail with EPERM
# and the worker serves on; a control stack with BULWARK_SECCOMP=0 shows the
# same probe does run the program there (so the probe can tell).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use BulwarkTest;

$> == 0 or BAIL_OUT('93_least_privilege.t drops to www-data: it must run as root');
my $USER = 'www-data';
my ($NUID, $NGID) = (getpwnam($USER))[ 2, 3 ];
defined $NUID or BAIL_OUT("no user $USER (Debian's apache2 package makes it)");
# the socket directory www-data may enter (tests/run.sh)
my %DB = (DATABASE_URL => BulwarkTest::cfg('BULWARK_TEST_WEB_DATABASE_URL'));

# --- the probe library, built here
my $pdir = tempdir('probe-XXXXXX', DIR => test_dir());
chmod 0777, $pdir;
write_file("$pdir/probe.c", <<'C', 0644);
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;
static char dir[512];

static void
on_usr2(int sig)
{
	char path[600], cmd[700], line[200];
	char *argv[] = { "sh", "-c", cmd, NULL };
	int r, e, fr, fe, fd;

	(void)sig;
	snprintf(path, sizeof path, "%s/out.%ld", dir, (long)getpid());
	snprintf(cmd, sizeof cmd, "echo ran > %s/ran.%ld", dir, (long)getpid());
	errno = 0;
	fr = fork();
	fe = errno;
	if (fr == 0)
		_exit(0);
	errno = 0;
	r = execve("/bin/sh", argv, environ);
	e = errno;
	snprintf(line, sizeof line, "fork=%d errno=%d execve=%d errno=%d\n",
	    fr > 0 ? 1 : fr, fe, r, e);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666)) >= 0) {
		(void)!write(fd, line, strlen(line));
		close(fd);
	}
}

__attribute__((constructor)) static void
probe_init(void)
{
	struct sigaction sa;
	const char *d = getenv("PROBE_DIR");

	if (d == NULL || strlen(d) >= sizeof dir)
		return;
	strcpy(dir, d);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
}
C
my $cc = run_cmd(cmd => [ 'cc', '-shared', '-fPIC', '-O1', '-o', "$pdir/probe.so", "$pdir/probe.c" ], timeout => 60);
is($cc->{exit}, 0, 'setup: the probe library builds') or BAIL_OUT("cc: $cc->{err}");

my %PROBE = (
	LD_PRELOAD   => "$pdir/probe.so",
	PROBE_DIR    => $pdir,
	# under make test SANITIZE=1 the ASan runtime must come first otherwise
	ASAN_OPTIONS => join(':', grep { length } $ENV{ASAN_OPTIONS} // '', 'verify_asan_link_order=0'),
);

sub status_of {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/status") or return {};
	my %st = map { /\A([^:]+):\s*(.*?)\s*\z/ ? ($1 => $2) : () } <$fh>;
	return \%st;
}
sub ids { my ($v) = @_; join ' ', split ' ', $v // '' }

# Sends SIGUSR2 to $pid and waits for the probe's line; returns it.
sub probe {
	my ($pid) = @_;
	kill 'USR2', $pid or return "kill: $!";
	my $line = '';
	wait_until(sub {
		open(my $fh, '<', "$pdir/out.$pid") or return (-e "$pdir/ran.$pid");
		$line = <$fh> // '';
		return length $line;
	}, 10, 0.05);
	chomp $line;
	return $line;
}

# start_stack returns once one worker serves; the others may still be
# connecting (the filter comes after that): wait until $n said they started.
sub all_started {
	my ($s, $n) = @_;
	$s->wait_log(sub { (grep { ($_->{event} // '') eq 'worker_started' } @_) >= $n }, timeout => 20);
}


# ---------------------------------------------------------------------------
# 1. spawn-fcgi starts the workers as root; BULWARK_USER=www-data; file mail
my $s = start_stack(workers => 2, env => { BULWARK_USER => $USER, %DB, %PROBE });
chown $NUID, $NGID, $s->mail_dir or die "chown mail: $!";
all_started($s, 2);
reset_counters();
my @w = $s->worker_pids;
is(scalar @w, 2, 'two workers');
for my $pid (@w) {
	my $st = status_of($pid);
	is(ids($st->{Uid}), "$NUID $NUID $NUID $NUID", "worker $pid: real, effective, saved and fs uid are ${USER}'s");
	is(ids($st->{Gid}), "$NGID $NGID $NGID $NGID", "worker $pid: every gid is ${USER}'s group");
	unlike(" $st->{Groups} ", qr/ 0 /, "worker $pid: not in group root (Groups: $st->{Groups})");
	is($st->{NoNewPrivs}, 1, "worker $pid: no new privileges");
	is($st->{Seccomp}, 2, "worker $pid: in seccomp filter mode");
	is($st->{Seccomp_filters}, 1, "worker $pid: one filter");
}
is(scalar(grep { ($_->{uid} // '') eq $NUID } $s->events(0, 'worker_user', user => $USER)), 2,
	"log: worker_user with the uid of $USER, once per worker");
is(scalar($s->events(0, 'seccomp_on')), 2, 'log: seccomp_on once per worker');

# the API works as before under both
my ($email, $pw) = $s->new_user('lp');
my $c = $s->login($email, $pw);
is($c->res->{status}, 200, 'login: 200');
is($c->req(GET => '/me')->{json}{user}{email}, lc $email, 'GET /me: the user');
my $r = $c->req(POST => '/me/2fa/enable', csrf => 1);
is($r->{status}, 200, '2FA enable: 200');
my $secret = $r->{json}{secret} // '';
$s->secret($secret);
$r = $c->req(POST => '/me/2fa/verify', csrf => 1, body => { code => totp_code($secret, time) });
is($r->{status}, 200, '2FA verify: 200');
is($c->req(GET => '/me')->{json}{user}{twoFactorEnabled}, JSON::PP::true, 'GET /me: twoFactorEnabled');
my ($e2, $p2) = $s->new_user('lpreset');
is($s->forgot($e2)->{status}, 200, 'forgot-password: 200');
my @m = $s->wait_mail(to => lc $e2, reset => 1);
is(scalar @m, 1, 'the reset mail is written to the mail directory by a sandboxed worker');
is(@m ? (stat($s->mail_dir . "/$m[0]{file}"))[4] : -1, $NUID, "the mail file is owned by $USER");

# the probe: fork and execve refused inside every worker, which serves on
for my $pid (@w) {
	is(probe($pid), 'fork=-1 errno=1 execve=-1 errno=1', "worker $pid: fork and execve fail with EPERM");
	ok(!-e "$pdir/ran.$pid", "worker $pid: /bin/sh never ran");
	ok(proc_alive($pid), "worker $pid: still running");
}
is($s->req(GET => '/health')->{status}, 200, 'GET /health after the probes: 200');
is(join(' ', $s->worker_pids), join(' ', @w), 'the same workers serve');
ok(!grep({ ($_->{level} // '') eq 'error' } $s->log_lines), 'no error in the log') or
	diag join "\n", map { $_->{message} // $_->{_invalid} // '' } grep { ($_->{level} // '') eq 'error' } $s->log_lines;
$s->log_clean_ok;
$s->stop;

# ---------------------------------------------------------------------------
# 2. bulwark serve (its master stays root), the sendmail transport: the
#    helper forked before the filter runs sendmail
my $sm = fake_sendmail();
chown $NUID, $NGID, $sm->dir or die "chown sendmail: $!";
$s = start_stack(mode => 'serve', workers => 2, env => {
	BULWARK_USER           => $USER,
	%DB,
	BULWARK_MAIL_TRANSPORT => 'sendmail',
	BULWARK_SENDMAIL       => $sm->path,
});
all_started($s, 2);
reset_counters();
@w = $s->worker_pids;
is(scalar @w, 2, 'serve: two workers');
is(ids(status_of($s->master_pid)->{Uid}), '0 0 0 0', 'serve: the master stays root (it binds and respawns)');
for my $pid (@w) {
	my $st = status_of($pid);
	is(ids($st->{Uid}), "$NUID $NUID $NUID $NUID", "serve: worker $pid runs as $USER");
	is($st->{Seccomp}, 2, "serve: worker $pid is filtered");
	my @h = children_of($pid);
	is(scalar @h, 1, "serve: worker $pid has one child, its mail helper");
	my $hs = status_of($h[0] // 0);
	is($hs->{Name}, 'bulwark-mail', 'serve: the helper is named bulwark-mail');
	is(ids($hs->{Uid}), "$NUID $NUID $NUID $NUID", "serve: the helper runs as $USER too");
}
my ($e3) = $s->new_user('lpsend');
my $after = mail_queue_max_id();
is($s->forgot($e3)->{status}, 200, 'serve: forgot-password: 200');
my @sent;
wait_until(sub { @sent = grep { lc($_->{to} // '') eq lc $e3 && @{ $_->{links} } } $sm->messages; @sent }, 10, 0.05);
is(scalar @sent, 1, 'serve: the reset mail went through sendmail (run by the helper)');
my @rows = grep { $_->{id} > $after && $_->{kind} eq 'reset' } mail_queue_rows(lc $e3);
is(scalar(grep { defined $_->{sent} && !defined $_->{last_error} } @rows), 1, 'serve: the queue row is sent, no error')
	or diag explain \@rows;
$s->stop;

# ---------------------------------------------------------------------------
# 3. the control: BULWARK_SECCOMP=0 and no BULWARK_USER (root, warned)
$s = start_stack(workers => 1, env => { BULWARK_SECCOMP => 0, %PROBE });
@w = $s->worker_pids;
my $st = status_of($w[0]);
is(ids($st->{Uid}), '0 0 0 0', 'control: without BULWARK_USER a root worker stays root');
is($st->{Seccomp}, 0, 'control: no filter with BULWARK_SECCOMP=0');
ok(scalar(grep { ($_->{message} // '') =~ /running as root: set BULWARK_USER/ } $s->log_lines), 'control: the log warns about root');
ok(scalar(grep { ($_->{message} // '') =~ /BULWARK_SECCOMP=0/ } $s->log_lines), 'control: the log says the filter is off');
probe($w[0]);
ok(wait_until(sub { -s "$pdir/ran.$w[0]" }, 10, 0.05), 'control: the same probe does run /bin/sh without the filter');
$s->stop;

# ---------------------------------------------------------------------------
# 4. a BULWARK_USER that names no one: no worker serves
$s = start_stack(mode => 'serve', workers => 1, wait => 0, env => { BULWARK_USER => 'no-such-user-93' });
my @l = $s->wait_log(sub { grep { ($_->{message} // '') =~ /BULWARK_USER=no-such-user-93 names no user/ } @_ }, timeout => 10);
ok(scalar(grep { ($_->{message} // '') =~ /names no user/ } @l), 'unknown BULWARK_USER: the worker says so and stops');
ok(!grep({ ($_->{event} // '') eq 'worker_started' } @l), 'unknown BULWARK_USER: no worker started');
$s->stop;

done_testing;
