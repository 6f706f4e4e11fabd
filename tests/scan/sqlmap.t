# make scan: sqlmap against every route that takes input, through lighttpd
# and the real workers, on the throwaway cluster of tests/run.sh.  Each
# route is one sqlmap run with every input of it marked (*): the JSON
# body's fields, the path's :id, the Cookie, the User-Agent (stored with
# each session), X-Forwarded-For (trusted from lighttpd here, so it reaches
# the address parser) and the Authorization header where the route takes
# one.  A run passes when sqlmap ends with "all tested parameters do not
# appear to be injectable" and reports no injection point.
#
# SCAN_LEVEL, SCAN_RISK (default 5 and 3), SCAN_ROUTES (a regex on the
# route's name), SCAN_TIME_SEC (sqlmap's --time-sec, default 2) and
# SCAN_DBMS (default PostgreSQL) bound a run; docs/SECURITY.md has what
# one took.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use BulwarkTest;

my $LEVEL = $ENV{SCAN_LEVEL} // 5;
my $RISK  = $ENV{SCAN_RISK}  // 3;
my $ONLY  = $ENV{SCAN_ROUTES};
my $TSEC  = $ENV{SCAN_TIME_SEC} // 2;
# The payloads of the one database Bulwark runs on; SCAN_DBMS= (empty)
# tries every DBMS sqlmap knows (the measure of what the bound saves).
my $DBMS  = $ENV{SCAN_DBMS} // 'PostgreSQL';
my $sqlmap = (`sh -c 'command -v sqlmap'` // '') =~ s/\s+\z//r;
BAIL_OUT('sqlmap is not installed (make scan installs it)') unless $sqlmap;

my $s = start_stack(workers => 4, env => { BULWARK_TRUSTED_PROXIES => '127.0.0.1' });
my ($email, $pw, $uid) = $s->new_user('scan');
my $admin_email = unique_email('scanadmin');
my $admin_pw = unique_password();
my $r = add_user($admin_email, $admin_pw, 1);
is($r->{exit}, 0, 'setup: an admin') or diag $r->{err};
my $admin = $s->login($admin_email, $admin_pw);
is($admin->res->{status}, 200, 'setup: the admin logs in');
my $victim_id = $s->new_user('scanvictim') && psql_one('SELECT id FROM bulwark.users ORDER BY created_at DESC LIMIT 1');
my $user = $s->login($email, $pw);
my $pair = $s->token_pair($email, $pw, 'for the scan');
my $tok = $s->reset_token($email, 'for the scan');
# Two-factor routes: a user with 2FA on (codes from oathtool, for this
# machine's clock), and one with a verification link to spend.
my ($tfa_email, $tfa_pw) = $s->new_user('scan2fa');
my $tfa = $s->login($tfa_email, $tfa_pw);
my $tfa_secret = $tfa->req(POST => '/me/2fa/enable', csrf => 1)->{json}{secret} // '';
my $code = totp_code($tfa_secret, time - 30);
is($tfa->req(POST => '/me/2fa/verify', csrf => 1, body => { code => $code })->{status}, 200, 'setup: 2FA on for the scan');
my ($ve, $vp) = $s->new_user('scanverify');
my ($vtok) = map { $_->{body} =~ m{/verify-email\?token=([A-Za-z0-9_-]+)} } $s->wait_mail(to => $ve);
ok(defined $vtok, 'setup: a verification link for the scan');
my $pending = $s->login(($s->new_user('scanpending'))[0 .. 1]);
is($pending->req(POST => '/me/2fa/enable', csrf => 1)->{status}, 200, 'setup: 2FA pending for the scan');
my $ck_tfa = 'session=' . $tfa->session . '; csrf_token=' . $tfa->csrf;
my $ck_pending = 'session=' . $pending->session . '; csrf_token=' . $pending->csrf;
my $base = $s->url;
my $dir = $s->dir . '/sqlmap';
mkdir $dir;

my $ck_user  = 'session=' . $user->session . '; csrf_token=' . $user->csrf;
my $ck_admin = 'session=' . $admin->session . '; csrf_token=' . $admin->csrf;
my @common = ('-H', 'X-Forwarded-For: 203.0.113.7*', '--user-agent', 'bulwark-scan/1*');

# name, method, path, JSON body (or undef), extra sqlmap options
my @routes = (
	[ 'signup', 'POST', '/signup', qq({"email":"scan-new\@example.com*","password":"Scan-password-1*"}) ],
	[ 'login', 'POST', '/login', qq({"email":"$email*","password":"$pw*"}) ],
	[ 'token-login', 'POST', '/token/login', qq({"email":"$email*","password":"$pw*","code":"123456*"}) ],
	[ 'token-refresh', 'POST', '/token/refresh', qq({"refreshToken":"$pair->{refreshToken}*"}) ],
	[ 'forgot-password', 'POST', '/forgot-password', qq({"email":"$email*"}) ],
	[ 'reset-password', 'POST', '/reset-password', qq({"token":"$tok*","newPassword":"Scan-password-2*"}) ],
	[ 'me-password', 'POST', '/me/password', qq({"currentPassword":"$pw*","newPassword":"Scan-password-3*"}),
		[ '--cookie', "$ck_user*", '-H', 'X-CSRF-Token: ' . $user->csrf ] ],
	[ 'me-cookie', 'GET', '/me', undef, [ '--cookie', 'session=' . $user->session . '*' ] ],
	[ 'token-me', 'GET', '/token/me', undef, [ '-H', "Authorization: Bearer $pair->{accessToken}*" ] ],
	[ 'token-logout', 'POST', '/token/logout', qq({"refreshToken":"$pair->{refreshToken}*"}),
		[ '-H', "Authorization: Bearer $pair->{accessToken}*" ] ],
	[ 'users-list', 'GET', '/users', undef, [ '--cookie', "$ck_admin*" ] ],
	[ 'users-unlock', 'POST', "/users/$victim_id*/unlock", undef,
		[ '--cookie', $ck_admin, '-H', 'X-CSRF-Token: ' . $admin->csrf ] ],
	[ 'users-delete', 'DELETE', "/users/$victim_id*", undef,
		[ '--cookie', $ck_admin, '-H', 'X-CSRF-Token: ' . $admin->csrf ] ],
	[ 'verify-email-get', 'GET', "/verify-email?token=$vtok*", undef ],
	[ 'verify-email-post', 'POST', '/verify-email', qq({"token":"$vtok*"}) ],
	[ 'verify-resend', 'POST', '/verify-email/resend', undef,
		[ '--cookie', "$ck_user*", '-H', 'X-CSRF-Token: ' . $user->csrf ] ],
	[ '2fa-enable', 'POST', '/me/2fa/enable', undef,
		[ '--cookie', "$ck_pending*", '-H', 'X-CSRF-Token: ' . $pending->csrf ] ],
	[ '2fa-verify', 'POST', '/me/2fa/verify', qq({"code":"123456*"}),
		[ '--cookie', $ck_pending, '-H', 'X-CSRF-Token: ' . $pending->csrf ] ],
	[ '2fa-disable', 'POST', '/me/2fa/disable', qq({"password":"wrong-$tfa_pw*","code":"123456*"}),
		[ '--cookie', $ck_tfa, '-H', 'X-CSRF-Token: ' . $tfa->csrf ] ],
	[ 'login-2fa', 'POST', '/login', qq({"email":"$tfa_email*","password":"$tfa_pw*","code":"123456*"}) ],
	[ 'sessions-list', 'GET', '/me/sessions', undef, [ '--cookie', "$ck_user*" ] ],
	[ 'sessions-delete', 'DELETE', '/me/sessions/00000000-0000-4000-8000-000000000000*', undef,
		[ '--cookie', $ck_user, '-H', 'X-CSRF-Token: ' . $user->csrf ] ],
);

my ($total, @figures) = (0);
for my $rt (@routes) {
	my ($name, $method, $path, $body, $extra) = @$rt;
	next if defined $ONLY && $name !~ /$ONLY/;
	my @cmd = ($sqlmap, '-u', "$base$path", '--method', $method,
		(defined $body ? ('--data', $body, '-H', 'Content-Type: application/json') : ()),
		@common, @{ $extra || [] },
		'--level', $LEVEL, '--risk', $RISK, (length $DBMS ? ('--dbms', $DBMS) : ()), '--time-sec', $TSEC,
		'--batch', '--flush-session', '--disable-coloring', '--skip-waf',
		'--ignore-code', '400,401,403,404,405,409,413,415,429',
		'--output-dir', "$dir/$name", '--answers', 'custom injection marker=Y,keep testing=Y');
	# The file's watchdog (BulwarkTest: 150 s), per route here.
	alarm($ENV{SCAN_ROUTE_TIMEOUT} || 1800);
	my $t0 = time;
	my $out = `@{[ join ' ', map { quotemeta } @cmd ]} 2>&1`;
	my $secs = time - $t0;
	$total += $secs;
	if (open(my $fh, ">", "$dir/$name.log")) { print $fh $out; close $fh }
	my $tests = () = $out =~ /\[INFO\] testing '/g;
	# sqlmap's verdict, not its intermediate hints: a candidate ("appears
	# to be ... injectable") that its own false-positive check then drops
	# is counted and shown, but it is not a finding.
	my $found = $out =~ /identified the following injection point|parameter '[^']*' is vulnerable/;
	my $clean = $out =~ /all tested parameters do not appear to be injectable/;
	my @cand = $out =~ /^(.*appears to be '.*' injectable.*)$/mg;
	my $fp = () = $out =~ /false positive or unexploitable injection point detected/g;
	diag "$name: candidate rejected by sqlmap's false-positive check: $_" for $fp ? @cand : ();
	ok(!$found && $clean, sprintf('%s %s: no injection (%d payload families, %.0f s)', $method, $path =~ s/\*//gr, $tests, $secs))
	  or diag join "\n", grep { /CRITICAL|ERROR|WARNING.*(injectable|vulnerable)|injection point|Parameter:|Type:/ } split /\n/, $out;
	ok($tests > 0, "$name: sqlmap did test ($tests)");
	push @figures, sprintf('%-16s %6.0f s %5d payload families%s', $name, $secs, $tests,
		$fp ? ", $fp candidate(s) rejected as false positives" : '');
}
diag "sqlmap --level $LEVEL --risk $RISK --dbms '$DBMS' --time-sec $TSEC:";
diag "  $_" for @figures;
diag sprintf('  total %.0f s', $total);
is_deeply([ grep { !proc_alive($_) } $s->worker_pids ], [], 'no worker died');
done_testing;
