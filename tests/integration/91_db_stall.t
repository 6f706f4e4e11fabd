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

$s->log_clean_ok('db stall');
done_testing;
