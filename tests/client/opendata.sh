#!/usr/bin/env bash
# Open data: what data.gouv.fr and its users' programs make of gn_export's files. Every
# GeoParquet, CSV, csv.gz, GeoJSON and GeoJSON lines file of the demo export (GeoNature's 70
# Synthese columns) and the GeoParquet of a table of every type is analysed by data.gouv.fr's
# own code (udata-hydra and csv-detective, check_opendata.py) without error, with each
# column's type as hydra sees it; polars and
# DuckDB read every Parquet value back equal to the database's (a uuid as its text, a time as
# its ISO 8601 text).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$PY" -c "import udata_hydra, csv_detective, polars, duckdb" ||
  { echo "missing udata-hydra, csv-detective, polars or duckdb in $VENV: run bash tests/setup.sh"; exit 1; }
client_cluster_up
DB=gn_open
make_demo_db $DB 2000
export_dir_for $DB open-exports
(cd "$(dirname "$0")/sql" && Q $DB -f types.sql)
Q $DB <<'SQL'
-- what GeoNature's views carry beside the type table's: times (Occtax), uuid lists, timestamptz
ALTER TABLE public.types ADD COLUMN tm time, ADD COLUMN ua uuid[], ADD COLUMN tz timestamptz;
UPDATE public.types SET tm = '10:30', ua = '{12345678-9abc-def0-0123-456789abcdef,NULL}', tz = '2024-03-01 10:20:30.5+02' WHERE id = 1;
UPDATE public.types SET tm = '23:59:59.999999', ua = '{}', tz = '1970-01-01 00:00:00+00' WHERE id = 2;
SQL
TYPES=$(Q $DB -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Types géo'")
opendata() { "$PY" "$(dirname "$0")/check_opendata.py" "$1" "$CLIENT_PORT" $DB "$2" "$3"; }
file_of() { Q $DB -c "SELECT coalesce(path, error) FROM gn_export.generate($1, '$2')"; }

for id in 1 "$TYPES"; do
  view=$(Q $DB -c "SELECT format('%I.%I', schema_name, view_name) || ' ' || view_pk_column FROM gn_exports.t_exports WHERE id = $id")
  read -r rel key <<< "$view"
  n=$(Q $DB -c "SELECT count(*) FROM $rel")
  f=$(file_of "$id" parquet)
  res=$(opendata "$f" "SELECT * FROM $rel" "$key" 2>&1)
  check "export $id, GeoParquet: data.gouv.fr's analysis (udata-hydra) reads every column and row" "hydra: ok|rows: $n" \
    "$(echo "$res" | grep -E '^(hydra|rows):' | paste -sd'|')"
  [ "$id" = 1 ] || check "GeoParquet types as hydra maps them: uuid, time and jsonb as text, lists as JSON, integers, floats, dates, timestamps" \
    "type ai json|type d date|type f4 float|type i2 int|type j string|type tm string|type ts datetime|type tz datetime_aware|type u string|type ua json" \
    "$(echo "$res" | grep -E '^type (ai|d|f4|i2|j|tm|ts|tz|u|ua) ' | sort | paste -sd'|')"
  check "export $id, GeoParquet: polars and DuckDB read every value equal to the database's" "polars: 0 values differ|duckdb: 0 values differ" \
    "$(echo "$res" | grep -E '^(polars|duckdb):' | paste -sd'|')"
  echo "$res" | grep -E '^   ' | head -6 || true
done

for format in csv csv.gz; do
  f=$(file_of 1 "$format")
  res=$(opendata "$f" "SELECT 1" id_synthese 2>&1)
  n=$(Q $DB -c "SELECT count(*) FROM gn_exports.v_synthese_sinp")
  check "the demo export as $format: data.gouv.fr's analysis (csv-detective through udata-hydra) reads every row, cast to its column's type" \
    "hydra: ok|rows: $n" "$(echo "$res" | grep -E '^(hydra|rows):' | paste -sd'|')"
  check "the demo export as $format: csv-detective's types of the key, the SINP uuid, dates, counts and jsonb" \
    "type date_debut datetime_naive|type date_fin datetime_naive|type donnees_additionnelles json|type id_perm_sinp uuid|type id_synthese int|type nombre_max int" \
    "$(echo "$res" | grep -E '^type (date_debut|date_fin|donnees_additionnelles|id_perm_sinp|id_synthese|nombre_max) ' | sort | paste -sd'|')"
done
for format in geojson geojsonseq; do
  f=$(file_of 1 "$format")
  res=$(opendata "$f" "SELECT 1" id_synthese 2>&1)
  check "the demo export as $format: data.gouv.fr's analysis (udata-hydra's tippecanoe conversion to PMTiles) succeeds" \
    "hydra: ok" "$(echo "$res" | grep -E '^hydra:')"
done
finish
