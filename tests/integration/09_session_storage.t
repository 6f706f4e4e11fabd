# What bulwark.sessions holds: SHA-256 of the cookie, never the cookie itself.
use strict;
use warnings;
use Test::More;
use BulwarkTest;
use MIME::Base64 ();

my $s = start_stack(workers => 2);

my $email = unique_email('store');
my $pw    = unique_password();
my $ua    = "BulwarkTest-UA/9.9 ($$)";
my $c     = $s->client;
my $r     = $c->req(POST => '/signup', body => { email => $email, password => $pw }, headers => { 'User-Agent' => $ua });
$s->secret($pw);
is($r->{status}, 201, 'setup: signup') or die "signup does not work\n";
my $uid = $r->{json}{user}{id};
my $c2 = $s->client;
$r = $c2->req(POST => '/login', body => { email => $email, password => $pw }, headers => { 'User-Agent' => $ua });
is($r->{status}, 200, 'setup: login');

my @cookies = ($c->session, $c2->session);
ok(defined $cookies[0] && defined $cookies[1] && $cookies[0] ne $cookies[1], 'two different session cookies');

is(psql_one('SELECT count(*) FROM bulwark.sessions WHERE user_id = ' . q_lit($uid)), 2, 'two session rows for the user');
for my $v (@cookies) {
	my $rows = psql('SELECT user_id, octet_length(id_hash), ip::text, user_agent, '
		  . 'extract(epoch FROM expires_at - now())::int, extract(epoch FROM now() - last_seen_at)::int '
		  . 'FROM bulwark.sessions WHERE id_hash = decode(' . q_lit(sha256_hex($v)) . q{, 'hex')});
	is(scalar @$rows, 1, 'a row whose id_hash is SHA-256 of the cookie value');
	my $row = $rows->[0] || [];
	is($row->[0], $uid, 'it belongs to the user');
	is($row->[1], 32, 'id_hash is 32 bytes');
	like($row->[2] // '', qr{\A127\.0\.0\.1(/32)?\z}, 'ip is the client address');
	is($row->[3], $ua, 'user_agent is the request User-Agent');
	ok(defined $row->[4] && abs($row->[4] - 86400) < 120, 'expires_at is 24 h ahead');
	ok(defined $row->[5] && $row->[5] < 60, 'last_seen_at is now');
}

# Neither the cookie nor any encoding of it anywhere in the bulwark schema.
my $tables = psql(q{SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables }
	  . q{WHERE table_schema = 'bulwark' AND table_type = 'BASE TABLE'});
ok(@$tables >= 2, 'tables of the bulwark schema: ' . join(' ', map { $_->[0] } @$tables));
for my $v (@cookies) {
	my $hex = unpack('H*', $v);
	my @hits;
	for my $t (map { $_->[0] } @$tables) {
		my $n = psql_one("SELECT count(*) FROM $t x WHERE position(" . q_lit($v) . ' IN x::text) > 0 OR position('
			  . q_lit($hex) . ' IN x::text) > 0 OR position(' . q_lit(lc $v) . ' IN lower(x::text)) > 0');
		push @hits, $t if $n;
	}
	ok(!@hits, 'the session cookie is stored nowhere in clear' . (@hits ? " (found in @hits)" : ''));
}

# A row with the hash of a cookie the server never issued authenticates nobody
# ... and a client that presents the hash itself as the cookie gets nothing.
my $hash_hex = sha256_hex($cookies[0]);
$r = $s->req(GET => '/me', cookies => { session => $hash_hex });
is($r->{status}, 401, 'presenting the stored hash (hex) as the cookie: 401');

# The lookup is by SHA-256 of the presented value: re-key the second session
# to the hash of another value (shaped like the issued ones: the base64url
# of 32 random bytes), and that value becomes the session.
my $forged = MIME::Base64::encode_base64url(join('', map { chr int rand 256 } 1 .. 32));
is(length $forged, length $cookies[0], 'a forged value as long as the issued ones');
psql('UPDATE bulwark.sessions SET id_hash = decode(' . q_lit(sha256_hex($forged)) . q{, 'hex') WHERE id_hash = decode(}
	  . q_lit(sha256_hex($cookies[1])) . q{, 'hex')});
$r = $s->req(GET => '/me', cookies => { session => $forged });
is($r->{status}, 200, 'a row keyed by sha256(value) authenticates that value');
is($r->{json}{user}{id}, $uid, 'as its user');
is($s->req(GET => '/me', cookies => { session => $cookies[1] })->{status}, 401, 'and the old value no longer does');

# last_seen_at: written when over a minute old, and not on every request (the
# hot path reads only).
my $where = q{WHERE id_hash = decode(} . q_lit(sha256_hex($forged)) . q{, 'hex')};
psql("UPDATE bulwark.sessions SET last_seen_at = now() - interval '5 minutes' $where");
is($s->req(GET => '/me', cookies => { session => $forged })->{status}, 200, 'a request on a session idle for 5 minutes');
# Recorded after the response is sent: allow the worker a moment.
ok(wait_until(sub { psql_one("SELECT last_seen_at > now() - interval '10 seconds' FROM bulwark.sessions $where") eq 't' }, 5),
	'last_seen_at recorded (after the response)');
psql("UPDATE bulwark.sessions SET last_seen_at = now() - interval '30 seconds' $where");
my $before = psql_one("SELECT last_seen_at FROM bulwark.sessions $where");
is($s->req(GET => '/me', cookies => { session => $forged })->{status}, 200, 'a request 30 s after the last');
select(undef, undef, undef, 0.5);    # what would have been written, has been
is(psql_one("SELECT last_seen_at FROM bulwark.sessions $where"), $before, 'last_seen_at not rewritten within the minute');

$s->log_clean_ok('session storage');
done_testing;
