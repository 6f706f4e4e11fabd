# Password reset end to end (API.md "Password reset", "Mail"): a locked-out
# user with two sessions and two refresh families asks /forgot-password, the
# link is read from the message the file transport writes, /reset-password
# replaces the password, and everything the old password gave is dead: the
# sessions (401 on /me), the access tokens (the revocation mark), the
# refresh families, the old password; the lockout is cleared, so the new
# password logs in at once. On the way: the message's shape (RFC 5322, CRLF,
# the link built on BULWARK_PUBLIC_URL, no other secret in it), what the
# database keeps (the token's SHA-256 only; pg_dump holds no token), the
# log lines, refusals that must not spend the token, and a burst of
# messages read while they are written (never half a file).
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use MIME::Base64 ();
use Digest::SHA ();
use POSIX qw(_exit);
use BulwarkTest;

my $OK_FORGOT = 'If an account with that email exists, a reset link has been sent.';
my $OK_RESET  = 'Password has been reset.';
my $BAD_TOKEN = 'Invalid or expired reset token';
my $LOCKED    = 'Account temporarily locked. Try again later.';
my $INVALID   = 'Invalid email or password';
my $PUBLIC    = 'https://auth.bulwark.test';
my $FROM      = 'Bulwark Tests <no-reply@bulwark.test>';

my $s = start_stack(
	workers => 2,
	env     => {
		BULWARK_LOCKOUT_THRESHOLD => 3,
		BULWARK_LOCKOUT_SECONDS   => 900,
		BULWARK_PUBLIC_URL        => $PUBLIC,
		BULWARK_MAIL_FROM         => $FROM,
	}
);
reset_counters();
my @workers = $s->worker_pids;

# --- a user with everything the old password gave
my $email = unique_email('reset');
my $pw    = unique_password();
my $c1    = $s->signup($email, $pw);
is($c1->res->{status}, 201, 'setup: signup') or die "signup does not work\n";
my $uid = $c1->res->{json}{user}{id};
my $c2 = $s->login($email, $pw);
is($c2->res->{status}, 200, 'setup: a second session (login)');
my $pair = $s->token_pair($email, $pw, 'first family');
my $p2   = $s->token_pair($email, $pw, 'second family');
my $rot  = $s->refresh($p2->{refreshToken});
is($rot->{status}, 200, 'setup: the second family rotated once');
$rot = $rot->{json} || {};
is($c1->req(GET => '/me')->{status}, 200, 'setup: the signup session works');
is($c2->req(GET => '/me')->{status}, 200, 'setup: the login session works');
is($s->req(GET => '/token/me', bearer => $pair->{accessToken})->{status}, 200, 'setup: the access token works');
is($s->req(GET => '/token/me', bearer => $rot->{accessToken} // '')->{status}, 200, 'setup: the rotated access token works');

# locked out: the 3 wrong passwords of the threshold, then even the right one is refused
my @w = map { $s->login($email, "wrong-password-$_")->res->{status} } 1 .. 3;
is("@w", '401 401 401', 'setup: 3 wrong passwords (threshold 3)');
error_is($s->login($email, $pw)->res, 429, $LOCKED, 'setup: locked, the right password is refused');
is(lockout_failures($email), 3, 'setup: bulwark.lockouts counts 3');

# --- /forgot-password (the email padded and in capitals: normalised)
my $mark  = $s->log_mark;
my $after = mail_queue_max_id();
my $t_req = time;
my $r = $s->forgot("  \U$email\E ");
is($r->{status}, 200, '/forgot-password: 200');
is_deeply($r->{json}, { message => $OK_FORGOT }, '/forgot-password: the message');
common_ok($r, '/forgot-password');
ok(!$r->{cookies}{session}, '/forgot-password sets no session cookie');
ok($r->{elapsed} < 2, '/forgot-password answers at once') or diag "took $r->{elapsed} s";

my ($m) = $s->wait_mail(to => $email, reset => 1, after_id => $after);
ok($m, 'a reset message appears in BULWARK_MAIL_DIR') or die "no reset message in " . $s->mail_dir . ': ' . join(' ', $s->mail_entries) . "\n";
my $tok = $m->{token} // '';

my @ev = $s->wait_log(sub { grep { ($_->{event} // '') eq 'reset_requested' } @_ }, since => $mark);
my ($rq) = grep { ($_->{event} // '') eq 'reset_requested' } @ev;
ok($rq, 'a reset_requested log line');
is($rq && $rq->{email}, $email, 'reset_requested: the normalised email');
is($rq && $rq->{ip}, '127.0.0.1', 'reset_requested: ip');
is($rq && $rq->{matched}, 'yes', 'reset_requested: matched yes');

# --- the message file
like($m->{file}, qr/\A[0-9]+-[0-9]+\.eml\z/, 'the file is named <unix-time>-<id>.eml');
ok($m->{time} >= int($t_req) - 1 && $m->{time} <= time + 1, "the name's time is the delivery time") or diag "name time $m->{time}, request at $t_req";
my @q = grep { $_->{id} == $m->{id} } mail_queue_rows($email);
is(scalar @q, 1, "the name's id is the bulwark.mail_queue row to the user");
ok(wait_until(sub { my ($x) = grep { $_->{id} == $m->{id} } mail_queue_rows($email); $x && $x->{sent} }, 5), 'that row is marked sent');
is(scalar(grep { $_->{id} > $after } mail_queue_rows($email)), 1, 'the request queued one message for the user');
ok($m->{crlf}, 'the message uses CRLF line endings only');
is($m->{long_lines}, 0, 'no line longer than 998 characters');
is_deeply($m->{bad_header_lines}, [], 'every header line is a field');
for my $h (qw(Date From To Subject Message-ID MIME-Version Content-Type)) {
	is($m->{count}{ lc $h }, 1, "exactly one $h header");
}
is(($m->{count}{bcc} // 0) + ($m->{count}{cc} // 0), 0, 'no Cc or Bcc');
is($m->{headers}{to}, $email, 'To: the lower-cased address alone');
is($m->{headers}{from}, $FROM, 'From: BULWARK_MAIL_FROM');
like($m->{headers}{subject} // '', qr/\S/, 'a Subject');
like($m->{headers}{'message-id'} // '', qr/\A<[^<>\s@]+@[^<>\s@]+>\z/, 'Message-ID: <local@domain>');
is($m->{headers}{'mime-version'}, '1.0', 'MIME-Version: 1.0');
like($m->{headers}{'content-type'} // '', qr{\Atext/plain;\s*charset="?utf-8"?\z}i, 'Content-Type: text/plain; charset=utf-8');
my $date = mail_date_epoch($m->{headers}{date});
ok(defined $date && abs($date - time) < 120, 'Date: an RFC 5322 date, now') or diag 'Date: ' . ($m->{headers}{date} // 'missing');

my %links = map { $_ => 1 } @{ $m->{links} };
is(scalar(keys %links), 1, 'the body holds one reset link') or diag "links: @{ $m->{links} }";
like($tok, $B64URL_43, 'the token is 43 base64url characters');
is(length(unb64url($tok)), 32, 'the token carries 256 bits');
is($m->{links}[0], "$PUBLIC/reset-password?token=$tok", 'the link is <BULWARK_PUBLIC_URL>/reset-password?token=<token>');
is_deeply([ grep { $_ ne $tok } @{ $m->{tokens} } ], [], 'every token= in the message is that token');

# no other secret: passwords, cookie values, API tokens, the server key
{
	my @other = ($pw, (map { "wrong-password-$_" } 1 .. 3), $c1->session, $c1->csrf, $c2->session, $c2->csrf,
		$pair->{accessToken}, $pair->{refreshToken}, $p2->{refreshToken}, $rot->{accessToken}, $rot->{refreshToken},
		(split /\./, $pair->{accessToken})[2], test_secret());
	my @found = grep { defined && length && index($m->{raw}, $_) >= 0 } @other;
	ok(!@found, 'the message holds no password, cookie value, API token or server key (' . scalar(@other) . ' checked)')
	  or diag "found: @found";
}

# --- what the database keeps
my %forms = (text => sha256_hex($tok), bytes => Digest::SHA::sha256_hex(unb64url($tok)));
my ($form) = grep {
	psql_one('SELECT count(*) FROM bulwark.reset_tokens WHERE hash = decode(' . q_lit($forms{$_}) . q{, 'hex') AND user_id = } . q_lit($uid))
} sort keys %forms;
ok($form, 'bulwark.reset_tokens holds the SHA-256 of the token, for the user') or diag "neither hash found";
diag("the stored hash is SHA-256 of the token's " . ($form eq 'text' ? 'text' : 'decoded bytes')) if $form;
my $hash = $form ? $forms{$form} : $forms{text};
my $left = psql_one('SELECT extract(epoch FROM expires_at - now())::int FROM bulwark.reset_tokens WHERE hash = decode(' . q_lit($hash) . q{, 'hex')});
ok(defined $left && $left > 3500 && $left <= 3600, 'it expires in an hour (BULWARK_RESET_TTL 3600)') or diag 'expires in ' . ($left // 'undef') . ' s';
is(psql_one('SELECT count(*) FROM bulwark.reset_tokens WHERE used_at IS NULL AND user_id = ' . q_lit($uid)), 1, 'one unused reset token for the user');
{
	my $nonce = $q[0] ? $q[0]{nonce_hex} // '' : '';
	ok(!grep({ $nonce eq $_ } unpack('H*', unb64url($tok)), sha256_hex($tok), $forms{bytes}), "the mail_queue row's nonce is neither the token nor its hash");
	my $dump = pg_dump_text();
	ok(index($dump, $hash) >= 0, 'pg_dump holds the hash (the dump includes reset_tokens)');
	my @leaks = grep { index($dump, $_) >= 0 } $tok, unpack('H*', unb64url($tok)), MIME::Base64::encode_base64(unb64url($tok), ''),
	  MIME::Base64::encode_base64($tok, ''), unpack('H*', $tok), "reset-password?token=";
	ok(!@leaks, 'pg_dump holds no reset token (text, hex or base64) and no link') or diag "leaked: @leaks";
}

# --- refusals that must not spend the token
issues_ok($s->reset_password($tok, 'short1'), 'newPassword', 'reset, a 6-character password');
issues_ok($s->reset_password($tok, 'p' x 129), 'newPassword', 'reset, a 129-character password');
issues_ok($s->req(POST => '/reset-password', body => { token => $tok, newPassword => $email }), 'newPassword', 'reset, the password equal to the email');
issues_ok($s->req(POST => '/reset-password', body => { token => $tok }), 'newPassword', 'reset, no newPassword');
$r = $s->req(POST => '/reset-password', body => { token => $tok, newPassword => 123456789 });
is($r->{status}, 400, 'reset, newPassword a number: 400');
$r = $s->req(POST => '/reset-password', body => { newPassword => unique_password() });
is($r->{status}, 400, 'reset, no token: 400');
common_ok($r, 'reset, no token');
$r = $s->req(POST => '/reset-password', body => "token=$tok&newPassword=x", content_type => 'application/x-www-form-urlencoded');
is($r->{status}, 415, 'reset, a form body: 415');
$r = $s->req(GET => "/reset-password?token=$tok");
is($r->{status}, 405, 'GET /reset-password: 405');
like($r->{headers}{allow} // '', qr/(^|,\s*)POST(\s*,|$)/, 'GET /reset-password: Allow: POST');
is(psql_one('SELECT count(*) FROM bulwark.reset_tokens WHERE used_at IS NULL AND user_id = ' . q_lit($uid)), 1, 'the refusals left the token unused');
is(lockout_failures($email), 3, 'and the lockout in place');

# --- the reset
my $newpw = unique_password();
$mark = $s->log_mark;
my $t_reset = time;
$r = $s->reset_password($tok, $newpw);
is($r->{status}, 200, '/reset-password: 200');
is_deeply($r->{json}, { message => $OK_RESET }, '/reset-password: the message');
common_ok($r, '/reset-password');
ok(!$r->{cookies}{session}, '/reset-password logs nobody in (no session cookie)');
my @pr = $s->wait_log(sub { grep { ($_->{event} // '') eq 'password_reset' } @_ }, since => $mark);
my ($pe) = grep { ($_->{event} // '') eq 'password_reset' } @pr;
ok($pe, 'a password_reset log line');
is($pe && $pe->{userId}, $uid, 'password_reset: userId');
is($pe && $pe->{ip}, '127.0.0.1', 'password_reset: ip');

# every session dead
error_is($c1->req(GET => '/me'), 401, 'Unauthorized', 'the signup session after the reset');
error_is($c2->req(GET => '/me'), 401, 'Unauthorized', 'the login session after the reset');
is(psql_one('SELECT count(*) FROM bulwark.sessions WHERE user_id = ' . q_lit($uid)), 0, 'bulwark.sessions: no session of the user');
# every access token issued before
bearer_401_ok($s->req(GET => '/token/me', bearer => $pair->{accessToken}), 'an access token from before the reset', 1);
bearer_401_ok($s->req(GET => '/token/me', bearer => $rot->{accessToken} // ''), 'the rotated access token from before the reset', 1);
# every refresh family
error_is($s->refresh($pair->{refreshToken}), 401, 'Invalid refresh token', 'the first family\'s refresh token after the reset');
error_is($s->refresh($rot->{refreshToken} // ''), 401, 'Invalid refresh token', 'the second family\'s newest refresh token after the reset');
is(psql_one('SELECT count(*) FROM bulwark.refresh_families WHERE revoked_at IS NULL AND user_id = ' . q_lit($uid)), 0,
	'bulwark.refresh_families: none of the user\'s is live');
# the token is spent
is(psql_one('SELECT count(*) FROM bulwark.reset_tokens WHERE used_at IS NULL AND hash = decode(' . q_lit($hash) . q{, 'hex')}), 0,
	'bulwark.reset_tokens: the token is spent');
error_is($s->reset_password($tok, unique_password()), 400, $BAD_TOKEN, 'the same token a second time');
# the lockout is cleared
is(lockout_failures($email), undef, 'bulwark.lockouts: the row for the email is gone');
# passwords: the old one fails, the new one logs in at once
my $old = $s->login($email, $pw)->res;
error_is($old, 401, $INVALID, '/login with the old password');
ok(!$old->{cookies}{session}, '... no session cookie');
error_is($s->token_login($email, $pw), 401, $INVALID, '/token/login with the old password');
my $c3 = $s->login($email, $newpw);
is($c3->res->{status}, 200, '/login with the new password: 200 (not locked)');
is($c3->req(GET => '/me')->{status}, 200, 'its session works');
my $np = token_pair_ok($s->token_login($email, $newpw), '/token/login with the new password');
is($np && $s->req(GET => '/token/me', bearer => $np->{accessToken})->{status}, 200, 'an access token issued after the reset works');
my $mk = psql_one('SELECT extract(epoch FROM tokens_valid_after) FROM bulwark.users WHERE id = ' . q_lit($uid));
ok(defined $mk && $mk >= $t_reset - 2 && $mk <= time + 2, 'the revocation mark is the time of the reset') or diag 'mark ' . ($mk // 'undef');

# --- an unknown email: the same answer, nothing queued
my $ghost = unique_email('reset-nobody');
$mark = $s->log_mark;
$r = $s->forgot($ghost);
is($r->{status}, 200, 'unknown email: 200');
is_deeply($r->{json}, { message => $OK_FORGOT }, 'unknown email: the same message');
@ev = $s->wait_log(sub { grep { ($_->{event} // '') eq 'reset_requested' } @_ }, since => $mark);
($rq) = grep { ($_->{event} // '') eq 'reset_requested' } @ev;
is($rq && $rq->{matched}, 'no', 'unknown email: reset_requested matched no');
is($rq && $rq->{email}, $ghost, 'unknown email: reset_requested email');
is(scalar(mail_queue_rows($ghost)), 0, 'unknown email: nothing queued');

# --- a burst: 12 messages read as soon as they appear are whole
my ($be, $bp) = $s->new_user('burst');
my $before = mail_queue_max_id();
my %first;
my $kid = fork // die "fork: $!";
if (!$kid) {
	parallel(12, sub { $s->forgot($be)->{status} });
	_exit(0);
}
my $deadline = time + 20;
while (time < $deadline && keys(%first) < 12) {
	for my $n ($s->mail_names) {
		my ($id) = $n =~ /-([0-9]+)\./;
		next if $id <= $before || exists $first{$n};
		open(my $fh, '<', $s->mail_dir . "/$n") or next;
		binmode $fh;
		local $/;
		$first{$n} = <$fh> // '';
	}
	sleep 0.002;
}
waitpid($kid, 0);
my @burst = $s->mails(to => $be, after_id => $before);
is(scalar @burst, 12, '12 requests for one email: 12 messages');
is(scalar(keys %first), 12, 'each was read the moment it appeared');
my @torn = grep { !defined $first{ $_->{file} } || $first{ $_->{file} } ne $_->{raw} } @burst;
ok(!@torn, 'each message read as it appeared is the whole message (written to a temporary name, then renamed)')
  or diag 'changed after it appeared: ' . join(' ', map { $_->{file} } @torn);
my %tk  = map { ($_->{token} // '') => 1 } @burst;
my %mid = map { ($_->{headers}{'message-id'} // '') => 1 } @burst;
ok(!exists $tk{''} && keys(%tk) == 12, '12 distinct tokens');
ok(!exists $mid{''} && keys(%mid) == 12, '12 distinct Message-IDs');
ok(wait_until(sub { !grep { !$_->{sent} } mail_queue_rows($be) }, 5), 'all 12 rows marked sent');
my @stray = grep { !/\A[0-9]+-[0-9]+\.eml\z/ } $s->mail_entries;
ok(!@stray, 'the mail directory holds only finished .eml files') or diag "stray: @stray";

is_deeply([ $s->worker_pids ], \@workers, 'no worker died');
$s->log_clean_ok('password reset');
my $raw = $s->log_raw;
ok(index($raw, 'reset-password?token=') < 0 && index($raw, $tok) < 0, 'no link or reset token in the log');
done_testing;
