# POST /logout: session and CSRF required; the session dies, the cookie is cleared.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);

my $email = unique_email('logout');
my $pw    = unique_password();
my $c     = $s->signup($email, $pw);
is($c->res->{status}, 201, 'setup: signup') or die "signup does not work\n";
ok($c->session && $c->csrf, 'setup: session and csrf_token cookies') or die "no cookies\n";
my $session = $c->session;
my $csrf    = $c->csrf;

# --- CSRF
my $r = $c->req(POST => '/logout');
error_is($r, 403, 'Invalid CSRF token', 'logout without X-CSRF-Token');
$r = $c->req(POST => '/logout', headers => { 'X-CSRF-Token' => $csrf . 'x' });
error_is($r, 403, 'Invalid CSRF token', 'logout with a wrong X-CSRF-Token');
$r = $c->req(POST => '/logout', headers => { 'X-CSRF-Token' => substr($csrf, 0, -1) });
error_is($r, 403, 'Invalid CSRF token', 'logout with a prefix of the token');
$r = $c->req(POST => '/logout', headers => { 'X-CSRF-Token' => $csrf }, cookies => { csrf_token => undef });
is($r->{status}, 403, 'logout with the header but no csrf_token cookie: 403');
$r = $c->req(POST => '/logout', headers => { 'X-CSRF-Token' => '' }, cookies => { csrf_token => '' });
is($r->{status}, 403, 'logout with an empty header and an empty cookie: 403');
$r = $c->req(POST => '/logout', headers => { 'x-csrf-token' => lc $csrf eq $csrf ? uc $csrf : lc $csrf });
is($r->{status}, 403, 'logout with the token in another case: 403');

is($c->req(GET => '/me')->{status}, 200, 'the session survives the rejected logouts');
is(scalar @{ session_rows_for_cookie($session) }, 1, 'its row is still there');

# A second session of the same user, to see that logout ends only its own.
my $other = $s->login($email, $pw);
is($other->res->{status}, 200, 'setup: a second session');

# --- success
$r = $c->req(POST => '/logout', csrf => 1);
is($r->{status}, 200, 'logout with session and X-CSRF-Token: 200');
is_deeply($r->{json}, { ok => JSON::PP::true }, 'logout: {"ok":true}');
common_ok($r, 'logout');
my $cleared = $r->{cookies}{session};
ok($cleared && cookie_cleared($cleared), 'logout clears the session cookie') or diag explain $r->{set_cookie};
ok(!$cleared || $cleared->{value} ne $session, 'the clearing cookie does not repeat the session id');
ok($cleared && ($cleared->{attrs}{path} // '') eq '/', 'the clearing cookie has Path=/ (else browsers keep the old one)');

is(scalar @{ session_rows_for_cookie($session) }, 0, 'the session row is deleted');
$r = $s->req(GET => '/me', cookies => { session => $session });
error_is($r, 401, 'Unauthorized', 'GET /me with the logged-out session');
$r = $s->req(POST => '/logout', cookies => { session => $session, csrf_token => $csrf }, headers => { 'X-CSRF-Token' => $csrf });
error_is($r, 401, 'Unauthorized', 'logout again with the dead session');
is($other->req(GET => '/me')->{status}, 200, 'the other session of the user still works');

# --- without a session
$r = $s->req(POST => '/logout');
error_is($r, 401, 'Unauthorized', 'logout with no cookies');
# A bogus session with a valid CSRF pair (the server's own token): not authenticated.
$r = $s->req(POST => '/logout', cookies => { session => 'bogus-session-value-0000000000000000', csrf_token => $csrf },
	headers => { 'X-CSRF-Token' => $csrf });
error_is($r, 401, 'Unauthorized', 'logout with a bogus session (and a valid CSRF pair)');

$r = $s->req(GET => '/logout', cookies => { session => $other->session });
is($r->{status}, 405, 'GET /logout: 405');
like($r->{headers}{allow} // '', qr/(^|,\s*)POST(\s*,|$)/, 'GET /logout: Allow: POST');
is($other->req(GET => '/me')->{status}, 200, 'GET /logout did not log out');

$s->log_clean_ok('logout');
done_testing;
