#!/usr/bin/env bash
# Peak private memory (RssAnon) of the backend while it exports the demo 'Synthese SINP', for
# generate() and for run() through COPY (FORMAT raw), at several sizes. Not part of the tests:
#   bash tests/memory.sh              # 100000 and 1000000 rows
#   SIZES="10000 100000" bash tests/memory.sh
# It (re)builds the demo database at each size with tests/demo.sh, so it takes a few minutes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SIZES="${SIZES:-100000 1000000}"
PORT="${DEMO_PORT:-54315}"
P() { psql_at "$PORT" gn_demo -q "$@"; }

measure() { # label, command...
  local label="$1"; shift
  read -r secs peak < <(timed_backend "$PORT" "$@")
  printf '%-34s %9s rows %8.1f MB peak RssAnon %7.2f s\n' "$label" "$ROWS" "$(awk -v p="$peak" 'BEGIN {print p/1024}')" "$secs"
}

for ROWS in $SIZES; do
  ROWS=$ROWS DEMO_EXPORTS=0 bash "$REPO/tests/demo.sh" > /dev/null
  measure "generate() csv" P -c "SELECT status FROM gn_export.generate(1, 'csv')"
  measure "generate() geojson" P -c "SELECT status FROM gn_export.generate(1, 'geojson')"
  measure "COPY run() raw csv" P -c "COPY (SELECT gn_export.run(1, 'csv', 3)) TO STDOUT WITH (FORMAT raw)"
  measure "COPY run() raw geojson" P -c "COPY (SELECT gn_export.run(1, 'geojson', 3)) TO STDOUT WITH (FORMAT raw)"
  measure "COPY (hook) FORMAT geojson" P -c "COPY (SELECT * FROM gn_exports.v_synthese_sinp) TO STDOUT WITH (FORMAT geojson)"
  measure "native COPY csv (reference)" P -c "COPY (SELECT * FROM gn_exports.v_synthese_sinp) TO STDOUT WITH (FORMAT csv)"
done
