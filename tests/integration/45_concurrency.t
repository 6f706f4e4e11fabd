# Races: many clients at once on one email, one user, one session.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 4);
my @workers = $s->worker_pids;

# 12 signups of one email at the same moment: one 201, the rest 409.
my $email = unique_email('race');
my @pws = map { unique_password() } 1 .. 12;
my @st = parallel(12, sub { $s->req(POST => '/signup', body => { email => ($_[0] % 2 ? uc $email : $email), password => $pws[ $_[0] ] })->{status} });
is(scalar(grep { $_ eq '201' } @st), 1, 'concurrent signups of one email: exactly one 201') or diag "@st";
is(scalar(grep { $_ eq '409' } @st), 11, 'and eleven 409') or diag "@st";
is(psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit($email)), 1, 'one row');
my ($winner) = grep { $st[$_] eq '201' } 0 .. $#st;
$s->secret(@pws);
is($s->login($email, $pws[ $winner // 0 ])->res->{status}, 200, "the winner's password is the one stored");

# 10 logins of one user at once: ten distinct sessions.
my $pw = $pws[ $winner // 0 ];
my @res = parallel(10, sub { my $r = $s->req(POST => '/login', body => { email => $email, password => $pw }); "$r->{status} " . ($r->{cookies}{session}{value} // '-') });
my @ok = grep { /^200 / } @res;
is(scalar @ok, 10, 'concurrent logins: all 200') or diag join("\n", @res);
my %uniq = map { (split / /)[1] => 1 } @ok;
is(scalar keys %uniq, 10, 'ten distinct session ids');
$s->secret(keys %uniq);
my $uid = psql_one('SELECT id FROM bulwark.users WHERE email = ' . q_lit($email));
is(psql_one('SELECT count(*) FROM bulwark.sessions WHERE user_id = ' . q_lit($uid)), 12, 'twelve session rows (signup, the first login, ten concurrent)');

# The same session used by 8 clients at once, half of them logging out.
my $c = $s->login($email, $pw);
my ($sess, $csrf) = ($c->session, $c->csrf);
@res = parallel(8, sub {
	my $i = $_[0];
	my $r = $i % 2
	  ? $s->req(POST => '/logout', cookies => { session => $sess, csrf_token => $csrf }, headers => { 'X-CSRF-Token' => $csrf })
	  : $s->req(GET => '/me', cookies => { session => $sess });
	return $r->{status};
});
ok(!grep({ !/^(200|401)$/ } @res), 'concurrent logouts and reads of one session: only 200 and 401') or diag "@res";
is($s->req(GET => '/me', cookies => { session => $sess })->{status}, 401, 'the session is dead afterwards');

# A burst of mixed traffic: nothing but expected statuses, no worker lost.
my @mix = parallel(16, sub {
	my $i = $_[0];
	my @out;
	for my $k (1 .. 5) {
		my $e = unique_email("mix$i");
		my $p = unique_password();
		push @out, $s->req(POST => '/signup', body => { email => $e, password => $p })->{status};
		push @out, $s->req(POST => '/login', body => { email => $e, password => $p })->{status};
		push @out, $s->req(POST => '/login', body => { email => $e, password => "$p!" })->{status};
		push @out, $s->req(GET => '/health')->{status};
	}
	return "@out";
});
my $expect = join ' ', ('201 200 401 200') x 5;
is(scalar(grep { $_ eq $expect } @mix), 16, '16 clients x 20 requests: every status as expected') or diag join("\n", @mix);
is_deeply([ $s->worker_pids ], \@workers, 'no worker died');

done_testing;
