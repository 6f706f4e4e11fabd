# /forgot-password tells nothing about which emails have accounts (API.md
# "Password reset": "the same answer and about the same time whether or not
# the email exists"; "Mail": a message is never sent while the client
# waits). The answers for a known and an unknown email are byte-identical
# (status, body, headers but Date and the cookies' values), and take the
# same time: medians of 20 interleaved requests each within 25 % + 1 ms, as
# 54_timing.t measures logins. The transport here is a sendmail that takes
# 200 ms per message, so a message sent before the answer would show as
# 200 ms on the known side alone; between timed requests the test waits
# until the queue is delivered, so that each is measured on an idle worker.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use BulwarkTest;

my $OK_FORGOT = 'If an account with that email exists, a reset link has been sent.';
my $DELAY = 0.2;

my $sm = fake_sendmail();
$sm->delay($DELAY);
# One worker, as in 54_timing.t: every request takes the same path through one process.
my $s = start_stack(workers => 1, env => { BULWARK_MAIL_TRANSPORT => 'sendmail', BULWARK_SENDMAIL => $sm->path });
reset_counters();

my ($known, $pw, $uid) = $s->new_user('enum');
my $unknown = unique_email('enum-nobody');
is(psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit($unknown)), 0, 'setup: the unknown email has no account');
my $n_known = 0;

# Everything of a response but what must differ: the Date header and the
# values of the cookies (a fresh random csrf_token each time).
sub shape {
	my ($r) = @_;
	my @h = map { "$_->[0]: $_->[1]" } grep { $_->[0] ne 'date' && $_->[0] ne 'set-cookie' } @{ $r->{header_list} };
	my @c = sort map { s/\A([^=;]*)=[^;]*/$1=<value>/r } @{ $r->{set_cookie} };
	return join "\n", "status $r->{status}", @h, (map { "set-cookie: $_" } @c), '', $r->{body};
}

# Waits until every message to the known address is delivered, then a
# moment: the one worker is idle again.
sub settle {
	wait_until(sub { !psql_one('SELECT count(*) FROM bulwark.mail_queue WHERE sent_at IS NULL AND to_addr = ' . q_lit($known)) }, 10, 0.01)
	  or diag 'the queue did not drain';
	sleep 0.01;
}

# --- byte-identical answers
my $rk = $s->forgot($known);
$n_known++;
settle();
my $ru = $s->forgot($unknown);
settle();
my $rk2 = $s->forgot("  \U$known\E ");
$n_known++;
settle();
is($rk->{status}, 200, 'known email: 200');
is_deeply($rk->{json}, { message => $OK_FORGOT }, 'known email: the message');
common_ok($rk, 'known email');
is($ru->{body}, $rk->{body}, 'unknown email: byte-identical body');
is($ru->{status}, $rk->{status}, 'unknown email: the same status');
is(shape($ru), shape($rk), 'unknown email: the same headers (but Date), the same cookies (but their values)')
  or diag "known:\n" . shape($rk) . "\nunknown:\n" . shape($ru);
is(shape($rk2), shape($rk), 'the known email in capitals and padded: the same answer');
ok(!$rk->{cookies}{session} && !$ru->{cookies}{session}, 'no session cookie either way');

# --- the same time
sub timed {
	my ($email) = @_;
	my $t0 = time;
	my $r  = $s->forgot($email);
	my $dt = time - $t0;
	$n_known++ if $email eq $known;
	settle();
	return ($r->{status} . ' ' . $r->{body}, $dt);
}
for (1 .. 4) {    # warm-up: connections, prepared statements, the rate-limit rows
	timed($unknown);
	timed($known);
}
my (@tu, @tk, @ans);
for my $i (1 .. 20) {
	my ($au, $du) = timed($unknown);
	my ($ak, $dk) = timed($known);
	push @tu, $du;
	push @tk, $dk;
	push @ans, $au, $ak;
}
is(scalar(grep { $_ eq "200 $rk->{body}" } @ans), 40, 'all 40 timed requests: 200 with the same body');

sub median {
	my @v = sort { $a <=> $b } @_;
	return @v % 2 ? $v[ $#v / 2 ] : ($v[ @v / 2 - 1 ] + $v[ @v / 2 ]) / 2;
}
my ($mu, $mk) = (median(@tu), median(@tk));
my $max = $mu > $mk ? $mu : $mk;
my $tol = 0.25 * $max + 0.001;
diag sprintf('/forgot-password medians of 20: unknown email %.2f ms, known email %.2f ms (differ by %.2f ms, allowed %.2f ms); the transport takes %d ms',
	$mu * 1000, $mk * 1000, abs($mu - $mk) * 1000, $tol * 1000, $DELAY * 1000);
ok(abs($mu - $mk) <= $tol, 'known and unknown email: medians within 25 % + 1 ms')
  or diag sprintf("unknown: %s\nknown:   %s", map { join ' ', map { sprintf '%.1f', $_ * 1000 } @$_ } \@tu, \@tk);
ok($mk < $DELAY * 0.75, 'the known email is answered before its message is sent (median well under the transport\'s 200 ms)')
  or diag sprintf('known median %.1f ms', $mk * 1000);

# --- the known email was mailed every time, the unknown one never
ok(wait_until(sub { scalar(grep { lc $_->{to} eq $known && @{ $_->{links} } } $sm->messages) >= $n_known }, 10),
	"setup: the transport got the known email's messages");
my @msgs = grep { @{ $_->{links} } } $sm->messages;
is(scalar(grep { lc $_->{to} eq $known } @msgs), $n_known, "one reset message per request for the known email ($n_known)");
is(scalar(grep { lc $_->{to} ne $known } @msgs), 0, 'no reset message to anyone else (the unknown email)');
is(scalar(mail_queue_rows($unknown)), 0, 'nothing queued for the unknown email');
$s->secret(map { @{ $_->{tokens} } } $sm->messages);
$s->log_clean_ok('reset enumeration');
done_testing;
