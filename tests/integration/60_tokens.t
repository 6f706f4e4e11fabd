# API tokens (API.md "Tokens", routes /token/*): /token/login issues an HS256
# access token and an opaque refresh token; /token/me and the admin routes
# take the bearer token and decide on the user as stored now; /token/logout
# denies the access token at once on every worker of every pool. The refresh
# token is kept only as its SHA-256.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use MIME::Base64 ();
use BulwarkTest;

# Two pools of two workers: a deny list or a user cache held in one process
# (or one host) would show as a request answered the old way.
my $s = start_stack(pools => 2, workers => 2);
my @workers = $s->worker_pids;
is(scalar @workers, 4, 'two pools of two workers');
my $ROUNDS = 8;    # requests that reach every worker (round robin over the pools)

my ($email, $pw, $uid) = $s->new_user('tok');

# --- /token/login
my $mark = $s->log_mark;
my $r = $s->token_login($email, $pw);
my $pair = token_pair_ok($r, '/token/login') or die "/token/login does not work\n";
access_token_ok($pair->{accessToken}, '/token/login', claims => { sub => $uid, email => $email, role => 'user' });
ok(!grep({ $_->{name} eq 'session' } values %{ $r->{cookies} }), '/token/login sets no session cookie');
is(scalar @{ psql('SELECT 1 FROM bulwark.sessions WHERE user_id = ' . q_lit($uid)) }, 1, '/token/login made no session row (only the signup one)');
my @ok = $s->wait_log(sub { grep { ($_->{event} // '') eq 'login_success' } @_ }, since => $mark);
ok((grep { ($_->{event} // '') eq 'login_success' && ($_->{userId} // '') eq $uid } @ok), '/token/login logs login_success with userId');

my $j = jwt_decode($pair->{accessToken});
ok(length(unb64url($pair->{refreshToken})) == 32, 'the refresh token is 256 bits');
ok(index($pair->{refreshToken}, '.') < 0 && $pair->{refreshToken} ne $j->{payload}{jti}, 'the refresh token is opaque (not a JWT, not the jti)');

# the same email in capitals and padded is the same user
$r = $s->token_login("  \U$email\E ", $pw);
my $pair2 = token_pair_ok($r, '/token/login with the email in capitals');
$pair2 ||= { accessToken => '', refreshToken => '' };
my $j2 = jwt_decode($pair2->{accessToken}) || { payload => {} };
is($j2->{payload}{sub}, $uid, 'the same user');
isnt($pair2->{refreshToken}, $pair->{refreshToken}, 'a second login: another refresh token');
isnt($j2->{payload}{jti} // '', $j->{payload}{jti}, 'a second login: another jti');

# --- /token/login refusals: those of /login
my $wrong = $s->token_login($email, "$pw-wrong");
error_is($wrong, 401, 'Invalid email or password', '/token/login, wrong password');
my $unknown = $s->token_login(unique_email('nobody'), $pw);
error_is($unknown, 401, 'Invalid email or password', '/token/login, unknown email');
is($wrong->{body}, $unknown->{body}, 'wrong password and unknown email: byte-identical bodies');
ok(!$wrong->{cookies}{session} && $wrong->{body} !~ /Token"/, 'a refused login issues nothing');
issues_ok($s->req(POST => '/token/login', body => { email => $email }), 'password', '/token/login, no password');
issues_ok($s->req(POST => '/token/login', body => { password => $pw }), 'email', '/token/login, no email');
issues_ok($s->req(POST => '/token/login', body => { email => $email, password => '' }), 'password', '/token/login, empty password');
issues_ok($s->req(POST => '/token/login', body => { email => $email, password => 'p' x 1025 }), 'password', '/token/login, 1025-byte password');
issues_ok($s->req(POST => '/token/login', body => { email => [$email], password => $pw }), 'email', '/token/login, email an array');
$r = $s->req(POST => '/token/login', body => '{"email":', content_type => 'application/json');
is($r->{status}, 400, '/token/login, malformed JSON: 400');
common_ok($r, '/token/login, malformed JSON');
$r = $s->req(POST => '/token/login', body => "email=$email&password=$pw", content_type => 'application/x-www-form-urlencoded');
is($r->{status}, 415, '/token/login, a form body: 415');
$r = $s->req(GET => '/token/login');
is($r->{status}, 405, 'GET /token/login: 405');
like($r->{headers}{allow} // '', qr/(^|,\s*)POST(\s*,|$)/, 'GET /token/login: Allow: POST');

# a two-factor user without a code gets the /login answer, and no tokens
{
	my ($e2, $p2, $id2) = $s->new_user('tok2fa');
	psql('UPDATE bulwark.users SET two_factor_enabled = true WHERE id = ' . q_lit($id2));
	error_is($s->token_login($e2, $p2), 401, 'Two-factor code required', '/token/login, two-factor user without a code', twoFactorRequired => 1);
	is($s->token_login($e2, $p2)->{json}{twoFactorRequired}, JSON::PP::true, '... with "twoFactorRequired":true');
	is($s->token_login($e2, "$p2-x")->{status}, 401, '/token/login, two-factor user, wrong password: 401');
}

# --- GET /token/me
$r = $s->req(GET => '/token/me', bearer => $pair->{accessToken});
is($r->{status}, 200, 'GET /token/me with the access token: 200');
common_ok($r, 'GET /token/me');
is_deeply([ sort keys %{ $r->{json} || {} } ], ['user'], 'GET /token/me: {"user":{...}}');
user_object_ok($r->{json}{user}, 'GET /token/me', id => $uid, email => $email, role => 'user');
my @st = map { $s->req(GET => '/token/me', bearer => $pair->{accessToken})->{status} } 1 .. $ROUNDS;
is_deeply(\@st, [ (200) x $ROUNDS ], "the token works on every worker ($ROUNDS requests)");

bearer_401_ok($s->req(GET => '/token/me'), 'GET /token/me without Authorization', 0);
my $sc = $s->login($email, $pw);
bearer_401_ok($sc->req(GET => '/token/me'), 'GET /token/me with a session cookie only', 0);
bearer_401_ok($s->req(GET => '/token/me', bearer => $pair->{refreshToken}), 'GET /token/me with the refresh token as bearer', 1);
bearer_401_ok($s->req(GET => '/token/me', bearer => 'not-a-token'), 'GET /token/me with garbage', 1);
$r = $s->req(POST => '/token/me', bearer => $pair->{accessToken});
is($r->{status}, 405, 'POST /token/me: 405');
like($r->{headers}{allow} // '', qr/(^|,\s*)GET(\s*,|$)/, 'POST /token/me: Allow: GET');

# --- the database holds the refresh token only as its SHA-256
for my $t ($pair->{refreshToken}, $pair2->{refreshToken}) {
	is(psql_one('SELECT count(*) FROM bulwark.refresh_tokens WHERE hash = decode(' . q_lit(sha256_hex($t)) . q{, 'hex')}), 1,
		'bulwark.refresh_tokens.hash holds SHA-256 of the refresh token');
}
is(psql_one('SELECT count(DISTINCT t.family_id) FROM bulwark.refresh_tokens t JOIN bulwark.refresh_families f ON f.id = t.family_id '
	  . 'WHERE f.user_id = ' . q_lit($uid)), 2, 'two logins: two refresh families of the user');
{
	my $dump = pg_dump_text();
	ok(index($dump, sha256_hex($pair->{refreshToken})) >= 0, 'pg_dump holds the hash (the dump does include the tokens table)');
	my @leaks;
	for my $t ($pair->{refreshToken}, $pair2->{refreshToken}) {
		for my $form ($t, unpack('H*', unb64url($t)), MIME::Base64::encode_base64(unb64url($t), '')) {
			push @leaks, $form if index($dump, $form) >= 0;
		}
	}
	for my $t ($pair->{accessToken}, $pair2->{accessToken}) {
		push @leaks, 'an access token or its signature' if index($dump, $t) >= 0 || index($dump, (split /\./, $t)[2]) >= 0;
	}
	ok(!@leaks, 'pg_dump holds no refresh token (text, hex or base64) and no access token') or diag "leaked: @leaks";
}

# --- the admin routes take a bearer token (no CSRF header needed)
my $admin_email = unique_email('tokadmin');
my $admin_pw    = unique_password();
$s->secret($admin_pw);
is(add_user($admin_email, $admin_pw, 1)->{exit}, 0, 'setup: an admin');
my $admin = $s->token_pair($admin_email, $admin_pw, 'admin');
my $admin_id = (jwt_decode($admin->{accessToken}) || { payload => {} })->{payload}{sub};
access_token_ok($admin->{accessToken}, 'admin /token/login', claims => { email => $admin_email, role => 'admin' });

$r = $s->req(GET => '/users', bearer => $admin->{accessToken});
is($r->{status}, 200, 'GET /users with an admin bearer token: 200');
common_ok($r, 'GET /users, bearer');
ok((grep { ($_->{id} // '') eq $uid } @{ $r->{json}{users} || [] }), 'GET /users, bearer: lists the user');
error_is($s->req(GET => '/users', bearer => $pair->{accessToken}), 403, 'Forbidden', 'GET /users with a user bearer token');
bearer_401_ok($s->req(GET => '/users', bearer => 'x' . $admin->{accessToken}), 'GET /users with a broken admin token', 1);

# unlock: a locked user, unlocked by a bearer request without X-CSRF-Token
my ($le, $lp, $lid) = $s->new_user('toklocked');
psql('INSERT INTO bulwark.lockouts (email, failures) VALUES (' . q_lit($le) . ', 3) ON CONFLICT (email) DO UPDATE SET failures = 3');
is(lockout_failures($le), 3, 'setup: a lockout count for a user');
error_is($s->req(POST => "/users/$lid/unlock", bearer => $pair->{accessToken}), 403, 'Forbidden', 'unlock with a user bearer token');
is(lockout_failures($le), 3, '... changed nothing');
$r = $s->req(POST => "/users/$lid/unlock", bearer => $admin->{accessToken});
is($r->{status}, 200, 'POST /users/:id/unlock with an admin bearer token, no X-CSRF-Token: 200');
is_deeply($r->{json}, { ok => JSON::PP::true }, 'unlock, bearer: {"ok":true}');
ok(!lockout_failures($le), 'the lockout count is cleared');

# delete: the user's access token dies at once, its refresh tokens with it
my ($ve, $vp, $vid) = $s->new_user('tokvictim');
my $victim = $s->token_pair($ve, $vp, 'victim');
my $victim2 = $s->token_pair($ve, $vp, 'victim again');
is($s->req(GET => '/token/me', bearer => $victim->{accessToken})->{status}, 200, "setup: the victim's token works");
error_is($s->req(DELETE => "/users/$vid", bearer => $pair->{accessToken}), 403, 'Forbidden', 'DELETE /users/:id with a user bearer token');
is(psql_one('SELECT count(*) FROM bulwark.users WHERE id = ' . q_lit($vid)), 1, '... deleted nothing');
$r = $s->req(DELETE => "/users/$vid", bearer => $admin->{accessToken});
is($r->{status}, 200, 'DELETE /users/:id with an admin bearer token, no X-CSRF-Token: 200');
is_deeply($r->{json}, { deleted => JSON::PP::true }, 'DELETE, bearer: {"deleted":true}');
bearer_401_ok($s->req(GET => '/token/me', bearer => $victim->{accessToken}), "the deleted user's access token", 1);
@st = map { $s->req(GET => '/token/me', bearer => $victim2->{accessToken})->{status} } 1 .. $ROUNDS;
is_deeply(\@st, [ (401) x $ROUNDS ], "the deleted user's other access token: 401 on every worker");
error_is($s->refresh($victim->{refreshToken}), 401, 'Invalid refresh token', "the deleted user's refresh token");
error_is($s->refresh($victim2->{refreshToken}), 401, 'Invalid refresh token', "the deleted user's other refresh token");
is(psql_one('SELECT count(*) FROM bulwark.refresh_families WHERE user_id = ' . q_lit($vid)), 0, 'its refresh families are gone');
is(psql_one('SELECT count(*) FROM bulwark.refresh_tokens WHERE hash IN (decode(' . q_lit(sha256_hex($victim->{refreshToken}))
	  . q{, 'hex'), decode(} . q_lit(sha256_hex($victim2->{refreshToken})) . q{, 'hex'))}), 0, 'its refresh tokens are gone');

# demoted in the database: the admin's token loses admin on the next request
psql('UPDATE bulwark.users SET role = ' . q_lit('user') . ' WHERE id = ' . q_lit($admin_id // ''));
@st = map { $s->req(GET => '/users', bearer => $admin->{accessToken})->{status} } 1 .. $ROUNDS;
is_deeply(\@st, [ (403) x $ROUNDS ], 'an admin demoted in the database: GET /users with the old token is 403 on every worker');
error_is($s->req(DELETE => "/users/$uid", bearer => $admin->{accessToken}), 403, 'Forbidden', 'DELETE /users/:id with the demoted token');
$r = $s->req(GET => '/token/me', bearer => $admin->{accessToken});
is($r->{status}, 200, 'the demoted admin still authenticates');
is($r->{json}{user}{role}, 'user', 'GET /token/me answers the stored role, not the token claim');

# --- POST /token/logout
bearer_401_ok($s->req(POST => '/token/logout'), 'POST /token/logout without Authorization', 0);
bearer_401_ok($s->req(POST => '/token/logout', bearer => 'garbage'), 'POST /token/logout with garbage', 1);
$r = $s->req(POST => '/token/logout', bearer => $pair->{accessToken}, body => '{"refreshToken":', content_type => 'application/json');
is($r->{status}, 400, 'POST /token/logout with malformed JSON: 400');
$r = $s->req(GET => '/token/logout', bearer => $pair->{accessToken});
is($r->{status}, 405, 'GET /token/logout: 405');
is($s->req(GET => '/token/me', bearer => $pair->{accessToken})->{status}, 200, 'setup: the token still works');

# logout without a body (and no Content-Type): the access token is denied at once, everywhere
$mark = $s->log_mark;
$r = $s->req(POST => '/token/logout', bearer => $pair->{accessToken}, content_type => undef);
is($r->{status}, 200, 'POST /token/logout without a body: 200');
is_deeply($r->{json}, { ok => JSON::PP::true }, 'logout: {"ok":true}');
common_ok($r, 'POST /token/logout');
my @res = map { $s->req(GET => '/token/me', bearer => $pair->{accessToken}) } 1 .. $ROUNDS;
is_deeply([ map { $_->{status} } @res ], [ (401) x $ROUNDS ], "the logged-out access token: 401 on every worker of both pools ($ROUNDS requests)");
bearer_401_ok($res[0], 'the logged-out access token', 1);
is(psql_one('SELECT count(*) FROM bulwark.denied_tokens WHERE jti = ' . q_lit($j->{payload}{jti})), 1, 'its jti is in bulwark.denied_tokens');
my $deny_left = psql_one('SELECT extract(epoch FROM expires_at)::bigint FROM bulwark.denied_tokens WHERE jti = ' . q_lit($j->{payload}{jti}));
ok(defined $deny_left && $deny_left >= $j->{payload}{exp} - 1 && $deny_left <= $j->{payload}{exp} + 120,
	'denied at least until the token would have expired (and not for ever)') or diag 'expires_at ' . ($deny_left // 'undef') . ", exp $j->{payload}{exp}";
bearer_401_ok($s->req(POST => '/token/logout', bearer => $pair->{accessToken}, content_type => undef), 'a second logout with the denied token', 1);
my @rev = $s->wait_log(sub { grep { ($_->{event} // '') eq 'token_revoked' } @_ }, since => $mark);
my ($tr) = grep { ($_->{event} // '') eq 'token_revoked' } @rev;
ok($tr, 'a token_revoked event');
is($tr && $tr->{userId}, $uid, 'token_revoked: userId');
is($tr && $tr->{ip}, '127.0.0.1', 'token_revoked: ip');
is($s->req(GET => '/token/me', bearer => $pair2->{accessToken})->{status}, 200, "the user's other access token still works");

# logout with the refresh token: that family is revoked, the other lives
my $p3 = $s->token_pair($email, $pw, 'third');
my $p4 = $s->token_pair($email, $pw, 'fourth');
$r = $s->req(POST => '/token/logout', bearer => $p3->{accessToken}, body => { refreshToken => $p3->{refreshToken} });
is($r->{status}, 200, 'POST /token/logout with {"refreshToken"}: 200');
is_deeply($r->{json}, { ok => JSON::PP::true }, 'logout with refreshToken: {"ok":true}');
bearer_401_ok($s->req(GET => '/token/me', bearer => $p3->{accessToken}), 'the access token of that logout', 1);
error_is($s->refresh($p3->{refreshToken}), 401, 'Invalid refresh token', 'refresh with the logged-out refresh token');
my $np = token_pair_ok($s->refresh($p4->{refreshToken}), 'refresh of another family of the user');
is($np && $s->req(GET => '/token/me', bearer => $np->{accessToken})->{status}, 200, 'its new access token works');

# a refreshToken of the wrong type is a bad body
$r = $s->req(POST => '/token/logout', bearer => $pair2->{accessToken}, body => { refreshToken => 5 });
is($r->{status}, 400, 'POST /token/logout with a numeric refreshToken: 400');

is_deeply([ $s->worker_pids ], \@workers, 'no worker died');
$s->log_clean_ok('tokens');
my $raw = $s->log_raw;
ok(index($raw, $pair->{refreshToken}) < 0 && index($raw, (split /\./, $pair->{accessToken})[2]) < 0,
	'no token or signature in the log');
done_testing;
