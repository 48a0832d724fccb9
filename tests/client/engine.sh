#!/usr/bin/env bash
# The export engine seen from a client: the same bytes through COPY (FORMAT raw), psql's
# \copy and the file generate() writes; Python's csv/json and GDAL read every output back to
# PostgreSQL's own values; GeoJSON ids are the pk and coordinates are in EPSG:4326 even for a
# view stored in EPSG:2154.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
client_cluster_up
ROWS="${ENGINE_ROWS:-3000}"
make_demo_db gn_engine "$ROWS"
export_dir_for gn_engine client-exports
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT

# every awkward value is really in the data exported
awkward=$(Q gn_engine -c "SELECT count(DISTINCT v) FROM gn_exports.v_synthese_sinp,
    LATERAL (VALUES (comment_releve), (comment_occurrence)) c(t),
    LATERAL (SELECT unnest(ARRAY[';', ',', '\"', '\\', E'\t', E'\n', E'\r\n', E'\r', '\\.', '\\N', 'é', '漢字', '🦅']) v) w
    WHERE strpos(t, v) > 0")
check "the data holds ; , \" \\ TAB LF CRLF CR \\. \\N é 漢字 🦅" 13 "$awkward"
check "the data holds empty strings and NULLs" "t|t" \
  "$(Q gn_engine -c "SELECT bool_or(comment_releve = ''), bool_or(comment_releve IS NULL) FROM gn_exports.v_synthese_sinp")"

# a published file's rows come in the order of the export's key: run() is asked for that order
KEY="filters => '{\"orderby\": \"id_synthese\"}'"
for fmt in csv json geojson geojsonseq; do
  ext=$fmt; [ "$fmt" = geojsonseq ] && ext=geojsonl
  psql_at "$CLIENT_PORT" gn_engine -c "COPY (SELECT gn_export.run(1, '$fmt', 3, $KEY)) TO STDOUT WITH (FORMAT raw)" > "$tmp/copy.$ext"
  psql_at "$CLIENT_PORT" gn_engine -qc "\\copy (SELECT gn_export.run(1, '$fmt', 3, $KEY)) TO '$tmp/bscopy.$ext' WITH (FORMAT raw)"
  gen=$(Q gn_engine -c "SELECT path FROM gn_export.generate(1, '$fmt')")
  check "$fmt: COPY raw and \\copy give the same bytes" "" "$(cmp "$tmp/copy.$ext" "$tmp/bscopy.$ext" 2>&1 || true)"
  check "$fmt: COPY raw and generate()'s file give the same bytes" "" "$(cmp "$tmp/copy.$ext" "$gen" 2>&1 || true)"
  check "$fmt: generate()'s file is readable by others (0644, like COPY TO a file)" 644 "$(stat -c %a "$gen")"
done
# COPY (SELECT gn_export.run(...)) takes a fast path (the export's query runs at once, in
# parallel if PostgreSQL wants); the same call in a FROM clause streams the SRF's chunks: same bytes
psql_at "$CLIENT_PORT" gn_engine -c "COPY (SELECT c FROM gn_export.run(1, 'geojson', 3, $KEY) c) TO STDOUT WITH (FORMAT raw)" > "$tmp/srf.geojson"
check "COPY fast path and the streamed SRF give the same bytes" "" "$(cmp "$tmp/copy.geojson" "$tmp/srf.geojson" 2>&1 || true)"
fast_tag=$(psql_at "$CLIENT_PORT" gn_engine -c "COPY (SELECT gn_export.run(2, 'json')) TO '/dev/null' WITH (FORMAT raw)")
srf_tag=$(psql_at "$CLIENT_PORT" gn_engine -c "COPY (SELECT c FROM gn_export.run(2, 'json') c) TO '/dev/null' WITH (FORMAT raw)")
check "both report the same COPY count (one per chunk)" "$srf_tag" "$fast_tag"
for fmt in csv json geojson; do
  gen=$(Q gn_engine -c "SELECT path FROM gn_export.generate(3, '$fmt')")
  cp "$gen" "$tmp/l93.$fmt"
done

# references, straight from PostgreSQL
Q gn_engine -c "SELECT attname FROM pg_attribute WHERE attrelid = 'gn_exports.v_synthese_sinp'::regclass AND attnum > 0 ORDER BY attnum" > "$tmp/cols1.txt"
Q gn_engine -c "SELECT attname FROM pg_attribute WHERE attrelid = 'gn_exports.v_synthese_l93'::regclass AND attnum > 0 ORDER BY attnum" > "$tmp/cols3.txt"
Q gn_engine -c "SELECT json_agg(json_build_object(
    'pk', id_synthese,
    'text', json_build_object('nom_cite', nom_cite, 'comment_releve', comment_releve,
        'comment_occurrence', comment_occurrence, 'observateurs', observateurs, 'jdd_nom', jdd_nom,
        'donnees_additionnelles', donnees_additionnelles, 'id_perm_sinp', id_perm_sinp::text,
        'cd_nom', cd_nom::text, 'wkt_4326', wkt_4326, 'methode_regroupement', methode_regroupement,
        'date_debut', to_char(date_debut, 'YYYY-MM-DD\"T\"HH24:MI:SS')),
    'props', json_build_object('nom_cite', nom_cite, 'comment_releve', comment_releve,
        'comment_occurrence', comment_occurrence, 'cd_nom', cd_nom, 'nombre_min', nombre_min,
        'x_centroid_4326', x_centroid_4326, 'jdd_acteurs', jdd_acteurs, 'reference_biblio', reference_biblio),
    -- RFC 7946 rings: exterior counterclockwise, holes clockwise (lines as stored)
    'geom', ST_AsGeoJSON(CASE WHEN ST_Dimension(geom) = 2 THEN ST_ForcePolygonCCW(geom) ELSE geom END, 15)::json)) FROM gn_exports.v_synthese_sinp" > "$tmp/ref1.json"
Q gn_engine -c "SELECT json_agg(json_build_object(
    'pk', id_synthese,
    'text', json_build_object('nom_cite', nom_cite, 'commentaire', commentaire,
        'donnees_additionnelles', donnees_additionnelles::text, 'date_debut', to_char(date_debut, 'YYYY-MM-DD')),
    'props', json_build_object('commentaire', commentaire, 'donnees_additionnelles', donnees_additionnelles,
        'precision', precision),
    'geom', ST_AsGeoJSON(ST_Transform(CASE WHEN ST_Dimension(geom_local) = 2 THEN ST_ForcePolygonCCW(geom_local) ELSE geom_local END, 4326), 15)::json)) FROM gn_exports.v_synthese_l93" > "$tmp/ref3.json"

out=$(python3 "$(dirname "$0")/check_outputs.py" "$tmp/ref1.json" "$tmp/cols1.txt" id_synthese \
        "$tmp/copy.csv" "$tmp/copy.json" "$tmp/copy.geojson" "$tmp/copy.geojsonl" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/  [Synthese SINP, 4326] /'
check "Python csv/json read back PostgreSQL's values (Synthese SINP)" 0 "$rc"
out=$(python3 "$(dirname "$0")/check_outputs.py" "$tmp/ref3.json" "$tmp/cols3.txt" id_synthese \
        "$tmp/l93.csv" "$tmp/l93.json" "$tmp/l93.geojson" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/  [Synthese Lambert-93, 2154] /'
check "Python reads back the 2154 export, GeoJSON reprojected to 4326" 0 "$rc"

# GDAL opens every GeoJSON output with the right count, fields and CRS
for f in copy.geojson copy.geojsonl l93.geojson; do
  info=$(ogrinfo -ro -so -al "$tmp/$f" 2>&1)
  check "ogrinfo $f: feature count" "Feature Count: $ROWS" "$(echo "$info" | grep -o 'Feature Count: [0-9]*')"
  check "ogrinfo $f: WGS 84" 1 "$(echo "$info" | grep -c 'GEOGCRS\["WGS 84"' || true)"
done
fields=$(ogrinfo -ro -so -al "$tmp/copy.geojson" | grep -cE '^(id_synthese|nom_cite|comment_releve|date_debut|donnees_additionnelles|x_centroid_4326): ')
check "ogrinfo: fields of the view are there" 6 "$fields"
check "ogrinfo: geometry column is not a property" 0 "$(ogrinfo -ro -so -al "$tmp/copy.geojson" | grep -c '^geom: ' || true)"
ext=$(ogrinfo -ro -so -al "$tmp/l93.geojson" | grep '^Extent')
check "the 2154 view comes out in degrees (extent within the Alps)" 1 \
  "$(echo "$ext" | python3 -c "import re,sys; v=[float(x) for x in re.findall(r'-?\d+\.?\d*', sys.stdin.read())]; print(int(5 < v[0] < 7 and 44 < v[1] < 46 and 5 < v[2] < 7 and 44 < v[3] < 46))")"

# the chunks stream: the first chunk arrives before the last rows are read (value per call)
first=$(Q gn_engine -c "SELECT length(c) FROM gn_export.run(1, 'geojson', 3) c LIMIT 1")
check "run() yields its header first (40 bytes)" 40 "$first"

finish
