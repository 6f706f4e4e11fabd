#!/usr/bin/env bash
# deploy/dev-run.sh -- `make run`: a development PostgreSQL cluster (kept
# across runs, see below), migrations, development seed users, a worker pool
# and lighttpd on http://localhost:3000, in the foreground.  Ctrl-C stops
# everything.
#
# Where the cluster lives (deploy/pg-cluster.sh runs it):
#   as a normal user  var/pg in the clone, run by that user;
#   as root           /var/tmp/bulwark-dev-0-<hash of the clone's path>/, run
#                     by `postgres` (PostgreSQL refuses root), which need not
#                     be able to enter the clone: a mode-700 /root works.
#                     One directory per clone, kept across runs and reboots.
# Everything else (the JWT secret, lighttpd's configuration, the pool's
# socket) stays in the clone's var/; lighttpd and the pool run as the caller.
#
# Environment:
#   BULWARK_BIN         the binary (default build/bulwark)
#   PORT                lighttpd's port (default 3000); BIND its address
#                       (default 127.0.0.1)
#   WORKERS             worker processes (default 4)
#   BULWARK_DEV_PGPORT  the cluster's port, which only names its socket
#                       (default 54329)
#   BULWARK_DEV_PGDIR   the cluster's directory instead of the above (as root:
#                       one `postgres` can reach)
#   PGBIN               PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   BULWARK_LOG_FILE    passed on to the program
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
BIN=${BULWARK_BIN:-$ROOT/build/bulwark}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
PORT=${PORT:-3000}
VAR=$ROOT/var

PGC_NAME=dev-run
# shellcheck source=SCRIPTDIR/pg-cluster.sh
. deploy/pg-cluster.sh

die() {
  echo "dev-run: $*" >&2
  exit 1
}

PGC_PORT=${BULWARK_DEV_PGPORT:-54329}
PGC_TIMEOUT=60
if [ -n "${BULWARK_DEV_PGDIR:-}" ]; then
  PGC_DIR=$BULWARK_DEV_PGDIR
  case $PGC_DIR in /*) ;; *) PGC_DIR=$ROOT/$PGC_DIR ;; esac
elif [ "$(id -u)" = 0 ]; then
  PGC_DIR=/var/tmp/bulwark-dev-$(id -u)-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)
else
  PGC_DIR=$VAR/pg
fi
# One directory: the data directory, the socket and the server log.
PGC_DATA=$PGC_DIR
PGC_LOG=$PGC_DIR/server.log

[ -x "$BIN" ] || die "$BIN is not an executable (run make first)"
pgc_require || exit 1
mkdir -p "$VAR/run" "$VAR/www/static"
pgc_prepare_dir || die "set BULWARK_DEV_PGDIR to a directory of its own for the cluster"
if [ "$(id -u)" = 0 ] && [ -z "${BULWARK_DEV_PGDIR:-}" ] && [ -f "$VAR/pg/PG_VERSION" ]; then
  echo "dev-run: $VAR/pg is an older development cluster, no longer used as root" \
       "(remove it with rm -rf $VAR/pg)" >&2
fi
if pgc_running; then
  stop="$PGBIN/pg_ctl -D $PGC_DATA stop"
  [ "$(id -u)" = 0 ] && stop="runuser -u postgres -- $stop"
  die "PostgreSQL already runs on $PGC_DATA (another make run of this clone?);" \
      "to stop it: $stop"
fi
where="PostgreSQL cluster in $PGC_DIR"
if [ "$(id -u)" = 0 ] && [ -z "${BULWARK_DEV_PGDIR:-}" ]; then
  where="$where (this clone's, outside it: run by user postgres)"
fi
if [ ! -f "$PGC_DATA/PG_VERSION" ]; then
  echo "dev-run: new $where"
  pgc_initdb || die "initdb failed"
else
  echo "dev-run: $where, kept across runs (remove it to start afresh)"
fi
pgc_configure || die "cannot write the PostgreSQL settings"

pids=()
cleanup() {
  trap - EXIT INT TERM
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  pgc_stop         # only what pgc_start started
  echo "stopped."
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pgc_start || { pgc_log_tail; exit 1; }
pgc_create_db || die "could not create role and database bulwark"

DATABASE_URL=$(pgc_database_url)
export DATABASE_URL
if [ ! -s "$VAR/jwt_secret" ]; then
  (umask 077; head -c 48 /dev/urandom | base64 > "$VAR/jwt_secret")
fi
chmod 600 "$VAR/jwt_secret"        # readable by its owner alone
export BULWARK_JWT_SECRET_FILE=$VAR/jwt_secret
# The development data key that seals two-factor secrets, made the same way.
if [ ! -s "$VAR/data_key" ]; then
  (umask 077; head -c 48 /dev/urandom | base64 > "$VAR/data_key")
fi
chmod 600 "$VAR/data_key"
export BULWARK_DATA_KEY_FILE=$VAR/data_key
export BULWARK_COOKIE_SECURE=0     # plain http on localhost only
export BULWARK_LOG_FILE=${BULWARK_LOG_FILE:-}
# Mail goes to files in var/mail (one whole message each); the links in them
# are printed below as they arrive, like "copy the token from the console".
export BULWARK_MAIL_TRANSPORT=file
export BULWARK_MAIL_DIR=$VAR/mail
export BULWARK_PUBLIC_URL=${BULWARK_PUBLIC_URL:-http://localhost:$PORT}
mkdir -p "$VAR/mail"
chmod 700 "$VAR/mail"

"$BIN" migrate
seed() {
  if [ "$(pgc_psql -d bulwark -tAc "SELECT 1 FROM bulwark.users WHERE email='$1'")" != 1 ]; then
    printf '%s\n' "$2" | "$BIN" user add --email "$1" ${3:+"$3"}
  fi
}
seed admin@example.com admin123 --admin
seed user@example.com user1234 ""

echo ok > "$VAR/www/static/ok.txt"
sed -e "s|@BIND@|${BIND:-127.0.0.1}|" -e "s|@PORT@|$PORT|" \
    -e "s|@DOCROOT@|$VAR/www|" -e "s|@VARDIR@|$VAR/run|" \
    -e "s|@SOCKET@|$VAR/run/bulwark.sock|" \
    deploy/lighttpd-dev.conf.in > "$VAR/run/lighttpd.conf"

rm -f "$VAR/run/bulwark.sock"
"$BIN" serve --listen "$VAR/run/bulwark.sock" --workers "${WORKERS:-4}" &
pids+=($!)
for _ in $(seq 50); do [ -S "$VAR/run/bulwark.sock" ] && break; sleep 0.1; done
[ -S "$VAR/run/bulwark.sock" ] || die "the worker pool did not create $VAR/run/bulwark.sock"
lighttpd -D -f "$VAR/run/lighttpd.conf" &
pids+=($!)

# Each new message: who it is for, its subject, and its links.
mail_watch() {
  local seen=$VAR/run/mail.seen f
  : >"$seen"
  for f in "$VAR"/mail/*.eml; do [ -e "$f" ] && echo "$f" >>"$seen"; done
  while sleep 1; do
    for f in "$VAR"/mail/*.eml; do
      [ -e "$f" ] || continue
      grep -qxF "$f" "$seen" && continue
      echo "$f" >>"$seen"
      echo "mail: $(tr -d '\r' <"$f" | sed -n 's/^To: //p;s/^Subject: //p' | paste -sd ' ' -) ($f)"
      tr -d '\r' <"$f" | grep -o 'https\?://[^ ]*' | sed 's/^/  link: /'
    done
  done
}
mail_watch &
pids+=($!)

echo "Bulwark on http://localhost:$PORT  (admin@example.com / admin123," \
     "user@example.com / user1234); Ctrl-C stops it."
wait -n "${pids[@]}" || true
