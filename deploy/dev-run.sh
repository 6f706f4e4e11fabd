#!/usr/bin/env bash
# deploy/dev-run.sh -- `make run`: Bulwark on http://localhost:3000 for
# development, in the foreground; Ctrl-C stops everything.
#
#   deploy/dev-run.sh           start (what `make run` does after building)
#   deploy/dev-run.sh --reset   wipe the development data (`make reset`)
#
# What it starts: a development PostgreSQL cluster (kept across runs), the
# migrations, two seed users, a pool of workers and lighttpd, which also
# serves the example page (examples/browser/) on the same origin.  Request
# logs go to var/log/bulwark.log; warnings and errors are also shown here.
#
# Your settings win: every BULWARK_* key you set is passed on untouched
# (BULWARK_COOKIE_SECURE=1 make run gives Secure cookies); the ones this
# script sets are only defaults for what you did not set.  DATABASE_URL
# replaces the development cluster altogether (then nothing is seeded).
#
# Environment of the script itself:
#   PORT                lighttpd's port (default 3000)
#   BIND                its address (default 127.0.0.1; 0.0.0.0 for all)
#   WORKERS             worker processes (default 4)
#   DATABASE_URL        your own database instead of the development cluster
#   BULWARK_BIN         the binary (default build/bulwark)
#   BULWARK_DEV_PGPORT  the cluster's port, which only names its socket
#                       (default 54329)
#   BULWARK_DEV_PGDIR   the cluster's directory instead of the default
#                       (as root: one that user postgres can reach)
#   PGBIN               PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#
# Where the cluster lives (deploy/pg-cluster.sh runs it):
#   as a normal user  var/pg in the clone, run by that user;
#   as root           /var/tmp/bulwark-dev-0-<hash of the clone's path>/, run
#                     by `postgres` (PostgreSQL refuses root), which need not
#                     be able to enter the clone: a mode-700 /root works.
# Everything else (the JWT secret, lighttpd's configuration, the pool's
# socket, mail, logs) stays in the clone's var/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
BIN=${BULWARK_BIN:-$ROOT/build/bulwark}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
PORT=${PORT:-3000}
BIND=${BIND:-127.0.0.1}
WORKERS=${WORKERS:-4}
VAR=$ROOT/var
LOGDIR=$VAR/log
SETUP_LOG=$LOGDIR/setup.log

PGC_NAME=dev-run
# shellcheck source=SCRIPTDIR/pg-cluster.sh
. deploy/pg-cluster.sh

die() {
  echo "dev-run: $*" >&2
  exit 1
}
say() { echo "dev-run: $*"; }

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

# ---- make reset -----------------------------------------------------------
if [ "${1:-}" = --reset ]; then
  if [ -f "$PGC_DATA/PG_VERSION" ] && pgc_running; then
    die "the development cluster in $PGC_DIR is running: stop make run first"
  fi
  case $PGC_DIR in
    / | "$ROOT" | "$VAR") die "refusing to remove $PGC_DIR" ;;
  esac
  rm -rf -- "$PGC_DIR" "$VAR/mail" "$LOGDIR" "$VAR/run" "$VAR/www" "$VAR/jwt_secret" "$VAR/data_key"
  [ -d "$VAR/pg" ] && [ "$VAR/pg" != "$PGC_DIR" ] && rm -rf -- "$VAR/pg"
  say "development data removed ($PGC_DIR, var/mail, var/log, the JWT secret and data key);" \
      "the next make run starts empty"
  exit 0
fi
[ $# -eq 0 ] || die "usage: deploy/dev-run.sh [--reset]"

[ -x "$BIN" ] || die "$BIN is not an executable (run make first)"
mkdir -p "$VAR/run" "$VAR/www/static" "$LOGDIR"
: >"$SETUP_LOG"
# The setup's own output goes to var/log/setup.log, shown only on failure.
setup_failed() {
  tail -n 30 "$SETUP_LOG" >&2
  die "$* (the whole output: $SETUP_LOG)"
}

own_db=${DATABASE_URL:+1}
pids=()
cleanup() {
  trap - EXIT INT TERM
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -z "$own_db" ] && pgc_stop   # only what pgc_start started
  echo "dev-run: stopped."
}

if [ -z "$own_db" ]; then
  pgc_require || exit 1
  pgc_prepare_dir || die "set BULWARK_DEV_PGDIR to a directory of its own for the cluster"
  if [ "$(id -u)" = 0 ] && [ -z "${BULWARK_DEV_PGDIR:-}" ] && [ -f "$VAR/pg/PG_VERSION" ]; then
    say "$VAR/pg is an older development cluster, no longer used as root" \
        "(make reset removes it)" >&2
  fi
  if pgc_running; then
    stop="$PGBIN/pg_ctl -D $PGC_DATA stop"
    [ "$(id -u)" = 0 ] && stop="runuser -u postgres -- $stop"
    die "PostgreSQL already runs on $PGC_DATA (another make run of this clone?);" \
        "to stop it: $stop"
  fi
  if [ ! -f "$PGC_DATA/PG_VERSION" ]; then
    fresh=1
    pgc_initdb --no-sync >>"$SETUP_LOG" 2>&1 || setup_failed "initdb failed"
  else
    fresh=
  fi
  pgc_configure || die "cannot write the PostgreSQL settings"
fi
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "$own_db" ]; then
  pgc_start 2>>"$SETUP_LOG" || { pgc_log_tail; setup_failed "PostgreSQL did not start"; }
  pgc_create_db >>"$SETUP_LOG" 2>&1 || setup_failed "could not create role and database bulwark"
  DATABASE_URL=$(pgc_database_url)
  export DATABASE_URL
fi

# Defaults for what the caller did not set; a key you set is left alone.
if [ -z "${BULWARK_JWT_SECRET:-}${BULWARK_JWT_SECRET_FILE:-}${BULWARK_JWT_KEYS_FILE:-}" ]; then
  if [ ! -s "$VAR/jwt_secret" ]; then
    (umask 077; head -c 48 /dev/urandom | base64 > "$VAR/jwt_secret")
  fi
  chmod 600 "$VAR/jwt_secret"        # readable by its owner alone
  export BULWARK_JWT_SECRET_FILE=$VAR/jwt_secret
fi
# The development data key that seals two-factor secrets, made the same way.
if [ -z "${BULWARK_DATA_KEY:-}${BULWARK_DATA_KEY_FILE:-}" ]; then
  if [ ! -s "$VAR/data_key" ]; then
    (umask 077; head -c 48 /dev/urandom | base64 > "$VAR/data_key")
  fi
  chmod 600 "$VAR/data_key"
  export BULWARK_DATA_KEY_FILE=$VAR/data_key
fi
export BULWARK_COOKIE_SECURE=${BULWARK_COOKIE_SECURE:-0}  # plain http on localhost
export BULWARK_LOG_FILE=${BULWARK_LOG_FILE:-$LOGDIR/bulwark.log}
# Mail goes to files in var/mail (one whole message each); the links in them
# are printed below as they arrive, like "copy the token from the console".
export BULWARK_MAIL_TRANSPORT=${BULWARK_MAIL_TRANSPORT:-file}
export BULWARK_MAIL_DIR=${BULWARK_MAIL_DIR:-$VAR/mail}
export BULWARK_PUBLIC_URL=${BULWARK_PUBLIC_URL:-http://localhost:$PORT}
if [ "$BULWARK_MAIL_TRANSPORT" = file ]; then
  mkdir -p "$BULWARK_MAIL_DIR"
  chmod 700 "$BULWARK_MAIL_DIR"
fi

# The configuration is checked once, here, so a typo is said before the rest.
"$BIN" config >"$VAR/run/config.txt" 2>>"$SETUP_LOG" || setup_failed "the configuration is refused"

"$BIN" migrate >>"$SETUP_LOG" 2>&1 || setup_failed "bulwark migrate failed"
accounts="none seeded (your own DATABASE_URL; add one: $BIN user add --email E)"
if [ -z "$own_db" ]; then
  seed() {
    if [ "$(pgc_psql -d bulwark -tAc "SELECT 1 FROM bulwark.users WHERE email='$1'")" != 1 ]; then
      printf '%s\n' "$2" | "$BIN" user add --email "$1" ${3:+"$3"} >>"$SETUP_LOG" 2>&1 ||
        setup_failed "could not create $1"
    fi
  }
  seed admin@example.com admin123 --admin
  seed user@example.com user1234 ""
  accounts="admin@example.com / admin123 (admin), user@example.com / user1234"
fi

echo ok > "$VAR/www/static/ok.txt"
# The example page, served by lighttpd on the API's own origin.
rm -rf "$VAR/www/examples"
mkdir -p "$VAR/www/examples"
cp -R examples/browser "$VAR/www/examples/browser"
sed -e "s|@BIND@|$BIND|" -e "s|@PORT@|$PORT|" \
    -e "s|@DOCROOT@|$VAR/www|" -e "s|@VARDIR@|$VAR/run|" \
    -e "s|@SOCKET@|$VAR/run/bulwark.sock|" \
    deploy/lighttpd-dev.conf.in > "$VAR/run/lighttpd.conf"

# Warnings and errors from the log on the console as they come; the rest
# (a line per request) stays in the file.
touch "$BULWARK_LOG_FILE"
tail -n 0 -F "$BULWARK_LOG_FILE" 2>/dev/null |
  grep --line-buffered -E '"level":"(warning|error)"' >&2 &
pids+=($!)

rm -f "$VAR/run/bulwark.sock"
"$BIN" serve --listen "$VAR/run/bulwark.sock" --workers "$WORKERS" &
pids+=($!)
for _ in $(seq 50); do [ -S "$VAR/run/bulwark.sock" ] && break; sleep 0.1; done
[ -S "$VAR/run/bulwark.sock" ] || die "the worker pool did not create $VAR/run/bulwark.sock (see $BULWARK_LOG_FILE)"
lighttpd -D -f "$VAR/run/lighttpd.conf" &
pids+=($!)
for _ in $(seq 50); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/static/ok.txt" 2>/dev/null && break
  [ "$BIND" != 127.0.0.1 ] && [ "$BIND" != 0.0.0.0 ] && break
  sleep 0.1
done

# Each new message: who it is for, its subject, and its links.
mail_watch() {
  local seen=$VAR/run/mail.seen f
  : >"$seen"
  for f in "$BULWARK_MAIL_DIR"/*.eml; do [ -e "$f" ] && echo "$f" >>"$seen"; done
  while sleep 1; do
    for f in "$BULWARK_MAIL_DIR"/*.eml; do
      [ -e "$f" ] || continue
      grep -qxF "$f" "$seen" && continue
      echo "$f" >>"$seen"
      echo "mail: $(tr -d '\r' <"$f" | sed -n 's/^To: //p;s/^Subject: //p' | paste -sd ' ' -) ($f)"
      tr -d '\r' <"$f" | grep -o 'https\?://[^ ]*' | sed 's/^/  link: /'
    done
  done
}
if [ "$BULWARK_MAIL_TRANSPORT" = file ]; then
  mail_watch &
  pids+=($!)
fi

if [ -n "$own_db" ]; then
  data="your DATABASE_URL"
else
  data="PostgreSQL in $PGC_DIR${fresh:+ (new)}, kept across runs"
fi
host=$BIND
[ "$host" = 0.0.0.0 ] && host=localhost
[ "$host" = 127.0.0.1 ] && host=localhost
cat <<EOF

  Bulwark is running on http://$host:$PORT   (API at the root: GET /health)
  example page   http://$host:$PORT/examples/browser/
  accounts       $accounts
  data           $data
  logs           $BULWARK_LOG_FILE (requests); warnings and errors here
  mail           ${BULWARK_MAIL_DIR} (links printed here as they arrive)
  settings       $VAR/run/config.txt (bulwark config); yours win: see README
  stop           Ctrl-C        start afresh: make reset && make run

EOF
wait -n "${pids[@]}" || true
