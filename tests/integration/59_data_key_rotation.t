# Rotating the data key that seals TOTP secrets (BULWARK_DATA_KEY_FILE, and
# `bulwark rekey`): the new key goes first, the old one stays after it and
# still opens what it sealed; rekey re-seals every secret under the new key;
# then the old key can go.  A secret whose key is gone: 503, never a bypass.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $dir = test_dir();
my ($ka, $kb) = ('rotation-key-A-' . 'a' x 40, 'rotation-key-B-' . 'b' x 40);
write_file("$dir/keys-a", "$ka\n", 0600);
# The suite's own data key goes last: the database is shared with the other
# test files, whose secrets rekey re-seals too.
write_file("$dir/keys-ba", "$kb\n$ka\n" . BulwarkTest::test_data_key() . "\n", 0600);
write_file("$dir/keys-b", "$kb\n", 0600);
sub stack_with { start_stack(workers => 1, env => { BULWARK_DATA_KEY => undef, BULWARK_DATA_KEY_FILE => "$dir/$_[0]" }) }
sub kid_of { psql_one('SELECT kid FROM bulwark.totp WHERE user_id = ' . q_lit($_[0])) }
sub sealed_of { psql_one("SELECT encode(secret, 'hex') FROM bulwark.totp WHERE user_id = " . q_lit($_[0])) }
sub login_code {
	my ($s, $e, $p, $code) = @_;
	$s->secret($p, $code);
	return $s->req(POST => '/login', body => { email => $e, password => $p, code => $code });
}
my $t0 = time;

# key A alone: U enables
my $s = stack_with('keys-a');
reset_counters();
my ($ue, $up, $uid) = $s->new_user('rot-u');
my $c = $s->login($ue, $up);
my $secret = $c->req(POST => '/me/2fa/enable', csrf => 1)->{json}{secret} // '';
$s->secret($secret);
my $vr = $c->req(POST => '/me/2fa/verify', csrf => 1, body => { code => totp_code($secret, $t0 - 30) });
is($vr->{status}, 200, 'key A: 2FA enabled');
my @rc = @{ $vr->{json}{recoveryCodes} || [] };
$s->secret(@rc);
my $kid_a = kid_of($uid);
like($kid_a, qr/\A[0-9a-f]{16}\z/, 'sealed under key A\'s id');
my $sealed_a = sealed_of($uid);
$s->stop;

# B first, A after: A still opens; new secrets go under B
$s = stack_with('keys-ba');
is(login_code($s, $ue, $up, totp_code($secret, $t0))->{status}, 200, 'keys B,A: the secret sealed under A still opens');
my ($ve, $vp, $vid) = $s->new_user('rot-v');
my $vc = $s->login($ve, $vp);
my $vs = $vc->req(POST => '/me/2fa/enable', csrf => 1)->{json}{secret} // '';
$s->secret($vs);
my $kid_b = psql_one('SELECT pending_kid FROM bulwark.totp WHERE user_id = ' . q_lit($vid));
ok(defined $kid_b && $kid_b ne $kid_a, 'keys B,A: a new secret is sealed under B');
my $r = $s->bulwark_cmd('rekey');
is($r->{exit}, 0, 'bulwark rekey: exit 0') or diag "$r->{out}$r->{err}";
like($r->{out}, qr/re-sealed [1-9][0-9]* secrets? under key \Q$kid_b\E; 0 failed/, 'bulwark rekey: says what it did');
is(kid_of($uid), $kid_b, 'after rekey: U\'s secret is under B');
isnt(sealed_of($uid), $sealed_a, 'after rekey: a new ciphertext');
$r = $s->bulwark_cmd('rekey');
like($r->{out}, qr/re-sealed 0 secrets/, 'rekey again: nothing left to do');
ok(index($r->{out} . $r->{err}, $secret) < 0, 'rekey prints no secret');
$s->stop;

# B alone: U still logs in
$s = stack_with('keys-b');
is(login_code($s, $ue, $up, totp_code($secret, $t0 + 30))->{status}, 200, 'key B alone: U logs in with a code');
$s->stop;

# A alone (B gone): 503 for the code, never a login; a recovery code still works
$s = stack_with('keys-a');
my $mark = $s->log_mark;
error_is(login_code($s, $ue, $up, totp_code($secret, time)), 503, 'Two-factor authentication is not configured',
	'the sealing key missing: a code gets 503');
is(scalar($s->events($mark, 'twofa_key_missing', userId => $uid)), 1, 'twofa_key_missing logged');
is(login_code($s, $ue, $up, $rc[0])->{status}, 200, 'a recovery code needs no data key');
$s->stop;

# no data key at all: rekey refuses
$s = start_stack(workers => 1, env => { BULWARK_DATA_KEY => undef });
$r = $s->bulwark_cmd('rekey');
is($r->{exit}, 1, 'rekey without a data key: exit 1');
like($r->{err}, qr/no data key/, 'rekey without a data key: says so');
done_testing;
