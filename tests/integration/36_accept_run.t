# A worker under load must still stop on SIGTERM.  Signals are blocked
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
ok(wait_until(sub { grep { ($_->{event} // '') eq 'worker_stopped' && ($_->{pid} // 0) == $w } $s->log_lines(since => $since) }, 10),
	'it logs worker_stopped');
my ($old_served, $stopped) = (0, 0);
for my $l ($s->log_lines(since => $since)) {
	my $m = $l->{event} // '';
	$stopped = 1 if $m eq 'worker_stopped' && ($l->{pid} // 0) == $w;
	$old_served++ if !$stopped && $m eq 'request' && ($l->{path} // '') eq '/login';
}
cmp_ok($old_served, '<=', 24, "a busy worker stops on SIGTERM: it served $old_served of the other " . ($N - 1) . ' queued logins after the signal, not all');
my $hanging = grep { $_->{timeout} } @r;
my $served  = grep { defined $_->{status} } @r;
is($hanging, 0, 'no queued login is left without an answer');
is($served, $N - 1, 'the replacement worker serves the rest: every queued login answered');
is(scalar(grep { defined $_->{status} && $_->{status} != 401 } @r), 0, 'every one answered whole: 401');
isnt(($s->worker_pids)[0] // 0, $w, 'a new worker stands in its place');
$s->stop;
done_testing;
