# Helpers for client-side tests: a throw-away cluster, assertions and a summary line.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

CLIENT_PORT="${CLIENT_PORT:-54318}"
CLIENT_DIR="$STATE_DIR/client-cluster"
PASSED=0
FAILED=0

client_cluster_up() {
  cluster_down "$CLIENT_DIR"
  rm -rf "$CLIENT_DIR"
  cluster_up "$CLIENT_DIR" "$CLIENT_PORT" "shared_preload_libraries = 'pg_cron'" "cron.database_name = 'postgres'" \
    "cron.host = '$PG_SOCKDIR'"
  trap 'cluster_down "$CLIENT_DIR"' EXIT
}

Q() { local db="$1"; shift; psql_at "$CLIENT_PORT" "$db" -qAt "$@"; }
# QE DB ARGS...: as Q, but errors are output, not failures
QE() { local db="$1"; shift; psql_at "$CLIENT_PORT" "$db" -qAt -v ON_ERROR_STOP=0 "$@" 2>&1 || true; }
# sqlstate_in DB SQL: the SQLSTATE the statement ends with (empty when it succeeds)
sqlstate_in() { QE "$1" -c "$2" -c '\echo SQLSTATE :LAST_ERROR_SQLSTATE' | sed -n 's/^SQLSTATE //p'; }

# the Python readers and validators tests/setup.sh installs
VENV="${GN_EXPORT_VENV:-/opt/gn_export-test-venv}"
PY="$VENV/bin/python"
# the Debian roots tests/roots.sh makes (another Debian's programs, run with chroot)
ROOTS="${GN_EXPORT_ROOTS:-/opt/gn_export-roots}"

# check NAME EXPECTED ACTUAL
check() {
  if [ "$2" == "$3" ]; then
    PASSED=$((PASSED + 1)); printf 'ok     %s\n' "$1"
  else
    FAILED=$((FAILED + 1)); printf 'FAILED %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3"
  fi
}

# a database with the GeoNature-like demo schema, the extension, the demo exports and N rows
make_demo_db() {
  local db="$1" rows="${2:-100}"
  psql_at "$CLIENT_PORT" postgres -qc "CREATE DATABASE $db"
  (cd "$REPO/sql/demo" && psql_at "$CLIENT_PORT" "$db" -q -f geonature_schema.sql -f reference_data.sql \
      -f synthese_generator.sql -c "CREATE EXTENSION gn_export CASCADE" -f exports.sql \
      -c "SELECT gn_demo.generate_synthese($rows)") >/dev/null
}

# export_dir_for DB NAME: a fresh export directory owned by the server, set as DB's
# gn_export.export_dir, with the library preloaded in DB's sessions (for the COPY hook);
# sets EXPORTS.
export_dir_for() {
  EXPORTS="$STATE_DIR/$2"
  rm -rf "$EXPORTS"; install -d -o postgres -g postgres "$EXPORTS"
  Q postgres -c "ALTER DATABASE $1 SET gn_export.export_dir = '$EXPORTS'" \
             -c "ALTER DATABASE $1 SET session_preload_libraries = 'gn_export'"
}

finish() {
  echo "$(basename "$0" .sh): $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
