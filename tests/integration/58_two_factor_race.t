# One TOTP code, many logins at once (API.md "Two-factor authentication": a
# code is accepted once).  The step is spent by one compare-and-set statement
# (sql/totp_use.sql), so of 20 logins racing with one valid code across two
# pools exactly one gets a session; the rest are refused as replays.  Recovery
# codes race the same way.  Codes come from oathtool for this machine's clock.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 4, pools => 2);
reset_counters();


# A user with 2FA on; returns (email, password, id, secret, recovery codes).
sub tfa_user {
	my ($tag) = @_;
	my ($e, $p, $id) = $s->new_user($tag);
	my $c = $s->login($e, $p);
	my $secret = $c->req(POST => '/me/2fa/enable', csrf => 1)->{json}{secret} // '';
	$s->secret($secret);
	my $r = $c->req(POST => '/me/2fa/verify', csrf => 1, body => { code => totp_code($secret, time - 30) });
	is($r->{status}, 200, "setup: 2FA on for $tag") or die "2FA does not enable\n";
	$s->secret(@{ $r->{json}{recoveryCodes} });
	return ($e, $p, $id, $secret, $r->{json}{recoveryCodes});
}

sub race {
	my ($n, $body) = @_;
	return parallel_barrier($n, sub {
		my ($i, $ready) = @_;
		my $r = $s->req(POST => '/login', body => $body, before_last_byte => $ready);
		return "$r->{status} " . (ref $r->{json} eq 'HASH' ? $r->{json}{error} // 'ok' : '');
	});
}

for my $round (1 .. 3) {
	my ($e, $p, $id, $secret) = tfa_user("race$round");
	my $code = totp_code($secret, time);
	my $mark = $s->log_mark;
	my @res = race(20, { email => $e, password => $p, code => $code });
	my $ok = grep { /\A200 / } @res;
	my $replay = grep { /\A401 Invalid two-factor code\z/ } @res;
	is($ok, 1, "round $round: 20 concurrent logins with one code: exactly one 200")
	  or diag join "\n", @res;
	is($replay, 19, "round $round: the other 19 refused (401 Invalid two-factor code)") or diag join "\n", @res;
	is(psql_one('SELECT count(*) FROM bulwark.sessions WHERE user_id = ' . q_lit($id)), 2,
		"round $round: one new session (beside the setup's)");
	is(scalar($s->events($mark, 'twofa_replay', userId => $id)), 19, "round $round: 19 twofa_replay logged");
}

# a recovery code, 20 at once: one use
{
	my ($e, $p, $id, $secret, $rc) = tfa_user('race-rc');
	my @res = race(20, { email => $e, password => $p, code => $rc->[0] });
	is(scalar(grep { /\A200 / } @res), 1, 'one recovery code, 20 concurrent logins: exactly one 200') or diag join "\n", @res;
	is(psql_one('SELECT count(*) FROM bulwark.recovery_codes WHERE used_at IS NOT NULL AND user_id = ' . q_lit($id)), 1,
		'one recovery code marked used');
}

$s->log_clean_ok('no code or password in the log');
done_testing;
