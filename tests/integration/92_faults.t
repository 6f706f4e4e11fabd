# Faults under load (issue 13, item 5), as SQLite's *fault tests do it:
#  1. PostgreSQL stopped while 4 clients sign up without pause: every
#     answer is 201 or 503 (never a dead worker or a hang), service is back
#     within 2 s of the database, and every signup answered 201 -- before,
#     during or after the outage -- exists afterwards.
#  2. SIGKILL to workers of Bulwark's own pool while 4 clients send
#     requests without pause: each is respawned, and the requests that fail
#     are counted: under 0.1 %.
# Leaves the database running whatever happens.
use strict;
use warnings;
use Test::More;
use POSIX qw(_exit);
use Time::HiRes qw(time sleep);
use File::Temp qw(tempdir);
use BulwarkTest;

END { eval { pg_start() unless pg_ready() } }

my $CLIENTS = 4;

# $CLIENTS children, each sending $make->($i, $n) until $until (epoch s);
# returns the handle to collect ([start, end, status, tag] per request).
sub load_start {
	my ($s, $until, $make) = @_;
	my $tmp = tempdir('load-XXXXXX', DIR => $ENV{BULWARK_TEST_DIR} || '/tmp', CLEANUP => 1);
	my @pids;
	for my $i (0 .. $CLIENTS - 1) {
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			open(my $fh, '>', "$tmp/$i") or _exit(1);
			my $n = 0;
			while (time < $until) {
				my ($method, $path, $tag, %o) = $make->($i, $n++);
				my $t0 = time;
				my $r = $s->req($method, $path, %o, timeout => 10);
				printf $fh "%.4f %.4f %d %s\n", $t0, time, $r->{status} || 0, $tag // '-';
			}
			close $fh;
			_exit(0);
		}
		push @pids, $pid;
	}
	return { pids => \@pids, dir => $tmp };
}

sub load_wait {
	my ($h) = @_;
	waitpid($_, 0) for @{ $h->{pids} };
	my @r;
	for my $i (0 .. $CLIENTS - 1) {
		open(my $fh, '<', "$h->{dir}/$i") or next;
		push @r, map { chomp; [ split / / ] } <$fh>;
	}
	return sort { $a->[0] <=> $b->[0] } @r;
}

sub by_status { my %c; $c{ $_->[2] }++ for @_; join ' ', map { "$_:$c{$_}" } sort keys %c }

# --- 1. the database stopped under a signup load
{
	my $s = start_stack(mode => 'serve', workers => 4);
	my @workers = $s->worker_pids;
	is(scalar @workers, 4, 'db outage: 4 workers');
	my $run = "$$-" . int(rand 1e6);
	my $t_start = time;
	my $h = load_start($s, $t_start + 9, sub {
		my ($i, $n) = @_;
		my $e = "fault-$run-$i-$n\@example.com";
		return (POST => '/signup', $e, body => { email => $e, password => "Fault-pw-$run-$i-$n" });
	});
	sleep 2;
	my $t_stop = time;
	pg_stop();
	my $t_down = time;
	ok(!pg_ready(), 'db outage: PostgreSQL is down');
	sleep 3;
	my $t_restart = time; # pg_start returns a little after it serves
	pg_start();
	my $t_up = time;
	ok(pg_ready(), 'db outage: PostgreSQL is back');
	my @r = load_wait($h);

	my @other = grep { $_->[2] != 201 && $_->[2] != 503 } @r;
	is(scalar @other, 0, 'db outage: ' . scalar(@r) . ' signups, every answer 201 or 503 (' . by_status(@r) . ')')
	  or diag join "\n", map { "@$_" } @other[ 0 .. ($#other < 9 ? $#other : 9) ];
	my @before = grep { $_->[1] < $t_stop } @r;
	my @down   = grep { $_->[0] > $t_down && $_->[1] < $t_restart } @r;
	ok(@before >= 10 && !grep({ $_->[2] != 201 } @before), 'db outage: before the stop, all ' . scalar(@before) . ' were 201');
	ok(@down >= 4 && !grep({ $_->[2] != 503 } @down), 'db outage: while it was down, all ' . scalar(@down) . ' were 503');
	my ($first) = grep { $_->[0] >= $t_up && $_->[2] == 201 } @r;
	my $back = $first ? $first->[1] - $t_up : 99;
	ok($back < 2, sprintf('db outage: the first 201 came %.2f s after the database was back (< 2 s)', $back));
	my @late = grep { $_->[0] > $t_up + 2 } @r;
	ok(@late >= 10 && !grep({ $_->[2] != 201 } @late), 'db outage: from 2 s after, all ' . scalar(@late) . ' were 201')
	  or diag by_status(@late);
	my @ok = map { $_->[3] } grep { $_->[2] == 201 } @r;
	my %stored = map { $_->[0] => 1 } @{ psql('SELECT email FROM bulwark.users WHERE email LIKE ' . q_lit("fault-$run-%")) };
	my @lost = grep { !$stored{$_} } @ok;
	is(scalar @lost, 0, 'db outage: every one of the ' . scalar(@ok) . ' signups answered 201 exists') or diag "@lost[0..4]";
	is_deeply([ $s->worker_pids ], \@workers, 'db outage: no worker died');
	diag sprintf('db outage: %d signups, %s; down %.1f s; back %.2f s after the database', scalar(@r), by_status(@r), $t_up - $t_down, $back);
	$s->stop;
}

# --- 2. SIGKILL to workers of the pool under load
{
	my $s = start_stack(mode => 'serve', workers => 4);
	my ($email, $pw) = $s->new_user('kill');
	my $c = $s->login($email, $pw);
	my $sid = $c->session;
	my $master = $s->master_pid;
	my @first = $s->worker_pids;
	is(scalar @first, 4, 'kill -9: 4 workers');
	my $KILLS = 5;
	my $t0 = time;
	my $h = load_start($s, $t0 + 24, sub { (GET => '/me', 'me', cookies => { session => $sid }) });
	my (@killed, %seen);
	sleep 2;
	for my $k (1 .. $KILLS) {
		my @w = grep { !$seen{$_} } $s->worker_pids;
		my $victim = $w[ int rand @w ];
		$seen{$victim} = 1;
		kill 'KILL', $victim;
		push @killed, $victim;
		sleep 4;
	}
	my @r = load_wait($h);
	my $failed = grep { $_->[2] != 200 } @r;
	my $pct = @r ? 100 * $failed / @r : 100;
	ok(@r >= 2000, 'kill -9: ' . scalar(@r) . ' requests under load (at least 2000)');
	ok($pct < 0.1, sprintf('kill -9: %d of %d requests failed (%.3f %%, under 0.1 %%) with %d workers killed',
		$failed, scalar(@r), $pct, $KILLS)) or diag by_status(@r);
	my @now = $s->worker_pids;
	is(scalar @now, 4, 'kill -9: 4 workers again');
	ok(!grep({ my $k = $_; grep { $_ == $k } @now } @killed), 'kill -9: none of the killed is among them');
	is($s->master_pid, $master, 'kill -9: the same master');
	my @fails = grep { $_->[2] != 200 } @r;
	diag sprintf('kill -9: failed request at +%.2f s (%.2f s long): %d', $_->[0] - $t0, $_->[1] - $_->[0], $_->[2]) for @fails;
	diag sprintf('kill -9: %d workers killed, %d requests, %d failed (%.3f %%): %s', $KILLS, scalar(@r), $failed, $pct, by_status(@r));
	$s->log_clean_ok('faults');
}

done_testing;
