# Refresh tokens (API.md "Tokens"): each use spends the token and issues the
# next of its family; a spent token presented again revokes the whole family,
# its newest token included, and logs refresh_token_reuse; families are
# independent. Then, on a second stack with small lifetimes: the access token
# expires after BULWARK_ACCESS_TTL, and the family dies BULWARK_REFRESH_TTL
# after its login however often it was rotated (absolute, not sliding).
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use BulwarkTest;

my $INVALID = 'Invalid refresh token';
my $s = start_stack(workers => 4);
my @workers = $s->worker_pids;

my ($email, $pw, $uid) = $s->new_user('refresh');
sub family_of {
	psql_one('SELECT family_id FROM bulwark.refresh_tokens WHERE hash = decode(' . q_lit(sha256_hex($_[0])) . q{, 'hex')});
}
sub me_status { $s->req(GET => '/token/me', bearer => $_[0])->{status} }

# --- rotation
my $login = $s->token_pair($email, $pw, 'login');
my @chain = ($login->{refreshToken});
my %seen  = ($login->{refreshToken} => 1, $login->{accessToken} => 1);
my $fam = family_of($login->{refreshToken});
like($fam // '', $UUID_RE, 'the login made a refresh family');
my %jti = ((jwt_decode($login->{accessToken}) || { payload => {} })->{payload}{jti} // '' => 1);
for my $n (1 .. 3) {
	my $r = $s->refresh($chain[-1]);
	my $p = token_pair_ok($r, "refresh $n") or die "POST /token/refresh does not work\n";
	my $claims = access_token_ok($p->{accessToken}, "refresh $n", claims => { sub => $uid, email => $email, role => 'user' });
	ok(!$seen{ $p->{refreshToken} }++ && !$seen{ $p->{accessToken} }++, "refresh $n: a new refresh token and a new access token");
	ok($claims && !$jti{ $claims->{jti} }++, "refresh $n: a new jti");
	is(family_of($p->{refreshToken}), $fam, "refresh $n: the new refresh token is stored (as its SHA-256) in the same family");
	is(me_status($p->{accessToken}), 200, "refresh $n: the new access token works");
	push @chain, $p->{refreshToken};
}

# --- refusals that are not reuse: the family is untouched
my $mark = $s->log_mark;
my $newest = $chain[-1];
my $flip = substr($newest, 0, 1) eq 'A' ? 'B' : 'A';
my @bad = (
	[ b64url(join '', map { chr int rand 256 } 1 .. 32) => 'an unknown, well-formed token' ],
	[ $flip . substr($newest, 1) => 'the newest token with one character changed' ],
	[ substr($newest, 0, 42)     => 'the newest token cut short' ],
	[ "${newest}A"               => 'the newest token with a character added' ],
	[ "$newest="                 => 'the newest token with padding' ],
	[ uc($newest) eq $newest ? lc($newest) : uc($newest) => 'the newest token in another case' ],
	[ sha256_hex($newest)        => 'the hash of the newest token (hex)' ],
	[ b64url(Digest::SHA::sha256($newest)) => 'the hash of the newest token (base64url)' ],
	[ 'abc'                      => 'abc' ],
	[ '+/+/' x 11                => 'standard base64 characters' ],
);
for my $b (@bad) {
	error_is($s->refresh($b->[0]), 401, $INVALID, "refresh with $b->[1]");
}
# over-long strings may be refused as a bad body (400) instead
for my $long ([ $login->{accessToken} => 'an access token' ], [ 'x' x 3000 => 'a 3000-character string' ]) {
	my $r = $s->refresh($long->[0]);
	ok($r->{status} == 401 || $r->{status} == 400, "refresh with $long->[1]: 401 or 400") or diag "$r->{status} $r->{body}";
	common_ok($r, "refresh with $long->[1]");
}
my $r;

issues_ok($s->req(POST => '/token/refresh', body => {}), 'refreshToken', 'refresh, {}');
issues_ok($s->req(POST => '/token/refresh', body => { refreshToken => 5 }), 'refreshToken', 'refresh, a number');
issues_ok($s->req(POST => '/token/refresh', body => { refreshToken => undef }), 'refreshToken', 'refresh, null');
issues_ok($s->req(POST => '/token/refresh', body => { refreshToken => [$newest] }), 'refreshToken', 'refresh, an array');
issues_ok($s->req(POST => '/token/refresh', body => { token => $newest }), 'refreshToken', 'refresh, the wrong field name');
$r = $s->req(POST => '/token/refresh', body => '[]', content_type => 'application/json');
is($r->{status}, 400, 'refresh, a JSON array: 400');
$r = $s->req(POST => '/token/refresh', body => '{"refreshToken":', content_type => 'application/json');
is($r->{status}, 400, 'refresh, malformed JSON: 400');
common_ok($r, 'refresh, malformed JSON');
$r = $s->req(POST => '/token/refresh', content_type => undef);
ok($r->{status} == 400 || $r->{status} == 415, 'refresh without a body or Content-Type: 400 or 415') or diag "$r->{status} $r->{body}";
$r = $s->req(POST => '/token/refresh', body => '', content_type => 'application/json');
is($r->{status}, 400, 'refresh, an empty JSON body: 400');
$r = $s->req(POST => '/token/refresh', body => "refreshToken=$newest", content_type => 'application/x-www-form-urlencoded');
is($r->{status}, 415, 'refresh, a form body: 415');
$r = $s->req(GET => '/token/refresh');
is($r->{status}, 405, 'GET /token/refresh: 405');
like($r->{headers}{allow} // '', qr/(^|,\s*)POST(\s*,|$)/, 'GET /token/refresh: Allow: POST');

is(scalar($s->events($mark, 'refresh_token_reuse')), 0, 'none of that is logged as reuse');
my $p = token_pair_ok($s->refresh($newest), 'the newest token still works after the refusals');
push @chain, $p->{refreshToken} if $p;

# --- reuse: a spent token revokes the whole family
my $other = $s->token_pair($email, $pw, 'a second login (another family)');
my $ofam = family_of($other->{refreshToken});
ok(defined $ofam && $ofam ne $fam, 'two logins: two families');
my ($e2, $p2, $uid2) = $s->new_user('refresh2');
my $stranger = $s->token_pair($e2, $p2, "another user's login");

$mark = $s->log_mark;
error_is($s->refresh($chain[1]), 401, $INVALID, 'refresh with a spent token (reuse)');
my @lines = $s->wait_log(sub { grep { ($_->{event} // '') eq 'refresh_token_reuse' } @_ }, since => $mark);
my @reuse = grep { ($_->{event} // '') eq 'refresh_token_reuse' } @lines;
is(scalar @reuse, 1, 'one refresh_token_reuse event');
my $ev = $reuse[0] || {};
is($ev->{familyId}, $fam, 'refresh_token_reuse: familyId');
is($ev->{userId}, $uid, 'refresh_token_reuse: userId');
is($ev->{ip}, '127.0.0.1', 'refresh_token_reuse: ip');
error_is($s->refresh($chain[-1]), 401, $INVALID, 'the newest token of the family, never used: revoked');
error_is($s->refresh($chain[0]), 401, $INVALID, "the family's first token: 401");
error_is($s->refresh($chain[1]), 401, $INVALID, 'the reused token again: 401');
is(psql_one('SELECT count(*) FROM bulwark.refresh_families WHERE revoked_at IS NULL AND id = ' . q_lit($fam)), 0,
	'the family is revoked in the database (marked or removed)');

my $op = token_pair_ok($s->refresh($other->{refreshToken}), "the user's other family still refreshes");
$op = token_pair_ok($s->refresh($op->{refreshToken}), '... and again') if $op;
token_pair_ok($s->refresh($stranger->{refreshToken}), "another user's family still refreshes");
my $fresh = $s->token_pair($email, $pw, 'a login after the revocation');
token_pair_ok($s->refresh($fresh->{refreshToken}), 'a new family after the revocation works');

# reuse of the very first (login) token, right after one rotation
{
	my $l = $s->token_pair($email, $pw, 'login for a quick reuse');
	my $c = token_pair_ok($s->refresh($l->{refreshToken}), 'quick reuse: first refresh');
	$mark = $s->log_mark;
	error_is($s->refresh($l->{refreshToken}), 401, $INVALID, 'quick reuse: the login token again');
	error_is($s->refresh($c ? $c->{refreshToken} : 'none'), 401, $INVALID, 'quick reuse: its child is revoked');
	my @q = $s->wait_log(sub { grep { ($_->{event} // '') eq 'refresh_token_reuse' } @_ }, since => $mark);
	is(scalar(grep { ($_->{event} // '') eq 'refresh_token_reuse' && ($_->{familyId} // '') eq (family_of($l->{refreshToken}) // 'x') } @q), 1,
		'quick reuse: one refresh_token_reuse event for that family');
}
is_deeply([ $s->worker_pids ], \@workers, 'no worker died');
$s->log_clean_ok('refresh rotation');
$s->stop;

# --- lifetimes: access 2 s, family 4 s, another issuer
my $ISS = 'bulwark-lifetimes';
my $t = start_stack(workers => 2, env => { BULWARK_ACCESS_TTL => 2, BULWARK_REFRESH_TTL => 4, BULWARK_JWT_ISSUER => $ISS });
my $t0 = time;
$r = $t->token_login($email, $pw);
my $t1 = time;
my $l = token_pair_ok($r, 'short lifetimes: /token/login', expires_in => 2) or die "/token/login does not work\n";
my $claims = access_token_ok($l->{accessToken}, 'short lifetimes', ttl => 2, iss => $ISS, claims => { sub => $uid });
is($t->req(GET => '/token/me', bearer => $l->{accessToken})->{status}, 200, 'short lifetimes: the access token works at first');
bearer_401_ok($t->req(GET => '/token/me', bearer => $other->{accessToken}), 'a token of issuer bulwark on a stack of another issuer', 1);
my $c1 = token_pair_ok($t->refresh($l->{refreshToken}), 'short lifetimes: refresh at once', expires_in => 2);

# the access token: refused from its exp on
my $exp = $claims ? $claims->{exp} : $t1 + 2;
sleep($exp - time + 0.3) if $exp - time + 0.3 > 0;
bearer_401_ok($t->req(GET => '/token/me', bearer => $l->{accessToken}), 'the access token after its exp', 1);
bearer_401_ok($t->req(POST => '/token/logout', bearer => $l->{accessToken}, content_type => undef), '/token/logout with the expired token', 1);

# the family: alive after 2.5 s, dead after 4 s even though just rotated
sleep($t0 + 2.5 - time) if $t0 + 2.5 > time;
my $c2 = token_pair_ok($t->refresh($c1 ? $c1->{refreshToken} : 'none'), 'short lifetimes: refresh 2.5 s after login', expires_in => 2);
is($c2 && $t->req(GET => '/token/me', bearer => $c2->{accessToken})->{status}, 200, 'its access token works');
sleep($t1 + 4.5 - time) if $t1 + 4.5 > time;
error_is($t->refresh($c2 ? $c2->{refreshToken} : 'none'), 401, $INVALID,
	'refresh 4.5 s after login (family lifetime 4 s, last rotated 2 s ago): the family is expired');
my $again = $t->token_pair($email, $pw, 'short lifetimes: a new login');
token_pair_ok($t->refresh($again->{refreshToken}), 'short lifetimes: a new family works', expires_in => 2);
$t->log_clean_ok('lifetimes');

done_testing;
