#!/usr/bin/env bash
# tests/bench/callgrind.sh -- instructions one request costs a Bulwark worker,
# counted by callgrind: exact, and the same on a busy machine (requests/s is
# not).
#
#   tests/bench/callgrind.sh [BULWARK_BIN]      (default build/bulwark)
#
# One throwaway PostgreSQL cluster (deploy/pg-cluster.sh), one worker under
# `valgrind --tool=callgrind` started by spawn-fcgi on a unix socket, and a
# FastCGI client in Perl talking to it directly (no web server: only the
# worker is counted).  For GET /me (session cookies) and GET /token/me
# (bearer): CG_WARMUP requests, counters zeroed, CG_REQUESTS requests,
# counters dumped; printed per request, for a new connection per request
# (what lighttpd does) and for one kept connection (FCGI_KEEP_CONN, what
# nginx with fastcgi_keep_conn does).  The per-request log line is written
# as always (BULWARK_LOG_FILE in the temporary directory).
#
# Environment: CG_REQUESTS (default 1000), CG_WARMUP (default 100),
# CG_KEEP=1 keeps the temporary directory (the callgrind.out files, for
# callgrind_annotate).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
BIN=${1:-build/bulwark}
case $BIN in /*) ;; *) BIN=$root/$BIN ;; esac
N=${CG_REQUESTS:-1000}
W=${CG_WARMUP:-100}
[ -x "$BIN" ] || { echo "callgrind: $BIN is not an executable" >&2; exit 1; }
for t in valgrind callgrind_control spawn-fcgi perl; do
	command -v "$t" >/dev/null || { echo "callgrind: missing $t" >&2; exit 1; }
done

PGC_NAME=callgrind
# shellcheck source=SCRIPTDIR/../../deploy/pg-cluster.sh
. "$root/deploy/pg-cluster.sh"
dir=$(mktemp -d /tmp/bulwark-callgrind.XXXXXX)
chmod 755 "$dir"
pgc_throwaway "$dir/pg"
vg_pid=
cleanup() {
	local rc=$?
	set +e
	if [ -n "$vg_pid" ]; then
		kill -TERM "$vg_pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$vg_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$vg_pid" 2>/dev/null
	fi
	pgc_stop >/dev/null 2>&1
	if [ "${CG_KEEP:-0}" = 1 ]; then echo "callgrind: kept $dir" >&2; else rm -rf "$dir"; fi
	exit "$rc"
}
trap cleanup EXIT INT TERM

pgc_require || { echo "callgrind: no PostgreSQL 15 here" >&2; exit 1; }
pgc_prepare_dir && pgc_initdb && pgc_configure && pgc_start || { tail "$PGC_LOG" >&2; exit 1; }
pgc_create_db >/dev/null
DATABASE_URL=$(pgc_database_url)
export DATABASE_URL
export BULWARK_JWT_SECRET=callgrind-secret-0123456789abcdef0123456789
export BULWARK_COOKIE_SECURE=0
export BULWARK_LOG_FILE=$dir/bulwark.log
# valgrind cannot install the worker's seccomp filter (seccomp_init fails
# under it), and a filter is checked in the kernel: it adds no instruction
# to what callgrind counts.
export BULWARK_SECCOMP=0
"$BIN" migrate >"$dir/migrate.out" 2>&1 || { cat "$dir/migrate.out" >&2; exit 1; }
printf 'benchpass1\n' | "$BIN" user add --email bench@example.com >/dev/null

spawn-fcgi -s "$dir/cg.sock" -M 0600 -F 1 -P "$dir/cg.pid" -- \
	/usr/bin/valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out.%p" "$BIN" \
	>"$dir/spawn.out" 2>&1 || { cat "$dir/spawn.out" >&2; exit 1; }
vg_pid=$(head -n 1 "$dir/cg.pid")

# The client: log in over FastCGI, then batches of requests; between them
# it runs the command given on its standard input's lines ("zero", "dump
# NAME"), through callgrind_control.
VG_PID=$vg_pid N=$N W=$W SOCK=$dir/cg.sock OUT=$dir perl -e '
use strict; use warnings;
use IO::Socket::UNIX;
my ($sock, $n, $w, $out, $pid) = @ENV{qw(SOCK N W OUT VG_PID)};
sub rec { my ($t, $id, $c) = @_; my $p = (8 - length($c) % 8) % 8;
	pack("CCnnCC", 1, $t, $id, length $c, $p, 0) . $c . ("\0" x $p) }
sub nvl { my $l = shift; $l < 128 ? pack("C", $l) : pack("N", $l | 0x80000000) }
sub params { my %p = @_; join "", map { nvl(length $_) . nvl(length $p{$_}) . $_ . $p{$_} } sort keys %p }
sub request {
	my ($keep, $method, $path, $body, %h) = @_;
	$body //= "";
	my %p = (REQUEST_METHOD => $method, REQUEST_URI => $path, SCRIPT_NAME => $path,
		PATH_INFO => "", QUERY_STRING => "", REMOTE_ADDR => "127.0.0.1",
		SERVER_PROTOCOL => "HTTP/1.1", CONTENT_LENGTH => length $body,
		HTTP_USER_AGENT => "callgrind/1", HTTP_HOST => "localhost", %h);
	$p{CONTENT_TYPE} = "application/json" if length $body;
	return rec(1, 1, pack("nCx5", 1, $keep ? 1 : 0)) . rec(4, 1, params(%p)) . rec(4, 1, "")
	    . (length $body ? rec(5, 1, $body) : "") . rec(5, 1, "");
}
my $kept;
sub send_one {
	my ($keep, @r) = @_;
	my $c = $keep ? ($kept //= IO::Socket::UNIX->new(Peer => $sock)) : IO::Socket::UNIX->new(Peer => $sock);
	die "connect: $!" unless $c;
	syswrite($c, request($keep, @r)) or die "write: $!";
	my ($buf, $stdout) = ("", "");
	for (;;) {
		while (length $buf >= 8) {
			my (undef, $t, undef, $l, $p) = unpack("CCnnC", $buf);
			last if length $buf < 8 + $l + $p;
			$stdout .= substr($buf, 8, $l) if $t == 6;
			substr($buf, 0, 8 + $l + $p, "");
			return $stdout if $t == 3;
		}
		my $k = sysread($c, $buf, 65536, length $buf);
		die "connection closed before the end of the answer\n" unless $k;
	}
}
sub status { $_[0] =~ /\AStatus: (\d+)/ ? $1 : 200 }
my $login = send_one(0, "POST", "/login", q({"email":"bench@example.com","password":"benchpass1"}));
status($login) == 200 or die "POST /login: " . substr($login, 0, 200) . "\n";
my %ck = $login =~ /^Set-Cookie: (session|csrf_token)=([^;]+)/mig;
my $cookie = "session=$ck{session}; csrf_token=$ck{csrf_token}";
my $tl = send_one(0, "POST", "/token/login", q({"email":"bench@example.com","password":"benchpass1"}));
my ($access) = $tl =~ /"accessToken":"([^"]+)"/ or die "POST /token/login: no token\n";
my @targets = (
	[ me => "GET", "/me", undef, HTTP_COOKIE => $cookie ],
	[ token_me => "GET", "/token/me", undef, HTTP_AUTHORIZATION => "Bearer $access" ],
);
for my $keep (0, 1) {
	for my $t (@targets) {
		my ($name, @r) = @$t;
		my $tag = $name . ($keep ? ".kept" : ".new");
		for (1 .. $w) { my $s = status(send_one($keep, @r)); $s == 200 or die "$tag: status $s\n" }
		system("callgrind_control -z $pid >/dev/null") == 0 or die "callgrind_control -z failed\n";
		for (1 .. $n) { my $s = status(send_one($keep, @r)); $s == 200 or die "$tag: status $s\n" }
		system("callgrind_control -d $tag $pid >/dev/null") == 0 or die "callgrind_control -d failed\n";
		print "$tag\n";
	}
}
' >"$dir/batches" || { tail -n 5 "$BULWARK_LOG_FILE" >&2; exit 1; }

# callgrind_control -d NAME writes callgrind.out.PID.N with "desc: Trigger:
# dump NAME"; its "totals:" (or "summary:") line is the count.
printf '%-28s %14s\n' "request (worker, $N each)" "instructions"
for f in "$dir"/callgrind.out."$vg_pid".*; do
	name=$(sed -n "s/^desc: Trigger: dump //p" "$f")
	total=$(awk '/^(totals|summary):/ {print $2; exit}' "$f")
	[ -n "$name" ] && [ -n "$total" ] || continue
	printf '%-28s %14s\n' "$name" "$(awk -v t="$total" -v n="$N" 'BEGIN {printf "%.1fk", t / n / 1000}')"
done
