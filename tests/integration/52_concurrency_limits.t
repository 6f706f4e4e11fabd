# The login limits are exact under concurrency (API.md: "Limits and lockouts
# are held in PostgreSQL, so they are exact across every worker process and
# every host"): 100 logins released at once, against 4 workers of one pool,
# then against two pools ("two hosts") behind one lighttpd.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use BulwarkTest;

my $N        = 100;
my $TOO_MANY = 'Too many login attempts. Try again later.';
my $INVALID  = 'Invalid email or password';
my $IP       = '127.0.0.1';
my $J = JSON::PP->new->canonical;

# $N logins, each child connected with all of its request but the last byte
# sent before the common start; returns one hash per response.
sub burst {
	my ($s, $body_of) = @_;
	my @raw = parallel_barrier($N, sub {
		my ($i, $ready) = @_;
		my $r = $s->req(POST => '/login', body => $body_of->($i), before_last_byte => $ready, timeout => 90);
		return $J->encode({
			status => $r->{status},
			body   => $r->{body},
			ra     => $r->{headers}{'retry-after'},
			ct     => $r->{headers}{'content-type'},
			error  => $r->{error},
		});
	});
	return map { my $x = eval { $J->decode($_) }; $x // { status => 0, body => $_ } } @raw;
}

sub count_status { my ($st, @r) = @_; scalar grep { $_->{status} == $st } @r }

# Every response is the contract's JSON error: 401 or 429 with the exact
# body, the JSON content type, and on 429 a Retry-After in whole seconds.
sub contract_errors_ok {
	my ($name, @r) = @_;
	my @bad;
	for my $i (0 .. $#r) {
		my $x = $r[$i];
		my $want = $x->{status} == 401 ? $INVALID : $x->{status} == 429 ? $TOO_MANY : undef;
		my $j = eval { JSON::PP->new->decode($x->{body} // '') };
		if (!defined $want) { push @bad, "#$i: status $x->{status} " . substr($x->{body} // '', 0, 100) . ($x->{error} ? " ($x->{error})" : ''); next }
		push @bad, "#$i: body $x->{body}" unless ref $j eq 'HASH' && join(',', keys %$j) eq 'error' && $j->{error} eq $want;
		push @bad, "#$i: content-type " . ($x->{ct} // 'none') unless ($x->{ct} // '') eq $JSON_CT;
		push @bad, "#$i: Retry-After " . ($x->{ra} // 'none')
		  if $x->{status} == 429 && !(defined $x->{ra} && $x->{ra} =~ /\A[0-9]+\z/ && $x->{ra} >= 1 && $x->{ra} <= 60);
	}
	ok(!@bad, "$name: every response is the contract's JSON error") or diag join "\n", @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ];
}

sub scenario {
	my ($s, $what) = @_;
	my @workers = $s->worker_pids;

	# --- one email, 100 wrong passwords at once: 5 reach the password check
	my $email = unique_email('burst');
	my $pw    = unique_password();
	is($s->signup($email, $pw)->res->{status}, 201, "$what: setup: signup");
	reset_counters($email);
	my $mark = $s->log_mark;
	my @r = burst($s, sub { +{ email => $email, password => "$pw-wrong-$_[0]" } });
	is(count_status(401, @r), 5, "$what: $N concurrent wrong logins for one email: exactly 5 x 401");
	is(count_status(429, @r), 95, "$what: and exactly 95 x 429");
	contract_errors_ok("$what, one email", @r);
	is(scalar($s->events($mark, 'login_failed', email => $email)), 5, "$what: exactly 5 login_failed lines");
	my @rl = $s->events($mark, 'rate_limited');
	is(scalar(grep { ($_->{key} // '') eq 'ip' } @rl), 80, "$what: 80 refused by the IP limit (20)");
	is(scalar(grep { ($_->{key} // '') eq 'email' } @rl), 15, "$what: 15 refused by the email limit (5 of the 20 let through)");
	is(rate_limit_count("login:ip:$IP"), $N, "$what: login:ip count $N");
	is(rate_limit_count("login:email:$email"), 20, "$what: login:email count 20 (only what passed the IP limit)");
	is(lockout_failures($email), 5, "$what: lockout count 5");

	# --- one IP, 100 distinct emails at once: 20 reach the password check
	reset_counters($email);
	my @emails = map { unique_email("burstip$_") } 1 .. $N;
	$mark = $s->log_mark;
	@r = burst($s, sub { +{ email => $emails[ $_[0] ], password => "wrong-password-$_[0]" } });
	is(count_status(401, @r), 20, "$what: $N concurrent logins across $N emails from one IP: exactly 20 x 401");
	is(count_status(429, @r), 80, "$what: and exactly 80 x 429");
	contract_errors_ok("$what, one IP", @r);
	my %mine = map { $_ => 1 } @emails;
	my @failed = grep { $mine{ $_->{email} // '' } } $s->events($mark, 'login_failed');
	is(scalar @failed, 20, "$what: exactly 20 login_failed lines for those emails");
	is_deeply([ sort map { $_->{email} } @failed ], [ sort map { $emails[$_] } grep { $r[$_]{status} == 401 } 0 .. $#r ],
		"$what: and they are the emails answered 401");
	is(scalar($s->events($mark, 'rate_limited', key => 'ip')), 80, "$what: 80 rate_limited lines, key ip");
	is(rate_limit_count("login:ip:$IP"), $N, "$what: login:ip count $N");
	is(psql_one(q{SELECT count(*) FROM bulwark.rate_limits WHERE key LIKE 'login:email:%'}), 20, "$what: 20 login:email rows");

	is_deeply([ $s->worker_pids ], \@workers, "$what: no worker died");
	reset_counters($email, @emails);
}

my $s = start_stack(workers => 4, env => { %CONTRACT_LOGIN_LIMITS });
is(scalar(my @w = $s->worker_pids), 4, 'one pool of 4 workers');
scenario($s, 'one pool');
$s->log_clean_ok('one pool');
$s->stop;

$s = start_stack(pools => 2, workers => 2, env => { %CONTRACT_LOGIN_LIMITS });
is(scalar(my @w1 = $s->worker_pids(1)), 2, 'two pools: pool 1 has 2 workers');
is(scalar(my @w2 = $s->worker_pids(2)), 2, 'two pools: pool 2 has 2 workers');
scenario($s, 'two pools');
$s->log_clean_ok('two pools');

done_testing;
