# The mail transport down, then back (API.md "Mail": queued in PostgreSQL,
# delivered after the response, "retried until the transport accepts it, so
# a crash loses no mail"). BULWARK_MAIL_TRANSPORT=sendmail with a stand-in
# sendmail (fake_sendmail) that fails, exit 75 after 0.6 s, while its flag
# file exists, and BULWARK_MAIL_RETRY_SECONDS=1. Three resets for three
# users: the answers do not wait for the failing transport; the queue shows
# the attempts and the error, backing off; once the transport is back, the
# retries that requests trigger deliver each message exactly once, and more
# requests send nothing again. Then the same with no traffic at all:
# `bulwark mail-deliver` (cron) delivers what is due, once, and a second run
# sends nothing. The links mailed after retries work.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use BulwarkTest;

my $FAIL_SECS = 0.6;
my $sm = fake_sendmail();
$sm->fail($FAIL_SECS);
my $s = start_stack(
	workers => 4,
	env     => {
		BULWARK_MAIL_TRANSPORT     => 'sendmail',
		BULWARK_SENDMAIL           => $sm->path,
		BULWARK_MAIL_RETRY_SECONDS => 1,
	}
);
reset_counters();
my @workers = $s->worker_pids;

sub delivered { my ($addr) = @_; scalar grep { lc $_->{to} eq $addr && @{ $_->{links} } } $sm->messages }
sub rows_of   { my ($after, @addr) = @_; map { my $a = $_; grep { $_->{id} > $after } mail_queue_rows($a) } @addr }
sub dump_rows { join "\n", map { my $x = $_; join ' ', map { "$_=" . ($x->{$_} // 'NULL') } qw(id kind attempts sent due claimed last_error) } @_ }
sub poke      { $s->req(GET => '/health') }

# --- phase 1: the transport fails; requests trigger the retries
# Users made by `bulwark user add`: verified, so no verification mail of
# theirs shares the transport with the resets counted here.
sub cli_user {
	my ($tag) = @_;
	my ($e, $p) = (unique_email($tag), unique_password());
	my $r = add_user($e, $p);
	is($r->{exit}, 0, "setup: bulwark user add $tag") or die "user add: $r->{err}\n";
	return ($e, $p);
}

my @u = map { [ cli_user("retry$_") ] } 1 .. 3;
my @addr = map { $_->[0] } @u;
my $after = mail_queue_max_id();
my @r = map { $s->forgot($_) } @addr;
is(join(' ', map { $_->{status} } @r), '200 200 200', '3 resets while the transport is down: 200 x3');
ok(!grep({ $_->{elapsed} >= $FAIL_SECS - 0.1 } @r), "no answer waited for the transport (which takes $FAIL_SECS s to fail)")
  or diag 'elapsed: ' . join(' ', map { sprintf '%.3f', $_->{elapsed} } @r);
my @q = rows_of($after, @addr);
is(scalar @q, 3, 'bulwark.mail_queue: one row per reset');

my $t_fail = time;
my $failing = wait_until(sub {
	poke();
	my @x = rows_of($after, @addr);
	@x == 3 && !grep { $_->{attempts} < 2 || $_->{claimed} || !defined $_->{last_error} || $_->{last_error} !~ /\S/ || $_->{sent} } @x;
}, 20, 0.25);
@q = rows_of($after, @addr);
ok($failing, 'while it fails: each message tried at least twice (no attempt under way), last_error set, not sent') or diag dump_rows(@q);
ok(!grep({ $_->{attempts} > 4 } @q), 'and not hammered: at most 4 attempts each in the first seconds') or diag dump_rows(@q);
diag 'after ' . sprintf('%.1f', time - $t_fail) . ' s: ' . join(', ', map { "attempts $_->{attempts}, last_error '" . substr($_->{last_error} // '', 0, 60) . "'" } @q);
is(scalar($sm->messages), 0, 'the transport accepted nothing');
my @calls = $sm->calls;
# (no request meanwhile, so an attempt under way ends and no new one starts)
my ($attempts, $fails) = (0, 0);
my $stable = wait_until(sub {
	my @x = rows_of($after, @addr);
	return 0 if grep { $_->{claimed} } @x;
	$attempts = 0;
	$attempts += $_->{attempts} for @x;
	$fails = grep { !$_->{ok} } $sm->calls;
	return $fails == $attempts;
}, 5, 0.1);
ok($stable, "the transport was called once per attempt the queue counts ($attempts attempts, $fails failed calls)");
@calls = $sm->calls;
is_deeply([ sort keys %{ { map { $_->{args} => 1 } @calls } } ], ['-t -i'], 'always as sendmail -t -i');
is_deeply([ sort keys %{ { map { lc $_->{to} => 1 } @calls } } ], [ sort @addr ], 'with the messages to the 3 users');
my $st = $s->bulwark_cmd('mail-status');
ok(defined $st->{exit} && $st->{exit} == 0 && $st->{out} =~ /\S/, 'bulwark mail-status: exit 0, prints the queue') or diag "$st->{out}$st->{err}";

# the transport comes back
$sm->fail(undef);
my $t_back = time;
my $back = wait_until(sub { poke(); !grep { delivered($_) < 1 } @addr }, 30, 0.3);
ok($back, 'the transport back: requests trigger the retries, every message arrives') or diag dump_rows(rows_of($after, @addr));
diag sprintf('delivered %.1f s after the transport came back', time - $t_back);
is_deeply([ map { delivered($_) } @addr ], [ 1, 1, 1 ], 'exactly once per recipient');
ok(wait_until(sub { !grep { !$_->{sent} } rows_of($after, @addr) }, 5), 'all 3 rows marked sent') or diag dump_rows(rows_of($after, @addr));
# the backoff: base 1 s, doubling: the 2nd attempt of a message at least 1 s
# after the 1st, the 3rd (failed or, once back, the one that worked) at least 2 s after the 2nd
{
	my (@bad, @checked);
	for my $a (@addr) {
		my @t = map { $_->{time} } grep { lc $_->{to} eq $a } $sm->calls;
		for my $k (1 .. $#t) {
			my $min = 2**($k - 1);
			push @checked, $k;
			push @bad, sprintf('%s: attempt %d %.2f s after attempt %d (at least %d)', $a, $k + 1, $t[$k] - $t[ $k - 1 ], $k, $min)
			  if $t[$k] - $t[ $k - 1 ] < $min - 0.1;
		}
	}
	ok(!@bad && @checked >= 6, 'retries wait base * 2^(attempts-1) seconds (' . scalar(@checked) . ' gaps)') or diag join "\n", @bad;
}
for (1 .. 12) { poke(); sleep 0.25 }
is_deeply([ map { delivered($_) } @addr ], [ 1, 1, 1 ], '12 more requests over 3 s: still exactly once per recipient');
is(scalar(grep { @{ $_->{links} } } $sm->messages), 3, 'the transport accepted 3 reset messages in all');

my @m = $sm->messages;
$s->secret(map { @{ $_->{tokens} } } @m);
my ($m1) = grep { lc $_->{to} eq $addr[0] } @m;
like($m1 ? $m1->{token} // '' : '', $B64URL_43, 'a retried message holds a 43-character token');
my $np = unique_password();
is($s->reset_password($m1 ? $m1->{token} : 'none', $np)->{status}, 200, 'the link of a message sent after failed attempts resets');
is($s->login($addr[0], $np)->res->{status}, 200, 'and the new password logs in');

# --- phase 2: no traffic; bulwark mail-deliver delivers what is due
$sm->fail(0);
my @v = map { [ cli_user("cron$_") ] } 1 .. 3;
my @addr2 = map { $_->[0] } @v;
$after = mail_queue_max_id();
@r = map { $s->forgot($_) } @addr2;
is(join(' ', map { $_->{status} } @r), '200 200 200', 'phase 2: 3 more resets while the transport is down: 200 x3');
# no request from here on until mail-deliver has run
my $tried = wait_until(sub { my @x = rows_of($after, @addr2); @x == 3 && !grep { $_->{attempts} < 1 || $_->{claimed} || $_->{sent} } @x }, 10, 0.1);
ok($tried, 'phase 2: each tried once after its response, and failed') or diag dump_rows(rows_of($after, @addr2));
$sm->fail(undef);
ok(wait_until(sub { !grep { !$_->{due} } rows_of($after, @addr2) }, 10, 0.1), 'phase 2: the retries fall due') or diag dump_rows(rows_of($after, @addr2));
is_deeply([ map { delivered($_) } @addr2 ], [ 0, 0, 0 ], 'phase 2: without traffic nothing was sent meanwhile');
my $d = $s->bulwark_cmd('mail-deliver');
is($d->{exit}, 0, 'bulwark mail-deliver: exit 0') or diag "$d->{out}$d->{err}";
my @printed = ($st, $d);
is_deeply([ map { delivered($_) } @addr2 ], [ 1, 1, 1 ], 'phase 2: after mail-deliver, each message arrived exactly once');
ok(!grep({ !$_->{sent} } rows_of($after, @addr2)), 'phase 2: its rows are marked sent') or diag dump_rows(rows_of($after, @addr2));
$d = $s->bulwark_cmd('mail-deliver');
is($d->{exit}, 0, 'bulwark mail-deliver again: exit 0') or diag "$d->{out}$d->{err}";
for (1 .. 6) { poke(); sleep 0.2 }
is_deeply([ map { delivered($_) } @addr2 ], [ 1, 1, 1 ], 'phase 2: a second mail-deliver and more requests: still exactly once');
is_deeply([ map { delivered($_) } @addr ], [ 1, 1, 1 ], 'phase 1 messages: still exactly once');
@m = $sm->messages;
$s->secret(map { @{ $_->{tokens} } } @m);
my ($m4) = grep { lc $_->{to} eq $addr2[0] } @m;
is($s->reset_password($m4 ? $m4->{token} : 'none', unique_password())->{status}, 200, 'the link of a message mail-deliver sent resets');
my $printed = join '', map { ($_->{out} // '') . ($_->{err} // '') } @printed, $d, $s->bulwark_cmd('mail-status');
ok(!grep({ length($_->{token} // '') && index($printed, $_->{token}) >= 0 } @m), 'mail-status and mail-deliver print no token');

is_deeply([ $s->worker_pids ], \@workers, 'no worker died');
$s->log_clean_ok('mail retry');
done_testing;
