# The access-token key ring (API.md "Tokens": "the first key signs, every key
# verifies ... A token whose kid is not in the ring is refused. Every key is at
# least 32 bytes"): BULWARK_JWT_KEYS_FILE holds "kid secret" lines and is used
# instead of BULWARK_JWT_SECRET. Three stacks on one database play a key
# rotation: A signs with k1; B has k2 first and k1 retired; C has k2 alone.
# Then the rings that must refuse to start, saying which kid and never the secret.
use strict;
use warnings;
use Test::More;
use IO::Socket::UNIX ();
use BulwarkTest;

my $dir = File::Temp::tempdir('keyring-XXXXXX', DIR => test_dir());
chmod 0755, $dir;
my $rnd = sprintf('%08x', int rand 0xffffffff);
my $sec1 = substr("k1-secret-$rnd-" . ('1' x 32), 0, 32);    # exactly 32 bytes: enough
my $sec2 = "$rnd k2 secret with spaces # and a hash 0123456789";  # the rest of the line, as is
is(length $sec1, 32, 'setup: k1 has exactly 32 bytes');

my $fileA = write_file("$dir/ringA", "k1 $sec1\n");
my $fileB = write_file("$dir/ringB", "# ring B: k2 signs, k1 retired\n\n  # indented comment\nk2 $sec2\n\nk1 $sec1\n");
my $fileC = write_file("$dir/ringC", "k2 $sec2\n");

my $A = start_stack(workers => 2, env => { BULWARK_JWT_SECRET => undef, BULWARK_JWT_KEYS_FILE => $fileA });
# B keeps BULWARK_JWT_SECRET set: the ring file must win over it
my $B = start_stack(workers => 2, env => { BULWARK_JWT_KEYS_FILE => $fileB });
my $C = start_stack(workers => 2, env => { BULWARK_JWT_SECRET => undef, BULWARK_JWT_KEYS_FILE => $fileC });
$_->secret($sec1, $sec2) for $A, $B, $C;

my ($email, $pw, $uid) = $A->new_user('ring');
sub me { my ($st, $t) = @_; $st->req(GET => '/token/me', bearer => $t) }

# --- A signs with k1
my $a = $A->token_pair($email, $pw, 'on A');
my $ca = access_token_ok($a->{accessToken}, 'A', kid => 'k1', secret => $sec1, claims => { sub => $uid });
ok(!jwt_sig_ok($a->{accessToken}, test_secret()), 'A does not sign with BULWARK_JWT_SECRET');
is(me($A, $a->{accessToken})->{status}, 200, "A accepts its own token");

# --- B: k2 signs, k1 still verifies
my $r = me($B, $a->{accessToken});
is($r->{status}, 200, "B accepts A's k1 token (a retired key still verifies)");
is($r->{json}{user}{id}, $uid, '... as the user');
my $b = $B->token_pair($email, $pw, 'on B');
access_token_ok($b->{accessToken}, 'B', kid => 'k2', secret => $sec2, claims => { sub => $uid });
my $rb = $B->refresh($a->{refreshToken});
my $bp = token_pair_ok($rb, "B refreshes A's refresh token (rotation logs nobody out)");
access_token_ok($bp ? $bp->{accessToken} : '', "B's refresh of A's login", kid => 'k2', secret => $sec2, claims => { sub => $uid });

# the kid picks the key: no trying every key, no falling back to BULWARK_JWT_SECRET
my %claims = %{ $ca || {} };
$claims{$_} += 0 for grep { defined $claims{$_} } qw(iat exp);
my %h = (alg => 'HS256', typ => 'JWT');
is(me($B, jwt_make({ %h, kid => 'k1' }, \%claims, $sec1))->{status}, 200, 'control: a token made here with kid k1 and its secret: B accepts it');
bearer_401_ok(me($B, jwt_make({ %h, kid => 'k1' }, \%claims, $sec2)), "B: kid k1 signed with k2's secret", 1);
bearer_401_ok(me($B, jwt_make({ %h, kid => 'k2' }, \%claims, $sec1)), "B: kid k2 signed with k1's secret", 1);
bearer_401_ok(me($B, jwt_make({ %h, kid => 'default' }, \%claims, test_secret())), 'B: kid default signed with BULWARK_JWT_SECRET (not in the ring)', 1);
bearer_401_ok(me($B, jwt_make({ %h, kid => 'k2' }, \%claims, test_secret())), 'B: kid k2 signed with BULWARK_JWT_SECRET', 1);
bearer_401_ok(me($B, jwt_make({ %h, kid => 'k1' }, \%claims, "k1 $sec1")), 'B: kid k1 signed with the whole line', 1);

# --- C: k1 removed
bearer_401_ok(me($C, $a->{accessToken}), "C refuses A's k1 token (its kid is gone)", 1);
is(me($C, $b->{accessToken})->{status}, 200, "C accepts B's k2 token");
bearer_401_ok(me($A, $b->{accessToken}), "A refuses B's k2 token (a kid it does not know)", 1);
my $c = $C->token_pair($email, $pw, 'on C');
access_token_ok($c->{accessToken}, 'C', kid => 'k2', secret => $sec2);

# --- CSRF across a key rotation: the session's token is made with the
# first key's CSRF key, and any key of the ring verifies it
my $ca1 = $A->login($email, $pw);
my ($sess, $tok1) = ($ca1->session, $ca1->csrf);
ok($sess && $tok1, 'a session on A, with its CSRF token (k1)');
$r = $B->req(GET => '/me', cookies => { session => $sess, csrf_token => $tok1 });
is($r->{status}, 200, 'B takes the session');
my $tok2 = $r->{cookies}{csrf_token} ? $r->{cookies}{csrf_token}{value} : undef;
ok($tok2 && $tok2 ne $tok1, "B sets the session's token under k2");
$r = $B->req(POST => '/logout', cookies => { session => $sess, csrf_token => $tok1 }, headers => { 'X-CSRF-Token' => $tok1 });
is($r->{status}, 200, "B still takes the token A made (k1 verifies): a form left open survives the rotation");
my $ca2 = $A->login($email, $pw);
$r = $C->req(POST => '/logout', cookies => { session => $ca2->session, csrf_token => $ca2->csrf }, headers => { 'X-CSRF-Token' => $ca2->csrf });
is($r->{status}, 403, 'C, with k1 gone, refuses a k1 CSRF token');

$A->log_clean_ok('stack A');
$B->log_clean_ok('stack B');
$C->log_clean_ok('stack C');
$_->stop for $A, $B, $C;

# --- rings that refuse to start
my $n = 0;
# Runs `bulwark serve` with BULWARK_JWT_KEYS_FILE holding $text: it must exit
# non-zero, saying something that matches $like, and print none of @secret
# (nor their first 12 bytes) on stderr, stdout or into its log file.
sub refuses {
	my ($text, $name, $like, @secret) = @_;
	$n++;
	my $file = defined $text ? write_file("$dir/bad$n", $text) : "$dir/missing$n";
	my $log  = "$dir/bad$n.log";
	my $sock = "$dir/bad$n.sock";
	my $rr = run_cmd(
		cmd     => [ bulwark_bin(), 'serve', '--listen', $sock, '--workers', '1' ],
		env     => default_env(undef, { BULWARK_JWT_SECRET => undef, BULWARK_JWT_KEYS_FILE => $file, BULWARK_LOG_FILE => $log }),
		timeout => 10,
	);
	my $said = ($rr->{err} // '') . ($rr->{out} // '') . (-e $log ? do { local (@ARGV, $/) = $log; <> } : '');
	ok(!$rr->{timed_out} && defined $rr->{exit} && $rr->{exit} != 0, "$name: refuses to start") or diag explain $rr;
	like($said, $like, "$name: says why");
	my @leak = grep { index($said, $_) >= 0 || index($said, substr($_, 0, 12)) >= 0 } @secret;
	ok(!@leak, "$name: never prints the secret") or diag "printed: @leak\n$said";
	ok(!-S $sock || !IO::Socket::UNIX->new(Peer => $sock), "$name: nothing listens");
	return $said;
}

my $short = "Short-$rnd-" . ('s' x 31);
$short = substr($short, 0, 31);
is(length $short, 31, 'setup: a 31-byte secret');
refuses("shortkid $short\n", 'a 31-byte key', qr/\bshortkid\b/, $short);
refuses("k1 $sec1\nweakkid $short\n", 'a 31-byte key after a good one (every key counts)', qr/\bweakkid\b/, $short, $sec1);
refuses("dupkid $sec1\ndupkid $sec2\n", 'a kid twice', qr/\bdupkid\b/, $sec1, $sec2);
refuses("# only comments\n\n   \n", 'an empty ring', qr/BULWARK_JWT_KEYS_FILE/);
refuses('', 'an empty file', qr/BULWARK_JWT_KEYS_FILE/);
refuses("bad/kid $sec1\n", "a kid with '/'", qr/BULWARK_JWT_KEYS_FILE/, $sec1);
refuses(('k' x 65) . " $sec1\n", 'a 65-character kid', qr/BULWARK_JWT_KEYS_FILE/, $sec1);
my $lonely = "LonelySecretWithoutAKid$rnd" . ('x' x 20);
refuses("$lonely\n", 'a line with one word (a secret without its kid?)', qr/BULWARK_JWT_KEYS_FILE/, $lonely);
refuses(undef, 'a missing file', qr/BULWARK_JWT_KEYS_FILE/);

# the FastCGI worker mode refuses too (spawn-fcgi -n keeps its stderr)
{
	my $file = write_file("$dir/worker-short", "workerkid $short\n");
	my $rr = run_cmd(
		cmd     => [ 'spawn-fcgi', '-n', '-s', "$dir/worker.sock", '--', bulwark_bin() ],
		env     => default_env(undef, { BULWARK_LOG_FILE => undef, BULWARK_JWT_SECRET => undef, BULWARK_JWT_KEYS_FILE => $file }),
		timeout => 10,
	);
	ok(!$rr->{timed_out} && defined $rr->{exit} && $rr->{exit} != 0, 'FastCGI worker with a 31-byte key: exits non-zero') or diag explain $rr;
	like($rr->{err} . $rr->{out}, qr/\bworkerkid\b/, 'FastCGI worker with a 31-byte key: names the kid');
	ok(index($rr->{err} . $rr->{out}, substr($short, 0, 12)) < 0, 'FastCGI worker with a 31-byte key: not the secret');
}

done_testing;
