# Shared hosting (issue #10): deploy/shared-hosting/ in a user directory of
# an Apache that allows .htaccess (AllowOverride All) and has no
# FcgidInitialEnv at all. The wrapper bulwark.fcgi names a configuration
# outside the web root and every key, DATABASE_URL included, comes from that
# file. tests/run.sh runs the route tests through it too
# (BULWARK_FRONT=shared-hosting); `bulwark migrate` needs nothing but the
# database URL from the hosting panel.
use strict;
use warnings;
use Test::More;
use BulwarkTest;
use BulwarkFront ();

my $s = start_stack(front => 'shared-hosting', workers => 1);
my $home = $s->dir . '/home/alice';
my $httpd = BulwarkFront::slurp($s->dir . '/apache/httpd.conf');
unlike($httpd, qr/FcgidInitialEnv/, "the server's configuration has no FcgidInitialEnv");
like($httpd, qr/^\s*AllowOverride All$/m, 'and allows .htaccess on the user directories');
is($s->prefix, '/~alice/api', 'the API is /~alice/api/ (public_html/api/: .htaccess and bulwark.fcgi)');

my ($e, $pw) = ($s->new_user('shared'))[ 0, 1 ];
my $c = $s->login($e, $pw);
is($c->res->{status}, 200, 'login through the .htaccess rewrite');
is($c->req(GET => '/me')->{status}, 200, 'GET /me with the session cookie');
my $pair = $s->token_pair($e, $pw, 'shared hosting');
is($s->req(GET => '/token/me', bearer => $pair->{accessToken})->{status}, 200, 'GET /token/me: CGIPassAuth in .htaccess passes Authorization');

# The worker: the wrapper's doing.
my ($w) = $s->worker_pids;
my %env = map { /\A([^=]*)=(.*)\z/s ? ($1 => $2) : () } split /\0/, BulwarkFront::slurp("/proc/$w/environ");
is($env{BULWARK_CONFIG}, "$home/bulwark/bulwark.conf", 'the worker runs with BULWARK_CONFIG from bulwark.fcgi');
unlike($env{BULWARK_CONFIG}, qr{/public_html/}, 'a file outside the web root');
is_deeply([ sort grep { /\A(?:BULWARK_(?!CONFIG\z)|DATABASE_URL\z)/ } keys %env ], [], 'no other key in its environment: DATABASE_URL and the rest come from the file');
like(BulwarkFront::slurp("$home/bulwark/bulwark.conf"), qr/^DATABASE_URL=/m, 'the file holds DATABASE_URL');

my $r = BulwarkTest::http(port => $s->port, method => 'GET', path => '/~alice/bulwark/bulwark.conf');
unlike($r->{body}, qr/DATABASE_URL|JWT/, 'the configuration cannot be fetched over HTTP');
$r = $s->req(GET => '/.htaccess');
is($r->{status}, 404, 'the .htaccess itself is a route like any other (404 from the program)');
common_ok($r, '/.htaccess');

# --- migrate with only the database URL, and with only the file
$r = run_cmd(cmd => [ $s->{bin}, 'migrate' ], env => { PATH => $ENV{PATH}, DATABASE_URL => $ENV{DATABASE_URL} }, timeout => 60);
is($r->{exit}, 0, 'bulwark migrate with DATABASE_URL alone (no secret, no other key)') or diag $r->{err};
like($r->{out} . $r->{err}, qr/schema up to date/, 'the schema is up to date');
$r = run_cmd(cmd => [ $s->{bin}, 'migrate' ], env => { PATH => $ENV{PATH}, BULWARK_CONFIG => "$home/bulwark/bulwark.conf" }, timeout => 60);
is($r->{exit}, 0, 'bulwark migrate with BULWARK_CONFIG alone (the database URL from the file)') or diag $r->{err};

$s->log_clean_ok('shared hosting');
$s->stop;
done_testing;
