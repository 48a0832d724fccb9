# Shared shell helpers for the demo, the tests and the benchmark (sourced, not run).
# PostgreSQL refuses to run as root, so clusters run as the `postgres` system user with the
# Debian PostgreSQL 15 binaries; their sockets live in /tmp on their own port.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_CONFIG="${PG_CONFIG:-$PG_BIN/pg_config}"
PG_SOCKDIR=/tmp

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

say() { printf '== %s\n' "$*"; }

# Where clusters live. They run as postgres, which must be able to reach the directory: under
# target/ when the checkout is reachable by postgres, else in /var/tmp (e.g. a clone in /root).
STATE_DIR="$REPO/target"
mkdir -p "$STATE_DIR"
if ! runuser -u postgres -- test -x "$STATE_DIR" 2>/dev/null; then
  STATE_DIR="/var/tmp/gn_export-$(printf '%s' "$REPO" | md5sum | cut -c1-8)"
  mkdir -p "$STATE_DIR"
fi

# from /, which postgres can always enter (a checkout in /root is not): PostgreSQL's programs
# otherwise complain that they cannot change back to the current directory
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else (cd / && runuser -u postgres -- "$@"); fi
}

# cluster_up DIR PORT [extra postgresql.conf lines...]: initdb DIR if needed, then start it
# (or leave it running if it already is). The directory is owned by postgres.
cluster_up() {
  local dir="$1" port="$2"; shift 2
  if [ ! -s "$dir/PG_VERSION" ]; then
    install -d -o postgres -g postgres -m 700 "$dir"
    as_postgres "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    {
      echo "port = $port"
      echo "listen_addresses = '127.0.0.1'"
      echo "unix_socket_directories = '$PG_SOCKDIR'"
      echo "fsync = on"
      echo "max_connections = 40"
      echo "shared_buffers = 512MB"
      echo "work_mem = 32MB"
      echo "maintenance_work_mem = 512MB"
      echo "max_wal_size = 4GB"
      echo "logging_collector = off"
      for line in "$@"; do echo "$line"; done
    } >> "$dir/postgresql.conf"
  fi
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    # without RUST_BACKTRACE: pgrx would append a Rust backtrace to the DETAIL of errors
    as_postgres env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE \
      "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null
  fi
}

cluster_down() {
  local dir="$1"
  if [ -s "$dir/PG_VERSION" ] && as_postgres "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_postgres "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
  fi
}

# psql against a cluster started by cluster_up: psql_at PORT DB [psql args...]
psql_at() {
  local port="$1" db="$2"; shift 2
  "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -p "$port" -U postgres -d "$db" "$@"
}

# Builds and installs the extension into the system PostgreSQL (debug unless --release given).
# install_extension [--release]: builds and installs the current version (its install script,
# and the upgrade scripts sql/gn_export--<old>--<new>.sql, which cargo pgrx copies), plus the
# frozen install scripts of released versions (sql/gn_export--<old>.sql), so that an old version
# can still be installed and upgraded (tests/client/upgrade.sh)
install_extension() {
  # unlinked first: cargo pgrx copies over the file in place, which would change the code under
  # a backend that has the library mapped (a demo or bench session still running)
  rm -f "$("$PG_CONFIG" --pkglibdir)/gn_export.so"
  (cd "$REPO" && cargo pgrx install --pg-config "$PG_CONFIG" "$@")
  local f ext
  ext="$("$PG_CONFIG" --sharedir)/extension"
  for f in "$REPO"/sql/gn_export--*.sql; do
    case "$(basename "$f")" in
      gn_export--*--*) ;;
      *) install -m 644 "$f" "$ext/" ;;
    esac
  done
}

# timed_backend PORT COMMAND...: runs COMMAND with PGAPPNAME set to a fresh name, watches the
# backend serving it, and prints "<seconds> <peak RssAnon kB>". COMMAND's stdout goes to
# $TIMED_OUT (default /dev/null).
timed_backend() {
  local port="$1"; shift
  local app="gn_watch_$RANDOM$RANDOM" pid="" peak=0 v start end
  start=$(date +%s%N)
  PGAPPNAME="$app" "$@" > "${TIMED_OUT:-/dev/null}" &
  local bg=$!
  for _ in $(seq 1 1000); do
    pid=$(psql_at "$port" postgres -XAtc "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'" 2>/dev/null || true)
    [ -n "$pid" ] && break
    kill -0 $bg 2>/dev/null || break
    sleep 0.01
  done
  while [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; do
    v=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
    kill -0 $bg 2>/dev/null || break
    sleep 0.02
  done
  wait $bg
  end=$(date +%s%N)
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", (b-a)/1e9}') $peak"
}
