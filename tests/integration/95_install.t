# make install with PREFIX and DESTDIR lays out the program, its man page
# and the deployment examples, and nothing outside DESTDIR; the man page
# renders without a groff warning and documents every configuration key
# the program reads (so a new key cannot land undocumented), as does the
# README.
use strict;
use warnings;
use Test::More;
use Cwd ();
use File::Find ();
use File::Temp qw(tempdir);
use BulwarkTest;

# tests/run.sh runs every test from the repository's root.
my $root = Cwd::getcwd();
ok(-f "$root/Makefile" && -f "$root/docs/bulwark.8", "run from the repository root ($root)");
my $bin  = bulwark_bin();
(my $build = $bin) =~ s{/bulwark$}{};
my $stage = tempdir('install-XXXXXX', DIR => test_dir());

# install-files: copy what is built, so a sanitizer run installs its own
# binary and rebuilds nothing.
my $r = run_cmd(cmd => [ 'make', '-s', '-C', $root, 'install-files', "DESTDIR=$stage", 'PREFIX=/usr', "BUILD=$build" ], timeout => 60);
is($r->{exit}, 0, 'make install-files DESTDIR=... PREFIX=/usr') or diag $r->{err};

my %want = (
	'usr/bin/bulwark'                            => 0755,
	'usr/share/man/man8/bulwark.8'               => 0644,
	'usr/share/bulwark/deploy/lighttpd.conf'     => 0644,
	'usr/share/bulwark/deploy/nginx.conf'        => 0644,
	'usr/share/bulwark/deploy/apache-fcgid.conf' => 0644,
	'usr/share/bulwark/deploy/bulwark.service'   => 0644,
	'usr/share/bulwark/deploy/bulwark.conf.example' => 0644,
	'usr/share/bulwark/deploy/lighttpd-binpath.conf' => 0644,
	'usr/share/bulwark/deploy/bulwark.socket'   => 0644,
	'usr/share/bulwark/deploy/shared-hosting/.htaccess' => 0644,
	'usr/share/bulwark/deploy/shared-hosting/bulwark.conf.example' => 0644,
	'usr/share/bulwark/deploy/shared-hosting/bulwark.fcgi' => 0755,
);
my @found;
File::Find::find({ no_chdir => 1, wanted => sub { push @found, substr($_, length($stage) + 1) if -f $_ } }, $stage);
is_deeply([ sort @found ], [ sort keys %want ], 'exactly these files, all under DESTDIR/usr') or diag explain \@found;
for my $f (sort keys %want) {
	my $mode = (stat "$stage/$f")[2];
	is(defined $mode ? $mode & 07777 : -1, $want{$f}, sprintf('%s is mode %04o', $f, $want{$f}));
}
$r = run_cmd(cmd => [ "$stage/usr/bin/bulwark", '--version' ], timeout => 10);
like($r->{out}, qr/^bulwark \d+\.\d+\.\d+$/m, 'the installed binary runs: --version');

# --- the man page
my $page = "$stage/usr/share/man/man8/bulwark.8";
$r = run_cmd(cmd => [ 'man', '-l', $page ], env => { %ENV, MANPAGER => 'cat', PAGER => 'cat', MANWIDTH => 80 }, timeout => 30);
is($r->{exit}, 0, 'man -l renders it');
my $rendered = $r->{out} // '';
like($rendered, qr/^NAME\b.*^SYNOPSIS\b.*^COMMANDS\b.*^ENVIRONMENT\b/ms, 'with NAME, SYNOPSIS, COMMANDS, ENVIRONMENT');
my ($commands) = $rendered =~ /^COMMANDS\n(.*?)^ENVIRONMENT/ms;
$r = run_cmd(cmd => [ 'groff', '-man', '-ww', '-z', $page ], timeout => 30);
is($r->{exit} . ($r->{err} // ''), '0', 'groff -man -ww: no warning');

# every subcommand the usage lists, and every key the code reads
$r = run_cmd(cmd => [ $bin, '--help' ], timeout => 10);
my @sub = ($r->{out} =~ /^\s*(?:usage:)?\s*bulwark ([a-z][a-z-]+)/mg);
ok(@sub >= 5, 'bulwark --help lists the subcommands (' . join(' ', @sub) . ')');
my $man = do { local $/; open my $fh, '<', $page or die $!; <$fh> };
(my $plain = $man) =~ s/\\-/-/g;
for my $c (@sub) {
	like($commands // '', qr/^\s+\Q$c\E\b/m, "the man page's COMMANDS documents 'bulwark $c'");
}
my %keys;
for my $src (glob("$root/fcgi/*/*.c")) {
	open my $fh, '<', $src or die "$src: $!";
	local $/;
	my $t = <$fh>;
	$keys{$1} = 1 while $t =~ /"((?:BULWARK_[A-Z_]+)|DATABASE_URL)"/g;
}
delete $keys{$_} for grep { /^BULWARK_TEST_/ } keys %keys;
ok(keys(%keys) >= 30, scalar(keys %keys) . ' configuration keys read by the program');
my $readme = do { local $/; open my $fh, '<', "$root/README.md" or die $!; <$fh> };
# `bulwark config` prints the one list of keys the program knows (an
# unknown one is refused in the file, warned about in the environment): a
# key read by the code but missing from that list would be refused.
$r = run_cmd(cmd => [ $bin, 'config' ], env => default_env(undef, { BULWARK_MAIL_DIR => test_dir() }), timeout => 10);
is($r->{exit}, 0, 'bulwark config') or diag $r->{err};
my %shown = map { /^([A-Z_]+)=/ ? ($1 => 1) : () } split /\n/, $r->{out} // '';
for my $k (sort keys %keys) {
	ok(index($plain, $k) >= 0, "the man page documents $k");
	ok(index($readme, $k) >= 0, "the README documents $k");
	ok($shown{$k} || $k =~ /^BULWARK_(BIN|DEV_\w+)$/, "bulwark config knows $k");
}
done_testing;
