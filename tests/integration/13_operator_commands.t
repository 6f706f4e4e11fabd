# The operator's commands, from a shell and from a script: user add, list,
# set-role, set-password (kills every session and token, like a reset),
# delete. Passwords come from a pipe as one line, or from a terminal twice
# without echo; exit codes: 0 done, 1 failure, 2 usage or refused input,
# 3 no such user, 4 email taken (docs/bulwark.8).
use strict;
use warnings;
use Test::More;
use Cwd ();
use BulwarkTest;

my $s = start_stack(workers => 2);
my $root = Cwd::getcwd();
sub cli {
	my ($stdin, @args) = @_;
	return run_cmd(cmd => [ bulwark_bin(), 'user', @args ], env => default_env(undef, { BULWARK_LOG_FILE => $s->log_file }),
		stdin => $stdin, timeout => 60);
}
sub exit_is {
	my ($r, $code, $name) = @_;
	is($r->{exit}, $code, "$name: exit $code") or diag "out: $r->{out}\nerr: $r->{err}";
}

# --- add and list
my ($email, $pw) = (unique_email('op'), unique_password());
$s->secret($pw);
my $r = cli("$pw\n", 'add', '--email', $email);
exit_is($r, 0, 'user add from a pipe');
like($r->{out}, qr/^created user \Q$email\E \([0-9a-f-]{36}\)$/m, '  one line says what was made');
exit_is(cli("$pw\n", 'add', '--email', $email), 4, 'user add of a taken email');
exit_is(cli("short\n", 'add', '--email', unique_email('op')), 2, 'user add with a password the rules refuse');
exit_is(cli('', 'add', '--email', unique_email('op')), 2, 'user add with nothing on stdin');
exit_is(cli("$pw\n", 'add', '--email', 'not-an-email'), 2, 'user add with a malformed email');
exit_is(cli("$pw\n", 'add'), 2, 'user add without --email');
exit_is(cli('', 'frobnicate'), 2, 'an unknown user command');
exit_is(cli('', 'list', '--email', $email), 2, 'user list with an option');
$r = cli('', 'list');
exit_is($r, 0, 'user list');
my @lines = split /\n/, $r->{out};
is($lines[0], join("\t", qw(id email role email_verified two_factor created_at)), '  a header of tab-separated columns');
my ($row) = grep { (split /\t/)[1] eq $email } @lines[ 1 .. $#lines ];
ok($row, '  the new user is listed') or diag $r->{out};
my ($uid, undef, $role) = split /\t/, $row // '';
is($role, 'user', '  as a user');
is(scalar(@lines) - 1, psql_one('SELECT count(*) FROM bulwark.users'), '  one line per user');

# --- set-role takes effect on the next request of a live session
my $c = $s->login($email, $pw);
is($c->res->{status}, 200, 'setup: login');
is($c->req(GET => '/users')->{status}, 403, 'a user: GET /users is 403');
$r = cli('', 'set-role', '--email', uc($email), '--role', 'admin');
exit_is($r, 0, 'set-role admin (email in capitals)');
like($r->{out}, qr/^role of \Q$email\E: user -> admin$/m, '  says what changed');
is($c->req(GET => '/users')->{status}, 200, '  the same session is an admin at once');
exit_is(cli('', 'set-role', '--email', $email, '--role', 'root'), 2, 'set-role with an unknown role');
exit_is(cli('', 'set-role', '--email', $email), 2, 'set-role without --role');
exit_is(cli('', 'set-role', '--email', unique_email('nobody'), '--role', 'user'), 3, 'set-role of no such user');
exit_is(cli('', 'set-role', '--email', $email, '--role', 'user'), 0, 'set-role user');
is($c->req(GET => '/users')->{status}, 403, '  demoted on the next request');

# --- set-password: like a reset
my $c2 = $s->login($email, $pw);
my $pair = $s->token_pair($email, $pw, 'before set-password');
is($c2->req(GET => '/me')->{status}, 200, 'setup: two sessions and a token pair');
my $new = unique_password();
$s->secret($new);
exit_is(cli("weak\n", 'set-password', '--email', $email), 2, 'set-password with a password the rules refuse');
is($c->req(GET => '/me')->{status}, 200, '  changes nothing: the session lives');
exit_is(cli("$new\n", 'set-password', '--email', unique_email('nobody')), 3, 'set-password of no such user');
psql("INSERT INTO bulwark.lockouts (email, failures) VALUES (" . q_lit($email) . ", 3) ON CONFLICT (email) DO UPDATE SET failures = 3");
my $mark = $s->log_mark;
$r = cli("$new\n", 'set-password', '--email', $email);
exit_is($r, 0, 'set-password from a pipe');
like($r->{out}, qr/sessions ended: 2, refresh families revoked: 1/, '  says what it ended');
ok(index($r->{out} . $r->{err}, $new) < 0, '  and never the password');
is($c->req(GET => '/me')->{status}, 401, 'every session is gone (1)');
is($c2->req(GET => '/me')->{status}, 401, 'every session is gone (2)');
bearer_401_ok($s->req(GET => '/token/me', bearer => $pair->{accessToken}), 'the access token issued before', 1);
is($s->refresh($pair->{refreshToken})->{status}, 401, 'the refresh token is revoked');
is(lockout_failures($email), undef, 'the lockout count is cleared');
is($s->login($email, $pw)->res->{status}, 401, 'the old password fails');
is($s->login($email, $new)->res->{status}, 200, 'the new one works');
is(scalar $s->events($mark, 'password_set', email => $email, userId => $uid, by => 'cli'), 1, 'logged as password_set');

# --- from a terminal: no echo, asked twice
my $tty_pw = unique_password();
$s->secret($tty_pw);
my $py = "$root/tests/lib/pty_answer.py";
my $env = default_env(undef, { BULWARK_LOG_FILE => $s->log_file });
$r = run_cmd(cmd => [ '/usr/bin/python3', $py, 'New password for', $tty_pw, 'Again:', $tty_pw, '--', bulwark_bin(), 'user', 'set-password',
	'--email', $email ], env => $env, timeout => 60);
exit_is($r, 0, 'set-password on a terminal');
like($r->{out}, qr/<New password for> \Q$email\E: .*<Again:>/s, '  asked twice') or diag $r->{out};
ok(index($r->{out}, $tty_pw) < 0, '  the terminal never showed the password') or diag $r->{out};
is($s->login($email, $tty_pw)->res->{status}, 200, '  and it is set');
$r = run_cmd(cmd => [ '/usr/bin/python3', $py, 'New password for', $tty_pw . 'x', 'Again:', $tty_pw . 'y', '--', bulwark_bin(), 'user',
	'set-password', '--email', $email ], env => $env, timeout => 60);
exit_is($r, 2, 'two different passwords on a terminal');
like($r->{out}, qr/the passwords differ/, '  says so');
is($s->login($email, $tty_pw)->res->{status}, 200, '  and changes nothing');
my $add_email = unique_email('optty');
$r = run_cmd(cmd => [ '/usr/bin/python3', $py, 'New password for', $tty_pw, 'Again:', $tty_pw, '--', bulwark_bin(), 'user', 'add',
	'--email', $add_email ], env => $env, timeout => 60);
exit_is($r, 0, 'user add on a terminal');
ok(index($r->{out}, $tty_pw) < 0, '  without echo');

# --- delete
my $victim = $s->login($email, $tty_pw);
$pair = $s->token_pair($email, $tty_pw, 'before delete');
$mark = $s->log_mark;
$r = cli('', 'delete', '--email', $email);
exit_is($r, 0, 'user delete');
like($r->{out}, qr/^deleted \Q$email\E \(\Q$uid\E\)$/m, '  says whom');
is(psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit($email)), 0, '  the row is gone');
is($victim->req(GET => '/me')->{status}, 401, '  with the session');
bearer_401_ok($s->req(GET => '/token/me', bearer => $pair->{accessToken}), '  and the access token', 1);
is(scalar $s->events($mark, 'user_deleted', email => $email, by => 'cli'), 1, '  logged as user_deleted');
exit_is(cli('', 'delete', '--email', $email), 3, 'user delete again: no such user');

# --- the database away: 1
$r = run_cmd(cmd => [ bulwark_bin(), 'user', 'list' ], env => default_env(undef, { DATABASE_URL => 'postgresql:///nonexistent?host=/nonexistent' }),
	timeout => 60);
exit_is($r, 1, 'user list without a database');
like($r->{err}, qr/database is not reachable/, '  says so');
$r = run_cmd(cmd => [ bulwark_bin(), 'user', '--help' ], env => default_env(), timeout => 10);
exit_is($r, 0, 'user --help');
like($r->{out}, qr/set-password.*delete.*Exit status/s, '  lists the commands and the exit codes');

$s->log_clean_ok;
done_testing;
