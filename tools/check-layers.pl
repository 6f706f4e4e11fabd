#!/usr/bin/perl
# check-layers.pl -- the program's layers, and the rule that arrows point
# only downward.
#
#   perl tools/check-layers.pl fcgi     check the tree; exit 1 on a violation
#   perl tools/check-layers.pl --self-test
#                                       prove the check fails where it must
#
# fcgi/<layer>/ holds one layer.  A file may include a header of its own
# layer or of a layer of lower rank, never one above, and never one of
# another layer of the same rank (http/ and db/ do not know each other).
# Each layer may use only the libraries listed for it: core/ compiles
# without libpq, json-c or libfcgi.  A folder that is not in the table, or
# a quoted include that names no known layer, is a violation too, so a new
# layer has to be placed here (and in the README) before it is used.
use strict;
use warnings;
use File::Temp qw(tempdir);

# layer => [rank, libraries it may include]
my %LAYERS = (
    core   => [0, []],
    http   => [1, ['fcgi', 'json-c']],
    db     => [1, ['libpq']],
    auth   => [2, ['fcgi', 'json-c', 'libpq']],
    mail   => [2, ['libpq']],
    guard  => [3, ['fcgi', 'json-c', 'libpq']],
    routes => [4, ['fcgi', 'json-c', 'libpq']],
    cmd    => [5, ['fcgi', 'json-c', 'libpq', 'seccomp']],
);
# Generated headers and the layer that owns them.
my %GENERATED = ('sql_gen.h' => 'db');
# System headers that belong to a library with a layer restriction.
my @LIBS = (
    [qr{^fcgiapp\.h$|^fcgi_stdio\.h$|^fcgios\.h$|^fastcgi\.h$}, 'fcgi'],
    [qr{^json-c/|^json\.h$}, 'json-c'],
    [qr{^libpq-fe\.h$|^libpq/|^postgres_ext\.h$|^pg_config}, 'libpq'],
    [qr{^seccomp\.h$}, 'seccomp'],
);

sub check_tree {
    my ($top) = @_;
    my @bad;
    opendir my $dh, $top or die "check-layers: $top: $!\n";
    my @dirs = sort grep { !/^\./ && -d "$top/$_" } readdir $dh;
    closedir $dh;
    opendir $dh, $top or die "check-layers: $top: $!\n";
    for (sort grep { /\.[ch]$/ } readdir $dh) {
        push @bad, "$top/$_: a source file outside every layer";
    }
    closedir $dh;
    for my $layer (@dirs) {
        unless ($LAYERS{$layer}) {
            push @bad, "$top/$layer/: not a known layer (add it to tools/check-layers.pl)";
            next;
        }
        my ($rank, $libs) = @{ $LAYERS{$layer} };
        my %may = map { $_ => 1 } @$libs;
        opendir my $ld, "$top/$layer" or die "check-layers: $top/$layer: $!\n";
        for my $f (sort grep { /\.[ch]$/ } readdir $ld) {
            my $path = "$top/$layer/$f";
            open my $fh, '<', $path or die "check-layers: $path: $!\n";
            while (my $line = <$fh>) {
                next unless $line =~ /^\s*#\s*include\s*([<"])([^>"]+)[>"]/;
                my ($q, $inc) = ($1, $2);
                my $where = "$path:$.: #include $q$inc" . ($q eq '<' ? '>' : '"');
                if ($q eq '<') {
                    for my $l (@LIBS) {
                        next unless $inc =~ $l->[0];
                        push @bad, "$where: $layer/ may not use $l->[1]"
                            unless $may{ $l->[1] };
                    }
                    next;
                }
                my $target;
                if ($inc =~ m{^([a-z]+)/[^/]+\.h$}) {
                    $target = $1;
                } elsif ($GENERATED{$inc}) {
                    $target = $GENERATED{$inc};
                } else {
                    push @bad, "$where: name headers by layer (\"layer/name.h\")";
                    next;
                }
                unless ($LAYERS{$target}) {
                    push @bad, "$where: $target/ is not a layer";
                    next;
                }
                next if $target eq $layer;
                my $trank = $LAYERS{$target}[0];
                if ($trank > $rank) {
                    push @bad, "$where: $layer/ (rank $rank) may not include $target/ (rank $trank), a layer above it";
                } elsif ($trank == $rank) {
                    push @bad, "$where: $layer/ and $target/ are one rank: neither may include the other";
                }
            }
            close $fh;
        }
        closedir $ld;
    }
    return @bad;
}

sub self_test {
    my $n = 0;
    my $fail = 0;
    my $case = sub {
        my ($name, $want_bad, %files) = @_;
        my $dir = tempdir(CLEANUP => 1);
        for my $f (keys %files) {
            my ($d) = $f =~ m{^(.*)/};
            mkdir "$dir/$d" if defined $d && !-d "$dir/$d";
            open my $fh, '>', "$dir/$f" or die "$dir/$f: $!\n";
            print $fh $files{$f};
            close $fh;
        }
        my @bad = check_tree($dir);
        $n++;
        my $ok = $want_bad ? @bad > 0 : @bad == 0;
        $fail++ unless $ok;
        print +($ok ? "ok" : "not ok"), " $n - $name\n";
        print "#   $_\n" for @bad;
    };
    $case->('a clean tree passes', 0,
        'core/a.h' => "#include <stddef.h>\n",
        'core/a.c' => "#include <openssl/evp.h>\n#include \"core/a.h\"\n",
        'http/h.c' => "#include <fcgiapp.h>\n#include \"core/a.h\"\n",
        'db/d.c'   => "#include <libpq-fe.h>\n#include \"sql_gen.h\"\n",
        'cmd/m.c'  => "#include \"db/d.h\"\n#include \"http/h.h\"\n");
    $case->('core including http fails', 1,
        'core/a.c' => "#include \"http/http.h\"\n");
    $case->('http including db (same rank) fails', 1,
        'http/h.c' => "#include \"db/db.h\"\n");
    $case->('routes including cmd fails', 1,
        'routes/r.c' => "#include \"cmd/cmd.h\"\n");
    $case->('core using libpq fails', 1,
        'core/a.c' => "#include <libpq-fe.h>\n");
    $case->('core using json-c fails', 1,
        'core/a.c' => "#  include <json-c/json.h>\n");
    $case->('core using libfcgi fails', 1,
        'core/a.c' => "#include <fcgiapp.h>\n");
    $case->('http using libpq fails', 1,
        'http/h.c' => "#include <libpq-fe.h>\n");
    $case->('core including generated sql_gen.h fails', 1,
        'core/a.c' => "#include \"sql_gen.h\"\n");
    $case->('an unknown folder fails', 1,
        'misc/x.c' => "int x;\n");
    $case->('a source file outside the layers fails', 1,
        'loose.c' => "int x;\n");
    $case->('a header named without its layer fails', 1,
        'auth/a.c' => "#include \"auth.h\"\n");
    print "1..$n\n";
    return $fail ? 1 : 0;
}

my $arg = shift // '';
if ($arg eq '--self-test') {
    exit self_test();
}
die "usage: check-layers.pl DIR | --self-test\n" if $arg eq '' || @ARGV;
my @bad = check_tree($arg);
if (@bad) {
    print STDERR "check-layers: $_\n" for @bad;
    printf STDERR "check-layers: %d violation%s\n", scalar @bad, @bad == 1 ? '' : 's';
    exit 1;
}
print "check-layers: $arg follows the layers (core < http, db < auth, mail < guard < routes < cmd)\n";
exit 0;
