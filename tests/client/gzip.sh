#!/usr/bin/env bash
# gzip for every text format: generate(id, 'csv.gz') and schedules write
# <name>.<ext>.gz, run_bytes() streams the same bytes through COPY (FORMAT raw), gunzip gives
# exactly the uncompressed export, GDAL reads compressed GeoJSON through /vsigzip/, Python's
# gzip module reads the same values, the level is a setting, and clean_files() knows the names.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
client_cluster_up
make_demo_db gn_gz 800
export_dir_for gn_gz gz-exports
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT
S="$EXPORTS/schedules"
Q gn_gz <<'SQL'
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Darwin-SW', 'gn_exports', 'v_exports_synthese_sinp_rdf', true, 1, 'idSynthese');
CREATE VIEW public.v_nothing AS SELECT * FROM gn_exports.v_synthese_sinp WHERE false;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('Rien', 'public', 'v_nothing', 'geom', 4326, true, 1, 'id_synthese');
SQL
DSW=$(Q gn_gz -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Darwin-SW'")
EMPTY=$(Q gn_gz -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Rien'")
gen() { Q gn_gz -c "SELECT status || '|' || coalesce(path, error) FROM gn_export.generate($1, '$2')"; }

# every text format, on the demo, a view without geometry, Darwin-SW and a 0-row export
for case in "1 csv" "1 tsv" "2 json" "1 geojson" "3 geojsonseq" "$DSW ttl" "$EMPTY csv" "$EMPTY geojson"; do
  read -r id f <<< "$case"
  plain=$(gen "$id" "$f"); gz=$(gen "$id" "$f.gz")
  ext=$(Q gn_gz -c "SELECT extension FROM gn_export.formats() WHERE name = '$f'")
  check "generate($id, '$f.gz') writes <stem>.$ext.gz" "done|${plain#done|}.gz" "$gz"
  check "gunzip of $f.gz ($id) gives exactly generate($id, '$f')" "" \
    "$(gunzip -c "${gz#done|}" | cmp - "${plain#done|}" 2>&1)"
  # in the order of the export's key, as the published file is
  psql_at "$CLIENT_PORT" gn_gz -c "COPY (SELECT gn_export.run_bytes($id, '$f.gz', 3, filters => jsonb_build_object('orderby', (SELECT view_pk_column FROM gn_exports.t_exports WHERE id = $id)))) TO STDOUT (FORMAT raw)" > "$tmp/copy.gz"
  check "COPY run_bytes($id, '$f.gz') (FORMAT raw) is byte for byte the generated file" "" \
    "$(cmp "$tmp/copy.gz" "${gz#done|}" 2>&1)"
done
check "a 0-row export is a valid gzip file of the empty FeatureCollection" '{"type":"FeatureCollection","features":[]}' \
  "$(gunzip -c "$S/Rien.geojson.gz" | jq -c .)"

# the SRF itself (not the COPY fast path), computed arguments, and a plain format as bytes
psql_at "$CLIENT_PORT" gn_gz -c "COPY (SELECT b FROM gn_export.run_bytes(1 + 0, 'CSV.GZ', 3, filters => '{\"orderby\": \"id_synthese\"}') AS b) TO STDOUT (FORMAT raw)" > "$tmp/srf.gz"
check "run_bytes() in FROM (no fast path) gives the same bytes" "" "$(cmp "$tmp/srf.gz" "$S/Synthese_SINP.csv.gz" 2>&1)"
check "run_bytes() of a plain format is the file's bytes" "" \
  "$(psql_at "$CLIENT_PORT" gn_gz -c "COPY (SELECT gn_export.run_bytes(3, 'geojsonseq', 3, filters => jsonb_build_object('orderby', (SELECT view_pk_column FROM gn_exports.t_exports WHERE id = 3)))) TO STDOUT (FORMAT raw)" | cmp - "$S/Synthese_Lambert-93.geojsonseq" 2>&1)"
check "COPY's count is the number of bytea blocks, as SELECT returns them" \
  "$(Q gn_gz -c "SELECT count(*) FROM gn_export.run_bytes(1, 'geojson.gz', 3)")" \
  "$(psql_at "$CLIENT_PORT" gn_gz -c "COPY (SELECT gn_export.run_bytes(1, 'geojson.gz', 3)) TO '/dev/null' (FORMAT raw)" | sed 's/COPY //')"
check "blocks leave as they are made (many bytea values, not one)" t \
  "$(Q gn_gz -c "SELECT count(*) > 2 AND max(length(b)) <= 262144 FROM gn_export.run_bytes(1, 'csv', 3) b")"

# readers: GDAL through /vsigzip/, Python's gzip with csv and json
n1=$(Q gn_gz -c "SELECT count(*) FROM gn_exports.v_synthese_sinp")
n3=$(Q gn_gz -c "SELECT count(*) FROM gn_exports.v_synthese_l93")
check "GDAL reads geojson.gz through /vsigzip/ (feature count)" "Feature Count: $n1" \
  "$(ogrinfo -ro -so -al "/vsigzip/$S/Synthese_SINP.geojson.gz" 2>&1 | grep -o 'Feature Count: [0-9]*')"
check "GDAL reads geojsonseq.gz through /vsigzip/ (feature count)" "Feature Count: $n3" \
  "$(ogrinfo -ro -so -al "/vsigzip/$S/Synthese_Lambert-93.geojsonseq.gz" 2>&1 | grep -o 'Feature Count: [0-9]*')"
check "Python's gzip + csv and json read the same values as the plain files" "csv same True|json same True|geojson same True" \
  "$(python3 - "$S" <<'PY'
import csv, gzip, json, sys
d = sys.argv[1]
rows = lambda f: list(csv.reader(f, delimiter=";"))
with open(f"{d}/Synthese_SINP.csv", newline="", encoding="utf-8") as a, gzip.open(f"{d}/Synthese_SINP.csv.gz", "rt", newline="", encoding="utf-8") as b:
    print("csv same", rows(a) == rows(b) and len(rows(open(f"{d}/Synthese_SINP.csv", newline="", encoding="utf-8"))) > 1, end="|")
print("json same", json.load(open(f"{d}/Jeux_de_donnees.json")) == json.load(gzip.open(f"{d}/Jeux_de_donnees.json.gz")), end="|")
print("geojson same", json.load(open(f"{d}/Synthese_SINP.geojson")) == json.load(gzip.open(f"{d}/Synthese_SINP.geojson.gz")))
PY
)"

# errors
check "run() refuses a compressed format (22023) and says to use run_bytes()" "22023 1" \
  "$(sqlstate_in gn_gz "SELECT gn_export.run(1, 'csv.gz', 3)") $(QE gn_gz -c "SELECT gn_export.run(1, 'csv.gz', 3)" | grep -c "gn_export.run_bytes(id_export, 'csv.gz')")"
check "gzip of a container format is refused (22023) with the formats that take it" "22023 1" \
  "$(sqlstate_in gn_gz "SELECT * FROM gn_export.generate(1, 'gpkg.gz')") $(QE gn_gz -c "SELECT * FROM gn_export.generate(1, 'gpkg.gz')" | grep -c "Use 'gpkg', or one of csv, tsv")"
check "the COPY hook does not take a .gz format (core COPY's own error)" 22023 \
  "$(sqlstate_in gn_gz "COPY (SELECT 1) TO STDOUT (FORMAT \"csv.gz\")")"

check "the COPY fast path checks EXECUTE on run_bytes() (42501) as the SRF would" 42501 \
  "$(Q gn_gz -c "CREATE ROLE gz_reader" -c "REVOKE EXECUTE ON FUNCTION gn_export.run_bytes(integer, text, integer, text, jsonb) FROM PUBLIC" >/dev/null
     sqlstate_in gn_gz "SET ROLE gz_reader; COPY (SELECT gn_export.run_bytes(2, 'csv.gz')) TO STDOUT (FORMAT raw)")"

# the level is a setting: 1 by default, 9 smaller, the same content
a=$(stat -c %s "$S/Synthese_SINP.csv.gz")
Q gn_gz -c "SET gn_export.gzip_level = 9" -c "SELECT 1 FROM gn_export.generate(1, 'csv.gz')" > /dev/null
b=$(stat -c %s "$S/Synthese_SINP.csv.gz")
check "gzip_level 9 makes a smaller file than the default 1, with the same content" "smaller same" \
  "$([ "$b" -lt "$a" ] && echo smaller || echo "$b >= $a") $(gunzip -c "$S/Synthese_SINP.csv.gz" | cmp -s - "$S/Synthese_SINP.csv" && echo same)"
check "gzip_level outside 1..9 is refused (22023)" 22023 "$(sqlstate_in gn_gz "SET gn_export.gzip_level = 10")"

# schedules: the names that fit GeoNature's varchar(10), in the catalog's CHECK
Q gn_gz -c "DELETE FROM gn_exports.t_export_schedules" \
  -c "INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format) VALUES (3, 1, 'geojson.gz'), (2, 1, 'csv.gz')"
check "schedules of geojson.gz and csv.gz write their files" "done done" \
  "$(Q gn_gz -c "SELECT string_agg(status, ' ') FROM gn_export.run_scheduled()")"
check "the scheduled geojson.gz is GeoJSON" FeatureCollection "$(gunzip -c "$S/Synthese_Lambert-93.geojson.gz" | jq -r .type)"
check "geojsonseq.gz does not fit GeoNature's varchar(10) (22001); gpkg.gz is refused by the CHECK (23514)" "22001 23514" \
  "$(sqlstate_in gn_gz "INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format) VALUES (1, 1, 'geojsonseq.gz')") $(sqlstate_in gn_gz "INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format) VALUES (1, 1, 'gpkg.gz')")"
check "formats() lists every text format gzipped, as application/gzip" \
  "csv.gz tsv.gz json.gz geojson.gz geojsonseq.gz ttl.gz|application/gzip" \
  "$(Q gn_gz -c "SELECT string_agg(name, ' '), string_agg(DISTINCT media_type, ' ') FROM gn_export.formats() WHERE name LIKE '%.gz'")"

# user files: found again by exact name, cleaned like the others
u=$(Q gn_gz -c "SELECT path FROM gn_export.generate(2, 'json.gz', id_role => 3)")
touch -d '20 days ago' "$u"
check "clean_files() removes an old user .json.gz file" "$(basename "$u")" \
  "$(Q gn_gz -c "SELECT string_agg(regexp_replace(path, '.*/', ''), ' ') FROM gn_export.clean_files() WHERE path LIKE '%.gz'")"
finish
