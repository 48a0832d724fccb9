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

# peak RssAnon (kB) of the backend named $1 until it disappears
watch_backend() {
  local app="$1" pid="" peak=0 v
  for _ in $(seq 1 500); do
    pid=$(psql_at "$PORT" postgres -XAtc "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'" 2>/dev/null || true)
    [ -n "$pid" ] && break
    sleep 0.01
  done
  [ -n "$pid" ] || { echo 0; return; }
  while [ -r "/proc/$pid/status" ]; do
    v=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
    sleep 0.02
  done
  echo "$peak"
}

measure() { # label, psql args...
  local label="$1"; shift
  local app="gn_mem_$RANDOM"
  local start end
  start=$(date +%s%N)
  PGAPPNAME="$app" psql_at "$PORT" gn_demo -q "$@" > /dev/null &
  local bg=$!
  local peak
  peak=$(watch_backend "$app")
  wait $bg
  end=$(date +%s%N)
  printf '%-34s %9s rows %8.1f MB peak RssAnon %7.2f s\n' "$label" "$ROWS" "$(echo "$peak/1024" | awk -F/ '{printf "%.1f", $1/$2}')" \
    "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", (b-a)/1e9}')"
}

for ROWS in $SIZES; do
  ROWS=$ROWS bash "$REPO/tests/demo.sh" > /dev/null
  export ROWS
  measure "generate() csv" -c "SELECT status FROM gn_export.generate(1, 'csv')"
  measure "generate() geojson" -c "SELECT status FROM gn_export.generate(1, 'geojson')"
  measure "COPY run() raw csv" -c "COPY (SELECT gn_export.run(1, 'csv', 3)) TO STDOUT WITH (FORMAT raw)"
  measure "COPY run() raw geojson" -c "COPY (SELECT gn_export.run(1, 'geojson', 3)) TO STDOUT WITH (FORMAT raw)"
  measure "COPY (hook) FORMAT geojson" -c "COPY (SELECT * FROM gn_exports.v_synthese_sinp) TO STDOUT WITH (FORMAT geojson)"
  measure "native COPY csv (reference)" -c "COPY (SELECT * FROM gn_exports.v_synthese_sinp) TO STDOUT WITH (FORMAT csv)"
done
