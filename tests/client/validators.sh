#!/usr/bin/env bash
# Every output passes the validator its readers run: geojson-validator (RFC 7946)
# on GeoJSON files, GeoJSON lines, api() items and the COPY hook; frictionless and PostgreSQL's
# own COPY FROM on CSV; GDAL's validate_gpkg.py and ogrinfo on GeoPackages. On the demo and on a
# table of edge cases: every geometry type, empties, mixed SRIDs, SRID 0, Z/M, curves,
# NaN/±Infinity, date and time limits, huge numerics, a one-column `\.`, repeated and NULL keys.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
GPKG_VALIDATOR=/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py
[ -x "$VENV/bin/frictionless" ] || { echo "missing $VENV/bin/frictionless: run bash tests/setup.sh"; exit 1; }
client_cluster_up
make_demo_db gn_valid 1000
export_dir_for gn_valid valid-exports
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT
sqlstate() { sqlstate_in gn_valid "$1"; }
geojson_ok() { "$PY" "$(dirname "$0")/check_geojson.py" "$@"; }

(cd "$(dirname "$0")/sql" && Q gn_valid -f edge.sql)
Q gn_valid <<'SQL'
-- a single-column export whose value is PostgreSQL's end-of-data marker
CREATE VIEW public.v_marker AS SELECT * FROM (VALUES ('a'), ('\.'), ('b')) v(v);
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Marqueur', 'public', 'v_marker', true, 1, 'v');
-- rows GeoJSON cannot hold, or PostGIS cannot transform
CREATE VIEW public.v_infinite AS SELECT 41 AS id, ST_SetSRID(ST_MakePoint('Infinity', 'NaN'), 4326) AS geom;
CREATE VIEW public.v_far AS SELECT 42 AS id, ST_SetSRID(ST_MakePoint(200, 100), 4326)::geometry AS geom;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('Infini', 'public', 'v_infinite', 'geom', 4326, true, 1, 'id'),
       ('Loin', 'public', 'v_far', 'geom', 2154, true, 1, 'id');
-- repeated and NULL keys
CREATE TABLE public.keys (k int, payload text);
INSERT INTO public.keys VALUES (10, 'a'), (10, 'b'), (10, 'c'), (NULL, 'd'), (20, 'e');
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Clés', 'public', 'keys', true, 1, 'k');
SQL
id_of() { Q gn_valid -c "SELECT id FROM gn_exports.t_exports WHERE label = '$1'"; }
EDGE=$(id_of Bords); MARK=$(id_of Marqueur); INF=$(id_of Infini); FAR=$(id_of Loin); KEYS=$(id_of 'Clés')

echo "## GeoJSON: RFC 7946 by geojson-validator, read by GDAL"
for e in 1 3 "$EDGE"; do
  for fmt in geojson geojsonseq; do
    f=$(Q gn_valid -c "SELECT path FROM gn_export.generate($e, '$fmt')")
    check "generate($e, $fmt) passes geojson-validator" ok "$(geojson_ok "$f" | cut -d' ' -f1)"
  done
done
psql_at "$CLIENT_PORT" gn_valid -c "COPY (SELECT * FROM public.edge) TO STDOUT (FORMAT geojson)" > "$tmp/hook.geojson"
check "COPY hook FORMAT geojson on the edge table passes geojson-validator" ok "$(geojson_ok "$tmp/hook.geojson" | cut -d' ' -f1)"
Q gn_valid -c "SELECT (gn_export.api($EDGE, '{\"limit\": 100}')::json)->'items'" > "$tmp/api.geojson"
check "api() items pass geojson-validator" ok "$(geojson_ok "$tmp/api.geojson" | cut -d' ' -f1)"
EDGE_FILE="$EXPORTS/schedules/Bords.geojson"
check "every edge row is a feature; empties are null geometries, the empty part of a multipoint is dropped" \
  "14|2|[[6,45]]" "$(jq -r '[(.features | length), ([.features[] | select(.geometry == null)] | length),
      (.features[] | select(.id == 3) | .geometry.coordinates | tostring)] | join("|")' "$EDGE_FILE")"
check "a row with SRID 0 takes the export's SRID (2154) and comes out in degrees" ok \
  "$(jq -r '.features[] | select(.id == 5) | .geometry.coordinates | if (.[0] > 2 and .[0] < 4 and .[1] > 46 and .[1] < 47) then "ok" else tostring end' "$EDGE_FILE")"
check "GDAL reads the 14 features, the multipoint's point included" "14 MULTIPOINT ((6 45))" \
  "$(ogrinfo -ro -al -q "$EDGE_FILE" 2>/dev/null | grep -c '^OGRFeature') $(ogrinfo -ro -al -q "$EDGE_FILE" -where 'id = 3' 2>/dev/null | grep -o 'MULTIPOINT ((6 45))')"
out=$(Q gn_valid -c "SELECT status || ' ' || sqlstate || ' ' || error FROM gn_export.generate($INF, 'geojson')")
check "a non-finite coordinate fails the export with the row's key (22000), never [null,null]" \
  "failed 22000 1" "$(echo "$out" | cut -d' ' -f1,2) $(echo "$out" | grep -c 'feature id 41.*not a finite number')"
out=$(Q gn_valid -c "SELECT status || ' ' || sqlstate || ' ' || error FROM gn_export.generate($FAR, 'gpkg')")
check "a point PostGIS cannot transform fails with the export and the row's key (22000, not XX000)" \
  "failed 22000 1" "$(echo "$out" | cut -d' ' -f1,2) $(echo "$out" | grep -c 'Loin.*feature id 42.*cannot be transformed')"
check "the API geometry filter works on an unconstrained column holding SRID 0 rows (5 is one)" 2,5,6,14 \
  "$(QE gn_valid -c "SELECT string_agg(f->>'id', ',') FROM json_array_elements(gn_export.api($EDGE, '{\"geometry\": \"POLYGON((2 46,4 46,4 47,2 47,2 46))\"}')->'items'->'features') f")"

echo "## CSV: frictionless, and PostgreSQL's own COPY FROM"
Q gn_valid <<'SQL'
-- re-imports a CSV export into a table shaped like the view (geometry columns unconstrained, as
-- WKT has no SRID) and counts the rows that differ either way
CREATE FUNCTION public.reimport_diff(v regclass, file text,
                                     options text DEFAULT 'FORMAT csv, HEADER, DELIMITER '';''')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE cols text; n bigint;
BEGIN
    SET LOCAL client_min_messages = warning;
    DROP TABLE IF EXISTS pg_temp.back;
    EXECUTE format('CREATE TEMP TABLE back AS SELECT * FROM %s WITH NO DATA', v);
    FOR cols IN SELECT attname FROM pg_attribute WHERE attrelid = 'pg_temp.back'::regclass AND attnum > 0
                  AND atttypid = 'geometry'::regtype LOOP
        EXECUTE format('ALTER TABLE pg_temp.back ALTER COLUMN %I TYPE geometry', cols);
    END LOOP;
    EXECUTE format('COPY pg_temp.back FROM %L (%s)', file, options);
    SELECT string_agg(CASE WHEN atttypid = 'geometry'::regtype THEN format('ST_AsText(%I)', attname)
                           ELSE format('%I', attname) END, ', ' ORDER BY attnum)
      INTO cols FROM pg_attribute WHERE attrelid = v AND attnum > 0 AND NOT attisdropped;
    EXECUTE format('SELECT count(*) FROM ((SELECT %s FROM %s EXCEPT ALL SELECT %s FROM pg_temp.back)
                    UNION ALL (SELECT %s FROM pg_temp.back EXCEPT ALL SELECT %s FROM %s)) d',
                   cols, v, cols, cols, cols, v) INTO n;
    RETURN n;
END $$;
SQL
for e in 1 2 3 "$EDGE" "$MARK"; do
  view=$(Q gn_valid -c "SELECT format('%I.%I', schema_name, view_name) FROM gn_exports.t_exports WHERE id = $e")
  f=$(Q gn_valid -c "SELECT path FROM gn_export.generate($e, 'csv')")
  cp "$f" "$tmp/export_$e.csv"
  check "generate($e, csv) re-imports into PostgreSQL to exactly the view's $(Q gn_valid -c "SELECT count(*) FROM $view") rows" 0 \
    "$(Q gn_valid -c "SELECT public.reimport_diff('$view', '$f')")"
  (cd "$tmp" && "$VENV/bin/frictionless" validate --json --dialect '{"csv": {"delimiter": ";"}}' "export_$e.csv" > "frictionless_$e.json" 2>&1) || true
  check "generate($e, csv) passes frictionless validate" true "$(jq -r '.valid' "$tmp/frictionless_$e.json" 2>/dev/null || head -c 300 "$tmp/frictionless_$e.json")"
done
echo "## TSV: PostgreSQL's own COPY FROM (FORMAT text, HEADER match), a plain tab reader"
for e in 1 2 3 "$EDGE" "$MARK"; do
  view=$(Q gn_valid -c "SELECT format('%I.%I', schema_name, view_name) FROM gn_exports.t_exports WHERE id = $e")
  f=$(Q gn_valid -c "SELECT path FROM gn_export.generate($e, 'tsv')")
  check "generate($e, tsv) re-imports with COPY FROM (FORMAT text, HEADER match) to exactly the view's rows" 0 \
    "$(Q gn_valid -c "SELECT public.reimport_diff('$view', '$f', 'FORMAT text, HEADER match')")"
  check "generate($e, tsv) read by a tab reader gives the values of generate($e, csv)" ok \
    "$(python3 "$(dirname "$0")/check_tsv.py" "$f" "$tmp/export_$e.csv" ';')"
  check "run($e, tsv) through COPY is generate($e, tsv) byte for byte" "" \
    "$(psql_at "$CLIENT_PORT" gn_valid -c "COPY (SELECT gn_export.run($e, 'tsv', 1, filters => jsonb_build_object('orderby', (SELECT view_pk_column FROM gn_exports.t_exports WHERE id = $e)))) TO STDOUT (FORMAT raw)" | cmp - "$f" 2>&1)"
done
check "COPY (SELECT ...) TO STDOUT (FORMAT tsv) writes the rows as generate() does" "" \
  "$(psql_at "$CLIENT_PORT" gn_valid -c "COPY (SELECT * FROM public.v_edge) TO STDOUT (FORMAT tsv)" | cmp - "$EXPORTS/schedules/Bords.tsv" 2>&1)"
check "exports().formats: every unzipped format of gn_export.formats() but those needing columns the view lacks (ttl, dwca)" \
  "csv,tsv,json,geojson,geojsonseq,gpkg,parquet|csv,tsv,json,geojson,geojsonseq,gpkg,ttl,dwca,parquet" \
  "$(Q gn_valid -c "SELECT (SELECT array_to_string(formats, ',') FROM gn_export.exports() WHERE id = $EDGE) || '|' || (SELECT string_agg(name, ',') FROM gn_export.formats() WHERE name NOT LIKE '%.gz')")"
check "exports(r) lists exactly what can_read(e, r) allows, for every export and every demo role (and anonymous)" "0 of $(Q gn_valid -c "SELECT count(*) * (1 + (SELECT count(*) FROM utilisateurs.t_roles)) FROM gn_exports.t_exports")" \
  "$(Q gn_valid -c "SELECT count(*) FILTER (WHERE gn_export.can_read(e.id, r.id_role) IS DISTINCT FROM EXISTS (SELECT 1 FROM gn_export.exports(r.id_role) x WHERE x.id = e.id)) || ' of ' || count(*)
                    FROM gn_exports.t_exports e CROSS JOIN (SELECT id_role FROM utilisateurs.t_roles UNION ALL SELECT NULL) r")"
Q gn_valid <<'SQL'
-- a private export whose view lives in a schema only its owner may use
CREATE SCHEMA stats_private;
REVOKE ALL ON SCHEMA stats_private FROM PUBLIC;
CREATE VIEW stats_private.v_prive AS SELECT 1 AS id;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Privé', 'stats_private', 'v_prive', false, 1, 'id');
CREATE ROLE gn_lister;  -- GeoNature's backend role reads its own schemas
GRANT USAGE ON SCHEMA gn_exports, utilisateurs, gn_permissions, gn_commons TO gn_lister;
GRANT SELECT ON ALL TABLES IN SCHEMA gn_exports, utilisateurs, gn_permissions, gn_commons TO gn_lister;
SQL
check "exports() still lists the public exports for a role that may not use another export's schema" \
  "$(Q gn_valid -c "SELECT count(*) FROM gn_exports.t_exports WHERE public")" \
  "$(QE gn_valid -c "SET ROLE gn_lister" -c "SELECT count(*) FROM gn_export.exports()")"
check "a lone \\. is quoted as PostgreSQL quotes it" '"\."' "$(tr -d '\r' < "$EXPORTS/schedules/Marqueur.csv" | grep -F -x '"\."')"

echo "## GeoPackage: validate_gpkg.py, ogrinfo without warnings, values read back"
for e in 1 3 "$EDGE"; do
  f=$(Q gn_valid -c "SELECT path FROM gn_export.generate($e, 'gpkg')")
  check "generate($e, gpkg) passes GDAL's validate_gpkg.py" "" "$(python3 "$GPKG_VALIDATOR" "$f" 2>&1 | head -5)"
  check "ogrinfo reads generate($e, gpkg) without a warning" 0 "$(ogrinfo -ro -al -q "$f" 2>&1 | grep -c -i 'warning')"
done
GP="$EXPORTS/schedules/Bords.gpkg"
ogr2ogr -f CSV "$tmp/gpkg.csv" "$GP" -lco GEOMETRY=AS_WKT 2>/dev/null
check "a 4326 row of a 2154 layer is stored transformed (metres, not degrees)" "POINT (936341" \
  "$(grep -F ',"1",point 4326' "$tmp/gpkg.csv" | grep -o 'POINT ([0-9]*')"
check "NaN and ±Infinity floats are NULL (GDAL read ±Infinity as 0), the largest double kept" "None|None|1.7976931348623157e+308" \
  "$(python3 -c "
import sqlite3,sys; c=sqlite3.connect(sys.argv[1])
print('|'.join(str(r[0]) for r in c.execute('SELECT f8 FROM Bords WHERE id IN (1,2,3) ORDER BY id')))" "$GP")"
check "dates and timestamps as GDAL wants them; infinities and BC as NULL" \
  "2000-01-01|2000-01-01T12:00:00.123|2000-01-01T10:00:00.123Z;None|None|None;None|None|2000-01-01T00:00:00.000Z" \
  "$(python3 -c "
import sqlite3,sys; c=sqlite3.connect(sys.argv[1])
print(';'.join('|'.join(str(v) for v in r) for r in c.execute('SELECT d, ts, tstz FROM Bords WHERE id IN (1,2,4) ORDER BY id')))" "$GP")"
check "TIN, polyhedral surface and triangle are stored as core types" "MULTIPOLYGON MULTIPOLYGON POLYGON" \
  "$(for id in 8 12 13; do ogrinfo -ro -al -q "$GP" -where "id = $id" 2>/dev/null | grep -oE '^  (MULTIPOLYGON|POLYGON)' | tr -d ' '; done | paste -sd' ')"

echo "## api(): the files' values, keys in view order, pages that partition rows"
check "api() returns json with numeric digits kept and keys in the view's order" \
  'json|12.500|123456789012345678901234567890.123456789|id,kind,f8,f4,n,d,ts,tstz,txt' \
  "$(Q gn_valid -c "SELECT pg_typeof(gn_export.api($EDGE))" )|$(Q gn_valid -c "
    SELECT string_agg(f->'properties'->>'n', '|' ORDER BY (f->>'id')::int) FROM json_array_elements(gn_export.api($EDGE, '{\"limit\": 2}')->'items'->'features') f")|$(Q gn_valid -c "
    SELECT string_agg(k, ',') FROM json_object_keys(gn_export.api($EDGE, '{\"limit\": 1}')->'items'->'features'->0->'properties') k")"
check "pages of 2 over keys (10,10,10,NULL,20) serve each of the 5 rows once" "a,b,c,d,e|2,2,1" \
  "$(Q gn_valid -c "SELECT string_agg(r->>'payload', ',' ORDER BY r->>'payload') || '|' ||
       (SELECT string_agg(n::text, ',' ORDER BY p) FROM (SELECT p, json_array_length(gn_export.api($KEYS, json_build_object('limit', 2, 'offset', p)::jsonb)->'items') n
         FROM generate_series(0, 2) p) x)
     FROM generate_series(0, 2) p, json_array_elements(gn_export.api($KEYS, json_build_object('limit', 2, 'offset', p)::jsonb)->'items') r")"

echo "## COPY honours column lists and ONLY, as core COPY does"
check "COPY tbl (id, txt) TO STDOUT (FORMAT 'json') exports those columns only" '["id","txt"]' \
  "$(psql_at "$CLIENT_PORT" gn_valid -c "COPY public.edge (id, txt) TO STDOUT (FORMAT 'json')" | jq -c '.[0] | keys_unsorted')"
Q gn_valid -c "CREATE TABLE public.parent (a int)" -c "CREATE TABLE public.child () INHERITS (public.parent)" \
  -c "INSERT INTO public.parent VALUES (1)" -c "INSERT INTO public.child VALUES (2)"
check "COPY parent TO exports the parent's own rows, not its children's, as core COPY" "1 1" \
  "$(psql_at "$CLIENT_PORT" gn_valid -c "COPY public.parent TO STDOUT (FORMAT 'json')" | jq length) $(psql_at "$CLIENT_PORT" gn_valid -c "COPY public.parent TO STDOUT (FORMAT csv)" | wc -l)"

Q gn_valid -c "CREATE VIEW public.v_dup AS SELECT 1 AS x FROM generate_series(1, 3)" \
  -c "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column) VALUES ('Doublons', 'public', 'v_dup', true, 1, 'x')"
DUP=$(id_of Doublons)
check "COPY (SELECT DISTINCT gn_export.run(...)) keeps its DISTINCT (2 distinct chunks of 4), as over FROM" "2 2" \
  "$(psql_at "$CLIENT_PORT" gn_valid -c "COPY (SELECT DISTINCT c FROM gn_export.run($DUP, 'csv') c) TO STDOUT (FORMAT raw)" | wc -l) $(psql_at "$CLIENT_PORT" gn_valid -c "COPY (SELECT DISTINCT gn_export.run($DUP, 'csv')) TO STDOUT (FORMAT raw)" | wc -l)"

echo "## what a user meets"
check "a failed generation has no path and no URL" "failed||" \
  "$(Q gn_valid -c "SELECT status || '|' || coalesce(path, '') || '|' || coalesce(url, '') FROM gn_export.generate($INF, 'geojson')")"
Q gn_valid -c "SELECT status FROM gn_export.generate(2, 'csv', 3)" > /dev/null
chmod 555 "$EXPORTS/usr_generated"   # the server can no longer create files there
Q gn_valid -c "SELECT status FROM gn_export.generate(2, 'json', 3)" > /dev/null
chmod 755 "$EXPORTS/usr_generated"
check "a failed user generation notifies the user without the server's paths" "1 0" \
  "$(Q gn_valid -c "SELECT count(*) FROM gn_notifications.t_notifications WHERE content LIKE '%échoué%'") $(Q gn_valid -c "SELECT count(*) FROM gn_notifications.t_notifications WHERE content LIKE '%$EXPORTS%'")"
Q postgres -c "CREATE DATABASE gn_nopreload"
check "CREATE EXTENSION says how to preload the library when it is not" 1 \
  "$(psql_at "$CLIENT_PORT" gn_nopreload -qc "CREATE EXTENSION gn_export CASCADE" 2>&1 | grep -c "ALTER DATABASE gn_nopreload SET session_preload_libraries = 'gn_export'")"
Q postgres -c "CREATE DATABASE gn_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
check "a LATIN1 database is refused at CREATE EXTENSION with a hint (0A000)" "0A000 1" \
  "$(QE gn_latin1 -c "CREATE EXTENSION gn_export CASCADE" -c '\echo SQLSTATE :LAST_ERROR_SQLSTATE' | sed -n 's/^SQLSTATE //p') $(QE gn_latin1 -c "CREATE EXTENSION gn_export CASCADE" | grep -c 'HINT:  Create the database with ENCODING')"
finish
