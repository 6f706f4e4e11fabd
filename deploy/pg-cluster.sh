# shellcheck shell=bash
# deploy/pg-cluster.sh -- a private PostgreSQL 15 cluster for `make run`
# (deploy/dev-run.sh), `make test` (tests/run.sh) and `make bench`
# (tests/bench/run.sh).  Sourced, never run: it defines functions and
# defaults, and starts nothing by itself.
#
# The cluster listens on a Unix socket only (listen_addresses = ''), in a
# directory of mode 700 that belongs to the user running PostgreSQL, and
# authenticates with `trust`: safe only because no other local user can reach
# that socket.  As root, PostgreSQL (which refuses to run as root) runs as the
# `postgres` user and owns the directory; root itself still connects (root
# passes any permission check).  As any other user, PostgreSQL runs as that
# user.
#
# Variables (set them after sourcing, before calling the functions):
#   PGBIN        PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   PGC_DIR      the cluster's directory, also the socket directory (required);
#                pgc_prepare_dir creates it
#   PGC_DATA     the data directory (default $PGC_DIR/data; may be $PGC_DIR)
#   PGC_LOG      the server log (default $PGC_DIR/postgres.log)
#   PGC_PORT     the port, which only names the socket: .s.PGSQL.$PGC_PORT
#                (required)
#   PGC_TIMEOUT  seconds pg_ctl waits for a start or a stop (default 30)
#   PGC_NAME     prefix of this file's messages on stderr (default pg-cluster)
# Set by the functions:
#   PGC_STARTED  1 once pgc_start started the server (pgc_stop stops only then)
#
# Functions (each returns non-zero on failure and says why on stderr; none
# exits, so a caller's `set -e` and traps stay in charge):
#   pgc_require [TOOL...]    PGBIN has initdb, pg_ctl, postgres, psql and the
#                            TOOLs; as root, a `postgres` user exists
#   pgc_as CMD...            CMD as the user that runs PostgreSQL: as root,
#                            `runuser -u postgres --` from / (so the caller's
#                            working directory need not be reachable);
#                            otherwise CMD itself
#   pgc_prepare_dir          create PGC_DIR (mode 700, owned by postgres as
#                            root), or check that an existing one is ours
#   pgc_initdb [ARG...]      initdb PGC_DATA: trust, superuser postgres, UTF8,
#                            C locale, plus ARGs (e.g. --no-sync); prints
#                            initdb's output on failure
#   pgc_configure [LINE...]  (re)write the settings: listen_addresses = '',
#                            the socket directory and port, then each LINE
#                            ("fsync = off"), in PGC_DATA/pg-cluster.conf,
#                            which postgresql.conf includes; on every call,
#                            so a reused cluster follows PGC_DIR and PGC_PORT
#   pgc_start                pg_ctl -w start, logging to PGC_LOG
#   pgc_running              0 when a server runs on PGC_DATA
#   pgc_stop                 stop what pgc_start started: fast, else immediate
#   pgc_psql ARG...          psql as the superuser over the socket
#                            (-X -q -v ON_ERROR_STOP=1); pass -d yourself
#   pgc_create_db            role bulwark LOGIN and database bulwark owned by
#                            it, each unless it exists already
#   pgc_database_url         prints the DATABASE_URL of role bulwark
#   pgc_log_tail [N]         the last N (20) lines of PGC_LOG on stderr
#   pgc_throwaway DIR        the variables of a throwaway cluster in DIR:
#                            PGC_DIR, PGC_DATA (DIR/data), PGC_LOG, a random
#                            PGC_PORT (20000..49999), PGC_TIMEOUT 30
#
# A throwaway cluster:
#   . deploy/pg-cluster.sh
#   pgc_throwaway "$tmp/pg"
#   pgc_require && pgc_prepare_dir && pgc_initdb --no-sync &&
#     pgc_configure "fsync = off" && pgc_start && pgc_create_db
#   trap pgc_stop EXIT

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGC_TIMEOUT=${PGC_TIMEOUT:-30}
PGC_STARTED=0

pgc_msg() { printf '%s: %s\n' "${PGC_NAME:-pg-cluster}" "$*" >&2; }

pgc_throwaway() {
	PGC_DIR=$1
	PGC_DATA=$PGC_DIR/data
	PGC_LOG=$PGC_DIR/postgres.log
	PGC_PORT=$((20000 + RANDOM % 30000))
	PGC_TIMEOUT=30
}

# Fills in the defaults that depend on PGC_DIR; the required variables unset
# are a bug in the caller.
_pgc_vars() {
	if [ -z "${PGC_DIR:-}" ] || [ -z "${PGC_PORT:-}" ]; then
		pgc_msg "PGC_DIR and PGC_PORT must be set before ${FUNCNAME[1]}"
		return 1
	fi
	PGC_DATA=${PGC_DATA:-$PGC_DIR/data}
	PGC_LOG=${PGC_LOG:-$PGC_DIR/postgres.log}
}

# shellcheck disable=SC2120 # the arguments are optional
pgc_require() {
	local t ok=0
	for t in initdb pg_ctl postgres psql "$@"; do
		if [ ! -x "$PGBIN/$t" ]; then
			pgc_msg "missing $PGBIN/$t (install postgresql-15)"
			ok=1
		fi
	done
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		pgc_msg "running as root needs a 'postgres' user to run the cluster"
		ok=1
	fi
	return "$ok"
}

pgc_as() {
	if [ "$(id -u)" != 0 ]; then
		"$@"
	elif command -v runuser >/dev/null; then
		(cd / && runuser -u postgres -- "$@")
	else
		# shellcheck disable=SC2016 # expanded by the inner shell
		(cd / && su postgres -s /bin/sh -c '"$0" "$@"' -- "$@")
	fi
}

# The directory holds the socket, so its mode is what keeps trust
# authentication safe.  An existing one (a reused cluster, or one in a shared
# directory such as /var/tmp) must be a real directory that belongs to the
# user running PostgreSQL (or, as root, to root): never one another user
# created.  Fails too when that user cannot reach the directory.
pgc_prepare_dir() {
	_pgc_vars || return 1
	local d=$PGC_DIR owner want
	want=$(id -un)
	[ "$(id -u)" = 0 ] && want=postgres
	if [ -L "$d" ]; then
		pgc_msg "$d is a symbolic link; refusing to use it for the cluster"
		return 1
	fi
	if [ ! -e "$d" ]; then
		mkdir -m 700 -- "$d" || return 1
	fi
	if [ ! -d "$d" ]; then
		pgc_msg "$d exists and is not a directory"
		return 1
	fi
	owner=$(stat -c %U -- "$d") || return 1
	if [ "$owner" != "$want" ] && [ "$owner" != root ]; then
		pgc_msg "$d belongs to $owner, not $want; refusing to use it for the cluster"
		return 1
	fi
	if [ "$owner" != "$want" ]; then
		chown "$want": -- "$d" || return 1
	fi
	chmod 700 -- "$d" || return 1
	if ! pgc_as test -w "$d" -a -x "$d"; then
		pgc_msg "user $want cannot reach $d (a directory above it is closed to $want)"
		return 1
	fi
}

# shellcheck disable=SC2120 # the arguments are optional
pgc_initdb() {
	_pgc_vars || return 1
	local out
	# Kept in memory, not in a file: PGC_DATA may be PGC_DIR, which initdb
	# wants empty.
	if ! out=$(pgc_as "$PGBIN/initdb" -D "$PGC_DATA" -A trust -U postgres -E UTF8 --locale=C "$@" 2>&1); then
		printf '%s\n' "$out" >&2
		pgc_msg "initdb -D $PGC_DATA failed"
		return 1
	fi
}

# Values go between single quotes, doubled inside.
_pgc_quote() { printf "'%s'" "${1//\'/\'\'}"; }

# shellcheck disable=SC2120 # the arguments are optional
pgc_configure() {
	_pgc_vars || return 1
	local conf=$PGC_DATA/pg-cluster.conf line
	{
		echo "# Written by deploy/pg-cluster.sh at every start: edits here are lost."
		echo "listen_addresses = ''"
		echo "unix_socket_directories = $(_pgc_quote "$PGC_DIR")"
		echo "port = $PGC_PORT"
		for line in "$@"; do
			echo "$line"
		done
	} >"$conf.tmp" || return 1
	if [ "$(id -u)" = 0 ]; then
		chown postgres: -- "$conf.tmp" || return 1
	fi
	chmod 600 -- "$conf.tmp" || return 1
	mv -f -- "$conf.tmp" "$conf" || return 1
	# Included last, so these settings win over initdb's.
	if ! grep -qxF "include 'pg-cluster.conf'" "$PGC_DATA/postgresql.conf"; then
		printf '\n%s\n' "include 'pg-cluster.conf'" >>"$PGC_DATA/postgresql.conf" || return 1
	fi
}

pgc_start() {
	_pgc_vars || return 1
	if ! pgc_as "$PGBIN/pg_ctl" -D "$PGC_DATA" -l "$PGC_LOG" -w -t "$PGC_TIMEOUT" start >/dev/null; then
		pgc_msg "PostgreSQL did not start (log: $PGC_LOG)"
		return 1
	fi
	PGC_STARTED=1
}

pgc_running() {
	_pgc_vars || return 1
	pgc_as "$PGBIN/pg_ctl" -D "$PGC_DATA" status >/dev/null 2>&1
}

pgc_stop() {
	[ "$PGC_STARTED" = 1 ] || return 0
	_pgc_vars || return 1
	PGC_STARTED=0
	# Already stopped (a test may stop it): nothing to do.
	pgc_running || return 0
	pgc_as "$PGBIN/pg_ctl" -D "$PGC_DATA" -m fast -w -t "$PGC_TIMEOUT" stop >/dev/null 2>&1 && return 0
	pgc_msg "fast shutdown failed; trying an immediate one"
	pgc_as "$PGBIN/pg_ctl" -D "$PGC_DATA" -m immediate -w -t "$PGC_TIMEOUT" stop >/dev/null 2>&1 && return 0
	pgc_msg "could not stop PostgreSQL on $PGC_DATA (log: $PGC_LOG)"
	return 1
}

pgc_psql() {
	_pgc_vars || return 1
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGC_DIR" -p "$PGC_PORT" -U postgres "$@"
}

pgc_create_db() {
	local have
	have=$(pgc_psql -d postgres -Atc "SELECT 1 FROM pg_roles WHERE rolname = 'bulwark'") || return 1
	if [ "$have" != 1 ]; then
		pgc_psql -d postgres -c "CREATE ROLE bulwark LOGIN" || return 1
	fi
	have=$(pgc_psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'bulwark'") || return 1
	if [ "$have" != 1 ]; then
		pgc_psql -d postgres -c "CREATE DATABASE bulwark OWNER bulwark" || return 1
	fi
}

# The socket directory percent-encoded for the URL's query string.
pgc_database_url() {
	_pgc_vars || return 1
	local LC_ALL=C s=$PGC_DIR host='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9/._~-]) host+=$c ;;
		*) host+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf 'postgresql:///bulwark?host=%s&port=%s&user=bulwark\n' "$host" "$PGC_PORT"
}

# shellcheck disable=SC2120 # the arguments are optional
pgc_log_tail() {
	_pgc_vars || return 1
	[ -s "$PGC_LOG" ] || return 0
	pgc_msg "last lines of the PostgreSQL log $PGC_LOG:"
	tail -n "${1:-20}" -- "$PGC_LOG" >&2
}
