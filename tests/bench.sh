#!/usr/bin/env bash
# Benchmark of the export paths against native COPY ... CSV, measured in the same run.
#   bash tests/bench.sh [ROWS]        (default 1000000; RUNS=3 runs of each contender;
#                                      ONLY='gpkg' to run only the contenders matching a regex)
# It builds or reuses the demo database at that size with the release build (tests/demo.sh),
# then runs every contender RUNS times, each run right after a native COPY CSV run (A B A B),
# writing every output to a local file. It prints one table: contender, format, rows, median
# seconds, MB/s, output bytes, the backend's peak private memory (RssAnon) and the ratio of
# the medians to native COPY CSV. Not part of the tests.
#
# AB=<another build's gn_export.so> compares two builds instead (before/after a change): each
# run of a contender runs it with that library and with this build's, one after the other, on
# the same database (the library is swapped by an atomic rename between runs, so that each new
# session loads the one in place), and the table gives both medians and the ratio of this
# build's to that one's.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROWS="${1:-${ROWS:-1000000}}"
RUNS="${RUNS:-3}"
PORT="${DEMO_PORT:-54315}"
DB="${DEMO_DB:-gn_demo}"   # DEMO_DB=gn_demo10m keeps a second size beside the first
# disk: the database (about 0.8 kB a row with its areas), native COPY's CSV (1.1 kB) and the
# largest output at once (GeoJSON, 2.4 kB; 1.2 kB, a GeoPackage's, when ONLY leaves GeoJSON
# out); each output is removed once measured. 10,000,000 rows need ~47 GB (~35 GB without GeoJSON).
largest=24
if [ -n "${ONLY:-}" ] && ! echo "geojson" | grep -qE "$ONLY"; then largest=12; fi
# a database already made at that size is not counted again
made=$(psql_at "$PORT" "$DB" -XAtc "SELECT count(*) FROM gn_synthese.synthese" 2>/dev/null || echo 0)
db=8; [ "$made" = "$ROWS" ] && db=0
need_kb=$(( ROWS * (db + 11 + largest) / 10 + 4 * 1024 * 1024 ))
free_kb=$(df -Pk "$STATE_DIR" | awk 'NR == 2 {print $4}')
printf '# disk: about %d GB needed for %s rows, %d GB free under %s\n' $((need_kb / 1048576)) "$ROWS" $((free_kb / 1048576)) "$STATE_DIR"
if [ "$free_kb" -lt "$need_kb" ]; then
  echo "bench: not enough free disk for $ROWS rows: free some, or use fewer rows" >&2
  exit 1
fi
ROWS=$ROWS DEMO_DB=$DB DEMO_EXPORTS=0 bash "$REPO/tests/demo.sh" > /dev/null
OUT="$STATE_DIR/bench"
rm -rf "$OUT"; install -d -o postgres -g postgres "$OUT"
EXPORT_DIR=$(psql_at "$PORT" "$DB" -XAtc "SHOW gn_export.export_dir")
VIEW=gn_exports.v_synthese_sinp
P() { psql_at "$PORT" "$DB" -q "$@"; }
PGCONN="PG:host=$PG_SOCKDIR port=$PORT dbname=$DB user=postgres"

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# the biodiversity standards: GeoNature's RDF view as Darwin-SW (generate(): as the module has it;
# dsw(): under the SINP diffusion rule), the Synthese as Darwin Core (under the rule)
P -c "SELECT gn_export.install_dwc_view()" -c "SELECT gn_export.install_dsw_view()" > /dev/null
P -c "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
      SELECT v.* FROM (VALUES ('Bench Darwin-SW', 'gn_exports', 'v_exports_synthese_sinp_rdf', true, 1, 'idSynthese'),
                              ('Bench Darwin Core', 'gn_exports', 'v_synthese_dwc', true, 1, 'occurrenceID')) v(l, s, w, p, i, k)
       WHERE NOT EXISTS (SELECT 1 FROM gn_exports.t_exports e WHERE e.label = v.l)" > /dev/null
TTL_ID=$(psql_at "$PORT" "$DB" -XAtc "SELECT id FROM gn_exports.t_exports WHERE label = 'Bench Darwin-SW'")
DWC_ID=$(psql_at "$PORT" "$DB" -XAtc "SELECT id FROM gn_exports.t_exports WHERE label = 'Bench Darwin Core'")

# contenders: label|format|output file|command (run with bash -c)
contenders=(
  "generate()|csv|$EXPORT_DIR/schedules/Synthese_SINP.csv|P -c \"SELECT status FROM gn_export.generate(1, 'csv')\""
  "generate()|json|$EXPORT_DIR/schedules/Synthese_SINP.json|P -c \"SELECT status FROM gn_export.generate(1, 'json')\""
  "generate()|geojson|$EXPORT_DIR/schedules/Synthese_SINP.geojson|P -c \"SELECT status FROM gn_export.generate(1, 'geojson')\""
  "COPY run() raw|csv|$OUT/run.csv|P -c \"COPY (SELECT gn_export.run(1, 'csv', 3)) TO STDOUT WITH (FORMAT raw)\" > $OUT/run.csv"
  "COPY run() raw|geojson|$OUT/run.geojson|P -c \"COPY (SELECT gn_export.run(1, 'geojson', 3)) TO STDOUT WITH (FORMAT raw)\" > $OUT/run.geojson"
  "COPY hook FORMAT geojson|geojson|$OUT/hook.geojson|P -c \"COPY (SELECT * FROM $VIEW) TO STDOUT WITH (FORMAT geojson)\" > $OUT/hook.geojson"
  "ST_AsGeoJSON(t.*) via COPY|geojson lines|$OUT/st_asgeojson.txt|P -c \"COPY (SELECT ST_AsGeoJSON(t.*) FROM $VIEW t) TO STDOUT\" > $OUT/st_asgeojson.txt"
)
# the two views' own native COPY, to read the standards' ratios against the view they export
contenders+=("COPY CSV of the RDF view|csv|$OUT/rdf.csv|P -c \"COPY (SELECT * FROM gn_exports.v_exports_synthese_sinp_rdf) TO STDOUT WITH (FORMAT csv)\" > $OUT/rdf.csv")
contenders+=("COPY CSV of the DwC view|csv|$OUT/dwc.csv|P -c \"COPY (SELECT * FROM gn_exports.v_synthese_dwc) TO STDOUT WITH (FORMAT csv)\" > $OUT/dwc.csv")
contenders+=("COPY CSV of the DSW view|csv|$OUT/dsw.csv|P -c \"COPY (SELECT * FROM gn_exports.v_synthese_dsw) TO STDOUT WITH (FORMAT csv)\" > $OUT/dsw.csv")
contenders+=("generate()|ttl|$EXPORT_DIR/schedules/Bench_Darwin-SW.ttl|P -c \"SELECT status FROM gn_export.generate($TTL_ID, 'ttl')\"")
contenders+=("COPY dsw() raw|ttl|$OUT/dsw.ttl|P -c \"SET gn_export.dsw_enabled = on\" -c \"COPY (SELECT gn_export.dsw('{\\\"limit\\\": 0}')) TO STDOUT WITH (FORMAT raw)\" > $OUT/dsw.ttl")
contenders+=("generate()|dwca|$EXPORT_DIR/schedules/Bench_Darwin_Core.dwca|P -c \"SELECT status FROM gn_export.generate($DWC_ID, 'dwca')\" 2>/dev/null")
contenders+=("generate()|gpkg|$EXPORT_DIR/schedules/Synthese_SINP.gpkg|P -c \"SELECT status FROM gn_export.generate(1, 'gpkg')\"")
# open data: gzip at each level offered by the setting's range ends and middle, and GeoParquet
GZ="$EXPORT_DIR/schedules/Synthese_SINP.csv.gz"
for level in 1 6 9; do
  contenders+=("generate() gzip_level $level|csv.gz|$GZ|P -c \"SET gn_export.gzip_level = $level\" -c \"SELECT status FROM gn_export.generate(1, 'csv.gz')\"")
done
contenders+=("generate() gzip_level 1|geojson.gz|$EXPORT_DIR/schedules/Synthese_SINP.geojson.gz|P -c \"SELECT status FROM gn_export.generate(1, 'geojson.gz')\"")
contenders+=("COPY run_bytes() raw|csv.gz|$OUT/run.csv.gz|P -c \"COPY (SELECT gn_export.run_bytes(1, 'csv.gz', 3)) TO STDOUT WITH (FORMAT raw)\" > $OUT/run.csv.gz")
for level in 1 3 9; do
  contenders+=("generate() zstd $level|parquet|$EXPORT_DIR/schedules/Synthese_SINP.parquet|P -c \"SET gn_export.parquet_zstd_level = $level\" -c \"SELECT status FROM gn_export.generate(1, 'parquet')\"")
done
contenders+=("generate() GeoParquet 2.0|parquet|$EXPORT_DIR/schedules/Synthese_SINP.parquet|P -c \"SET gn_export.geoparquet_version = '2.0'\" -c \"SELECT status FROM gn_export.generate(1, 'parquet')\"")
# a user's download is written in the plan's order, a published file in spatial order: the
# difference is the sort's cost (each run appends the path of its file, which nobody can guess, to a .path file)
contenders+=("generate() user, no sort|parquet|$OUT/user-parquet.path|P -XAtc \"SELECT path FROM gn_export.generate(1, 'parquet', 3)\" >> $OUT/user-parquet.path")
contenders+=("generate() user, no sort|gpkg|$OUT/user-gpkg.path|P -XAtc \"SELECT path FROM gn_export.generate(1, 'gpkg', 3)\" >> $OUT/user-gpkg.path")
if command -v ogr2ogr >/dev/null; then
  ogr="ogr2ogr $(ogr2ogr --version | awk '{print $2}' | tr -d ,)"
  contenders+=("$ogr|geojson|$OUT/ogr2ogr.geojson|rm -f $OUT/ogr2ogr.geojson; ogr2ogr -f GeoJSON $OUT/ogr2ogr.geojson \"$PGCONN\" -sql \"SELECT * FROM $VIEW\"")
  contenders+=("$ogr|gpkg|$OUT/ogr2ogr.gpkg|rm -f $OUT/ogr2ogr.gpkg; ogr2ogr -f GPKG $OUT/ogr2ogr.gpkg \"$PGCONN\" -sql \"SELECT * FROM $VIEW\" -nln synthese")
fi
# ONLY=regex keeps the contenders whose label|format matches
if [ -n "${ONLY:-}" ]; then
  kept=(); for c in "${contenders[@]}"; do IFS='|' read -r l f _ <<< "$c"; [[ "$l|$f" =~ $ONLY ]] && kept+=("$c"); done
  contenders=("${kept[@]}")
fi
export -f P psql_at; export PG_BIN PG_SOCKDIR PORT DB

run_cmd() { bash -c "$1"; }
LIB="$("$PG_BIN/pg_config" --pkglibdir)/gn_export.so"
if [ -n "${AB:-}" ]; then
  THIS="$STATE_DIR/bench-this.so"; cp "$LIB" "$THIS"
  use_lib() { cp "$1" "$LIB.swap" && mv -f "$LIB.swap" "$LIB"; }
  trap 'use_lib "$THIS"' EXIT
  printf '# %s rows, %s runs each: this build against %s\n' "$ROWS" "$RUNS" "$AB"
  printf '%-28s %-13s %9s %9s %7s\n' contender format this_s that_s ratio
  for c in "${contenders[@]}"; do
    IFS='|' read -r label format file cmd <<< "$c"
    ts=(); os=()
    for _ in $(seq 1 "$RUNS"); do
      use_lib "$AB"; read -r o _ < <(timed_backend "$PORT" run_cmd "$cmd")
      use_lib "$THIS"; read -r t _ < <(timed_backend "$PORT" run_cmd "$cmd")
      os+=("$o"); ts+=("$t")
    done
    rm -f "$file"
    awk -v l="$label" -v f="$format" -v t="$(printf '%s\n' "${ts[@]}" | median)" -v o="$(printf '%s\n' "${os[@]}" | median)" \
      'BEGIN {printf "%-28s %-13s %9.2f %9.2f %6.3fx\n", l, f, t, o, t/o}'
  done
  exit 0
fi
baseline="P -c \"COPY (SELECT * FROM $VIEW) TO STDOUT WITH (FORMAT csv)\" > $OUT/native.csv"

printf '# %s rows, %s runs each, %s, %s cores\n' "$ROWS" "$RUNS" "$(psql_at "$PORT" "$DB" -XAtc 'SELECT version()' | cut -d, -f1)" "$(nproc)"
printf '%-28s %-13s %9s %9s %8s %14s %9s %7s\n' contender format rows median_s MB/s bytes peak_MB ratio
declare -a all_base=()
for c in "${contenders[@]}"; do
  IFS='|' read -r label format file cmd <<< "$c"
  ts=(); bs=(); peaks=()
  for _ in $(seq 1 "$RUNS"); do
    read -r b _ < <(timed_backend "$PORT" run_cmd "$baseline")
    read -r t peak < <(timed_backend "$PORT" run_cmd "$cmd")
    bs+=("$b"); ts+=("$t"); peaks+=("$peak"); all_base+=("$b")
  done
  mt=$(printf '%s\n' "${ts[@]}" | median)
  mb=$(printf '%s\n' "${bs[@]}" | median)
  if [[ "$file" == *.path ]]; then
    paths=$(cat "$file"); rm -f "$file"; file=$(echo "$paths" | tail -1)
  fi
  bytes=$(stat -c %s "$file" 2>/dev/null || echo 0)
  rm -f "$file" ${paths:-}; paths=""
  peak=$(printf '%s\n' "${peaks[@]}" | sort -g | tail -1)
  awk -v l="$label" -v f="$format" -v r="$ROWS" -v t="$mt" -v b="$mb" -v by="$bytes" -v p="$peak" \
    'BEGIN {printf "%-28s %-13s %9d %9.2f %8.1f %14.0f %9.1f %6.2fx\n", l, f, r, t, by/1e6/t, by, p/1024, t/b}'
done
nb=$(printf '%s\n' "${all_base[@]}" | median)
awk -v r="$ROWS" -v t="$nb" -v by="$(stat -c %s "$OUT/native.csv")" \
  'BEGIN {printf "%-28s %-13s %9d %9.2f %8.1f %14.0f %9s %6.2fx\n", "native COPY (baseline)", "csv", r, t, by/1e6/t, by, "-", 1}'
