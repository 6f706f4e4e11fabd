# The per-IP login limit and X-Forwarded-For (API.md "Configuration":
# BULWARK_TRUSTED_PROXIES is the only way X-Forwarded-For is believed; README
# "Client IP": the right-most entry that is not a trusted proxy, garbage ends
# the walk, addresses canonicalised).
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $TOO_MANY = 'Too many login attempts. Try again later.';
my $INVALID  = 'Invalid email or password';
my $PEER     = '127.0.0.1';

my $s = start_stack(workers => 2, env => { %CONTRACT_LOGIN_LIMITS, BULWARK_TRUSTED_PROXIES => undef });

sub ip_keys { rate_limit_keys('login:ip:%') }

# One wrong login with the given X-Forwarded-For (undef: none); returns the
# response and the login_failed log line it caused.
sub login_via {
	my ($xff) = @_;
	my $email = unique_email('xff');
	my $mark  = $s->log_mark;
	my $r = $s->req(POST => '/login', body => { email => $email, password => 'wrong-password' },
		headers => { defined $xff ? ('X-Forwarded-For' => $xff) : () });
	my ($line) = $s->events($mark, 'login_failed', email => $email);
	return ($r, $line // {});
}

sub random_ip { join '.', 1 + int(rand(223)), map { int(rand(256)) } 1 .. 3 }

# --- an untrusted peer: X-Forwarded-For is ignored
reset_counters();
my %seen;
my @xffs = grep { !$seen{$_}++ } map { random_ip() } 1 .. 40;
@xffs = @xffs[ 0 .. 24 ];
my (@st, @ips);
for my $x (@xffs) {
	my ($r, $l) = login_via($x);
	push @st, $r->{status};
	push @ips, $l->{ip} // '(no login_failed line)' if $r->{status} == 401;
	error_is($r, 429, $TOO_MANY, '21st login with a fresh X-Forwarded-For') if @st == 21;
}
is(join(' ', @st), join(' ', (401) x 20, (429) x 5), 'untrusted peer: 25 logins, each with a new X-Forwarded-For: 401 x20, then 429');
is_deeply(\@ips, [ ($PEER) x 20 ], "untrusted peer: every login_failed line has ip $PEER");
is_deeply(ip_keys(), ["login:ip:$PEER"], "untrusted peer: one IP key, login:ip:$PEER");
is(rate_limit_count("login:ip:$PEER"), 25, 'counting all 25');

# --- a trusted proxy: the header is believed
$s->restart_workers(env => { BULWARK_TRUSTED_PROXIES => '127.0.0.1/32' });
reset_counters();
my ($r, $l) = login_via('203.0.113.7');
error_is($r, 401, $INVALID, 'trusted proxy: a login with X-Forwarded-For');
is($l->{ip}, '203.0.113.7', 'trusted proxy: the log ip is the forwarded address');
is_deeply(ip_keys(), ['login:ip:203.0.113.7'], 'trusted proxy: the key is login:ip:<forwarded address>');
is(rate_limit_count('login:ip:203.0.113.7'), 1, 'count 1');

reset_counters();
@st = map { (login_via($_))[0]{status} } @xffs;
is(join(' ', @st), join(' ', (401) x 25), 'trusted proxy: 25 logins with distinct X-Forwarded-For: all 401 (each its own key)');
is_deeply(ip_keys(), [ sort map { "login:ip:$_" } @xffs ], 'a login:ip row per address, none for the proxy');

($r, $l) = login_via(undef);
is($l->{ip}, $PEER, 'trusted proxy, no X-Forwarded-For: the peer address');

# the right-most entry that is not a trusted proxy; [X-Forwarded-For, log ip,
# name, key (default: the log ip)]: per-IP limits key IPv6 by its /64.
my @cases = (
	[ '1.2.3.4, 5.6.7.8'  => '5.6.7.8',     'two entries: the right-most' ],
	[ '1.2.3.4,5.6.7.8'   => '5.6.7.8',     'two entries without a space' ],
	[ '5.6.7.8, 127.0.0.1' => '5.6.7.8',    'a trusted proxy on the right is skipped' ],
	[ 'nonsense'          => $PEER,         'garbage' ],
	[ '1.2.3.4, <script>' => $PEER,         'garbage on the right' ],
	[ '999.1.2.3'         => $PEER,         'an out-of-range address' ],
	[ '1.2.3.4:8080'      => $PEER,         'an address with a port' ],
	[ ''                  => $PEER,         'an empty header' ],
	[ '2001:DB8::1'       => '2001:db8::1', 'IPv6, canonicalised', '2001:db8::/64' ],
	[ '2001:0db8:0000:0000:0000:0000:0000:0001' => '2001:db8::1', 'IPv6 written out, canonicalised', '2001:db8::/64' ],
	[ '::ffff:198.51.100.9' => '198.51.100.9', 'IPv4-mapped IPv6 is the IPv4 address' ],
);
sub check_cases {
	my ($label, @c) = @_;
	for my $c (@c) {
		my ($xff, $want, $name, $key) = @$c;
		$key //= $want;
		reset_counters();
		my ($res, $line) = login_via($xff);
		is($res->{status}, 401, "$label, $name ('$xff'): 401");
		is_deeply(ip_keys(), ["login:ip:$key"], "$label, $name ('$xff'): key login:ip:$key");
		is($line->{ip}, $want, "$label, $name: log ip $want");
	}
}
check_cases('trusted 127.0.0.1/32', @cases);

# IPv6 clients are keyed by their /64: two addresses in one /64 share a key
# (and its count), another /64 has its own; the log keeps the full address.
reset_counters();
my @v6 = map { [ $_, login_via($_) ] } '2001:db8:0:1::1', '2001:db8:0:1::2', '2001:db8:0:2::1';
is_deeply([ map { $_->[1]{status} } @v6 ], [ 401, 401, 401 ], 'IPv6 /64: three logins, all 401');
is_deeply([ map { $_->[2]{ip} // '(no login_failed line)' } @v6 ], [ '2001:db8:0:1::1', '2001:db8:0:1::2', '2001:db8:0:2::1' ],
	'IPv6 /64: each login_failed line has the full address');
is_deeply(ip_keys(), [ 'login:ip:2001:db8:0:1::/64', 'login:ip:2001:db8:0:2::/64' ], 'IPv6 /64: two keys, one per /64');
is(rate_limit_count('login:ip:2001:db8:0:1::/64'), 2, 'IPv6 /64: 2001:db8:0:1::1 and ::2 share login:ip:2001:db8:0:1::/64, count 2');
is(rate_limit_count('login:ip:2001:db8:0:2::/64'), 1, 'IPv6 /64: 2001:db8:0:2::1 has its own key, count 1');

# an IPv4 address is keyed as itself (no prefix)
reset_counters();
my @v4 = map { [ login_via($_) ] } '198.51.100.20', '198.51.100.21';
is_deeply([ map { $_->[0]{status} } @v4 ], [ 401, 401 ], 'IPv4: two logins from neighbouring addresses, both 401');
is_deeply(ip_keys(), [ 'login:ip:198.51.100.20', 'login:ip:198.51.100.21' ], 'IPv4: each address is its own key, no prefix');
is(rate_limit_count('login:ip:198.51.100.20'), 1, 'IPv4: count 1 for 198.51.100.20');

# the /64 shares the limit: 20 logins spread over one /64 use up its budget
reset_counters();
@st = map { (login_via(sprintf('2001:db8:0:3::%x', $_)))[0]{status} } 1 .. 21;
is(join(' ', @st), join(' ', (401) x 20, 429), 'IPv6 /64: 21 logins from 21 addresses in one /64: 401 x20, then 429');
is(rate_limit_count('login:ip:2001:db8:0:3::/64'), 21, 'IPv6 /64: all 21 counted on login:ip:2001:db8:0:3::/64');
is((login_via('2001:db8:0:4::1'))[0]{status}, 401, 'IPv6 /64: the next /64 is not limited');

# several trusted proxies
$s->restart_workers(env => { BULWARK_TRUSTED_PROXIES => '127.0.0.1/32,10.0.0.0/8' });
check_cases('trusted 127.0.0.1/32,10.0.0.0/8',
	[ '1.2.3.4, 10.1.1.1'           => '1.2.3.4', 'a trusted hop on the right is skipped' ],
	[ '9.9.9.9, 1.2.3.4, 10.1.1.1, 10.2.3.4' => '1.2.3.4', 'two trusted hops skipped, no further' ],
	[ '1.2.3.4, 11.1.1.1'           => '11.1.1.1', '11.1.1.1 is outside 10.0.0.0/8' ],
	[ '1.2.3.4, junk, 10.1.1.1'     => $PEER,      'garbage behind a trusted hop' ],
);

reset_counters();
$s->log_clean_ok('forwarded-for');
done_testing;
