package BulwarkTest;

# Helpers for the Bulwark integration tests (tests/integration/*.t).
#
# The tests run under tests/run.sh, which starts a throwaway PostgreSQL
# cluster, migrates it and exports:
#   BULWARK_BIN, BULWARK_TEST_DIR, DATABASE_URL, BULWARK_TEST_PGHOST,
#   BULWARK_TEST_PGPORT, BULWARK_TEST_PGDATA, BULWARK_TEST_PGBIN
#
# A "stack" is lighttpd on 127.0.0.1:<free port> in front of one or two pools of
# Bulwark FastCGI workers (spawn-fcgi -F N, or `bulwark serve`), each stack in
# its own directory under BULWARK_TEST_DIR with its own JSON log file.
#
#   my $s = start_stack(workers => 4, env => { BULWARK_SESSION_TTL => 2 });
#   my $r = $s->req(GET => '/health');          # {status, headers, body, json, cookies}
#   my $c = $s->signup($email, $password);      # a client with a cookie jar
#   $c->req(POST => '/logout', csrf => 1);      # sends the jar and X-CSRF-Token
#   $s->stop;                                   # also at END
#
# Fronts: start_stack(front => ...) or BULWARK_FRONT puts another web server
# in front (lighttpd bin-path, Apache + mod_fcgid at / or /auth, shared
# hosting, nginx), each from its shipped deploy/ file (BulwarkFront.pm);
# $s->req prefixes the mount (/auth), local_addr => '127.0.0.2' picks the
# client's address. tests/run.sh runs a set of files through each front.
#
# Tokens (API.md "Tokens"): $s->req(GET => '/token/me', bearer => $access)
# sends Authorization: Bearer; $s->token_pair($email, $pw) logs in through
# /token/login; jwt_decode / jwt_make / jwt_sig_ok take tokens apart and forge
# them with any secret; token_pair_ok, access_token_ok and bearer_401_ok assert
# the contract's shapes.
#
# Mail (API.md "Password reset", "Mail"): stacks write each message to
# <stack dir>/mail (file transport); $s->forgot($email),
# $s->reset_password($token, $pw), $c->change_password($cur, $new) (session)
# and $s->change_password($access, $cur, $new) (bearer) make the requests;
# $s->wait_mail(to => $email, reset => 1) waits for messages delivered after
# the response, $s->reset_token($email) asks for a reset and returns the
# token of the link mailed; parse_mail, mail_queue_rows and fake_sendmail (a
# scriptable BULWARK_SENDMAIL) take the rest apart; $s->bulwark_cmd(...) runs
# `bulwark mail-deliver` and the like with the stack's environment.
#
# Only core Perl modules. HTTP goes over a hand-written HTTP/1.1 client (not
# HTTP::Tiny), so that a test controls every byte: no default Content-Type,
# raw invalid UTF-8 and NUL bodies, chunked uploads, repeated Set-Cookie kept.
#
# Workers: spawn-fcgi 1.6.4 writes one pid per line to -P with -F N; every
# process a stack starts also carries BULWARK_TEST_STACK=<its directory> in
# its environment, which is how respawned workers are found and how
# tests/run.sh kills whatever a crashed test left behind.
#
# As root: spawn-fcgi only refuses uid 0 when asked to switch user (-u), and
# lighttpd runs as root when server.username is unset, so both work unchanged;
# PostgreSQL is the one that must run as `postgres` (pg_ctl below uses runuser).

use strict;
use warnings;
use Exporter 'import';
use Test::More ();
use JSON::PP ();
use IO::Socket::INET ();
use IO::Select ();
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG _exit);
use Time::HiRes qw(time sleep);
use Time::Local qw(timegm);
use Digest::SHA qw(sha256_hex hmac_sha256);
use MIME::Base64 ();
use BulwarkFront ();

our @EXPORT = qw(
  start_stack req signup login
  psql psql_one q_lit pg_stop pg_start pg_ready
  add_user run_cmd bulwark_bin test_dir default_env test_secret
  unique_email unique_password
  common_ok error_is issues_ok user_object_ok cookie_cleared
  session_rows_for_cookie sha256_hex db_at_migration
  rate_limit_count rate_limit_keys lockout_failures reset_counters retry_after_ok
  proc_alive proc_state children_of procs_with_env wait_until parallel parallel_barrier free_port
  fcgi_record fcgi_params fcgi_nv_len
  b64url unb64url jwt_decode jwt_make jwt_sig_ok
  token_pair_ok access_token_ok bearer_401_ok pg_dump_text write_file
  parse_mail mail_date_epoch mail_queue_rows mail_queue_max_id fake_sendmail totp_code
  $JSON_CT @SECURITY_HEADERS %CONTRACT_LOGIN_LIMITS $B64URL_43 $UUID_RE
);

our $JSON_CT = 'application/json; charset=utf-8';

# FastCGI records, to talk to a worker without a web server: one record of
# $type for request $id, padded to 8 bytes; and name-value pairs for PARAMS.
sub fcgi_record {
	my ($type, $id, $content) = @_;
	my $pad = (8 - length($content) % 8) % 8;
	return pack('CCnnCC', 1, $type, $id, length $content, $pad, 0) . $content . ("\0" x $pad);
}
sub fcgi_nv_len { my $l = shift; $l < 128 ? pack('C', $l) : pack('N', $l | 0x80000000) }
sub fcgi_params {
	my (%p) = @_;
	return join '', map { fcgi_nv_len(length $_) . fcgi_nv_len(length $p{$_}) . $_ . $p{$_} } sort keys %p;
}
our @SECURITY_HEADERS = (
	[ 'x-content-type-options',    'nosniff' ],
	[ 'x-frame-options',           'DENY' ],
	[ 'referrer-policy',           'strict-origin-when-cross-origin' ],
	[ 'strict-transport-security', 'max-age=31536000; includeSubDomains' ],
	[ 'content-security-policy',   "default-src 'none'; frame-ancestors 'none'" ],
	[ 'cache-control',             'no-store' ],
);

# The contract's login limits (API.md "Login"), which default_env raises: the
# files that test them start with env => { %CONTRACT_LOGIN_LIMITS, ... }.
our %CONTRACT_LOGIN_LIMITS = (
	BULWARK_LOGIN_IP_LIMIT    => 20,
	BULWARK_LOGIN_EMAIL_LIMIT => 5,
	BULWARK_LOGIN_WINDOW      => 60,
	BULWARK_LOCKOUT_THRESHOLD => 10,
	BULWARK_LOCKOUT_SECONDS   => 900,
);

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
my $TEST_SECRET = 'bulwark-integration-test-secret-0123456789abcdef';
my $TEST_DATA_KEY = 'bulwark-integration-test-data-key-0123456789abcdef';
sub test_data_key { $TEST_DATA_KEY }
my $OWNER = $$;
my @STACKS;
my $CURRENT;
my $SEQ = 0;

# Whole-file watchdog: a hung request must fail the file, not the suite.
$SIG{ALRM} = sub { die "test file timed out (BULWARK_TEST_FILE_TIMEOUT)\n" };
alarm($ENV{BULWARK_TEST_FILE_TIMEOUT} || 150);

# Become a child subreaper so the workers spawn-fcgi forks (and then orphans)
# are reparented to this process and can be reaped, whatever pid 1 is.
eval {
	local $SIG{__WARN__} = sub { };
	require 'syscall.ph';
	syscall(&SYS_prctl(), 36, 1, 0, 0, 0);    # PR_SET_CHILD_SUBREAPER
};

sub cfg {
	my ($k) = @_;
	my $v = $ENV{$k};
	die "$k is not set: run the integration tests through tests/run.sh\n"
	  unless defined $v && length $v;
	return $v;
}
sub bulwark_bin { cfg('BULWARK_BIN') }
sub test_dir    { cfg('BULWARK_TEST_DIR') }
sub test_secret { $TEST_SECRET }

sub unique_email {
	my ($tag) = @_;
	$SEQ++;
	return lc(($tag // 't') . "$$-$SEQ-" . int(rand(1e6)) . '@example.com');
}

sub unique_password {
	$SEQ++;
	return sprintf('Pw-%d-%d-%06x-Secret', $$, $SEQ, int(rand(0xffffff)));
}

# Environment of every Bulwark process the tests start: the inherited one
# without any BULWARK_* setting (BULWARK_TEST_* kept), then the test defaults:
# fast password hashing, login limits out of the way (all tests come from
# 127.0.0.1 and the counters live in the shared database), then $over, where
# an undef value removes the key.
sub default_env {
	my ($dir, $over) = @_;
	my %e = %ENV;
	delete $e{$_} for grep { /^BULWARK_/ && !/^BULWARK_TEST_/ } keys %e;
	%e = (
		%e,
		DATABASE_URL              => cfg('DATABASE_URL'),
		BULWARK_JWT_SECRET        => $TEST_SECRET,
		BULWARK_PASSWORD_HASH     => 'yescrypt',
		BULWARK_PASSWORD_COST     => 1,
		BULWARK_LOGIN_IP_LIMIT    => 1000000,
		BULWARK_LOGIN_EMAIL_LIMIT => 1000000,
		BULWARK_LOCKOUT_THRESHOLD => 1000000,
		BULWARK_SIGNUP_IP_LIMIT   => 1000000,
		BULWARK_RESET_IP_LIMIT    => 1000000,
		BULWARK_RESET_EMAIL_LIMIT => 1000000,
		BULWARK_MAIL_TRANSPORT    => 'file',
		BULWARK_DATA_KEY          => $TEST_DATA_KEY,
		(defined $dir ? (BULWARK_LOG_FILE => "$dir/bulwark.log", BULWARK_MAIL_DIR => "$dir/mail") : ()),
	);
	for my $k (keys %{ $over || {} }) {
		if (defined $over->{$k}) { $e{$k} = $over->{$k} }
		else                     { delete $e{$k} }
	}
	return \%e;
}

# ---------------------------------------------------------------------------
# processes

sub proc_state {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return undef;
	my $st = <$fh>;
	return undef unless defined $st && $st =~ /^\d+ \(.*\) (\S) (\d+)/s;
	return wantarray ? ($1, $2) : $1;
}

# Running (not a zombie, not gone).
sub proc_alive {
	my ($pid) = @_;
	my $st = proc_state($pid);
	return defined $st && $st ne 'Z' && $st ne 'X';
}

sub all_pids {
	opendir(my $d, '/proc') or die "/proc: $!";
	my @p = sort { $a <=> $b } grep { /^\d+$/ } readdir $d;
	return @p;
}

# Living children of $ppid.
sub children_of {
	my ($ppid) = @_;
	my @c;
	for my $pid (all_pids()) {
		my ($st, $pp) = proc_state($pid);
		push @c, $pid if defined $st && $pp == $ppid && $st ne 'Z' && $st ne 'X';
	}
	return @c;
}

# A worker's mail helper (its name, set by prctl): a child, not a worker.
sub is_mail_helper {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/comm") or return 0;
	my $n = <$fh> // '';
	return $n =~ /\Abulwark-mail\n?\z/ ? 1 : 0;
}

# Living processes whose initial environment holds exactly NAME=VALUE.
sub procs_with_env {
	my ($name, $value) = @_;
	my $want = "$name=$value";
	my @r;
	for my $pid (all_pids()) {
		next if $pid == $$;
		open(my $fh, '<', "/proc/$pid/environ") or next;
		local $/;
		my $env = <$fh> // '';
		next unless grep { $_ eq $want } split /\0/, $env;
		push @r, $pid if proc_alive($pid);
	}
	return @r;
}

sub wait_until {
	my ($cond, $timeout, $step) = @_;
	my $end = time + ($timeout // 10);
	while (1) {
		my $v = $cond->();
		return $v if $v;
		return $v if time >= $end;
		sleep($step // 0.05);
	}
}

sub reap { waitpid($_, WNOHANG) for @_ }

# Ends processes by pid: TERM, then KILL after $grace seconds.
sub terminate {
	my ($grace, @pids) = @_;
	@pids = grep { proc_alive($_) } @pids;
	return unless @pids;
	kill 'TERM', @pids;
	wait_until(sub { reap(@pids); !grep { proc_alive($_) } @pids }, $grace // 5);
	my @left = grep { proc_alive($_) } @pids;
	if (@left) {
		kill 'KILL', @left;
		wait_until(sub { reap(@left); !grep { proc_alive($_) } @left }, 5);
	}
	reap(@pids);
}

# run_cmd(cmd => [...], env => {...} (full environment; default %ENV),
#         stdin => $bytes, timeout => $s, cwd => $dir)
# -> {exit, signal, out, err, timed_out}
sub run_cmd {
	my (%o) = @_;
	my $tmp = tempdir('cmd-XXXXXX', DIR => $ENV{BULWARK_TEST_DIR} || '/tmp', CLEANUP => 1);
	{
		open(my $in, '>', "$tmp/in") or die "$tmp/in: $!";
		binmode $in;
		print $in $o{stdin} if defined $o{stdin};
		close $in;
	}
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		eval {
			%ENV = %{ $o{env} } if $o{env};
			chdir($o{cwd} // '/') or die "chdir: $!";
			open(STDIN,  '<', "$tmp/in")  or die;
			open(STDOUT, '>', "$tmp/out") or die;
			open(STDERR, '>', "$tmp/err") or die;
			exec { $o{cmd}[0] } @{ $o{cmd} } or die "exec $o{cmd}[0]: $!\n";
		};
		print STDERR $@;
		_exit(127);
	}
	my $status;
	my $done = wait_until(sub { my $w = waitpid($pid, WNOHANG); $status = $? if $w == $pid; $w == $pid }, $o{timeout} // 30);
	my %r;
	if (!$done) {
		kill 'KILL', $pid;
		waitpid($pid, 0);
		$status = $?;
		$r{timed_out} = 1;
	}
	$r{exit}   = ($status & 127) ? undef : $status >> 8;
	$r{signal} = $status & 127;
	for my $f (qw(out err)) {
		open(my $fh, '<', "$tmp/$f") or next;
		local $/;
		$r{$f} = <$fh> // '';
	}
	return \%r;
}

# In a child about to exec: the socket $fh as fd 3, kept across exec (a
# dup2 onto itself would keep Perl's close-on-exec flag, so go through a
# copy).
sub fd3 {
	my ($fh) = @_;
	my $tmp = POSIX::dup(fileno $fh) // _exit(126);
	POSIX::dup2($tmp, 3) // _exit(126);
	POSIX::close($tmp) if $tmp != 3;
}

sub free_port {
	my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
	  or die "free_port: $!";
	my $p = $s->sockport;
	close $s;
	return $p;
}

# Forks $n children that start together (once all are forked) and each
# return $code->($i) (a string). Returns the list of results in order.
sub parallel {
	my ($n, $code) = @_;
	return parallel_barrier($n, sub { my ($i, $ready) = @_; $ready->(); return $code->($i) });
}

# Forks $n children; child $i runs $code->($i, $ready), where $ready->()
# reports the child ready and blocks until all $n children have done so; the
# parent then releases them together. Returns the results as parallel does.
# Passed as a request's before_last_byte, each child is connected and has sent
# all of its request but the last byte before anyone goes, so the requests
# reach the server at once. A child that never calls $ready is counted ready
# when $code returns.
sub parallel_barrier {
	my ($n, $code) = @_;
	my $tmp = tempdir('par-XXXXXX', DIR => $ENV{BULWARK_TEST_DIR} || '/tmp', CLEANUP => 1);
	pipe(my $go_r, my $go_w) or die "pipe: $!";
	pipe(my $rd_r, my $rd_w) or die "pipe: $!";
	my @pids;
	for my $i (0 .. $n - 1) {
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			close $go_w;
			close $rd_r;
			my $said = 0;
			my $ready = sub {
				return if $said++;
				syswrite($rd_w, 'r', 1);
				close $rd_w;
				my $byte;
				1 while !defined sysread($go_r, $byte, 1) && $!{EINTR};    # EOF: go
			};
			my $out = eval { $code->($i, $ready) };
			$out = "died: $@" unless defined $out;
			$ready->();
			if (open(my $fh, '>', "$tmp/$i")) { print $fh $out; close $fh }
			_exit(0);
		}
		push @pids, $pid;
	}
	close $go_r;
	close $rd_w;
	my $got = 0;
	while ($got < $n) {
		my $k = sysread($rd_r, my $buf, $n - $got);
		next if !defined $k && $!{EINTR};
		last if !$k;
		$got += $k;
	}
	close $rd_r;
	close $go_w;
	waitpid($_, 0) for @pids;
	my @res;
	for my $i (0 .. $n - 1) {
		my $v;
		if (open(my $fh, '<', "$tmp/$i")) { local $/; $v = <$fh> }
		push @res, $v // 'no result';
	}
	return @res;
}

# The TOTP code of a base32 secret for unix time $t (default now), as
# oathtool (Debian's, a client no one here wrote) computes it: RFC 6238,
# SHA-1, 6 digits, 30-second steps.
sub totp_code {
	my ($secret, $t) = @_;
	my $r = run_cmd(cmd => [ 'oathtool', '--totp', '-b', '-N', '@' . int($t // time), $secret ], timeout => 10);
	die "oathtool failed: $r->{err}\n" unless defined $r->{exit} && $r->{exit} == 0;
	chomp(my $c = $r->{out});
	return $c;
}

# ---------------------------------------------------------------------------
# PostgreSQL

sub q_lit {
	my ($s) = @_;
	return 'NULL' unless defined $s;
	$s =~ s/'/''/g;
	return "'$s'";
}

# Runs SQL as the superuser `postgres` over the cluster's socket; returns the
# rows of the last statement as array refs (NULL as undef).
sub psql {
	my ($sql, %o) = @_;
	my @cmd = (
		cfg('BULWARK_TEST_PGBIN') . '/psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
		'-P', "null=\x02", '-F', "\x1f", '-R', "\x1e",
		'-h', cfg('BULWARK_TEST_PGHOST'), '-p', cfg('BULWARK_TEST_PGPORT'),
		'-U', 'postgres', '-d', $o{db} // 'bulwark', '-c', $sql
	);
	my $r = run_cmd(cmd => \@cmd, timeout => 30);
	die "psql failed ($sql): $r->{err}" if !defined $r->{exit} || $r->{exit} != 0;
	my $out = $r->{out};
	$out =~ s/\n\z//;
	return [] if $out eq '';
	return [ map { [ map { $_ eq "\x02" ? undef : $_ } split /\x1f/, $_, -1 ] } split /\x1e/, $out, -1 ];
}

# A new database $name owned by bulwark, its schema built from the
# migrations schema/001 .. schema/$upto as files (not by `bulwark migrate`),
# each recorded in schema_migrations as an older binary would have left it.
# Returns the DATABASE_URL that names it, for `bulwark migrate` to go on.
sub db_at_migration {
	my ($name, $upto) = @_;
	psql("CREATE DATABASE $name OWNER bulwark", db => 'postgres');
	my @files = grep { my ($v) = m{/0*(\d+)_[^/]+\.sql\z}; $v <= $upto } sort glob('schema/0*.sql');
	die "no migrations up to $upto\n" unless @files;
	my $sql = join "\n", 'SET ROLE bulwark;', 'CREATE SCHEMA bulwark;',
	  'CREATE TABLE bulwark.schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());',
	  map {
		my ($v) = m{/0*(\d+)_[^/]+\.sql\z};
		open(my $fh, '<', $_) or die "$_: $!";
		local $/;
		my $text = <$fh>;
		"$text\nINSERT INTO bulwark.schema_migrations (version, name) VALUES ($v, 'by hand');";
	  } @files;
	psql($sql, db => $name);
	(my $url = cfg('DATABASE_URL')) =~ s{/bulwark(?=\?|\z)}{/$name} or die "cannot rename the database in DATABASE_URL";
	return $url;
}

sub psql_one {
	my $rows = psql(@_);
	return @$rows ? $rows->[0][0] : undef;
}

sub pg_ctl {
	my (@args) = @_;
	my @cmd = (cfg('BULWARK_TEST_PGBIN') . '/pg_ctl', '-D', cfg('BULWARK_TEST_PGDATA'), @args);
	unshift @cmd, 'runuser', '-u', 'postgres', '--' if $> == 0;
	my $r = run_cmd(cmd => \@cmd, timeout => 60);
	die "pg_ctl @args failed: $r->{out}$r->{err}" if !defined $r->{exit} || $r->{exit} != 0;
	return $r;
}

sub pg_stop { pg_ctl('-m', 'fast', '-w', '-t', '30', 'stop') }

sub pg_start {
	my $log = $ENV{BULWARK_TEST_PGLOG} || (cfg('BULWARK_TEST_PGDATA') . '/../postgres.log');
	pg_ctl('-l', $log, '-w', '-t', '30', 'start');
}

sub pg_ready {
	my $r = run_cmd(
		cmd => [ cfg('BULWARK_TEST_PGBIN') . '/psql', '-X', '-q', '-At', '-h', cfg('BULWARK_TEST_PGHOST'),
			'-p', cfg('BULWARK_TEST_PGPORT'), '-U', 'postgres', '-d', 'bulwark', '-c', 'SELECT 1' ],
		timeout => 10
	);
	return defined $r->{exit} && $r->{exit} == 0;
}

# Rows of bulwark.sessions whose id_hash is SHA-256 of the cookie value.
sub session_rows_for_cookie {
	my ($value) = @_;
	return psql("SELECT user_id, expires_at FROM bulwark.sessions WHERE id_hash = decode("
		  . q_lit(sha256_hex($value)) . ", 'hex')");
}

# The count of bulwark.rate_limits' row for $key (undef: no row).
sub rate_limit_count { psql_one('SELECT count FROM bulwark.rate_limits WHERE key = ' . q_lit($_[0])) }

# The keys of bulwark.rate_limits LIKE $pattern, sorted (an array ref).
sub rate_limit_keys { [ map { $_->[0] } @{ psql('SELECT key FROM bulwark.rate_limits WHERE key LIKE ' . q_lit($_[0]) . ' ORDER BY key') } ] }

# The failure count of bulwark.lockouts' row for $email (undef: no row).
sub lockout_failures { psql_one('SELECT failures FROM bulwark.lockouts WHERE email = ' . q_lit($_[0])) }

# The login counters are shared by every stack on the cluster and all traffic
# comes from 127.0.0.1: empties bulwark.rate_limits and the lockouts of @emails.
sub reset_counters {
	my (@emails) = @_;
	psql('DELETE FROM bulwark.rate_limits');
	psql('DELETE FROM bulwark.lockouts WHERE email IN (' . join(', ', map { q_lit($_) } @emails) . ')') if @emails;
}

# `bulwark user add --email E [--admin]`, the password on stdin.
sub add_user {
	my ($email, $password, $admin, %o) = @_;
	return run_cmd(
		cmd => [ bulwark_bin(), 'user', 'add', '--email', $email, ($admin ? ('--admin') : ()) ],
		env => default_env(undef, $o{env}),
		stdin => "$password\n",
		timeout => 60,
	);
}

# ---------------------------------------------------------------------------
# HTTP

sub parse_set_cookie {
	my ($raw) = @_;
	my ($nv, @attrs) = split /;/, $raw;
	my ($n, $v) = split /=/, $nv, 2;
	s/^\s+|\s+$//g for grep { defined } $n, $v;
	my %a;
	for (@attrs) {
		my ($k, $val) = split /=/, $_, 2;
		$k =~ s/^\s+|\s+$//g;
		next if $k eq '';
		$val =~ s/^\s+|\s+$//g if defined $val;
		$a{ lc $k } = $val // 1;
	}
	return { name => $n, value => $v // '', attrs => \%a, raw => $raw };
}

my %MON = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5, Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);

# A Set-Cookie that tells the browser to drop the cookie.
sub cookie_cleared {
	my ($c) = @_;
	return 0 unless $c;
	return 1 if $c->{value} eq '';
	return 1 if defined $c->{attrs}{'max-age'} && $c->{attrs}{'max-age'} =~ /^-?\d+$/ && $c->{attrs}{'max-age'} <= 0;
	if (my $e = $c->{attrs}{expires}) {
		if ($e =~ /(\d{1,2})[ -](\w{3})[ -](\d{4}) (\d\d):(\d\d):(\d\d)/ && exists $MON{$2}) {
			return 1 if timegm($6, $5, $4, $1, $MON{$2}, $3) <= time;
		}
	}
	return 0;
}

sub dechunk {
	my ($b) = @_;
	my $out = '';
	while ($b =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
		my $n = hex $1;
		last if $n == 0;
		$out .= substr($b, 0, $n, '');
		$b =~ s/\A\r\n//;
	}
	return $out;
}

# One HTTP/1.1 request on a fresh connection (Connection: close), written and
# read by hand so that bodies, headers and content types are exactly what the
# test says (no default Content-Type), and multiple Set-Cookie are kept.
#   http(port => P, method => M, path => P, headers => [[k, v], ...],
#        body => $bytes, chunked => 1, timeout => 15 (a Host header among
#        headers replaces the default Host: 127.0.0.1:<port>),
#        before_last_byte => $code (called once all but the last byte of the
#        request is written; see parallel_barrier),
#        local_addr => '127.0.0.2' (the client's address: any of 127/8))
sub http {
	my (%a) = @_;
	local $SIG{PIPE} = 'IGNORE';
	my $t0 = time;
	my $deadline = $t0 + ($a{timeout} // 15);
	my %res = (status => 0, headers => {}, header_list => [], body => '', json => undef, cookies => {}, set_cookie => []);
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $a{port}, Proto => 'tcp', Timeout => 5,
		($a{local_addr} ? (LocalAddr => $a{local_addr}) : ()));
	if (!$sock) {
		$res{error} = "connect: $!";
		return \%res;
	}
	binmode $sock;
	# A Host among the headers replaces the default one (reset-link poisoning tests).
	my $own_host = grep { lc $_->[0] eq 'host' } @{ $a{headers} || [] };
	my $req = "$a{method} $a{path} HTTP/1.1\r\n" . ($own_host ? '' : "Host: 127.0.0.1:$a{port}\r\n") . "Connection: close\r\n";
	$req .= "$_->[0]: $_->[1]\r\n" for @{ $a{headers} || [] };
	my $body = $a{body};
	if ($a{chunked} && defined $body) {
		$req .= "Transfer-Encoding: chunked\r\n";
		my $enc = '';
		for (my $i = 0 ; $i < length $body ; $i += 8192) {
			my $part = substr($body, $i, 8192);
			$enc .= sprintf("%x\r\n", length $part) . $part . "\r\n";
		}
		$body = $enc . "0\r\n\r\n";
	}
	elsif (defined $body) {
		$req .= 'Content-Length: ' . length($body) . "\r\n";
	}
	elsif ($a{method} =~ /^(POST|PUT|PATCH|DELETE)$/) {
		$req .= "Content-Length: 0\r\n";
	}
	my $out = $req . "\r\n" . ($body // '');
	my $sel = IO::Select->new($sock);
	my $off = 0;
	my $write_upto = sub {
		my ($upto) = @_;
		while ($off < $upto) {
			my $left = $deadline - time;
			last if $left <= 0 || !$sel->can_write($left);
			my $n = syswrite($sock, $out, ($upto - $off < 65536 ? $upto - $off : 65536), $off);
			if (!defined $n) {
				next if $!{EINTR} || $!{EAGAIN};
				last;    # the server may answer early and close
			}
			$off += $n;
		}
	};
	if ($a{before_last_byte}) {
		# Everything but the last byte, then the caller's barrier, then the
		# rest: the server cannot start on the request before the barrier.
		$write_upto->(length($out) - 1);
		$a{before_last_byte}->();
		$t0 = time;
		$deadline = $t0 + ($a{timeout} // 15);
	}
	$write_upto->(length $out);
	my $buf = '';
	while (1) {
		my $left = $deadline - time;
		if ($left <= 0 || !$sel->can_read($left)) {
			$res{error} = 'timeout';
			last;
		}
		my $n = sysread($sock, $buf, 65536, length $buf);
		last if !$n;
	}
	close $sock;
	$res{elapsed} = time - $t0;
	$res{raw} = $buf;
	my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
	if (!defined $head || $head !~ m{\AHTTP/1\.[01] (\d{3})(?: ([^\r\n]*))?}) {
		$res{error} //= 'no HTTP response';
		return \%res;
	}
	$res{status} = $1 + 0;
	$res{reason} = $2;
	my @lines = split /\r\n/, $head;
	shift @lines;
	for my $l (@lines) {
		next unless $l =~ /^([^:]+):\s*(.*?)\s*$/;
		my ($k, $v) = (lc $1, $2);
		push @{ $res{header_list} }, [ $k, $v ];
		if ($k eq 'set-cookie') {
			push @{ $res{set_cookie} }, $v;
			my $c = parse_set_cookie($v);
			$res{cookies}{ $c->{name} } = $c;
		}
		elsif (exists $res{headers}{$k}) { $res{headers}{$k} .= ", $v" }
		else                            { $res{headers}{$k} = $v }
	}
	$res{headers}{'set-cookie'} = $res{set_cookie};
	$rest //= '';
	if (($res{headers}{'transfer-encoding'} // '') =~ /chunked/i) {
		$rest = dechunk($rest);
	}
	elsif (defined(my $cl = $res{headers}{'content-length'})) {
		$res{short_body} = 1 if length($rest) < $cl;
	}
	$res{body} = $rest;
	$res{json} = eval { $JSON->decode($rest) } if length $rest;
	return \%res;
}

sub req   { ($CURRENT or die "no stack started\n")->req(@_) }
sub signup { ($CURRENT or die "no stack started\n")->signup(@_) }
sub login { ($CURRENT or die "no stack started\n")->login(@_) }

# ---------------------------------------------------------------------------
# assertions (each emits Test::More results)

# Headers and body every response must have (API.md "Every response"). One
# assertion, with the problems as diagnostics.
sub common_ok {
	my ($r, $name) = @_;
	my @bad;
	push @bad, "no HTTP response ($r->{error})" if !$r->{status};
	my $ct = $r->{headers}{'content-type'};
	push @bad, 'Content-Type is ' . ($ct // 'missing') if !defined $ct || $ct ne $JSON_CT;
	for my $h (@SECURITY_HEADERS) {
		my @v = map { $_->[1] } grep { $_->[0] eq $h->[0] } @{ $r->{header_list} };
		if (@v != 1) { push @bad, "$h->[0] appears " . scalar(@v) . ' times' }
		elsif ($v[0] ne $h->[1]) { push @bad, "$h->[0] is '$v[0]'" }
	}
	push @bad, 'body is not a JSON object: ' . substr($r->{body}, 0, 200)
	  unless ref $r->{json} eq 'HASH';
	push @bad, 'body shorter than Content-Length' if $r->{short_body};
	my $ok = Test::More::ok(!@bad, "$name: JSON content type and security headers");
	Test::More::diag("  $_") for @bad;
	return $ok;
}

# Status, exact {"error": $message} (plus any keys listed in %extra), common headers.
sub error_is {
	my ($r, $status, $message, $name, %extra) = @_;
	my $ok = Test::More::is($r->{status}, $status, "$name: status $status");
	$ok &= Test::More::is(ref $r->{json} eq 'HASH' ? $r->{json}{error} : $r->{body}, $message, "$name: error message");
	if (ref $r->{json} eq 'HASH' && !%extra) {
		$ok &= Test::More::is_deeply([ sort keys %{ $r->{json} } ], ['error'], "$name: only an error key");
	}
	$ok &= common_ok($r, $name);
	return $ok;
}

# 400 {"error":"Invalid request","issues":[{"path":...,"message":...}]} naming $path.
sub issues_ok {
	my ($r, $path, $name) = @_;
	my $j = ref $r->{json} eq 'HASH' ? $r->{json} : {};
	my $ok = Test::More::is($r->{status}, 400, "$name: 400");
	$ok &= Test::More::is($j->{error}, 'Invalid request', "$name: error is 'Invalid request'");
	my $issues = $j->{issues};
	my $well_formed = ref $issues eq 'ARRAY' && @$issues
	  && !grep { ref $_ ne 'HASH' || !defined $_->{path} || ref $_->{path} || !defined $_->{message} || ref $_->{message} || $_->{message} eq '' } @$issues;
	$ok &= Test::More::ok($well_formed, "$name: issues is a list of {path, message}")
	  or Test::More::diag('  body: ' . substr($r->{body}, 0, 300));
	if (defined $path) {
		$ok &= Test::More::ok($well_formed && (grep { $_->{path} eq $path } @$issues), "$name: an issue for '$path'")
		  or Test::More::diag('  body: ' . substr($r->{body}, 0, 300));
	}
	$ok &= common_ok($r, $name);
	return $ok;
}

# One assertion: a Retry-After header in whole seconds, $min..$max.
sub retry_after_ok {
	my ($r, $min, $max, $name) = @_;
	my $ra = $r->{headers}{'retry-after'};
	Test::More::ok(defined $ra && $ra =~ /\A[0-9]+\z/ && $ra >= $min && $ra <= $max, "$name: Retry-After in whole seconds, $min..$max")
	  or Test::More::diag('Retry-After: ' . ($ra // 'missing'));
}

# A user object is exactly {id, email, role, emailVerified, twoFactorEnabled, createdAt}.
sub user_object_ok {
	my ($u, $name, %exp) = @_;
	my @bad;
	if (ref $u ne 'HASH') {
		@bad = ('not an object');
	}
	else {
		my @keys = sort keys %$u;
		my @want = sort qw(id email role emailVerified twoFactorEnabled createdAt);
		push @bad, "keys are [@keys]" if "@keys" ne "@want";
		push @bad, "id '" . ($u->{id} // 'undef') . "' is not a UUID"
		  unless defined $u->{id} && !ref $u->{id} && $u->{id} =~ /\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\z/i;
		push @bad, 'role is ' . ($u->{role} // 'undef') unless defined $u->{role} && $u->{role} =~ /\A(user|admin)\z/;
		for my $b (qw(emailVerified twoFactorEnabled)) {
			push @bad, "$b is not a JSON boolean" unless JSON::PP::is_bool($u->{$b});
		}
		push @bad, 'createdAt ' . ($u->{createdAt} // 'undef') . ' is not an RFC 3339 time'
		  unless defined $u->{createdAt} && !ref $u->{createdAt}
		  && $u->{createdAt} =~ /\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\z/;
		for my $k (sort keys %exp) {
			my $got = $u->{$k};
			$got = $got ? 'true' : 'false' if JSON::PP::is_bool($got);
			push @bad, "$k is '" . ($got // 'undef') . "', expected '$exp{$k}'"
			  unless defined $got && $got eq $exp{$k};
		}
	}
	my $ok = Test::More::ok(!@bad, "$name: user object");
	Test::More::diag("  $_") for @bad;
	return $ok;
}

# ---------------------------------------------------------------------------
# tokens (API.md "Tokens")

# 256 random bits as unpadded base64url (refresh tokens, CSRF tokens, sessions).
our $B64URL_43 = qr/\A[A-Za-z0-9_-]{43}\z/;
our $UUID_RE   = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\z/i;

my $TOKEN_JSON = JSON::PP->new->utf8->canonical->allow_nonref;

sub b64url   { MIME::Base64::encode_base64url($_[0]) }
sub unb64url { MIME::Base64::decode_base64url($_[0]) }

# A token taken apart, undef unless it has exactly three '.'-separated parts:
#   {parts => [h, p, s], input => "h.p", header_json, payload_json (decoded
#    bytes), header, payload (hashes, undef when not a JSON object), sig}
sub jwt_decode {
	my ($t) = @_;
	return undef unless defined $t;
	my @p = split /\./, $t, -1;
	return undef unless @p == 3;
	my %j = (parts => \@p, input => "$p[0].$p[1]", sig => unb64url($p[2]));
	$j{header_json}  = unb64url($p[0]);
	$j{payload_json} = unb64url($p[1]);
	for my $k (qw(header payload)) {
		my $v = eval { $TOKEN_JSON->decode($j{"${k}_json"}) };
		$j{$k} = ref $v eq 'HASH' ? $v : undef;
	}
	return \%j;
}

# A token made by hand: header and payload are hashes (encoded as canonical
# JSON; keep numbers numeric with 0 + $x) or strings (sent as they are, so
# duplicate keys and non-objects can be forged). Signed HS256 with $secret;
# undef: an empty signature part. sig => $bytes replaces the signature,
# hmac => \&Digest::SHA::hmac_sha512 (or any (data, key) sub) the MAC.
sub jwt_make {
	my ($header, $payload, $secret, %o) = @_;
	my $input = join '.', map { b64url(ref $_ ? $TOKEN_JSON->encode($_) : $_) } $header, $payload;
	my $sig = exists $o{sig} ? $o{sig}
	  : defined $secret ? ($o{hmac} || \&Digest::SHA::hmac_sha256)->($input, $secret)
	  : '';
	return "$input." . b64url($sig);
}

# True when the third part is HMAC-SHA256 of "h.p" under $secret, unpadded base64url.
sub jwt_sig_ok {
	my ($t, $secret) = @_;
	my $j = jwt_decode($t) or return 0;
	return $j->{parts}[2] eq b64url(hmac_sha256($j->{input}, $secret));
}

# One assertion: $t is an access token as the server issues it: header
# exactly {"alg":"HS256","typ":"JWT","kid":"<kid>"}, unpadded base64url parts,
# HMAC-SHA256 under $secret (checked here with Digest::SHA), claims exactly
# sub email role jti iat exp iss, iat and exp integers, exp = iat + ttl, iat
# within 5 s of now. Options: kid ('default'), secret (test_secret), ttl (900),
# iss ('bulwark'), claims => {name => expected value}. Returns the payload
# hash when the assertion passed, else undef.
sub access_token_ok {
	my ($t, $name, %o) = @_;
	my $kid    = $o{kid}    // 'default';
	my $secret = $o{secret} // $TEST_SECRET;
	my $ttl    = $o{ttl}    // 900;
	my $iss    = $o{iss}    // 'bulwark';
	my @bad;
	my $j = jwt_decode($t);
	if (!$j) {
		@bad = ('not three dot-separated parts: ' . substr($t // 'undef', 0, 80));
	}
	else {
		push @bad, 'a part is not unpadded base64url' if grep { !/\A[A-Za-z0-9_-]+\z/ } @{ $j->{parts} };
		my $want = qq({"alg":"HS256","typ":"JWT","kid":"$kid"});
		push @bad, "header is $j->{header_json}, expected $want" if $j->{header_json} ne $want;
		push @bad, 'signature is not 32 bytes' if length $j->{sig} != 32;
		push @bad, "signature is not HMAC-SHA256 under the secret of kid $kid" unless jwt_sig_ok($t, $secret);
		my $p = $j->{payload};
		if (!$p) {
			push @bad, 'payload is not a JSON object: ' . substr($j->{payload_json}, 0, 200);
		}
		else {
			my @keys = sort keys %$p;
			push @bad, "claims are [@keys]" if "@keys" ne join(' ', sort qw(sub email role jti iat exp iss));
			for my $k (qw(sub email role jti iss)) {
				push @bad, "$k is not a non-empty string" unless defined $p->{$k} && !ref $p->{$k} && length $p->{$k};
			}
			push @bad, "sub '" . ($p->{sub} // 'undef') . "' is not a UUID" unless defined $p->{sub} && $p->{sub} =~ $UUID_RE;
			for my $k (qw(iat exp)) {
				push @bad, "$k is not a JSON integer" unless $j->{payload_json} =~ /"$k"\s*:\s*[0-9]+\s*[,}]/;
			}
			my ($iat, $exp) = map { ($p->{$_} // '') =~ /\A[0-9]+\z/ ? $p->{$_} : undef } qw(iat exp);
			if (defined $iat && defined $exp) {
				push @bad, 'exp - iat is ' . ($exp - $iat) . ", expected $ttl" if $exp - $iat != $ttl;
				push @bad, "iat $iat is not now (" . int(time) . ')' if abs($iat - time) > 5;
			}
			push @bad, "iss is '" . ($p->{iss} // 'undef') . "', expected '$iss'" if ($p->{iss} // '') ne $iss;
			for my $k (sort keys %{ $o{claims} || {} }) {
				push @bad, "$k is '" . ($p->{$k} // 'undef') . "', expected '$o{claims}{$k}'"
				  if !defined $p->{$k} || $p->{$k} ne $o{claims}{$k};
			}
		}
	}
	my $ok = Test::More::ok(!@bad, "$name: access token (header, HS256 signature, claims)");
	Test::More::diag("  $_") for @bad;
	return $ok ? $j->{payload} : undef;
}

# Three assertions: 200; the body is exactly {accessToken, refreshToken,
# tokenType "Bearer", expiresIn (a JSON number, default 900)} with a 43-character
# base64url refresh token and no session cookie; common_ok. Returns the body
# when all passed, else undef.
sub token_pair_ok {
	my ($r, $name, %o) = @_;
	my $ttl = $o{expires_in} // 900;
	my $st = Test::More::is($r->{status}, 200, "$name: 200");
	my @bad;
	my $j = $r->{json};
	if (ref $j ne 'HASH') {
		@bad = ('body is not a JSON object: ' . substr($r->{body} // '', 0, 200));
	}
	else {
		my @keys = sort keys %$j;
		push @bad, "keys are [@keys]" if "@keys" ne 'accessToken expiresIn refreshToken tokenType';
		push @bad, "tokenType is '" . ($j->{tokenType} // 'undef') . "'" if ($j->{tokenType} // '') ne 'Bearer';
		# expires_in_min: a retry's pair carries what is left of its life.
		my $min = $o{expires_in_min} // $ttl;
		push @bad, "expiresIn is not a JSON number in $min..$ttl"
		  unless $r->{body} =~ /"expiresIn"\s*:\s*([0-9]+)\s*[,}]/ && $1 >= $min && $1 <= $ttl;
		push @bad, 'refreshToken is not 43 base64url characters: ' . ($j->{refreshToken} // 'undef')
		  unless defined $j->{refreshToken} && !ref $j->{refreshToken} && $j->{refreshToken} =~ $B64URL_43;
		push @bad, 'accessToken is not three base64url parts'
		  unless defined $j->{accessToken} && !ref $j->{accessToken} && $j->{accessToken} =~ /\A[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\z/;
		push @bad, 'accessToken equals refreshToken' if defined $j->{accessToken} && defined $j->{refreshToken} && $j->{accessToken} eq $j->{refreshToken};
	}
	push @bad, 'a session cookie was set' if $r->{cookies}{session};
	my $ok = Test::More::ok(!@bad, "$name: the token pair");
	Test::More::diag("  $_") for @bad;
	$ok &= common_ok($r, $name);
	return $st && $ok ? $j : undef;
}

# Four assertions: 401, body exactly {"error":"Unauthorized"}, one
# WWW-Authenticate header, common_ok. The header is exactly
# `Bearer realm="bulwark", error="invalid_token"` when $invalid is true (a token
# was presented), exactly `Bearer realm="bulwark"` when it is false but
# defined (no Authorization), either when undef.
sub bearer_401_ok {
	my ($r, $name, $invalid) = @_;
	my $ok = Test::More::is($r->{status}, 401, "$name: 401");
	$ok &= Test::More::is_deeply($r->{json}, { error => 'Unauthorized' }, "$name: {\"error\":\"Unauthorized\"}")
	  or Test::More::diag('  body: ' . substr($r->{body} // '', 0, 200));
	my @v = map { $_->[1] } grep { $_->[0] eq 'www-authenticate' } @{ $r->{header_list} || [] };
	my $plain = 'Bearer realm="bulwark"';
	my $err   = 'Bearer realm="bulwark", error="invalid_token"';
	my @want  = !defined $invalid ? ($plain, $err) : $invalid ? ($err) : ($plain);
	$ok &= Test::More::ok(@v == 1 && (grep { $_ eq $v[0] } @want), "$name: WWW-Authenticate " . join(' or ', map { "'$_'" } @want))
	  or Test::More::diag('  WWW-Authenticate: ' . (@v ? join(' | ', @v) : 'missing'));
	$ok &= common_ok($r, $name);
	return $ok;
}

# pg_dump of the bulwark database (schema and data) as text.
sub pg_dump_text {
	my $r = run_cmd(
		cmd => [ cfg('BULWARK_TEST_PGBIN') . '/pg_dump', '-h', cfg('BULWARK_TEST_PGHOST'), '-p', cfg('BULWARK_TEST_PGPORT'),
			'-U', 'postgres', '-d', 'bulwark' ],
		timeout => 60,
	);
	die "pg_dump failed: $r->{err}" if !defined $r->{exit} || $r->{exit} != 0;
	return $r->{out};
}

# Writes $bytes to $path (mode $mode, default 0600).
sub write_file {
	my ($path, $bytes, $mode) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	binmode $fh;
	print $fh $bytes;
	close $fh or die "$path: $!";
	chmod($mode // 0600, $path);
	return $path;
}

# ---------------------------------------------------------------------------
# mail (API.md "Password reset", "Mail")
#
# default_env gives every stack BULWARK_MAIL_TRANSPORT=file and
# BULWARK_MAIL_DIR=<stack dir>/mail. Mail is delivered after the response, so
# a test waits for it: $s->wait_mail(to => $email, reset => 1) returns the
# messages (parsed) once there are enough; $s->reset_token($email) asks
# /forgot-password and returns the token of the link mailed. Every token and
# link a message carries is recorded as a stack secret (log_clean_ok).

# A message taken apart (CRLF or LF line endings):
#   raw, head, body; header_list [[name, value], ...] (unfolded; names as
#   written), headers {lc name => first value}, count {lc name => n},
#   bad_header_lines [...] (lines of the head that are not fields);
#   crlf (1: every line break is CRLF, no bare CR or LF); long_lines (lines
#   over 998 characters); to (the address of the first To:, without a
#   display name); tokens [every token=<value> in the message];
#   links [every <url>/reset-password?token=<value> in the body];
#   token (that of the first link, undef without a link).
sub parse_mail {
	my ($raw) = @_;
	$raw //= '';
	my %m = (raw => $raw, header_list => [], headers => {}, count => {}, bad_header_lines => []);
	my ($head, $body) = split /\r?\n\r?\n/, $raw, 2;
	$m{head} = $head // '';
	$m{body} = $body // '';
	$m{crlf} = ($raw !~ /(?<!\r)\n/ && $raw !~ /\r(?!\n)/) ? 1 : 0;
	$m{long_lines} = scalar grep { length > 998 } split /\r?\n/, $raw;
	my @lines;
	for my $l (split /\r?\n/, $m{head}) {
		if ($l =~ /\A[ \t]/ && @lines) { $lines[-1] .= $l }
		else                           { push @lines, $l }
	}
	for my $l (@lines) {
		if ($l =~ /\A([\x21-\x39\x3b-\x7e]+):[ \t]*(.*?)[ \t]*\z/s) {
			push @{ $m{header_list} }, [ $1, $2 ];
			$m{count}{ lc $1 }++;
			$m{headers}{ lc $1 } //= $2;
		}
		else {
			push @{ $m{bad_header_lines} }, $l;
		}
	}
	my $to = $m{headers}{to} // '';
	$m{to} = $to =~ /<([^<>]*)>/ ? $1 : $to =~ s/\A\s+|\s+\z//gr;
	$m{tokens} = [ $raw =~ /token=([^\s&"'<>]*)/g ];
	$m{links}  = [ $m{body} =~ m{([A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]*?/reset-password\?token=[^\s&"'<>]*)}g ];
	$m{token}  = @{ $m{links} } && $m{links}[0] =~ /token=([^\s&"'<>]*)/ ? $1 : undef;
	return \%m;
}

# An RFC 5322 date ("Thu, 1 Jan 2026 12:00:00 +0000") as epoch seconds, undef if it is not one.
sub mail_date_epoch {
	my ($v) = @_;
	return undef unless defined $v
	  && $v =~ /\A(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (\w{3}) (\d{4}) (\d\d):(\d\d)(?::(\d\d))? ([+-])(\d\d)(\d\d)\z/
	  && exists $MON{$2};
	my $t = eval { timegm($6 // 0, $5, $4, $1, $MON{$2}, $3) };
	return undef unless defined $t;
	my $off = ($8 * 3600 + $9 * 60) * ($7 eq '-' ? -1 : 1);
	return $t - $off;
}

# bulwark.mail_queue's rows to $addr, ordered by id, as hashes: id, kind,
# attempts, last_error, sent (1 once sent_at is set), due (1 while
# next_attempt_at <= now()), claimed (1 while claimed_until > now()), nonce_hex.
sub mail_queue_rows {
	my ($addr) = @_;
	my $rows = psql('SELECT id, kind, attempts, last_error, (sent_at IS NOT NULL)::int, (next_attempt_at <= now())::int, '
		  . "coalesce(claimed_until > now(), false)::int, encode(nonce, 'hex') FROM bulwark.mail_queue WHERE to_addr = "
		  . q_lit($addr) . ' ORDER BY id');
	return map { my %h; @h{qw(id kind attempts last_error sent due claimed nonce_hex)} = @$_; \%h } @$rows;
}

# The highest id in bulwark.mail_queue (0 when empty): rows queued later have a larger one.
sub mail_queue_max_id { psql_one('SELECT coalesce(max(id), 0) FROM bulwark.mail_queue') }

# A stand-in for sendmail (BULWARK_SENDMAIL) in a new directory under the
# test directory: a Perl script that reads the message on stdin and records
# each call (ok|fail, time, To:, arguments) in <dir>/calls. While <dir>/fail
# exists it fails, exit 75 (EX_TEMPFAIL), after sleeping as many seconds as
# the file says; otherwise it sleeps as many seconds as <dir>/delay says (if
# it exists) and appends the message and a separator line to <dir>/out,
# under flock, so concurrent calls never interleave.
#   my $sm = fake_sendmail();  $sm->path; $sm->fail(0.5); $sm->fail(undef);
#   $sm->delay(0.1); $sm->messages (parsed, as parse_mail); $sm->calls
sub fake_sendmail {
	my $dir = tempdir('sendmail-XXXXXX', DIR => test_dir());
	chmod 0755, $dir;
	my $sep = $BulwarkTest::Sendmail::SEP;
	write_file("$dir/sendmail", <<"EOS", 0755);
#!/usr/bin/perl
use strict;
use warnings;
use Fcntl qw(:flock);
use Time::HiRes qw(time sleep);
my \$d = '$dir';
binmode STDIN;
my \$msg = do { local \$/; <STDIN> } // '';
sub num { my (\$f) = \@_; open(my \$fh, '<', \$f) or return 0; my \$v = <\$fh> // ''; \$v =~ /([0-9.]+)/ ? \$1 : 0 }
my \$fail = -e "\$d/fail";
my (\$to) = \$msg =~ /^To:[ \\t]*([^\\r\\n]*)/mi;
\$to = \$1 if defined \$to && \$to =~ /<([^<>]*)>/;
\$to = defined \$to && length \$to ? \$to =~ s/\\s+//gr : '-';
if (open(my \$c, '>>', "\$d/calls")) {
	flock(\$c, LOCK_EX);
	print \$c join(' ', \$fail ? 'fail' : 'ok', sprintf('%.3f', time), \$to, \@ARGV), "\\n";
	close \$c;
}
if (\$fail) { sleep(num("\$d/fail")); exit 75 }
sleep(num("\$d/delay")) if -e "\$d/delay";
open(my \$o, '>>', "\$d/out") or exit 74;
binmode \$o;
flock(\$o, LOCK_EX) or exit 74;
print \$o \$msg, "\\n$sep\\n";
close \$o or exit 74;
exit 0;
EOS
	return bless { dir => $dir, path => "$dir/sendmail" }, 'BulwarkTest::Sendmail';
}

package BulwarkTest::Sendmail;

our $SEP = '--- fake-sendmail: end of message ---';

sub dir  { $_[0]{dir} }
sub path { $_[0]{path} }

# fail($seconds): fail from now on, after sleeping $seconds; fail(undef): succeed.
sub fail {
	my ($m, $secs) = @_;
	if (defined $secs) { BulwarkTest::write_file("$m->{dir}/fail", "$secs\n", 0644) }
	else               { unlink "$m->{dir}/fail" }
}

sub delay { BulwarkTest::write_file("$_[0]{dir}/delay", "$_[1]\n", 0644) }

sub read_all {
	my ($f) = @_;
	open(my $fh, '<', $f) or return '';
	binmode $fh;
	local $/;
	return <$fh> // '';
}

# The messages accepted so far, in order, parsed.
sub messages {
	my ($m) = @_;
	my @raw = split /\n\Q$SEP\E\n/, read_all("$m->{dir}/out");
	return map { BulwarkTest::parse_mail($_) } @raw;
}

# The calls so far: [{ok => 0|1, time, to => the address of the message's
# To: (no display name, spaces removed; '-' without one), args => 'the
# arguments'}].
sub calls {
	my ($m) = @_;
	my @c;
	for my $l (split /\n/, read_all("$m->{dir}/calls")) {
		my ($st, $t, $to, @args) = split / /, $l;
		push @c, { ok => ($st eq 'ok' ? 1 : 0), time => $t, to => $to, args => join(' ', @args) };
	}
	return @c;
}

package BulwarkTest;

# ---------------------------------------------------------------------------
# stacks

# The web server in front (API.md's routes through each way Bulwark is
# mounted), from start_stack's front => or else BULWARK_FRONT:
#   lighttpd          (default) lighttpd in front of an external pool
#                     (spawn-fcgi or `bulwark serve`); deploy/lighttpd.conf
#                     for one pool on a Unix socket
#   lighttpd-binpath  lighttpd starts the workers (deploy/lighttpd-binpath.conf)
#   apache            Apache 2.4 + mod_fcgid at the root (deploy/apache-fcgid.conf)
#   apache-auth       the same under /auth: every request path gets the prefix
#   shared-hosting    Apache, AllowOverride All on a user directory, no
#                     FcgidInitialEnv: deploy/shared-hosting/ under /~alice/api
#   nginx             nginx (deploy/nginx.conf, fastcgi_keep_conn on, an
#                     upstream keepalive pool) in front of `bulwark serve`
#   nginx-nokeep      the same with fastcgi_keep_conn off
# Each starts with the shipped file, filled in for this stack's ports and
# paths (tests/lib/BulwarkFront.pm). Where the web server starts the workers
# (lighttpd-binpath, apache*, shared-hosting) they read their configuration
# from <stack dir>/bulwark.conf (BULWARK_CONFIG), written from the stack's
# environment, and pools => N is one pool of N x workers processes.
our @FRONTS = qw(lighttpd lighttpd-binpath apache apache-auth shared-hosting nginx nginx-nokeep);

sub start_stack {
	my (%o) = @_;
	my $front = $o{front} // $ENV{BULWARK_FRONT} // 'lighttpd';
	die "unknown front '$front' (one of @FRONTS)\n" unless grep { $_ eq $front } @FRONTS;
	my $s = bless {
		workers => 4,
		pools   => 1,
		mode    => 'spawn-fcgi',    # or 'serve' (bulwark's own pool), 'socket-activation' (start_pool)
		listen  => 'unix',          # serve mode: 'unix' or 'tcp'
		env     => {},
		%o,
		front   => $front,
		prefix  => '',
		owner   => $$,
		secrets => {},
	}, 'BulwarkTest::Stack';
	my $dir = tempdir('stack-XXXXXX', DIR => test_dir());
	chmod 0755, $dir;
	mkdir "$dir/$_" for qw(docroot mail upload);
	$s->{dir} = $dir;
	$s->{log} = "$dir/bulwark.log";
	push @STACKS, $s;
	$CURRENT = $s;
	BulwarkFront::prepare($s) if $front ne 'lighttpd';
	for my $i (1 .. $s->{pools}) {
		my $p = { n => $i, marker => "$dir/pool$i" };
		if ($s->{mode} eq 'serve' && $s->{listen} eq 'tcp') {
			$p->{tcp} = free_port();
			$p->{listen} = "127.0.0.1:$p->{tcp}";
		}
		else {
			$p->{sock} = "$dir/fcgi$i.sock";
			$p->{listen} = $p->{sock};
		}
		push @{ $s->{pool} }, $p;
	}
	$s->{port} = free_port();
	if ($s->{managed}) {
		BulwarkFront::start($s);
	}
	else {
		$s->start_pool($_) for @{ $s->{pool} };
		if ($front eq 'lighttpd') { $s->start_lighttpd }
		else                      { BulwarkFront::start($s) }
	}
	$s->wait_ready unless defined $o{wait} && !$o{wait};
	BulwarkFront::warm($s) if $s->{managed} && !BulwarkFront::is_apache($s) && !(defined $o{wait} && !$o{wait});
	return $s;
}

END {
	if ($$ == $OWNER) {
		local $?;
		for my $s (reverse @STACKS) { eval { $s->stop } }
	}
}

package BulwarkTest::Client;

# A cookie jar on a stack: sends its cookies, absorbs Set-Cookie.

sub new {
	my ($class, $s) = @_;
	return bless { s => $s, jar => {} }, $class;
}

sub res     { $_[0]{res} }
sub cookie  { $_[0]{jar}{ $_[1] } }
sub session { $_[0]{jar}{session} }
sub csrf    { $_[0]{jar}{csrf_token} }
sub jar     { $_[0]{jar} }

sub set_cookie {
	my ($c, $name, $value) = @_;
	if (defined $value) { $c->{jar}{$name} = $value }
	else                { delete $c->{jar}{$name} }
}

# req(METHOD => $path, %opts) as Stack::req, plus csrf => 1 (send
# X-CSRF-Token = the jar's csrf_token) and cookies => {...} (override the jar;
# an undef value leaves that cookie out).
sub req {
	my ($c, $method, $path, %o) = @_;
	my %ck = (%{ $c->{jar} }, %{ $o{cookies} || {} });
	delete $ck{$_} for grep { !defined $ck{$_} } keys %ck;
	my %h = %{ $o{headers} || {} };
	$h{'X-CSRF-Token'} = $c->{jar}{csrf_token} if $o{csrf} && defined $c->{jar}{csrf_token};
	my $r = $c->{s}->req($method, $path, %o, cookies => \%ck, headers => \%h);
	for my $ck (values %{ $r->{cookies} }) {
		if (BulwarkTest::cookie_cleared($ck)) { delete $c->{jar}{ $ck->{name} } }
		else                                  { $c->{jar}{ $ck->{name} } = $ck->{value} }
	}
	$c->{res} = $r;
	return $r;
}

# POST /me/password {"currentPassword", "newPassword"} on this client's
# session, with X-CSRF-Token unless csrf => 0; both passwords recorded as
# secrets of the stack.
sub change_password {
	my ($c, $current, $new, %o) = @_;
	$c->{s}->secret(grep { defined && !ref } $current, $new);
	return $c->req(POST => '/me/password', csrf => $o{csrf} // 1, body => { currentPassword => $current, newPassword => $new },
		headers => $o{headers});
}

package BulwarkTest::Stack;

use POSIX qw(WNOHANG _exit);
use Time::HiRes qw(time sleep);

# The API's base URL (with the front's prefix: /auth, /~alice/api).
sub url  { "http://127.0.0.1:$_[0]{port}$_[0]{prefix}" }
sub front  { $_[0]{front} }
sub prefix { $_[0]{prefix} }
sub port { $_[0]{port} }
sub dir  { $_[0]{dir} }
sub log_file { $_[0]{log} }

# Strings that must never reach the log (passwords, cookie values).
sub secret {
	my ($s, @v) = @_;
	$s->{secrets}{$_} = 1 for grep { defined && length >= 8 } @v;
}

sub client { BulwarkTest::Client->new($_[0]) }

# req(METHOD => $path,
#     body => $ref (sent as JSON) | $bytes (sent as is),
#     content_type => ... (default application/json when there is a body;
#                          undef: no Content-Type header),
#     headers => {name => value}, cookies => {name => value}, chunked => 1,
#     bearer => $token (Authorization: Bearer $token),
#     timeout => $s, before_last_byte => $code (see parallel_barrier),
#     local_addr => $ip (connect from that loopback address))
# The path is the route: the front's prefix (/auth ...) is put before it.
# Tokens in a JSON answer (accessToken, refreshToken) are recorded as secrets.
sub req {
	my ($s, $method, $path, %o) = @_;
	my @h;
	push @h, [ 'Authorization', "Bearer $o{bearer}" ] if defined $o{bearer};
	my $body = $o{body};
	$body = $JSON->encode($body) if ref $body;
	my $ct = exists $o{content_type} ? $o{content_type} : (defined $body ? $BulwarkTest::JSON_CT =~ s/;.*//r : undef);
	push @h, [ 'Content-Type', $ct ] if defined $ct;
	push @h, [ 'User-Agent', 'bulwark-tests/1' ] unless grep { lc eq 'user-agent' } keys %{ $o{headers} || {} };
	push @h, [ $_, $o{headers}{$_} ] for sort keys %{ $o{headers} || {} };
	my %ck = %{ $o{cookies} || {} };
	push @h, [ 'Cookie', join('; ', map { "$_=$ck{$_}" } sort keys %ck) ] if %ck;
	my $r = BulwarkTest::http(
		port    => $s->{port},
		method  => $method,
		path    => $s->{prefix} . $path,
		local_addr => $o{local_addr},
		headers => \@h,
		body    => $body,
		chunked => $o{chunked},
		timeout => $o{timeout},
		before_last_byte => $o{before_last_byte},
	);
	for my $c (values %{ $r->{cookies} }) {
		$s->secret($c->{value}) if $c->{name} eq 'session' || $c->{name} eq 'csrf_token';
	}
	if (ref $r->{json} eq 'HASH') {
		my $j = $r->{json};
		$s->secret(grep { defined && !ref } map { $j->{$_} } grep { exists $j->{$_} } qw(accessToken refreshToken));
	}
	return $r;
}

# POST /signup and /login through a fresh client; the client's ->res is the
# response, its jar holds session and csrf_token.
sub signup { my $s = shift; $s->post_credentials('/signup', @_) }
sub login  { my $s = shift; $s->post_credentials('/login', @_) }

# POST /token/login {email, password, %extra}; returns the response.
sub token_login {
	my ($s, $email, $password, %extra) = @_;
	$s->secret($password);
	return $s->req(POST => '/token/login', body => { email => $email, password => $password, %extra });
}

# /token/login that must work: one assertion ("setup: /token/login $tag"),
# dying if it fails; returns the body {accessToken, refreshToken, ...}.
sub token_pair {
	my ($s, $email, $password, $tag) = @_;
	my $r = $s->token_login($email, $password);
	Test::More::is($r->{status}, 200, 'setup: /token/login' . (defined $tag ? " $tag" : ''))
	  && ref $r->{json} eq 'HASH' && defined $r->{json}{accessToken} && defined $r->{json}{refreshToken}
	  or die "/token/login does not work: $r->{status} " . substr($r->{body} // '', 0, 200) . "\n";
	return $r->{json};
}

# POST /token/refresh {"refreshToken": $token}; returns the response.
sub refresh {
	my ($s, $token, %o) = @_;
	return $s->req(POST => '/token/refresh', body => { refreshToken => $token }, %o);
}

sub post_credentials {
	my ($s, $path, $email, $password, %o) = @_;
	$s->secret($password);
	my $c = $o{client} || $s->client;
	$c->req(POST => $path, body => { email => $email, password => $password });
	return $c;
}

# Signs up a fresh email and password, one assertion ("setup: signup $tag"),
# dying if it fails; returns (email, password, user id).
sub new_user {
	my ($s, $tag) = @_;
	my $e = BulwarkTest::unique_email($tag);
	my $p = BulwarkTest::unique_password();
	my $c = $s->signup($e, $p);
	Test::More::is($c->res->{status}, 201, "setup: signup $tag") or die "signup does not work\n";
	return ($e, $p, $c->res->{json}{user}{id});
}

# ----- password reset and change (API.md "Password reset", "Mail")

# POST /forgot-password {"email": $email}; returns the response.
sub forgot {
	my ($s, $email, %o) = @_;
	return $s->req(POST => '/forgot-password', body => { email => $email }, %o);
}

# POST /reset-password {"token", "newPassword"} (the password recorded as a
# secret); returns the response.
sub reset_password {
	my ($s, $token, $password, %o) = @_;
	$s->secret($password) if defined $password && !ref $password;
	return $s->req(POST => '/reset-password', body => { token => $token, newPassword => $password }, %o);
}

# POST /me/password with a bearer token (no cookies, no CSRF header); both
# passwords recorded as secrets. Client::change_password is the session form.
sub change_password {
	my ($s, $access, $current, $new, %o) = @_;
	$s->secret(grep { defined && !ref } $current, $new);
	return $s->req(POST => '/me/password', bearer => $access, body => { currentPassword => $current, newPassword => $new }, %o);
}

sub mail_dir { "$_[0]{dir}/mail" }

# Every entry of the mail directory but . and .. (temporary files included), sorted.
sub mail_entries {
	my ($s) = @_;
	opendir(my $d, $s->mail_dir) or return ();
	return sort grep { $_ ne '.' && $_ ne '..' } readdir $d;
}

# The delivered messages' file names (<unix-time>-<id>.eml), by id.
sub mail_names {
	my ($s) = @_;
	my @n = grep { /\A[0-9]+-[0-9]+\.eml\z/ } $s->mail_entries;
	return map { $_->[1] } sort { $a->[0] <=> $b->[0] } map { [ /-([0-9]+)\./, $_ ] } @n;
}

# The delivered messages, parsed (parse_mail) plus file, time and id (from
# the name); to => $addr keeps those whose To: is $addr (case-insensitive),
# reset => 1 those with a reset link, after_id => $n those whose id is
# larger. Records every token and link in them as secrets.
sub mails {
	my ($s, %o) = @_;
	my @m;
	for my $n ($s->mail_names) {
		open(my $fh, '<', $s->mail_dir . "/$n") or next;
		binmode $fh;
		my $raw = do { local $/; <$fh> } // '';
		close $fh;
		my $m = BulwarkTest::parse_mail($raw);
		$m->{file} = $n;
		@$m{qw(time id)} = $n =~ /\A([0-9]+)-([0-9]+)\./;
		$s->secret(grep { length } @{ $m->{tokens} }, @{ $m->{links} });
		next if defined $o{to} && lc($m->{to}) ne lc($o{to});
		next if $o{reset} && !@{ $m->{links} };
		next if defined $o{after_id} && $m->{id} <= $o{after_id};
		push @m, $m;
	}
	return @m;
}

# Waits (timeout => $s, default 10) until mails(%o) finds at least count =>
# $n (default 1) messages; returns what it found last.
sub wait_mail {
	my ($s, %o) = @_;
	my $n = delete $o{count} // 1;
	my $t = delete $o{timeout} // 10;
	my @m;
	BulwarkTest::wait_until(sub { @m = $s->mails(%o); @m >= $n }, $t, 0.02);
	return @m;
}

# POST /forgot-password for $email and the reset message it causes (waited
# for in the mail directory): one assertion ("setup: a reset link mailed
# $tag"), dying without it. Returns the link's token, and in list context
# (token, parsed message, response).
sub reset_token {
	my ($s, $email, $tag, %o) = @_;
	my $addr = lc($email =~ s/\A\s+|\s+\z//gr);
	my $after = BulwarkTest::mail_queue_max_id();
	my $r = $s->forgot($email, %o);
	my ($m) = $r->{status} == 200 ? $s->wait_mail(to => $addr, reset => 1, after_id => $after) : ();
	Test::More::ok($r->{status} == 200 && $m && defined $m->{token}, 'setup: a reset link mailed' . (defined $tag ? " $tag" : ''))
	  or die "/forgot-password does not mail a reset link: $r->{status} " . substr($r->{body} // '', 0, 200) . "\n";
	return wantarray ? ($m->{token}, $m, $r) : $m->{token};
}

# Runs `bulwark @args` with the environment this stack's workers get (e.g.
# mail-deliver, mail-status); a trailing hash ref is run_cmd options
# (stdin, timeout). Returns run_cmd's result.
sub bulwark_cmd {
	my ($s, @args) = @_;
	my %o = ref $args[-1] eq 'HASH' ? %{ pop @args } : ();
	my $e = $s->worker_env($s->{pool}[0]);
	$e->{BULWARK_TEST_STACK} = "$s->{dir}/cmd";    # not one of the pool's workers
	return BulwarkTest::run_cmd(cmd => [ BulwarkTest::bulwark_bin(), @args ], env => $e, cwd => $s->{dir},
		timeout => $o{timeout} // 60, stdin => $o{stdin});
}

# ----- processes

sub worker_env {
	my ($s, $p) = @_;
	my $e = BulwarkTest::default_env($s->{dir}, $s->{env});
	$e->{BULWARK_PUBLIC_URL} //= $s->url;
	$e->{BULWARK_TEST_STACK} = $p->{marker};    # see tests/run.sh cleanup
	return $e;
}

sub record_pids {
	my ($s, @pids) = @_;
	open(my $fh, '>>', "$s->{dir}/pids") or return;
	print $fh "$_\n" for @pids;
	close $fh;
}

sub start_pool {
	my ($s, $p) = @_;
	my $bin = BulwarkTest::bulwark_bin();
	unlink $p->{sock} if $p->{sock} && !$p->{activation};
	# mode 'socket-activation': `bulwark serve --workers N` started as
	# systemd starts it (bulwark.socket): the socket is bound here, stays
	# open here across restarts, and is the pool's fd 3 with LISTEN_FDS=1
	# and LISTEN_PID its pid.
	if ($s->{mode} eq 'socket-activation' && !$p->{activation}) {
		require IO::Socket::UNIX;
		$p->{activation} = IO::Socket::UNIX->new(Local => $p->{sock}, Listen => 1024, Type => Socket::SOCK_STREAM())
		  or die "bind $p->{sock}: $!";
		chmod 0660, $p->{sock};
	}
	if ($s->{mode} eq 'serve' || $s->{mode} eq 'socket-activation') {
		my $env = $s->worker_env($p);
		my $out = "$s->{dir}/serve$p->{n}.out";
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			%ENV = %$env;
			chdir $s->{dir};
			open(STDIN, '<', '/dev/null');
			open(STDOUT, '>>', $out);
			open(STDERR, '>>', $out);
			if ($p->{activation}) {
				BulwarkTest::fd3($p->{activation});
				@ENV{qw(LISTEN_FDS LISTEN_PID)} = (1, $$);
				exec({ $bin } $bin, "serve", "--workers", $s->{workers}) or _exit(127);
			}
			exec({ $bin } $bin, "serve", "--listen", $p->{listen}, "--workers", $s->{workers}) or _exit(127);
		}
		$p->{master} = $pid;
		$s->record_pids($pid);
		my $up = $p->{activation} ? BulwarkTest::wait_until(sub { waitpid($pid, WNOHANG) != $pid && grep { $_ != $pid } $s->worker_pids }, 15)
		  : BulwarkTest::wait_until(sub {
			return 0 if waitpid($pid, WNOHANG) == $pid;
			return $p->{sock} ? -S $p->{sock} : IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p->{tcp}, Proto => 'tcp');
		}, 15);
		die "bulwark serve --listen $p->{listen} did not come up:\n" . $s->tail($out) . $s->tail($s->{log}) unless $up;
		BulwarkFront::pool_started($s, $p);
		return;
	}
	my $pidfile = "$p->{marker}.pid";
	unlink $pidfile;
	my $r = BulwarkTest::run_cmd(
		cmd => [ 'spawn-fcgi', '-s', $p->{sock}, '-M', '0660', '-F', $s->{workers}, '-P', $pidfile, '--', $bin ],
		env => $s->worker_env($p),
		cwd => $s->{dir},
		timeout => 30,
	);
	my @pids;
	if (open(my $fh, '<', $pidfile)) { @pids = grep { /^\d+$/ } map { s/\s+//gr } <$fh> }
	$s->record_pids(@pids);
	$p->{pids} = \@pids;
	die "spawn-fcgi failed ($r->{exit}): $r->{out}$r->{err}" . $s->tail($s->{log})
	  if !defined $r->{exit} || $r->{exit} != 0;
}

# Living worker processes of one pool (or all), found by their environment
# marker, so a respawned worker is found too. Pool masters are not workers,
# nor is a worker's mail helper (mail/helper.c, named bulwark-mail).
sub worker_pids {
	my ($s, $n) = @_;
	return BulwarkFront::worker_pids($s) if $s->{managed};
	my @pools = defined $n ? ($s->{pool}[ $n - 1 ]) : @{ $s->{pool} };
	my @r;
	for my $p (@pools) {
		my %master = map { $_ => 1 } grep { defined } $p->{master};
		push @r, grep { !$master{$_} && !BulwarkTest::is_mail_helper($_) }
		  BulwarkTest::procs_with_env('BULWARK_TEST_STACK', $p->{marker});
	}
	return sort { $a <=> $b } @r;
}

sub master_pid { $_[0]{pool}[ ($_[1] // 1) - 1 ]{master} }

sub stop_pool {
	my ($s, $p) = @_;
	if (my $m = delete $p->{master}) {
		BulwarkTest::terminate(10, $m);
	}
	my @w = BulwarkTest::procs_with_env('BULWARK_TEST_STACK', $p->{marker});
	push @w, @{ $p->{pids} || [] };
	BulwarkTest::terminate(5, @w);
	unlink $p->{sock} if $p->{sock} && !$p->{activation};    # systemd's socket stays
}

sub start_lighttpd {
	my ($s) = @_;
	my $conf = "$s->{dir}/lighttpd.conf";
	my $err  = "$s->{dir}/lighttpd.error.log";
	for my $attempt (1 .. 5) {
		my $fastcgi;
		my @pools = @{ $s->{pool} };
		if (@pools == 1 && $pools[0]{sock}) {
			# One pool on a Unix socket: the shipped deploy/lighttpd.conf.
			BulwarkFront::spew("$s->{dir}/lighttpd-bulwark.conf",
				BulwarkFront::fill('lighttpd.conf', '/run/bulwark/bulwark.sock' => $pools[0]{sock}));
			$fastcgi = qq(include "$s->{dir}/lighttpd-bulwark.conf"\n);
		}
		else {
			# Two pools, or TCP: what deploy/lighttpd.conf does, for each.
			my @hosts;
			for my $p (@pools) {
				my $where = $p->{sock} ? qq("socket" => "$p->{sock}") : qq("host" => "127.0.0.1", "port" => $p->{tcp});
				push @hosts, qq(    "pool$p->{n}" => ( $where, "check-local" => "disable", "fix-root-scriptname" => "enable" ));
			}
			$fastcgi = <<"EOF";
server.modules = ( "mod_fastcgi" )
# KB: large enough that Bulwark, not lighttpd, answers 413 above 64 KiB.
server.max-request-size = 1024
fastcgi.balance = "round-robin"
fastcgi.server = ( "/" => (
@{[ join(",\n", @hosts) ]}
) )
EOF
		}
		open(my $fh, '>', $conf) or die "$conf: $!";
		print $fh <<"EOF";
server.document-root = "$s->{dir}/docroot"
server.upload-dirs = ( "$s->{dir}/upload" )
server.bind = "127.0.0.1"
server.port = $s->{port}
server.errorlog = "$err"
$fastcgi
EOF
		close $fh;
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			%ENV = (PATH => $ENV{PATH} // '/usr/sbin:/usr/bin:/sbin:/bin', BULWARK_TEST_STACK => "$s->{dir}/lighttpd");
			open(STDIN, '<', '/dev/null');
			open(STDOUT, '>>', "$s->{dir}/lighttpd.out");
			open(STDERR, '>>', "$s->{dir}/lighttpd.out");
			exec("lighttpd", "-D", "-f", $conf) or _exit(127);
		}
		my $up = BulwarkTest::wait_until(sub {
			return -1 if waitpid($pid, WNOHANG) == $pid;
			return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->{port}, Proto => 'tcp') ? 1 : 0;
		}, 10);
		if ($up && $up != -1) {
			$s->{lighttpd} = $pid;
			$s->record_pids($pid);
			return;
		}
		kill 'KILL', $pid if $up != -1;
		waitpid($pid, 0);
		$s->{port} = BulwarkTest::free_port();    # probably lost a port race
	}
	die "lighttpd did not start:\n" . $s->tail("$s->{dir}/lighttpd.out") . $s->tail($err);
}

sub tail {
	my ($s, $f, $n) = @_;
	open(my $fh, '<', $f) or return "($f: none)\n";
	my @l = <$fh>;
	splice(@l, 0, @l - ($n // 20)) if @l > ($n // 20);
	return "--- $f\n" . join('', @l);
}

# Waits until GET /health is answered by Bulwark (a JSON body) with 200.
sub wait_ready {
	my ($s, %o) = @_;
	my $want = $o{status} // 200;
	my $last;
	my $ok = BulwarkTest::wait_until(sub {
		$last = $s->req(GET => '/health', timeout => 5);
		return $last->{status} == $want && ref $last->{json} eq 'HASH';
	}, $o{timeout} // 20, 0.1);
	return 1 if $ok;
	die "stack in $s->{dir} not ready: GET /health -> $last->{status} "
	  . substr($last->{body} // '', 0, 200) . "\n"
	  . $s->tail("$s->{dir}/lighttpd.error.log") . $s->tail($s->{log}) . BulwarkFront::diag_tail($s)
	  . join('', map { $s->tail("$s->{dir}/serve$_->{n}.out") } grep { $s->{mode} eq 'serve' } @{ $s->{pool} });
}

# Stops the workers and starts them again (same sockets, same lighttpd),
# with the environment changed by $o{env} (undef values remove a key).
sub restart_workers {
	my ($s, %o) = @_;
	$s->{env} = { %{ $s->{env} }, %{ $o{env} || {} } } if $o{env};
	if ($s->{managed}) {    # the web server starts the workers: restart it
		BulwarkFront::stop($s);
		BulwarkFront::start($s);
	}
	else {
		$s->stop_pool($_) for @{ $s->{pool} };
		$s->start_pool($_) for @{ $s->{pool} };
	}
	return if defined $o{wait} && !$o{wait};
	$s->wait_ready;
	BulwarkFront::warm($s) if $s->{managed} && !BulwarkFront::is_apache($s);
}

sub stop {
	my ($s) = @_;
	return if $s->{stopped} || $$ != $s->{owner};
	$s->{stopped} = 1;
	BulwarkTest::terminate(5, delete $s->{lighttpd}) if $s->{lighttpd};
	BulwarkFront::stop($s) if $s->{front} ne 'lighttpd';
	$s->stop_pool($_) for @{ $s->{pool} || [] };
}

sub DESTROY { local ($@, $!, $?); eval { $_[0]->stop } }

# ----- the log

sub log_raw {
	my ($s) = @_;
	open(my $fh, '<', $s->{log}) or return '';
	binmode $fh;
	local $/;
	return <$fh> // '';
}

# Byte offset to pass as since => to log_lines.
sub log_mark { -s $_[0]{log} // 0 }

# Parsed log lines (hashes); a line that is not a JSON object becomes
# {_invalid => $line}.
sub log_lines {
	my ($s, %o) = @_;
	my $raw = $s->log_raw;
	$raw = substr($raw, $o{since}) if $o{since};
	my @r;
	for my $l (split /\n/, $raw) {
		my $j = eval { $JSON->decode($l) };
		push @r, ref $j eq 'HASH' ? $j : { _invalid => $l };
	}
	return @r;
}

# The log lines since $mark (0: all) whose event is $event and fields equal %match.
sub events {
	my ($s, $mark, $event, %match) = @_;
	return grep {
		my $l = $_;
		($l->{event} // '') eq $event && !grep { ($l->{$_} // '') ne $match{$_} } keys %match
	} $s->log_lines(since => $mark);
}

# Waits until $cond->(@lines) is true; returns the lines.
sub wait_log {
	my ($s, $cond, %o) = @_;
	my @l;
	BulwarkTest::wait_until(sub { @l = $s->log_lines(%o); $cond->(@l) }, $o{timeout} // 5);
	return @l;
}

# One assertion: no recorded secret (password, session or CSRF cookie value)
# appears anywhere in the log.
sub log_clean_ok {
	my ($s, $name) = @_;
	my $raw = $s->log_raw;
	my @leaks = grep { index($raw, $_) >= 0 } sort keys %{ $s->{secrets} };
	my $ok = Test::More::ok(length($raw) && !@leaks,
		($name // 'log') . ': no password or cookie value in the log (' . scalar(keys %{ $s->{secrets} }) . ' checked)');
	Test::More::diag('  log is empty') unless length $raw;
	Test::More::diag("  leaked: $_") for @leaks;
	return $ok;
}

1;
