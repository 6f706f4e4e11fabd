# `bulwark serve --listen ... --workers N`: the pre-forking pool behind lighttpd.
use strict;
use warnings;
use Test::More;
use POSIX qw(WNOHANG);
use BulwarkTest;

my $s = start_stack(mode => 'serve', workers => 3);
my $master = $s->master_pid;
my $sock   = $s->{pool}[0]{sock};

ok(-S $sock, 'the listening socket exists');
is(sprintf('%04o', (stat $sock)[2] & 07777), '0660', 'the socket file is mode 0660');

my @kids = sort { $a <=> $b } @{ wait_until(sub { my @c = children_of($master); @c == 3 ? [@c] : undef }, 10) || [] };
is(scalar @kids, 3, 'the master has 3 worker children');
is_deeply([ $s->worker_pids ], \@kids, 'the workers are exactly its children');

my @st = map { $s->req(GET => '/health')->{status} } 1 .. 12;
is_deeply(\@st, [ (200) x 12 ], '12 requests through lighttpd: all 200');

my $email = unique_email('pool');
my $pw    = unique_password();
my $c = $s->signup($email, $pw);
is($c->res->{status}, 201, 'signup through the pool');
@st = map { $c->req(GET => '/me')->{status} } 1 .. 12;
is_deeply(\@st, [ (200) x 12 ], '12 requests with the session: all 200');

# kill -9 one worker: the master respawns it
my $victim = $kids[1];
kill 'KILL', $victim;
my @after = @{ wait_until(sub {
	my @c = sort { $a <=> $b } children_of($master);
	(@c == 3 && !grep { $_ == $victim } @c) ? [@c] : undef
}, 10) || [] };
is(scalar @after, 3, 'after kill -9 of one worker: 3 workers again');
ok(!grep({ $_ == $victim } @after), 'the killed worker is gone (reaped by the master)');
ok(proc_alive($master), 'the master is alive');
my %old = map { $_ => 1 } @kids;
is(scalar(grep { !$old{$_} } @after), 1, 'exactly one new worker');
is(proc_state($victim) // 'gone', 'gone', 'no zombie left for the killed worker');
@st = map { $c->req(GET => '/me')->{status} } 1 .. 12;
is_deeply(\@st, [ (200) x 12 ], 'requests after the respawn: all 200');

# all of them at once
kill 'KILL', @after;
my @again = @{ wait_until(sub {
	my @c = children_of($master);
	my %dead = map { $_ => 1 } @after;
	(@c == 3 && !grep { $dead{$_} } @c) ? [@c] : undef
}, 10) || [] };
is(scalar @again, 3, 'after killing every worker: 3 new workers');
ok(wait_until(sub { $s->req(GET => '/health')->{status} == 200 }, 10), 'and the pool serves again');

# a worker that exits on its own (SIGTERM to one worker) is replaced too
kill 'TERM', $again[0];
ok(wait_until(sub { my @c = children_of($master); @c == 3 && !grep { $_ == $again[0] } @c }, 10),
	'a worker ended with SIGTERM is replaced');

# SIGTERM to the master stops the whole pool
my @last = children_of($master);
kill 'TERM', $master;
my $status;
my $gone = wait_until(sub { my $w = waitpid($master, WNOHANG); $status = $? if $w == $master; $w == $master }, 10);
ok($gone, 'SIGTERM: the master exits within 10 s');
diag sprintf('master exit: status %d signal %d', ($status // 0) >> 8, ($status // 0) & 127) if $gone;
ok(defined $status && ($status & 127) == 0 && ($status >> 8) == 0, 'the master exits 0 on SIGTERM');
ok(wait_until(sub { !grep { proc_alive($_) } @last }, 5), 'every worker is gone') or diag 'left: ' . join(' ', grep { proc_alive($_) } @last);
ok(!IO::Socket::UNIX->new(Peer => $sock), 'nothing accepts on the socket any more');
delete $s->{pool}[0]{master};
$s->stop;

# TCP listener
my $t = start_stack(mode => 'serve', listen => 'tcp', workers => 2);
is($t->req(GET => '/health')->{status}, 200, 'serve --listen 127.0.0.1:PORT: serves through lighttpd');
is(scalar(children_of($t->master_pid)), 2, '2 workers');
$t->stop;

use IO::Socket::UNIX ();
done_testing;
