# systemd (issue #10): deploy/bulwark.socket + bulwark.service pass
# `systemd-analyze verify`, are hardened as the issue asks, and the pool
# serves on the socket systemd hands it (LISTEN_FDS=1, LISTEN_PID, fd 3).
# PID 1 here need not be systemd, so the activation is done as systemd does
# it: the socket is bound by the test (it plays systemd), passed as fd 3,
# and kept open while the pool restarts.
use strict;
use warnings;
use Test::More;
use BulwarkTest;
use BulwarkFront ();
use IO::Socket::UNIX ();
use Socket qw(SOCK_STREAM);

my $deploy = BulwarkFront::deploy_dir();
my $service = BulwarkFront::slurp("$deploy/bulwark.service");
my $socket  = BulwarkFront::slurp("$deploy/bulwark.socket");

# --- systemd-analyze verify on the shipped units (the program's path
# filled in: verify checks that ExecStart= is an executable)
my $units = test_dir() . '/units';
mkdir $units;
BulwarkFront::spew("$units/bulwark.service", BulwarkFront::fill('bulwark.service', '/usr/local/bin/bulwark' => bulwark_bin()));
BulwarkFront::spew("$units/bulwark.socket", $socket);
my $r = run_cmd(cmd => [ 'systemd-analyze', 'verify', '--man=no', "$units/bulwark.socket", "$units/bulwark.service" ], timeout => 60);
is($r->{exit}, 0, 'systemd-analyze verify bulwark.socket bulwark.service: exit 0') or diag $r->{err};
is($r->{out} . $r->{err}, '', 'and not one warning (an unknown key is only a warning)');

# It can fail: a misspelt key and a missing program are reported.
(my $bad = BulwarkFront::slurp("$units/bulwark.service")) =~ s/ProtectSystem=/ProtectSystm=/;
BulwarkFront::spew("$units/bulwark.service", $bad);
$r = run_cmd(cmd => [ 'systemd-analyze', 'verify', '--man=no', "$units/bulwark.socket", "$units/bulwark.service" ], timeout => 60);
like($r->{err}, qr/Unknown key 'ProtectSystm'/, 'the check catches a misspelt key');

# --- what the units say
my %svc;
for (split /\n/, $service) { push @{ $svc{$1} }, $2 if /^([A-Za-z]+)=(.*)$/ }
is_deeply($svc{DynamicUser}, ['yes'], 'DynamicUser=yes');
is_deeply($svc{ProtectSystem}, ['strict'], 'ProtectSystem=strict');
is_deeply($svc{NoNewPrivileges}, ['yes'], 'NoNewPrivileges=yes');
is_deeply($svc{RestrictAddressFamilies}, ['AF_UNIX AF_INET AF_INET6'], 'RestrictAddressFamilies: Unix, IPv4, IPv6 only');
ok((grep { $_ eq '@system-service' } @{ $svc{SystemCallFilter} || [] }), 'SystemCallFilter=@system-service');
is_deeply($svc{LogsDirectory}, ['bulwark'], 'LogsDirectory=bulwark (/var/log/bulwark, as bulwark.conf.example logs)');
like($svc{ExecStart}[0], qr{\A/usr/local/bin/bulwark serve --workers \d+\z}, 'ExecStart: the pool, no --listen (the socket is fd 3)');
is_deeply($svc{Requires}, ['bulwark.socket'], 'Requires=bulwark.socket');
like($socket, qr{^ListenStream=/run/bulwark/bulwark\.sock$}m, 'bulwark.socket listens on /run/bulwark/bulwark.sock');
like($socket, qr{^SocketMode=0660$}m, 'mode 0660');
like(BulwarkFront::slurp("$deploy/nginx.conf"), qr{unix:/run/bulwark/bulwark\.sock}, 'where nginx.conf looks for it');
like(BulwarkFront::slurp("$deploy/lighttpd.conf"), qr{"/run/bulwark/bulwark\.sock"}, 'and lighttpd.conf');

# --- socket activation, through lighttpd
my $s = start_stack(mode => 'socket-activation', workers => 2);
my @workers = $s->worker_pids;
is(scalar @workers, 2, 'serve --workers 2 on fd 3: two workers');
my $sock = $s->{pool}[0]{sock};
my $master = $s->master_pid;
my @fd0 = grep { defined } map { readlink "/proc/$_/fd/3" } $master, @workers;
ok(@fd0 == 3 && !(grep { $_ ne $fd0[0] } @fd0), 'the pool and its workers hold the socket they were given on fd 3') or diag explain \@fd0;
my ($e, $pw) = (unique_email('sd'), unique_password());
my $c = $s->signup($e, $pw);
is($c->res->{status}, 201, 'signup through the activated socket');
my $pair = $s->token_pair($e, $pw, 'through the activated socket');
is($s->req(GET => '/token/me', bearer => $pair->{accessToken})->{status}, 200, 'GET /token/me with the bearer token');
my @l = $s->events(0, 'pool_started');
is($l[-1]{listen}, 'systemd socket (fd 3)', 'pool_started names the socket it was given');

# A restart, as `systemctl restart bulwark`: the pool stops, the socket
# stays (systemd's), a request made meanwhile waits in its backlog and is
# answered by the next pool.
$s->stop_pool($s->{pool}[0]);
ok(-S $sock, 'the pool stopped: the socket file is still there (systemd owns it)');
my @ev = $s->events(0, 'pool_stopped');
ok(@ev >= 1, 'the pool logged pool_stopped');
my $kid = fork // die "fork: $!";
if (!$kid) {
	my $r2 = $s->req(GET => '/health', timeout => 20);
	POSIX::_exit($r2->{status} == 200 ? 0 : 1);
}
sleep 1;
$s->start_pool($s->{pool}[0]);
waitpid($kid, 0);
is($?, 0, 'a request made while no pool ran is answered by the restarted one (no connection refused)');
is($s->req(GET => '/health')->{status}, 200, 'the restarted pool serves');
$s->stop;

# --- wrong activations are refused with a reason
sub activate {
	my (%o) = @_;
	my $path = test_dir() . "/sd-$$-" . int(rand 1e6) . '.sock';
	my $l = IO::Socket::UNIX->new(Local => $path, Listen => 5, Type => SOCK_STREAM) or die "listen: $!";
	my $out = test_dir() . "/sd-$$.out";
	my $bin = bulwark_bin();
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		%ENV = %{ default_env(test_dir(), {}) };
		$ENV{BULWARK_TEST_STACK} = test_dir() . '/sd-activate';
		BulwarkTest::fd3($l);
		$ENV{LISTEN_FDS} = $o{fds} // 1;
		$ENV{LISTEN_PID} = $o{pid} // $$;
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $out);
		open(STDERR, '>&', \*STDOUT);
		exec($bin, 'serve', @{ $o{args} || [ '--workers', 1 ] }) or POSIX::_exit(127);
	}
	my $done = wait_until(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 10);
	my $st = $?;
	kill 'KILL', $pid unless $done;
	waitpid($pid, 0) unless $done;
	unlink $path;
	return { exit => $done ? $st >> 8 : undef, out => BulwarkFront::slurp($out) };
}
$r = activate(fds => 2);
is($r->{exit}, 1, 'LISTEN_FDS=2: refused');
like($r->{out}, qr/LISTEN_FDS=2.*exactly one socket/, 'and says why');
$r = activate(args => [ '--listen', test_dir() . '/other.sock', '--workers', 1 ]);
is($r->{exit}, 2, '--listen and a socket from systemd: refused');
like($r->{out}, qr/give one of them/, 'and says why');
$r = activate(pid => 1);
is($r->{exit}, 2, 'LISTEN_PID of another process: not ours, so serve looks for fd 0 (not a socket here) and stops');
like($r->{out}, qr/standard input is not a FastCGI listening socket/, 'and says so');

done_testing;
