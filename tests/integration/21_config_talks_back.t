# Configuration that talks back, from the operator's side: a misspelt key in
# the environment is a warning naming it (stderr and the log) and the
# program still serves; one in the BULWARK_CONFIG file refuses to start with
# the file, the line and the nearest key, and a SIGHUP reload to such a file
# is refused with the running configuration kept; `bulwark config` shows the
# settings in force and never a secret.
use strict;
use warnings;
use Test::More;
use IO::Socket::UNIX ();
use BulwarkTest;

my $dir = File::Temp::tempdir('talk-XXXXXX', DIR => test_dir());
chmod 0755, $dir;
sub config_cmd {
	my ($env) = @_;
	return run_cmd(cmd => [ bulwark_bin(), 'config' ], env => default_env(undef, { BULWARK_MAIL_DIR => $dir, BULWARK_LOG_FILE => undef, %$env }),
		timeout => 10);
}

# --- the environment: a warning, and it serves
my $s = start_stack(workers => 1, mode => 'serve', env => { BULWARK_LOGIN_LIMIT => 5 });
is($s->req(GET => '/health')->{status}, 200, 'a misspelt key in the environment: it still serves');
my @w = grep { ($_->{event} // '') eq 'config_unknown_key' } $s->log_lines;
ok(@w >= 1 && $w[0]{key} eq 'BULWARK_LOGIN_LIMIT' && $w[0]{level} eq 'warning', '  a config_unknown_key warning names it in the log')
  or diag explain \@w;
ok(!grep({ ($_->{key} // '') =~ /^BULWARK_TEST_/ } @w), '  the test harness\'s BULWARK_TEST_* are not reported');
my $r = config_cmd({ BULWARK_LOGIN_LIMIT => 5 });
like($r->{err}, qr/warning: BULWARK_LOGIN_LIMIT in the environment is not a setting, ignored \(did you mean BULWARK_LOGIN_IP_LIMIT\?\)/,
	'  and on stderr, with the nearest key');
like($r->{out}, qr/^# unknown, ignored: BULWARK_LOGIN_LIMIT/m, '  bulwark config lists it as ignored');
$s->stop;

# --- the file: a refusal with its line
my $conf = "$dir/bulwark.conf";
write_file($conf, "# settings\nBULWARK_LOGIN_IP_LIMIT=50\n\nBULWARK_LOCKOUT_SECOND=60\n", 0644);
my $sock = "$dir/refuse.sock";
$r = run_cmd(cmd => [ bulwark_bin(), 'serve', '--listen', $sock, '--workers', '1' ],
	env => default_env(undef, { BULWARK_CONFIG => $conf, BULWARK_MAIL_DIR => $dir, BULWARK_LOG_FILE => undef }), timeout => 10);
ok(!$r->{timed_out} && ($r->{exit} // 0) == 1, 'a misspelt key in the file: serve refuses to start (exit 1)') or diag explain $r;
like($r->{err}, qr/\Q$conf\E:4: unknown key BULWARK_LOCKOUT_SECOND \(did you mean BULWARK_LOCKOUT_SECONDS\?\)/, '  naming file, line and the nearest key');
ok(!-S $sock, '  and nothing listens');
$r = config_cmd({ BULWARK_CONFIG => $conf });
is($r->{exit}, 1, '  bulwark config exits 1 with the same reason');

# a reload to a misspelt file is refused, the running configuration kept
my $good = "$dir/good.conf";
write_file($good, "BULWARK_MAX_BODY_BYTES=2048\n", 0644);
$s = start_stack(workers => 1, mode => 'serve', env => { BULWARK_CONFIG => $good });
my $big = { email => 'x' x 3000 . '@example.com', password => 'y' };
is($s->req(POST => '/login', body => $big)->{status}, 413, 'running with BULWARK_MAX_BODY_BYTES=2048 from the file');
write_file($good, "BULWARK_MAX_BODY_BYTE=65536\n", 0644);
my $mark = $s->log_mark;
kill 'HUP', $s->master_pid;
ok(wait_until(sub { grep { ($_->{message} // '') =~ /reload refused.*:1: unknown key BULWARK_MAX_BODY_BYTE/ } $s->log_lines(since => $mark) }, 10),
	'a SIGHUP to a file with a misspelt key: "reload refused" in the log, naming line and key') or diag $s->log_raw;
ok(!grep({ ($_->{event} // '') eq 'pool_reload' } $s->log_lines(since => $mark)), '  no reload happened');
is($s->req(POST => '/login', body => $big)->{status}, 413, '  and the running configuration is kept');
$s->stop;

# --- bulwark config shows what is in force, never a secret
my $secret = 'S3cr3t-' . ('z' x 40);
my $dbpw = 'db-Pass-' . int(rand 1e9);
write_file($conf, "BULWARK_SESSION_TTL=3600\nBULWARK_JWT_SECRET=$secret\n", 0600);
$r = config_cmd({ BULWARK_CONFIG => $conf, BULWARK_JWT_SECRET => undef, BULWARK_LOGIN_WINDOW => 90,
	DATABASE_URL => "postgresql://bulwark:$dbpw\@127.0.0.1:1/bulwark" });
is($r->{exit}, 0, 'bulwark config') or diag $r->{err};
like($r->{out}, qr/^BULWARK_SESSION_TTL=3600  # \Q$conf\E:1$/m, '  a file key with its file and line');
like($r->{out}, qr/^BULWARK_LOGIN_WINDOW=90  # environment$/m, '  an environment key');
like($r->{out}, qr/^BULWARK_LOCKOUT_SECONDS=900$/m, '  a default');
like($r->{out}, qr/^BULWARK_JWT_SECRET=\(set, 47 bytes, not shown\)  # \Q$conf\E:2$/m, '  the secret: its length, not its value');
like($r->{out}, qr{^DATABASE_URL=postgresql://bulwark:\*\*\*\@127\.0\.0\.1:1/bulwark  # environment$}m, '  the database password masked');
ok(index($r->{out} . $r->{err}, $secret) < 0 && index($r->{out} . $r->{err}, $dbpw) < 0, '  no secret anywhere in what it prints');
$r = config_cmd({ BULWARK_JWT_SECRET => undef });
is($r->{exit}, 1, 'bulwark config without a JWT secret: exit 1, as serve would refuse');
like($r->{err}, qr/BULWARK_JWT_SECRET/, '  saying why');
done_testing;
