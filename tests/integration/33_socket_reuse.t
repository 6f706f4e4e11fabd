# `bulwark serve --listen PATH` and what is already at PATH (fcgi/pool.c
# listen_open): a socket another process answers on is refused ("another
# process is listening on it", non-zero exit) and the running pool is left
# alone; a stale socket file (nobody listening) is replaced; anything that is
# not a socket is refused.
use strict;
use warnings;
use Test::More;
use POSIX qw(WNOHANG);
use IO::Socket::UNIX ();
use IO::Select ();
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(time sleep);
use BulwarkTest;

my $s = start_stack(mode => 'serve', workers => 2);
my $dir    = $s->dir;
my $sock   = $s->{pool}[0]{sock};
my $master = $s->master_pid;

# --- minimal FastCGI client, to talk to a pool without lighttpd
sub rec    { fcgi_record(@_) }
sub params { fcgi_params(@_) }
# GET /health over the FastCGI socket at $path; returns the STDOUT stream.
sub fcgi_health {
	my ($path) = @_;
	local $SIG{PIPE} = 'IGNORE';
	my $c = IO::Socket::UNIX->new(Peer => $path, Type => SOCK_STREAM) or return "connect: $!";
	my $p = params(REQUEST_METHOD => 'GET', REQUEST_URI => '/health', SCRIPT_NAME => '/health', PATH_INFO => '',
		QUERY_STRING => '', REMOTE_ADDR => '127.0.0.1', SERVER_PROTOCOL => 'HTTP/1.1', CONTENT_LENGTH => 0);
	syswrite($c, rec(1, 1, pack('nCx5', 1, 0)) . rec(4, 1, $p) . rec(4, 1, '') . rec(5, 1, ''));
	my $sel = IO::Select->new($c);
	my ($buf, $end) = ('', time + 10);
	while (time < $end && $sel->can_read($end - time)) {
		my $n = sysread($c, $buf, 65536, length $buf);
		last unless $n;
	}
	close $c;
	my $out = '';
	while (length $buf >= 8) {
		my (undef, $type, undef, $len, $pad) = unpack('CCnnC', $buf);
		last if length $buf < 8 + $len + $pad;
		$out .= substr($buf, 8, $len) if $type == 6;
		substr($buf, 0, 8 + $len + $pad, '');
	}
	return $out;
}

# The environment of a serve started by this file: the stack's log, and a
# marker of its own so that tests/run.sh cleans up whatever is left behind.
sub serve_env {
	my ($tag) = @_;
	my $e = default_env($dir);
	$e->{BULWARK_TEST_STACK} = "$dir/$tag";
	return $e;
}

# Runs `bulwark serve --listen $path` expecting it to give up; a serve that
# does not exit within 10 s is killed (with its workers) and reported.
sub serve_refused {
	my ($path, $tag) = @_;
	my $r = run_cmd(cmd => [ bulwark_bin(), 'serve', '--listen', $path, '--workers', 1 ], env => serve_env($tag), cwd => $dir, timeout => 10);
	if ($r->{timed_out}) {
		my @left = procs_with_env('BULWARK_TEST_STACK', "$dir/$tag");
		kill 'KILL', @left if @left;
	}
	return $r;
}

sub pool_started_lines { scalar $s->events(0, 'pool_started') }

# --- a running pool answers on the socket: a second serve is refused
my @workers = sort { $a <=> $b } children_of($master);
is(scalar @workers, 2, 'setup: the running pool has 2 workers');
is($s->req(GET => '/health')->{status}, 200, 'setup: the pool serves');
# Inode numbers are reused at once, so "the same file" is told by an old
# mtime: a re-created socket would carry the current time.
my $OLD = time - 3600;
utime($OLD, $OLD, $sock) or die "utime $sock: $!";
my $started = pool_started_lines();
my $mark    = $s->log_mark;

my $r = serve_refused($sock, 'intruder');
ok(!$r->{timed_out}, 'a second serve on the live socket exits by itself');
ok(defined $r->{exit} && $r->{exit} != 0, 'and exits non-zero') or diag explain $r;
like($r->{err}, qr/another process is listening on it/, 'stderr: "another process is listening on it"') or diag $r->{err};
like($r->{err}, qr/\Q$sock\E/, 'stderr names the socket');
is(pool_started_lines(), $started, 'the refused serve logged no pool_started');
is_deeply([ procs_with_env('BULWARK_TEST_STACK', "$dir/intruder") ], [], 'the refused serve left no process behind');

ok(proc_alive($master), 'the running master is alive');
is_deeply([ sort { $a <=> $b } children_of($master) ], \@workers, 'with the same workers');
ok(-S $sock, 'the socket file is still there');
is(int((stat $sock)[9]), int($OLD), 'the same socket file (its old mtime: not unlinked and re-created)');
my @st = map { $s->req(GET => '/health')->{status} } 1 .. 10;
is_deeply(\@st, [ (200) x 10 ], 'the running pool keeps serving through lighttpd: 10 x 200');
like(fcgi_health($sock), qr/\{"status":"ok"\}/, 'and directly on its socket');

# refused again: the answer does not depend on the first try
$r = serve_refused($sock, 'intruder2');
ok(defined $r->{exit} && $r->{exit} != 0 && $r->{err} =~ /another process is listening on it/, 'a second try is refused the same way')
  or diag explain $r;
is($s->req(GET => '/health')->{status}, 200, 'and the pool still serves');

# any process listening counts, not only a pool
my $other = "$dir/other.sock";
my $listener = IO::Socket::UNIX->new(Local => $other, Listen => 5, Type => SOCK_STREAM) or die "listen $other: $!";
$r = serve_refused($other, 'intruder3');
ok(defined $r->{exit} && $r->{exit} != 0, 'a socket a Perl listener holds: serve exits non-zero') or diag explain $r;
like($r->{err}, qr/another process is listening on it/, 'a socket a Perl listener holds: "another process is listening on it"');
ok(-S $other, 'the listener\'s socket file is left in place');
close $listener;
unlink $other;

# --- a stale socket file (bound, then closed, never unlinked) is replaced
my $stale = "$dir/stale.sock";
{
	my $l = IO::Socket::UNIX->new(Local => $stale, Listen => 1, Type => SOCK_STREAM) or die "bind $stale: $!";
	close $l;
}
ok(-S $stale, 'setup: the stale socket file exists');
ok(!IO::Socket::UNIX->new(Peer => $stale, Type => SOCK_STREAM), 'setup: nobody answers on it');
utime($OLD, $OLD, $stale) or die "utime $stale: $!";

my $out = "$dir/stale-serve.out";
my $bin = bulwark_bin();
my $senv = serve_env('stale');
my $pid = fork // die "fork: $!";
if (!$pid) {
	%ENV = %$senv;
	chdir $dir;
	open(STDIN, '<', '/dev/null');
	open(STDOUT, '>>', $out);
	open(STDERR, '>>', $out);
	exec { $bin } $bin, 'serve', '--listen', $stale, '--workers', 2 or POSIX::_exit(127);
}
my $up = wait_until(sub {
	return 0 if waitpid($pid, WNOHANG) == $pid;
	return IO::Socket::UNIX->new(Peer => $stale, Type => SOCK_STREAM) ? 1 : 0;
}, 15);
ok($up, 'serve on a stale socket path starts and accepts') or diag $s->tail($out);
ok(proc_alive($pid), 'the new master is running');
ok(wait_until(sub { children_of($pid) == 2 }, 10), 'with 2 workers');
ok((stat $stale)[9] > time - 60, 'the stale file was replaced by a new socket (a fresh mtime)') or diag 'mtime ' . (stat $stale)[9];
is(sprintf('%04o', (stat $stale)[2] & 07777), '0660', 'the new socket is mode 0660');
my $h = fcgi_health($stale);
like($h, qr/\{"status":"ok"\}/, 'GET /health over the replaced socket: ok') or diag $h;
ok(proc_alive($master), 'the first pool is untouched');

# while it runs, it in turn refuses a newcomer
$r = serve_refused($stale, 'intruder4');
ok(defined $r->{exit} && $r->{exit} != 0 && $r->{err} =~ /another process is listening on it/, 'the replacement pool is protected the same way')
  or diag explain $r;

my @kids = children_of($pid);
kill 'TERM', $pid;
my $status;
ok(wait_until(sub { my $w = waitpid($pid, WNOHANG); $status = $? if $w == $pid; $w == $pid }, 15), 'SIGTERM: the second pool stops');
is($status, 0, 'it exits 0');
ok(wait_until(sub { !grep { proc_alive($_) } @kids }, 5), 'its workers are gone');
ok(!-e $stale, 'and it removed its socket');

# --- a path that is not a socket is refused and left alone
my $file = "$dir/not-a-socket";
open(my $fh, '>', $file) or die "$file: $!";
print $fh "keep me\n";
close $fh;
$r = serve_refused($file, 'intruder5');
ok(defined $r->{exit} && $r->{exit} != 0, 'a regular file at the path: serve exits non-zero') or diag explain $r;
like($r->{err}, qr/exists and is not a socket/, 'a regular file at the path: "exists and is not a socket"');
ok(-f $file && -s $file == 8, 'the file is left as it was');

is($s->req(GET => '/health')->{status}, 200, 'at the end the first pool still serves');
is_deeply([ sort { $a <=> $b } children_of($master) ], \@workers, 'with its original workers');
$s->stop;
done_testing;
