# Account lockout (API.md "Login", step 3): BULWARK_LOCKOUT_THRESHOLD
# failures lock an email for BULWARK_LOCKOUT_SECONDS, whether or not it has an
# account; the lock lifts by itself, a successful login clears the count, the
# lock is durable, and an admin can clear it (POST /users/:id/unlock).
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use Time::HiRes qw(time sleep);
use BulwarkTest;

my $LOCKED  = 'Account temporarily locked. Try again later.';
my $INVALID = 'Invalid email or password';

# The contract's lockout threshold (10), the rate limits out of the way (they
# are 50_rate_limits.t's business), the lockout short.
my $s = start_stack(
	workers => 2,
	env     => {
		%CONTRACT_LOGIN_LIMITS,
		BULWARK_LOGIN_IP_LIMIT    => 1000000,
		BULWARK_LOGIN_EMAIL_LIMIT => 1000000,
		BULWARK_LOCKOUT_SECONDS   => 3,
	}
);
reset_counters();

sub lock_rows   { psql_one('SELECT count(*) FROM bulwark.lockouts WHERE email = ' . q_lit($_[0])) }
sub locked_now  { psql_one('SELECT count(*) FROM bulwark.lockouts WHERE locked_until > now() AND email = ' . q_lit($_[0])) }

# A new account (email, password, id) with no lockout row.
sub user {
	my @u = $s->new_user($_[0]);
	psql('DELETE FROM bulwark.lockouts WHERE email = ' . q_lit($u[0]));
	return @u;
}

sub wrong { my ($e, $n) = @_; map { $s->login($e, "wrong-password-$_")->res } 1 .. $n }
sub statuses { join ' ', map { $_->{status} } @_ }

# --- ten failures lock the account, the eleventh attempt is refused
my ($email, $pw) = user('lock');
my $mark = $s->log_mark;
my @r = wrong($email, 11);
my $t_lock = time;
is(statuses(@r), join(' ', (401) x 10, 429), '11 wrong logins: 401 x10, then 429');
error_is($r[$_], 401, $INVALID, 'failure ' . ($_ + 1)) for 0, 9;
error_is($r[10], 429, $LOCKED, 'the 11th attempt');
retry_after_ok($r[10], 1, 3, 'the 11th attempt');
is(scalar($s->events($mark, 'login_failed', email => $email)), 10, 'ten login_failed lines: the 11th did not reach the password check');
is(lockout_failures($email), 10, 'bulwark.lockouts: 10 failures');
is(locked_now($email), 1, 'bulwark.lockouts: locked');

# the right password during the lock
$mark = $s->log_mark;
my $c = $s->login($email, $pw);
error_is($c->res, 429, $LOCKED, 'the right password during the lock');
retry_after_ok($c->res, 1, 3, 'the right password during the lock');
ok(!$c->session, 'no session cookie');
my @ev = $s->events($mark, 'login_locked', email => $email);
is(scalar @ev, 1, 'a login_locked log line');
is($ev[0]{ip}, '127.0.0.1', 'login_locked: ip');
is(scalar($s->events($mark, 'login_success')), 0, 'no login_success');
is(scalar($s->events($mark, 'login_failed')), 0, 'no login_failed');

# --- an email with no account locks exactly the same way
my $ghost = unique_email('ghost');
is(psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit($ghost)), 0, 'setup: the ghost email has no account');
$mark = $s->log_mark;
my @g = wrong($ghost, 11);
my $t_ghost = time;
push @g, $s->login($ghost, $pw)->res;
is(statuses(@g), statuses(@r, $c->res), 'no account: the same statuses (401 x10, 429, 429)');
is_deeply([ map { $_->{body} } @g ], [ map { $_->{body} } @r, $c->res ], 'no account: byte-identical bodies');
error_is($g[10], 429, $LOCKED, 'no account: the 11th attempt');
retry_after_ok($g[$_], 1, 3, 'no account: attempt ' . ($_ + 1)) for 10, 11;
is(join(' ', map { defined $_->{headers}{'retry-after'} ? 'RA' : '-' } @g),
	join(' ', map { defined $_->{headers}{'retry-after'} ? 'RA' : '-' } @r, $c->res), 'no account: Retry-After on the same responses');
is(scalar($s->events($mark, 'login_locked', email => $ghost)), 2, 'no account: login_locked logged too');
is(locked_now($ghost), 1, 'no account: a lockout row, locked');

# --- the lock lifts by itself
sleep(0.05) while time < $t_ghost + 3.5;
ok(time > $t_lock + 3.4, 'setup: the locks are 3.5 s old');
$c = $s->login($email, $pw);
is($c->res->{status}, 200, 'after the lock lifts the right password logs in');
ok($c->session, 'with a session cookie');
is(lock_rows($email), 0, 'and the count is cleared (no lockouts row)');
is($s->login($ghost, 'wrong-again')->res->{status}, 401, 'no account: lifted too, a wrong password is a plain 401');
is(lockout_failures($ghost), 1, 'no account: the count started again (1)');

# --- a successful login before the threshold clears the count
my ($e2, $p2) = user('clear');
@r = wrong($e2, 9);
is(statuses(@r), join(' ', (401) x 9), '9 failures: 401 x9');
is(lockout_failures($e2), 9, 'count 9');
is($s->login($e2, $p2)->res->{status}, 200, 'then the right password: 200');
is(lock_rows($e2), 0, 'the count is cleared');
@r = wrong($e2, 9);
is(statuses(@r), join(' ', (401) x 9), '9 more failures: still 401 x9 (not locked at 10 in all)');
is(lockout_failures($e2), 9, 'count 9 again');
@r = wrong($e2, 2);
is(statuses(@r), '401 429', 'the 10th failure since the success is 401 and locks, the next is 429');

# --- durable: a lock survives a restart of every worker
$s->restart_workers(env => { BULWARK_LOCKOUT_SECONDS => 60 });
my ($e3, $p3, $id3) = user('durable');
@r = wrong($e3, 10);
is(statuses(@r), join(' ', (401) x 10), '10 failures (lock of 60 s)');
my $until = psql_one('SELECT locked_until FROM bulwark.lockouts WHERE email = ' . q_lit($e3));
ok(defined $until, 'locked');
my @before = $s->worker_pids;
$s->restart_workers;
my @after = $s->worker_pids;
ok(@after && !grep({ my $p = $_; grep { $_ == $p } @before } @after), 'every worker is new');
is(psql_one('SELECT locked_until FROM bulwark.lockouts WHERE email = ' . q_lit($e3)), $until, 'the lockout row survived, unchanged');
$c = $s->login($e3, $p3);
error_is($c->res, 429, $LOCKED, 'after the restart the right password is still refused');
retry_after_ok($c->res, 30, 60, 'after the restart');

# --- admin unlock
my $admin_email = unique_email('lockadmin');
my $admin_pw    = unique_password();
$s->secret($admin_pw);
is(add_user($admin_email, $admin_pw, 1)->{exit}, 0, 'setup: an admin');
my $admin = $s->login($admin_email, $admin_pw);
is($admin->res->{status}, 200, 'setup: the admin logs in') or die "admin login failed\n";
my ($ne, $np) = user('plainuser');
my $plain = $s->login($ne, $np);
is($plain->res->{status}, 200, 'setup: a non-admin logs in');
ok(defined rate_limit_count("login:email:$e3"), "setup: a login:email row for the locked user");

my $path = "/users/$id3/unlock";
error_is($s->req(POST => $path), 401, 'Unauthorized', 'unlock, anonymous');
error_is($admin->req(POST => $path), 403, 'Invalid CSRF token', 'unlock, admin without X-CSRF-Token');
error_is($plain->req(POST => $path, csrf => 1), 403, 'Forbidden', 'unlock, a non-admin with CSRF');
my $r404 = $admin->req(POST => '/users/00000000-0000-4000-8000-000000000000/unlock', csrf => 1);
is($r404->{status}, 404, 'unlock, unknown id: 404');
common_ok($r404, 'unlock, unknown id');
ok(ref $r404->{json} eq 'HASH' && defined $r404->{json}{error}, 'unlock, unknown id: an error message');
$r404 = $admin->req(POST => '/users/not-a-uuid/unlock', csrf => 1);
is($r404->{status}, 404, 'unlock, non-UUID id: 404');
common_ok($r404, 'unlock, non-UUID id');
is(locked_now($e3), 1, 'none of the refused requests unlocked the user');

$mark = $s->log_mark;
my $u = $admin->req(POST => $path, csrf => 1);
is($u->{status}, 200, 'unlock as admin with CSRF: 200');
is_deeply($u->{json}, { ok => JSON::PP::true }, 'unlock: {"ok":true}');
common_ok($u, 'unlock');
@ev = $s->events($mark, 'lockout_cleared');
is(scalar @ev, 1, 'a lockout_cleared log line');
is($ev[0]{userId}, $id3, 'lockout_cleared: userId');
is(lock_rows($e3), 0, 'the lockout row is gone');
is(rate_limit_count("login:email:$e3"), undef, "the user's login:email rate-limit row is gone");
$c = $s->login($e3, $p3);
is($c->res->{status}, 200, 'at once the right password logs in');
ok($c->session, 'with a session cookie');

$s->log_clean_ok('lockout');
done_testing;
