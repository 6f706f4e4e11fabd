# deploy/nginx.conf as shipped (issue #10): `nginx -t` accepts it once its
# certificate paths name a certificate (and refuses it without one: the
# placeholder is needed); it keeps FastCGI connections (fastcgi_keep_conn
# on, an upstream keepalive pool, issue #11) and mounts at the root with
# SCRIPT_NAME empty and PATH_INFO the route. The requests themselves go
# through nginx in 80_fronts.t and tests/run.sh (BULWARK_FRONT=nginx-nokeep).
use strict;
use warnings;
use Test::More;
use BulwarkTest;
use BulwarkFront ();

my $shipped = BulwarkFront::slurp(BulwarkFront::deploy_dir() . '/nginx.conf');
like($shipped, qr/^\s*listen 443 ssl;/m, 'it listens with TLS on 443');
like($shipped, qr/^\s*fastcgi_keep_conn on;/m, 'fastcgi_keep_conn on');
like($shipped, qr/^upstream bulwark \{[^}]*^\s*keepalive \d+;/ms, 'an upstream with a keepalive pool');
like($shipped, qr/^\s*fastcgi_split_path_info \^\(\)\(\/\.\*\)\$;/m, 'SCRIPT_NAME is the (empty) mount, PATH_INFO the route');

my ($cert, $key) = BulwarkFront::tls_files();
my $ndir = test_dir() . '/nginx-t';
BulwarkFront::nginx_main($ndir);
# As shipped: only the certificate and the socket filled in, listen 443 ssl kept.
my $site = BulwarkFront::fill('nginx.conf',
	'/etc/ssl/certs/auth.example.com.pem'   => $cert,
	'/etc/ssl/private/auth.example.com.key' => $key);
BulwarkFront::spew("$ndir/site.conf", $site);
my @t = ('nginx', '-t', '-p', "$ndir/", '-e', "$ndir/error.log", '-c', "$ndir/nginx.conf");
my $r = run_cmd(cmd => \@t, timeout => 30);
is($r->{exit}, 0, 'nginx -t: the shipped file with a certificate filled in') or diag $r->{err};
like($r->{err}, qr/test is successful/, 'nginx says the test is successful');

(my $nocert = $site) =~ s/^\s*ssl_certificate(?:_key)?\s[^\n]*\n//mg;
BulwarkFront::spew("$ndir/site.conf", $nocert);
$r = run_cmd(cmd => \@t, timeout => 30);
isnt($r->{exit}, 0, 'without the certificate lines nginx -t fails');
like($r->{err}, qr/no "ssl_certificate" is defined/, 'for want of ssl_certificate');

done_testing;
