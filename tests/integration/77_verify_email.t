# Email verification (API.md "Email verification"): signup mails a link whose
# token is stored only as a hash, works once, for BULWARK_VERIFY_TTL; GET and
# POST /verify-email both verify; /verify-email/resend is limited per user;
# BULWARK_REQUIRE_EMAIL_VERIFICATION=1 gates the routes the contract lists.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $BAD = 'Invalid or expired verification token';
my $s = start_stack(workers => 2);
reset_counters();

sub verified { psql_one('SELECT email_verified FROM bulwark.users WHERE id = ' . q_lit($_[0])) }
# The verification link mailed to $email after mail id $after: (token, mail).
sub verify_mail {
	my ($st, $email, $after) = @_;
	my ($m) = grep { $_->{body} =~ m{/verify-email\?token=} } $st->wait_mail(to => $email, after_id => $after // 0);
	$m //= (grep { $_->{body} =~ m{/verify-email\?token=} } $st->mails(to => $email, after_id => $after // 0))[0];
	my ($tok) = $m ? $m->{body} =~ m{/verify-email\?token=([A-Za-z0-9_-]+)} : ();
	$st->secret($tok) if defined $tok;
	return ($tok, $m);
}

# --- signup mails the link; GET verifies once
my $before = mail_queue_max_id();
my ($email, $pw, $id) = $s->new_user('verify');
my ($tok, $m) = verify_mail($s, $email, $before);
ok(defined $tok, 'signup: a verification link is mailed');
like($tok // '', qr/\A[A-Za-z0-9_-]{43}\z/, 'the token: 43 base64url characters (256 bits)');
like($m ? $m->{body} : '', qr{^\Q@{[ $s->url ]}\E/verify-email\?token=}m, 'the link is built on BULWARK_PUBLIC_URL');
is($m ? $m->{headers}{subject} : '', 'Confirm your email address', 'the subject');
is(verified($id), 'f', 'not verified before the link is used');
ok(index(pg_dump_text(), $tok // 'none') < 0, 'the token is not in the database (only its hash)');
is(psql_one('SELECT count(*) FROM bulwark.email_verifications WHERE user_id = ' . q_lit($id)), 1, 'one token hash stored');

my $mark = $s->log_mark;
my $r = $s->req(GET => "/verify-email?token=$tok");
is($r->{status}, 200, 'GET /verify-email?token=: 200');
is_deeply($r->{json}, { verified => JSON::PP::true }, 'the answer: {"verified":true}');
common_ok($r, 'GET /verify-email');
is(verified($id), 't', 'the user is verified');
is(scalar($s->events($mark, 'email_verified', userId => $id)), 1, 'email_verified logged');
my $c = $s->login($email, $pw);
is($c->res->{json}{user}{emailVerified}, JSON::PP::true, 'the user object says emailVerified');
error_is($s->req(GET => "/verify-email?token=$tok"), 400, $BAD, 'the same token again');
error_is($s->req(POST => '/verify-email', body => { token => $tok }), 400, $BAD, 'the same token again by POST');

# --- POST, altered, malformed, missing
my $b2 = mail_queue_max_id();
my ($e2, $p2, $id2) = $s->new_user('verify-post');
my ($tok2) = verify_mail($s, $e2, $b2);
my $alt = substr($tok2, 0, -1) . (substr($tok2, -1) eq 'A' ? 'B' : 'A');
error_is($s->req(POST => '/verify-email', body => { token => $alt }), 400, $BAD, 'an altered token');
error_is($s->req(GET => '/verify-email?token=short'), 400, $BAD, 'a malformed token');
error_is($s->req(GET => '/verify-email'), 400, $BAD, 'no token');
issues_ok($s->req(POST => '/verify-email', body => {}), 'token', 'POST without a token');
issues_ok($s->req(POST => '/verify-email', body => { token => 42 }), 'token', 'POST with a number');
is($s->req(POST => '/verify-email', body => '{"token":', content_type => 'application/json')->{status}, 400, 'POST with bad JSON');
is(verified($id2), 'f', 'none of those verified');
$r = $s->req(POST => '/verify-email', body => { token => $tok2 });
is($r->{status}, 200, 'POST /verify-email {"token"}: 200');
is(verified($id2), 't', 'verified by POST');

# --- expired
{
	my $b3 = mail_queue_max_id();
	my ($e3, $p3, $id3) = $s->new_user('verify-old');
	my ($tok3) = verify_mail($s, $e3, $b3);
	psql("UPDATE bulwark.email_verifications SET expires_at = now() - interval '1 second' WHERE user_id = " . q_lit($id3));
	error_is($s->req(GET => "/verify-email?token=$tok3"), 400, $BAD, 'an expired token');
	is(verified($id3), 'f', 'an expired token verifies nothing');
}

# --- 20 at once with one token: one 200
{
	my $b4 = mail_queue_max_id();
	my ($e4, $p4, $id4) = $s->new_user('verify-race');
	my ($tok4) = verify_mail($s, $e4, $b4);
	my @res = parallel_barrier(20, sub {
		my ($i, $ready) = @_;
		return $s->req(POST => '/verify-email', body => { token => $tok4 }, before_last_byte => $ready)->{status};
	});
	is(scalar(grep { $_ eq '200' } @res), 1, '20 concurrent uses of one token: exactly one 200') or diag "@res";
	is(scalar(grep { $_ eq '400' } @res), 19, 'the others 400');
}

# --- resend: CSRF, a new link, the per-user limit, verified users
{
	my $b5 = mail_queue_max_id();
	my ($e5, $p5, $id5) = $s->new_user('resend');
	my $rc = $s->login($e5, $p5);
	error_is($rc->req(POST => '/verify-email/resend'), 403, 'Invalid CSRF token', 'resend without the CSRF header');
	my $after = mail_queue_max_id();
	$r = $rc->req(POST => '/verify-email/resend', csrf => 1);
	is($r->{status}, 200, 'resend: 200');
	is($r->{json}{message}, 'Verification email sent.', 'resend: the message');
	my ($tok5) = verify_mail($s, $e5, $after);
	ok(defined $tok5, 'resend: a new link mailed');
	is($rc->req(POST => '/verify-email/resend', csrf => 1)->{status}, 200, 'resend 2 of 3');
	is($rc->req(POST => '/verify-email/resend', csrf => 1)->{status}, 200, 'resend 3 of 3');
	$r = $rc->req(POST => '/verify-email/resend', csrf => 1);
	error_is($r, 429, 'Too many verification emails. Try again later.', 'resend 4 within the hour');
	retry_after_ok($r, 1, 3600, 'resend 4');
	my ($first) = verify_mail($s, $e5, $b5);
	is($s->req(GET => "/verify-email?token=$first")->{status}, 200, 'the first link still works after resends');
	$r = $rc->req(POST => '/verify-email/resend', csrf => 1);
	is($r->{json}{message}, 'Email already verified.', 'resend when verified: says so') or diag $r->{body};
	my $pair = $s->token_pair($e5, $p5);
	is($s->req(POST => '/verify-email/resend', bearer => $pair->{accessToken})->{status}, 200, 'resend by bearer: 200');
}

# --- BULWARK_REQUIRE_EMAIL_VERIFICATION=1
{
	my $t = start_stack(workers => 1, env => { BULWARK_REQUIRE_EMAIL_VERIFICATION => 1 });
	my $b6 = mail_queue_max_id();
	my ($e6, $p6, $id6) = $t->new_user('gate');
	my $g = $t->login($e6, $p6);
	is($g->res->{status}, 200, 'gate: an unverified user can log in');
	is($g->req(GET => '/me')->{status}, 200, 'gate: GET /me allowed');
	is($g->req(GET => '/me/sessions')->{status}, 200, 'gate: GET /me/sessions allowed');
	error_is($g->req(POST => '/me/password', csrf => 1, body => { currentPassword => $p6, newPassword => unique_password() }), 403,
		'Email not verified', 'gate: POST /me/password');
	error_is($g->req(POST => '/me/2fa/enable', csrf => 1), 403, 'Email not verified', 'gate: POST /me/2fa/enable');
	is($g->req(POST => '/verify-email/resend', csrf => 1)->{status}, 200, 'gate: /verify-email/resend allowed');
	my $pair = $t->token_pair($e6, $p6, 'gate');
	is($t->req(GET => '/token/me', bearer => $pair->{accessToken})->{status}, 200, 'gate: GET /token/me allowed');
	error_is($t->req(POST => '/me/2fa/enable', bearer => $pair->{accessToken}), 403, 'Email not verified', 'gate: bearer POST /me/2fa/enable');
	is($t->refresh($pair->{refreshToken})->{status}, 200, 'gate: /token/refresh allowed');
	my ($tok6) = verify_mail($t, $e6, $b6);
	is($t->req(GET => "/verify-email?token=$tok6")->{status}, 200, 'gate: the link verifies');
	is($g->req(POST => '/me/2fa/enable', csrf => 1)->{status}, 200, 'gate: once verified, POST /me/2fa/enable is allowed');
	my ($ae, $ap) = (unique_email('gate-cli'), unique_password());
	is(add_user($ae, $ap)->{exit}, 0, 'gate: bulwark user add');
	my $a = $t->login($ae, $ap);
	is($a->res->{json}{user}{emailVerified}, JSON::PP::true, 'gate: a user made by bulwark user add is verified');
	is($a->req(POST => '/logout', csrf => 1)->{status}, 200, 'gate: /logout');
	$t->stop;
}

$s->log_clean_ok('no token or password in the log');
done_testing;
