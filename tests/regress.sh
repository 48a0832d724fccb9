#!/usr/bin/env bash
# pg_regress golden-file tests of the SQL interface (tests/pg_regress/sql -> expected).
#
# `cargo pgrx regress` 0.18.1 cannot run as root: it starts its server with its own initdb and
# ignores --runas/--pgdata for it. So we install the extension with `cargo pgrx install` and
# drive PostgreSQL's own pg_regress against a throw-away cluster run as postgres.
#
#   bash tests/regress.sh            run every test
#   bash tests/regress.sh NAME...    run some tests
#   ACCEPT=1 bash tests/regress.sh   copy the results over the expected files (review the diff!)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ "${ACCEPT:-}" = 1 ] && [ "$GN_PG" != 15 ]; then
  echo "regress.sh: the expected files are PostgreSQL 15's: accept results on 15 only" >&2; exit 2
fi
PORT="${REGRESS_PORT:-54317}"
DIR="$STATE_DIR/regress-cluster"
# the server's own pg_regress and psql: in its root on 17 and 18 (tests/server.sh lends it the
# repository, where the tests and their results are)
PG_REGRESS="$(server_config --pkglibdir)/pgxs/src/test/regress/pg_regress"
regress() {
  if [ -z "$PG_ROOT" ]; then "$PG_REGRESS" "$@"; else chroot "$PG_ROOT" sh -c 'cd "$1" && shift && exec "$@"' sh "$PWD" "$PG_REGRESS" "$@"; fi
}
RDIR="$REPO/tests/pg_regress"

if [ "${SKIP_INSTALL:-}" != 1 ]; then
  say "installing gn_export (debug build) for pg_regress"
  install_extension 2>&1 | grep -E '^error|warning: unused|Finished' || true
fi

cluster_down "$DIR"
rm -rf "$DIR"
cluster_up "$DIR" "$PORT" "shared_preload_libraries = 'pg_cron'" "cron.database_name = 'postgres'"
trap 'cluster_down "$DIR"' EXIT

if [ $# -gt 0 ]; then
  tests=("$@")
else
  mapfile -t tests < <(cd "$RDIR/sql" && ls *.sql | sed 's/\.sql$//' | sort)
fi

# a directory the tests may write exports to, owned by the server's user
export GN_EXPORT_TEST_DIR="$STATE_DIR/regress-exports/engine_dir"
rm -rf "$STATE_DIR/regress-exports"
install -d -o postgres -g postgres "$STATE_DIR/regress-exports" "$GN_EXPORT_TEST_DIR"

mkdir -p "$RDIR/results" "$RDIR/expected"
if [ "${ACCEPT:-}" = 1 ]; then
  for t in "${tests[@]}"; do [ -f "$RDIR/expected/$t.out" ] || : > "$RDIR/expected/$t.out"; done
fi
# psql runs from tests/pg_regress, so tests can \i ../../sql/demo/*.sql
status=0
(cd "$RDIR" && regress --host="$PG_SOCKDIR" --port="$PORT" --user=postgres \
    --inputdir=. --outputdir=. --dbname=gn_export_regress "${tests[@]}") || status=$?

if [ "${ACCEPT:-}" = 1 ]; then
  for t in "${tests[@]}"; do cp "$RDIR/results/$t.out" "$RDIR/expected/$t.out"; done
  say "expected files updated from results: review with git diff"
fi
if [ $status -ne 0 ] && [ -f "$RDIR/regression.diffs" ]; then
  head -200 "$RDIR/regression.diffs"
fi
exit $status
