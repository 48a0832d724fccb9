#!/usr/bin/env bash
# GDAL, the reader of QGIS, with its Parquet driver (Debian forky's GDAL, built with it by
# tests/roots.sh): the GeoParquet of the demo export (GeoNature's 70 Synthese columns) and of a
# table of every type are read with no column ignored, no warning, their SRS, every row and
# every value the database's; lists of dates and timestamps come as their ISO 8601 texts. GDAL's
# lists hold no NULL element (it reads one as 0, NaN or an empty string): opened with
# LISTS_AS_STRING_JSON=YES, as docs/formats.md says, GDAL reads those too as the database has them.
# GeoParquet 2.0 (Parquet's GEOMETRY type) reads the same.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
FORKY="$ROOTS/forky"
chroot "$FORKY" ogrinfo --formats 2>/dev/null | grep -c '^  Parquet ' > /dev/null ||
  { echo "no GDAL with its Parquet driver in $FORKY: run bash tests/setup.sh"; exit 1; }
client_cluster_up
DB=gn_gdalpq
make_demo_db $DB 300
export_dir_for $DB gdalpq-exports
(cd "$(dirname "$0")/sql" && Q $DB -f types.sql)
Q $DB <<'SQL'
-- GeoNature's views also carry lists of dates and timestamps, uuids, times
ALTER TABLE public.types ADD COLUMN ad date[], ADD COLUMN ats timestamp[], ADD COLUMN atz timestamptz[],
  ADD COLUMN af float8[], ADD COLUMN ab boolean[], ADD COLUMN ua uuid[], ADD COLUMN tm time, ADD COLUMN tz timestamptz;
UPDATE public.types SET ad = '{2024-03-01,2000-02-29}', ats = '{"2024-03-01 10:20:30.5"}',
  atz = '{"2024-03-01 10:20:30+02","1999-12-31 23:00:00+00"}', af = '{1.5,2.25}', ab = '{true,false}',
  ua = '{12345678-9abc-def0-0123-456789abcdef}', tm = '10:30', tz = '2024-03-01 10:20:30.5+02' WHERE id = 1;
UPDATE public.types SET ad = '{}', ats = '{}', atz = '{}', af = '{}', ab = '{}', ua = '{}',
  tm = '23:59:59.999999', tz = '1970-01-01 00:00:00+00' WHERE id = 2;
SQL
TYPES=$(Q $DB -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Types géo'")
tmp=$(mktemp -d -p "$FORKY/tmp")
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT
# file [open option...]: what GDAL reads of it, inside the root
gdal_reads() {
  local f=$1; shift
  cp "$f" "$tmp/"
  chroot "$FORKY" python3 - "/tmp/$(basename "$tmp")/$(basename "$f")" "$@" < "$(dirname "$0")/gdal_read.py"
}
compare() { "$PY" "$(dirname "$0")/check_gdal.py" "$CLIENT_PORT" $DB "$@"; }
summary() { grep -E '^(warnings|ignored|srs|rows):' | paste -sd'|'; }

f=$(Q $DB -c "SET TimeZone = 'America/Caracas'" -c "SELECT path FROM gn_export.generate($TYPES, 'parquet')" | tail -1)
cp "$f" "$tmp/caracas.parquet"
f=$(Q $DB -c "SET TimeZone = 'Asia/Kolkata'" -c "SELECT path FROM gn_export.generate($TYPES, 'parquet')" | tail -1)
check "the same GeoParquet whatever the session's TimeZone (a list of timestamptz as UTC texts)" same \
  "$(cmp -s "$f" "$tmp/caracas.parquet" && echo same || echo differ)"
res=$(gdal_reads "$f" | compare "SELECT * FROM public.types" id geom)
check "GDAL $(chroot "$FORKY" gdal-config --version) reads the GeoParquet of every type: no column ignored, no warning, its SRS, every row" \
  "warnings: none|ignored: none|srs: EPSG:2154|rows: 3 of 3" "$(echo "$res" | summary)"
check "... every value the database's (lists of dates and timestamps as ISO 8601 texts), but a NULL element of a list" \
  "differ: ai" "$(echo "$res" | grep '^differ:')"
echo "$res" | grep '^    ' | grep -v '^    ai ' || true
res=$(gdal_reads "$f" LISTS_AS_STRING_JSON=YES | compare "SELECT * FROM public.types" id geom)
check "... and opened with LISTS_AS_STRING_JSON=YES, a NULL element too" "differ: none" "$(echo "$res" | grep '^differ:')"
echo "$res" | grep '^    ' || true

n=$(Q $DB -c "SELECT count(*) FROM gn_exports.v_synthese_sinp")
res=$(gdal_reads "$(Q $DB -c "SELECT path FROM gn_export.generate(1, 'parquet')")" | compare "SELECT * FROM gn_exports.v_synthese_sinp" id_synthese geom)
check "GDAL reads the demo export's GeoParquet: GeoNature's 70 columns, no warning, EPSG:4326, every row" \
  "warnings: none|ignored: none|srs: EPSG:4326|rows: $n of $n" "$(echo "$res" | summary)"
check "... every value the database's" "differ: none" "$(echo "$res" | grep '^differ:')"
echo "$res" | grep '^    ' || true

echo "## GeoParquet 2.0: the geometry in Parquet's GEOMETRY type"
V2="SET gn_export.geoparquet_version = '2.0'"
res=$(gdal_reads "$(Q $DB -c "$V2" -c "SELECT path FROM gn_export.generate(1, 'parquet')" | tail -1)" | compare "SELECT * FROM gn_exports.v_synthese_sinp" id_synthese geom)
check "GDAL reads the demo export as GeoParquet 2.0: no warning, EPSG:4326, every row, every value the database's" \
  "warnings: none|ignored: none|srs: EPSG:4326|rows: $n of $n|differ: none" "$(echo "$res" | grep -E '^(warnings|ignored|srs|rows|differ):' | paste -sd'|')"
echo "$res" | grep '^    ' || true
res=$(gdal_reads "$(Q $DB -c "$V2" -c "SELECT path FROM gn_export.generate($TYPES, 'parquet')" | tail -1)" LISTS_AS_STRING_JSON=YES | compare "SELECT * FROM public.types" id geom)
check "... and every type in Lambert-93 (its CRS from the GEOMETRY type's PROJJSON)" \
  "warnings: none|ignored: none|srs: EPSG:2154|rows: 3 of 3|differ: none" "$(echo "$res" | grep -E '^(warnings|ignored|srs|rows|differ):' | paste -sd'|')"
echo "$res" | grep '^    ' || true
finish
