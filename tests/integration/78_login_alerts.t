# New-login alerts (API.md "New-login alerts"): a successful login from an
# address never seen for the user (IPv6 by /64) logs suspicious_login and
# mails "a new sign-in to your account" with the address, the time and the
# user agent; the signup address counts as seen; each new address alerts once.
# The addresses come through a trusted proxy's X-Forwarded-For (lighttpd is
# the proxy here, so the test can be any client it likes).
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use BulwarkTest;

my $s = start_stack(workers => 2, env => { BULWARK_TRUSTED_PROXIES => '127.0.0.1/32' });
reset_counters();
my $SUBJECT = 'A new sign-in to your account';

sub from {
	my ($ip, $path, $email, $pw, %h) = @_;
	$s->secret($pw);
	my $c = $s->client;
	$c->req(POST => $path, body => { email => $email, password => $pw },
		headers => { 'X-Forwarded-For' => $ip, 'User-Agent' => $h{ua} // 'AlertTest/1.0' });
	return $c->res;
}
sub alerts { scalar grep { ($_->{headers}{subject} // '') eq $SUBJECT } $s->mails(to => $_[0]) }
# Waits until the work after the response is done: the login's address row.
sub seen {
	my ($id, $addr) = @_;
	return wait_until(sub {
		psql_one('SELECT count(*) FROM bulwark.login_addresses WHERE user_id = ' . q_lit($id) . ' AND address = ' . q_lit($addr)) == 1;
	}, 10, 0.05);
}
sub settle { sleep 0.5; $s->req(GET => '/health') }

my $email = unique_email('alert');
my $pw = unique_password();
my $mark = $s->log_mark;
my $r = from('198.51.100.7', '/signup', $email, $pw);
is($r->{status}, 201, 'signup from 198.51.100.7');
my $id = $r->{json}{user}{id};
is(psql_one('SELECT count(*) FROM bulwark.login_addresses WHERE user_id = ' . q_lit($id) . " AND address = '198.51.100.7'"), 1,
	'the signup address is recorded as seen');

is(from('198.51.100.7', '/login', $email, $pw)->{status}, 200, 'login from the signup address');
settle();
is(scalar($s->events($mark, 'suspicious_login')), 0, 'no suspicious_login for the signup address');
is(alerts($email), 0, 'no alert mailed for it');

$mark = $s->log_mark;
is(from('203.0.113.9', '/login', $email, $pw, ua => 'Mozilla/5.0 (X11; Alert test)')->{status}, 200, 'login from a new address');
ok(seen($id, '203.0.113.9'), 'the new address recorded');
my ($m) = $s->wait_mail(to => $email);
$m = (grep { ($_->{headers}{subject} // '') eq $SUBJECT } $s->wait_mail(to => $email, count => 2))[0] if !$m || ($m->{headers}{subject} // '') ne $SUBJECT;
ok($m, 'an alert mailed');
my $body = $m ? $m->{body} : '';
like($body, qr/Address: +203\.0\.113\.9/, 'the alert names the address');
like($body, qr{User agent: +Mozilla/5\.0 \(X11; Alert test\)}, 'the alert names the user agent');
like($body, qr/Time: +\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000/, 'the alert gives the time');
like($body, qr{/me/sessions}, 'the alert says how to end sessions');
my @ev = $s->events($mark, 'suspicious_login', userId => $id);
is(scalar @ev, 1, 'suspicious_login logged once');
is($ev[0]{ip}, '203.0.113.9', 'suspicious_login: the address');

is(from('203.0.113.9', '/login', $email, $pw)->{status}, 200, 'a second login from that address');
is(from('203.0.113.9', '/token/login', $email, $pw)->{status}, 200, 'and a token login from it');
settle();
is(alerts($email), 1, 'a known address alerts once only');

# two logins at once from one new address: one alert
my @res = parallel_barrier(6, sub {
	my ($i, $ready) = @_;
	my $x = $s->req(POST => '/login', body => { email => $email, password => $pw },
		headers => { 'X-Forwarded-For' => '203.0.113.50' }, before_last_byte => $ready);
	return $x->{status};
});
is("@res", '200 200 200 200 200 200', '6 concurrent logins from a new address');
ok(seen($id, '203.0.113.50'), 'recorded');
settle();
ok(wait_until(sub { alerts($email) == 2 }, 10, 0.1), 'exactly one alert for them (2 in all)') or diag 'alerts: ' . alerts($email);
settle();
is(alerts($email), 2, 'still 2 alerts');

# IPv6 counts by /64; token logins alert too
$mark = $s->log_mark;
is(from('2001:db8:1:2::1', '/token/login', $email, $pw)->{status}, 200, 'token login from 2001:db8:1:2::1');
ok(seen($id, '2001:db8:1:2::/64'), 'an IPv6 address is recorded as its /64');
is(from('2001:db8:1:2:ffff::9', '/login', $email, $pw)->{status}, 200, 'login from the same /64');
is(from('2001:db8:1:3::1', '/login', $email, $pw)->{status}, 200, 'login from another /64');
ok(seen($id, '2001:db8:1:3::/64'), 'the other /64 recorded');
ok(wait_until(sub { alerts($email) == 4 }, 10, 0.1), 'two more alerts: the first /64 and the other') or diag 'alerts: ' . alerts($email);
settle();
is(alerts($email), 4, 'the same /64 did not alert');
is(scalar($s->events($mark, 'suspicious_login', userId => $id)), 2, 'two suspicious_login events');

# a user made by the operator: the first login records, the next new address alerts
{
	my ($ae, $ap) = (unique_email('alert-cli'), unique_password());
	is(add_user($ae, $ap)->{exit}, 0, 'setup: bulwark user add');
	is(from('192.0.2.1', '/login', $ae, $ap)->{status}, 200, 'operator-made user: first login');
	my $aid = psql_one('SELECT id FROM bulwark.users WHERE email = ' . q_lit($ae));
	ok(seen($aid, '192.0.2.1'), 'its address recorded');
	settle();
	is(alerts($ae), 0, 'no alert for the first address ever');
	is(from('192.0.2.2', '/login', $ae, $ap)->{status}, 200, 'operator-made user: a second address');
	ok(wait_until(sub { alerts($ae) == 1 }, 10, 0.1), 'alerted');
}

# a failed login from a new address records nothing
is(from('198.51.100.99', '/login', $email, 'wrong-password-1')->{status}, 401, 'a wrong password from a new address');
settle();
is(psql_one('SELECT count(*) FROM bulwark.login_addresses WHERE user_id = ' . q_lit($id) . " AND address = '198.51.100.99'"), 0,
	'a failed login records no address');

$s->log_clean_ok('no password in the log');
done_testing;
