# The limits of password reset (API.md "Password reset"):
# BULWARK_RESET_EMAIL_LIMIT requests per email and BULWARK_RESET_IP_LIMIT
# per IP per hour on /forgot-password, counted for unknown emails too (so a
# 429 tells nothing either), the IP checked first; and
# BULWARK_RESET_IP_LIMIT attempts per IP per hour on /reset-password, a
# budget of its own, refusing even a valid token without spending it.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use BulwarkTest;

my $OK_FORGOT = 'If an account with that email exists, a reset link has been sent.';
my $TOO_MANY  = 'Too many password reset requests. Try again later.';
my $BAD_TOKEN = 'Invalid or expired reset token';

sub statuses { join ' ', map { $_->{status} } @_ }
sub random_token { b64url(join '', map { chr int rand 256 } 1 .. 32) }

# --- per email: 3 an hour
my $s = start_stack(workers => 2, env => { BULWARK_RESET_EMAIL_LIMIT => 3 });
reset_counters();
my ($known, $kpw, $kid) = $s->new_user('rlimit');
my $ghost = unique_email('rlimit-ghost');
my $after = mail_queue_max_id();
my %r;
for my $who ([ known => $known ], [ unknown => $ghost ]) {
	my ($name, $e) = @$who;
	# the same email three ways (normalised to one key), then twice more
	my @r = map { $s->forgot($_) } $e, uc($e), "  $e\t", $e, "  \U$e\E ";
	is(statuses(@r), '200 200 200 429 429', "$name email: 5 requests within the hour: 200 x3, then 429");
	error_is($r[3], 429, $TOO_MANY, "$name email: the 4th request");
	retry_after_ok($r[3], 1, 3600, "$name email: the 4th request");
	error_is($r[4], 429, $TOO_MANY, "$name email: the 5th request (in capitals, padded)");
	ok(!$r[3]{cookies}{session}, "$name email: no session cookie on the 429");
	my $n = rate_limit_count("reset:email:$e");
	ok(defined $n && $n >= 3, "$name email: counted under reset:email:<email>") or diag 'count ' . ($n // 'none');
	$r{$name} = \@r;
}
is_deeply([ map { $_->{body} } @{ $r{unknown} } ], [ map { $_->{body} } @{ $r{known} } ], 'known and unknown email: byte-identical bodies, 200s and 429s alike');
is(join(' ', map { defined $_->{headers}{'retry-after'} ? 'RA' : '-' } @{ $r{unknown} }),
	join(' ', map { defined $_->{headers}{'retry-after'} ? 'RA' : '-' } @{ $r{known} }), 'known and unknown email: Retry-After on the same answers');

# three messages for the known email, none for the refused requests
my @m = $s->wait_mail(to => $known, reset => 1, after_id => $after, count => 3);
is(scalar @m, 3, 'the known email got 3 reset messages');
ok(wait_until(sub { !grep { !$_->{sent} } mail_queue_rows($known) }, 5), 'setup: all delivered');
sleep 0.3;
is(scalar($s->mails(to => $known, reset => 1, after_id => $after)), 3, 'and no 4th or 5th (the refused requests mailed nothing)');
is(scalar(grep { $_->{id} > $after } mail_queue_rows($known)), 3, 'bulwark.mail_queue: 3 rows for the known email');
is(scalar(mail_queue_rows($ghost)), 0, 'bulwark.mail_queue: none for the unknown email');
is(psql_one('SELECT count(*) FROM bulwark.reset_tokens WHERE user_id = ' . q_lit($kid)), 3, 'bulwark.reset_tokens: 3 tokens for the user');

# the limit is per email: another email, from the same IP, is served
my ($other) = $s->new_user('rlimit-other');
is($s->forgot($other)->{status}, 200, 'another email from the same IP: 200');
is($s->forgot(unique_email('rlimit-ghost2'))->{status}, 200, 'another unknown email: 200');
# and the refused known email's tokens still work: the limit voids nothing
my $tok = $m[-1]{token};
my $np = unique_password();
is($s->reset_password($tok, $np)->{status}, 200, 'a token mailed before the limit was reached still resets');
is($s->login($known, $np)->res->{status}, 200, 'and the new password logs in');
$s->log_clean_ok('reset limits, per email');
$s->stop;

# --- per IP: 4 an hour; X-Forwarded-For believed from 127.0.0.1, so other IPs can be shown apart
my $t = start_stack(workers => 2, env => { BULWARK_RESET_IP_LIMIT => 4, BULWARK_TRUSTED_PROXIES => '127.0.0.1/32' });
reset_counters();
my ($k2, $p2, $id2) = $t->new_user('iplimit');
$after = mail_queue_max_id();
my @r = map { $t->forgot(unique_email("iplimit-ghost$_")) } 1 .. 4;
is(statuses(@r), '200 200 200 200', '4 unknown emails from one IP: 200 x4');
my $r = $t->forgot($k2);
error_is($r, 429, $TOO_MANY, 'the 5th request from that IP (a known email)');
retry_after_ok($r, 1, 3600, 'the 5th request from that IP');
is($r->{body}, $t->forgot(unique_email('iplimit-ghost5'))->{body}, 'the 6th (an unknown email): the same 429 body');
my $n = rate_limit_count('reset:ip:127.0.0.1');
ok(defined $n && $n >= 4, 'counted under reset:ip:127.0.0.1') or diag 'count ' . ($n // 'none');
is(rate_limit_count("reset:email:$k2"), undef, 'the IP limit comes first: the refused request did not count for the email');
sleep 0.3;
is(scalar(grep { $_->{id} > $after } mail_queue_rows($k2)), 0, 'nothing queued for the refused known email');
is(psql_one('SELECT count(*) FROM bulwark.reset_tokens WHERE user_id = ' . q_lit($id2)), 0, 'no reset token made for it');

# another client IP has its own budget
my $tok2 = $t->reset_token($k2, 'from 192.0.2.7', headers => { 'X-Forwarded-For' => '192.0.2.7' });
is(rate_limit_count('reset:ip:192.0.2.7'), 1, 'reset:ip:192.0.2.7 counts 1');

# --- /reset-password: 4 attempts an hour per IP, a budget apart from /forgot-password's
my @bad = map { $t->reset_password(random_token(), unique_password()) } 1 .. 4;
is(statuses(@bad), '400 400 400 400', '4 unknown tokens from 127.0.0.1 (its /forgot-password budget spent): 400 x4');
error_is($bad[0], 400, $BAD_TOKEN, 'an unknown token');
my $np2 = unique_password();
$r = $t->reset_password($tok2, $np2);
is($r->{status}, 429, 'the 5th attempt from that IP, with a valid token: 429');
common_ok($r, 'the 5th /reset-password attempt');
ok(ref $r->{json} eq 'HASH' && defined $r->{json}{error} && !ref $r->{json}{error} && length $r->{json}{error}, 'the 5th attempt: an error message')
  or diag $r->{body};
retry_after_ok($r, 1, 3600, 'the 5th /reset-password attempt');
$n = rate_limit_count('reset-password:ip:127.0.0.1');
ok(defined $n && $n >= 4, 'counted under reset-password:ip:127.0.0.1') or diag 'count ' . ($n // 'none');
is(psql_one('SELECT count(*) FROM bulwark.reset_tokens WHERE used_at IS NULL AND user_id = ' . q_lit($id2)), 1, 'the refused attempt did not spend the token');
error_is($t->login($k2, $np2)->res, 401, 'Invalid email or password', 'nor change the password');
$r = $t->reset_password($tok2, $np2, headers => { 'X-Forwarded-For' => '192.0.2.8' });
is($r->{status}, 200, 'the same token from another IP: 200');
is($t->login($k2, $np2)->res->{status}, 200, 'the new password logs in');
$t->log_clean_ok('reset limits, per IP');
done_testing;
