# The FastCGI socket attacked by someone who can reach it (issue 13, item 3):
# crafted records that abort Debian 12's libfcgi (a PARAMS pair whose
# lengths add up to 2^31 - 2; an FCGI_GET_VALUES that overflows libfcgi's
# answer buffer), half-sent requests, a request trickled byte by byte, and
# many connections that send nothing.  No worker dies, ordinary requests
# through lighttpd keep being answered within a second, and what is
# half-sent is closed after BULWARK_READ_TIMEOUT.  Under bulwark serve and
# spawn-fcgi.  Last, a peer that sends request after request on a kept
# connection and reads none of the answers: the worker's writes wait
# BULWARK_READ_TIMEOUT at most, so even a pool of one worker comes back.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use BulwarkTest;
use BulwarkFcgi;

my $TIMEOUT = 2; # BULWARK_READ_TIMEOUT of these stacks

# Ordinary requests through lighttpd: how many of $n were not a 200 within
# a second.
sub slow_requests {
	my ($s, $n) = @_;
	my $bad = 0;
	for (1 .. $n) {
		my $t0 = time;
		my $r = $s->req(GET => '/health', timeout => 5);
		$bad++ if $r->{status} != 200 || time - $t0 > 1;
	}
	return $bad;
}

sub nv { fcgi_nv_len(length $_[0]) . fcgi_nv_len(length $_[1]) . $_[0] . $_[1] }

my $HUGE = fcgi_begin(1) . fcgi_record(4, 1, fcgi_nv_len(0x40000000) . fcgi_nv_len(0x3ffffffe) . 'abc');
my $GET_VALUES = fcgi_record(9, 0, join '', map { nv('FCGI_MPXS_CONNS', '') } 1 .. 8);

for my $mode ('serve', 'spawn-fcgi') {
	my $s = start_stack(workers => 2, mode => $mode, env => { BULWARK_READ_TIMEOUT => $TIMEOUT });
	my $sock = $s->{pool}[0]{sock};
	my @workers = $s->worker_pids;
	is(scalar @workers, 2, "$mode: two workers");

	# --- crafted records: refused before libfcgi reads them
	for my $attack ([ 'a PARAMS pair of 2^31 - 2 bytes' => $HUGE ], [ 'an FCGI_GET_VALUES asking 8 names' => $GET_VALUES ],
		[ 'a management record inside PARAMS' => fcgi_begin(1) . fcgi_record(4, 1, nv('REQUEST_METHOD', 'GET')) . fcgi_record(42, 0, 'QUERY_STRINGx') ]) {
		my ($name, $bytes) = @$attack;
		my $mark = $s->log_mark;
		my $c = fcgi_connect($sock);
		syswrite($c, $bytes);
		my $t = fcgi_wait_eof($c, 5);
		ok(defined $t && $t < 1, "$mode: $name: the connection is closed at once") or diag(defined $t ? "after ${t}s" : 'still open');
		my @ev = $s->events($mark, 'fastcgi_refused');
		is(scalar @ev, 1, "$mode: $name: logged as fastcgi_refused");
		unlike($s->log_raw, qr/QUERY_STRINGx|FCGI_MPXS_CONNS/, "$mode: $name: the log has none of its bytes");
	}

	# A flood of the crafted record, five a second for three seconds,
	# while ordinary requests come through lighttpd.
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		my $end = time + 3;
		while (time < $end) {
			my $c = eval { fcgi_connect($sock) } or next;
			syswrite($c, $HUGE);
			sleep 0.2;
			close $c;
		}
		POSIX::_exit(0);
	}
	my $slow = 0;
	my $t0 = time;
	$slow += slow_requests($s, 5) while time - $t0 < 3;
	waitpid($pid, 0);
	is($slow, 0, "$mode: during a flood of crafted records every request through lighttpd got a 200 within a second");
	is_deeply([ $s->worker_pids ], \@workers, "$mode: no worker died");

	# --- half-sent requests: more of them than workers
	my $mark = $s->log_mark;
	my $t_sent = time;
	my @half;
	for (1 .. 2) {
		my $c = fcgi_connect($sock);
		syswrite($c, fcgi_begin(1) . substr(fcgi_record(4, 1, nv(REQUEST_METHOD => 'GET') . nv(SCRIPT_NAME => '/health')), 0, 20));
		push @half, $c;
	}
	for (1 .. 2) {
		my $c = fcgi_connect($sock);
		my $whole = fcgi_request_bytes(method => 'POST', path => '/login', body => '{"email":"a@b.co","password":"x"}');
		syswrite($c, substr($whole, 0, length($whole) - 30)); # the body cut short
		push @half, $c;
	}
	my $trickle = fcgi_connect($sock); # a whole request, one byte every 50 ms
	my @idle = map { fcgi_connect($sock) } 1 .. 60;     # and 60 that send nothing
	is(slow_requests($s, 5), 0, "$mode: 4 half-sent requests and 60 silent connections: 5 requests through lighttpd each got a 200 within a second");

	my $bytes = fcgi_request_bytes(path => '/health');
	my $i = 0;
	my $trickle_closed;
	while (!defined $trickle_closed && $i < length $bytes) {
		local $SIG{PIPE} = 'IGNORE';
		syswrite($trickle, substr($bytes, $i++, 1)) or last;
		$trickle_closed = fcgi_wait_eof($trickle, 0.05);
	}
	my $elapsed = time - $t_sent;
	ok($elapsed >= $TIMEOUT - 0.5 && $elapsed < $TIMEOUT + 2, "$mode: a request trickled byte by byte is cut off after BULWARK_READ_TIMEOUT, not kept alive by its bytes") or diag "after ${elapsed}s, $i of " . length($bytes) . ' bytes';

	my @closed = map { fcgi_wait_eof($_, $TIMEOUT + 3) } @half, @idle;
	my $late = time - $t_sent;
	is(scalar(grep { defined } @closed), 64, "$mode: the 4 half-sent and 60 silent connections were closed");
	ok($late < $TIMEOUT + 3, "$mode: within BULWARK_READ_TIMEOUT ($TIMEOUT s) and a little") or diag "${late}s";
	my @ev = $s->events($mark, 'fastcgi_timeout');
	cmp_ok(scalar @ev, '>=', 64, "$mode: each logged as fastcgi_timeout");
	is(slow_requests($s, 3), 0, "$mode: requests are still answered at once after them");
	is_deeply([ $s->worker_pids ], \@workers, "$mode: no worker died, none restarted");
	$s->stop;
}

# --- a peer that asks and never reads.  Answers pile up in the socket
# until the worker's write would wait; with one worker, a request through
# lighttpd is answered only once that write gave up.  (One request at a
# time, as a web server sends them: libfcgi reads ahead, so requests sent
# back to back would not all be read as requests.)
{
	my $s = start_stack(workers => 1, mode => 'serve', env => { BULWARK_READ_TIMEOUT => $TIMEOUT });
	my $c = fcgi_connect($s->{pool}[0]{sock});
	$c->blocking(0);
	my $one = fcgi_request_bytes(keep => 1, path => '/health');
	my ($sent, $stuck_since, $pending) = (0, undef, '');
	my $t0 = time;
	while ($sent < 3000 && time - $t0 < 15) {
		local $SIG{PIPE} = 'IGNORE';
		$pending = $one if $pending eq '';
		my $n = syswrite($c, $pending);
		last if !defined $n && !$!{EAGAIN};
		if (defined $n) {
			substr($pending, 0, $n, '');
			if ($pending eq '') { $sent++; $stuck_since = undef; sleep 0.002; next }
		}
		$stuck_since //= time;
		last if time - $stuck_since > 1; # the worker stopped reading: its write waits
		sleep 0.02;
	}
	ok(defined $stuck_since, "a peer that reads nothing: after $sent requests the worker stopped reading them (its answer cannot be written)");
	my $t_ask = time;
	my $r = $s->req(GET => '/health', timeout => $TIMEOUT + 8);
	my $took = time - $t_ask;
	is($r->{status}, 200, 'one worker: a request through lighttpd is still answered');
	ok($took < $TIMEOUT + 3, "within BULWARK_READ_TIMEOUT ($TIMEOUT s) and a little: the blocked write gave up") or diag "${took}s";
	my @w = $s->worker_pids;
	is(scalar @w, 1, 'the worker did not die');
	close $c;
	$s->stop;
}

done_testing;
