# POST /signup: the user object, the cookies, normalisation, duplicates, validation.
use strict;
use warnings;
use utf8;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);

sub users_with_email { psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit($_[0])) }

# --- success
my $email = unique_email('signup');
my $pw    = unique_password();
my $c     = $s->signup($email, $pw);
my $r     = $c->res;
is($r->{status}, 201, 'signup: 201');
common_ok($r, 'signup');
is_deeply([ sort keys %{ $r->{json} || {} } ], ['user'], 'signup: body is {"user":{...}}');
my $u = $r->{json}{user};
user_object_ok($u, 'signup', email => $email, role => 'user', emailVerified => 'false', twoFactorEnabled => 'false');

my $row = psql('SELECT id, email, role, password_hash FROM bulwark.users WHERE email = ' . q_lit($email));
is(scalar @$row, 1, 'signup: one row in bulwark.users');
is($row->[0][0], $u->{id}, 'signup: the id is the row id');
is($row->[0][2], 'user', 'signup: role user in the database');
my $hash = $row->[0][3] // '';
like($hash, qr/\A\$/, 'signup: password_hash is a crypt(3) string');
ok(index($hash, $pw) < 0, 'signup: password_hash does not hold the password');
ok(index($r->{body}, $hash) < 0 && $r->{body} !~ /hash|password/i, 'signup: the response holds no hash and no password field');

# The session cookie
my $sc = $r->{cookies}{session};
ok($sc, 'signup: session cookie set') or diag explain $r->{set_cookie};
$sc //= { value => '', attrs => {} };
like($sc->{value}, qr/\A[A-Za-z0-9_\-.~+\/=]{22,}\z/, 'session value: at least 22 cookie-safe characters (>= 128 bits)');
ok($sc->{attrs}{httponly}, 'session: HttpOnly');
is($sc->{attrs}{samesite}, 'Lax', 'session: SameSite=Lax');
is($sc->{attrs}{path}, '/', 'session: Path=/');
is($sc->{attrs}{'max-age'}, '86400', 'session: Max-Age=86400');
ok($sc->{attrs}{secure}, 'session: Secure (BULWARK_COOKIE_SECURE defaults to 1)');
ok(index($sc->{value}, $u->{id} // 'none') < 0 && index($sc->{value}, $email) < 0, 'session value does not embed the user id or email');

my $cc = $r->{cookies}{csrf_token};
ok($cc && length $cc->{value}, 'signup without a csrf_token cookie: csrf_token set');
ok($cc && !$cc->{attrs}{httponly}, 'csrf_token is not HttpOnly');

# the new session is live
$r = $c->req(GET => '/me');
is($r->{status}, 200, 'the signup session authenticates GET /me');
is($r->{json}{user}{id}, $u->{id}, 'GET /me: the new user');

# a request that carries a csrf_token gets no new one
# (a token the server issued: a malformed one may be replaced)
my $issued = $s->req(GET => '/health')->{cookies}{csrf_token};
my $c2 = $s->client;
$c2->set_cookie(csrf_token => $issued ? $issued->{value} : 'none');
$r = $c2->req(POST => '/signup', body => { email => unique_email('signup'), password => unique_password() });
is($r->{status}, 201, 'signup with a csrf_token cookie: 201');
ok($r->{cookies}{session}, 'signup with a csrf_token cookie: session set');
# ... except that signup makes a session, and the CSRF token is bound to
# it: the random one the browser had is replaced (API.md "CSRF").
ok($r->{cookies}{csrf_token} && $issued && $r->{cookies}{csrf_token}{value} ne $issued->{value},
	'signup with a csrf_token cookie: replaced by the new session\'s token') or diag explain $r->{set_cookie};
$r = $c2->req(POST => '/login', body => { email => $r->{json}{user}{email} // 'x', password => 'wrong-password' });
ok(!$r->{cookies}{csrf_token}, 'a failed login with a csrf_token cookie: csrf_token not set again');

# a fresh session id every time
my $c3 = $s->signup(unique_email('signup'), unique_password());
isnt($c3->session, $c->session, 'two signups, two different session ids');

# --- normalisation
my $local = 'MiXeD' . $$ . int(rand(1e6));
my $raw   = "  \t$local\@Example.COM \n";
my $norm  = lc("$local\@example.com");
$r = $s->req(POST => '/signup', body => { email => $raw, password => unique_password() });
is($r->{status}, 201, 'signup with spaces and capitals: 201');
is($r->{json}{user}{email}, $norm, 'the email is trimmed and lower-cased in the answer');
is(users_with_email($norm), 1, 'and stored trimmed and lower-cased');

# --- duplicates
for my $dup ($email, uc($email), "  $email  ", ucfirst($email)) {
	$r = $s->req(POST => '/signup', body => { email => $dup, password => unique_password() });
	is($r->{status}, 409, "signup with a taken email ('$dup'): 409");
	ok(ref $r->{json} eq 'HASH' && defined $r->{json}{error} && !ref $r->{json}{error} && !exists $r->{json}{user},
		'409: an error, no user');
	ok(!$r->{cookies}{session}, '409: no session cookie');
	common_ok($r, "409 ($dup)");
}
is(users_with_email($email), 1, 'still one row for the email');
$r = $s->login($email, $pw)->res;
is($r->{status}, 200, 'the original password still works after the duplicate attempts');

# --- validation: 400 with issues, nothing created
my $good_pw = unique_password();
my @bad_email = (
	[ 'plainaddress',          'no @' ],
	[ 'a@@example.com',        'two @ in a row' ],
	[ 'a@b@example.com',       'two @' ],
	[ '@example.com',          'empty local part' ],
	[ 'someone@localhost',     'undotted domain' ],
	[ '',                      'empty' ],
	[ '   ',                   'blank' ],
	[ ('a' x 243) . '@example.com', '255 characters' ],
);
for my $case (@bad_email) {
	my ($e, $what) = @$case;
	$r = $s->req(POST => '/signup', body => { email => $e, password => $good_pw });
	issues_ok($r, 'email', "signup, email $what");
	ok(!$r->{cookies}{session}, "signup, email $what: no session cookie");
}
is(psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit(('a' x 243) . '@example.com')), 0, 'the 255-character email was not stored');

my $e254 = ('b' x (242 - length("$$"))) . "$$\@example.com";
is(length $e254, 254, 'an email of 254 characters');
$r = $s->req(POST => '/signup', body => { email => $e254, password => $good_pw });
is($r->{status}, 201, 'signup, email of 254 characters: 201');

my $pe = unique_email('pw');
my @bad_pw = (
	[ 'Short1!',           '7 characters' ],
	[ '',                  'empty' ],
	[ 'x' x 129,           '129 characters' ],
	[ 'é' x 7,             '7 two-byte characters (14 bytes)' ],
	[ $pe,                 'equal to the email' ],
);
for my $case (@bad_pw) {
	my ($p, $what) = @$case;
	$r = $s->req(POST => '/signup', body => { email => $pe, password => $p });
	issues_ok($r, 'password', "signup, password $what");
}
is(users_with_email($pe), 0, 'no user created by the rejected passwords');

for my $case ([ 'Eight8!!', '8 characters' ], [ 'y' x 128, '128 characters' ], [ 'é' x 8, '8 two-byte characters' ],
	[ 'ü' x 128, '128 two-byte characters (256 bytes)' ])
{
	my ($p, $what) = @$case;
	my $e = unique_email('pwok');
	$r = $s->req(POST => '/signup', body => { email => $e, password => $p });
	is($r->{status}, 201, "signup, password of $what: 201") or diag $r->{body};
	$r = $s->login($e, $p)->res;
	is($r->{status}, 200, "login with the password of $what");
}

# missing fields and wrong types
my $te = unique_email('types');
my @shape = (
	[ {},                                        [ 'email', 'password' ], 'empty object' ],
	[ { password => $good_pw },                  ['email'],    'no email' ],
	[ { email => $te },                          ['password'], 'no password' ],
	[ { email => 12345, password => $good_pw },  ['email'],    'email a number' ],
	[ { email => [$te], password => $good_pw },  ['email'],    'email an array' ],
	[ { email => { a => $te }, password => $good_pw }, ['email'], 'email an object' ],
	[ { email => undef, password => $good_pw },  ['email'],    'email null' ],
	[ { email => JSON::PP::true, password => $good_pw }, ['email'], 'email true' ],
	[ { email => $te, password => 12345678 },    ['password'], 'password a number' ],
	[ { email => $te, password => JSON::PP::false }, ['password'], 'password false' ],
	[ { email => $te, password => undef },       ['password'], 'password null' ],
	[ { email => $te, password => [$good_pw] },  ['password'], 'password an array' ],
);
for my $case (@shape) {
	my ($body, $paths, $what) = @$case;
	$r = $s->req(POST => '/signup', body => $body);
	issues_ok($r, $_, "signup, $what") for @$paths;
	ok(!$r->{cookies}{session}, "signup, $what: no session cookie");
}
is(users_with_email($te), 0, 'no user created by the malformed bodies');

$s->log_clean_ok('signup');
done_testing;
