# The pool's signals from the operator's side: SIGHUP re-reads BULWARK_CONFIG
# and replaces the workers (a bad file is refused and the running
# configuration kept); neither a reload nor SIGTERM cuts off a request that
# is in flight.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempfile);
use BulwarkTest;

my ($fh, $cfgfile) = tempfile('reload-XXXXXX', DIR => test_dir(), SUFFIX => '.conf');
sub write_cfg { open(my $o, '>', $cfgfile) or die $!; print $o @_; close $o }
write_cfg("# reload test\nBULWARK_SESSION_TTL=3600\n");

# bcrypt cost 13 makes a login take a few hundred ms: long enough to signal
# the pool while it is in hand.
my $s = start_stack(mode => 'serve', workers => 2, env => {
	BULWARK_CONFIG => $cfgfile, BULWARK_PASSWORD_HASH => 'bcrypt', BULWARK_PASSWORD_COST => 13 });
my $master = $s->master_pid;

sub session_max_age {
	my ($res) = @_;
	for my $raw (@{ $res->{headers}{'set-cookie'} || [] }) {
		my $c = BulwarkTest::parse_set_cookie($raw);
		return $c->{attrs}{'max-age'} if $c->{name} eq 'session';
	}
	return undef;
}
sub workers { my @w = sort { $a <=> $b } children_of($master); return @w }

my $email = unique_email('reload');
my $pw    = unique_password();

# A login with $signal sent to the master 0.15 s into it: "<status> user"
# ("no-user" without a user in the body).
sub login_while_signalled {
	my ($signal) = @_;
	my @r = parallel(2, sub {
		my ($i) = @_;
		if ($i == 0) {
			my $res = $s->login($email, $pw)->res;
			return join ' ', $res->{status}, ($res->{json} && $res->{json}{user} ? 'user' : 'no-user');
		}
		select(undef, undef, undef, 0.15);
		kill $signal, $master;
		return 'sent';
	});
	return $r[0];
}

my $c = $s->signup($email, $pw);
is($c->res->{status}, 201, 'signup');
is(session_max_age($c->res), 3600, 'BULWARK_SESSION_TTL from the config file: Max-Age=3600');

# --- SIGHUP with a request in flight
my @before = workers();
is(scalar @before, 2, 'two workers');
my $mark = $s->log_mark;
write_cfg("BULWARK_SESSION_TTL=7200\n");
is(login_while_signalled('HUP'), '200 user', 'a login in flight during SIGHUP completes whole');
my $replaced = wait_until(sub {
	my @now = workers();
	return @now == 2 && !grep({ my $o = $_; grep { $_ == $o } @now } @before) ? [@now] : undef;
}, 15);
ok($replaced, 'SIGHUP: both workers replaced') or diag "before @before, now @{[ workers() ]}";
my $l = $s->login($email, $pw);
is($l->res->{status}, 200, 'login after the reload');
is(session_max_age($l->res), 7200, 'the new configuration is in force: Max-Age=7200');
ok(scalar($s->events(0, 'pool_reload')), 'pool_reload logged');
# One at a time: the second old worker is told to stop only once the first
# one's replacement serves, so the pool never stands empty.
# (The last replacement logs worker_started a moment after it is forked.)
my @order = map { $_->{event} eq 'worker_stopped' ? 'stop' : 'start' }
	grep { ($_->{event} // '') =~ /^worker_(stopped|started)$/ }
	$s->wait_log(sub { 2 <= grep { ($_->{event} // '') eq 'worker_started' } @_ }, since => $mark, timeout => 15);
is("@order", 'stop start stop start', 'the workers were replaced one at a time');

# --- a bad file is refused; the running configuration stays
my @kept = workers();
write_cfg("BULWARK_SESSION_TTL=not-a-number\n");
kill 'HUP', $master;
my @lines = $s->wait_log(sub { grep { ($_->{message} // '') =~ /reload refused/ } @_ }, timeout => 10);
ok(scalar(grep { ($_->{message} // '') =~ /reload refused.*BULWARK_SESSION_TTL/ } @lines),
	'a bad file: reload refused, the message names the key');
select(undef, undef, undef, 1.0);
is_deeply([ workers() ], \@kept, 'the workers were left running');
$l = $s->login($email, $pw);
is($l->res->{status}, 200, 'still serving after a refused reload');
is(session_max_age($l->res), 7200, 'with the configuration that was in force');

# --- SIGTERM with a request in flight: it completes, then the pool exits 0
is(login_while_signalled('TERM'), '200 user', 'a login in flight during SIGTERM completes whole');
my $status;
my $gone = wait_until(sub { my $p = waitpid($master, POSIX::WNOHANG()); $status = $? if $p == $master; $p == $master }, 15);
ok($gone, 'the master exits after SIGTERM');
is($status, 0, 'with status 0');
ok(!-e $s->{pool}[0]{sock}, 'and removes its socket');
delete $s->{pool}[0]{master};

$s->log_clean_ok('reload');
done_testing;
