# Two spawn-fcgi pools (two "hosts") behind one lighttpd: sessions live in
# PostgreSQL, so any worker of either pool serves any client.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(pools => 2, workers => 2);
my @p1 = $s->worker_pids(1);
my @p2 = $s->worker_pids(2);
is(scalar @p1, 2, 'pool 1: 2 workers');
is(scalar @p2, 2, 'pool 2: 2 workers');

my $email = unique_email('pools');
my $pw    = unique_password();
my $c = $s->signup($email, $pw);
is($c->res->{status}, 201, 'signup');
my @st = map { $c->req(GET => '/me')->{status} } 1 .. 12;
is_deeply(\@st, [ (200) x 12 ], 'the session works across both pools (12 requests, round robin)');

# logins and logouts on one pool are seen by the other
for my $round (1 .. 3) {
	my $l = $s->login($email, $pw);
	is($l->res->{status}, 200, "round $round: login");
	my $sess = $l->session;
	@st = map { $s->req(GET => '/me', cookies => { session => $sess })->{status} } 1 .. 4;
	is_deeply(\@st, [ (200) x 4 ], "round $round: the new session works on every pool");
	is($l->req(POST => '/logout', csrf => 1)->{status}, 200, "round $round: logout");
	@st = map { $s->req(GET => '/me', cookies => { session => $sess })->{status} } 1 .. 4;
	is_deeply(\@st, [ (401) x 4 ], "round $round: the logged-out session is refused by every pool");
}

# a user deleted through one pool is gone on the other
my $admin_email = unique_email('poolsadmin');
my $admin_pw    = unique_password();
$s->secret($admin_pw);
is(add_user($admin_email, $admin_pw, 1)->{exit}, 0, 'an admin');
my $admin = $s->login($admin_email, $admin_pw);
my $uid = $c->res->{json}{user}{id} // $c->req(GET => '/me')->{json}{user}{id};
is($admin->req(DELETE => '/users/' . ($uid // 'none'), csrf => 1)->{status}, 200, 'delete the user');
@st = map { $c->req(GET => '/me')->{status} } 1 .. 4;
is_deeply(\@st, [ (401) x 4 ], "the deleted user's session is refused by every pool");

is_deeply([ $s->worker_pids(1), $s->worker_pids(2) ], [ @p1, @p2 ], 'no worker died');
$s->log_clean_ok('two pools');
done_testing;
