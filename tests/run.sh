#!/usr/bin/env bash
# Integration test runner: a throwaway PostgreSQL 15 cluster, the schema
# migrated (twice), then the unit tests and tests/integration/*.t under prove.
#
#   tests/run.sh                        # everything
#   tests/run.sh tests/integration/02_signup.t   # selected integration files
#
# Environment:
#   BULWARK_BIN        binary under test (default build/bulwark)
#   UNIT_TESTS         space-separated unit-test executables printing TAP
#   PGBIN              PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   BULWARK_TEST_KEEP  1: keep the temporary directory (logs, cluster) for a look
#   BULWARK_FRONTS     web servers to run FRONT_FILES through again, after
#                      the whole suite through lighttpd (BulwarkTest.pm's
#                      BULWARK_FRONT); default: all of them when no file is
#                      named, none when files are named
#   BULWARK_FRONT_FILES  the files run through each of BULWARK_FRONTS
#                      (default: every route, headers, bad bodies, limits,
#                      bearer tokens, reset and change of password)
#
# Works as root (PostgreSQL then runs as the `postgres` user) and as a normal
# user. Everything lives in one mktemp directory removed by the EXIT trap.
# The cluster's functions are deploy/pg-cluster.sh's.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

BULWARK_BIN=${BULWARK_BIN:-build/bulwark}
case $BULWARK_BIN in
/*) ;;
*) BULWARK_BIN=$root/$BULWARK_BIN ;;
esac
PGC_NAME=run.sh
# shellcheck source=SCRIPTDIR/../deploy/pg-cluster.sh
. "$root/deploy/pg-cluster.sh"

say() { printf 'run.sh: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 2
}

[ -x "$BULWARK_BIN" ] || die "$BULWARK_BIN is not an executable (run make first)"
pgc_require pg_dump || exit 2
for t in lighttpd spawn-fcgi prove perl apache2 nginx openssl systemd-analyze; do
	command -v "$t" >/dev/null || die "missing $t"
done

dir=$(mktemp -d /tmp/bulwark-test.XXXXXX)
chmod 755 "$dir"
# The cluster's directory is also the socket directory (mode 700: trust
# authentication is safe only while no other local user can reach the socket).
pgc_throwaway "$dir/pg"
phase=setup

# Kill every process a test started and left behind. BulwarkTest.pm gives each
# lighttpd, spawn-fcgi worker and pool master the environment entry
# BULWARK_TEST_STACK=<a directory under $dir>, so this only ever matches
# processes of this run.
kill_test_processes() {
	local sig=$1 found=0 e pid
	for e in /proc/[0-9]*/environ; do
		pid=${e#/proc/}
		pid=${pid%/environ}
		[ "$pid" = "$$" ] && continue
		if { tr '\0' '\n' <"$e"; } 2>/dev/null | grep -q -- "^BULWARK_TEST_STACK=${dir//./\\.}/"; then
			kill "-$sig" "$pid" 2>/dev/null && found=1
		fi
	done
	[ "$found" = 1 ]
}

cleanup() {
	local rc=$?
	set +e
	if kill_test_processes TERM; then
		say "killed processes left behind by the tests"
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			sleep 0.2
			kill_test_processes 0 || break
		done
		kill_test_processes KILL
	fi
	pgc_stop
	if [ "$rc" != 0 ] && [ "$phase" = setup ]; then
		pgc_log_tail 20
	fi
	if [ "${BULWARK_TEST_KEEP:-0}" = 1 ]; then
		say "kept $dir"
	else
		rm -rf "$dir"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- PostgreSQL -------------------------------------------------------------
say "cluster in $PGC_DATA, socket $PGC_DIR port $PGC_PORT"
pgc_prepare_dir || die "cannot prepare $PGC_DIR"
pgc_initdb --no-sync || die "initdb failed"
# The settings live in the cluster's configuration, so pg_start in the tests
# is a plain `pg_ctl start`.
# A second socket, for the workers that Apache starts as www-data: in a
# directory only postgres and the group www-data can enter (the first stays
# mode 700).
webpg=$dir/pgweb
mkdir -m 750 "$webpg"
if [ "$(id -u)" = 0 ] && id www-data >/dev/null 2>&1; then
	chown postgres:www-data "$webpg"
fi
pgc_configure "fsync = off" "synchronous_commit = off" "full_page_writes = off" \
	"max_connections = 150" "log_min_messages = warning" \
	"unix_socket_directories = '$PGC_DIR,$webpg'" ||
	die "cannot write the PostgreSQL settings"
pgc_start || die "PostgreSQL did not start (see $PGC_LOG)"

psql_super() { pgc_psql "$@"; }
pgc_create_db || die "could not create role and database"

export PGHOST=$PGC_DIR PGPORT=$PGC_PORT
DATABASE_URL=$(pgc_database_url)
export DATABASE_URL
export BULWARK_TEST_WEB_DATABASE_URL="postgresql:///bulwark?host=$webpg&port=$PGC_PORT&user=bulwark"
export BULWARK_BIN
export BULWARK_TEST_DIR=$dir
export BULWARK_TEST_PGHOST=$PGC_DIR
export BULWARK_TEST_PGPORT=$PGC_PORT
export BULWARK_TEST_PGDATA=$PGC_DATA
export BULWARK_TEST_PGLOG=$PGC_LOG
export BULWARK_TEST_PGBIN=$PGBIN
# Sanitizer builds: spawn-fcgi sends worker stderr to /dev/null, so reports go
# to files checked after the run.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$dir/asan:detect_leaks=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$dir/ubsan:print_stacktrace=1:halt_on_error=1"

sanitizer_reports() {
	local f found=0
	for f in "$dir"/asan.* "$dir"/ubsan.* "$dir"/www-san/asan.* "$dir"/www-san/ubsan.*; do
		[ -e "$f" ] || continue
		found=1
		say "sanitizer report $f:"
		cat "$f" >&2
	done
	[ "$found" = 1 ]
}

# --- schema -----------------------------------------------------------------
migrate() {
	# The program may insist on its secret for every subcommand.
	BULWARK_JWT_SECRET=${BULWARK_JWT_SECRET:-run.sh-migrate-secret-0123456789abcdef} \
		"$BULWARK_BIN" migrate
}
schema_state() {
	local count=none
	if [ "$(psql_super -d bulwark -Atc "SELECT to_regclass('bulwark.schema_migrations') IS NOT NULL")" = t ]; then
		count=$(psql_super -d bulwark -Atc "SELECT count(*) FROM bulwark.schema_migrations")
	fi
	echo "schema_migrations rows: $count"
	# \restrict lines carry a random key (pg_dump >= 15.14): not schema.
	"$PGBIN/pg_dump" -h "$PGC_DIR" -p "$PGC_PORT" -U postgres -d bulwark --schema-only --no-comments |
		grep -v '^\\\(un\)\?restrict '
}

migrate || {
	sanitizer_reports || true
	die "'$BULWARK_BIN migrate' failed"
}
for t in bulwark.users bulwark.sessions; do
	[ "$(psql_super -d bulwark -Atc "SELECT to_regclass('$t') IS NOT NULL")" = t ] ||
		die "'migrate' did not create $t"
done
schema_state >"$dir/schema.1"
migrate || die "second '$BULWARK_BIN migrate' failed"
schema_state >"$dir/schema.2"
if ! cmp -s "$dir/schema.1" "$dir/schema.2"; then
	diff -u "$dir/schema.1" "$dir/schema.2" >&2 || true
	die "the second 'migrate' changed the database"
fi
say "migrate is idempotent ($(head -n 1 "$dir/schema.1"))"

# --- tests ------------------------------------------------------------------
phase=tests
fail=0
if [ -n "${UNIT_TESTS:-}" ]; then
	unit=()
	for t in $UNIT_TESTS; do
		case $t in
		*/*) unit+=("$t") ;;
		*) unit+=("./$t") ;;
		esac
	done
	# --exec '' makes prove run each file as an executable.
	prove --exec '' "${unit[@]}" || fail=1
fi

if [ $# -gt 0 ]; then
	integration=("$@")
	fronts=${BULWARK_FRONTS:-}
else
	integration=(tests/integration/*.t)
	# nginx twice: with fastcgi_keep_conn off, and as shipped (keep-alive
	# on, an upstream keepalive pool), which the workers' own accept loop
	# serves without stalling (issue #11).
	fronts=${BULWARK_FRONTS-lighttpd-binpath apache apache-auth shared-hosting nginx-nokeep nginx}
fi
prove -I tests/lib --timer "${integration[@]}" || fail=1

# The same routes through every other way Bulwark is mounted (each with the
# file shipped in deploy/; tests/lib/BulwarkFront.pm).
# shellcheck disable=SC2206 # word splitting wanted
front_files=(${BULWARK_FRONT_FILES:-tests/integration/0[1-8]_*.t tests/integration/50_rate_limits.t
	tests/integration/53_forwarded_for.t tests/integration/60_tokens.t
	tests/integration/70_password_reset.t tests/integration/76_password_change.t})
for front in $fronts; do
	say "through $front: ${front_files[*]##*/}"
	BULWARK_FRONT=$front prove -I tests/lib --timer "${front_files[@]}" || {
		say "FAILED through $front"
		fail=1
	}
done

if sanitizer_reports; then
	say "sanitizer reports found"
	fail=1
fi
if [ "$fail" != 0 ]; then
	say "FAILED (BULWARK_TEST_KEEP=1 keeps the logs)"
	exit 1
fi
say "all tests passed"
