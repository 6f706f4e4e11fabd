# A worker under load must still stop on SIGTERM, fed by new connections
# (lighttpd, Apache) or by kept ones (nginx).  Signals are blocked
# except inside epoll_pwait, and Linux runs a pending handler there only
# when the call sleeps: with connections always queued it returns at once
# and the signal stays pending.  The worker asks sigpending after every 16
# turns that did not sleep (cmd/worker.c, BUSY_CHECK), and takes at most
# 16 queued connections in a row without epoll_pwait (ACCEPT_RUN).
# One worker; 60 logins queued while it is stopped, each a password hash
# (yescrypt cost 3, some 4 ms), so the signal arrives in the middle of the
# queue.  The worker serves at most about 16 more and exits; the pool's
# replacement, which starts only once the old one is reaped, serves what is
# left, so no queued login goes unanswered.  What the old worker served is
# told from the log: its request lines come before its worker_stopped line.
use strict;
use warnings;
use Test::More;
use BulwarkTest;
use BulwarkFcgi;
use IO::Select;
use Time::HiRes qw(time);

# Logins worker $pid logged after offset $since of the log, up to its own
# worker_stopped line (its replacement starts only once it is reaped), and
# whether that line is there.
sub served_before_stop {
	my ($s, $pid, $since) = @_;
	my ($n, $stopped) = (0, 0);
	for my $l ($s->log_lines(since => $since)) {
		my $m = $l->{event} // '';
		$stopped = 1 if $m eq 'worker_stopped' && ($l->{pid} // 0) == $pid;
		$n++ if !$stopped && $m eq 'request' && ($l->{path} // '') eq '/login';
	}
	return ($n, $stopped);
}

my $s = start_stack(mode => 'serve', workers => 1, env => { BULWARK_PASSWORD_COST => 3 });
my $sock = $s->{pool}[0]{sock};
my @w = $s->worker_pids;
is(scalar @w, 1, 'one worker');
my $w = $w[0];
is($s->req(GET => '/health')->{status}, 200, 'it serves');

my $N    = 60;
my $body = '{"email":"' . unique_email('run') . '","password":"wrong-password-1"}';
kill 'STOP', $w;
my @c = map { fcgi_connect($sock) } 1 .. $N;
syswrite($_, fcgi_request_bytes(method => 'POST', path => '/login', body => $body)) for @c;
kill 'CONT', $w;
my ($first) = fcgi_read_many([ $c[0] ], 20);
is($first->{status}, 401, 'the first of the queued logins is answered: 401') or diag explain $first;
my $since = length $s->log_raw;
kill 'TERM', $w;
my @r = fcgi_read_many([ @c[ 1 .. $#c ] ], 30);
ok(wait_until(sub { !proc_alive($w) }, 10), 'the worker exits after SIGTERM');
ok(wait_until(sub { (served_before_stop($s, $w, $since))[1] }, 10), 'it logs worker_stopped');
my ($old_served) = served_before_stop($s, $w, $since);
cmp_ok($old_served, '<=', 24, "a busy worker stops on SIGTERM: it served $old_served of the other " . ($N - 1) . ' queued logins after the signal, not all');
my $hanging = grep { $_->{timeout} } @r;
my $served  = grep { defined $_->{status} } @r;
is($hanging, 0, 'no queued login is left without an answer');
is($served, $N - 1, 'the replacement worker serves the rest: every queued login answered');
is(scalar(grep { defined $_->{status} && $_->{status} != 401 } @r), 0, 'every one answered whole: 401');
my @w2;
ok(wait_until(sub { @w2 = grep { $_ != $w } $s->worker_pids; @w2 == 1 }, 10), 'a new worker stands in its place');

# The same through kept connections, as nginx keeps them: 8 of them, each
# given its next login the moment its answer arrives, so the worker always
# has a request ready and its epoll_pwait never sleeps (the accept run
# plays no part: it holds connections).  SIGTERM after 20 answers; then at
# most 16 turns and the requests already whole on its 8 connections.
$w = $w2[0];
$SIG{PIPE} = "IGNORE"; # the worker closes kept connections on its way out
my $K    = 8;
my @k    = map { fcgi_connect($sock) } 1 .. $K;
my $req  = fcgi_request_bytes(keep => 1, method => 'POST', path => '/login', body => $body);
syswrite($_, $req) for @k;
my %open = map { ($_ => 1) } 0 .. $K - 1;
my ($answers, $after, $bad, $termed, $at_term) = (0, 0, 0, 0, 0);
my $mark = length $s->log_raw;
my $end  = time + 30;
while (%open && time < $end && $after < 150) {
	my $sel = IO::Select->new(map { $k[$_] } keys %open);
	my %idx = map { (fileno($k[$_]) => $_) } keys %open;
	for my $c ($sel->can_read(1)) {
		my $i = $idx{ fileno $c };
		my $n = sysread($c, ${*$c}{fcgi_buf}, 65536, length ${*$c}{fcgi_buf});
		if (!$n) { delete $open{$i}; next }
		while (my $r = BulwarkFcgi::take_response(\${*$c}{fcgi_buf})) {
			$answers++;
			$after++ if $termed;
			$bad++ if ($r->{status} // 0) != 401;
			syswrite($c, $req);
		}
	}
	if (!$termed && $answers >= 20) {
		$mark = length $s->log_raw;
		kill 'TERM', $w;
		($termed, $at_term) = (1, $answers);
	}
}
ok($termed, "SIGTERM sent to the busy worker after $at_term answers on $K kept connections");
ok(wait_until(sub { !proc_alive($w) }, 10), 'the worker kept busy by kept connections exits');
my ($kept_served, $kept_stopped) = served_before_stop($s, $w, $mark);
ok($kept_stopped, 'it logs worker_stopped');
cmp_ok($kept_served, '<=', 16 + $K + 8, "it served $kept_served logins after the signal (the client stops at 150)");
is(scalar(keys %open), 0, 'it closed every kept connection on its way out');
is($bad, 0, 'every answer on the kept connections was whole: 401');
$s->stop;
done_testing;
