# examples/browser/ in a real browser (headless Chromium through Selenium):
# served on the API's own origin by the development front end
# (deploy/lighttpd-dev.conf.in, as make run serves it), then from another
# origin listed in BULWARK_CORS_ORIGINS, then from an unlisted one, where
# the browser must refuse to make the calls at all (the preflight gets no
# CORS header) and nothing changes on the server.
use strict;
use warnings;
use Test::More;
use Cwd ();
use File::Path ();
use JSON::PP ();
use POSIX qw(_exit);
use BulwarkTest;

my $root = Cwd::getcwd();
for my $f ('/usr/bin/chromium', '/usr/bin/chromedriver', '/usr/bin/python3') {
	ok(-x $f, "$f is installed (make deps)") or BAIL_OUT("$f missing: make deps installs chromium, chromium-driver, python3-selenium");
}
my ($listed, $unlisted) = (free_port(), free_port());
my $s = start_stack(workers => 2, env => { BULWARK_CORS_ORIGINS => "http://localhost:$listed", BULWARK_COOKIE_SECURE => 0 });
my $dir = $s->dir;

# The pages: examples/browser/ under a document root of their own.
File::Path::make_path("$dir/www/examples", "$dir/www/static", "$dir/front", "$dir/pages");
system('cp', '-R', "$root/examples/browser", "$dir/www/examples/browser") == 0 or die "cp: $?";
write_file("$dir/www/static/ok.txt", "ok\n", 0644);

my @pids;
sub lighttpd_up {
	my ($conf, $port) = @_;
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', "$conf.out");
		open(STDERR, '>>', "$conf.out");
		exec('lighttpd', '-D', '-f', $conf) or _exit(127);
	}
	push @pids, $pid;
	wait_until(sub { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') }, 10)
	  or die "lighttpd $conf did not start: " . `cat $conf.out`;
}
END { local $?; BulwarkTest::terminate(5, @pids) if @pids }

# The development front end, as make run fills it in, on the stack's pool.
my $front = free_port();
my $conf = do { local (@ARGV, $/) = "$root/deploy/lighttpd-dev.conf.in"; <> };
my %fill = (BIND => '127.0.0.1', PORT => $front, DOCROOT => "$dir/www", VARDIR => "$dir/front", SOCKET => $s->{pool}[0]{sock});
$conf =~ s/\@(BIND|PORT|DOCROOT|VARDIR|SOCKET)\@/$fill{$1}/g;
write_file("$dir/front/lighttpd.conf", $conf, 0644);
lighttpd_up("$dir/front/lighttpd.conf", $front);
# Pages alone (no API) on two more origins.
write_file("$dir/pages/lighttpd.conf", <<"CONF", 0644);
server.modules = ( "mod_indexfile", "mod_staticfile" )
server.document-root = "$dir/www"
server.bind = "127.0.0.1"
server.port = $listed
\$SERVER["socket"] == "127.0.0.1:$unlisted" { }
server.errorlog = "$dir/pages/error.log"
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html; charset=utf-8", ".js" => "text/javascript; charset=utf-8", ".css" => "text/css" )
CONF
lighttpd_up("$dir/pages/lighttpd.conf", $listed);

my $sessions_route = $s->req(GET => '/me/sessions')->{status} != 404;
my $json = JSON::PP->new;
sub drive {
	my ($url, $email, $pw) = @_;
	$s->secret($pw);
	my $r = run_cmd(cmd => [ '/usr/bin/python3', "$root/tests/lib/browser_drive.py", $url, $email, $pw ], env => { %ENV, HOME => $dir },
		timeout => 180);
	my $out = eval { $json->decode($r->{out}) };
	ok($out, "the browser ran ($url)") or diag "exit $r->{exit}\n$r->{err}\n$r->{out}";
	return $out || { steps => [] };
}
sub steps_ok {
	my ($out, $email, $name) = @_;
	my %st = map { $_->{step} => $_ } @{ $out->{steps} };
	is($st{load}{state}, 'signed out', "$name: the page loads signed out");
	is($st{signup}{state}, 'signed in', "$name: sign up signs in") or diag explain $out;
	is($st{signup}{me_email}, $email, "$name: the page shows /me's email");
	is($st{signup}{me_role}, 'user', "$name: and role");
	if ($sessions_route) {
		ok((grep { /\(this one\)/ } @{ $st{signup}{sessions} || [] }), "$name: the sessions list marks this one") or diag explain $st{signup};
	}
	else {
		is_deeply($st{signup}{sessions}, ['session listing is not available on this API'], "$name: no /me/sessions here, and the page says so");
	}
	is($st{logout}{state}, 'signed out', "$name: log out (POST /logout with X-CSRF-Token)") or diag explain $st{logout};
	is($st{logout}{error}, '', "$name: without an error");
	is($st{login}{state}, 'signed in', "$name: log in");
	is($st{login}{me_email}, $email, "$name: /me after login");
	is($st{reload}{state}, 'signed in', "$name: a reload keeps the session (the cookie)");
	is($st{'logout again'}{state}, 'signed out', "$name: log out again");
	is($st{'reload after logout'}{state}, 'signed out', "$name: and after a reload it stays out");
	is(psql_one('SELECT count(*) FROM bulwark.sessions s JOIN bulwark.users u ON u.id = s.user_id WHERE u.email = ' . q_lit($email)), 0,
		"$name: no session of the user is left on the server");
}

# --- same origin: the page and the API behind one lighttpd
my $mark = $s->log_mark;
my $email = unique_email('browser');
my $out = drive("http://localhost:$front/examples/browser/", $email, unique_password());
steps_ok($out, $email, 'same origin');
is(scalar($s->events($mark, 'csrf_rejected')) + scalar($s->events($mark, 'origin_rejected')), 0, 'same origin: no CSRF or origin refusal');

# --- another origin, listed
$mark = $s->log_mark;
my $api = 'http://localhost:' . $s->port;
$email = unique_email('browsercors');
$out = drive("http://localhost:$listed/examples/browser/?api=$api", $email, unique_password());
steps_ok($out, $email, 'listed origin');
is(scalar($s->events($mark, 'csrf_rejected')) + scalar($s->events($mark, 'origin_rejected')), 0, 'listed origin: no CSRF or origin refusal');
my @pf = grep { ($_->{method} // '') eq 'OPTIONS' && $_->{status} == 200 } $s->events($mark, 'request');
ok(@pf >= 1, 'listed origin: the browser sent preflights and they were answered 200');

# --- another origin, not listed: the browser refuses to send the calls
$mark = $s->log_mark;
$email = unique_email('browserevil');
$out = drive("http://localhost:$unlisted/examples/browser/?api=$api", $email, unique_password());
my %st = map { $_->{step} => $_ } @{ $out->{steps} };
is($st{load}{state}, 'unreachable', 'unlisted origin: the page cannot read /me') or diag explain $out;
is($st{signup}{state}, 'unreachable', 'unlisted origin: sign up fails in the browser');
like($st{signup}{error} // '', qr/Failed to (fetch|reach)/, '  "Failed to fetch"');
is(psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit($email)), 0, '  and no user was made: the preflight stopped it');
my @pre = grep { ($_->{method} // '') eq 'OPTIONS' } $s->events($mark, 'request');
ok(@pre >= 1, '  the server saw the preflight ...');
ok(!grep({ ($_->{method} // '') eq 'POST' } $s->events($mark, 'request')), '  ... and no POST');

$s->log_clean_ok;
done_testing;
