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

# The server the tests run on. GN_PG=15 (the default): this Debian's PostgreSQL 15. GN_PG=17
# or 18: Debian 13's or forky's, from the root tests/roots.sh makes, run inside it (it needs its
# own C library) as postgres, whose ids roots.sh made the same on both sides. The clients (psql,
# the Python readers) stay this machine's, but pg_regress, pg_dump and the other programs that
# must match the server are the root's (`server`); the paths the server and the tests share
# (the repository, STATE_DIR, /tmp's sockets) are lent to the root by tests/server.sh.
GN_PG="${GN_PG:-15}"
ROOTS="${GN_EXPORT_ROOTS:-/opt/gn_export-roots}"
case "$GN_PG" in
  15) PG_ROOT="" ;;
  17) PG_ROOT="$ROOTS/trixie" ;;
  18) PG_ROOT="$ROOTS/forky" ;;
  *) echo "GN_PG=$GN_PG: the tests run on PostgreSQL 15, 17 or 18" >&2; exit 2 ;;
esac
if [ -n "$PG_ROOT" ]; then
  PG_CONFIG="/usr/lib/postgresql/$GN_PG/bin/pg_config"
fi

# server PROGRAM ARGS...: a program of the server the tests run on (initdb, pg_ctl, pg_dump...),
# as postgres
server() {
  local program="$1"; shift
  if [ -z "$PG_ROOT" ]; then
    as_postgres "$PG_BIN/$program" "$@"
  else
    root_is_lent
    # a clean environment (this machine's locale or PG* settings are not the root's), but the
    # backtrace setting a test may give the server on purpose
    (cd / && chroot --userspec="$(id -u postgres):$(id -g postgres)" "$PG_ROOT" \
      env -i PATH=/usr/bin:/bin HOME=/var/lib/postgresql LANG=C.UTF-8 \
        ${RUST_BACKTRACE:+RUST_BACKTRACE=$RUST_BACKTRACE} \
        "/usr/lib/postgresql/$GN_PG/bin/$program" "$@")
  fi
}

# the server's root must see the tests' paths (tests/server.sh lends them): otherwise its
# programs would work on the root's own, empty, directories
root_is_lent() {
  mountpoint -q "$PG_ROOT$REPO" && mountpoint -q "$PG_ROOT/tmp" || {
    echo "GN_PG=$GN_PG: $PG_ROOT does not see this machine's $REPO and /tmp: run the tests on $GN_PG through tests/server.sh" >&2
    exit 1
  }
}

# pg_config of the server the tests run on
server_config() {
  if [ -z "$PG_ROOT" ]; then "$PG_CONFIG" "$@"; else chroot "$PG_ROOT" "$PG_CONFIG" "$@"; fi
}

# cluster_up DIR PORT [extra postgresql.conf lines...]: initdb DIR if needed, then start it
# (or leave it running if it already is). The directory is owned by postgres.
cluster_up() {
  local dir="$1" port="$2"; shift 2
  if [ ! -s "$dir/PG_VERSION" ]; then
    install -d -o postgres -g postgres -m 700 "$dir"
    server initdb -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
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
  if ! server pg_ctl -D "$dir" status >/dev/null 2>&1; then
    # without RUST_BACKTRACE: pgrx would append a Rust backtrace to the DETAIL of errors
    (unset RUST_BACKTRACE RUST_LIB_BACKTRACE; server pg_ctl -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null)
  fi
}

cluster_down() {
  local dir="$1"
  if [ -s "$dir/PG_VERSION" ] && server pg_ctl -D "$dir" status >/dev/null 2>&1; then
    server pg_ctl -D "$dir" -m fast -w stop >/dev/null
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
  rm -f "$PG_ROOT$(server_config --pkglibdir)/gn_export.so"
  if [ -z "$PG_ROOT" ]; then
    (cd "$REPO" && cargo pgrx install --pg-config "$PG_CONFIG" "$@")
  else
    # in the root, with this machine's Rust toolchain and the repository lent by tests/server.sh,
    # into a target directory of the root's own (its C library differs)
    in_build_root bash -c "cd '$REPO' &&
      { grep -qs 'pg$GN_PG *=' /root/.pgrx/config.toml || cargo pgrx init --pg$GN_PG $PG_CONFIG > /dev/null; } &&
      CARGO_TARGET_DIR=/var/tmp/gn_export-target-$GN_PG cargo pgrx install --pg-config $PG_CONFIG \
        --no-default-features --features pg$GN_PG $*"
  fi
  local f ext
  ext="$PG_ROOT$(server_config --sharedir)/extension"
  for f in "$REPO"/sql/gn_export--*.sql; do
    case "$(basename "$f")" in
      gn_export--*--*) ;;
      *) install -m 644 "$f" "$ext/" ;;
    esac
  done
}

# in_build_root CMD...: CMD in the server's root, with this machine's Rust toolchain on its PATH
CARGO_DIR="${CARGO_HOME:-$HOME/.cargo}"
RUSTUP_DIR="${RUSTUP_HOME:-$HOME/.rustup}"
in_build_root() {
  root_is_lent
  chroot "$PG_ROOT" env -i PATH="$CARGO_DIR/bin:/usr/bin:/bin" CARGO_HOME="$CARGO_DIR" RUSTUP_HOME="$RUSTUP_DIR" \
    HOME=/root LANG=C.UTF-8 "$@"
}

# lend_root: lends the server's root what it shares with this machine (the repository, the
# tests' state directory, /tmp's sockets, /proc, /dev with a /dev/shm of its own) and the Rust
# toolchain, at the same paths; unlend_root unmounts, last lent first (a mount a killed run
# left is taken over and given back too); give_back_root also stops the clusters of this
# server's version under STATE_DIR first (they hold files of what was lent): never another
# version's, such as the demo's or a benchmark's on 15
ROOT_LENT=()
lend_root() {
  local d
  for d in /proc /dev /dev/shm /tmp "$CARGO_DIR" "$RUSTUP_DIR" "$REPO" "$STATE_DIR"; do
    case "$d" in "$REPO"/*) [ "$d" = "$STATE_DIR" ] && continue ;; esac   # lent with the repository
    if ! mountpoint -q "$PG_ROOT$d"; then
      mkdir -p "$PG_ROOT$d"
      if [ "$d" = /dev/shm ]; then
        mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$PG_ROOT$d"
      else
        mount --bind "$d" "$PG_ROOT$d"
      fi
      # never a peer of this machine's mount (where / is shared, as systemd makes it, a mount
      # inside the lent /dev would otherwise appear on this machine's /dev too)
      mount --make-private "$PG_ROOT$d"
    fi
    ROOT_LENT+=("$PG_ROOT$d")
  done
}
unlend_root() {
  local i
  for ((i = ${#ROOT_LENT[@]} - 1; i >= 0; i--)); do
    umount "${ROOT_LENT[i]}" 2>/dev/null || umount -l "${ROOT_LENT[i]}" ||
      echo "could not unmount ${ROOT_LENT[i]}" >&2
  done
  ROOT_LENT=()
}
give_back_root() {
  local d
  for d in "$STATE_DIR"/*-cluster; do
    [ "$(cat "$d/PG_VERSION" 2>/dev/null)" = "$GN_PG" ] && { cluster_down "$d" 2>/dev/null || true; }
  done
  unlend_root
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
