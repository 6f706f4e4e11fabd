# GET /health, the CSRF cookie on anonymous responses, 404 and 405.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);

my $r = $s->req(GET => '/health');
is($r->{status}, 200, 'GET /health: 200');
is_deeply($r->{json}, { status => 'ok' }, 'GET /health: {"status":"ok"}');
common_ok($r, 'GET /health');
ok(!$r->{cookies}{session}, 'GET /health sets no session cookie');

# csrf_token: set on any response to a request that does not carry one.
my $c = $r->{cookies}{csrf_token};
ok($c, 'csrf_token cookie set on a request without one') or diag explain $r->{set_cookie};
$c //= { value => '', attrs => {} };
like($c->{value}, qr/\A[A-Za-z0-9_\-.~+\/=]{16,}\z/, 'csrf_token value: at least 16 cookie-safe characters');
is($c->{attrs}{samesite}, 'Lax', 'csrf_token: SameSite=Lax');
is($c->{attrs}{path}, '/', 'csrf_token: Path=/');
is($c->{attrs}{'max-age'}, '86400', 'csrf_token: Max-Age=86400');
ok($c->{attrs}{secure}, 'csrf_token: Secure by default');
ok(!$c->{attrs}{httponly}, 'csrf_token: not HttpOnly (scripts must read it)');

my $r2 = $s->req(GET => '/health');
ok($r2->{cookies}{csrf_token} && $r2->{cookies}{csrf_token}{value} ne $c->{value},
	'each new client gets a different csrf_token');

$r = $s->req(GET => '/health', cookies => { csrf_token => $c->{value} });
is($r->{status}, 200, 'GET /health with a csrf_token cookie: 200');
ok(!$r->{cookies}{csrf_token}, 'csrf_token not set again when the request carries one')
  or diag explain $r->{set_cookie};

$r = $s->req(GET => '/health?probe=1');
is($r->{status}, 200, 'GET /health?probe=1: the query string does not change the route');

# 405 with Allow
for my $m (qw(POST PUT PATCH DELETE)) {
	$r = $s->req($m => '/health', ($m eq 'DELETE' ? () : (body => {})));
	is($r->{status}, 405, "$m /health: 405");
	my @allow = split /\s*,\s*/, $r->{headers}{allow} // '';
	ok((grep { $_ eq 'GET' } @allow), "$m /health: Allow lists GET") or diag 'Allow: ' . ($r->{headers}{allow} // 'missing');
	ok(!(grep { $_ eq $m } @allow), "$m /health: Allow does not list $m");
	ok(ref $r->{json} eq 'HASH' && defined $r->{json}{error} && !ref $r->{json}{error}, "$m /health: an error message");
	common_ok($r, "$m /health");
}

# 404
for my $p ('/nope', '/health/extra', '/HEALTH', '/users/x/y/z', '/') {
	$r = $s->req(GET => $p);
	error_is($r, 404, 'Not found', "GET $p");
}
$r = $s->req(GET => '/nope');
ok($r->{cookies}{csrf_token}, '404 without a csrf_token cookie still sets one');
$r = $s->req(POST => '/nope', body => { a => 1 });
error_is($r, 404, 'Not found', 'POST /nope');

done_testing;
