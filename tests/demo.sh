#!/usr/bin/env bash
# Newcomer demo: set the machine up, build and install the release extension, run a private
# PostgreSQL 15 cluster, load a GeoNature-like database with ROWS observations (default 100000),
# create the extension and show the export catalog. Safe to rerun: the cluster and the database
# are reused, and the observations are regenerated only when ROWS changes.
set -euo pipefail
# setup first: lib.sh looks for the postgres user, which setup's packages create
bash "$(dirname "$0")/setup.sh" | grep -v '^$' || true
source "$(dirname "$0")/lib.sh"

ROWS="${ROWS:-100000}"
PORT="${DEMO_PORT:-54315}"
DIR="$STATE_DIR/demo-cluster"
DB="${DEMO_DB:-gn_demo}"

say "building and installing gn_export (release)"
install_extension --release 2>&1 | grep -E 'Finished|Installing|error' || true

say "starting the demo cluster on port $PORT ($DIR)"
cluster_up "$DIR" "$PORT"

# a demo database made before the demo had GeoNature's areas (ref_geo, cor_area_synthese) and
# its SENSIBILITE and NIV_PRECIS codes is made again: its observations could not be generalised
if psql_at "$PORT" "$DB" -Atc "SELECT to_regclass('gn_synthese.cor_area_synthese') IS NULL" 2>/dev/null | grep -q t; then
  say "the demo database predates GeoNature's areas: making it again"
  psql_at "$PORT" postgres -qc "DROP DATABASE $DB"
fi
if ! psql_at "$PORT" postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  psql_at "$PORT" postgres -qc "CREATE DATABASE $DB"
fi
export PGOPTIONS="-c client_min_messages=warning"
P() { psql_at "$PORT" "$DB" "$@"; }
EXPORT_DIR="$STATE_DIR/demo-exports"
install -d -o postgres -g postgres "$EXPORT_DIR"
# the COPY hook (FORMAT raw, geojson...) needs the library loaded before the statement
psql_at "$PORT" postgres -q -c "ALTER DATABASE $DB SET session_preload_libraries = 'gn_export'" \
  -c "ALTER DATABASE $DB SET gn_export.export_dir = '$EXPORT_DIR'" \
  -c "ALTER DATABASE $DB SET gn_export.base_url = 'http://localhost/geonature/api/media/exports'"

say "loading the GeoNature-like schema and reference data"
( cd "$REPO/sql/demo" && P -q -f geonature_schema.sql -f reference_data.sql -f synthese_generator.sql ) >/dev/null
# installed once, then upgraded as a DBA would (ALTER EXTENSION ... UPDATE to the version just
# built, through the scripts under sql/): the run history, the grants and the settings stay
P -qc "CREATE EXTENSION IF NOT EXISTS gn_export CASCADE" -c "ALTER EXTENSION gn_export UPDATE"
( cd "$REPO/sql/demo" && P -q -f exports.sql ) >/dev/null

have=$(P -Atc "SELECT count(*) FROM gn_synthese.synthese")
if [ "$have" != "$ROWS" ]; then
  say "generating $ROWS observations (had $have)"
  start=$(date +%s%N)
  P -qc "TRUNCATE gn_synthese.synthese, gn_synthese.cor_area_synthese" \
    -c "SELECT gn_demo.generate_synthese($ROWS) AS generated" \
    -c "VACUUM ANALYZE gn_synthese.synthese"
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  say "generated $ROWS observations in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"
else
  say "reusing $have observations"
fi

say "gn_export $(P -Atc 'SELECT gn_export.version()') in database $DB"
P -c "SELECT e.id, e.label, e.schema_name || '.' || e.view_name AS view, e.geometry_field AS geom,
             e.geometry_srid AS srid, e.public, l.name_licence AS licence,
             (SELECT string_agg(r.id_role::text, ',') FROM gn_exports.cor_exports_roles r WHERE r.id_export = e.id) AS roles
      FROM gn_exports.t_exports e JOIN gn_exports.t_licences l USING (id_licence) ORDER BY e.id"
P -c "SELECT count(*) AS observations, count(*) FILTER (WHERE geom IS NULL) AS without_geometry,
             count(DISTINCT geometrytype(geom)) AS geometry_types FROM gn_exports.v_synthese_sinp"

if [ "${DEMO_EXPORTS:-1}" = 1 ]; then
timed() { # label, then a command whose stdout is "rows|bytes"
  local label="$1"; shift
  local s e out
  s=$(date +%s%N); out=$("$@"); e=$(date +%s%N)
  local ms=$(( (e - s) / 1000000 ))
  printf '   %-46s %9s rows %12s bytes %4d.%03d s\n' "$label" "${out%%|*}" "${out##*|}" $((ms / 1000)) $((ms % 1000))
}
say "exporting 'Synthese SINP' (the demo's 'admin' user, id_role 3)"
timed "generate(1, 'csv')" P -XAtc "SELECT rows || '|' || bytes FROM gn_export.generate(1, 'csv')"
timed "generate(1, 'geojson')" P -XAtc "SELECT rows || '|' || bytes FROM gn_export.generate(1, 'geojson')"
stream_copy() {
  P -c "COPY (SELECT gn_export.run(1, 'geojson', 3)) TO STDOUT WITH (FORMAT raw)" > "$EXPORT_DIR/streamed.geojson"
  echo "$(P -XAtc "SELECT count(*) FROM gn_exports.v_synthese_sinp")|$(stat -c %s "$EXPORT_DIR/streamed.geojson")"
}
timed "COPY (SELECT run(1,'geojson',3)) TO STDOUT raw" stream_copy
say "scheduled exports (what pg_cron runs): CALL gn_export.run_schedules(), each schedule committed on its own"
P -c "CALL gn_export.run_schedules()"
P -c "SELECT id_run, label, format, requested_for, status, rows, size, duration FROM gn_export.v_runs ORDER BY id_run DESC LIMIT 6"
echo "   files in $EXPORT_DIR:"
ls -l "$EXPORT_DIR"/schedules "$EXPORT_DIR"/streamed.geojson | sed 's/^/     /'
fi

cat <<MSG
== demo ready: psql -h $PG_SOCKDIR -p $PORT -U postgres $DB
   stop it with: runuser -u postgres -- $PG_BIN/pg_ctl -D $DIR stop
MSG
