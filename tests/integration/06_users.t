# GET /users and DELETE /users/:id; `bulwark user add`.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);

# --- the CLI
my $admin_email = unique_email('admin');
my $admin_pw    = unique_password();
$s->secret($admin_pw);
my $r = add_user(uc(" $admin_email"), $admin_pw, 1);
is($r->{exit}, 0, 'bulwark user add --admin: exit 0') or diag "$r->{out}$r->{err}";
is(psql_one('SELECT role FROM bulwark.users WHERE email = ' . q_lit($admin_email)), 'admin', 'the user is an admin, email normalised');
ok(index($r->{out} . $r->{err}, $admin_pw) < 0, 'user add does not echo the password');

my $plain_email = unique_email('cliuser');
my $plain_pw    = unique_password();
$s->secret($plain_pw);
$r = add_user($plain_email, $plain_pw, 0);
is($r->{exit}, 0, 'bulwark user add: exit 0') or diag "$r->{out}$r->{err}";
is(psql_one('SELECT role FROM bulwark.users WHERE email = ' . q_lit($plain_email)), 'user', 'without --admin: role user');

$r = add_user($admin_email, unique_password(), 1);
isnt($r->{exit}, 0, 'user add with a taken email: non-zero exit');
is(psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit($admin_email)), 1, 'and no second row');

my $admin = $s->login($admin_email, $admin_pw);
is($admin->res->{status}, 200, 'the admin logs in') or die "admin login failed\n";
user_object_ok($admin->res->{json}{user}, 'admin login', role => 'admin', email => $admin_email);
my $admin_id = $admin->res->{json}{user}{id};

my $user = $s->login($plain_email, $plain_pw);
is($user->res->{status}, 200, 'the CLI-created user logs in');
my $user_id = $user->res->{json}{user}{id};

my $victim_email = unique_email('victim');
my $victim_pw    = unique_password();
my $victim       = $s->signup($victim_email, $victim_pw);
is($victim->res->{status}, 201, 'setup: a user to delete');
my $victim_id = $victim->res->{json}{user}{id};
my $victim2 = $s->login($victim_email, $victim_pw);
is($victim2->res->{status}, 200, 'setup: a second session of that user');

# --- GET /users
$r = $s->req(GET => '/users');
error_is($r, 401, 'Unauthorized', 'GET /users anonymous');
$r = $s->req(GET => '/users', cookies => { session => 'not-a-session-0000000000000000000000000000' });
error_is($r, 401, 'Unauthorized', 'GET /users with a bogus session');
$r = $user->req(GET => '/users');
error_is($r, 403, 'Forbidden', 'GET /users as a user');
$r = $admin->req(GET => '/users');
is($r->{status}, 200, 'GET /users as admin: 200');
common_ok($r, 'GET /users');
is_deeply([ sort keys %{ $r->{json} || {} } ], ['users'], 'GET /users: {"users":[...]}');
my $list = ref $r->{json}{users} eq 'ARRAY' ? $r->{json}{users} : [];
ok(@$list >= 3, 'GET /users: a list of users (' . scalar(@$list) . ')');
my $bad = 0;
for my $u (@$list) { user_object_ok($u, "GET /users entry $u->{email}") or $bad++ }
my %by_email = map { $_->{email} => $_ } grep { ref eq 'HASH' } @$list;
for my $e ($admin_email, $plain_email, $victim_email) {
	ok($by_email{$e}, "GET /users lists $e");
}
is($by_email{$admin_email}{role}, 'admin', 'the admin is listed as admin');
is($by_email{$victim_email}{id}, $victim_id, 'ids match');
my $hashes = psql('SELECT password_hash FROM bulwark.users');
ok(!(grep { defined $_->[0] && index($r->{body}, $_->[0]) >= 0 } @$hashes), 'GET /users holds no password hash');
my %db = map { $_->[0] => 1 } @{ psql('SELECT id FROM bulwark.users') };
ok(!(grep { !$db{ $_->{id} // '' } } @$list), 'every listed id exists in the database');

for my $m (qw(POST PUT DELETE)) {
	$r = $admin->req($m => '/users', csrf => 1);
	is($r->{status}, 405, "$m /users: 405");
	like($r->{headers}{allow} // '', qr/(^|,\s*)GET(\s*,|$)/, "$m /users: Allow: GET");
}

# --- DELETE /users/:id
my $path = "/users/$victim_id";
$r = $s->req(DELETE => $path);
error_is($r, 401, 'Unauthorized', 'DELETE /users/:id anonymous');
$r = $user->req(DELETE => $path, csrf => 1);
error_is($r, 403, 'Forbidden', 'DELETE /users/:id as a user (with CSRF)');
$r = $admin->req(DELETE => $path);
error_is($r, 403, 'Invalid CSRF token', 'DELETE /users/:id as admin without X-CSRF-Token');
$r = $admin->req(DELETE => $path, headers => { 'X-CSRF-Token' => $victim->csrf // 'x' });
error_is($r, 403, 'Invalid CSRF token', "DELETE /users/:id as admin with another client's token");
is(psql_one('SELECT count(*) FROM bulwark.users WHERE id = ' . q_lit($victim_id)), 1, 'the user still exists after the refused deletes');
is($victim->req(GET => '/me')->{status}, 200, 'and its session still works');

my $unknown = '00000000-0000-4000-8000-000000000000';
$r = $admin->req(DELETE => "/users/$unknown", csrf => 1);
is($r->{status}, 404, 'DELETE /users/<unknown uuid>: 404');
ok(ref $r->{json} eq 'HASH' && defined $r->{json}{error}, '404: an error body');
common_ok($r, 'DELETE unknown user');
for my $id ('not-a-uuid', '12345', uc($victim_id) . 'x', "%27%20OR%20%271%27%3D%271", substr($victim_id, 0, 35)) {
	$r = $admin->req(DELETE => "/users/$id", csrf => 1);
	is($r->{status}, 404, "DELETE /users/$id: 404");
	common_ok($r, "DELETE /users/$id");
}
is(psql_one('SELECT count(*) FROM bulwark.users WHERE id = ' . q_lit($victim_id)), 1, 'nothing deleted by the bad ids');

$r = $admin->req(GET => $path);
is($r->{status}, 405, 'GET /users/:id: 405');
like($r->{headers}{allow} // '', qr/(^|,\s*)DELETE(\s*,|$)/, 'GET /users/:id: Allow lists DELETE');

my @victim_sessions = grep { defined } $victim->session, $victim2->session;
is(scalar @victim_sessions, 2, 'setup: two sessions of the user');
$r = $admin->req(DELETE => $path, csrf => 1);
is($r->{status}, 200, 'DELETE /users/:id as admin with CSRF: 200');
is_deeply($r->{json}, { deleted => JSON::PP::true }, 'DELETE: {"deleted":true}');
common_ok($r, 'DELETE /users/:id');
is(psql_one('SELECT count(*) FROM bulwark.users WHERE id = ' . q_lit($victim_id)), 0, 'the user row is gone');
is(psql_one('SELECT count(*) FROM bulwark.sessions WHERE user_id = ' . q_lit($victim_id)), 0, 'its session rows are gone');
for my $v (@victim_sessions) {
	error_is($s->req(GET => '/me', cookies => { session => $v }), 401, 'Unauthorized', "the deleted user's session is dead");
}
error_is($s->login($victim_email, $victim_pw)->res, 401, 'Invalid email or password', 'the deleted user cannot log in');
$r = $admin->req(DELETE => $path, csrf => 1);
is($r->{status}, 404, 'deleting it again: 404');
is($admin->req(GET => '/me')->{status}, 200, "the admin's session still works");
is($user->req(GET => '/me')->{status}, 200, "other users' sessions still work");
$r = $admin->req(GET => '/users');
ok(!(grep { ($_->{id} // '') eq $victim_id } @{ $r->{json}{users} || [] }), 'GET /users no longer lists it');

# The email is free again.
my $again = $s->signup($victim_email, unique_password());
is($again->res->{status}, 201, 'the email of a deleted user can sign up again');
isnt($again->res->{json}{user}{id}, $victim_id, 'as a new user id');

# a user demoted in the database loses admin at once (the role is not cached in the session)
psql('UPDATE bulwark.users SET role = ' . q_lit('user') . ' WHERE id = ' . q_lit($admin_id));
error_is($admin->req(GET => '/users'), 403, 'Forbidden', 'an admin demoted in the database gets 403');

$s->log_clean_ok('users');
done_testing;
