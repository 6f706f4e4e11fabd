# Timing-safe login (API.md "Login", step 4): the password is always
# verified, against a dummy hash of the same algorithm and cost when the user
# does not exist, so an unknown email and a wrong password take the same time.
# With the program's default hashing (the expensive one, as in
# 12_password_hashing.t) so that the hash dominates the request.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use BulwarkTest;

my %env = (
	BULWARK_PASSWORD_HASH     => undef,    # the defaults
	BULWARK_PASSWORD_COST     => undef,
	BULWARK_LOGIN_IP_LIMIT    => 1000000,  # the limits out of the way
	BULWARK_LOGIN_EMAIL_LIMIT => 1000000,
	BULWARK_LOGIN_WINDOW      => 60,
	BULWARK_LOCKOUT_THRESHOLD => 1000000,
);

# One worker: every request takes the same path through one process, so a
# difference between workers cannot pass for a difference between the cases.
my $s = start_stack(workers => 1, env => \%env);
reset_counters();

# The cost of one hash with these settings, measured by the program itself:
# `bulwark hash-bench --rounds 5`, run before, between and after the timed
# logins; the least of the three is taken (a busy machine only ever adds time).
my (@bench_s, $algo);
sub hash_bench {
	my $hb = run_cmd(cmd => [ bulwark_bin(), 'hash-bench', '--rounds', '5' ], env => default_env(undef, \%env), timeout => 60);
	my ($al) = ($hb->{out} // '') =~ /algorithm=(\w+)/;
	my ($us) = ($hb->{out} // '') =~ /us_per_hash=(\d+)/;
	ok(defined $hb->{exit} && $hb->{exit} == 0 && defined $us && $us > 0, 'bulwark hash-bench --rounds 5: exit 0, us_per_hash')
	  or diag "$hb->{out}$hb->{err}";
	$algo //= $al;
	push @bench_s, ($us // 0) / 1e6;
}
hash_bench();

my $known = unique_email('timing');
my $pw    = unique_password();
is($s->signup($known, $pw)->res->{status}, 201, 'setup: the known user');
my $stored = psql_one('SELECT password_hash FROM bulwark.users WHERE email = ' . q_lit($known)) // '';
like($stored, ($algo // '') eq 'bcrypt' ? qr/\A\$2[aby]\$/ : qr/\A\$y\$/, "setup: stored with the default algorithm (" . ($algo // '?') . ')');

# One unknown email, used for every unknown-email request. Both emails then
# have the same history (their rate-limit and lockout rows exist after the
# warm-up and are updated in place), so the two cases differ in nothing but
# whether the account exists; a fresh email each time would add a row insert
# on one side only. An enumeration that tries many emails is the same code
# path once the dummy hash is right.
my $unknown = unique_email('timing-nobody');
my $wrong   = "$pw-wrong";
$s->secret($wrong);

sub timed {
	my ($email) = @_;
	my $t0 = time;
	my $r  = $s->req(POST => '/login', body => { email => $email, password => $wrong });
	my $dt = time - $t0;
	return ($r->{status}, $dt);
}

for (1 .. 4) {    # warm-up: connections, prepared statements, caches, the dummy hash
	timed($unknown);
	timed($known);
}

my (@tu, @tk, @st);
for my $i (1 .. 20) {
	hash_bench() if $i == 11;
	my ($su, $du) = timed($unknown);
	my ($sk, $dk) = timed($known);
	push @tu, $du;
	push @tk, $dk;
	push @st, $su, $sk;
}
hash_bench();
is(join(' ', @st), join(' ', (401) x 40), 'all 40 timed logins: 401');
my ($hash_s) = sort { $a <=> $b } @bench_s;

sub median {
	my @v = sort { $a <=> $b } @_;
	return @v % 2 ? $v[ $#v / 2 ] : ($v[ @v / 2 - 1 ] + $v[ @v / 2 ]) / 2;
}
my ($mu, $mk) = (median(@tu), median(@tk));
my $max = $mu > $mk ? $mu : $mk;
my $diff = $max > 0 ? abs($mu - $mk) / $max : 1;
diag sprintf('login medians of 20: unknown email %.2f ms, wrong password %.2f ms (differ by %.1f %%); one hash (hash-bench, %s) %.2f ms (least of %s)',
	$mu * 1000, $mk * 1000, $diff * 100, $algo // '?', $hash_s * 1000, join(', ', map { sprintf '%.2f', $_ * 1000 } @bench_s));
ok($diff <= 0.20, 'unknown email and wrong password: medians within 20 %')
  or diag sprintf("unknown: %s\nknown:   %s", map { join ' ', map { sprintf '%.1f', $_ * 1000 } @$_ } \@tu, \@tk);
ok($hash_s > 0 && $mu >= 0.5 * $hash_s, 'an unknown email costs at least half a hash (the dummy hash is computed)')
  or diag sprintf('unknown-email median %.2f ms, one hash %.2f ms', $mu * 1000, $hash_s * 1000);

$s->log_clean_ok('timing');
done_testing;
