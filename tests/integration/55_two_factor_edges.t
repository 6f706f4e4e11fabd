# Two-factor login at its edges (guard/login.c, guard/twofa.c), on accounts
# whose two_factor_enabled flag is set with no secret stored: such an account
# fails closed, never logs in.  The right password without a "code" is 401
# {"error":"Two-factor code required", "twoFactorRequired":true}; with any code
# it is 401 "Invalid two-factor code", logged as twofa_failed and counted toward
# the lockout; a wrong password is the ordinary 401 whatever the code.
# "code", when present, is a non-empty string of at most 32 bytes (400
# otherwise).  The real life cycle is 57_two_factor.t.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use BulwarkTest;

my $REQUIRED = 'Two-factor code required';
my $BAD_CODE = 'Invalid two-factor code';
my $INVALID  = 'Invalid email or password';
my $LOCKED   = 'Account temporarily locked. Try again later.';

# The limits stay raised (default_env): only the lockout count is looked at,
# and the lockout itself once, with a low threshold, at the end.
my $s = start_stack(workers => 2);
reset_counters();

sub sessions_of { psql_one('SELECT count(*) FROM bulwark.sessions WHERE user_id = ' . q_lit($_[0])) }
sub failures    { lockout_failures($_[0]) // 0 }

# A new account with two-factor switched on (email, password, id).
sub tfa_user {
	my ($tag) = @_;
	my ($e, $p, $id) = $s->new_user($tag);
	psql('UPDATE bulwark.users SET two_factor_enabled = true WHERE id = ' . q_lit($id));
	psql('DELETE FROM bulwark.lockouts WHERE email = ' . q_lit($e));
	return ($e, $p, $id);
}

# POST /login with an arbitrary body (a hash: sent as JSON) through a fresh
# client; returns the client.
sub login_body {
	my ($body) = @_;
	my $c = $s->client;
	$c->req(POST => '/login', body => $body);
	return $c;
}

my ($email, $pw, $id) = tfa_user('tfa');
is(psql_one('SELECT two_factor_enabled FROM bulwark.users WHERE id = ' . q_lit($id)), 't', 'setup: two_factor_enabled is true');
my $code_secret = 'code-' . int(rand(1e8));    # must not reach the log
$s->secret($code_secret);

# Two wrong passwords first, so that "unchanged" and "+1" are both visible.
is($s->login($email, 'wrong-password-1')->res->{status}, 401, 'setup: a wrong password');
is($s->login($email, 'wrong-password-2')->res->{status}, 401, 'setup: another wrong password');
is(failures($email), 2, 'setup: lockout count 2');
my $sessions = sessions_of($id);

# --- the right password, no code
my $mark = $s->log_mark;
my $c = $s->login($email, $pw);
my $r = $c->res;
error_is($r, 401, $REQUIRED, 'right password, no code', twoFactorRequired => 1);
is_deeply([ sort keys %{ $r->{json} || {} } ], [qw(error twoFactorRequired)], 'right password, no code: exactly error and twoFactorRequired');
ok(JSON::PP::is_bool($r->{json}{twoFactorRequired}) && $r->{json}{twoFactorRequired}, 'right password, no code: twoFactorRequired is JSON true')
  or diag $r->{body};
ok(!exists $r->{cookies}{session}, 'right password, no code: no session cookie set');
ok(!$c->session, 'right password, no code: the client holds no session');
is(sessions_of($id), $sessions, 'right password, no code: no session row created');
is($c->req(GET => '/me')->{status}, 401, 'right password, no code: GET /me with what the client holds is 401');
is(failures($email), 2, 'right password, no code: the lockout count is neither raised nor cleared (2)');
is(scalar($s->events($mark, 'login_success')), 0, 'right password, no code: no login_success');
is(scalar($s->events($mark, 'twofa_failed')), 0, 'right password, no code: no twofa_failed');
my @req = $s->events($mark, 'twofa_required', email => $email);
is(scalar @req, 1, 'right password, no code: one twofa_required log line');
is($req[0]{userId} // '', $id, 'twofa_required: userId');
is(scalar($s->events($mark, 'login_failed')), 0, 'right password, no code: no login_failed');

# "code": null is the same as no code (optional fields treat null as absent)
$c = login_body({ email => $email, password => $pw, code => undef });
error_is($c->res, 401, $REQUIRED, 'right password, "code": null', twoFactorRequired => 1);
ok(!$c->session, 'right password, "code": null: no session');
is(failures($email), 2, 'right password, "code": null: lockout count unchanged (2)');

# --- the right password with a code: refused, logged, counted
$mark = $s->log_mark;
$c = login_body({ email => $email, password => $pw, code => $code_secret });
$r = $c->res;
error_is($r, 401, $BAD_CODE, 'right password, a code');
ok(!exists $r->{cookies}{session}, 'right password, a code: no session cookie set');
ok(!$c->session, 'right password, a code: the client holds no session');
is(sessions_of($id), $sessions, 'right password, a code: no session row created');
is(failures($email), 3, 'right password, a code: the lockout count goes up by one (3)');
my @ev = $s->events($mark, 'twofa_failed', email => $email);
is(scalar @ev, 1, 'right password, a code: one twofa_failed log line');
is($ev[0]{userId}, $id, 'twofa_failed: userId');
is($ev[0]{ip}, '127.0.0.1', 'twofa_failed: ip');
is($ev[0]{level}, 'warning', 'twofa_failed: level warning');
is(scalar($s->events($mark, 'login_success')), 0, 'right password, a code: no login_success');
is(scalar($s->events($mark, 'login_failed')), 0, 'right password, a code: no login_failed (it is a twofa_failed)');

# any code at all, shortest to longest allowed
my $n = failures($email);
for my $code ('000000', '123456', 'x', 'a' x 32, 'ABCD-EFGH-IJKL-MNOP', ' ') {
	$mark = $s->log_mark;
	$c = login_body({ email => $email, password => $pw, code => $code });
	error_is($c->res, 401, $BAD_CODE, "right password, code '$code'");
	ok(!$c->session, "right password, code '$code': no session");
	is(failures($email), ++$n, "right password, code '$code': lockout count $n");
	is(scalar($s->events($mark, 'twofa_failed', email => $email)), 1, "right password, code '$code': twofa_failed logged");
}
is(sessions_of($id), $sessions, 'after every code: still no new session row');

# --- a wrong password with a code: the ordinary failure, byte for byte
my $plain = $s->login($email, 'wrong-password-3')->res;
$n = failures($email);
$mark = $s->log_mark;
$c = login_body({ email => $email, password => 'wrong-password-4', code => '123456' });
$r = $c->res;
error_is($r, 401, $INVALID, 'wrong password, a code');
is($r->{body}, $plain->{body}, 'wrong password, a code: the same body as a wrong password without one');
ok(!$c->session, 'wrong password, a code: no session');
is(failures($email), $n + 1, 'wrong password, a code: counted once');
is(scalar($s->events($mark, 'login_failed', email => $email)), 1, 'wrong password, a code: login_failed logged');
is(scalar($s->events($mark, 'twofa_failed')), 0, 'wrong password, a code: no twofa_failed (the password was checked first)');

# the wrong-password answer does not tell that the account has two-factor on
my ($e2, $p2) = $s->new_user('plain');
my $other = login_body({ email => $e2, password => 'wrong-password-5', code => '123456' })->res;
is($other->{body}, $r->{body}, 'wrong password with a code: identical for an account without two-factor');
my $nouser = login_body({ email => unique_email('nobody'), password => 'wrong-password-6', code => '123456' })->res;
is($nouser->{body}, $r->{body}, 'wrong password with a code: identical for an email with no account');

# --- "code" that is not a non-empty string of at most 32 bytes: 400, nothing counted
$n = failures($email);
$mark = $s->log_mark;
for my $t (
	[ 123456,            'a number' ],
	[ JSON::PP::true,    'true' ],
	[ [ '123456' ],      'an array' ],
	[ { c => '123456' }, 'an object' ],
	[ '',                'an empty string' ],
	[ 'a' x 33,          '33 bytes' ],
  )
{
	my ($code, $name) = @$t;
	$c = login_body({ email => $email, password => $pw, code => $code });
	issues_ok($c->res, 'code', "right password, code $name");
	ok(!$c->session, "right password, code $name: no session");
	my @paths = map { $_->{path} } @{ ref $c->res->{json} eq 'HASH' && ref $c->res->{json}{issues} eq 'ARRAY' ? $c->res->{json}{issues} : [] };
	is_deeply(\@paths, ['code'], "right password, code $name: the only issue is 'code'");
}
# the same bad code with a wrong password: still the 400 (validation comes first)
issues_ok(login_body({ email => $email, password => 'wrong-password-7', code => '' })->res, 'code', 'wrong password, empty code');
is(failures($email), $n, 'invalid codes: the lockout count is unchanged');
is(scalar($s->events($mark, 'twofa_failed')), 0, 'invalid codes: no twofa_failed');
is(scalar($s->events($mark, 'login_failed')), 0, 'invalid codes: no login_failed (the password is not checked)');
is(sessions_of($id), $sessions, 'invalid codes: no session row');

# --- an account without two-factor ignores a code
$c = login_body({ email => $e2, password => $p2, code => '123456' });
is($c->res->{status}, 200, 'no two-factor, right password and a code: 200');
ok($c->session, 'no two-factor, right password and a code: a session');

# --- switching two-factor off lets the same password in: the 401s were the flag
psql('UPDATE bulwark.users SET two_factor_enabled = false WHERE id = ' . q_lit($id));
$c = $s->login($email, $pw);
is($c->res->{status}, 200, 'two-factor switched off: the same password logs in');
ok($c->session, 'two-factor switched off: a session');
is(lockout_failures($email), undef, 'two-factor switched off: the success clears the lockout count');

# --- codes count toward the lockout: with a threshold of 3, three codes lock
$s->restart_workers(env => { BULWARK_LOCKOUT_THRESHOLD => 3, BULWARK_LOCKOUT_SECONDS => 60 });
my ($e3, $p3, $id3) = tfa_user('tfalock');
my @st = map { login_body({ email => $e3, password => $p3, code => "99999$_" })->res->{status} } 1 .. 3;
is(join(' ', @st), '401 401 401', 'threshold 3: three codes with the right password: 401 x3');
is(failures($e3), 3, 'threshold 3: lockout count 3');
ok(psql_one('SELECT locked_until > now() FROM bulwark.lockouts WHERE email = ' . q_lit($e3)) eq 't', 'threshold 3: the account is locked');
$r = login_body({ email => $e3, password => $p3, code => '999994' })->res;
error_is($r, 429, $LOCKED, 'threshold 3: a 4th code');
retry_after_ok($r, 30, 60, 'threshold 3: a 4th code');
$r = $s->login($e3, $p3)->res;
error_is($r, 429, $LOCKED, 'threshold 3: the right password without a code, locked');
is(sessions_of($id3), 1, 'threshold 3: only the signup session exists');

$s->log_clean_ok('two-factor');
reset_counters($email, $e2, $e3);
done_testing;
