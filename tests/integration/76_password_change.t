# POST /me/password (API.md routes, "Login" last paragraph, "Tokens",
# "CSRF"): a stolen session or token must not be enough to take the
# account, and a change must end what an attacker already holds. The
# current password is checked on the login budget: a wrong one is 401
# {"error":"Invalid password"} and a failed login (10 lock the email for
# /login too; failures on /login lock /me/password), and the per-email rate
# limit is shared with /login. A session caller needs X-CSRF-Token. A
# change ends every other session, revokes every refresh family and every
# access token issued before, keeps the caller's session, gives a bearer
# caller a fresh pair, mails the user and logs password_changed.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use Time::HiRes ();
use BulwarkTest;

my $CHANGED  = 'Password has been changed.';
my $WRONG    = 'Invalid password';
my $LOCKED   = 'Account temporarily locked. Try again later.';
my $TOO_MANY = 'Too many login attempts. Try again later.';
my $INVALID  = 'Invalid email or password';

my $s = start_stack(
	workers => 2,
	env     => {
		%CONTRACT_LOGIN_LIMITS,
		BULWARK_LOGIN_IP_LIMIT    => 1000000,
		BULWARK_LOGIN_EMAIL_LIMIT => 1000000,
		BULWARK_LOCKOUT_THRESHOLD => 10,
		BULWARK_LOCKOUT_SECONDS   => 900,
	}
);
reset_counters();
my @workers = $s->worker_pids;

sub hash_of { psql_one('SELECT password_hash FROM bulwark.users WHERE id = ' . q_lit($_[0])) }
sub live_families { psql_one('SELECT count(*) FROM bulwark.refresh_families WHERE revoked_at IS NULL AND user_id = ' . q_lit($_[0])) }
sub statuses { join ' ', map { $_->{status} } @_ }

# A user signed up through a client (the caller's session); returns (client, email, password, id).
sub user {
	my ($tag) = @_;
	my ($e, $p) = (unique_email($tag), unique_password());
	my $c = $s->signup($e, $p);
	is($c->res->{status}, 201, "setup: signup $tag") or die "signup does not work\n";
	return ($c, $e, $p, $c->res->{json}{user}{id});
}

# --- refusals: nothing changes
my ($c1, $e1, $p1, $id1) = user('chg');
my $c2  = $s->login($e1, $p1);
my $tp1 = $s->token_pair($e1, $p1, 'first family');
my $tp2 = $s->token_pair($e1, $p1, 'second family');
my $rot = $s->refresh($tp2->{refreshToken})->{json} || {};
ok($rot->{refreshToken}, 'setup: the second family rotated');
my $h0 = hash_of($id1);
my $np = unique_password();

error_is($s->req(POST => '/me/password', body => { currentPassword => $p1, newPassword => $np }), 401, 'Unauthorized', 'anonymous');
error_is($c1->change_password($p1, $np, csrf => 0), 403, 'Invalid CSRF token', 'a session without X-CSRF-Token');
error_is($c1->change_password($p1, $np, csrf => 0, headers => { 'X-CSRF-Token' => $c2->csrf }), 403, 'Invalid CSRF token',
	"a session with another session's CSRF token");
error_is($c1->change_password($p1, $np, csrf => 0, headers => { 'X-CSRF-Token' => '' }), 403, 'Invalid CSRF token', 'a session with an empty X-CSRF-Token');
is($s->change_password('not-a-token', $p1, $np)->{status}, 401, 'a garbage bearer token: 401');
is($s->change_password($tp1->{refreshToken}, $p1, $np)->{status}, 401, 'the refresh token as bearer: 401');
my $mark = $s->log_mark;
my $r = $c1->change_password("$p1-wrong", $np);
error_is($r, 401, $WRONG, 'a wrong current password (session)');
is(lockout_failures($e1), 1, '... counted as a failed login for the email (lockout count 1)');
error_is($s->change_password($tp1->{accessToken}, "$p1-wrong2", $np), 401, $WRONG, 'a wrong current password (bearer)');
is(lockout_failures($e1), 2, '... counted too (2)');
issues_ok($c1->change_password($p1, 'short1'), 'newPassword', 'a 6-character new password');
issues_ok($c1->change_password($p1, 'p' x 129), 'newPassword', 'a 129-character new password');
issues_ok($c1->req(POST => '/me/password', csrf => 1, body => { currentPassword => $p1, newPassword => $e1 }), 'newPassword',
	'the new password equal to the email');    # not through change_password: the email is no secret
issues_ok($c1->req(POST => '/me/password', csrf => 1, body => { currentPassword => $p1 }), 'newPassword', 'no newPassword');
issues_ok($c1->req(POST => '/me/password', csrf => 1, body => { newPassword => $np }), 'currentPassword', 'no currentPassword');
$r = $c1->req(POST => '/me/password', csrf => 1, body => { currentPassword => 12345678, newPassword => $np });
is($r->{status}, 400, 'currentPassword a number: 400');
$r = $c1->req(POST => '/me/password', csrf => 1, body => '{"currentPassword":', content_type => 'application/json');
is($r->{status}, 400, 'malformed JSON: 400');
$r = $c1->req(GET => '/me/password');
is($r->{status}, 405, 'GET /me/password: 405');
like($r->{headers}{allow} // '', qr/(^|,\s*)POST(\s*,|$)/, 'GET /me/password: Allow: POST');
is(hash_of($id1), $h0, 'the stored hash is unchanged by all that');
is(scalar($s->events($mark, 'password_changed')), 0, 'no password_changed logged');
is(join(' ', map { $_->req(GET => '/me')->{status} } $c1, $c2), '200 200', 'both sessions still work');

# --- a change on a session
$mark = $s->log_mark;
my $qa = mail_queue_max_id();
my $sess  = $c1->session;
my $sess2 = $c2->session;
my $t_change = Time::HiRes::time();
$r = $c1->change_password($p1, $np);
is($r->{status}, 200, 'session, right current password, X-CSRF-Token: 200');
my $mk = psql_one('SELECT extract(epoch FROM tokens_valid_after) FROM bulwark.users WHERE id = ' . q_lit($id1));
ok(defined $mk && $mk >= $t_change - 2 && $mk <= Time::HiRes::time() + 2, 'the revocation mark is set to the time of the change')
  or diag 'mark ' . ($mk // 'undef');
is_deeply($r->{json}, { message => $CHANGED }, 'session: {"message":"Password has been changed."}');
common_ok($r, 'session change');
is($c1->session, $sess, "the caller's session cookie is unchanged");
is($c1->req(GET => '/me')->{status}, 200, "the caller's session still works on /me");
is(scalar @{ session_rows_for_cookie($sess) }, 1, "its row is kept");
error_is($c2->req(GET => '/me'), 401, 'Unauthorized', 'the other session (a second login)');
is(scalar @{ session_rows_for_cookie($sess2) }, 0, 'its row is gone');
is(psql_one('SELECT count(*) FROM bulwark.sessions WHERE user_id = ' . q_lit($id1)), 1, "bulwark.sessions: only the caller's is left");
bearer_401_ok($s->req(GET => '/token/me', bearer => $tp1->{accessToken}), 'an access token from before the change', 1);
bearer_401_ok($s->req(GET => '/token/me', bearer => $rot->{accessToken}), 'the rotated access token from before', 1);
error_is($s->refresh($tp1->{refreshToken}), 401, 'Invalid refresh token', "the first family's refresh token");
error_is($s->refresh($rot->{refreshToken}), 401, 'Invalid refresh token', "the second family's newest refresh token");
is(live_families($id1), 0, 'bulwark.refresh_families: none of the user\'s is live');
error_is($s->login($e1, $p1)->res, 401, $INVALID, '/login with the old password');
my $c3 = $s->login($e1, $np);
is($c3->res->{status}, 200, '/login with the new password: 200');
my $after_pair = token_pair_ok($s->token_login($e1, $np), '/token/login with the new password');
is($after_pair && $s->req(GET => '/token/me', bearer => $after_pair->{accessToken})->{status}, 200, 'an access token issued after the change works');
my @ev = $s->wait_log(sub { grep { ($_->{event} // '') eq 'password_changed' } @_ }, since => $mark);
my ($pc) = grep { ($_->{event} // '') eq 'password_changed' } @ev;
ok($pc, 'a password_changed log line');
is($pc && $pc->{userId}, $id1, 'password_changed: userId');
# the mail
my @rows = grep { $_->{id} > $qa } mail_queue_rows($e1);
is(scalar @rows, 1, 'one message queued to the user');
is($rows[0] && $rows[0]{kind}, 'password_changed', "its kind is password_changed");
my ($cm) = $rows[0] ? $s->wait_mail(to => $e1, after_id => $rows[0]{id} - 1) : ();
ok($cm && $cm->{id} == $rows[0]{id}, 'the password_changed message arrives') or die "no password_changed message\n";
ok($cm->{crlf} && $cm->{count}{to} == 1 && $cm->{headers}{to} eq $e1, 'it is to the user alone, CRLF');
{
	my @other = ($p1, $np, "$p1-wrong", $sess, $c1->csrf, $c2->csrf, $tp1->{accessToken}, $tp1->{refreshToken}, $rot->{refreshToken},
		$after_pair ? ($after_pair->{refreshToken}) : (), test_secret());
	my @found = grep { defined && length && index($cm->{raw}, $_) >= 0 } @other;
	ok(!@found, 'it holds no password, cookie value, token or server key') or diag "found: @found";
	is_deeply($cm->{links}, [], 'and no reset link');
}
# the caller goes on: a second change on the same session and CSRF token
my $np1b = unique_password();
$r = $c1->change_password($np, $np1b);
is($r->{status}, 200, "a second change on the caller's session: 200");
error_is($c3->req(GET => '/me'), 401, 'Unauthorized', 'the session logged in between is ended by it');
is($c1->req(GET => '/me')->{status}, 200, "the caller's session still works");

# --- a change with a bearer token
my ($s2, $e2, $p2, $id2) = user('chgbearer');
my $b1 = $s->token_pair($e2, $p2, 'the caller\'s pair');
my $b2 = $s->token_pair($e2, $p2, 'another pair');
my $np2 = unique_password();
$r = $s->change_password($b1->{accessToken}, $p2, $np2);
is($r->{status}, 200, 'bearer, no X-CSRF-Token: 200');
common_ok($r, 'bearer change');
my $j = ref $r->{json} eq 'HASH' ? $r->{json} : {};
is_deeply([ sort keys %$j ], [qw(accessToken expiresIn message refreshToken tokenType)], 'bearer: message and a token pair in one body');
is($j->{message}, $CHANGED, 'bearer: the message');
is($j->{tokenType}, 'Bearer', 'bearer: tokenType Bearer');
like($r->{body}, qr/"expiresIn"\s*:\s*900\s*[,}]/, 'bearer: expiresIn the JSON number 900');
like($j->{refreshToken} // '', $B64URL_43, 'bearer: a 43-character refresh token');
ok(!$r->{cookies}{session}, 'bearer: no session cookie');
access_token_ok($j->{accessToken}, 'bearer: the new access token', claims => { sub => $id2, email => $e2, role => 'user' });
isnt($j->{refreshToken} // '', $b1->{refreshToken}, 'bearer: a new refresh token');
is($s->req(GET => '/token/me', bearer => $j->{accessToken} // '')->{status}, 200, 'the new access token works');
bearer_401_ok($s->req(GET => '/token/me', bearer => $b1->{accessToken}), "the caller's old access token", 1);
bearer_401_ok($s->req(GET => '/token/me', bearer => $b2->{accessToken}), 'the other old access token', 1);
error_is($s->refresh($b1->{refreshToken}), 401, 'Invalid refresh token', "the caller's old refresh token");
error_is($s->refresh($b2->{refreshToken}), 401, 'Invalid refresh token', 'the other old refresh token');
error_is($s2->req(GET => '/me'), 401, 'Unauthorized', 'the session from signup');
my $nn = token_pair_ok($s->refresh($j->{refreshToken} // ''), 'the new refresh token refreshes');
is($nn && $s->req(GET => '/token/me', bearer => $nn->{accessToken})->{status}, 200, 'and its access token works');
is(live_families($id2), 1, 'one live family: the new pair\'s');
error_is($s->token_login($e2, $p2), 401, $INVALID, '/token/login with the old password');
is($s->token_login($e2, $np2)->{status}, 200, '/token/login with the new password: 200');

# --- the lockout: 10 wrong current passwords lock the email everywhere
my ($c4, $e4, $p4) = user('chglock');
reset_counters($e4);
my @r = map { $c4->change_password("wrong-current-$_", unique_password()) } 1 .. 11;
is(statuses(@r), join(' ', (401) x 10, 429), '11 wrong current passwords: 401 x10, then 429');
error_is($r[$_], 401, $WRONG, 'wrong current password ' . ($_ + 1)) for 0, 9;
error_is($r[10], 429, $LOCKED, 'the 11th');
retry_after_ok($r[10], 1, 900, 'the 11th');
is(lockout_failures($e4), 10, 'bulwark.lockouts: 10 failures');
error_is($s->login($e4, $p4)->res, 429, $LOCKED, '/login with the right password: locked too');
error_is($s->token_login($e4, $p4), 429, $LOCKED, '/token/login with the right password: locked too');
my $h4 = psql_one('SELECT password_hash FROM bulwark.users WHERE email = ' . q_lit($e4));
error_is($c4->change_password($p4, unique_password()), 429, $LOCKED, '/me/password with the right current password: locked');
is(psql_one('SELECT password_hash FROM bulwark.users WHERE email = ' . q_lit($e4)), $h4, 'the hash is unchanged');

# and the other way: 10 failures on /login lock /me/password
my ($c5, $e5, $p5) = user('chglock2');
reset_counters($e5);
is(statuses(map { $s->login($e5, "wrong-login-$_")->res } 1 .. 10), join(' ', (401) x 10), '10 wrong passwords on /login');
error_is($c5->change_password($p5, unique_password()), 429, $LOCKED, 'then /me/password with the right current password: locked');
is_deeply([ $s->worker_pids ], \@workers, 'no worker died');
$s->log_clean_ok('password change');
$s->stop;

# --- the per-email rate limit is /login's: 5 a minute
my $t = start_stack(workers => 2, env => { BULWARK_LOGIN_EMAIL_LIMIT => 5, BULWARK_LOGIN_WINDOW => 60 });
reset_counters();
$s = $t;
my ($c6, $e6, $p6) = user('chgrate');
@r = map { $c6->change_password("wrong-current-$_", unique_password()) } 1 .. 5;
is(statuses(@r), join(' ', (401) x 5), '5 wrong current passwords: 401 x5');
my $h6 = psql_one('SELECT password_hash FROM bulwark.users WHERE email = ' . q_lit($e6));
$r = $c6->change_password($p6, unique_password());
error_is($r, 429, $TOO_MANY, 'the 6th attempt in the minute, with the right current password');
retry_after_ok($r, 1, 60, 'the 6th attempt');
is(psql_one('SELECT password_hash FROM bulwark.users WHERE email = ' . q_lit($e6)), $h6, 'the hash is unchanged');
error_is($t->login($e6, $p6)->res, 429, $TOO_MANY, '/login for that email: the same budget, spent');
my ($c7, $e7, $p7) = user('chgrate2');
is(statuses(map { $t->login($e7, "wrong-login-$_")->res } 1 .. 5), join(' ', (401) x 5), 'another email: 5 wrong passwords on /login');
error_is($c7->change_password($p7, unique_password()), 429, $TOO_MANY, 'then /me/password with the right current password');
$t->log_clean_ok('password change, rate limit');
done_testing;
