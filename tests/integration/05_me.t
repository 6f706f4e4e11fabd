# GET /me and server-side session expiry.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);

my $r = $s->req(GET => '/me');
error_is($r, 401, 'Unauthorized', 'GET /me without a session');

for my $bogus ('', 'x', 'A' x 43, 'A' x 5000, "abc'def", '%00%00') {
	$r = $s->req(GET => '/me', cookies => { session => $bogus });
	error_is($r, 401, 'Unauthorized', 'GET /me with session=' . (length $bogus > 20 ? substr($bogus, 0, 10) . '...(' . length($bogus) . ')' : "'$bogus'"));
}

my $email = unique_email('me');
my $pw    = unique_password();
my $c     = $s->signup($email, $pw);
is($c->res->{status}, 201, 'setup: signup') or die "signup does not work\n";
my $id = $c->res->{json}{user}{id};

$r = $c->req(GET => '/me');
is($r->{status}, 200, 'GET /me with the session: 200');
is_deeply([ sort keys %{ $r->{json} || {} } ], ['user'], 'GET /me: {"user":{...}}');
user_object_ok($r->{json}{user}, 'GET /me', id => $id, email => $email, role => 'user', emailVerified => 'false',
	twoFactorEnabled => 'false', createdAt => $c->res->{json}{user}{createdAt});
common_ok($r, 'GET /me');
ok(!$r->{cookies}{session}, 'GET /me does not set a new session cookie');

# a session cookie differing by one character
my $v = $c->session;
my $flip = substr($v, 0, -1) . (substr($v, -1) eq 'A' ? 'B' : 'A');
$r = $s->req(GET => '/me', cookies => { session => $flip });
is($r->{status}, 401, 'GET /me with the session id off by its last character: 401');
$r = $s->req(GET => '/me', cookies => { session => $v . 'A' });
is($r->{status}, 401, 'GET /me with the session id plus one character: 401');

# Another user's session gives the other user.
my $c2 = $s->signup(unique_email('me'), unique_password());
isnt($c2->req(GET => '/me')->{json}{user}{id}, $id, 'a second user sees itself');

# server-side expiry: Max-Age alone is not trusted
my $exp = psql_one('SELECT extract(epoch FROM expires_at - now())::int FROM bulwark.sessions WHERE id_hash = decode('
	  . q_lit(sha256_hex($v)) . q{, 'hex')});
ok(defined $exp && abs($exp - 86400) < 120, 'expires_at is about 24 hours ahead') or diag "seconds left: " . ($exp // 'undef');
psql(q{UPDATE bulwark.sessions SET expires_at = now() - interval '1 second' WHERE id_hash = decode(} . q_lit(sha256_hex($v)) . q{, 'hex')});
$r = $c->req(GET => '/me');
error_is($r, 401, 'Unauthorized', 'GET /me with a session expired in the database');
is($c2->req(GET => '/me')->{status}, 200, 'the other session is unaffected');

# wrong methods
for my $m (qw(DELETE PUT POST)) {
	$r = $c2->req($m => '/me', csrf => 1);
	is($r->{status}, 405, "$m /me: 405");
	like($r->{headers}{allow} // '', qr/(^|,\s*)GET(\s*,|$)/, "$m /me: Allow: GET");
	common_ok($r, "$m /me");
}
is($c2->req(GET => '/me')->{status}, 200, 'DELETE /me did nothing');

# BULWARK_SESSION_TTL sets the server-side lifetime (the program accepts 60 s and up)
my $t = start_stack(workers => 1, env => { BULWARK_SESSION_TTL => 60 });
my $tc = $t->signup(unique_email('ttl'), unique_password());
is($tc->res->{status}, 201, 'TTL 60 s: signup');
is($tc->req(GET => '/me')->{status}, 200, 'TTL 60 s: the session works');
$exp = psql_one('SELECT extract(epoch FROM expires_at - now()) FROM bulwark.sessions WHERE id_hash = decode('
	  . q_lit(sha256_hex($tc->session // '')) . q{, 'hex')});
ok(defined $exp && $exp > 50 && $exp <= 61, 'TTL 60 s: expires_at about 60 s ahead') or diag 'seconds left: ' . ($exp // 'undef');
$t->stop;

$s->log_clean_ok('me');
done_testing;
