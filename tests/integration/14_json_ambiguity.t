# Bodies that two JSON parsers could read differently (issue 13, item 4):
# a key twice (json-c keeps the last one: {"email":"nobody@x.co",
# "email":"<victim>"} logged in as the victim) and lone surrogate escapes
# (json-c turns "\ud800" into U+FFFD, so "pw\ud800" and "pw\udfff" were
# the same password).  Each is a 400 on /login, /signup, /token/refresh and
# /reset-password, counts toward no limit or lockout, consumes no token and
# creates nothing; surrogate pairs (an emoji, escaped or raw) still work.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);
reset_counters();

sub refused_400 {
	my ($r, $message, $name) = @_;
	issues_ok($r, '', $name);
	my $msgs = ref $r->{json} eq 'HASH' && ref $r->{json}{issues} eq 'ARRAY'
	  ? join('|', map { $_->{message} // '' } @{ $r->{json}{issues} }) : '';
	is($msgs, $message, "$name: the issue says '$message'");
	ok(!$r->{cookies}{session}, "$name: no session cookie");
}
sub email_count { psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit($_[0])) }
sub sessions_of { psql_one('SELECT count(*) FROM bulwark.sessions WHERE user_id = ' . q_lit($_[0])) }
sub rl_rows { psql_one(q{SELECT count(*) FROM bulwark.rate_limits WHERE key LIKE 'login:%'}) }

my ($email, $pw, $uid) = $s->new_user('victim');
$s->secret($pw);
my $sessions = sessions_of($uid);
my $rl = rl_rows();
my $mark = $s->log_mark;

# --- /login: a key twice, in every spelling of the key
my @dups = (
	[ qq({"email":"nobody\@example.com","email":"$email","password":"$pw"}), 'email twice (the second is the victim)' ],
	[ qq({"email":"$email","email":"nobody\@example.com","password":"$pw"}), 'email twice (the first is the victim)' ],
	[ qq({"email":"nobody\@example.com","\\u0065mail":"$email","password":"$pw"}), '"email" and "\\u0065mail"' ],
	[ qq({"\\u0065\\u006d\\u0061\\u0069\\u006c":"nobody\@example.com","email":"$email","password":"$pw"}), 'email fully escaped, then plain' ],
	[ qq({"email":"$email","password":"wrong-password-1","password":"$pw"}), 'password twice (the second is right)' ],
	[ qq({"email":"$email","password":"$pw","pass\\u0077ord":"$pw"}), 'password twice, both right, one escaped' ],
	[ qq({"email":"$email","password":"$pw","x":1,"x":2}), 'an extra key twice' ],
	[ qq({"email":"$email","password":"$pw","x":{"a":1,"a":2}}), 'a key twice in a nested object' ],
);
for my $d (@dups) {
	refused_400($s->req(POST => '/login', body => $d->[0]), 'Duplicate key', "login, $d->[1]");
}
is(sessions_of($uid), $sessions, 'login: no session was created by a duplicate-key body');
is(rl_rows(), $rl, 'login: no rate-limit row was counted');
is(lockout_failures($email), undef, 'login: no failed attempt recorded for the victim');
is(scalar($s->events($mark, 'login_success')) + scalar($s->events($mark, 'login_failed')), 0,
	'login: no password was checked (neither login_success nor login_failed logged)');
is($s->token_login($email, $pw, x => 1)->{status}, 200, 'the victim still logs in with one of each key');

# --- /signup: email twice creates neither account
my $e1 = unique_email('dup1');
my $e2 = unique_email('dup2');
my $np = unique_password();
refused_400($s->req(POST => '/signup', body => qq({"email":"$e1","email":"$e2","password":"$np"})), 'Duplicate key', 'signup, email twice');
refused_400($s->req(POST => '/signup', body => qq({"email":"$e1","password":"$np","\\u0070assword":"$np-other"})), 'Duplicate key',
	'signup, password twice (one escaped)');
is(email_count($e1) + email_count($e2), 0, 'signup: neither email was created');

# --- /token/refresh: the real token, sent after a decoy, is not consumed
my $pair = $s->token_pair($email, $pw, 'for refresh');
my $rt = $pair->{refreshToken};
my $family_rows = psql_one('SELECT count(*) FROM bulwark.refresh_tokens');
refused_400($s->req(POST => '/token/refresh', body => qq({"refreshToken":"decoy","refreshToken":"$rt"})), 'Duplicate key',
	'refresh, refreshToken twice');
refused_400($s->req(POST => '/token/refresh', body => qq({"refreshToken":"$rt","refresh\\u0054oken":"$rt"})), 'Duplicate key',
	'refresh, the same token twice under two spellings');
is(psql_one('SELECT count(*) FROM bulwark.refresh_tokens'), $family_rows, 'refresh: no token row was added');
my $r = $s->refresh($rt);
is($r->{status}, 200, 'refresh: the token still rotates once afterwards (it was neither used nor revoked)') or diag $r->{body};

# --- /reset-password: the token is not consumed, the password not changed
my $tok = $s->reset_token($email, 'dup');
my $p1 = unique_password();
my $p2 = unique_password();
$s->secret($p1, $p2);
refused_400($s->req(POST => '/reset-password', body => qq({"token":"$tok","newPassword":"$p1","newPassword":"$p2"})),
	'Duplicate key', 'reset, newPassword twice');
refused_400($s->req(POST => '/reset-password', body => qq({"token":"x","\\u0074oken":"$tok","newPassword":"$p1"})),
	'Duplicate key', 'reset, token twice');
is(psql_one('SELECT count(*) FROM bulwark.reset_tokens WHERE used_at IS NULL AND user_id = ' . q_lit($uid)), 1,
	'reset: the token is still unused');
is($s->login($email, $pw)->res->{status}, 200, 'reset: the old password still works');
$r = $s->reset_password($tok, $p1);
is($r->{status}, 200, 'reset: the token still works once, with one newPassword') or diag $r->{body};
$pw = $p1;

# --- lone surrogates: 400, never U+FFFD
my $base = unique_password();
my @lone = (
	[ "$base\\ud800",        'a high surrogate at the end' ],
	[ "$base\\udc00",        'a low surrogate alone' ],
	[ "$base\\udfffxy",      'a low surrogate before text' ],
	[ "$base\\ud800xy",      'a high surrogate followed by text' ],
	[ "$base\\ud800\\u0041", 'a high surrogate followed by \\u0041' ],
	[ "$base\\ud800\\ud800", 'two high surrogates' ],
	[ "$base\\ude00\\ud83d", 'a pair in the wrong order' ],
	[ "$base\\uDBFF",        'an upper-case high surrogate' ],
);
my $le = unique_email('lone');
for my $l (@lone) {
	refused_400($s->req(POST => '/signup', body => qq({"email":"$le","password":"$l->[0]"})), 'Lone surrogate escape',
		"signup, $l->[1]");
}
is(email_count($le), 0, 'signup: no account made with a lone surrogate');
# The old behaviour: one of these made an account that every other one
# (and the password with U+FFFD in it) opened.
my $fffd = unique_email('fffd');
is($s->req(POST => '/signup', body => { email => $fffd, password => "$base\x{FFFD}" })->{status}, 201,
	'setup: an account whose password holds a real U+FFFD');
for my $l (@lone[ 0, 1 ]) {
	refused_400($s->req(POST => '/login', body => qq({"email":"$fffd","password":"$l->[0]"})), 'Lone surrogate escape',
		"login, $l->[1] (does not open the U+FFFD password)");
}
refused_400($s->req(POST => '/login', body => qq({"email":"$email\\udc00","password":"$pw"})), 'Lone surrogate escape',
	'login, a lone surrogate in the email');
my $pair2 = $s->token_pair($email, $pw, 'for the surrogate refresh');
refused_400($s->req(POST => '/token/refresh', body => qq({"refreshToken":"$pair2->{refreshToken}\\ud800"})),
	'Lone surrogate escape', 'refresh, a lone surrogate after the token');
is($s->refresh($pair2->{refreshToken})->{status}, 200, 'refresh: that token still works');
my $tok2 = $s->reset_token($email, 'lone');
refused_400($s->req(POST => '/reset-password', body => qq({"token":"$tok2","newPassword":"$base\\ud800"})),
	'Lone surrogate escape', 'reset, a lone surrogate in the new password');
is(psql_one('SELECT count(*) FROM bulwark.reset_tokens WHERE used_at IS NULL AND user_id = ' . q_lit($uid)), 1,
	'reset: that token is still unused');

# --- surrogate pairs still work, escaped or raw, as the same password
my $ee = unique_email('emoji');
my $emoji_raw = "$base-\x{1F600}";
is($s->req(POST => '/signup', body => qq({"email":"$ee","password":"$base-\\ud83d\\ude00"}))->{status}, 201,
	'signup with an escaped surrogate pair (U+1F600) in the password: 201');
is($s->login($ee, $emoji_raw)->res->{status}, 200, 'login with the raw UTF-8 emoji: 200 (the same password)');
is($s->req(POST => '/login', body => qq({"email":"$ee","password":"$base-\\uD83D\\uDE00"}))->{status}, 200,
	'login with the pair escaped in upper case: 200');
is($s->req(POST => '/login', body => qq({"email":"$ee","password":"$base-\\ud83d"}))->{status}, 400,
	'login with only the high half: 400, not a near miss');
my $tok3 = $s->reset_token($ee, 'emoji');
$r = $s->req(POST => '/reset-password', body => qq({"token":"$tok3","newPassword":"$base-\\ud83d\\ude01\\ud83d\\ude02"}));
is($r->{status}, 200, 'reset to a password of two escaped emoji: 200') or diag $r->{body};
is($s->login($ee, "$base-\x{1F601}\x{1F602}")->res->{status}, 200, 'and it logs in, sent raw');

$s->log_clean_ok('json ambiguity');
done_testing();
