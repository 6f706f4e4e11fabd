# What mod_fcgid does to the program (issue #10), through Apache with the
# shipped deploy/apache-fcgid.conf: it starts each process with the
# listening socket on fd 0 and never more than FcgidMaxProcessesPerClass of
# them; it ends idle ones with SIGTERM, which the worker takes as a clean
# stop; and the program never exits on its own under it (mod_fcgid may
# already have chosen the process for the next request), however many
# requests one process serves.
use strict;
use warnings;
use Test::More;
use BulwarkTest;
use BulwarkFront ();

# --- the process limit, and one process serving many requests
my $s = start_stack(front => 'apache', workers => 1);
my @w = $s->worker_pids;
is(scalar @w, 1, 'FcgidMaxProcessesPerClass 1: one process');
like(readlink("/proc/$w[0]/fd/0") // '', qr/^socket:/, 'its fd 0 is the socket mod_fcgid made');
my @st = parallel(6, sub { join ',', map { $s->req(GET => '/health')->{status} } 1 .. 10 });
is(join(' ', @st), join(' ', ('200,200,200,200,200,200,200,200,200,200') x 6), '60 requests, 6 at a time, on one process: all 200');
is_deeply([ $s->worker_pids ], \@w, 'still that one process: it never exits on its own, and no second one was started');
my $err = BulwarkFront::slurp("$s->{dir}/apache/error.log");
unlike($err, qr/unexpected signal|communication error|can't apply process slot/, 'Apache logged no broken process');
$s->stop;

# --- idle processes are ended with SIGTERM: a clean stop, then a new one
$s = start_stack(front => 'apache', workers => 2, fcgid_idle => 2, fcgid_min => 0);
@w = $s->worker_pids;
is(scalar @w, 2, 'two processes started');
my $mark = $s->log_mark;
ok(wait_until(sub { !grep { proc_alive($_) } @w }, 20), 'FcgidIdleTimeout 2: both ended once idle');
my %stopped = map { $_->{pid} => 1 } $s->events($mark, 'worker_stopped');
is_deeply([ sort { $a <=> $b } grep { $stopped{$_} } @w ], [ sort { $a <=> $b } @w ], 'each logged worker_stopped: SIGTERM is a clean stop');
my @idle;
wait_until(sub {    # mod_fcgid logs an exit once it has reaped the process
	$err = BulwarkFront::slurp("$s->{dir}/apache/error.log");
	@idle = $err =~ /\((\d+)\) exit\(idle timeout\), terminated by calling exit\(\), return code: 0/g;
	@idle >= @w;
}, 10);
is_deeply([ sort { $a <=> $b } @idle ], [ sort { $a <=> $b } @w ], 'mod_fcgid: each exited by itself with status 0 after the idle timeout (not killed)')
  or diag $err;
my $r = $s->req(GET => '/health');
is($r->{status}, 200, 'the next request starts a new process and is answered');
ok(!(grep { my $p = $_; grep { $_ == $p } @w } $s->worker_pids), 'by a new process');
$s->stop;

done_testing;
