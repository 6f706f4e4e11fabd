# A refresh family and its access tokens end together: once a family is
# revoked (a spent refresh token presented again, or /token/logout), every
# access token it gave is refused at once, not only when it expires.  And
# the jti, which anyone holding an access token can read, tells nothing of
# the refresh token that comes next (both are HMACs under one server key,
# labelled apart).
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2, env => { BULWARK_LOGIN_EMAIL_LIMIT => 100 });
my ($email, $pw, $uid) = $s->new_user('fam');
my $me = sub { $s->req(GET => '/token/me', bearer => $_[0]) };
my $tag = sub { my $j = jwt_decode($_[0]); (split /\./, $j ? $j->{payload}{jti} : '')[2] // '' };

# --- the jti and the next refresh token
my $p1 = $s->token_pair($email, $pw, 'family one');
my $p2 = token_pair_ok($s->refresh($p1->{refreshToken}), 'refresh 1') || {};
my $p3 = token_pair_ok($s->refresh($p2->{refreshToken} // ''), 'refresh 2') || {};
for ([ $p1, $p2, 'login' ], [ $p2, $p3, 'first refresh' ]) {
	my ($a, $b, $name) = @$_;
	my $t = $tag->($a->{accessToken});
	is(length $t, 8, "$name: the jti ends in an 8-character tag");
	ok(index($b->{refreshToken} // '', $t) < 0, "$name: the tag is no part of the next refresh token");
	ok(index($b->{refreshToken} // '', substr($t, 0, 4)) != 0, "$name: not even its first 4 characters start it");
}

# --- reuse: the whole family's access tokens die with it
is($me->($p3->{accessToken})->{status}, 200, 'the newest access token works');
is($me->($p1->{accessToken})->{status}, 200, 'so does the first (not yet expired)');
my $other = $s->token_pair($email, $pw, 'family two');
my $mark = $s->log_mark;
error_is($s->refresh($p1->{refreshToken}), 401, 'Invalid refresh token', 'a spent refresh token again');
is(scalar($s->events($mark, 'refresh_token_reuse', userId => $uid)), 1, 'reuse logged');
bearer_401_ok($me->($_->[0]{accessToken}), "after the reuse: the $_->[1] access token of the family", 1)
	for [ $p1, 'first' ], [ $p2, 'second' ], [ $p3, 'newest' ];
is($me->($other->{accessToken})->{status}, 200, "another family's access token still works");

# --- /token/logout: the family of the token it is given, all of it
my $q1 = $s->token_pair($email, $pw, 'family three');
my $q2 = token_pair_ok($s->refresh($q1->{refreshToken}), 'family three, refreshed') || {};
my $r = $s->req(POST => '/token/logout', bearer => $q2->{accessToken}, body => '', content_type => undef);
is($r->{status}, 200, '/token/logout with the newest access token, no body');
bearer_401_ok($me->($q2->{accessToken}), 'after logout: that access token', 1);
bearer_401_ok($me->($q1->{accessToken}), "after logout: the family's older access token", 1);
error_is($s->refresh($q2->{refreshToken} // ''), 401, 'Invalid refresh token', "after logout: the family's refresh token");
is($me->($other->{accessToken})->{status}, 200, "after logout: another family's token still works");

# --- a session route that also takes tokens: only a Bearer header picks the token
my ($admin, $apw) = (unique_email('famadmin'), unique_password());
$s->secret($apw);
is(add_user($admin, $apw, 1)->{exit}, 0, 'setup: an admin');
my $c = $s->login($admin, $apw);
is($c->req(GET => '/users')->{status}, 200, 'an admin session: GET /users');
$r = $c->req(GET => '/users', headers => { Authorization => 'Basic ' . 'YWRtaW46YWRtaW4=' });
is($r->{status}, 200, 'the same with a Basic Authorization header (a proxy\'s, a browser\'s): the session decides');
$r = $c->req(GET => '/users', headers => { Authorization => 'Bearer not-a-token' });
bearer_401_ok($r, 'the same with a bad Bearer token: the token decides', 1);

$s->log_clean_ok;
done_testing;
