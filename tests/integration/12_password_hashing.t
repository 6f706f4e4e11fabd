# Password hashing with the program's defaults (the one test that pays for
# them), bcrypt, and verification across a change of algorithm.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use BulwarkTest;

sub hash_of { psql_one('SELECT password_hash FROM bulwark.users WHERE email = ' . q_lit($_[0])) }

# --- defaults: no BULWARK_PASSWORD_HASH, no BULWARK_PASSWORD_COST
my $s = start_stack(workers => 2, env => { BULWARK_PASSWORD_HASH => undef, BULWARK_PASSWORD_COST => undef });
my $e1 = unique_email('defhash');
my $p1 = unique_password();
my $c = $s->signup($e1, $p1);
is($c->res->{status}, 201, 'default hashing: signup');
my $h1 = hash_of($e1) // '';
like($h1, qr/\A\$(y|2[aby])\$/, 'default hashing: a yescrypt or bcrypt hash') or diag $h1;
ok(index($h1, $p1) < 0, 'the hash does not contain the password');

# Mean of three timings each (a loaded machine must not decide the result).
sub timed {
	my ($e, $p) = @_;
	my ($sum, $r) = (0);
	for (1 .. 3) {
		my $t0 = time;
		$r = $s->login($e, $p)->res;
		$sum += time - $t0;
	}
	return ($r, $sum / 3);
}
my ($r, $t_ok) = timed($e1, $p1);
is($r->{status}, 200, 'default hashing: login');
($r, my $t_bad) = timed($e1, "$p1-wrong");
error_is($r, 401, 'Invalid email or password', 'default hashing: wrong password');
($r, my $t_none) = timed(unique_email('nohash'), $p1);
error_is($r, 401, 'Invalid email or password', 'default hashing: unknown email');
diag sprintf('login times (mean of 3): right %.3fs, wrong %.3fs, unknown email %.3fs', $t_ok, $t_bad, $t_none);
# The unknown email is checked against a dummy hash of the same cost.
ok($t_none > 0.3 * $t_bad, 'an unknown email costs about as much as a wrong password (dummy hash)');

# Two users with one password get different hashes (salt).
my $e1b = unique_email('defhash');
is($s->signup($e1b, $p1)->res->{status}, 201, 'a second user with the same password');
isnt(hash_of($e1b), $h1, 'different salts, different hashes');

# --- bcrypt at its lowest accepted cost (the program takes 10..31)
$s->restart_workers(env => { BULWARK_PASSWORD_HASH => 'bcrypt', BULWARK_PASSWORD_COST => 10 });
my $e2 = unique_email('bcrypt');
my $p2 = unique_password();
is($s->signup($e2, $p2)->res->{status}, 201, 'bcrypt: signup');
like(hash_of($e2) // '', qr/\A\$2[aby]\$10\$/, 'bcrypt cost 10: a $2b$10$ hash');
is($s->login($e2, $p2)->res->{status}, 200, 'bcrypt: login');
is($s->login($e1, $p1)->res->{status}, 200, 'bcrypt configured: the user hashed with the defaults still logs in');
is($s->login($e2, "$p2!")->res->{status}, 401, 'bcrypt: wrong password');

# bcrypt reads 72 bytes: a longer new password is refused rather than
# stored with a tail that would not count, and a longer login password never
# matches a bcrypt hash (so a shared 72-byte prefix is not enough).
my $e3 = unique_email('bcrypt72');
my $p3 = ('k' x 72) . 'tail-one';
my $r3 = $s->signup($e3, $p3)->res;
is($r3->{status}, 400, 'bcrypt: signup with an 80-byte password is refused');
is($r3->{json}{issues}[0]{path}, 'password', 'bcrypt: the issue names the password');
is(psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit($e3)), 0,
	'bcrypt: the refused signup created nothing');
my $p72 = 'k' x 72;
is($s->signup($e3, $p72)->res->{status}, 201, 'bcrypt: a 72-byte password is accepted');
is($s->login($e3, $p72)->res->{status}, 200, 'bcrypt: the 72-byte password logs in');
is($s->login($e3, $p72 . 'tail')->res->{status}, 401,
	'bcrypt: the same 72 bytes plus a tail does not log in');

# The default-hashed user logged in under bcrypt above: upgraded on the way.
like(hash_of($e1) // '', qr/\A\$2b\$10\$/, 'a login under bcrypt upgraded the yescrypt hash');
is($s->login($e1, $p1)->res->{status}, 200, 'the upgraded hash still logs in');

# --- back to yescrypt (cost 1): the bcrypt users still log in
$s->restart_workers(env => { BULWARK_PASSWORD_HASH => 'yescrypt', BULWARK_PASSWORD_COST => 1 });
is($s->login($e2, $p2)->res->{status}, 200, 'yescrypt configured: the bcrypt user still logs in');
like(hash_of($e2) // '', qr/\A\$y\$/, 'and its hash was upgraded back to yescrypt');
my $e4 = unique_email('yescrypt');
is($s->signup($e4, $p2)->res->{status}, 201, 'yescrypt: signup');
like(hash_of($e4) // '', qr/\A\$y\$/, 'yescrypt: a $y$ hash');

# --- invalid settings refuse to start
for my $bad ([ BULWARK_PASSWORD_HASH => 'md5' ], [ BULWARK_PASSWORD_HASH => 'yescrypt', BULWARK_PASSWORD_COST => 99 ]) {
	my %env = @$bad;
	my $res = run_cmd(
		cmd     => [ bulwark_bin(), 'serve', '--listen', test_dir() . "/refuse-$$.sock", '--workers', '1' ],
		env     => default_env(undef, \%env),
		timeout => 10,
	);
	ok(!$res->{timed_out} && defined $res->{exit} && $res->{exit} != 0,
		'refuses to start with ' . join(' ', map { "$_=$env{$_}" } sort keys %env)) or diag explain $res;
	unlink test_dir() . "/refuse-$$.sock";
}

$s->log_clean_ok('hashing');
done_testing;
