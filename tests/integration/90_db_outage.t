# PostgreSQL stopped and started under the running stack: 503 with
# Retry-After while it is down, no dead workers, full recovery after.
# Runs last; leaves the database running whatever happens.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

END { eval { pg_start() unless pg_ready() } }

my $s = start_stack(workers => 3);
my @workers = $s->worker_pids;
is(scalar @workers, 3, 'three workers');

my $email = unique_email('outage');
my $pw    = unique_password();
my $c = $s->signup($email, $pw);
is($c->res->{status}, 201, 'setup: signup') or die "signup does not work\n";
my $admin_email = unique_email('outadmin');
my $admin_pw    = unique_password();
$s->secret($admin_pw);
is(add_user($admin_email, $admin_pw, 1)->{exit}, 0, 'setup: an admin');
my $admin = $s->login($admin_email, $admin_pw);
is($admin->res->{status}, 200, 'setup: admin login');

# Every worker has used its connection before the outage.
my @st = parallel(6, sub { $s->req(GET => '/me', cookies => { session => $c->session })->{status} });
is_deeply(\@st, [ (200) x 6 ], 'before: concurrent requests all 200');

sub unavailable {
	my ($r, $name) = @_;
	error_is($r, 503, 'Service unavailable', $name);
	like($r->{headers}{'retry-after'} // '', qr/\A\d+\z/, "$name: Retry-After in whole seconds");
	ok($r->{elapsed} < 5, sprintf('%s: answered in %.2fs', $name, $r->{elapsed}));
}

sub outage {
	my ($how) = @_;
	if ($how eq 'immediate') { BulwarkTest::pg_ctl('-m', 'immediate', '-w', 'stop') }
	else                     { pg_stop() }
	ok(!pg_ready(), "PostgreSQL is down ($how stop)");

	for my $i (1 .. 6) {
		my $r = $s->req(GET => '/health');
		is($r->{status}, 503, "$how: GET /health #$i: 503");
		is_deeply($r->{json}, { status => 'unavailable' }, "$how: GET /health #$i: {\"status\":\"unavailable\"}");
		common_ok($r, "$how: GET /health #$i");
		ok($r->{elapsed} < 5, "$how: GET /health #$i answered quickly");
	}
	unavailable($s->req(GET => '/me', cookies => { session => $c->session }), "$how: GET /me #$_") for 1 .. 6;
	unavailable($s->login($email, $pw)->res, "$how: POST /login with the right password");
	unavailable($s->login($email, "$pw-wrong")->res, "$how: POST /login with a wrong password");
	unavailable($s->signup(unique_email('outage'), unique_password())->res, "$how: POST /signup");
	unavailable($c->req(POST => '/logout', csrf => 1), "$how: POST /logout");
	unavailable($admin->req(GET => '/users'), "$how: GET /users");
	my @p = parallel(6, sub { $s->req(GET => '/me', cookies => { session => $c->session })->{status} });
	is_deeply(\@p, [ (503) x 6 ], "$how: concurrent requests while down: all 503");
	is_deeply([ $s->worker_pids ], \@workers, "$how: the workers stay alive while the database is down");

	pg_start();
	ok(pg_ready(), "$how: PostgreSQL is back");
	ok(wait_until(sub { $s->req(GET => '/health')->{status} == 200 }, 10, 0.2), "$how: GET /health is 200 again within 10 s");
	my @after = map { $s->req(GET => '/me', cookies => { session => $c->session })->{status} } 1 .. 20;
	is_deeply(\@after, [ (200) x 20 ], "$how: the old session works again (20 requests)") or diag "@after";
	@after = parallel(6, sub { $s->req(GET => '/me', cookies => { session => $c->session })->{status} });
	is_deeply(\@after, [ (200) x 6 ], "$how: and on every worker (6 concurrent requests)") or diag "@after";
	is($admin->req(GET => '/users')->{status}, 200, "$how: admin routes work again");
	is_deeply([ $s->worker_pids ], \@workers, "$how: the same workers");
}

outage('fast');
outage('immediate');

# the session survived both outages; logout works
is($c->req(POST => '/logout', csrf => 1)->{status}, 200, 'logout after the outages');
is($s->login($email, $pw)->res->{status}, 200, 'login after the outages');

my @lines = $s->log_lines;
ok(!grep({ $_->{_invalid} } @lines), 'the log stayed one JSON object per line');
$s->log_clean_ok('outage');
done_testing;
