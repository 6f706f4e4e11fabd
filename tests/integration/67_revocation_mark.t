# The per-user revocation mark (API.md "Tokens": "tokens issued before T are
# invalid"): what password reset, password change and two-factor changes
# will set.  It must be exact although iat is whole seconds: every access
# token issued before the mark is refused, every one issued after it, in the
# same second included, is taken.  Set here directly in the database, as the
# routes that set it come later.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2, env => { BULWARK_LOGIN_EMAIL_LIMIT => 100 });
my $log0 = $s->log_mark;
my ($email, $pw, $uid) = $s->new_user('mark');
my $me = sub { $s->req(GET => '/token/me', bearer => $_[0]) };
my $set_mark = sub {
	psql('UPDATE bulwark.users SET tokens_valid_after = clock_timestamp() WHERE id = ' . q_lit($uid));
};

for my $round (1 .. 5) {
	my $before = $s->token_pair($email, $pw, "round $round, before the mark");
	is($me->($before->{accessToken})->{status}, 200, "round $round: the token works before the mark");
	$set_mark->();
	bearer_401_ok($me->($before->{accessToken}), "round $round: a token issued before the mark", 1);
	# At once, most likely in the same second as the mark.
	my $after = $s->token_pair($email, $pw, "round $round, after the mark");
	is($me->($after->{accessToken})->{status}, 200, "round $round: a token issued after the mark, at once, works");
	my $j = jwt_decode($after->{accessToken});
	my $mark = psql_one('SELECT (extract(epoch FROM tokens_valid_after) * 1000000)::bigint FROM bulwark.users WHERE id = ' . q_lit($uid));
	my (undef, $issued) = split /\./, $j ? $j->{payload}{jti} : '';
	ok($issued && $issued >= $mark && int($issued / 1000000) == $j->{payload}{iat},
		"round $round: its jti says it was issued after the mark, in its iat's second")
	  or diag("jti $j->{payload}{jti}, mark $mark");
	my (undef, $old) = split /\./, jwt_decode($before->{accessToken})->{payload}{jti};
	ok($old < $mark, "round $round: the refused one was issued before it");
	# A refresh token of a family made before the mark still refreshes
	# (the routes that set the mark revoke families themselves); the access
	# token it gives is after the mark, so it works.
	my $r = $s->refresh($before->{refreshToken});
	is($r->{status}, 200, "round $round: the older family refreshes");
	is($me->($r->{json}{accessToken} // '')->{status}, 200, "round $round: and its new access token works");
	select(undef, undef, undef, 0.3);
}

my @refused = $s->events($log0, 'token_refused', reason => 'revoked');
is(scalar @refused, 5, 'each refused token logged token_refused, reason revoked');
$s->log_clean_ok;
done_testing;
