# The headers every response carries, whatever its status; the csrf_token
# cookie on every response to a request without one.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);

my $email = unique_email('hdr');
my $pw    = unique_password();
my $user  = $s->signup($email, $pw);
is($user->res->{status}, 201, 'setup: signup') or die "signup does not work\n";
my $session = $user->session;

my @cases = (
	[ 200, 'GET /health',                 sub { $s->req(GET => '/health') } ],
	[ 200, 'GET /me',                     sub { $s->req(GET => '/me', cookies => { session => $session }) } ],
	[ 200, 'POST /login',                 sub { $s->req(POST => '/login', body => { email => $email, password => $pw }) } ],
	[ 201, 'POST /signup',                sub { $s->req(POST => '/signup', body => { email => unique_email('hdr'), password => $pw }) } ],
	[ 400, 'POST /signup, bad email',     sub { $s->req(POST => '/signup', body => { email => 'x', password => $pw }) } ],
	[ 400, 'POST /signup, malformed',     sub { $s->req(POST => '/signup', body => '{"email":') } ],
	[ 401, 'GET /me, anonymous',          sub { $s->req(GET => '/me') } ],
	[ 401, 'POST /login, wrong password', sub { $s->req(POST => '/login', body => { email => $email, password => "$pw-no" }) } ],
	[ 403, 'GET /users as a user',        sub { $s->req(GET => '/users', cookies => { session => $session }) } ],
	[ 403, 'POST /logout without CSRF',   sub { $s->req(POST => '/logout', cookies => { session => $session }) } ],
	[ 404, 'GET /nowhere',                sub { $s->req(GET => '/nowhere') } ],
	[ 404, 'DELETE /nowhere',             sub { $s->req(DELETE => '/nowhere') } ],
	[ 405, 'GET /login',                  sub { $s->req(GET => '/login') } ],
	[ 405, 'DELETE /me',                  sub { $s->req(DELETE => '/me') } ],
	[ 409, 'POST /signup, taken',         sub { $s->req(POST => '/signup', body => { email => $email, password => $pw }) } ],
	[ 413, 'POST /signup, 100 KiB',       sub { $s->req(POST => '/signup', body => '{"pad":"' . ('x' x 102400) . '"}') } ],
	[ 415, 'POST /signup, text/plain',    sub { $s->req(POST => '/signup', body => '{}', content_type => 'text/plain') } ],
	[ 415, 'POST /login, no type',        sub { $s->req(POST => '/login', body => '{}', content_type => undef) } ],
);

for my $case (@cases) {
	my ($status, $name, $do) = @$case;
	my $r = $do->();
	is($r->{status}, $status, "$name: $status") or diag substr($r->{body}, 0, 200);
	common_ok($r, $name);
	my $c = $r->{cookies}{csrf_token};
	ok($c && length $c->{value}, "$name: csrf_token set (the request had none)") or diag explain $r->{set_cookie};
	ok(!$c || (!$c->{attrs}{httponly} && ($c->{attrs}{samesite} // '') eq 'Lax' && ($c->{attrs}{path} // '') eq '/'
			&& $c->{attrs}{secure}), "$name: csrf_token attributes");
	ok(!grep({ /\bat [\w\/.]+\.c:\d+|Traceback|SQLSTATE|syntax error at|PQ\w+|libpq/i } $r->{body}), "$name: no internals in the body");
	ok(!grep({ $_->[0] =~ /^x-powered-by$/ } @{ $r->{header_list} }), "$name: no X-Powered-By");
}

$s->log_clean_ok('headers');
done_testing;
