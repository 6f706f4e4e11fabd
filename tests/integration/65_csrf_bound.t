# The CSRF token is bound to the session (API.md "CSRF": OWASP's signed
# double-submit cookie): for a session request the only valid token is the one
# the server derives from that session. A planted cookie, another session's
# pair or the anonymous random token fails even when header and cookie are
# equal; /signup and /login set the session's token, and a session request
# whose cookie is missing or wrong gets the right one set again. Also: a
# session cookie presented to /login is ended when the new session is made.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use BulwarkTest;

my $BAD = 'Invalid CSRF token';
my $s = start_stack(workers => 4);
my @workers = $s->worker_pids;
my $ROUNDS = 8;

sub random_token { b64url(join '', map { chr int rand 256 } 1 .. 32) }
my $rejected = 0;    # 403s made, to match the csrf_rejected lines
my %paths;
sub refused {
	my ($r, $name, $path) = @_;
	$rejected++;
	$paths{$path}++;
	error_is($r, 403, $BAD, $name);
}
sub set_csrf { my ($r) = @_; my $c = $r->{cookies}{csrf_token}; $c && !cookie_cleared($c) ? $c->{value} : undef }

my $mark = $s->log_mark;

# --- the token is set by /signup and /login and changes with every session
my ($email, $pw) = (unique_email('csrf'), unique_password());
my $su = $s->signup($email, $pw);
is($su->res->{status}, 201, 'setup: signup') or die "signup does not work\n";
my $uid = $su->res->{json}{user}{id};
my $ck = $su->res->{cookies}{csrf_token};
ok($ck && $ck->{value} =~ $B64URL_43, 'signup sets csrf_token: 43 base64url characters');
$ck ||= { attrs => {}, value => '' };
ok(!$ck->{attrs}{httponly} && $ck->{attrs}{secure} && ($ck->{attrs}{samesite} // '') eq 'Lax' && ($ck->{attrs}{path} // '') eq '/'
	  && ($ck->{attrs}{'max-age'} // '') eq '86400', 'signup csrf_token: SameSite=Lax; Path=/; Max-Age=86400; Secure; not HttpOnly')
  or diag $ck->{raw};

my $u1 = $s->login($email, $pw);
my $u2 = $s->login($email, $pw);
ok(set_csrf($u1->res) && set_csrf($u2->res), 'each login sets csrf_token');
my %distinct = map { ($_ // '') => 1 } $su->csrf, $u1->csrf, $u2->csrf;
is(scalar keys %distinct, 3, 'signup and two logins of one user: three different CSRF tokens');
ok(!grep({ $_->csrf eq $_->session } $su, $u1, $u2), 'a CSRF token is not its session id');

my @anon = map { set_csrf($s->req(GET => '/health')) } 1 .. 2;
ok(defined $anon[0] && defined $anon[1] && $anon[0] =~ $B64URL_43 && $anon[1] =~ $B64URL_43, 'without a session: a csrf_token is set');
isnt($anon[0], $anon[1], 'without a session the token is random (two requests, two tokens)');

# an anonymous client's random token is replaced by its session's at login
my $ac = $s->client;
$ac->req(GET => '/health');
my $anon_tok = $ac->csrf;
$s->login($email, $pw, client => $ac);
ok(defined set_csrf($ac->res) && set_csrf($ac->res) ne ($anon_tok // ''), "login replaces the client's anonymous token");

# --- an admin session, on a harmless state-changing route
my ($admin_email, $admin_pw) = (unique_email('csrfadmin'), unique_password());
$s->secret($admin_pw);
is(add_user($admin_email, $admin_pw, 1)->{exit}, 0, 'setup: an admin');
my $adm  = $s->login($admin_email, $admin_pw);
my $adm2 = $s->login($admin_email, $admin_pw);
is($adm->res->{status}, 200, 'setup: admin login');
my $right = $adm->csrf;
my $sess  = $adm->session;
my $unlock = "/users/$uid/unlock";
sub as_admin {
	my (%o) = @_;
	return $s->req(POST => $unlock, cookies => { session => $sess, (exists $o{cookie} ? (defined $o{cookie} ? (csrf_token => $o{cookie}) : ()) : (csrf_token => $right)) },
		headers => { defined $o{header} ? ('X-CSRF-Token' => $o{header}) : () });
}

my $r = as_admin(header => $right);
is($r->{status}, 200, 'the right pair passes (POST /users/:id/unlock)');
is_deeply($r->{json}, { ok => JSON::PP::true }, '... {"ok":true}');

refused(as_admin(), 'no X-CSRF-Token', $unlock);
refused(as_admin(header => random_token()), 'a wrong X-CSRF-Token', $unlock);
refused(as_admin(header => $right . 'x'), 'the right token with a byte more', $unlock);
$r = as_admin(header => $right, cookie => undef);
refused($r, 'the right header but no csrf_token cookie', $unlock);
is(set_csrf($r), $right, '... and the response sets the right csrf_token again');
my $planted = random_token();
$r = as_admin(header => $planted, cookie => $planted);
refused($r, 'a planted 43-character cookie and the same header', $unlock);
is(set_csrf($r), $right, '... and the response sets the right csrf_token again');
refused(as_admin(header => $right, cookie => $planted), 'the right header, a planted cookie', $unlock);
refused(as_admin(header => $planted, cookie => $right), 'the right cookie, a planted header', $unlock);
refused(as_admin(header => $adm2->csrf, cookie => $adm2->csrf), "another session's pair (the same admin's second session)", $unlock);
refused(as_admin(header => $u1->csrf, cookie => $u1->csrf), "another user's session's pair", $unlock);
refused(as_admin(header => $anon[0], cookie => $anon[0]), 'an anonymous random pair', $unlock);
refused(as_admin(header => $sess, cookie => $sess), 'the session id itself as the pair', $unlock);
refused(as_admin(header => lc $right, cookie => lc $right), 'the right token lower-cased', $unlock) if lc $right ne $right;
is(as_admin(header => $right)->{status}, 200, 'the right pair still passes after the refusals');

# the right token is set again when the cookie is missing or differs, the same on every worker, and passes
my @reset = map { set_csrf($s->req(GET => '/me', cookies => { session => $sess })) } 1 .. $ROUNDS;
is_deeply(\@reset, [ ($right) x $ROUNDS ], "GET /me with the session but no csrf_token: the session's token set again, by every worker");
$r = $s->req(GET => '/me', cookies => { session => $sess, csrf_token => $planted });
is($r->{status}, 200, 'GET /me with a planted csrf_token: 200');
is(set_csrf($r), $right, "... and the session's token is set in its place");
my $fixed = $s->client;
$fixed->set_cookie(session => $sess);
$fixed->req(GET => '/me');
is($fixed->csrf, $right, 'a client with only the session cookie gets the token');
is($fixed->req(POST => $unlock, csrf => 1)->{status}, 200, '... and that token passes');

# the derivation survives a restart (a server-side key, not per process)
$s->restart_workers;
@workers = $s->worker_pids;
is(as_admin(header => $right)->{status}, 200, 'after the workers restart the pair still passes');

# --- DELETE /users/:id and POST /logout
my ($ve, $vp, $vid) = $s->new_user('csrfvictim');
my $del = "/users/$vid";
sub as_admin_delete {
	my (%o) = @_;
	$s->req(DELETE => $del, cookies => { session => $sess, csrf_token => $o{cookie} }, headers => { defined $o{header} ? ('X-CSRF-Token' => $o{header}) : () });
}
refused(as_admin_delete(cookie => $right), 'DELETE /users/:id without X-CSRF-Token', $del);
refused(as_admin_delete(cookie => $planted, header => $planted), 'DELETE /users/:id with a planted pair', $del);
refused(as_admin_delete(cookie => $adm2->csrf, header => $adm2->csrf), "DELETE /users/:id with another session's pair", $del);
is(psql_one('SELECT count(*) FROM bulwark.users WHERE id = ' . q_lit($vid)), 1, 'the refused deletes deleted nothing');
$r = as_admin_delete(cookie => $right, header => $right);
is($r->{status}, 200, 'DELETE /users/:id with the right pair: 200');

refused($u1->req(POST => '/logout'), 'POST /logout without X-CSRF-Token', '/logout');
refused($u1->req(POST => '/logout', cookies => { csrf_token => $planted }, headers => { 'X-CSRF-Token' => $planted }), 'POST /logout with a planted pair', '/logout');
refused($u1->req(POST => '/logout', cookies => { csrf_token => $u2->csrf }, headers => { 'X-CSRF-Token' => $u2->csrf }),
	"POST /logout with the same user's other session's pair", '/logout');
is($u1->req(GET => '/me')->{status}, 200, 'the session survives the refused logouts');
is($u1->req(POST => '/logout', csrf => 1)->{status}, 200, 'POST /logout with the right pair: 200');
is($su->req(POST => '/logout', csrf => 1)->{status}, 200, "the signup session's token passes its logout");
my $again = $s->login($email, $pw);
ok(!grep({ ($again->csrf // '') eq ($_ // '') } $u1->csrf, $u2->csrf, $su->csrf), 'a login after logouts: yet another token');

# --- every refusal is logged, with path and ip
my @lines = $s->wait_log(sub { (grep { ($_->{event} // '') eq 'csrf_rejected' } @_) >= $rejected }, since => $mark);
my @cr = grep { ($_->{event} // '') eq 'csrf_rejected' } @lines;
is(scalar @cr, $rejected, "one csrf_rejected line per refusal ($rejected)");
ok(!grep({ ($_->{ip} // '') ne '127.0.0.1' } @cr), 'csrf_rejected: ip');
my %logged;
$logged{ $_->{path} // '(none)' }++ for @cr;
is_deeply(\%logged, \%paths, 'csrf_rejected: the path of each refusal');

# --- an Authorization header never lets a session request skip the CSRF check
{
	my ($xe, $xp, $xid) = $s->new_user('csrfmixed');
	my $xdel = "/users/$xid";
	my $ut = $s->token_login($email, $pw)->{json}{accessToken} // 'none';
	for my $case ([ 'Bearer not-a-token' => 'a garbage bearer' ], [ "Bearer $ut" => "a (non-admin) user's valid bearer" ],
		[ 'Basic YWRtaW46YWRtaW4=' => 'Basic credentials' ], [ 'Bearer ' => 'an empty bearer' ])
	{
		my $xr = $s->req(DELETE => $xdel, cookies => { session => $sess, csrf_token => $right }, headers => { Authorization => $case->[0] });
		ok($xr->{status} == 401 || $xr->{status} == 403, "the admin's session cookie plus $case->[1], no X-CSRF-Token: refused (401 or 403)")
		  or diag "$xr->{status} $xr->{body}";
	}
	is(psql_one('SELECT count(*) FROM bulwark.users WHERE id = ' . q_lit($xid)), 1, '... and nothing was deleted');
}

# --- a bearer request needs no X-CSRF-Token
{
	my $tr = $s->token_login($admin_email, $admin_pw);
	is($tr->{status}, 200, 'setup: the admin logs in with /token/login');
	my $br = $s->req(POST => $unlock, bearer => ($tr->{json}{accessToken} // 'none'));
	is($br->{status}, 200, 'POST /users/:id/unlock with a bearer token and no X-CSRF-Token: 200');
}

# --- a session cookie presented to /login is ended by the new session
{
	my $old = $s->login($email, $pw);
	my $old_sess = $old->session;
	my $old_csrf = $old->csrf;
	$r = $s->login($email, "$pw-wrong", client => $old)->res;
	is($r->{status}, 401, 'a failed login carrying a session cookie: 401');
	is($s->req(GET => '/me', cookies => { session => $old_sess })->{status}, 200, '... and that session lives on (no new session was made)');
	my $new = $s->login($email, $pw, client => $old);
	is($new->res->{status}, 200, 'login carrying a session cookie: 200');
	my $new_sess = $new->session;
	ok($new_sess && $new_sess ne $old_sess, 'a new session id');
	error_is($s->req(GET => '/me', cookies => { session => $old_sess }), 401, 'Unauthorized', 'the carried session is ended');
	is(scalar @{ session_rows_for_cookie($old_sess) }, 0, 'its row is gone');
	is($s->req(GET => '/me', cookies => { session => $new_sess })->{status}, 200, 'the new session works');
	isnt($new->csrf, $old_csrf, 'the new session has a new CSRF token');
	is($new->req(POST => '/logout', csrf => 1)->{status}, 200, "the new session's token passes");

	# the cookie of another user's session, presented to /login, is ended too
	my $other = $s->login($admin_email, $admin_pw);
	my $other_sess = $other->session;
	my $c = $s->client;
	$c->set_cookie(session => $other_sess);
	is($s->login($email, $pw, client => $c)->res->{status}, 200, "login carrying another user's session cookie: 200");
	is($s->req(GET => '/me', cookies => { session => $other_sess })->{status}, 401, 'that session is ended');
}

is_deeply([ $s->worker_pids ], \@workers, 'no worker died');
$s->log_clean_ok('csrf');
done_testing;
