# Browsers on another origin (BULWARK_CORS_ORIGINS, an exact allow-list) and
# OWASP's origin verification, from the attacker's side: an unlisted origin
# gets no CORS header at all, and a cookie-authenticated state change whose
# Origin (or Referer) is neither the API's own host nor listed is refused 403
# even with the right CSRF token, changing nothing. Bearer requests carry no
# ambient credential and are not origin-checked.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $APP   = 'http://app.example:5173';
my $OTHER = 'https://Other.example';
my $EVIL  = 'http://evil.example';

sub acheaders { my ($r) = @_; [ sort grep { /^access-control-/ } map { $_->[0] } @{ $r->{header_list} } ] }
sub preflight {
	my ($s, $path, $origin, $method) = @_;
	return $s->req(OPTIONS => $path, headers => { Origin => $origin, 'Access-Control-Request-Method' => $method // 'POST',
		'Access-Control-Request-Headers' => 'content-type,x-csrf-token' });
}
sub alive { my ($c) = @_; $c->req(GET => '/me')->{status} == 200 }

# --- without a list: same origin only
{
	my $s = start_stack(workers => 2);
	my $own = $s->url;
	my $r = preflight($s, '/logout', $APP);
	is($r->{status}, 405, 'no list: a preflight is the 405 it always was');
	is_deeply(acheaders($r), [], '  with no Access-Control-* header');
	ok(!exists $r->{headers}{vary}, '  and no Vary (nothing varies)');
	my ($email, $pw) = (unique_email('cors0'), unique_password());
	my $c = $s->signup($email, $pw);
	is($c->res->{status}, 201, 'setup: signup');
	$r = $c->req(GET => '/me', headers => { Origin => $APP });
	is($r->{status}, 200, 'a GET from another origin is answered (reading it is the browser\'s call) ...');
	is_deeply(acheaders($r), [], '  ... without CORS headers, so the page cannot read it');
	my $mark = $s->log_mark;
	$r = $c->req(POST => '/logout', csrf => 1, headers => { Origin => $APP });
	error_is($r, 403, 'Origin not allowed', 'no list: POST /logout with a valid CSRF token from another origin');
	ok(alive($c), '  the session is still alive');
	my @ev = $s->events($mark, 'origin_rejected', origin => $APP, path => '/logout');
	is(scalar @ev, 1, '  logged once as origin_rejected with the origin and path');
	$r = $c->req(POST => '/logout', csrf => 1, headers => { Origin => $own });
	is($r->{status}, 200, 'the same from its own origin (Origin = Host) logs out');
	$s->stop;
}

my $s = start_stack(workers => 2, env => { BULWARK_CORS_ORIGINS => "$APP, $OTHER" });
my $own = $s->url;

# --- preflights
my $r = preflight($s, '/logout', $APP);
is($r->{status}, 200, 'a listed origin\'s preflight to /logout: 200');
is($r->{headers}{'access-control-allow-origin'}, $APP, '  Access-Control-Allow-Origin echoes the origin');
is($r->{headers}{'access-control-allow-credentials'}, 'true', '  credentials allowed');
is($r->{headers}{'access-control-allow-methods'}, 'POST', '  the path\'s methods');
like($r->{headers}{'access-control-allow-headers'} // '', qr/(?=.*\bContent-Type\b)(?=.*\bX-CSRF-Token\b)(?=.*\bAuthorization\b)/,
	'  Content-Type, X-CSRF-Token and Authorization allowed');
like($r->{headers}{'access-control-max-age'} // '', qr/^\d+$/, '  a max age');
like($r->{headers}{vary} // '', qr/\bOrigin\b/, '  Vary: Origin');
common_ok($r, 'the preflight');
$r = preflight($s, '/users/0d7a4c4e-0000-4000-8000-000000000000', 'https://other.example', 'DELETE');
is($r->{status}, 200, 'a listed origin matches whatever its case (https://other.example)');
is($r->{headers}{'access-control-allow-methods'}, 'DELETE', '  /users/:id: DELETE');
$r = preflight($s, '/nowhere', $APP);
is($r->{status}, 404, 'a preflight to an unknown path: 404');

for my $o ($EVIL, 'http://app.example:5174', 'https://app.example:5173', 'http://app.example:5173.evil.example', 'null') {
	$r = preflight($s, '/logout', $o);
	is($r->{status}, 405, "an unlisted origin's preflight ($o): 405");
	is_deeply(acheaders($r), [], '  with no Access-Control-* header');
	like($r->{headers}{vary} // '', qr/\bOrigin\b/, '  Vary: Origin all the same');
}

# --- simple requests
my ($email, $pw) = (unique_email('cors'), unique_password());
my $c = $s->signup($email, $pw);
is($c->res->{status}, 201, 'setup: signup');
$r = $c->req(GET => '/me', headers => { Origin => $APP });
is($r->{status}, 200, 'GET /me from a listed origin');
is($r->{headers}{'access-control-allow-origin'}, $APP, '  Access-Control-Allow-Origin');
is($r->{headers}{'access-control-allow-credentials'}, 'true', '  credentials');
like($r->{headers}{'access-control-expose-headers'} // '', qr/\bX-CSRF-Token\b/, '  X-CSRF-Token exposed');
is($r->{headers}{'x-csrf-token'}, $c->csrf, '  the session\'s CSRF token in X-CSRF-Token (a page on another host cannot read the cookie)');
$r = $c->req(GET => '/me', headers => { Origin => $EVIL });
is($r->{status}, 200, 'GET /me from an unlisted origin is answered ...');
is_deeply(acheaders($r), [], '  ... with no Access-Control-* header');
ok(!exists $r->{headers}{'x-csrf-token'}, '  and no X-CSRF-Token header');
$r = $c->req(GET => '/me');
ok(!exists $r->{headers}{'x-csrf-token'} && !@{ acheaders($r) }, 'without Origin: neither');
$r = $s->req(GET => '/health', headers => { Origin => $APP });
is($r->{headers}{'access-control-allow-origin'}, $APP, 'an anonymous request from a listed origin gets the CORS headers too');
ok(!exists $r->{headers}{'x-csrf-token'}, '  but no token header: there is no session');
$r = $s->req(GET => '/me', headers => { Origin => $APP });
is($r->{status}, 401, 'a 401 to a listed origin ...');
is($r->{headers}{'access-control-allow-origin'}, $APP, '  ... carries the CORS headers, so the page can read the error');

# --- origin verification of cookie state changes
my $mark = $s->log_mark;
my $before = psql_one("SELECT count(*) FROM bulwark.sessions s JOIN bulwark.users u ON u.id = s.user_id WHERE u.email = " . q_lit($email));
for my $case ([ 'Origin', $EVIL ], [ 'Origin', 'null' ], [ 'Origin', "$own.evil.example" ], [ 'Origin', 'http://app.example:5174' ],
	[ 'Referer', "$EVIL/page?x=1" ], [ 'Referer', 'garbage' ])
{
	my ($h, $v) = @$case;
	$r = $c->req(POST => '/logout', csrf => 1, headers => { $h => $v });
	error_is($r, 403, 'Origin not allowed', "POST /logout with the right CSRF token, $h: $v");
}
for my $case ([ 'Origin', $EVIL ], [ 'Referer', "$EVIL/" ]) {
	$r = $c->change_password($pw, unique_password(), headers => { $case->[0] => $case->[1] });
	error_is($r, 403, 'Origin not allowed', "POST /me/password from $case->[1] ($case->[0])");
}
$r = $c->req(POST => '/logout', csrf => 1, headers => { Origin => $EVIL, Referer => "$own/" });
error_is($r, 403, 'Origin not allowed', 'a foreign Origin is refused even with an own Referer (Origin wins)');
ok(alive($c), 'the session survived every refused request');
is(psql_one("SELECT count(*) FROM bulwark.sessions s JOIN bulwark.users u ON u.id = s.user_id WHERE u.email = " . q_lit($email)),
	$before, '  no session row changed');
ok($s->login($email, $pw)->res->{status} == 200, '  the password is unchanged');
is(scalar($s->events($mark, 'origin_rejected')), 9, 'each refusal logged as origin_rejected');
$r = $c->req(POST => '/logout', csrf => 0, headers => { Origin => $APP });
error_is($r, 403, 'Invalid CSRF token', 'a listed origin still needs the CSRF token');
ok(alive($c), '  still alive');

# an admin's cookie DELETE from another origin, then from a listed one
my ($aemail, $apw) = (unique_email('corsadm'), unique_password());
add_user($aemail, $apw, 'admin');
my $admin = $s->login($aemail, $apw);
my ($vemail, $vpw) = (unique_email('corsvictim'), unique_password());
my $vid = $s->signup($vemail, $vpw)->res->{json}{user}{id};
$r = $admin->req(DELETE => "/users/$vid", csrf => 1, headers => { Origin => $EVIL });
error_is($r, 403, 'Origin not allowed', 'an admin\'s cookie DELETE /users/:id from another origin');
is(psql_one("SELECT count(*) FROM bulwark.users WHERE id = " . q_lit($vid)), 1, '  the user is still there');
my $tok = $s->token_pair($aemail, $apw, 'admin');
$r = $s->req(DELETE => "/users/$vid", bearer => $tok->{accessToken}, headers => { Origin => $EVIL });
is($r->{status}, 200, 'the same with a bearer token from any origin: no ambient credential, no origin check');

$r = $c->req(POST => '/logout', csrf => 1, headers => { Referer => "$own/app/page" });
is($r->{status}, 200, 'its own origin by Referer (no Origin) logs out');
$c = $s->login($email, $pw);
$r = $c->req(POST => '/logout', csrf => 1);
is($r->{status}, 200, 'neither Origin nor Referer (a plain client): the CSRF token decides');
$c = $s->login($email, $pw);
$r = $c->req(POST => '/logout', csrf => 1, headers => { Origin => $APP });
is($r->{status}, 200, 'a listed origin with the CSRF token logs out');
is($r->{headers}{'access-control-allow-origin'}, $APP, '  and can read the answer');

# login and signup are exempt from CSRF, so from the origin check too
$r = $s->req(POST => '/login', body => { email => $email, password => $pw }, headers => { Origin => $EVIL });
is($r->{status}, 200, '/login from another origin is not origin-checked (no session is used)');
is_deeply(acheaders($r), [], '  and carries no CORS header');

$s->log_clean_ok;
done_testing;
