# The user's own sessions (API.md "Sessions"): GET /me/sessions lists the live
# ones with a public handle (never the cookie or its hash), the caller's
# marked current; DELETE /me/sessions/:id ends one; another user's id is 404
# like an unknown one.  By session (with CSRF) or by bearer token.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);
reset_counters();
my $UUID = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\z/;

my ($email, $pw, $id) = $s->new_user('sessions');
psql('DELETE FROM bulwark.sessions WHERE user_id = ' . q_lit($id));
my @c = map {
	my $c = $s->client;
	$c->req(POST => '/login', body => { email => $email, password => $pw }, headers => { 'User-Agent' => "SessionTest/$_" });
	is($c->res->{status}, 200, "setup: login $_");
	$c;
} 1 .. 3;

my $r = $c[0]->req(GET => '/me/sessions');
is($r->{status}, 200, 'GET /me/sessions: 200');
common_ok($r, 'GET /me/sessions');
my @l = @{ ref $r->{json}{sessions} eq 'ARRAY' ? $r->{json}{sessions} : [] };
is(scalar @l, 3, 'three live sessions listed');
is_deeply([ sort keys %{ $l[0] || {} } ], [ sort qw(id createdAt lastSeenAt ip userAgent current) ], 'the fields of a session');
is(scalar(grep { $_->{id} =~ $UUID } @l), 3, 'each id is a UUID');
is(scalar(grep { $_->{current} eq JSON::PP::true } @l), 1, 'exactly one marked current');
my ($cur) = grep { $_->{current} } @l;
is($cur->{userAgent}, 'SessionTest/1', 'the current one is the caller\'s');
is(scalar(grep { $_->{ip} eq '127.0.0.1' } @l), 3, 'the address of each');
is(scalar(grep { $_->{createdAt} =~ /\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/ && $_->{lastSeenAt} =~ /Z\z/ } @l), 3, 'RFC 3339 times');
my %by_ua = map { $_->{userAgent} => $_->{id} } @l;
my $hashes = psql('SELECT encode(id_hash, \'hex\') FROM bulwark.sessions WHERE user_id = ' . q_lit($id));
my @secret = ((map { $_->session } @c), (map { $_->[0] } @$hashes));
ok(@secret == 6 && !grep({ index($r->{body}, $_) >= 0 } @secret), 'the answer holds no cookie value and no stored hash');

# ending another of one's sessions
error_is($c[0]->req(DELETE => "/me/sessions/$by_ua{'SessionTest/2'}"), 403, 'Invalid CSRF token', 'DELETE without the CSRF header');
$r = $c[0]->req(DELETE => "/me/sessions/$by_ua{'SessionTest/2'}", csrf => 1);
is($r->{status}, 200, 'DELETE /me/sessions/:id: 200');
is_deeply($r->{json}, { ok => JSON::PP::true }, 'the answer: {"ok":true}');
is($c[1]->req(GET => '/me')->{status}, 401, 'that session has ended');
is($c[0]->req(GET => '/me')->{status}, 200, 'the caller\'s still works');
is(scalar @{ $c[0]->req(GET => '/me/sessions')->{json}{sessions} }, 2, 'two left');
error_is($c[0]->req(DELETE => "/me/sessions/$by_ua{'SessionTest/2'}", csrf => 1), 404, 'Session not found', 'the same id again');
error_is($c[0]->req(DELETE => '/me/sessions/not-a-uuid', csrf => 1), 404, 'Session not found', 'an id that is not a UUID');
error_is($c[0]->req(DELETE => '/me/sessions/00000000-0000-4000-8000-000000000000', csrf => 1), 404, 'Session not found', 'an unknown id');

# another user
my ($e2, $p2, $id2) = $s->new_user('sessions-other');
my $o = $s->login($e2, $p2);
my $ol = $o->req(GET => '/me/sessions')->{json}{sessions};
ok(!grep({ $_->{id} eq $by_ua{'SessionTest/3'} || $_->{id} eq $by_ua{'SessionTest/1'} } @$ol), 'another user\'s list holds none of these');
error_is($o->req(DELETE => "/me/sessions/$by_ua{'SessionTest/3'}", csrf => 1), 404, 'Session not found', 'another user\'s session: 404');
is($c[2]->req(GET => '/me')->{status}, 200, 'and it still works');
is(scalar @{ $c[0]->req(GET => '/me/sessions')->{json}{sessions} }, 2, 'the owner still has two');

# by bearer: none current, no CSRF needed
my $pair = $s->token_pair($email, $pw);
$r = $s->req(GET => '/me/sessions', bearer => $pair->{accessToken});
is($r->{status}, 200, 'bearer: GET /me/sessions');
is(scalar(grep { $_->{current} } @{ $r->{json}{sessions} || [] }), 0, 'bearer: no session is current');
is($s->req(DELETE => "/me/sessions/$by_ua{'SessionTest/3'}", bearer => $pair->{accessToken})->{status}, 200, 'bearer: DELETE');
is($c[2]->req(GET => '/me')->{status}, 401, 'bearer: that session ended');
error_is($s->req(GET => '/me/sessions'), 401, 'Unauthorized', 'no credentials');

# expired sessions are not listed; ending one's own current session clears the cookie
my $x = $s->login($email, $pw);
psql("UPDATE bulwark.sessions SET expires_at = now() - interval '1 second' WHERE user_agent = 'SessionTest/1' AND user_id = " . q_lit($id));
my @ids = map { $_->{id} } @{ $x->req(GET => '/me/sessions')->{json}{sessions} || [] };
ok(!grep({ $_ eq $by_ua{'SessionTest/1'} } @ids), 'an expired session is not listed');
my ($mine) = map { $_->{id} } grep { $_->{current} } @{ $x->req(GET => '/me/sessions')->{json}{sessions} || [] };
$r = $x->req(DELETE => "/me/sessions/$mine", csrf => 1);
is($r->{status}, 200, 'ending the current session');
ok(cookie_cleared($r->{cookies}{session}), 'the session cookie is cleared');
is($x->req(GET => '/me')->{status}, 401, 'and it is over');

$s->log_clean_ok('no cookie in the log');
done_testing;
