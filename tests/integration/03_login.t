# POST /login: success, failures, limits on the password, sessions.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);

my $email = unique_email('login');
my $pw    = unique_password();
my $sc    = $s->signup($email, $pw);
is($sc->res->{status}, 201, 'setup: signup') or die "signup does not work\n";
my $id = $sc->res->{json}{user}{id};

# --- success
my $c = $s->login($email, $pw);
my $r = $c->res;
is($r->{status}, 200, 'login: 200');
common_ok($r, 'login');
is_deeply([ sort keys %{ $r->{json} || {} } ], ['user'], 'login: body is {"user":{...}}');
user_object_ok($r->{json}{user}, 'login', id => $id, email => $email, role => 'user');
my $cookie = $r->{cookies}{session};
ok($cookie, 'login: session cookie set');
$cookie //= { value => '', attrs => {} };
ok($cookie->{attrs}{httponly} && $cookie->{attrs}{secure}, 'login session cookie: HttpOnly; Secure');
is($cookie->{attrs}{samesite}, 'Lax', 'login session cookie: SameSite=Lax');
is($cookie->{attrs}{path}, '/', 'login session cookie: Path=/');
is($cookie->{attrs}{'max-age'}, '86400', 'login session cookie: Max-Age=86400');
ok($r->{cookies}{csrf_token}, 'login without a csrf_token cookie: csrf_token set');
isnt($c->session, $sc->session, 'login issues a new session id');
is($c->req(GET => '/me')->{status}, 200, 'the login session works');
is($sc->req(GET => '/me')->{status}, 200, 'the signup session still works too (several sessions per user)');

# a session cookie sent to /login is replaced, never reused (fixation)
my $fixed = $s->client;
$fixed->set_cookie(session => $c->session);
$r = $s->login($email, $pw, client => $fixed)->res;
is($r->{status}, 200, 'login while carrying a session cookie: 200');
ok($r->{cookies}{session} && $r->{cookies}{session}{value} ne $c->session, 'a new session id, not the one the client carried');

# normalised email
$r = $s->login("  \t" . uc($email) . " ", $pw)->res;
is($r->{status}, 200, 'login with the email in capitals and padded: 200');
is($r->{json}{user}{id}, $id, 'the same user');

# --- failures
my $unknown = $s->login(unique_email('nobody'), $pw)->res;
error_is($unknown, 401, 'Invalid email or password', 'login, unknown email');
ok(!$unknown->{cookies}{session}, 'login, unknown email: no session cookie');

my $wrong = $s->login($email, $pw . 'x')->res;
error_is($wrong, 401, 'Invalid email or password', 'login, wrong password');
ok(!$wrong->{cookies}{session}, 'login, wrong password: no session cookie');
is($wrong->{body}, $unknown->{body}, 'unknown email and wrong password: byte-identical bodies');

$r = $s->login($email, uc $pw)->res;
is($r->{status}, 401, 'passwords are case-sensitive');
$r = $s->login($email, substr($pw, 0, -1))->res;
is($r->{status}, 401, 'a prefix of the password is wrong');

# Password length on login: up to 1024 bytes is a (wrong) password, longer is 400.
$r = $s->login($email, 'p' x 1024)->res;
error_is($r, 401, 'Invalid email or password', 'login, 1024-byte password');
$r = $s->login($email, 'p' x 1025)->res;
issues_ok($r, 'password', 'login, 1025-byte password');
$r = $s->login($email, "\x{e9}" x 513)->res;    # 513 characters, 1026 bytes
is($r->{status}, 400, 'login, 513 two-byte characters (1026 bytes): 400 (bytes count)');
$r = $s->login($email, 'p' x 100_000 . '')->res;
ok($r->{status} == 400 || $r->{status} == 413, 'login, 100 kB password: 400 or 413') or diag $r->{status};

$r = $s->login($email, '')->res;
issues_ok($r, 'password', 'login, empty password');
$r = $s->req(POST => '/login', body => { email => $email });
issues_ok($r, 'password', 'login, no password');
$r = $s->req(POST => '/login', body => { password => $pw });
issues_ok($r, 'email', 'login, no email');
$r = $s->req(POST => '/login', body => { email => $email, password => 12345678 });
issues_ok($r, 'password', 'login, password a number');
$r = $s->req(POST => '/login', body => { email => [$email], password => $pw });
issues_ok($r, 'email', 'login, email an array');
$r = $s->req(POST => '/login', body => { email => $email, password => undef });
issues_ok($r, 'password', 'login, password null');

# wrong method
$r = $s->req(GET => '/login');
is($r->{status}, 405, 'GET /login: 405');
like($r->{headers}{allow} // '', qr/(^|,\s*)POST(\s*,|$)/, 'GET /login: Allow: POST');
common_ok($r, 'GET /login');

# the failures did not break the account
$r = $s->login($email, $pw)->res;
is($r->{status}, 200, 'the right password still works after the failures');

$s->log_clean_ok('login');
done_testing;
