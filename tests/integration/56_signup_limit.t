# The per-IP signup limit (fcgi/routes_auth.c route_signup): key
# signup:ip:<ip_limit_key>, BULWARK_SIGNUP_IP_LIMIT (default 20) per
# BULWARK_SIGNUP_WINDOW (default 3600 s), a fixed window in
# bulwark.rate_limits.  Every signup that passes validation counts, a 409 for
# a taken email too; past the limit 429 "Too many signups. Try again later."
# with Retry-After, a rate_limited log line with key "signup", and no user.
# A body that fails validation (400) is answered before the limit is
# consulted, so it neither counts nor is refused with 429.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use BulwarkTest;

my $TOO_MANY = 'Too many signups. Try again later.';
my $KEY      = 'signup:ip:127.0.0.1';

my $s = start_stack(workers => 2, env => { BULWARK_SIGNUP_IP_LIMIT => 3 });

sub users_with { psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit($_[0])) }
sub signup_keys { rate_limit_keys('signup:%') }

# POST /signup with a fresh email (or $email); returns the response.
sub fresh_signup {
	my ($email, %o) = @_;
	$email //= unique_email('sl');
	my $pw = unique_password();
	$s->secret($pw);
	return $s->req(POST => '/signup', body => { email => $email, password => $pw }, %o);
}

# --- bad bodies are answered before the limit and do not count
psql('DELETE FROM bulwark.rate_limits');
my $taken = unique_email('taken');
my @bad = (
	[ 'malformed JSON',       '{"email":' ],
	[ 'not an object',        '[1,2]' ],
	[ 'no password',          { email => unique_email('bad') } ],
	[ 'a weak password',      { email => unique_email('bad'), password => 'short' } ],
	[ 'an invalid email',     { email => 'not-an-email', password => unique_password() } ],
	[ 'a numeric email',      { email => 42, password => unique_password() } ],
);
for my $b (@bad) {
	my ($name, $body) = @$b;
	my $r = $s->req(POST => '/signup', body => $body);
	is($r->{status}, 400, "before any signup, $name: 400") or diag $r->{body};
}
is_deeply(signup_keys(), [], 'the 400s left no signup:ip row (validation runs before the limit)');

# --- three signups count (201, 201 and a 409), the fourth is refused
my $mark = $s->log_mark;
my @r = (fresh_signup($taken), fresh_signup());
is($r[0]{status}, 201, 'signup 1: 201');
is($r[1]{status}, 201, 'signup 2: 201');
is(rate_limit_count($KEY), 2, "after two signups: $KEY count 2");
push @r, fresh_signup($taken);
error_is($r[2], 409, 'Email already registered', 'signup 3, a taken email');
is(rate_limit_count($KEY), 3, 'the 409 counted too: count 3');
is_deeply(signup_keys(), [$KEY], "one signup key, $KEY");

my $fourth = unique_email('fourth');
my $r = fresh_signup($fourth);
error_is($r, 429, $TOO_MANY, 'signup 4');
retry_after_ok($r, 3500, 3600, 'signup 4 (window 3600 s by default)');
ok(!exists $r->{cookies}{session}, 'signup 4: no session cookie');
is(users_with($fourth), 0, 'signup 4: no user created');
is(rate_limit_count($KEY), 4, 'signup 4: refused, but counted (count 4)');
my @ev = $s->events($mark, 'rate_limited', key => 'signup');
is(scalar @ev, 1, 'one rate_limited log line with key "signup"');
is($ev[0]{ip}, '127.0.0.1', 'rate_limited: ip 127.0.0.1');
is(scalar($s->events($mark, 'signup', email => $fourth)), 0, 'signup 4: no signup log line');
is(scalar($s->events($mark, 'signup')), 2, 'two signup log lines in all (the 201s)');

# a taken email past the limit: 429, not 409 (no probing emails in bulk)
$r = fresh_signup($taken);
error_is($r, 429, $TOO_MANY, 'signup 5, the taken email');
is(users_with($taken), 1, 'the taken email still has exactly one user');

# a bad body past the limit is still a 400, and does not count
my $count = rate_limit_count($KEY);
for my $b (@bad) {
	my ($name, $body) = @$b;
	$r = $s->req(POST => '/signup', body => $body);
	is($r->{status}, 400, "past the limit, $name: 400, not 429") or diag $r->{body};
}
is(rate_limit_count($KEY), $count, "past the limit, the 400s did not count ($count)");
# nor does one the router refuses (415)
$r = $s->req(POST => '/signup', body => '{}', content_type => 'text/plain');
is($r->{status}, 415, 'past the limit, a text/plain body: 415');
is(rate_limit_count($KEY), $count, 'and it did not count');

# the signup limit is not the login limit
is($s->login($taken, 'wrong-password')->res->{status}, 401, 'past the signup limit a login is still answered (401, not 429)');
is(rate_limit_count($KEY), $count, 'and the login did not touch the signup count');

# --- the window: BULWARK_SIGNUP_WINDOW=2, signups allowed again after it
$s->restart_workers(env => { BULWARK_SIGNUP_WINDOW => 2 });
psql('DELETE FROM bulwark.rate_limits');
my $t0 = time;
my @st = map { fresh_signup()->{status} } 1 .. 3;
is(join(' ', @st), '201 201 201', 'window 2 s: three signups');
$r = fresh_signup();
error_is($r, 429, $TOO_MANY, 'window 2 s: the fourth');
retry_after_ok($r, 1, 2, 'window 2 s: the fourth');
ok(time - $t0 < 2, 'setup: the fourth came within the window') or diag time - $t0;
sleep(0.05) while time < $t0 + 2.5;
my $later = unique_email('later');
$r = fresh_signup($later);
is($r->{status}, 201, 'window 2 s: 2.5 s later a signup is allowed again');
is(users_with($later), 1, 'window 2 s: and the user exists');
is(rate_limit_count($KEY), 1, 'window 2 s: a new window, count 1');

# --- behind a trusted proxy the key is the client's, IPv6 by its /64
$s->restart_workers(env => { BULWARK_SIGNUP_WINDOW => undef, BULWARK_TRUSTED_PROXIES => '127.0.0.1/32' });
psql('DELETE FROM bulwark.rate_limits');
$mark = $s->log_mark;
@st = map { fresh_signup(undef, headers => { 'X-Forwarded-For' => "2001:db8:0:5::$_" })->{status} } 1 .. 3;
is(join(' ', @st), '201 201 201', 'IPv6: three signups from three addresses in 2001:db8:0:5::/64');
$r = fresh_signup(undef, headers => { 'X-Forwarded-For' => '2001:db8:0:5::4' });
error_is($r, 429, $TOO_MANY, 'IPv6: a fourth address in the same /64');
is(rate_limit_count('signup:ip:2001:db8:0:5::/64'), 4, 'IPv6: one key, signup:ip:2001:db8:0:5::/64, count 4');
@ev = $s->events($mark, 'rate_limited', key => 'signup');
is(scalar @ev, 1, 'IPv6: one rate_limited line');
is($ev[0]{ip}, '2001:db8:0:5::4', 'IPv6: the log has the full address');
is(fresh_signup(undef, headers => { 'X-Forwarded-For' => '2001:db8:0:6::1' })->{status}, 201, 'IPv6: another /64 signs up');
is(fresh_signup(undef, headers => { 'X-Forwarded-For' => '203.0.113.5' })->{status}, 201, 'IPv4: another client signs up');
is(fresh_signup()->{status}, 201, 'the proxy itself (no X-Forwarded-For) signs up');
is_deeply(signup_keys(), [ 'signup:ip:127.0.0.1', 'signup:ip:2001:db8:0:5::/64', 'signup:ip:2001:db8:0:6::/64', 'signup:ip:203.0.113.5' ],
	'one key per client: 127.0.0.1, two /64s, 203.0.113.5');

# --- the default limit is 20
$s->restart_workers(env => { BULWARK_SIGNUP_IP_LIMIT => undef, BULWARK_TRUSTED_PROXIES => undef });
psql('DELETE FROM bulwark.rate_limits');
@st = map { fresh_signup()->{status} } 1 .. 21;
is(join(' ', @st), join(' ', (201) x 20, 429), 'default limit: 201 x20, then 429');

psql('DELETE FROM bulwark.rate_limits');
$s->log_clean_ok('signup limit');
done_testing;
