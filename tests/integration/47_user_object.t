# GET /me answers with the user object PostgreSQL rendered when the
# session row was written (schema/007, sql/session_me.sql), not with one
# the worker writes.  The two renderings must be the same bytes:
#
# - for every kind of character the email validation accepts, GET /me's
#   body is byte for byte the body POST /login answers with (the worker's
#   writer, http/response.c);
# - createdAt is the worker's RFC 3339 form (UTC, milliseconds truncated)
#   whatever the time's fraction, and whatever TimeZone, DateStyle and
#   lc_time the session that wrote the row had (the function is declared
#   IMMUTABLE: nothing of the session may change its text);
# - every session row's object is the user's as stored, also after changes
#   (2FA on, a verified email, a new role, a new email);
# - GET /me's request log line names the user: the worker reads the id from
#   the object's first field (session_me.sql returns no id column);
# - the lookup takes the hash index of 008 among 100k sessions;
# - a session from before migration 007 answers GET /me after it.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);

# The sessions whose stored object is not their user's, rendered now.
sub stale_objects {
	return psql_one(<<'SQL');
SELECT count(*) FROM bulwark.sessions s JOIN bulwark.users u ON u.id = s.user_id
 WHERE s.user_object IS DISTINCT FROM bulwark.user_object(u.id, u.email,
       u.role, u.email_verified, u.two_factor_enabled, u.created_at)
SQL
}

# GET /me of client c is the body a new login of the same user answers.
sub same_as_login {
	my ($c, $email, $pw, $name) = @_;
	my $mark = $s->log_mark;
	my $me   = $c->req(GET => '/me');
	is($me->{status}, 200, "$name: GET /me 200");
	# The worker reads the id it logs from the object's first field.
	my $id = $me->{json}{user}{id} // '';
	my @req = grep { ($_->{event} // '') eq 'request' && ($_->{path} // '') eq '/me' }
	  $s->wait_log(sub { grep { ($_->{event} // '') eq 'request' && ($_->{path} // '') eq '/me' } @_ }, since => $mark);
	is(scalar(@req), 1, "$name: one request line for GET /me");
	like($id, qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "$name: the object's id is a uuid");
	is($req[0]{userId}, $id, "$name: the request line names the user") if @req;
	my $login = $s->login($email, $pw);
	is($login->res->{status}, 200, "$name: a new login 200");
	is($me->{body}, $login->res->{body}, "$name: GET /me is the login's body byte for byte")
	  or diag "me:    $me->{body}\nlogin: " . $login->res->{body};
	my $again = $login->req(GET => '/me');
	is($again->{body}, $login->res->{body}, "$name: and so is GET /me of the new session");
	user_object_ok($me->{json}{user}, "$name: GET /me", email => $email);
	return $me->{json}{user};
}

# --- every character an email may hold
my @locals = ("slash/in", "plus+tag", "o'brien", "amp&pct%", "brace{x}|y", "hash#bang!", "eq=q?caret^", "back`tick_u",
	"tilde~dash-dot.s", "dollar\$star*");
my %client;
for my $l (@locals) {
	my $email = lc($l) . '.' . $$ . '@sub-domain.example.org';
	my $pw    = unique_password();
	my $c     = $s->signup($email, $pw);
	is($c->res->{status}, 201, "signup <$email>") or next;
	same_as_login($c, $email, $pw, "<$email>");
	$client{$l} = [ $c, $email, $pw ];
}
is(stale_objects(), 0, 'every session row holds its user object as stored');

# --- createdAt: the fraction truncated to milliseconds, in UTC, whatever
# the writing session's settings
my ($c, $email, $pw) = @{ $client{'plus+tag'} };
my $uid = $c->res->{json}{user}{id};
my @times = (
	[ '2026-01-02 03:04:05.678999+00', '2026-01-02T03:04:05.678Z' ],
	[ '2026-01-02 03:04:05+00',        '2026-01-02T03:04:05.000Z' ],
	[ '2026-01-02 03:04:05.1+00',      '2026-01-02T03:04:05.100Z' ],
	[ '2026-12-31 23:59:59.9999+00',   '2026-12-31T23:59:59.999Z' ],
	[ '2024-02-29 00:00:00.000001+05:30', '2024-02-28T18:30:00.000Z' ],
);
for my $t (@times) {
	my ($stored, $want) = @$t;
	psql("SET TimeZone = 'Asia/Kolkata'; SET DateStyle = 'SQL, DMY'; SET IntervalStyle = 'sql_standard'; "
		. "UPDATE bulwark.users SET created_at = " . q_lit($stored) . ' WHERE id = ' . q_lit($uid));
	my $u = same_as_login($c, $email, $pw, "created_at $stored");
	is($u->{createdAt}, $want, "  createdAt $want");
}

# --- changes of the user reach the object of sessions made before them
($c, $email, $pw) = @{ $client{'o\'brien'} };
$uid = $c->res->{json}{user}{id};
psql("UPDATE bulwark.users SET email_verified = true, two_factor_enabled = true, role = 'admin' WHERE id = " . q_lit($uid));
my $u = $c->req(GET => '/me')->{json}{user};
is_deeply([ @$u{qw(role emailVerified twoFactorEnabled)} ], [ 'admin', JSON::PP::true, JSON::PP::true ],
	'role, emailVerified and twoFactorEnabled changed in SQL show on GET /me of an earlier session');
psql("UPDATE bulwark.users SET two_factor_enabled = false WHERE id = " . q_lit($uid));
same_as_login($c, $email, $pw, 'after the changes');
my $renamed = 'renamed/' . $$ . '@example.net';
psql('UPDATE bulwark.users SET email = ' . q_lit($renamed) . ' WHERE id = ' . q_lit($uid));
is($c->req(GET => '/me')->{json}{user}{email}, $renamed, 'a new email shows at once');
same_as_login($c, $renamed, $pw, 'after the new email');
is(stale_objects(), 0, 'every session row still holds its user object');

# A session that the lookup does not find is a 401, not an empty object.
psql('UPDATE bulwark.sessions SET expires_at = now() - interval \'1 second\' WHERE user_id = ' . q_lit($uid));
error_is($c->req(GET => '/me'), 401, 'Unauthorized', 'GET /me of an expired session');

# --- the lookup takes the hash index (008), as a prepared statement's
# generic plan, on a table of sessions as large as the bench's
psql(<<SQL);
INSERT INTO bulwark.sessions (id_hash, user_id, expires_at, ip)
SELECT sha256(('plan-$$-' || i)::bytea), @{[ q_lit($uid) ]}, now() + interval '1 hour', '127.0.0.1'
  FROM generate_series(1, 100000) AS i;
ANALYZE bulwark.sessions;
SQL
my $stmt = do { open(my $fh, '<', 'sql/session_me.sql') or die "sql/session_me.sql: $!"; local $/; <$fh> };
my $plan = join "\n", map { $_->[0] } @{ psql("SET search_path = bulwark; SET plan_cache_mode = force_generic_plan; "
	. "PREPARE me(bytea) AS $stmt; EXPLAIN EXECUTE me(sha256('plan-$$-7'::bytea))") };
like($plan, qr/Index Scan using sessions_id_hash_hash on sessions/, 'session_me.sql looks the session up through the hash index')
  or diag $plan;
is(psql_one("SELECT count(*) FROM bulwark.sessions WHERE id_hash = sha256('plan-$$-99999'::bytea)"), 1,
	'  and finds a session among 100k');
psql("DELETE FROM bulwark.sessions WHERE id_hash IN (SELECT sha256(('plan-$$-' || i)::bytea) FROM generate_series(1, 100000) AS i)");

# --- a session from before 007: migrate gives it its object
my $url = db_at_migration('bulwark_m007', 6);
psql(<<'SQL', db => 'bulwark_m007');
INSERT INTO bulwark.users (id, email, password_hash, role, email_verified, created_at)
VALUES ('0b9c6d2e-8f41-4a7b-9e3c-5d6f7a8b9c0d', 'old/one@example.com', '$y$not-a-real-hash', 'admin', true,
        '2025-06-07 08:09:10.111222+00');
INSERT INTO bulwark.sessions (id_hash, user_id, expires_at, ip)
SELECT sha256('old'), id, now() + interval '1 day', '127.0.0.1' FROM bulwark.users;
SQL
my $r = run_cmd(cmd => [ bulwark_bin(), 'migrate' ], env => { PATH => $ENV{PATH}, DATABASE_URL => $url }, timeout => 60);
is($r->{exit}, 0, 'bulwark migrate from 006') or diag $r->{err};
is(psql_one('SELECT user_object FROM bulwark.sessions', db => 'bulwark_m007'),
	'{"id":"0b9c6d2e-8f41-4a7b-9e3c-5d6f7a8b9c0d","email":"old/one@example.com","role":"admin",'
	  . '"emailVerified":true,"twoFactorEnabled":false,"createdAt":"2025-06-07T08:09:10.111Z"}',
	'the session made before 007 holds its user object');
psql('DROP DATABASE bulwark_m007', db => 'postgres');

$s->log_clean_ok('user object');
done_testing;
