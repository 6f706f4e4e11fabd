# Kept FastCGI connections (FCGI_KEEP_CONN, what nginx's fastcgi_keep_conn
# sends): a worker serves every connection it holds, so 64 kept connections
# on 2 workers all get answers, again and again, while others sit idle; an
# idle kept connection never delays anyone; a worker keeps at most 64 idle
# ones and closes the least recently used beyond.  Under both process
# managers: bulwark serve and spawn-fcgi (one listening socket on fd 0).
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use IO::Select ();
use BulwarkTest;
use BulwarkFcgi;

sub all_answered {
	my ($name, $res, $want) = @_;
	my @bad = grep { !defined $res->[$_]{status} || $res->[$_]{status} != ($want // 200) } 0 .. $#$res;
	ok(!@bad, "$name: " . scalar(@$res) . ' answered ' . ($want // 200)) or diag(scalar(@bad) . ' not: ' . join(', ', map { $res->[$_]{eof} ? "#$_ closed" : $res->[$_]{timeout} ? "#$_ no answer" : "#$_ status $res->[$_]{status}" } @bad[0 .. ($#bad < 5 ? $#bad : 5)]));
}

for my $mode ('serve', 'spawn-fcgi') {
	my $s = start_stack(workers => 2, mode => $mode);
	my $sock = $s->{pool}[0]{sock};
	my @workers = $s->worker_pids;
	is(scalar @workers, 2, "$mode: two workers");

	# 64 connections at once, each asking to be kept.
	my @c = map { fcgi_connect($sock) } 1 .. 64;
	syswrite($_, fcgi_request_bytes(keep => 1, path => '/health')) for @c;
	my @r = fcgi_read_many(\@c, 10);
	all_answered("$mode: 64 kept connections to 2 workers, first request", \@r);
	like($r[0]{stdout}, qr/\{"status":"ok"\}/, "$mode: the health answer");

	# Every other connection asks again while the others stay idle; then
	# all of them: the same connections, kept open by the workers.
	my @odd = @c[ grep { $_ % 2 } 0 .. 63 ];
	syswrite($_, fcgi_request_bytes(keep => 1, id => 2, path => '/health')) for @odd;
	@r = fcgi_read_many(\@odd, 10);
	all_answered("$mode: 32 of them again while 32 sit idle", \@r);
	for my $round (3 .. 5) {
		syswrite($_, fcgi_request_bytes(keep => 1, id => $round, path => '/health')) for @c;
		@r = fcgi_read_many(\@c, 10);
		all_answered("$mode: all 64 again, round $round", \@r);
	}

	# Idle kept connections delay nobody: ordinary requests through
	# lighttpd are answered at once while 64 are held idle.
	my $slow = 0;
	for (1 .. 10) {
		my $t0 = time;
		my $h = $s->req(GET => '/health');
		$slow++ if $h->{status} != 200 || time - $t0 > 1;
	}
	is($slow, 0, "$mode: 10 requests through lighttpd while 64 kept connections sit idle, each answered within a second");

	# A body on a kept connection, one the handler reads and one it does
	# not (413 is answered before reading): the next request on the same
	# connection is still answered, so the rest of the body was read out.
	my ($k) = @c;
	my $email = unique_email('ka');
	syswrite($k, fcgi_request_bytes(keep => 1, id => 7, method => 'POST', path => '/login', body => qq({"email":"$email","password":"wrong-password-1"})));
	my ($lr) = fcgi_read_many([$k], 10);
	is($lr->{status}, 401, "$mode: a POST with a body on a kept connection: 401") or diag explain $lr;
	syswrite($k, fcgi_request_bytes(keep => 1, id => 8, method => 'POST', path => '/login', body => '{"x":"' . ('y' x 66000) . '"}'));
	($lr) = fcgi_read_many([$k], 10);
	is($lr->{status}, 413, "$mode: a body over the limit on a kept connection: 413") or diag explain $lr;
	syswrite($k, fcgi_request_bytes(keep => 1, id => 9, path => '/health'));
	($lr) = fcgi_read_many([$k], 10);
	is($lr->{status}, 200, "$mode: the same connection answers the next request") or diag explain $lr;

	# A body longer than the check reads whole (64 KiB): answered, the
	# rest read out, and the connection kept, as the web server asked
	# (nginx would send its next POST on it, and not retry it).
	my $big = fcgi_connect($sock);
	syswrite($big, fcgi_request_bytes(keep => 1, method => 'POST', path => '/login', body => '{"x":"' . ('y' x 100000) . '"}'));
	($lr) = fcgi_read_many([$big], 10);
	is($lr->{status}, 413, "$mode: a 100 KB body on a kept connection: 413");
	syswrite($big, fcgi_request_bytes(keep => 1, id => 2, path => '/health'));
	($lr) = fcgi_read_many([$big], 10);
	is($lr->{status}, 200, "$mode: and that connection is kept: the next request on it is answered") or diag explain $lr;

	# Without FCGI_KEEP_CONN the worker closes the connection after the answer.
	my $once = fcgi_connect($sock);
	syswrite($once, fcgi_request_bytes(keep => 0, path => '/health'));
	($lr) = fcgi_read_many([$once], 10);
	is($lr->{status}, 200, "$mode: a request without FCGI_KEEP_CONN is answered");
	ok(defined fcgi_wait_eof($once, 5), "$mode: and its connection is closed after the answer");

	is_deeply([ $s->worker_pids ], \@workers, "$mode: no worker died");
	my @req = grep { ($_->{event} // '') eq 'request' } $s->log_lines;
	cmp_ok(scalar @req, '>=', 64 * 4 + 32, "$mode: every request logged its line");
	close $_ for @c;
	$s->stop;
}

# One worker, 70 kept idle connections: it keeps 64 and closes the 6 it
# used least recently, and still serves the ones it keeps.
{
	my $s = start_stack(workers => 1, mode => 'serve');
	my $sock = $s->{pool}[0]{sock};
	my @c;
	for my $i (1 .. 70) {
		my $c = fcgi_connect($sock);
		syswrite($c, fcgi_request_bytes(keep => 1, path => '/health'));
		my ($r) = fcgi_read_many([$c], 10);
		is($r->{status}, 200, "idle bound: connection $i answered") if $i == 1 || $i == 70;
		push @c, $c;
	}
	sleep 0.3;
	my @closed = grep { my $b; IO::Select->new($c[$_])->can_read(0) && !sysread($c[$_], $b, 4096) } 0 .. 69;
	is_deeply(\@closed, [ 0 .. 5 ], 'idle bound: the 6 least recently used of 70 idle connections were closed');
	my @kept = @c[ 6 .. 69 ];
	syswrite($_, fcgi_request_bytes(keep => 1, id => 2, path => '/health')) for @kept;
	my @r = fcgi_read_many(\@kept, 10);
	all_answered('idle bound: the 64 kept ones still answer', \@r);
	$s->stop;
}

done_testing;
