# Races at 100-way concurrency across two pools ("two hosts" behind one
# lighttpd), each with 0 overshoot (issue 13, item 6): the lockout with the
# per-email limit out of the way (BULWARK_LOGIN_EMAIL_LIMIT=1000), so that
# only the lockout stands between 100 racing wrong passwords and the hash:
# exactly BULWARK_LOCKOUT_THRESHOLD of them are checked (login_failed is
# logged once per password checked and found wrong); the login limits; one
# refresh token used 100 times at once; one reset token used 100 times at
# once.  Then the reservation's bookkeeping: a right password clears, a
# right password that stops at the two-factor step gives its reservation
# back.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use BulwarkTest;

my $N         = 100;
my $THRESHOLD = 10;
my $LOCKED    = 'Account temporarily locked. Try again later.';
my $J = JSON::PP->new->canonical;

# $N requests released together; one {status, error} per response.
sub burst {
	my ($s, $path, $body_of) = @_;
	my @raw = parallel_barrier($N, sub {
		my ($i, $ready) = @_;
		my $r = $s->req(POST => $path, body => $body_of->($i), before_last_byte => $ready, timeout => 120);
		return $J->encode({ status => $r->{status}, error => ref $r->{json} eq 'HASH' ? $r->{json}{error} : undef,
			refresh => ref $r->{json} eq 'HASH' ? $r->{json}{refreshToken} : undef });
	});
	return map { eval { $J->decode($_) } // { status => 0, error => $_ } } @raw;
}
sub count_status { my ($st, @r) = @_; scalar grep { $_->{status} == $st } @r }
sub statuses { my %c; $c{ $_->{status} }++ for @_; join ' ', map { "$_:$c{$_}" } sort keys %c }

# 8 workers per pool and a hash that takes a few milliseconds: 16 password
# checks can be in flight at once, so a lockout that checks first and
# counts after the hash lets the whole first wave through (the old code:
# 16 and more checked of 100, where 10 are allowed).
my $s = start_stack(pools => 2, workers => 8, env => {
	BULWARK_PASSWORD_COST     => 3,
	BULWARK_LOCKOUT_THRESHOLD => $THRESHOLD,
	BULWARK_LOGIN_EMAIL_LIMIT => 1000,
	BULWARK_LOGIN_IP_LIMIT    => 1000000,
});
is(scalar(my @w1 = $s->worker_pids(1)), 8, 'pool 1 has 8 workers');
is(scalar(my @w2 = $s->worker_pids(2)), 8, 'pool 2 has 8 workers');
my @workers = $s->worker_pids;

# --- the lockout: 100 wrong passwords at once, exactly 10 checked
for my $round (1 .. 3) {
	my ($email, $pw) = $s->new_user("lockrace$round");
	reset_counters($email);
	my $mark = $s->log_mark;
	my @r = burst($s, '/login', sub { +{ email => $email, password => "$pw-wrong-$_[0]" } });
	my $checked = scalar $s->events($mark, 'login_failed', email => $email);
	is($checked, $THRESHOLD, "round $round: $N racing wrong passwords, lockout threshold $THRESHOLD: "
		. "exactly $THRESHOLD passwords checked (overshoot " . ($checked - $THRESHOLD) . ')');
	is(count_status(401, @r), $THRESHOLD, "round $round: exactly $THRESHOLD x 401") or diag statuses(@r);
	is(scalar(grep { $_->{status} == 429 && ($_->{error} // '') eq $LOCKED } @r), $N - $THRESHOLD,
		"round $round: and " . ($N - $THRESHOLD) . " x 429 '$LOCKED'");
	is(scalar $s->events($mark, 'login_locked', email => $email), $N - $THRESHOLD,
		"round $round: " . ($N - $THRESHOLD) . ' login_locked lines');
	is(lockout_failures($email), $THRESHOLD, "round $round: the lockout row counts $THRESHOLD failures");
	is($s->login($email, $pw)->res->{status}, 429, "round $round: the right password is refused now too (locked)");
	reset_counters($email);
}

# --- the same through /login and /token/login at once: one lockout
{
	my ($email, $pw) = $s->new_user('lockmix');
	reset_counters($email);
	my $mark = $s->log_mark;
	my @raw = parallel_barrier($N, sub {
		my ($i, $ready) = @_;
		my $r = $s->req(POST => ($i % 2 ? '/token/login' : '/login'), body => { email => $email, password => "$pw-wrong-$i" },
			before_last_byte => $ready, timeout => 120);
		return $r->{status};
	});
	is(scalar $s->events($mark, 'login_failed', email => $email), $THRESHOLD,
		"/login and /token/login racing, $N wrong passwords: exactly $THRESHOLD checked");
	is(scalar(grep { $_ eq '429' } @raw), $N - $THRESHOLD, 'the others: 429');
	reset_counters($email);
}

# --- the login limits: 100 at once, one email, limit 5 per email
{
	my $t = start_stack(pools => 2, workers => 2, env => { %CONTRACT_LOGIN_LIMITS, BULWARK_LOGIN_IP_LIMIT => 1000000 });
	my ($email, $pw) = $t->new_user('limitrace');
	reset_counters($email);
	my $mark = $t->log_mark;
	my @r = burst($t, '/login', sub { +{ email => $email, password => "$pw-wrong-$_[0]" } });
	is(count_status(401, @r), 5, "login limit: $N racing logins for one email, limit 5: exactly 5 x 401") or diag statuses(@r);
	is(count_status(429, @r), $N - 5, 'and ' . ($N - 5) . ' x 429');
	is(scalar $t->events($mark, 'login_failed', email => $email), 5, 'exactly 5 passwords checked (overshoot 0)');
	is(rate_limit_count("login:email:$email"), $N, "login:email counts all $N");
	reset_counters($email);
	$t->log_clean_ok('login limit race');
	$t->stop;
}

# --- refresh rotation: one refresh token, 100 uses at once, one winner
{
	my ($email, $pw) = $s->new_user('refreshrace');
	for my $round (1 .. 2) {
		my $pair = $s->token_pair($email, $pw, "refresh race $round");
		my @r = burst($s, '/token/refresh', sub { +{ refreshToken => $pair->{refreshToken} } });
		is(count_status(200, @r), 1, "refresh round $round: $N concurrent uses of one refresh token: exactly one 200 (overshoot 0)")
		  or diag statuses(@r);
		is(count_status(401, @r), $N - 1, "refresh round $round: and " . ($N - 1) . ' x 401');
		my ($win) = grep { $_->{status} == 200 } @r;
		is($s->refresh($win->{refresh} // 'none')->{status}, 401,
			"refresh round $round: the reuse revoked the family (the winner's new token is refused too)");
	}
}

# --- reset-token consumption: one token, 100 uses at once, one winner
{
	my ($email, $pw, $uid) = $s->new_user('resetrace');
	my $tok = $s->reset_token($email, 'for the race');
	my @pws = map { unique_password() } 0 .. $N - 1;
	$s->secret(@pws);
	my @r = burst($s, '/reset-password', sub { +{ token => $tok, newPassword => $pws[ $_[0] ] } });
	is(count_status(200, @r), 1, "reset: $N concurrent uses of one reset token: exactly one 200 (overshoot 0)") or diag statuses(@r);
	is(count_status(400, @r), $N - 1, 'and ' . ($N - 1) . ' x 400');
	my ($i) = grep { $r[$_]{status} == 200 } 0 .. $#r;
	is($s->login($email, $pws[ $i // 0 ])->res->{status}, 200, "the winner's password logs in");
	is(scalar(grep { $s->login($email, $pws[$_])->res->{status} == 200 } grep { $_ != ($i // 0) } 0 .. 9), 0,
		'no other racer\'s password does (10 tried)');
}

# --- the reservation's bookkeeping, one request at a time
{
	my ($email, $pw, $uid) = $s->new_user('book');
	reset_counters($email);
	is($s->login($email, "$pw-x")->res->{status}, 401, 'a wrong password: 401') for 1 .. $THRESHOLD - 1;
	is(lockout_failures($email), $THRESHOLD - 1, ($THRESHOLD - 1) . ' failures counted');
	is($s->login($email, $pw)->res->{status}, 200, 'the right password at the last reservation before the lock: 200');
	is(lockout_failures($email), undef, 'and the count is cleared (no failure left by its reservation)');
	is($s->login($email, "$pw-x")->res->{status}, 401, 'a wrong one after: 401 again') for 1 .. $THRESHOLD;
	is($s->login($email, $pw)->res->{status}, 429, "after $THRESHOLD wrong ones the right one is locked out");
	reset_counters($email);

	# A two-factor user whose right password stops at the code step gives
	# its reservation back: it is no failure.
	psql('UPDATE bulwark.users SET two_factor_enabled = true WHERE id = ' . q_lit($uid));
	is($s->login($email, "$pw-x")->res->{status}, 401, 'two-factor user: a wrong password: 401') for 1 .. $THRESHOLD - 1;
	my $r = $s->login($email, $pw)->res;
	is($r->{status}, 401, 'the right password without a code: 401');
	ok(ref $r->{json} eq 'HASH' && $r->{json}{twoFactorRequired}, '... twoFactorRequired');
	is(lockout_failures($email), $THRESHOLD - 1, 'the count is unchanged: the reservation was given back');
	is($s->login($email, "$pw-x")->res->{status}, 401, 'so one more wrong password is still checked (401, not 429)');
	is($s->login($email, $pw)->res->{status}, 429, 'and that one locked the email');
	psql('UPDATE bulwark.users SET two_factor_enabled = false WHERE id = ' . q_lit($uid));
	reset_counters($email);
}

is_deeply([ $s->worker_pids ], \@workers, 'no worker died');
$s->log_clean_ok('races');
done_testing;
