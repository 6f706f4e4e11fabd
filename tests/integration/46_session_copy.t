# The user's public fields copied into each session row (schema/006), so
# that a session cookie is authenticated from one table: the copy must be
# exact at every moment a request can see it, never a cache that lags.
#
# - a change of the user made any way (a route, an operator command, SQL
#   by hand) reaches every one of the user's sessions in the same
#   transaction: GET /me of a session made earlier shows it at once;
# - logins racing changes of the same user (the insert reads the user FOR
#   SHARE): afterwards no session row differs from its user, and GET /me of
#   every session shows the user as stored;
# - sessions that existed before the migration get their copy from it.
use strict;
use warnings;
use Test::More;
use POSIX ();
use BulwarkTest;

my $s = start_stack(workers => 4);
my $want_role_now;

# The sessions whose copy, or the user object rendered from it (schema/
# 007), differs from their user's row (the count).
sub mismatched {
	my ($uid) = @_;
	return psql_one(<<SQL);
SELECT count(*) FROM bulwark.sessions s JOIN bulwark.users u ON u.id = s.user_id
 WHERE ((s.user_email, s.user_role, s.user_email_verified,
        s.user_two_factor_enabled, s.user_created_at)
       IS DISTINCT FROM
       (u.email, u.role, u.email_verified, u.two_factor_enabled, u.created_at)
    OR s.user_object IS DISTINCT FROM bulwark.user_object(u.id, u.email,
       u.role, u.email_verified, u.two_factor_enabled, u.created_at))
   @{[ defined $uid ? 'AND u.id = ' . q_lit($uid) : '' ]}
SQL
}

# --- every kind of change reaches a session made before it
my $email = unique_email('copy');
my $pw    = unique_password();
my $first = $s->signup($email, $pw);
is($first->res->{status}, 201, 'signup (its session carries the copy)');
my $uid = $first->res->{json}{user}{id};
my $second = $s->login($email, $pw);
is($second->res->{status}, 200, 'a second session');
is(mismatched($uid), 0, 'both sessions hold the user as stored');

psql("UPDATE bulwark.users SET role = 'admin', email_verified = true WHERE id = " . q_lit($uid));
for my $c ($first, $second) {
	my $u = $c->req(GET => '/me')->{json}{user};
	is($u->{role}, 'admin', 'a role changed in SQL shows on GET /me of an earlier session');
	is($u->{emailVerified}, JSON::PP::true, '  and emailVerified');
}
is($second->req(GET => '/users')->{status}, 200, '  and the session acts with it (GET /users as admin)');

my $new_email = unique_email('renamed');
psql('UPDATE bulwark.users SET email = ' . q_lit($new_email) . ' WHERE id = ' . q_lit($uid));
is($first->req(GET => '/me')->{json}{user}{email}, $new_email, 'an email changed in SQL shows at once');

my $r = run_cmd(cmd => [ bulwark_bin(), 'user', 'set-role', '--email', $new_email, '--role', 'user' ],
	env => default_env(undef), timeout => 60);
is($r->{exit}, 0, 'bulwark user set-role user') or diag $r->{err};
is($second->req(GET => '/me')->{json}{user}{role}, 'user', 'an operator command shows at once');
is($second->req(GET => '/users')->{status}, 403, '  and the demoted session is refused GET /users');

my $xmins = 'SELECT string_agg(xmin::text, \',\' ORDER BY id_hash) FROM bulwark.sessions WHERE user_id = ' . q_lit($uid);
my $before = psql_one($xmins);
psql('UPDATE bulwark.users SET updated_at = now(), tokens_valid_after = now() WHERE id = ' . q_lit($uid));
is(psql_one($xmins), $before, 'an update of columns that are not copied writes no session row');
is(psql_one('SELECT count(*) FROM bulwark.sessions WHERE user_id = ' . q_lit($uid)), 2, 'and both sessions live');

# --- logins racing changes of the same user
# One psql runs 120 transactions that flip the role and the verified flag,
# each its own BEGIN ... COMMIT with the row held a moment (so a login
# lands inside one); meanwhile 6 clients log in 8 times each.
my $race_email = unique_email('race');
my $race_pw    = unique_password();
$s->secret($race_pw);
is($s->signup($race_email, $race_pw)->res->{status}, 201, 'the racing user');
my $race_uid = psql_one('SELECT id FROM bulwark.users WHERE email = ' . q_lit($race_email));
my $flips = join '', map {
	my $role = $_ % 2 ? 'admin' : 'user';
	my $ver  = $_ % 3 ? 'true' : 'false';
	"BEGIN; UPDATE bulwark.users SET role = '$role', email_verified = $ver WHERE id = " . q_lit($race_uid)
	  . "; SELECT pg_sleep(0.004); COMMIT; SELECT pg_sleep(0.002);\n"
} 1 .. 120;
my $flipper = fork // die "fork: $!";
if (!$flipper) {
	my $ok = eval { psql($flips); 1 };
	POSIX::_exit($ok ? 0 : 1);
}
my @res = parallel(6, sub {
	my @out;
	for (1 .. 8) {
		my $c = $s->login($race_email, $race_pw);
		push @out, $c->res->{status} . ' ' . ($c->session // '-');
	}
	return join ',', @out;
});
waitpid($flipper, 0);
is($? >> 8, 0, 'the flips all committed');
my @logins = map { split /,/ } @res;
is(scalar(grep { /^200 / } @logins), 48, '48 logins during the flips: all 200') or diag "@logins";
is(mismatched($race_uid), 0, 'no session row differs from its user afterwards');
is(psql_one('SELECT count(*) FROM bulwark.sessions WHERE user_id = ' . q_lit($race_uid)), 49, '  across all 49 sessions');
my ($want_role, $want_ver) = @{ psql('SELECT role, email_verified FROM bulwark.users WHERE id = ' . q_lit($race_uid))->[0] };
my @seen = map {
	my $sid = (split / /)[1];
	my $u = $s->req(GET => '/me', cookies => { session => $sid })->{json}{user} // {};
	($u->{role} // '-') . '/' . ($u->{emailVerified} ? 't' : 'f');
} @logins;
is(scalar(grep { $_ eq "$want_role/$want_ver" } @seen), 48, "GET /me of every racing session shows the stored user ($want_role/$want_ver)") or diag "@seen";
$s->secret(map { (split / /)[1] } @logins);

# A change that has not committed yet while a login reads the user: the
# login waits for it and copies what commits.  The change is held open
# half a second; the login starts once it holds the row.  (Were the user
# read without FOR SHARE, the login would copy the old role and the
# commit after it would leave that session behind: this fails then.)
for my $role (qw(admin user)) {
	my $held = fork // die "fork: $!";
	if (!$held) {
		my $ok = eval {
			psql("BEGIN; UPDATE bulwark.users SET role = '$role' WHERE id = " . q_lit($race_uid)
			  . "; SELECT pg_sleep(0.5) AS held_change; COMMIT;");
			1;
		};
		POSIX::_exit($ok ? 0 : 1);
	}
	ok(wait_until(sub { psql_one("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%held_change%' AND pid <> pg_backend_pid()") > 0 }, 10),
		"a change to $role is held open");
	my $c = $s->login($race_email, $race_pw);
	waitpid($held, 0);
	is($? >> 8, 0, '  and commits');
	is($c->res->{status}, 200, '  a login meanwhile: 200');
	is($c->req(GET => '/me')->{json}{user}{role}, $role, "  its session has the role that committed ($role)");
	is(mismatched($race_uid), 0, '  no session row differs from its user');
	$s->secret($c->session);
}

# --- a session inserted without the copy (a worker still on the binary
# from before 006, between migrate and restart) gets it from the user
psql('INSERT INTO bulwark.sessions (id_hash, user_id, expires_at, ip) VALUES (sha256('
  . q_lit("old-binary-$$") . '), ' . q_lit($race_uid) . ", now() + interval '1 hour', '127.0.0.1')");
is_deeply(psql('SELECT user_email, user_role FROM bulwark.sessions WHERE id_hash = sha256(' . q_lit("old-binary-$$") . ')'),
	[ [ $race_email, $want_role_now = psql_one('SELECT role FROM bulwark.users WHERE id = ' . q_lit($race_uid)) ] ],
	'a session inserted the old way gets the copy from its user');
is(mismatched($race_uid), 0, '  and matches it');
# The previous signup statement: the user and its first session inserted
# by one statement, the session without the copy.
my $old_signup = unique_email('oldsignup');
psql(<<SQL);
WITH u AS (
    INSERT INTO bulwark.users (email, password_hash) VALUES (@{[ q_lit($old_signup) ]}, '\$y\$not-a-real-hash')
    RETURNING *
), s AS (
    INSERT INTO bulwark.sessions (id_hash, user_id, expires_at, ip, user_agent)
    SELECT sha256(@{[ q_lit("old-signup-$$") ]}), u.id, now() + interval '1 hour', '127.0.0.1', '' FROM u
)
SELECT id FROM u
SQL
is(psql_one('SELECT user_email FROM bulwark.sessions WHERE id_hash = sha256(' . q_lit("old-signup-$$") . ')'), $old_signup,
	'the previous signup statement (user and session in one statement) gets the copy too');

# --- sessions that existed before the migration
# A database at migration 005 with a user and a session, then `bulwark
# migrate`: 006 fills the copy in.
my $url = db_at_migration('bulwark_m006', 5);
psql(<<'SQL', db => 'bulwark_m006');
INSERT INTO bulwark.users (email, password_hash, role, email_verified)
VALUES ('old@example.com', '$y$not-a-real-hash', 'admin', true);
INSERT INTO bulwark.sessions (id_hash, user_id, expires_at, ip)
SELECT sha256('old'), id, now() + interval '1 day', '127.0.0.1' FROM bulwark.users;
SQL
$r = run_cmd(cmd => [ bulwark_bin(), 'migrate' ], env => { PATH => $ENV{PATH}, DATABASE_URL => $url }, timeout => 60);
is($r->{exit}, 0, 'bulwark migrate from 005') or diag $r->{err};
like($r->{out}, qr/applied now/, '  applies the rest') or diag $r->{out};
is_deeply(psql('SELECT user_email, user_role, user_email_verified FROM bulwark.sessions', db => 'bulwark_m006'),
	[ [ 'old@example.com', 'admin', 't' ] ], 'the session made before 006 carries its user');
is(mismatched(), 0, 'and so does every session of the test database');
psql('DROP DATABASE bulwark_m006', db => 'postgres');

$s->log_clean_ok('session copy');
done_testing;
