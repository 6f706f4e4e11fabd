# BULWARK_COOKIE_SECURE: Secure by default and with 1, not with 0.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 1, env => { BULWARK_COOKIE_SECURE => 0 });

sub check {
	my ($r, $secure, $name) = @_;
	for my $n (qw(session csrf_token)) {
		my $c = $r->{cookies}{$n};
		ok($c, "$name: $n set") or next;
		is(!!$c->{attrs}{secure}, !!$secure, "$name: $n " . ($secure ? 'has' : 'has no') . ' Secure');
		is($c->{attrs}{samesite}, 'Lax', "$name: $n SameSite=Lax");
		is($c->{attrs}{path}, '/', "$name: $n Path=/");
		is($c->{attrs}{'max-age'}, '86400', "$name: $n Max-Age=86400");
	}
	ok($r->{cookies}{session} && $r->{cookies}{session}{attrs}{httponly}, "$name: session HttpOnly");
	ok($r->{cookies}{csrf_token} && !$r->{cookies}{csrf_token}{attrs}{httponly}, "$name: csrf_token not HttpOnly");
}

my $email = unique_email('secure');
my $pw    = unique_password();
my $c = $s->signup($email, $pw);
is($c->res->{status}, 201, 'COOKIE_SECURE=0: signup');
check($c->res, 0, 'COOKIE_SECURE=0 signup');
my $l = $s->login($email, $pw);
check($l->res, 0, 'COOKIE_SECURE=0 login');
my $r = $l->req(POST => '/logout', csrf => 1);
is($r->{status}, 200, 'COOKIE_SECURE=0: logout');
ok($r->{cookies}{session} && !$r->{cookies}{session}{attrs}{secure}, 'COOKIE_SECURE=0: the clearing cookie has no Secure');

$s->restart_workers(env => { BULWARK_COOKIE_SECURE => 1 });
check($s->login($email, $pw)->res, 1, 'COOKIE_SECURE=1 login');

$s->restart_workers(env => { BULWARK_COOKIE_SECURE => undef });
check($s->login($email, $pw)->res, 1, 'COOKIE_SECURE unset login');
$r = $s->login($email, $pw)->req(POST => '/logout', csrf => 1);
ok($r->{cookies}{session} && $r->{cookies}{session}{attrs}{secure} && $r->{cookies}{session}{attrs}{httponly},
	'COOKIE_SECURE unset: the clearing cookie keeps Secure and HttpOnly');

done_testing;
