# Two-factor authentication, the whole life cycle through lighttpd and real
# workers (API.md "Two-factor authentication", login step 6).  Codes are
# computed for this machine's clock (the server's) by oathtool, a TOTP client
# no one here wrote.  Each user's codes are taken a step ahead of the last one
# used, since a step once accepted never works again.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);
reset_counters();

# A code that is not valid for any step within two of now.
sub wrong_code {
	my ($secret) = @_;
	my %near = map { totp_code($secret, time + 30 * $_) => 1 } -2 .. 2;
	my $c = 0;
	$c++ while $near{ sprintf '%06d', $c };
	return sprintf '%06d', $c;
}
sub totp_row { psql('SELECT encode(secret, \'hex\'), kid, encode(pending_secret, \'hex\'), pending_kid, last_step FROM bulwark.totp WHERE user_id = ' . q_lit($_[0]))->[0] }
sub login_with {
	my ($email, $pw, %body) = @_;
	my $c = $s->client;
	$s->secret($pw);
	$c->req(POST => '/login', body => { email => $email, password => $pw, %body });
	return $c;
}

# --- enable: a pending secret, shown once
my ($email, $pw, $id) = $s->new_user('tfa');
my $c = $s->login($email, $pw);
my $other = $s->login($email, $pw);    # a second browser, ended by enabling
is($c->res->{status}, 200, 'setup: logged in');

my $r = $c->req(POST => '/me/2fa/enable');
error_is($r, 403, 'Invalid CSRF token', 'enable without the CSRF header');
$r = $c->req(POST => '/me/2fa/enable', csrf => 1);
is($r->{status}, 200, 'enable: 200');
common_ok($r, 'enable');
my $secret = $r->{json}{secret} // '';
$s->secret($secret);
like($secret, qr/\A[A-Z2-7]{32}\z/, 'enable: a 160-bit base32 secret (32 characters)');
my $enc = $email =~ s/([^A-Za-z0-9._~@-])/sprintf('%%%02X', ord $1)/ger;
is($r->{json}{otpauthUrl}, "otpauth://totp/Bulwark%3A$enc?secret=$secret&issuer=Bulwark", 'enable: the otpauth:// URL');
my $row = totp_row($id);
ok($row && !defined $row->[0] && defined $row->[2], 'enable: stored as pending only');
is(psql_one('SELECT two_factor_enabled FROM bulwark.users WHERE id = ' . q_lit($id)), 'f', 'enable: 2FA still off until verified');
is($c->req(GET => '/me')->{json}{user}{twoFactorEnabled}, JSON::PP::false, 'GET /me: twoFactorEnabled false while pending');

# enabling again while pending replaces the secret
$r = $c->req(POST => '/me/2fa/enable', csrf => 1);
is($r->{status}, 200, 'enable again while pending: 200');
my $old_secret = $secret;
$secret = $r->{json}{secret} // '';
$s->secret($secret);
isnt($secret, $old_secret, 'enable again: a new secret');
my $t0 = time;
error_is($c->req(POST => '/me/2fa/verify', csrf => 1, body => { code => totp_code($old_secret, $t0) }), 400, 'Invalid two-factor code',
	'verify with the replaced secret\'s code');
error_is($c->req(POST => '/me/2fa/verify', csrf => 1, body => { code => wrong_code($secret) }), 400, 'Invalid two-factor code',
	'verify with a wrong code');
is(totp_row($id)->[0], undef, 'a wrong code enables nothing');

# --- verify: enabled, ten recovery codes, other sessions ended
my $mark = $s->log_mark;
$r = $c->req(POST => '/me/2fa/verify', csrf => 1, body => { code => totp_code($secret, $t0) });
is($r->{status}, 200, 'verify with a valid code: 200');
is($r->{json}{enabled}, JSON::PP::true, 'verify: enabled true');
my @rc = @{ ref $r->{json}{recoveryCodes} eq 'ARRAY' ? $r->{json}{recoveryCodes} : [] };
$s->secret(@rc);
is(scalar @rc, 10, 'verify: 10 recovery codes');
is(scalar(grep { /\A[A-Z2-7]{4}(-[A-Z2-7]{4}){3}\z/ } @rc), 10, 'each recovery code: 16 base32 characters in groups of 4');
is(scalar(keys %{ { map { $_ => 1 } @rc } }), 10, 'the recovery codes differ');
is(scalar($s->events($mark, 'twofa_enabled', userId => $id)), 1, 'twofa_enabled logged');
is($c->req(GET => '/me')->{json}{user}{twoFactorEnabled}, JSON::PP::true, 'GET /me: twoFactorEnabled true');
is($other->req(GET => '/me')->{status}, 401, 'the user\'s other session ended');
error_is($c->req(POST => '/me/2fa/enable', csrf => 1), 409, 'Two-factor authentication is already enabled', 'enable while enabled');
my $step0 = int($t0 / 30);
is(totp_row($id)->[4], $step0, 'the verified code\'s step is the last one used');

# --- nothing in clear in a dump
{
	my $dump = pg_dump_text();
	my $raw_hex = unpack 'H*', do {
		my %v; my $i = 0; $v{$_} = $i++ for ('A' .. 'Z', '2' .. '7');
		my $bits = join '', map { sprintf '%05b', $v{$_} } split //, $secret;
		pack 'B*', $bits;
	};
	ok(index($dump, $secret) < 0 && index(lc $dump, lc $secret) < 0, 'pg_dump: no TOTP secret in base32');
	ok(index($dump, $raw_hex) < 0, 'pg_dump: no TOTP secret in hex');
	ok(!grep({ my $x = $_; index($dump, $x) >= 0 || index($dump, $x =~ s/-//gr) >= 0 } @rc), 'pg_dump: no recovery code');
	is(psql_one('SELECT length(secret) FROM bulwark.totp WHERE user_id = ' . q_lit($id)), 48, 'stored: 12-byte nonce + 20 bytes + 16-byte tag');
	like(psql_one('SELECT kid FROM bulwark.totp WHERE user_id = ' . q_lit($id)), qr/\A[0-9a-f]{16}\z/, 'stored with its key id');
	is(psql_one('SELECT count(*) FROM bulwark.recovery_codes WHERE user_id = ' . q_lit($id)), 10, '10 recovery code hashes stored');
}

# --- login: step 6
$r = login_with($email, $pw)->res;
is($r->{status}, 401, 'login without a code: 401');
is($r->{json}{error}, 'Two-factor code required', 'login without a code: the error');
is($r->{json}{twoFactorRequired}, JSON::PP::true, 'login without a code: twoFactorRequired');
my $code1 = totp_code($secret, $t0 + 30);
$mark = $s->log_mark;
my $l = login_with($email, $pw, code => $code1);
is($l->res->{status}, 200, 'login with the next step\'s code: 200');
ok($l->session, 'login with a code: a session');
my $before = mail_queue_max_id();
$mark = $s->log_mark;
$r = login_with($email, $pw, code => $code1)->res;
error_is($r, 401, 'Invalid two-factor code', 'the same code again: refused');
is(scalar($s->events($mark, 'twofa_replay', userId => $id)), 1, 'the replay logged as twofa_replay');
my ($warn) = $s->wait_mail(to => $email, after_id => $before);
ok($warn && ($warn->{headers}{subject} // '') =~ /used two-factor code/, 'the replay mailed to the user') or diag explain $warn;
like($warn ? $warn->{body} : '', qr/127\.0\.0\.1/, 'the replay mail names the address');
error_is(login_with($email, $pw, code => totp_code($secret, $t0))->res, 401, 'Invalid two-factor code', 'an older code after a newer one: refused');
error_is(login_with($email, $pw, code => wrong_code($secret))->res, 401, 'Invalid two-factor code', 'a wrong code: refused');
error_is(login_with('x' . $email, $pw, code => $code1)->res, 401, 'Invalid email or password', 'another email: the ordinary 401');

# recovery codes: each once, typed any way
$l = login_with($email, $pw, code => $rc[0]);
is($l->res->{status}, 200, 'a recovery code logs in');
error_is(login_with($email, $pw, code => $rc[0])->res, 401, 'Invalid two-factor code', 'the same recovery code twice: refused');
is(login_with($email, $pw, code => lc($rc[1] =~ s/-//gr))->res->{status}, 200, 'a recovery code in lower case without dashes');
is(psql_one('SELECT count(*) FROM bulwark.recovery_codes WHERE used_at IS NOT NULL AND user_id = ' . q_lit($id)), 2, 'two recovery codes marked used');
# the token login takes a code the same way
$r = $s->token_login($email, $pw, code => $rc[2]);
is($r->{status}, 200, '/token/login with a recovery code: 200');
ok(defined $r->{json}{accessToken}, '/token/login with a code: a pair');
$r = $s->token_login($email, $pw);
is($r->{status}, 401, '/token/login without a code: 401');
is($r->{json}{twoFactorRequired}, JSON::PP::true, '/token/login without a code: twoFactorRequired');

# --- disable: password (on the login budget) and a code
my $d = login_with($email, $pw, code => $rc[3]);
is($d->res->{status}, 200, 'setup: logged in with a recovery code');
my $keep = login_with($email, $pw, code => $rc[4]);
my $fails = lockout_failures($email) // 0;
error_is($d->req(POST => '/me/2fa/disable', csrf => 1, body => { password => 'not-the-password', code => $rc[5] }), 401,
	'Invalid password', 'disable with a wrong password');
is(lockout_failures($email), $fails + 1, 'the wrong password counted toward the lockout');
error_is($d->req(POST => '/me/2fa/disable', csrf => 1, body => { password => $pw, code => wrong_code($secret) }), 400,
	'Invalid two-factor code', 'disable with a wrong code');
is(lockout_failures($email), $fails + 2, 'the wrong code counted toward the lockout');
issues_ok($d->req(POST => '/me/2fa/disable', csrf => 1, body => { password => $pw }), 'code', 'disable without a code');
$mark = $s->log_mark;
$r = $d->req(POST => '/me/2fa/disable', csrf => 1, body => { password => $pw, code => $rc[5] });
is($r->{status}, 200, 'disable with the password and a recovery code: 200');
is($r->{json}{enabled}, JSON::PP::false, 'disable: enabled false');
is($d->req(GET => '/me')->{json}{user}{twoFactorEnabled}, JSON::PP::false, 'GET /me: twoFactorEnabled false');
is($keep->req(GET => '/me')->{status}, 401, 'disabling ended the other session');
is(totp_row($id), undef, 'the secret is gone');
is(psql_one('SELECT count(*) FROM bulwark.recovery_codes WHERE user_id = ' . q_lit($id)), 0, 'the recovery codes are gone');
is(login_with($email, $pw)->res->{status}, 200, 'after disabling, the password alone logs in');
error_is($d->req(POST => '/me/2fa/disable', csrf => 1, body => { password => $pw, code => '123456' }), 409,
	'Two-factor authentication is not enabled', 'disable when not enabled');

# --- by bearer token: no CSRF, and a fresh pair beside the answer
{
	my ($be, $bp, $bid) = $s->new_user('tfa-bearer');
	my $pair = $s->token_pair($be, $bp, 'bearer');
	$r = $s->req(POST => '/me/2fa/enable', bearer => $pair->{accessToken});
	is($r->{status}, 200, 'bearer: enable');
	my $bs = $r->{json}{secret} // '';
	$s->secret($bs);
	$r = $s->req(POST => '/me/2fa/verify', bearer => $pair->{accessToken}, body => { code => totp_code($bs, time) });
	is($r->{status}, 200, 'bearer: verify');
	is(scalar @{ $r->{json}{recoveryCodes} || [] }, 10, 'bearer: 10 recovery codes');
	ok(defined $r->{json}{accessToken} && defined $r->{json}{refreshToken}, 'bearer: a fresh pair beside them');
	bearer_401_ok($s->req(GET => '/token/me', bearer => $pair->{accessToken}), 'bearer: the old access token is revoked', 1);
	is($s->req(GET => '/token/me', bearer => $r->{json}{accessToken})->{status}, 200, 'bearer: the new one works');
	is($s->refresh($pair->{refreshToken})->{status}, 401, 'bearer: the old refresh family is revoked');
}

# --- the operator's way back in: bulwark user 2fa-off
{
	my ($oe, $op, $oid) = $s->new_user('tfa-off');
	my $oc = $s->login($oe, $op);
	my $os = $oc->req(POST => '/me/2fa/enable', csrf => 1)->{json}{secret} // '';
	$s->secret($os);
	is($oc->req(POST => '/me/2fa/verify', csrf => 1, body => { code => totp_code($os, time) })->{status}, 200, '2fa-off: 2FA on');
	my $x = $s->bulwark_cmd('user', '2fa-off', '--email', $oe);
	is($x->{exit}, 0, 'bulwark user 2fa-off: exit 0') or diag "$x->{out}$x->{err}";
	like($x->{out}, qr/turned off for \Q$oe\E/, 'bulwark user 2fa-off: says so');
	is($oc->req(GET => '/me')->{status}, 401, '2fa-off: every session ended');
	is(totp_row($oid), undef, '2fa-off: the secret is gone');
	is(login_with($oe, $op)->res->{status}, 200, '2fa-off: the password alone logs in again');
	is($s->bulwark_cmd('user', '2fa-off', '--email', unique_email('nobody'))->{exit}, 3, 'bulwark user 2fa-off for no user: exit 3');
}

# --- wrong codes lock the account
{
	my $t = start_stack(workers => 1, env => { BULWARK_LOCKOUT_THRESHOLD => 3 });
	my ($le, $lp, $lid) = $t->new_user('tfa-lock');
	my $lc = $t->login($le, $lp);
	my $ls = $lc->req(POST => '/me/2fa/enable', csrf => 1)->{json}{secret} // '';
	$t->secret($ls);
	is($lc->req(POST => '/me/2fa/verify', csrf => 1, body => { code => totp_code($ls, time) })->{status}, 200, 'lock: 2FA on');
	psql('DELETE FROM bulwark.lockouts WHERE email = ' . q_lit($le));
	my $w = wrong_code($ls);
	my @st = map { my $x = $t->client; $x->req(POST => '/login', body => { email => $le, password => $lp, code => $w }); $x->res->{status} } 1 .. 3;
	is("@st", '401 401 401', 'lock: three wrong codes with the right password: 401 each');
	my $x = $t->client;
	$x->req(POST => '/login', body => { email => $le, password => $lp, code => totp_code($ls, time + 30) });
	error_is($x->res, 429, 'Account temporarily locked. Try again later.', 'lock: then even the right code is locked out');
	$t->stop;
}

# --- no data key: 503, nothing stored
{
	my $t = start_stack(workers => 1, env => { BULWARK_DATA_KEY => undef });
	my ($ne, $np, $nid) = $t->new_user('tfa-nokey');
	my $nc = $t->login($ne, $np);
	error_is($nc->req(POST => '/me/2fa/enable', csrf => 1), 503, 'Two-factor authentication is not configured', 'no data key: enable');
	is(totp_row($nid), undef, 'no data key: nothing stored');
	$t->stop;
}

$s->log_clean_ok('no secret, code or password in the log');
done_testing;
