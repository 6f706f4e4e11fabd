# A database that stops answering (a frozen server, a lost network) never
# hangs a worker: past BULWARK_DB_TIMEOUT and a short grace the worker gives
# the connection up and answers 503; when the server answers again, so does
# the API.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use BulwarkTest;

my $app = "stall$$";
my $s = start_stack(workers => 1, env => {
	BULWARK_DB_TIMEOUT => 1,
	DATABASE_URL       => BulwarkTest::cfg('DATABASE_URL') . "&application_name=$app",
});
my ($worker) = $s->worker_pids;
is($s->req(GET => '/health')->{status}, 200, 'health before the stall');
my $backend = psql_one("SELECT pid FROM pg_stat_activity WHERE application_name = " . q_lit($app));
ok(defined $backend && $backend =~ /^\d+$/, "the worker's backend ($app)") or BAIL_OUT('no backend to stall');

# SIGSTOP: the server neither answers nor closes the connection.
ok(kill('STOP', $backend), 'backend stopped (SIGSTOP)');
my $t0 = time;
my $r = $s->req(GET => '/health');
my $took = time - $t0;
kill 'CONT', $backend;
is($r->{status}, 503, 'a stalled database: 503');
is($r->{json}{status}, 'unavailable', '{"status":"unavailable"}');
ok(defined $r->{headers}{'retry-after'}, 'with Retry-After');
ok($took >= 2.5 && $took < 8, sprintf('answered after the deadline (1 s + 2 s grace), not never: %.1f s', $took));
is_deeply([ $s->worker_pids ], [$worker], 'the same worker, alive');
ok(scalar($s->events(0, 'db_unavailable', detail => 'no answer before the deadline')), 'db_unavailable logged');

ok(wait_until(sub { $s->req(GET => '/health')->{status} == 200 }, 10), 'the server answers again: 200');
my $email = unique_email('stall');
is($s->signup($email, unique_password())->res->{status}, 201, 'and writes work');

# A statement that waits on a lock past lock_timeout (half the statement
# timeout) is cancelled by the server: 503, and the connection stays usable.
my @r = parallel(2, sub {
	my ($i) = @_;
	if ($i == 0) {
		psql('BEGIN; LOCK TABLE bulwark.rate_limits IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(2.5); COMMIT');
		return 'released';
	}
	select(undef, undef, undef, 0.7);
	my $t = time;
	my $res = $s->req(POST => '/login', body => { email => $email, password => 'wrong password' });
	return sprintf '%d %s %.1f', $res->{status}, (defined $res->{headers}{'retry-after'} ? 'retry' : 'none'), time - $t;
});
my ($st, $ra, $secs) = split ' ', $r[1];
is($st, 503, 'a login stuck behind a lock: 503 (lock_timeout), not 500');
is($ra, 'retry', 'with Retry-After');
ok($secs < 2.5, "before the lock was released ($secs s)");
is($r[0], 'released', 'the lock holder finished');
ok(scalar($s->events(0, 'db_unavailable', sqlstate => '55P03')), 'logged as db_unavailable, sqlstate 55P03');
is($s->req(POST => '/login', body => { email => $email, password => 'wrong password' })->{status}, 401,
	'once the lock is gone: the ordinary 401');
is_deeply([ $s->worker_pids ], [$worker], 'still the same worker');

$s->log_clean_ok('db stall');
done_testing;
