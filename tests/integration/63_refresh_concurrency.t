# Concurrent uses of one refresh token (API.md "Tokens": "Of many concurrent
# uses of one token, exactly one succeeds"), released together with
# parallel_barrier against 4 workers; then the opt-in grace period
# BULWARK_REFRESH_REUSE_INTERVAL: within it, the spent token's retry gets the
# very pair its first use got; any other reuse, or a retry after the window,
# revokes the family.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use Time::HiRes qw(time sleep);
use BulwarkTest;

my $INVALID = 'Invalid refresh token';
my $J = JSON::PP->new->canonical;

# $n refreshes of $token at once; one hash per response {status, body, json, ct}.
sub burst {
	my ($s, $n, $token) = @_;
	my @raw = parallel_barrier($n, sub {
		my ($i, $ready) = @_;
		my $r = $s->req(POST => '/token/refresh', body => { refreshToken => $token }, before_last_byte => $ready, timeout => 60);
		return $J->encode({ status => $r->{status}, body => $r->{body}, ct => $r->{headers}{'content-type'}, error => $r->{error} });
	});
	return map {
		my $x = eval { $J->decode($_) } // { status => 0, body => $_ };
		$x->{json} = eval { JSON::PP->new->decode($x->{body} // '') };
		$x;
	} @raw;
}
sub count_status { my ($st, @r) = @_; scalar grep { $_->{status} == $st } @r }
sub family_of {
	psql_one('SELECT family_id FROM bulwark.refresh_tokens WHERE hash = decode(' . q_lit(sha256_hex($_[0])) . q{, 'hex')});
}
sub reuse_events { my ($s, $mark, $fam) = @_; grep { ($_->{familyId} // '') eq ($fam // 'none') } $s->events($mark, 'refresh_token_reuse') }

# --- grace off (the default): exactly one of 50 wins, and the 49 are reuse
my $s = start_stack(workers => 4);
my @workers = $s->worker_pids;
is(scalar @workers, 4, 'four workers');
my ($email, $pw, $uid) = $s->new_user('race');

for my $round (1 .. 3) {
	my $l = $s->token_pair($email, $pw, "round $round");
	my $fam = family_of($l->{refreshToken});
	my $mark = $s->log_mark;
	my @r = burst($s, 50, $l->{refreshToken});
	is(count_status(200, @r), 1, "round $round: 50 concurrent refreshes of one token: exactly one 200")
	  or diag 'distinct pairs among the 200s: '
	  . scalar(keys %{ { map { (($_->{json}{refreshToken} // '') . ($_->{json}{accessToken} // '')) => 1 } grep { $_->{status} == 200 } @r } })
	  . ' (one: a grace-period replay although the grace period is off)';
	is(count_status(401, @r), 49, "round $round: and 49 x 401");
	my @bad = grep {
		$_->{status} == 401 ? !(ref $_->{json} eq 'HASH' && join(',', keys %{ $_->{json} }) eq 'error' && $_->{json}{error} eq $INVALID)
		  : $_->{status} == 200 ? !(ref $_->{json} eq 'HASH' && defined $_->{json}{refreshToken} && $_->{json}{refreshToken} =~ $B64URL_43)
		  : 1
	} @r;
	push @bad, grep { ($_->{ct} // '') ne $JSON_CT } @r;
	ok(!@bad, "round $round: each answer is a token pair or {\"error\":\"$INVALID\"}, as JSON") or diag explain [ @bad[ 0 .. ($#bad < 3 ? $#bad : 3) ] ];
	my ($win) = grep { $_->{status} == 200 } @r;
	$win = $win ? $win->{json} : { refreshToken => 'none', accessToken => 'none' };
	$s->secret($win->{refreshToken}, $win->{accessToken});
	my @ev = $s->wait_log(sub { grep { ($_->{event} // '') eq 'refresh_token_reuse' } @_ }, since => $mark);
	my $n = scalar reuse_events($s, $mark, $fam);
	ok($n >= 1 && $n <= 49, "round $round: the losers are logged as refresh_token_reuse of the family ($n lines)");
	error_is($s->refresh($win->{refreshToken}), 401, $INVALID, "round $round: the winner's new refresh token is revoked with the family");
}

# many families at once do not disturb each other
{
	my @fams = map { $s->token_pair($email, $pw, "family $_") } 1 .. 20;
	my @raw = parallel_barrier(20, sub {
		my ($i, $ready) = @_;
		return $s->req(POST => '/token/refresh', body => { refreshToken => $fams[$i]{refreshToken} }, before_last_byte => $ready)->{status};
	});
	is_deeply(\@raw, [ (200) x 20 ], '20 families refreshed at once: 20 x 200');
}
is_deeply([ $s->worker_pids ], \@workers, 'grace off: no worker died');
$s->log_clean_ok('concurrency, grace off');
$s->stop;

# --- grace on: BULWARK_REFRESH_REUSE_INTERVAL=4
my $GRACE = 4;
my $g = start_stack(workers => 4, env => { BULWARK_REFRESH_REUSE_INTERVAL => $GRACE });
@workers = $g->worker_pids;

# started first, checked last: a retry after the window
my $late = $g->token_pair($email, $pw, 'grace: the late retry');
my $late_fam = family_of($late->{refreshToken});
my $late_t0 = time;
my $late_c = token_pair_ok($g->refresh($late->{refreshToken}), 'grace: first use of the token retried late');

# a retry within the window: the same pair
{
	my $l = $g->token_pair($email, $pw, 'grace: retry');
	my $c = token_pair_ok($g->refresh($l->{refreshToken}), 'grace: first use') or die "refresh does not work\n";
	my $mark = $g->log_mark;
	my $again = $g->refresh($l->{refreshToken});
	# The same access token, so what is left of its life: 900, or less
	# once a second has turned since the first use.
	token_pair_ok($again, 'grace: the spent token again within the window', expires_in_min => 900 - $GRACE - 1);
	is($again->{json}{refreshToken}, $c->{refreshToken}, 'grace: the same refresh token as the first use');
	is($again->{json}{accessToken}, $c->{accessToken}, 'grace: the same access token as the first use');
	my $third = $g->refresh($l->{refreshToken});
	is($third->{status} == 200 && $third->{json}{refreshToken} . ' ' . $third->{json}{accessToken}, "$c->{refreshToken} $c->{accessToken}",
		'grace: a third try: the same pair again');
	is($g->req(GET => '/token/me', bearer => $c->{accessToken})->{status}, 200, 'grace: the access token works');
	is(scalar($g->events($mark, 'refresh_token_reuse')), 0, 'grace: a retry within the window is not logged as reuse');
	my $gc = token_pair_ok($g->refresh($c->{refreshToken}), 'grace: the child refreshes (the family lives)');
	ok($gc && $gc->{refreshToken} ne $c->{refreshToken}, 'grace: ... to a new pair');
}

# 20 at once within the window: all 200, one pair
{
	my $l = $g->token_pair($email, $pw, 'grace: burst');
	my @r = burst($g, 20, $l->{refreshToken});
	is(count_status(200, @r), 20, 'grace: 20 concurrent refreshes of one token: 20 x 200');
	my %pairs = map { (ref $_->{json} eq 'HASH' ? ($_->{json}{refreshToken} // '') . ' ' . ($_->{json}{accessToken} // '') : 'none') => 1 } @r;
	is(scalar keys %pairs, 1, 'grace: all 20 answers carry the same pair');
	my ($pair) = map { $_->{json} } grep { $_->{status} == 200 } @r;
	$g->secret($pair->{refreshToken}, $pair->{accessToken}) if $pair;
	token_pair_ok($g->refresh($pair ? $pair->{refreshToken} : 'none'), 'grace: that pair refreshes afterwards (the family lives)');
}

# any other reuse revokes: P -> C -> G, then P again (within P's window)
{
	my $l = $g->token_pair($email, $pw, 'grace: P');
	my $fam = family_of($l->{refreshToken});
	my $c = token_pair_ok($g->refresh($l->{refreshToken}), 'grace: P -> C');
	my $gg = token_pair_ok($g->refresh($c ? $c->{refreshToken} : 'none'), 'grace: C -> G');
	my $mark = $g->log_mark;
	error_is($g->refresh($l->{refreshToken}), 401, $INVALID, 'grace: P again after C was spent');
	error_is($g->refresh($gg ? $gg->{refreshToken} : 'none'), 401, $INVALID, 'grace: G is revoked');
	error_is($g->refresh($c ? $c->{refreshToken} : 'none'), 401, $INVALID, 'grace: C is revoked');
	$g->wait_log(sub { grep { ($_->{event} // '') eq 'refresh_token_reuse' } @_ }, since => $mark);
	is(scalar(reuse_events($g, $mark, $fam)), 1, 'grace: P again is logged as refresh_token_reuse');
}

# a revoked family stays revoked within the window: P -> C, logout with C, P again
{
	my $l = $g->token_pair($email, $pw, 'grace: logout');
	my $c = token_pair_ok($g->refresh($l->{refreshToken}), 'grace: logout: P -> C') or die "refresh does not work\n";
	is($g->req(POST => '/token/logout', bearer => $c->{accessToken}, body => { refreshToken => $c->{refreshToken} })->{status}, 200,
		'grace: logout with C');
	error_is($g->refresh($l->{refreshToken}), 401, $INVALID, 'grace: P again within the window after the logout: 401 (no pair revived)');
	error_is($g->refresh($c->{refreshToken}), 401, $INVALID, 'grace: C after the logout');
}

# the late retry: past the window, reuse revokes
sleep($late_t0 + $GRACE + 1 - time) if $late_t0 + $GRACE + 1 > time;
my $mark = $g->log_mark;
error_is($g->refresh($late->{refreshToken}), 401, $INVALID, "grace: the spent token again after the window (${GRACE} s)");
error_is($g->refresh($late_c ? $late_c->{refreshToken} : 'none'), 401, $INVALID, 'grace: its child is revoked');
$g->wait_log(sub { grep { ($_->{event} // '') eq 'refresh_token_reuse' } @_ }, since => $mark);
is(scalar(reuse_events($g, $mark, $late_fam)), 1, 'grace: the late retry is logged as refresh_token_reuse');

is_deeply([ $g->worker_pids ], \@workers, 'grace on: no worker died');
$g->log_clean_ok('concurrency, grace on');
done_testing;
