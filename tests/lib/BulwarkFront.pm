package BulwarkFront;

# The web servers in front of a test stack (BulwarkTest.pm's start_stack
# front => ..., or BULWARK_FRONT): lighttpd's bin-path variant, Apache 2.4
# with mod_fcgid (at the root, under /auth, and as shared hosting with only
# an .htaccess), and nginx. Each is started with the file shipped in deploy/,
# filled in for the stack's port and paths by fill(), which dies when a text
# it replaces is no longer in the file, so the tests cannot drift from what
# is shipped. Nothing here touches the machine's own configuration: every
# server gets its own configuration, pid file, logs and sockets in the
# stack's directory.
#
# As root: Apache and nginx run their workers as www-data. So that they can
# reach what the stack uses: the program is hard-linked into the stack's
# directory (the clone may be in a mode-700 /root), the configuration file
# is root:www-data 0640, the log file and the mail directory belong to
# www-data, and PostgreSQL listens on a second socket in a directory of
# group www-data (tests/run.sh: BULWARK_TEST_WEB_DATABASE_URL). nginx
# reaches the pool's socket (0660) because its group is made www-data.

use strict;
use warnings;
use Cwd ();
use File::Basename ();
use File::Copy ();
use File::Path ();
use IO::Socket::INET ();
use POSIX qw(WNOHANG _exit);
use Time::HiRes qw(time sleep);

my $DEPLOY = Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../../deploy');
my $APACHE_MODULES = '/usr/lib/apache2/modules';

sub deploy_dir { $DEPLOY }

sub slurp {
	my ($f) = @_;
	open(my $fh, '<', $f) or die "$f: $!";
	local $/;
	return <$fh>;
}

sub spew {
	my ($f, $text, $mode) = @_;
	open(my $fh, '>', $f) or die "$f: $!";
	print $fh $text;
	close $fh or die "$f: $!";
	chmod($mode // 0644, $f);
}

# The shipped file deploy/$name with each [$from => $to] replaced (a
# string, or a qr// whose first group is kept); dies when one is missing.
sub fill {
	my ($name, @subst) = @_;
	my $text = slurp("$DEPLOY/$name");
	while (my ($from, $to) = splice(@subst, 0, 2)) {
		if (ref $from eq 'Regexp') {
			$text =~ s/$from/$1$to/g or die "deploy/$name no longer matches $from: update tests/lib/BulwarkFront.pm\n";
		}
		else {
			$text =~ s/\Q$from\E/$to/g or die "deploy/$name no longer has '$from': update tests/lib/BulwarkFront.pm\n";
		}
	}
	return $text;
}

sub www_ids {
	my (undef, undef, $uid, $gid) = getpwnam('www-data');
	die "no www-data user (Debian's apache2 and nginx packages make it)\n" unless defined $uid;
	return ($uid, $gid);
}

sub is_apache { $_[0]{front} =~ /\A(apache|apache-auth|shared-hosting)\z/ }
sub is_nginx  { $_[0]{front} =~ /\Anginx/ }

# Called by start_stack before the pools are laid out. Options of
# start_stack read here: fcgid_idle => $s (FcgidIdleTimeout, scanned every
# second) and fcgid_min => $n (FcgidMinProcessesPerClass), for the apache
# fronts; warm => 0 leaves mod_fcgid to start its processes as it likes.
sub prepare {
	my ($s) = @_;
	my $n = $s->{workers} * $s->{pools};
	if (is_nginx($s)) {
		@$s{qw(mode listen workers pools)} = ('serve', 'unix', $n, 1);
		return;
	}
	# The web server starts the workers: one pool of them.
	@$s{qw(managed workers pools)} = (1, $n, 1);
	return unless is_apache($s);
	$s->{prefix} = $s->{front} eq 'apache-auth' ? '/auth' : $s->{front} eq 'shared-hosting' ? '/~alice/api' : '';
	my ($uid, $gid) = www_ids();
	my $dir = $s->{dir};
	spew($s->{log}, '', 0644);
	chown $uid, $gid, $s->{log}, "$dir/mail";
	my $home = "$dir/home/alice";
	$s->{bin_dir} = $s->{front} eq 'shared-hosting' ? "$home/bulwark/bin" : "$dir/bin";
	$s->{conf} = $s->{front} eq 'shared-hosting' ? "$home/bulwark/bulwark.conf" : "$dir/bulwark.conf";
	File::Path::make_path($s->{bin_dir}, "$home/public_html/api", "$dir/apache/fcgid", { mode => 0755 });
	chmod 0755, "$dir/home", $home, "$home/bulwark", $s->{bin_dir}, "$home/public_html", "$home/public_html/api";
	chown $uid, $gid, "$dir/apache/fcgid";
	$s->{bin} = "$s->{bin_dir}/bulwark";
	# One copy of the program that www-data can reach, linked into each
	# stack, so that a stack's workers are the processes running its path.
	my $shared = BulwarkTest::test_dir() . '/www-bin/bulwark';
	if (!-x $shared) {
		mkdir BulwarkTest::test_dir() . '/www-bin', 0755;
		File::Copy::copy(BulwarkTest::bulwark_bin(), "$shared.tmp") or die "copy the program: $!";
		chmod 0755, "$shared.tmp";
		rename "$shared.tmp", $shared or die "$shared: $!";
	}
	link($shared, $s->{bin}) or File::Copy::copy($shared, $s->{bin}) or die "$s->{bin}: $!";
	chmod 0755, $s->{bin};
}

# The stack's environment as a BULWARK_CONFIG file: every BULWARK_* key
# and DATABASE_URL (the test plumbing BULWARK_TEST_* left out).
sub write_config {
	my ($s, $path) = @_;
	my $e = $s->worker_env($s->{pool}[0]);
	if (is_apache($s) && !exists $s->{env}{DATABASE_URL}) {
		$e->{DATABASE_URL} = BulwarkTest::cfg('BULWARK_TEST_WEB_DATABASE_URL');
	}
	my @keys = sort grep { (/\ABULWARK_/ && !/\ABULWARK_TEST_/) || $_ eq 'DATABASE_URL' } keys %$e;
	my $text = "# written by tests/lib/BulwarkFront.pm for $s->{dir}\n" . join('', map { "$_=$e->{$_}\n" } @keys);
	spew($path, $text, 0640);
	if (is_apache($s)) {
		my (undef, $gid) = www_ids();
		chown 0, $gid, $path;
	}
}

# Sanitizer options for workers that cannot write to the test directory
# (www-data): their reports go to www-san/, which tests/run.sh reads too.
sub sanitizer_env {
	my ($s, $www) = @_;
	my %e;
	for my $k (qw(ASAN_OPTIONS UBSAN_OPTIONS)) {
		next unless defined $ENV{$k};
		my $v = $ENV{$k};
		if ($www) {
			my $d = BulwarkTest::test_dir() . '/www-san';
			mkdir $d, 01777;
			chmod 01777, $d;
			$v =~ s{log_path=[^:]*/([^/:]+)}{log_path=$d/$1}g;
		}
		$e{$k} = $v;
	}
	return \%e;
}

# Forks $cmd with environment $env (PATH kept), output to $out; waits for the
# stack's port. Returns the pid, or undef when the server exited or did not
# listen in time (the caller retries on another port).
sub spawn_server {
	my ($s, $cmd, $env, $out) = @_;
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		%ENV = (PATH => $ENV{PATH} // '/usr/sbin:/usr/bin:/sbin:/bin', %$env);
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $out);
		open(STDERR, '>>', $out);
		exec { $cmd->[0] } @$cmd or _exit(127);
	}
	my $up = BulwarkTest::wait_until(sub {
		return -1 if waitpid($pid, WNOHANG) == $pid;
		return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->{port}, Proto => 'tcp') ? 1 : 0;
	}, 15);
	if ($up && $up != -1) {
		$s->record_pids($pid);
		return $pid;
	}
	kill 'KILL', $pid if $up != -1;
	waitpid($pid, 0);
	return undef;
}

sub start {
	my ($s) = @_;
	my $how = is_apache($s) ? \&start_apache : is_nginx($s) ? \&start_nginx : \&start_binpath;
	for my $attempt (1 .. 5) {
		return if $how->($s);
		$s->{port} = BulwarkTest::free_port();    # probably lost a port race
	}
	die "$s->{front} did not start:\n" . diag_tail($s);
}

# ---- lighttpd, bin-path

sub start_binpath {
	my ($s) = @_;
	my $dir = $s->{dir};
	my $p = $s->{pool}[0];
	$s->{conf} = "$dir/bulwark.conf";
	write_config($s, $s->{conf});
	spew("$dir/lighttpd-bulwark.conf", fill('lighttpd-binpath.conf',
		'/run/lighttpd/bulwark.sock' => $p->{sock},
		'/usr/local/bin/bulwark'     => BulwarkTest::bulwark_bin(),
		'/etc/bulwark/bulwark.conf'  => $s->{conf},
		qr/("max-procs"\s*=>\s*)\d+/ => $s->{workers},
	));
	spew("$dir/lighttpd.conf", <<"EOF");
server.document-root = "$dir/docroot"
server.upload-dirs = ( "$dir/upload" )
server.bind = "127.0.0.1"
server.port = $s->{port}
server.errorlog = "$dir/lighttpd.error.log"
include "$dir/lighttpd-bulwark.conf"
EOF
	# lighttpd passes its environment on to the workers it starts (no
	# bin-copy-environment): the marker that finds them, and the
	# sanitizer's options. Their configuration is BULWARK_CONFIG's alone.
	my $pid = spawn_server($s, [ 'lighttpd', '-D', '-f', "$dir/lighttpd.conf" ],
		{ BULWARK_TEST_STACK => $p->{marker}, %{ sanitizer_env($s, 0) } }, "$dir/lighttpd.out")
	  or return 0;
	$s->{front_pid} = $p->{master} = $pid;
	return 1;
}

# ---- Apache + mod_fcgid

sub start_apache {
	my ($s) = @_;
	my $dir  = $s->{dir};
	my $adir = "$dir/apache";
	my $n    = $s->{workers};
	write_config($s, $s->{conf});
	my ($site, $mods, $plumbing);
	if ($s->{front} eq 'shared-hosting') {
		# The hosting provider's part: user directories with AllowOverride
		# All, its process limits; no FcgidInitialEnv at all.
		my $web = "$dir/home/alice/public_html/api";
		spew("$web/.htaccess", fill('shared-hosting/.htaccess'), 0644);
		spew("$web/bulwark.fcgi", fill('shared-hosting/bulwark.fcgi', '/home/USER/bulwark' => "$dir/home/alice/bulwark"), 0755);
		$mods = [qw(mime rewrite userdir dir)];
		$plumbing = "TypesConfig /etc/mime.types\n";
		$site = <<"EOF";
    UserDir "$dir/home/*/public_html"
    <Directory "$dir/home/*/public_html">
        AllowOverride All
        Require all granted
    </Directory>
    FcgidMaxProcessesPerClass $n
    FcgidMinProcessesPerClass $n
EOF
	}
	else {
		spew("$adir/bulwark.conf", fill('apache-fcgid.conf',
			'/etc/bulwark/bulwark.conf'      => $s->{conf},
			'/usr/local/bin/bulwark/'        => "$s->{bin_dir}/bulwark/",
			'ScriptAlias /auth/'             => "ScriptAlias $s->{prefix}/",
			'<Location /auth/>'              => "<Location $s->{prefix}/>",
			qr/(FcgidMaxProcessesPerClass )\d+/ => $n,
			qr/(FcgidMinProcessesPerClass )\d+/ => $s->{fcgid_min} // $n,
			(defined $s->{fcgid_idle} ? (qr/(FcgidIdleTimeout )\d+/ => $s->{fcgid_idle}) : ()),
		));
		$mods = [];
		my $san = sanitizer_env($s, 1);
		$plumbing = join('', map { qq(FcgidInitialEnv $_ "$san->{$_}"\n) } sort keys %$san);
		$site = qq(    Include "$adir/bulwark.conf"\n);
	}
	my $load = join('', map { "LoadModule ${_}_module $APACHE_MODULES/mod_$_.so\n" } qw(mpm_event authz_core alias fcgid), @$mods);
	spew("$adir/httpd.conf", <<"EOF");
# tests/lib/BulwarkFront.pm: Apache for the stack in $dir
ServerRoot "$adir"
ServerName 127.0.0.1
Listen 127.0.0.1:$s->{port}
PidFile "$adir/httpd.pid"
DefaultRuntimeDir "$adir"
Mutex file:$adir default
ErrorLog "$adir/error.log"
LogLevel warn fcgid:info
$load
User www-data
Group www-data
StartServers 1
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 8
MaxSpareThreads 64
DocumentRoot "$dir/docroot"
FcgidIPCDir "$adir/fcgid"
FcgidProcessTableFile "$adir/fcgid_shm"
FcgidMaxProcesses 64
@{[ defined $s->{fcgid_idle} ? "FcgidIdleScanInterval 1\n" : '' ]}$plumbing
<VirtualHost 127.0.0.1:$s->{port}>
    ServerName 127.0.0.1
$site</VirtualHost>
EOF
	unlink "$adir/httpd.pid";
	my $pid = spawn_server($s, [ 'apache2', '-d', $adir, '-f', "$adir/httpd.conf", '-DFOREGROUND' ],
		{ BULWARK_TEST_STACK => "$dir/apache" }, "$adir/apache.out")
	  or return 0;
	$s->{front_pid} = $pid;
	return 1;
}

# ---- nginx

sub tls_files {
	my $d = BulwarkTest::test_dir() . '/tls';
	return ("$d/cert.pem", "$d/key.pem") if -s "$d/cert.pem";
	mkdir $d, 0700;
	my $r = BulwarkTest::run_cmd(cmd => [ 'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
		'-subj', '/CN=auth.example.com', '-keyout', "$d/key.pem", '-out', "$d/cert.pem" ], timeout => 60);
	die "openssl req failed: $r->{err}" unless defined $r->{exit} && $r->{exit} == 0;
	return ("$d/cert.pem", "$d/key.pem");
}

# The shipped deploy/nginx.conf for socket $sock on 127.0.0.1:$port, with a
# test certificate; keep => 0 turns fastcgi_keep_conn off.
sub nginx_site {
	my (%o) = @_;
	my ($cert, $key) = tls_files();
	return fill('nginx.conf',
		'listen 443 ssl;'                        => ($o{ssl} ? "listen 127.0.0.1:$o{port} ssl;" : "listen 127.0.0.1:$o{port};"),
		'/etc/ssl/certs/auth.example.com.pem'    => $cert,
		'/etc/ssl/private/auth.example.com.key'  => $key,
		'unix:/run/bulwark/bulwark.sock'         => "unix:$o{sock}",
		($o{keep} ? () : ('fastcgi_keep_conn on;' => 'fastcgi_keep_conn off;')),
	);
}

# An nginx configuration (its own pid file, logs and temporary files under
# $ndir) around the site; workers as www-data.
sub nginx_main {
	my ($ndir) = @_;
	File::Path::make_path("$ndir/tmp");
	File::Copy::copy('/etc/nginx/fastcgi_params', "$ndir/fastcgi_params") or die "/etc/nginx/fastcgi_params: $!";
	spew("$ndir/nginx.conf", <<"EOF");
# tests/lib/BulwarkFront.pm
daemon off;
master_process on;
worker_processes 1;
user www-data www-data;
pid $ndir/nginx.pid;
error_log $ndir/error.log warn;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $ndir/tmp/body;
    fastcgi_temp_path $ndir/tmp/fastcgi;
    proxy_temp_path $ndir/tmp/proxy;
    uwsgi_temp_path $ndir/tmp/uwsgi;
    scgi_temp_path $ndir/tmp/scgi;
    include $ndir/site.conf;
}
EOF
}

sub start_nginx {
	my ($s) = @_;
	my $ndir = "$s->{dir}/nginx";
	nginx_main($ndir);
	spew("$ndir/site.conf", nginx_site(port => $s->{port}, sock => $s->{pool}[0]{sock}, keep => $s->{front} eq 'nginx'));
	my $pid = spawn_server($s, [ 'nginx', '-p', "$ndir/", '-e', "$ndir/error.log", '-c', "$ndir/nginx.conf" ],
		{ BULWARK_TEST_STACK => "$s->{dir}/nginx" }, "$ndir/nginx.out")
	  or return 0;
	$s->{front_pid} = $pid;
	return 1;
}

# Called by start_pool once the pool's socket exists: nginx's workers
# (www-data) reach the 0660 socket through its group.
sub pool_started {
	my ($s, $p) = @_;
	return unless is_nginx($s) && $p->{sock};
	my (undef, $gid) = www_ids();
	chown -1, $gid, $p->{sock} or die "chgrp $p->{sock}: $!";
}

# ---- workers, warm-up, stop

# Living processes that run the program at $path.
sub procs_running {
	my ($path) = @_;
	my @r;
	opendir(my $d, '/proc') or return ();
	for my $pid (grep { /^\d+$/ } readdir $d) {
		my $exe = readlink("/proc/$pid/exe") // next;
		push @r, $pid if $exe eq $path && BulwarkTest::proc_alive($pid);
	}
	return sort { $a <=> $b } @r;
}

sub worker_pids {
	my ($s) = @_;
	if (is_apache($s)) {
		warm($s) unless $s->{warmed}++;    # a test that asks compares them
		return grep { !BulwarkTest::is_mail_helper($_) } procs_running($s->{bin});
	}
	my $m = $s->{pool}[0]{marker};
	return sort { $a <=> $b } grep { $_ != ($s->{front_pid} // 0) && !BulwarkTest::is_mail_helper($_) }
	  BulwarkTest::procs_with_env('BULWARK_TEST_STACK', $m);
}

# mod_fcgid starts processes as requests come; until all $s->{workers} of
# them run, the set of workers would change under a test that compares it.
# Concurrent requests, released together, make it start them all: done the
# first time a test asks for the workers after a start (warm => 0: never).
# mod_fcgid starts one only for a request that finds every process busy,
# so the bursts are four times the workers wanted: a request is answered
# in well under a millisecond, and twice as many did not always overlap.
sub warm {
	my ($s) = @_;
	return if defined $s->{warm} && !$s->{warm};
	my $n = $s->{workers};
	my $end = time + 20;
	my @w;
	while (1) {
		@w = is_apache($s) ? procs_running($s->{bin}) : worker_pids($s);
		last if @w >= $n || time > $end;
		if (is_apache($s)) {
			BulwarkTest::parallel_barrier(4 * $n, sub {
				my ($i, $ready) = @_;
				my $r = $s->req(GET => '/health', before_last_byte => $ready, timeout => 10);
				return $r->{status};
			});
		}
		else {
			sleep 0.1;
		}
	}
	die "$s->{front}: " . scalar(@w) . " of $n workers running after 20 s\n" . diag_tail($s) if @w < $n;
}

sub stop {
	my ($s) = @_;
	my $pid = delete $s->{front_pid} or return;
	$s->{warmed} = 0;
	delete $s->{pool}[0]{master} if $s->{managed};
	my @w = !$s->{managed} ? () : is_apache($s) ? procs_running($s->{bin}) : worker_pids($s);
	# Apache's own shutdown waits for mod_fcgid's processes in steps of a
	# second: they are told first (SIGTERM, as mod_fcgid does).
	BulwarkTest::terminate(5, @w) if is_apache($s);
	BulwarkTest::terminate(15, $pid);
	# What the server did not stop itself.
	BulwarkTest::terminate(5, grep { BulwarkTest::proc_alive($_) } @w);
	collect_sanitizer_reports($s) if is_apache($s);
}

# Workers without a sanitizer log_path (shared hosting: no FcgidInitialEnv)
# report on stderr, which is Apache's error log: copied where tests/run.sh
# looks for reports.
sub collect_sanitizer_reports {
	my ($s) = @_;
	my $log = "$s->{dir}/apache/error.log";
	return unless -f $log;
	my $text = slurp($log);
	return unless $text =~ /(?:AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:)/;
	my $n = $s->{dir} =~ s{.*/}{}r;
	spew(BulwarkTest::test_dir() . "/asan.apache-$n", $text);
}

sub diag_tail {
	my ($s) = @_;
	my @f = grep { -f } map { "$s->{dir}/$_" } qw(apache/error.log apache/apache.out nginx/error.log nginx/nginx.out lighttpd.out);
	return join('', map { $s->tail($_) } @f);
}

1;
