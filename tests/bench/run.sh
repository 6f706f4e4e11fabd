#!/usr/bin/env bash
# tests/bench/run.sh -- `make bench`: Bulwark through lighttpd or nginx,
# measured with wrk against the best any FastCGI application can do through
# the same front end (tests/bench/pk_responder.c: one prepared primary-key
# SELECT), and with PEER=node against the Node.js port of the same routes.
#
# One throwaway PostgreSQL 15 cluster, one front end on 127.0.0.1:<free port>
# (FRONT=lighttpd, the default: a new FastCGI connection per request;
# FRONT=nginx: fastcgi_keep_conn on and an upstream keepalive pool, so
# connections are kept, and lighttpd beside it on a port of its own, so that
# one run measures both) in front of two pools of 4 FastCGI workers each:
#   /static/bench.json  a static file (lighttpd alone: the front end's ceiling)
#   /pk                 pk_responder under spawn-fcgi (the FastCGI ceiling)
#   everything else     `bulwark serve --listen SOCK --workers 4`
# With PEER=node, the Node.js port in ../shared/peers/node-port (Hono, pg,
# cluster of 2; its own database "peers" in the same cluster, its packages
# installed once by npm ci into build/node-port) listens on its own port and
# adds the targets node_me, node_token_me and node_login.
# Targets run in BENCH_ROUNDS rounds (default 5), every target once per
# round, so a machine that drifts shifts every row alike; each row is the
# median of its rounds; a warm-up run precedes each target in the first
# round.  Targets:
#   static, pk (GET /pk), health (GET /health), me (GET /me with the session
#   and csrf_token cookies), lpk and lme (FRONT=nginx: the same two through
#   the lighttpd beside it), token_me (GET /token/me with a bearer token),
#   refresh (POST /token/refresh, each request spending a refresh token once:
#   tests/bench/refresh.lua), login (POST /login with a wrong password: one
#   full password hash per request, every answer a 401).
# Prints per target requests/s, p99 and the CPU one request costs lighttpd
# ("web"), the FastCGI workers ("app") and PostgreSQL ("db"); GET /me / GET
# /pk (goal >= 0.9) in requests/s and in CPU per request (steadier when other
# processes share the machine: the share of CPUs they kept busy before and
# after is printed too); the bare cost of one password hash and the share of
# the login ceiling reached.
# Fails when a 2xx target saw any non-2xx answer, a login answer was not a
# 401, or wrk counted any socket error: a benchmark of errors is worthless.
#
# Environment:
#   BULWARK_BIN        binary under test (default build/bulwark)
#   CC                 C compiler for pk_responder (default cc)
#   PGBIN              PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   BENCH_SECONDS      length of each measured run (default 10)
#   BENCH_WARMUP       length of each warm-up run (default 2)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_CONNECTIONS  wrk connections (default 32)
#   BENCH_WORKERS      FastCGI workers of each pool (default 4)
#   BENCH_TARGETS      targets to run, in order (default: static pk me
#                      token_me refresh login; FRONT=nginx adds lpk lme
#                      after me; PEER=node adds node_me node_token_me
#                      node_login)
#   BENCH_ROUNDS       rounds (default 5)
#   FRONT              lighttpd (default) or nginx
#   PEER               node: also run the Node.js port
#   BENCH_STRICT       1: exit 1 when GET /me / GET /pk is below 0.9
#                      (through either front end)
#   BENCH_OUT          also write the result table to this file
#   BENCH_KEEP         1: keep the temporary directory (logs, wrk output)
#   BENCH_HOLD         1: after the report keep the stack up until Ctrl-C or
#                      SIGTERM (to profile by hand); prints how to reach it
#
# Works as root (PostgreSQL then runs as `postgres`; lighttpd, spawn-fcgi and
# the workers stay root) and as a normal user.  Everything lives in one
# mktemp directory, removed with every process by the EXIT trap, also on
# failure or Ctrl-C.  The cluster's functions are deploy/pg-cluster.sh's.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

BULWARK_BIN=${BULWARK_BIN:-build/bulwark}
case $BULWARK_BIN in /*) ;; *) BULWARK_BIN=$root/$BULWARK_BIN ;; esac
CC=${CC:-cc}
PGC_NAME=bench
# shellcheck source=SCRIPTDIR/../../deploy/pg-cluster.sh
. "$root/deploy/pg-cluster.sh"
SECS=${BENCH_SECONDS:-10}
WARM=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
WORKERS=${BENCH_WORKERS:-4}
ROUNDS=${BENCH_ROUNDS:-5}
FRONT=${FRONT:-lighttpd}
PEER=${PEER:-}
NODE_SRC=${NODE_SRC:-$root/../shared/peers/node-port}
default_targets="static pk me token_me refresh login"
[ "$FRONT" = nginx ] && default_targets="static pk me lpk lme token_me refresh login"
[ "$PEER" = node ] && default_targets+=" node_me node_token_me node_login"
TARGETS=${BENCH_TARGETS:-$default_targets}
GOAL=0.9

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
	say "ERROR: $*"
	exit 1
}

case $FRONT in lighttpd | nginx) ;; *) die "FRONT must be lighttpd or nginx (got '$FRONT')" ;; esac
case $PEER in '' | node) ;; *) die "PEER must be node or empty (got '$PEER')" ;; esac
for v in SECS WARM THREADS CONNS WORKERS ROUNDS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[ -x "$BULWARK_BIN" ] || die "$BULWARK_BIN is not an executable (run make first)"
pgc_require || die "cannot run a PostgreSQL cluster here (make deps installs PostgreSQL 15)"
needs=(wrk "$FRONT" spawn-fcgi curl perl pkg-config "$CC")
[ "$PEER" = node ] && needs+=(node npm)
for t in "${needs[@]}"; do
	case $t in
	node | npm) command -v "$t" >/dev/null || die "PEER=node needs $t (apt-get install nodejs npm)" ;;
	*) command -v "$t" >/dev/null || die "missing $t (make deps installs it)" ;;
	esac
done

dir=$(mktemp -d /tmp/bulwark-bench.XXXXXX)
chmod 755 "$dir"
# The cluster's directory is also its socket directory (mode 700).
pgc_throwaway "$dir/pg"
pids=()     # processes started here, stopped in reverse order
pk_pids=()  # spawn-fcgi's workers (their parent exits at once)
wrk_pid=
# Every server process started here (not PostgreSQL, which pg_ctl stops)
# carries this in its environment, so the trap can find a forked worker whose
# pid it was never told, and nothing else.
tag=(env "BULWARK_BENCH_DIR=$dir")

proc_uid() { awk '/^Uid:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo '?'; }

# Our processes, found by the environment marker (one grep, not one per
# process: the trap polls this).
marked_pids() {
	grep -lzxF "BULWARK_BENCH_DIR=$dir" /proc/[0-9]*/environ 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p' || true
}

cleanup() {
	local rc=$? p i left
	trap - EXIT INT TERM HUP
	set +e
	[ -n "$wrk_pid" ] && kill "$wrk_pid" 2>/dev/null
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null
	done
	for p in "${pk_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	# The pool master stops its workers (they finish the request in hand);
	# anything else that carries the marker is told too.
	sleep 0.2
	left=$(marked_pids)
	# shellcheck disable=SC2086 # one pid a word
	[ -n "$left" ] && kill -TERM $left 2>/dev/null
	for _ in $(seq 50); do
		left=$(marked_pids)
		[ -z "$left" ] && break
		sleep 0.1
	done
	left=$(marked_pids)
	if [ -n "$left" ]; then
		say "killing what did not stop: ${left//$'\n'/ }"
		# shellcheck disable=SC2086 # one pid a word
		kill -KILL $left 2>/dev/null
	fi
	wait 2>/dev/null
	pgc_stop || say "pg_ctl stop failed; see $PGC_LOG"
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "kept $dir"
	else
		rm -rf "$dir"
	fi
	exit "$rc"
}
trap cleanup EXIT
# set -e alone dies without a word: say which command failed.
set -E
trap 'say "ERROR: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)"' ERR
trap 'say interrupted; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

tail_file() {
	if [ -f "$1" ]; then
		{ echo "--- $1 (last lines)"; tail -n "${2:-20}" "$1"; } >&2
	fi
}

free_port() {
	perl -MIO::Socket::INET -e \
		'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", ReuseAddr => 1) or die "$!\n"; print $s->sockport, "\n";'
}

wait_for() { # wait_for SECONDS COMMAND...: 0 once COMMAND succeeds
	local n=$(($1 * 10))
	shift
	while ((n-- > 0)); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- PostgreSQL -------------------------------------------------------------
say "temporary directory $dir"
pgc_prepare_dir || die "cannot prepare $PGC_DIR"
pgc_initdb || die "initdb failed"
# Autovacuum off: the bench vacuums and checkpoints itself before every
# measured run (settle), so that the clean-up after the write-heavy rows
# (POST /token/refresh writes a row and a dead one per request) is never
# billed to, nor slows, whichever row happens to run next.
pgc_configure "autovacuum = off" || die "cannot write the PostgreSQL settings"
pgc_start || { tail_file "$PGC_LOG"; die "PostgreSQL did not start"; }

psql_su() { pgc_psql "$@"; }
pgc_create_db >/dev/null || die "could not create role and database"

DATABASE_URL=$(pgc_database_url)
export DATABASE_URL
BULWARK_JWT_SECRET=$(head -c 48 /dev/urandom | base64 -w0)
export BULWARK_JWT_SECRET
export BULWARK_COOKIE_SECURE=0
export BULWARK_LOG_FILE=$dir/bulwark.log
# The login target measures the password hash, not the limiter: every
# limit out of reach.
export BULWARK_LOGIN_IP_LIMIT=1000000000
export BULWARK_LOGIN_EMAIL_LIMIT=1000000000
export BULWARK_LOCKOUT_THRESHOLD=1000000000

"$BULWARK_BIN" migrate >"$dir/migrate.out" 2>&1 || { tail_file "$dir/migrate.out"; tail_file "$BULWARK_LOG_FILE"; die "bulwark migrate failed"; }
printf 'benchpass1\n' | "$BULWARK_BIN" user add --email bench@example.com >"$dir/useradd.out" 2>&1 ||
	{ tail_file "$dir/useradd.out"; die "bulwark user add failed"; }

# The yardstick's table: a few rows, read by primary key.
psql_su -d bulwark >/dev/null <<'SQL'
CREATE TABLE public.bench_pk (id integer PRIMARY KEY, email text NOT NULL);
INSERT INTO public.bench_pk
     SELECT i, 'user' || i || '@example.com' FROM generate_series(1, 1000) AS i;
GRANT SELECT ON public.bench_pk TO bulwark;
SQL

# ---- pk_responder -----------------------------------------------------------
# shellcheck disable=SC2046 # pkg-config prints words on purpose
"$CC" -O2 -g -Wall -Wextra -Werror $(pkg-config --cflags libpq) \
	-o "$dir/pk_responder" tests/bench/pk_responder.c $(pkg-config --libs libpq) -lfcgi ||
	die "cannot compile tests/bench/pk_responder.c"

# ---- the two FastCGI pools --------------------------------------------------
"${tag[@]}" "$BULWARK_BIN" serve --listen "$dir/bulwark.sock" --workers "$WORKERS" >"$dir/bulwark.out" 2>&1 &
pids+=($!)
bulwark_pid=$!
wait_for 15 test -S "$dir/bulwark.sock" ||
	{ tail_file "$dir/bulwark.out"; tail_file "$BULWARK_LOG_FILE"; die "bulwark serve did not come up"; }

"${tag[@]}" spawn-fcgi -s "$dir/pk.sock" -M 0660 -F "$WORKERS" -P "$dir/pk.pid" -- "$dir/pk_responder" \
	>"$dir/spawn-fcgi.out" 2>&1 || { tail_file "$dir/spawn-fcgi.out"; die "spawn-fcgi failed"; }
mapfile -t pk_pids < <(grep -E '^[0-9]+$' "$dir/pk.pid" || true)
[ "${#pk_pids[@]}" = "$WORKERS" ] || die "spawn-fcgi started ${#pk_pids[@]} pk_responder workers, not $WORKERS"

# ---- the front end ------------------------------------------------------------
mkdir -p "$dir/www/static" "$dir/nginx-tmp"
printf '{"id":1,"email":"user1@example.com"}' >"$dir/www/static/bench.json"

write_lighttpd_conf() { # write_lighttpd_conf PORT
	cat >"$dir/lighttpd.conf" <<EOF
# Written by tests/bench/run.sh; routing as in deploy/lighttpd-dev.conf.in.
server.modules          = ("mod_fastcgi")
server.bind             = "127.0.0.1"
server.port             = $1
server.document-root    = "$dir/www"
server.errorlog         = "$dir/lighttpd.error.log"
server.max-request-size = 1024
server.max-connections  = 4096
server.tag              = ""
mimetype.assign         = (".json" => "application/json; charset=utf-8")

# Everything goes to Bulwark, except the static file and the yardstick.
fastcgi.server = (
  "/" => ((
    "socket"              => "$dir/bulwark.sock",
    "check-local"         => "disable",
    "fix-root-scriptname" => "enable",
  ))
)
\$HTTP["url"] =~ "^/static/" {
  fastcgi.server = ()
}
else \$HTTP["url"] == "/pk" {
  fastcgi.server = (
    "/" => ((
      "socket"              => "$dir/pk.sock",
      "check-local"         => "disable",
      "fix-root-scriptname" => "enable",
    ))
  )
}
EOF
}

NGINX_KEEPALIVE=${BENCH_NGINX_KEEPALIVE:-8}
[[ $NGINX_KEEPALIVE =~ ^[1-9][0-9]*$ ]] || die "BENCH_NGINX_KEEPALIVE must be a positive integer"
write_nginx_conf() { # write_nginx_conf PORT
	sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$1|g" -e "s|@KEEPALIVE@|$NGINX_KEEPALIVE|g" \
		"$root/tests/bench/nginx.conf.in" >"$dir/nginx.conf"
}

# start_front lighttpd|nginx: starts that front end on a free port; sets
# started_pid and started_port.
start_front() {
	local kind=$1 attempt port pid
	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		if [ "$kind" = nginx ]; then
			write_nginx_conf "$port"
			"${tag[@]}" nginx -e "$dir/nginx.error.log" -p "$dir" -c "$dir/nginx.conf" </dev/null >>"$dir/nginx.out" 2>&1 &
		else
			write_lighttpd_conf "$port"
			"${tag[@]}" lighttpd -D -f "$dir/lighttpd.conf" </dev/null >>"$dir/lighttpd.out" 2>&1 &
		fi
		pid=$!
		if wait_for 10 perl -MIO::Socket::INET -e \
			"exit(IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') ? 0 : 1)"; then
			pids+=("$pid")
			started_pid=$pid
			started_port=$port
			return 0
		fi
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		say "$kind did not come up on port $port (attempt $attempt)"
	done
	tail_file "$dir/$kind.out"
	tail_file "$dir/$kind.error.log"
	die "$kind did not start"
}

start_front "$FRONT"
front_pid=$started_pid
base=http://127.0.0.1:$started_port
# FRONT=nginx: lighttpd beside it, in front of the same two pools, so that
# one run measures GET /me against the yardstick through both (targets
# lpk, lme): whether keep-alive lifts Bulwark as much as the ceiling.
lt_pid=
lt_base=
if [ "$FRONT" = nginx ]; then
	start_front lighttpd
	lt_pid=$started_pid
	lt_base=http://127.0.0.1:$started_port
fi

# As root nothing drops privileges: say who is serving.
uids="$FRONT uid $(proc_uid "$front_pid")${lt_pid:+, lighttpd uid $(proc_uid "$lt_pid")}, pk_responder uid $(proc_uid "${pk_pids[0]}"), bulwark uid $(proc_uid "$bulwark_pid")"
if [ "$(id -u)" = 0 ]; then
	for p in "$front_pid" $lt_pid "${pk_pids[0]}" "$bulwark_pid"; do
		[ "$(proc_uid "$p")" = 0 ] || die "process $p does not run as root ($uids)"
	done
fi

# ---- the session ----------------------------------------------------------------
code=$(curl -sS -o "$dir/login.body" -D "$dir/login.hdr" -w '%{http_code}' \
	-H 'Content-Type: application/json' \
	--data '{"email":"bench@example.com","password":"benchpass1"}' "$base/login") || code=000
[ "$code" = 200 ] || { cat "$dir/login.body" >&2 || true; tail_file "$BULWARK_LOG_FILE"; die "POST /login answered $code, not 200"; }
cookie_value() { tr -d '\r' <"$dir/login.hdr" | sed -n "s/^[Ss]et-[Cc]ookie: $1=\\([^;]*\\).*/\\1/p" | tail -n 1; }
session=$(cookie_value session)
csrf=$(cookie_value csrf_token)
[ -n "$session" ] || die "POST /login set no session cookie"
[ -n "$csrf" ] || die "POST /login set no csrf_token cookie"
cookie="session=$session; csrf_token=$csrf"

# ---- tokens -----------------------------------------------------------------
# An access token for GET /token/me, and seed refresh tokens for POST
# /token/refresh: each one its own family, made directly in the database as
# /token/login would (the text's SHA-256 stored), so that no seed costs a
# password hash.  tests/bench/refresh.lua chains each connection from there.
code=$(curl -sS -o "$dir/token.body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data '{"email":"bench@example.com","password":"benchpass1"}' "$base/token/login") || code=000
[ "$code" = 200 ] || { cat "$dir/token.body" >&2 || true; die "POST /token/login answered $code, not 200"; }
access=$(perl -MJSON::PP -e 'local $/; print JSON::PP::decode_json(<STDIN>)->{accessToken} // ""' <"$dir/token.body")
[ -n "$access" ] || die "POST /token/login gave no accessToken"
seeds=$dir/refresh.seeds
psql_su -d bulwark -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TEMP TABLE seed AS
SELECT rtrim(translate(encode(sha256(convert_to(random()::text || clock_timestamp() || i, 'UTF8')),
                              'base64'), '+/', '-_'), '=') AS tok
  FROM generate_series(1, 1000) AS i;
WITH f AS (
    INSERT INTO bulwark.refresh_families (user_id, current_hash, expires_at)
    SELECT u.id, sha256(convert_to(s.tok, 'UTF8')), now() + interval '1 day'
      FROM seed s, bulwark.users u WHERE u.email = 'bench@example.com'
    RETURNING id, current_hash)
INSERT INTO bulwark.refresh_tokens (hash, family_id) SELECT current_hash, id FROM f;
\copy seed TO '$seeds'
SQL
[ "$(wc -l <"$seeds")" = 1000 ] || die "could not make the refresh seeds"

# ---- the data a live database holds -------------------------------------------
# The Node port is given 1000 users, 100k sessions and 10k deny-listed jtis
# (its seed.sql); Bulwark gets the same, so that both answer from tables of
# the same size, with the plans a live database uses.  (With one user and
# one session PostgreSQL scans the tables instead of their indexes, which
# costs it 16 us more per GET /me than the index scans do: two lseek calls
# for the tables' sizes among them.)
psql_su -d bulwark -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "could not seed the bench data"
INSERT INTO bulwark.users (email, password_hash, email_verified)
SELECT 'user' || i || '@example.com', u.password_hash, true
  FROM generate_series(1, 1000) AS i, bulwark.users u
 WHERE u.email = 'bench@example.com';
INSERT INTO bulwark.sessions (id_hash, user_id, expires_at, ip, user_email,
                              user_role, user_email_verified,
                              user_two_factor_enabled, user_created_at)
SELECT sha256(convert_to('session-' || i, 'UTF8')), u.id, now() + interval '7 days', '127.0.0.1',
       u.email, u.role, u.email_verified, u.two_factor_enabled, u.created_at
  FROM generate_series(1, 100000) AS i
  JOIN bulwark.users u ON u.email = 'user' || (1 + i % 1000) || '@example.com';
INSERT INTO bulwark.denied_tokens (jti, expires_at)
SELECT md5('jti-' || i), now() + interval '15 minutes' FROM generate_series(1, 10000) AS i;
SQL
psql_su -d bulwark -v ON_ERROR_STOP=1 -c 'VACUUM ANALYZE' >/dev/null || die "could not seed the bench data"
export BENCH_REFRESH_SEEDS=$seeds
# One seed per connection, and one more: wrk calls request() once per
# thread before it connects, to check the request it makes.
export BENCH_REFRESH_PER_THREAD=$(((CONNS + THREADS - 1) / THREADS + 1))
# Each round's precheck spends one seed from the bottom (measure); the runs
# take theirs from the top.
refresh_check=$(tail -n 1 "$seeds")

# ---- the Node.js peer (PEER=node) ------------------------------------------
# The port as its README runs it: its packages from its lock file (npm ci,
# once, into build/node-port: the shared folder is not written), its own
# database "peers" in this cluster, its limits off, a cluster of 2 workers
# on its own port.  Its bench user is the same email and password.
node_base=
node_cookie=
node_access=
if [ "$PEER" = node ]; then
	[ -f "$NODE_SRC/server.mjs" ] || die "PEER=node: no Node port in $NODE_SRC"
	node_dir=$root/build/node-port
	mkdir -p "$node_dir"
	for f in package.json package-lock.json server.mjs mint-token.mjs schema.sql seed.sql; do
		cmp -s "$NODE_SRC/$f" "$node_dir/$f" || cp "$NODE_SRC/$f" "$node_dir/$f"
	done
	if [ ! -f "$node_dir/node_modules/.bench-installed" ] ||
		[ "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.bench-installed" ]; then
		say "npm ci for the Node port (once, into $node_dir)"
		(cd "$node_dir" && npm ci --no-audit --no-fund) >"$dir/npm.out" 2>&1 ||
			{ tail_file "$dir/npm.out"; die "npm ci failed in $node_dir"; }
		touch "$node_dir/node_modules/.bench-installed"
	fi
	psql_su -d postgres -c 'CREATE DATABASE peers' >/dev/null || die "cannot create the database peers"
	psql_su -d peers -f "$node_dir/schema.sql" >/dev/null 2>&1 || die "the Node port's schema failed"
	filler=$(cd "$node_dir" && node -e "console.log(require('bcrypt').hashSync('x', 10))") ||
		die "cannot compute the Node port's filler hash"
	psql_su -d peers -v filler_hash="$filler" -f "$node_dir/seed.sql" >/dev/null 2>&1 || die "the Node port's seed failed"
	node_port=$(free_port)
	node_secret=$(head -c 48 /dev/urandom | base64 -w0)
	"${tag[@]}" env -C "$node_dir" PGHOST="$PGC_DIR" PGPORT="$PGC_PORT" PGDATABASE=peers PGUSER=postgres \
		PORT="$node_port" WORKERS=2 RATE_LIMIT_MAX=0 LOCKOUT_THRESHOLD=0 COOKIE_SECURE=0 \
		JWT_SECRET="$node_secret" node server.mjs >"$dir/node.out" 2>&1 &
	pids+=($!)
	node_base=http://127.0.0.1:$node_port
	wait_for 30 curl -sf -o /dev/null -H 'Content-Type: application/json' \
		--data '{"email":"bench@example.com","password":"benchpass1"}' "$node_base/signup" ||
		{ tail_file "$dir/node.out"; die "the Node port did not come up (or POST /signup failed)"; }
	code=$(curl -sS -o "$dir/node-login.body" -D "$dir/node-login.hdr" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data '{"email":"bench@example.com","password":"benchpass1"}' "$node_base/login") || code=000
	[ "$code" = 200 ] || die "the Node port's POST /login answered $code"
	node_cookie="sid=$(tr -d '\r' <"$dir/node-login.hdr" | sed -n 's/^[Ss]et-[Cc]ookie: sid=\([^;]*\).*/\1/p' | tail -n 1)"
	[ "$node_cookie" != sid= ] || die "the Node port's POST /login set no sid cookie"
	code=$(curl -sS -o "$dir/node-token.body" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data '{"email":"bench@example.com","password":"benchpass1"}' "$node_base/token/login") || code=000
	[ "$code" = 200 ] || die "the Node port's POST /token/login answered $code"
	node_access=$(perl -MJSON::PP -e 'local $/; print JSON::PP::decode_json(<STDIN>)->{accessToken} // ""' <"$dir/node-token.body")
	[ -n "$node_access" ] || die "the Node port gave no accessToken"
fi

# Same conditions for both readers: statistics and visibility maps fresh.
psql_su -d bulwark -c 'VACUUM ANALYZE' >/dev/null

# ---- targets ------------------------------------------------------------------------
# target NAME LABEL EXPECT PATH [KIND]
# EXPECT is the only status the target may answer (2xx targets: 200); KIND
# picks the request's extra curl and wrk options below (cookie, login).  A
# new target is one line here, plus a KIND if it needs one.
declare -A T_LABEL T_EXPECT T_PATH T_WRK T_BASE
target() {
	T_LABEL[$1]=$2
	T_EXPECT[$1]=$3
	T_PATH[$1]=$4
	T_WRK[$1]=${5:-}
	T_BASE[$1]=${6:-$base}
}
target static "static file" 200 /static/bench.json
target pk "GET /pk (yardstick)" 200 /pk
target health "GET /health" 200 /health
target me "GET /me (session)" 200 /me "cookie"
if [ -n "$lt_base" ]; then
	target lpk "lighttpd GET /pk" 200 /pk "" "$lt_base"
	target lme "lighttpd GET /me" 200 /me "cookie" "$lt_base"
fi
target login "POST /login, wrong pw" 401 /login "login"
target token_me "GET /token/me (bearer)" 200 /token/me "bearer"
target refresh "POST /token/refresh" 200 /token/refresh "refresh"
if [ "$PEER" = node ]; then
	target node_me "node GET /me" 200 /me "node_cookie" "$node_base"
	target node_token_me "node GET /token/me" 200 /token/me "node_bearer" "$node_base"
	target node_login "node POST /login, wrong" 401 /login "login" "$node_base"
fi

# curl options and wrk options for a target's kind of request.
curl_opts() {
	case ${T_WRK[$1]} in
	cookie) printf '%s\0' -H "Cookie: $cookie" ;;
	login) printf '%s\0' -H 'Content-Type: application/json' \
		--data '{"email":"bench@example.com","password":"wrong-password-1"}' ;;
	bearer) printf '%s\0' -H "Authorization: Bearer $access" ;;
	node_cookie) printf '%s\0' -H "Cookie: $node_cookie" ;;
	node_bearer) printf '%s\0' -H "Authorization: Bearer $node_access" ;;
	refresh) printf '%s\0' -H 'Content-Type: application/json' \
		--data "{\"refreshToken\":\"$refresh_check\"}" ;;
	esac
}
wrk_opts() {
	case ${T_WRK[$1]} in
	cookie) printf '%s\0' -H "Cookie: $cookie" ;;
	login) printf '%s\0' -s "$root/tests/bench/login_wrong_password.lua" ;;
	bearer) printf '%s\0' -H "Authorization: Bearer $access" ;;
	node_cookie) printf '%s\0' -H "Cookie: $node_cookie" ;;
	node_bearer) printf '%s\0' -H "Authorization: Bearer $node_access" ;;
	refresh) printf '%s\0' -s "$root/tests/bench/refresh.lua" ;;
	esac
}

# One request by curl: the status must be the expected one.  GET /me with
# both cookies must set none (else every request would mint a csrf_token).
precheck() {
	local t=$1 code
	mapfile -d '' -t opts < <(curl_opts "$t")
	code=$(curl -sS -o "$dir/check.$t.body" -D "$dir/check.$t.hdr" -w '%{http_code}' \
		"${opts[@]}" "${T_BASE[$t]}${T_PATH[$t]}") || code=000
	if [ "$code" != "${T_EXPECT[$t]}" ]; then
		cat "$dir/check.$t.body" >&2 2>/dev/null || true
		echo >&2
		tail_file "$BULWARK_LOG_FILE" 5
		die "${T_LABEL[$t]} answered $code before the run, not ${T_EXPECT[$t]}"
	fi
	if { [ "$t" = me ] || [ "$t" = lme ]; } && grep -qi '^set-cookie:' "$dir/check.$t.hdr"; then
		say "WARNING: GET /me with both cookies still sets a cookie:"
		grep -i '^set-cookie:' "$dir/check.$t.hdr" | sed 's/=[^;]*/=.../' >&2
	fi
}

run_wrk() { # run_wrk OUTFILE SECONDS [--latency] TARGET
	local out=$1 secs=$2 t=${*: -1}
	local extra=("${@:3:$#-3}")
	mapfile -d '' -t opts < <(wrk_opts "$t")
	# wrk gives up on an answer after 2 s and counts a socket error: a
	# stall of kept connections shows so.  A login is one password hash,
	# so 32 connections queue for a second or more by design: 10 s there.
	[ "${T_WRK[$t]}" = login ] && extra+=(--timeout 10s)
	wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" "${extra[@]}" "${opts[@]}" \
		"${T_BASE[$t]}${T_PATH[$t]}" >"$out" 2>&1 &
	wrk_pid=$!
	if ! wait "$wrk_pid"; then
		wrk_pid=
		cat "$out" >&2
		die "wrk failed on ${T_LABEL[$t]}"
	fi
	wrk_pid=
}

# Latency as wrk prints it (850.00us, 1.23ms, 2.00s, 1.00m) in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
		if (f < 0) print "?"; else printf "%.2f", n * f }'
}

# CPU time of the stack so far, in nanoseconds: "web app db" for lighttpd,
# the FastCGI workers of both pools, and PostgreSQL (from
# /proc/PID/task/*/schedstat).  Throughput on
# a shared machine moves with whatever else runs; the CPU a request costs
# moves far less, so it is reported beside requests/s.
stack_ns() {
	local pm p comm ns rest web=0 app=0 db=0
	pm=$(head -n 1 "$PGC_DATA/postmaster.pid" 2>/dev/null || echo 0)
	# nginx rewrites its environment (its process titles): its master and
	# workers are found as the front end's pid and children instead.
	for p in $({
		marked_pids
		echo "$front_pid" "$pm"
		pgrep -P "$front_pid" || true
		pgrep -P "$pm" || true
	} | tr ' ' '\n' | sort -u); do
		# A process may be gone by now (the Node port's pool closes
		# backends): skip it, without bash's message about the file.
		{ read -r comm <"/proc/$p/comm"; } 2>/dev/null || continue
		# Every thread (node has several).
		ns=$(cat /proc/"$p"/task/*/schedstat 2>/dev/null | awk '{n += $1} END {printf "%.0f", n}')
		[ -n "$ns" ] || continue
		if [ "$p" = "$pm" ] || [ "$comm" = postgres ]; then
			db=$((db + ns))
		elif [ "$comm" = lighttpd ] || [ "$comm" = nginx ]; then
			web=$((web + ns))
		else
			app=$((app + ns))
		fi
	done
	echo "$web $app $db"
}

declare -A R_RPS R_P99 R_REQ R_NON2XX R_ERR R_NOTE R_CPU R_RPSL R_P99L R_NS R_ST R_STEALL R_STEAL

# The CPU time the hypervisor took from this machine (steal) and all CPU
# time, in ticks, from /proc/stat: what a busy neighbour on the host costs
# a run, which no process here can show.
steal_ticks() {
	awk '/^cpu / {print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat
}
failures=()

# The median of a list of numbers (the middle one; of an even count, the
# mean of the two middle ones).
median() {
	tr ' ' '\n' <<<"$*" | sed '/^$/d' | sort -g |
		awk '{v[NR] = $1} END {if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# Every measured run starts from the same database state: the dead rows
# of the runs before it vacuumed (both databases) and the dirty buffers
# written out, outside the measured seconds.
settle() {
	local db
	for db in bulwark ${node_dir:+peers}; do
		psql_su -d "$db" -c 'VACUUM' >/dev/null || die "VACUUM of $db failed"
	done
	psql_su -d bulwark -c 'CHECKPOINT' >/dev/null || die "CHECKPOINT failed"
}

# One measured run of target $1 in round $2 (the first round warms up
# first); what it saw is added to the target's lists and sums.
measure() {
	local t=$1 round=$2 out=$dir/wrk.$1.$2.txt p99 req non2xx errs cpu0 cpu1 st0 st1
	# Each round's precheck spends its own seed, from the bottom of the
	# file (the runs take theirs from the top).
	[ "$t" = refresh ] && refresh_check=$(sed -n "$((1001 - round))p" "$seeds")
	precheck "$t"
	if [ "$round" = 1 ]; then
		say "${T_LABEL[$t]}: ${WARM}s warm-up"
		run_wrk "$dir/wrk.$t.warmup.txt" "$WARM" "$t"
	fi
	settle
	say "round $round/$ROUNDS: ${T_LABEL[$t]}, ${SECS}s"
	st0=$(steal_ticks)
	cpu0=$(stack_ns)
	run_wrk "$out" "$SECS" --latency "$t"
	cpu1=$(stack_ns)
	st1=$(steal_ticks)
	R_STEALL[$t]+=" $(awk -v a="$st0" -v b="$st1" 'BEGIN {split(a, x, " "); split(b, y, " ");
		printf "%.1f", (y[2] > x[2]) ? 100 * (y[1] - x[1]) / (y[2] - x[2]) : 0}')"
	R_RPSL[$t]+=" $(awk '/^Requests\/sec:/ {print $2}' "$out")"
	p99=$(awk '/Latency Distribution/ {d = 1} d && $1 == "99%" {print $2; exit}' "$out")
	R_P99L[$t]+=" $(to_ms "${p99:-?}")"
	req=$(awk '/ requests in / {print $1; exit}' "$out")
	R_REQ[$t]=$((${R_REQ[$t]:-0} + ${req:-0}))
	non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$out")
	R_NON2XX[$t]=$((${R_NON2XX[$t]:-0} + ${non2xx:-0}))
	errs=$(sed -n 's/^ *Socket errors: //p' "$out")
	[ -n "$errs" ] && R_ERR[$t]+="${R_ERR[$t]:+; }round $round: $errs"
	# CPU nanoseconds of web, app, db summed over the rounds.
	R_NS[$t]=$(awk -v a="$cpu0" -v b="$cpu1" -v s="${R_NS[$t]:-0 0 0}" 'BEGIN {
		split(a, x, " "); split(b, y, " "); split(s, z, " ")
		printf "%.0f %.0f %.0f", z[1] + y[1] - x[1], z[2] + y[2] - x[2], z[3] + y[3] - x[3] }')
	# Statuses counted by the scripts (login, refresh), summed.
	R_ST[$t]+=" $(awk '$1 == "status" {printf "%s=%s ", $2, $3}' "$out")"
	if [ "${req:-0}" = 0 ]; then
		cat "$out" >&2
		failures+=("${T_LABEL[$t]}: no requests completed in round $round")
	fi
}

# The rows: medians of the rounds, and the checks on every round's answers.
summarise() {
	local t st bad
	for t in $TARGETS; do
		R_RPS[$t]=$(median "${R_RPSL[$t]}")
		R_P99[$t]=$(median "${R_P99L[$t]}")
		R_STEAL[$t]=$(median "${R_STEALL[$t]}")
		R_CPU[$t]=$(awk -v s="${R_NS[$t]}" -v n="${R_REQ[$t]}" 'BEGIN {
			split(s, x, " "); k = (n > 0) ? 1e-3 / n : 0
			printf "%.0f %.0f %.0f %.0f", x[1] * k, x[2] * k, x[3] * k, (x[1] + x[2] + x[3]) * k }')
		R_NOTE[$t]=
		if [ "${T_EXPECT[$t]}" = 200 ]; then
			if [ "${R_NON2XX[$t]}" != 0 ]; then
				failures+=("${T_LABEL[$t]}: ${R_NON2XX[$t]} of ${R_REQ[$t]} responses were not 2xx")
				R_NOTE[$t]="FAIL non-2xx"
			fi
		else
			st=$(tr ' ' '\n' <<<"${R_ST[$t]}" | awk -F= 'NF == 2 {n[$1] += $2} END {for (k in n) printf "%s=%d ", k, n[k]}')
			bad=$(tr ' ' '\n' <<<"$st" | awk -F= -v want="${T_EXPECT[$t]}" 'NF == 2 && $1 != want {n += $2} END {print n + 0}')
			R_NOTE[$t]="statuses: ${st:-none counted}"
			if [ -z "$st" ] || [ "$bad" != 0 ]; then
				failures+=("${T_LABEL[$t]}: expected only ${T_EXPECT[$t]}, got ${st:-no status counts}")
				R_NOTE[$t]="FAIL ${R_NOTE[$t]}"
			fi
		fi
		if [ -n "${R_ERR[$t]:-}" ]; then
			failures+=("${T_LABEL[$t]}: socket errors (${R_ERR[$t]})")
			R_NOTE[$t]="FAIL ${R_NOTE[$t]:+${R_NOTE[$t]}; }socket errors: ${R_ERR[$t]}"
		fi
	done
}

# Resident memory (VmRSS, kB) of the processes of a kind: bulwark workers,
# pk workers, the Node port's processes.
rss_kb() {
	local p comm sum=0 n=0 kb
	for p in $(marked_pids); do
		[ "$p" = "$bulwark_pid" ] && continue # the pool's master
		# A process may be gone by now (the Node port's pool closes
		# backends): skip it, without bash's message about the file.
		{ read -r comm <"/proc/$p/comm"; } 2>/dev/null || continue
		[ "$comm" = "$1" ] || continue
		kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		[ -n "$kb" ] || continue
		sum=$((sum + kb))
		n=$((n + 1))
	done
	echo "$n $sum"
}

# The bare cost of one password hash, before any load, with the same
# configuration as the pool: the least of three runs of 10, since on a shared
# machine a disturbance only ever adds time.
hash_line=
for _ in 1 2 3; do
	l=$("$BULWARK_BIN" hash-bench --rounds 10 2>"$dir/hash-bench.err") ||
		{ tail_file "$dir/hash-bench.err"; die "bulwark hash-bench failed"; }
	u=$(sed -n 's/.*us_per_hash=\([0-9]*\).*/\1/p' <<<"$l")
	b=$(sed -n 's/.*us_per_hash=\([0-9]*\).*/\1/p' <<<"$hash_line")
	if [ -z "$hash_line" ] || { [ -n "$u" ] && [ -n "$b" ] && [ "$u" -lt "$b" ]; }; then
		hash_line=$l
	fi
done
# The same with one hash-bench per core at once, as the login load runs them:
# yescrypt's memory makes parallel hashes slower than one alone, and that is
# the machine's cost of a hash, not Bulwark's.
par_us=0
par_pids=()
for i in $(seq "$(nproc)"); do
	"$BULWARK_BIN" hash-bench --rounds 10 >"$dir/hash-par.$i" 2>>"$dir/hash-bench.err" &
	par_pids+=($!)
done
wait "${par_pids[@]}" || die "bulwark hash-bench failed"
for i in $(seq "$(nproc)"); do
	u=$(sed -n 's/.*us_per_hash=\([0-9]*\).*/\1/p' "$dir/hash-par.$i")
	[ -n "$u" ] || die "cannot parse hash-bench output: $(cat "$dir/hash-par.$i")"
	par_us=$((par_us + u))
done
par_us=$((par_us / $(nproc)))
us_per_hash=$(sed -n 's/.*us_per_hash=\([0-9]*\).*/\1/p' <<<"$hash_line")
hps=$(sed -n 's/.*hashes_per_second=\([0-9.]*\).*/\1/p' <<<"$hash_line")
hash_algo=$(sed -n 's/.*algorithm=\([^ ]*\) cost=\([^ ]*\).*/\1 cost \2/p' <<<"$hash_line")
if [ -z "$us_per_hash" ] || [ -z "$hps" ] || [ -z "$hash_algo" ]; then
	die "cannot parse hash-bench output: $hash_line"
fi

# Busy share of all CPUs over one second while the stack idles: what other
# processes take from the figures.  (user+nice+system+irq+softirq+steal.)
cpu_busy() {
	local a b
	a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " "); t = y[2] - x[2]
		printf "%.0f", (t > 0) ? 100 * (y[1] - x[1]) / t : 0}'
}

for t in $TARGETS; do
	[ -n "${T_LABEL[$t]+x}" ] || die "unknown target '$t' (known: ${!T_LABEL[*]})"
done
busy_before=$(cpu_busy)
load_before=$(cut -d' ' -f1 /proc/loadavg)
[ "$busy_before" -le 10 ] ||
	say "WARNING: other processes keep ${busy_before}% of the CPUs busy: the figures will be low and noisy"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for round in $(seq "$ROUNDS"); do
	for t in $TARGETS; do
		measure "$t" "$round"
	done
done
summarise
read -r rss_bn rss_bkb < <(rss_kb bulwark)
read -r rss_pn rss_pkb < <(rss_kb pk_responder)
read -r rss_nn rss_nkb < <(rss_kb node)
busy_after=$(cpu_busy)
load_after=$(cut -d' ' -f1 /proc/loadavg)
# A login run must have left the limits untouched: still a 401, not a 429.
case " $TARGETS " in *" login "*) precheck login ;; esac

# ---- report -----------------------------------------------------------------------------
cores=$(nproc)
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | awk -F': *' '/^Model name/ {print $2; exit}' || true)
[ -n "$cpu" ] || cpu=unknown
# (wrk -v prints its version and exits 1.)
pgver=$("$PGBIN/postgres" --version 2>/dev/null | awk 'NR == 1 {v = $3} END {print v}' || true)
ltver="$(lighttpd -v 2>/dev/null | awk 'NR == 1 {v = $1} END {print v}' || true) (a new FastCGI connection per request)"
if [ "$FRONT" = nginx ]; then
	lver="$(nginx -v 2>&1 | sed -n 's|.*nginx/\([^ ]*\).*|nginx \1|p') (worker_processes 2, fastcgi_keep_conn on, upstream keepalive $NGINX_KEEPALIVE); beside it $ltver"
else
	lver=$ltver
fi
wver=$(wrk -v 2>&1 | awk 'NR == 1 {v = $2} END {print v}' || true)

# ratio ME PK: GET /me's requests/s over the yardstick's, both the medians
# of their rounds ("" when either row was not run).
ratio_of() {
	[ -n "${R_RPS[$1]:-}" ] && [ -n "${R_RPS[$2]:-}" ] || return 0
	awk -v a="${R_RPS[$1]}" -v b="${R_RPS[$2]}" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}'
}
ratio=$(ratio_of me pk)
lt_ratio=$(ratio_of lme lpk)
verdict_of() {
	if [ "${#failures[@]}" != 0 ]; then
		echo "meaningless: a run failed"
	else
		awk -v r="$1" -v g="$GOAL" 'BEGIN {print (r >= g) ? "meets the goal" : "BELOW the goal"}'
	fi
}

# yard_lines ME PK RATIO PREFIX: GET /me against the yardstick through one
# front end: the medians' ratio and its verdict, the same ratio within each
# round (the two runs back to back) with the host's steal during them, and
# the CPU one request costs each.
yard_lines() {
	local me=$1 pk=$2 r=$3 pre=$4 rounds
	[ -n "$r" ] || return 0
	echo "${pre}GET /me / GET /pk = ${R_RPS[$me]} / ${R_RPS[$pk]} = $r  (goal >= $GOAL: $(verdict_of "$r"))"
	# One line per round: its ratio, then the steal of both runs.
	rounds=$(awk -v a="${R_RPSL[$me]}" -v b="${R_RPSL[$pk]}" -v sa="${R_STEALL[$me]}" -v sb="${R_STEALL[$pk]}" 'BEGIN {
		n = split(a, x, " "); split(b, y, " "); split(sa, u, " "); split(sb, v, " ")
		for (i = 1; i <= n; i++) printf "%.3f %s %s\n", (y[i] > 0) ? x[i] / y[i] : 0, v[i], u[i] }')
	echo "  per round: $(awk '{printf "%s%s (steal %s%%/%s%%)", (NR > 1 ? ", " : ""), $1, $2, $3}' <<<"$rounds")"
	# shellcheck disable=SC2046 # one ratio a word
	echo "  median of the rounds' ratios: $(printf '%.3f' "$(median $(awk '{print $1}' <<<"$rounds"))")"
	# shellcheck disable=SC2086 # four numbers each
	awk -v a="${R_CPU[$me]}" -v b="${R_CPU[$pk]}" 'BEGIN { split(a, m, " "); split(b, p, " ")
		if (m[4] > 0) printf "  CPU per request: GET /pk %d us / GET /me %d us = %.3f  (web %+d, app %+d, db %+d us for /me)\n", p[4], m[4], p[4] / m[4], m[1] - p[1], m[2] - p[2], m[3] - p[3] }'
}

report() {
	local t r
	echo
	echo "Bulwark bench -- $started"
	echo "machine: $cores CPUs (nproc), $(uname -m), $cpu; kernel $(uname -r)"
	echo "stack:   $lver, $WORKERS Bulwark workers ($(basename "$BULWARK_BIN") $("$BULWARK_BIN" --version | awk '{print $2}')), $WORKERS pk_responder workers, PostgreSQL $pgver"
	echo "         $uids"
	echo "others:  ${busy_before}% of the CPUs busy before the runs, ${busy_after}% after (the stack idle); load average $load_before before, $load_after after"
	echo "load:    wrk $wver -t$THREADS -c$CONNS -d${SECS}s --latency, $ROUNDS rounds interleaved (each row: the median), a ${WARM}s warm-up before each target's first run, wrk on the same machine"
	[ "$PEER" = node ] && echo "peer:    the Node.js port (Hono, pg, cluster of 2, node $(node --version)) on its own port, no front end"
	echo
	printf '%-24s %11s %9s %9s  %-23s %6s %s\n' target requests/s "p99 (ms)" requests "CPU us/req: web app db" steal notes
	printf '%-24s %11s %9s %9s  %-23s %6s %s\n' ------------------------ ----------- --------- --------- ----------------------- ------ -----
	for t in $TARGETS; do
		# shellcheck disable=SC2086 # four numbers
		printf '%-24s %11s %9s %9s  %-23s %5s%% %s\n' "${T_LABEL[$t]}" "${R_RPS[$t]}" "${R_P99[$t]}" "${R_REQ[$t]}" \
			"$(printf '%4s %4s %4s = %4s' ${R_CPU[$t]:-- - - -})" "${R_STEAL[$t]}" "${R_NOTE[$t]}"
	done
	echo "(steal: the share of this machine's CPU time the hypervisor gave to other guests during a run,"
	echo " the median of the rounds; a row measured while it was high is low and noisy)"
	echo
	yard_lines me pk "$ratio" ""
	yard_lines lme lpk "$lt_ratio" "via lighttpd: "
	r=$(ratio_of token_me pk)
	[ -z "$r" ] || echo "GET /token/me / GET /pk = ${R_RPS[token_me]} / ${R_RPS[pk]} = $r  (goal >= $GOAL: $(verdict_of "$r"))"
	ratio_line() { # ratio_line A B LABEL: requests/s and p99 of row A against row B
		[ -n "${R_RPS[$1]:-}" ] && [ -n "${R_RPS[$2]:-}" ] || return 0
		awk -v a="${R_RPS[$1]}" -v b="${R_RPS[$2]}" -v pa="${R_P99[$1]}" -v pb="${R_P99[$2]}" -v l="$3" 'BEGIN {
			printf "%s: %.3f of the requests/s (%s / %s), p99 %.2f of it (%s / %s ms)\n", l, (b > 0) ? a / b : 0, a, b, (pb > 0) ? pa / pb : 0, pa, pb }'
	}
	ratio_line me node_me "Bulwark GET /me against the Node port's"
	ratio_line token_me node_token_me "Bulwark GET /token/me against the Node port's"
	ratio_line login node_login "Bulwark POST /login (wrong password) against the Node port's"
	[ -n "${rss_bn:-}" ] && [ "$rss_bn" -gt 0 ] &&
		echo "worker RSS after the runs: $rss_bn Bulwark workers $((rss_bkb / 1024)) MB in all ($((rss_bkb / rss_bn / 1024)) MB each); $rss_pn pk_responder $((rss_pkb / 1024)) MB$([ "$PEER" = node ] && echo "; the Node port $rss_nn processes $((rss_nkb / 1024)) MB")"
	echo "password hash: $hash_algo, $us_per_hash us per hash alone (hash-bench, least of 3 x 10), $par_us us with one per core at once"
	if [ -n "${R_RPS[login]:-}" ]; then
		# shellcheck disable=SC2086 # four numbers
		awk -v rps="${R_RPS[login]}" -v hps="$hps" -v h="$par_us" -v cpu="${R_CPU[login]:-}" \
			-v w="$WORKERS" -v c="$cores" 'BEGIN {
			k = (w < c) ? w : c; ceil = k * hps
			printf "login throughput: %.2f/s against a ceiling of min(%d workers, %d cores) x %.1f hashes/s = %.1f: %.3f\n", rps, w, c, hps, ceil, rps / ceil
			n = split(cpu, x, " ")
			if (n == 4 && x[4] > 0)
				printf "hash share of a login: %d us of hash (one per core at once) in %d us of CPU per login (web %d + app %d + db %d) = %.3f\n", h, x[4], x[1], x[2], x[3], h / x[4] }'
	fi
}
report | tee ${BENCH_OUT:+"$BENCH_OUT"}

if [ "${BENCH_HOLD:-0}" = 1 ]; then
	printf '%s\n' "BASE=$base" "COOKIE='$cookie'" "DIR=$dir" \
		"BULWARK_MASTER=$bulwark_pid" "PK_WORKERS='${pk_pids[*]}'" \
		"FRONT=$front_pid" "LBASE=$lt_base" "PGHOST=$PGC_DIR" "PGPORT=$PGC_PORT" >"$dir/hold.env"
	say "holding the stack up (Ctrl-C or kill -TERM $$ ends it); $dir/hold.env:"
	sed 's/^/    /' "$dir/hold.env" >&2
	sleep infinity &
	wrk_pid=$!
	wait "$wrk_pid" || true
fi
if [ "${#failures[@]}" -gt 0 ]; then
	say "FAILED: these figures measure errors, not the API:"
	for f in "${failures[@]}"; do say "  $f"; done
	tail_file "$BULWARK_LOG_FILE" 5
	exit 1
fi
if [ "${BENCH_STRICT:-0}" = 1 ]; then
	for r in $ratio $lt_ratio; do
		if awk -v r="$r" -v g="$GOAL" 'BEGIN {exit !(r < g)}'; then
			say "GET /me / GET /pk = $r is below $GOAL (BENCH_STRICT=1)"
			exit 1
		fi
	done
fi
