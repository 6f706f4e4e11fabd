# Start-up configuration: the JWT secret is required (>= 32 bytes).
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $dir = File::Temp::tempdir('config-XXXXXX', DIR => test_dir());
chmod 0755, $dir;
my $n = 0;

# Runs `bulwark serve` directly (stderr captured) and expects it to refuse.
sub refuses {
	my ($env, $name, $like) = @_;
	my $sock = "$dir/s" . ++$n . '.sock';
	my $r = run_cmd(
		cmd     => [ bulwark_bin(), 'serve', '--listen', $sock, '--workers', '1' ],
		env     => default_env(undef, { BULWARK_LOG_FILE => undef, %$env }),
		timeout => 10,
	);
	ok(!$r->{timed_out}, "$name: exits instead of serving") or return;
	ok(defined $r->{exit} && $r->{exit} != 0, "$name: non-zero exit status") or diag explain $r;
	like($r->{err} . $r->{out}, $like, "$name: says why") or diag explain $r;
	ok(!-S $sock || !IO::Socket::UNIX->new(Peer => $sock), "$name: nothing listens on the socket");
}

use IO::Socket::UNIX ();

refuses({ BULWARK_JWT_SECRET => undef }, 'no BULWARK_JWT_SECRET', qr/BULWARK_JWT_SECRET/);
refuses({ BULWARK_JWT_SECRET => '' }, 'empty BULWARK_JWT_SECRET', qr/BULWARK_JWT_SECRET/);
refuses({ BULWARK_JWT_SECRET => 'x' x 31 }, '31-byte BULWARK_JWT_SECRET', qr/BULWARK_JWT_SECRET.*32|32.*BULWARK_JWT_SECRET/s);
refuses({ BULWARK_JWT_SECRET => "\x{e9}" x 15 }, '30-byte secret of 15 two-byte characters',
	qr/BULWARK_JWT_SECRET/);

# The worker mode (fd 0 a FastCGI socket) refuses too: spawn-fcgi -n execs it
# in place, keeping its stderr.
{
	my $sock = "$dir/worker.sock";
	my $r = run_cmd(
		cmd     => [ 'spawn-fcgi', '-n', '-s', $sock, '--', bulwark_bin() ],
		env     => default_env(undef, { BULWARK_LOG_FILE => undef, BULWARK_JWT_SECRET => undef }),
		timeout => 10,
	);
	ok(!$r->{timed_out} && defined $r->{exit} && $r->{exit} != 0, 'FastCGI worker without a secret: exits non-zero')
	  or diag explain $r;
	like($r->{err} . $r->{out}, qr/BULWARK_JWT_SECRET/, 'FastCGI worker without a secret: says why');
}

# With BULWARK_LOG_FILE the refusal is logged there too (spawn-fcgi throws stderr away).
{
	my $log = "$dir/refusal.log";
	my $r = run_cmd(
		cmd     => [ bulwark_bin(), 'serve', '--listen', "$dir/l.sock", '--workers', '1' ],
		env     => default_env(undef, { BULWARK_LOG_FILE => $log, BULWARK_JWT_SECRET => undef }),
		timeout => 10,
	);
	ok(defined $r->{exit} && $r->{exit} != 0, 'with BULWARK_LOG_FILE: refuses');
	my $text = -e $log ? do { local (@ARGV, $/) = $log; <> } : '';
	like($text . $r->{err}, qr/BULWARK_JWT_SECRET/, 'the reason is in the log file or on stderr');
}

# Exactly 32 bytes is enough.
my $s = start_stack(mode => 'serve', workers => 1, env => { BULWARK_JWT_SECRET => 'k' x 32 });
my $r = $s->req(GET => '/health');
is($r->{status}, 200, 'a 32-byte BULWARK_JWT_SECRET: serves');
$s->stop;

# BULWARK_JWT_SECRET_FILE instead of the variable.
my $f = "$dir/jwt.secret";
open(my $fh, '>', $f) or die;
print $fh 'f' x 40, "\n";
close $fh;
chmod 0600, $f;
$s = start_stack(mode => 'serve', workers => 1, env => { BULWARK_JWT_SECRET => undef, BULWARK_JWT_SECRET_FILE => $f });
is($s->req(GET => '/health')->{status}, 200, 'BULWARK_JWT_SECRET_FILE with 40 bytes: serves');
$s->stop;

open($fh, '>', $f) or die;
print $fh 'f' x 20;
close $fh;
refuses({ BULWARK_JWT_SECRET => undef, BULWARK_JWT_SECRET_FILE => $f }, 'BULWARK_JWT_SECRET_FILE with 20 bytes', qr/SECRET/);
refuses({ BULWARK_JWT_SECRET => undef, BULWARK_JWT_SECRET_FILE => "$dir/missing" }, 'BULWARK_JWT_SECRET_FILE missing', qr/SECRET|missing|No such file/i);

# Unusable numeric settings are refused rather than guessed.
refuses({ BULWARK_MAX_BODY_BYTES => 'lots' }, 'BULWARK_MAX_BODY_BYTES=lots', qr/BULWARK_MAX_BODY_BYTES/);
refuses({ BULWARK_SESSION_TTL => '-5' }, 'BULWARK_SESSION_TTL=-5', qr/BULWARK_SESSION_TTL/);

done_testing;
