# /login and /token/login share one budget (API.md "Login, /login and
# /token/login alike (one shared budget)"): the same per-IP and per-email
# limits and the same lockout, exact across 4 workers. 100 wrong passwords for
# one email, half on each route, released together: exactly 5 reach the
# password check. Then the same sequentially, and the lockout shared.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use BulwarkTest;

my $N        = 100;
my $TOO_MANY = 'Too many login attempts. Try again later.';
my $INVALID  = 'Invalid email or password';
my $LOCKED   = 'Account temporarily locked. Try again later.';
my $IP       = '127.0.0.1';
my $J = JSON::PP->new->canonical;
my @ROUTES = ('/login', '/token/login');

my $s = start_stack(workers => 4, env => { %CONTRACT_LOGIN_LIMITS });
my @workers = $s->worker_pids;
is(scalar @workers, 4, 'four workers');

# --- 100 at once, 50 on each route
my ($email, $pw, $uid) = $s->new_user('budget');
reset_counters($email);
my $mark = $s->log_mark;
my @raw = parallel_barrier($N, sub {
	my ($i, $ready) = @_;
	my $route = $ROUTES[ $i % 2 ];
	my $r = $s->req(POST => $route, body => { email => $email, password => "$pw-wrong-$i" }, before_last_byte => $ready, timeout => 90);
	return $J->encode({ route => $route, status => $r->{status}, body => $r->{body}, ra => $r->{headers}{'retry-after'},
		ct => $r->{headers}{'content-type'}, session => $r->{cookies}{session} ? 1 : 0 });
});
my @r = map { eval { $J->decode($_) } // { status => 0, body => $_, route => '?' } } @raw;
is(scalar(grep { $_->{status} == 401 } @r), 5, "$N concurrent wrong logins for one email, half on each route: exactly 5 x 401");
is(scalar(grep { $_->{status} == 429 } @r), 95, 'and exactly 95 x 429');
for my $route (@ROUTES) {
	is(scalar(grep { $_->{route} eq $route && ($_->{status} == 401 || $_->{status} == 429) } @r), $N / 2, "$route: 50 answers, each 401 or 429");
}
my @bad;
for my $i (0 .. $#r) {
	my $x = $r[$i];
	my $want = $x->{status} == 401 ? $INVALID : $x->{status} == 429 ? $TOO_MANY : undef;
	my $j = eval { JSON::PP->new->decode($x->{body} // '') };
	if (!defined $want) { push @bad, "#$i $x->{route}: status $x->{status} " . substr($x->{body} // '', 0, 100); next }
	push @bad, "#$i $x->{route}: body $x->{body}" unless ref $j eq 'HASH' && join(',', keys %$j) eq 'error' && $j->{error} eq $want;
	push @bad, "#$i $x->{route}: content-type " . ($x->{ct} // 'none') unless ($x->{ct} // '') eq $JSON_CT;
	push @bad, "#$i $x->{route}: Retry-After " . ($x->{ra} // 'none')
	  if $x->{status} == 429 && !(defined $x->{ra} && $x->{ra} =~ /\A[0-9]+\z/ && $x->{ra} >= 1 && $x->{ra} <= 60);
	push @bad, "#$i $x->{route}: a session cookie" if $x->{session};
}
ok(!@bad, "every answer is the contract's JSON error, 429s with Retry-After") or diag join "\n", @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ];
is(rate_limit_count("login:ip:$IP"), $N, "login:ip count $N (both routes)");
is(rate_limit_count("login:email:$email"), 20, 'login:email count 20 (what passed the IP limit, both routes)');
is(lockout_failures($email), 5, 'lockout count 5');
is(scalar($s->events($mark, 'login_failed', email => $email)), 5, 'exactly 5 login_failed lines');
is(scalar($s->events($mark, 'rate_limited')), 95, '95 rate_limited lines');
error_is($s->token_login($email, $pw), 429, $TOO_MANY, 'the right password on /token/login within the window');
error_is($s->login($email, $pw)->res, 429, $TOO_MANY, 'the right password on /login within the window');
is_deeply([ $s->worker_pids ], \@workers, 'no worker died');

# --- one after another: 3 on /login and 2 on /token/login use up the email's 5
reset_counters($email);
my @st = map { ($_ < 3 ? $s->login($email, "$pw-x$_")->res : $s->token_login($email, "$pw-x$_"))->{status} } 0 .. 4;
is_deeply(\@st, [ (401) x 5 ], '3 wrong on /login, then 2 wrong on /token/login: 401 x5');
error_is($s->token_login($email, $pw), 429, $TOO_MANY, 'the 6th attempt (on /token/login, right password)');
error_is($s->login($email, $pw)->res, 429, $TOO_MANY, 'the 7th attempt (on /login, right password)');
is(rate_limit_count("login:email:$email"), 7, 'login:email counts all 7');
reset_counters($email);
@st = map { ($_ % 2 ? $s->login($email, "$pw-y$_")->res : $s->token_login($email, "$pw-y$_"))->{status} } 0 .. 4;
is_deeply(\@st, [ (401) x 5 ], 'alternating routes, 5 wrong: 401 x5');
error_is($s->login($email, $pw)->res, 429, $TOO_MANY, 'then /login with the right password');

# the per-IP limit is shared too: 20 distinct emails over both routes
reset_counters($email);
@st = map { my $e = unique_email("ip$_"); ($_ % 2 ? $s->login($e, 'wrong-password')->res : $s->token_login($e, 'wrong-password'))->{status} } 1 .. 21;
is_deeply(\@st, [ (401) x 20, 429 ], '21 logins from one IP across both routes: 401 x20, then 429');
reset_counters($email);
$s->stop;

# --- the lockout is shared: threshold 4, limits out of the way
my $t = start_stack(workers => 2, env => { BULWARK_LOCKOUT_THRESHOLD => 4, BULWARK_LOCKOUT_SECONDS => 900 });
my ($e2, $p2, $id2) = $t->new_user('budgetlock');
reset_counters($e2);
is($t->login($e2, "$p2-1")->res->{status}, 401, 'lockout: a wrong password on /login');
is($t->token_login($e2, "$p2-2")->{status}, 401, 'lockout: a wrong password on /token/login');
is(lockout_failures($e2), 2, 'lockout: both counted (2)');
my $ok = $t->login($e2, $p2);
is($ok->res->{status}, 200, 'lockout: the right password on /login');
ok(!lockout_failures($e2), 'lockout: ... clears the count for both routes');
is($t->token_login($e2, "$p2-3")->{status}, 401, 'lockout: wrong on /token/login');
is($t->token_login($e2, "$p2-4")->{status}, 401, 'lockout: wrong on /token/login');
is($t->login($e2, "$p2-5")->res->{status}, 401, 'lockout: wrong on /login');
is($t->token_login($e2, "$p2-6")->{status}, 401, 'lockout: the 4th failure (threshold) on /token/login');
my $lr = $t->login($e2, $p2)->res;
error_is($lr, 429, $LOCKED, 'lockout: /login with the right password after 4 failures on both routes');
retry_after_ok($lr, 1, 900, 'lockout on /login');
$lr = $t->token_login($e2, $p2);
error_is($lr, 429, $LOCKED, 'lockout: /token/login with the right password');
retry_after_ok($lr, 1, 900, 'lockout on /token/login');
ok($lr->{body} !~ /Token"/, 'lockout: no tokens issued');
reset_counters($e2);
$t->log_clean_ok('shared budget');
done_testing;
