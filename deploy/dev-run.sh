#!/usr/bin/env bash
# deploy/dev-run.sh -- `make run`: a throwaway PostgreSQL cluster under var/,
# migrations, development seed users, a worker pool and lighttpd on
# http://localhost:3000, in the foreground.  Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${BULWARK_BIN:-$ROOT/build/bulwark}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
PORT=${PORT:-3000}
PGPORT=${BULWARK_DEV_PGPORT:-54329}
VAR=$ROOT/var
PGDATA=$VAR/pg
PGBIN=/usr/lib/postgresql/15/bin

mkdir -p "$VAR/run" "$VAR/www/static"
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: the cluster belongs to `postgres`,
  # which must be able to reach var/.
  if ! runuser -u postgres -- test -x "$VAR"; then
    echo "dev-run: user postgres cannot enter $VAR; clone the repository" \
         "somewhere it can (e.g. /srv or /opt)" >&2
    exit 1
  fi
  mkdir -p "$PGDATA"; chown postgres: "$PGDATA"; chmod 700 "$PGDATA"
fi

if [ ! -f "$PGDATA/PG_VERSION" ]; then
  as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C >/dev/null
fi
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
  -o "-c listen_addresses='' -k $PGDATA -p $PGPORT" start >/dev/null

pids=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
  echo "stopped."
}
trap cleanup EXIT INT TERM

psql_su() { as_pg psql -X -q -h "$PGDATA" -p "$PGPORT" -U postgres -d postgres "$@"; }
psql_su -tAc "SELECT 1 FROM pg_roles WHERE rolname='bulwark'" | grep -q 1 \
  || psql_su -c "CREATE ROLE bulwark LOGIN"
psql_su -tAc "SELECT 1 FROM pg_database WHERE datname='bulwark'" | grep -q 1 \
  || psql_su -c "CREATE DATABASE bulwark OWNER bulwark"

export DATABASE_URL="postgresql:///bulwark?host=$PGDATA&port=$PGPORT&user=bulwark"
if [ ! -s "$VAR/jwt_secret" ]; then
  (umask 077; head -c 48 /dev/urandom | base64 > "$VAR/jwt_secret")
fi
export BULWARK_JWT_SECRET_FILE=$VAR/jwt_secret
export BULWARK_COOKIE_SECURE=0     # plain http on localhost only
export BULWARK_LOG_FILE=${BULWARK_LOG_FILE:-}

"$BIN" migrate
seed() {
  if ! psql_su -d bulwark -tAc "SELECT 1 FROM bulwark.users WHERE email='$1'" | grep -q 1; then
    printf '%s\n' "$2" | "$BIN" user add --email "$1" $3
  fi
}
seed admin@example.com admin123 --admin
seed user@example.com user1234 ""

echo ok > "$VAR/www/static/ok.txt"
sed -e "s|@BIND@|${BIND:-127.0.0.1}|" -e "s|@PORT@|$PORT|" \
    -e "s|@DOCROOT@|$VAR/www|" -e "s|@VARDIR@|$VAR/run|" \
    -e "s|@SOCKET@|$VAR/run/bulwark.sock|" \
    deploy/lighttpd-dev.conf.in > "$VAR/run/lighttpd.conf"

"$BIN" serve --listen "$VAR/run/bulwark.sock" --workers "${WORKERS:-4}" &
pids+=($!)
for _ in $(seq 50); do [ -S "$VAR/run/bulwark.sock" ] && break; sleep 0.1; done
lighttpd -D -f "$VAR/run/lighttpd.conf" &
pids+=($!)

echo "Bulwark on http://localhost:$PORT  (admin@example.com / admin123," \
     "user@example.com / user1234); Ctrl-C stops it."
wait -n "${pids[@]}" || true
