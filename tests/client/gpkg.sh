#!/usr/bin/env bash
# GeoPackage files from generate(): GDAL opens them with the right feature count, SRS,
# geometry type and field types; GDAL's own validator (validate_gpkg.py from python3-gdal)
# accepts them; and ogr2ogr reads every column back to the values of our CSV export, booleans,
# numerics, arrays and jsonb included (GeoNature's GeoPackage wrote those as NULL).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
client_cluster_up
make_demo_db gn_gpkg 500
export_dir_for gn_gpkg gpkg-exports
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT
VALIDATE=/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py

(cd "$(dirname "$0")/sql" && Q gn_gpkg -f types.sql)
TYPES=$(Q gn_gpkg -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Types géo'")

for id in 1 3 "$TYPES"; do
  res=$(Q gn_gpkg -c "SELECT status || '|' || rows || '|' || path FROM gn_export.generate($id, 'gpkg')")
  IFS='|' read -r status rows path <<< "$res"
  label=$(Q gn_gpkg -c "SELECT label FROM gn_exports.t_exports WHERE id = $id")
  check "generate($id, 'gpkg') '$label' is done" done "$status"
  info=$(ogrinfo -ro -so -al "$path" 2>&1)
  check "ogrinfo '$label': feature count" "Feature Count: $rows" "$(echo "$info" | grep -o 'Feature Count: [0-9]*')"
  srid=$(Q gn_gpkg -c "SELECT coalesce(geometry_srid, 4326) FROM gn_exports.t_exports WHERE id = $id")
  check "ogrinfo '$label': the export's own SRS (EPSG:$srid)" 1 "$(echo "$info" | grep -c "ID\[\"EPSG\",$srid\]\]$" || true)"
  if python3 -c 1 2>/dev/null && [ -r "$VALIDATE" ]; then
    out=$(/usr/bin/python3 "$VALIDATE" "$path" 2>&1) && rc=0 || rc=$?
    check "GDAL's validate_gpkg.py accepts '$label'" 0 "$rc"
    [ "$rc" = 0 ] || echo "$out" | head -10
  fi
done

# GDAL's feature count: gpkg_ogr_contents holds it, and GDAL reads it (a count planted in a
# copy shows through ogrinfo) instead of counting millions of rows at every open
IFS='|' read -r F1 ROWS1 <<< "$(Q gn_gpkg -c "SELECT path || '|' || rows FROM gn_export.generate(1, 'gpkg')")"
sq() { /usr/bin/python3 -c "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); r = db.execute(sys.argv[2]).fetchall(); db.commit(); print('|'.join(str(v) for row in r for v in row))" "$@"; }
LAYER=$(sq "$F1" "SELECT table_name FROM gpkg_contents")
check "gpkg_ogr_contents holds the layer's feature count, as GDAL writes it" "$LAYER|$ROWS1" "$(sq "$F1" "SELECT * FROM gpkg_ogr_contents")"
cp "$F1" "$tmp/planted.gpkg"; sq "$tmp/planted.gpkg" "UPDATE gpkg_ogr_contents SET feature_count = 123456789" > /dev/null
check "ogrinfo takes the count from gpkg_ogr_contents, without counting the rows" "Feature Count: 123456789" \
  "$(ogrinfo -ro -so -al "$tmp/planted.gpkg" 2>&1 | grep -o 'Feature Count: [0-9]*')"

# ogr2ogr -upsert into the delivered file: feature 1 changed and moved, one feature added
cp "$F1" "$tmp/target.gpkg"
ogr2ogr -f GPKG "$tmp/src.gpkg" "$F1" -fid 1 -preserve_fid -nln "$LAYER" 2> /dev/null
/usr/bin/python3 - "$tmp/src.gpkg" <<'PY'
import sys
from osgeo import ogr
ds = ogr.Open(sys.argv[1], update=1)
layer = ds.GetLayer(0)
f = layer.GetFeature(1)
f.SetField("nom_cite", "changé")
f.SetGeometry(ogr.CreateGeometryFromWkt("POINT (6.5 45.5)"))
layer.SetFeature(f)
f.SetFID(9999999)
f.SetField("nom_cite", "ajouté")
layer.CreateFeature(f)
ds = None
PY
out=$(ogr2ogr -update -upsert -preserve_fid "$tmp/target.gpkg" "$tmp/src.gpkg" -nln "$LAYER" 2>&1) && rc=0 || rc=$?
check "ogr2ogr -upsert into the delivered GeoPackage succeeds" "0" "$rc"
[ "$rc" = 0 ] || echo "$out" | head -5
check "after the upsert: feature 1 changed, one feature added, its R-tree entries moved and added, the count kept by GDAL's triggers" \
  "changé|ajouté|6.5|45.5|$((ROWS1 + 1))|$((ROWS1 + 1))" \
  "$(sq "$tmp/target.gpkg" "SELECT (SELECT nom_cite FROM \"$LAYER\" WHERE fid = 1), (SELECT nom_cite FROM \"$LAYER\" WHERE fid = 9999999),
     (SELECT minx FROM \"rtree_${LAYER}_geom\" WHERE id = 1), (SELECT miny FROM \"rtree_${LAYER}_geom\" WHERE id = 9999999),
     (SELECT feature_count FROM gpkg_ogr_contents), (SELECT count(*) FROM \"$LAYER\")")"

# the R-tree (packed by the SQLite thread as rows come) indexes every non-empty geometry by
# its envelope, SQLite's 32-bit floats rounded outwards
rtree_ok() {
  python3 - "$1" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
t, c = db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchone()
rt = {r[0]: r[1:] for r in db.execute(f'SELECT id, minx, maxx, miny, maxy FROM "rtree_{t}_{c}"')}
bad = n = 0
for fid, g in db.execute(f'SELECT fid, "{c}" FROM "{t}"'):
    if g is None or g[3] & 0x10:
        bad += fid in rt
        continue
    n += 1
    e, r = struct.unpack("<4d", g[8:40]), rt.get(fid)
    close = r is not None and all(abs(a - b) <= 1e-6 * max(1.0, abs(a)) for a, b in zip(e, r))
    bad += not (close and r[0] <= e[0] and r[1] >= e[1] and r[2] <= e[2] and r[3] >= e[3])
print("ok" if bad == 0 and n == len(rt) and n > 0 else f"bad {bad}, {n} geometries, {len(rt)} entries")
PY
}
# packed in one pass from rows in spatial order: SQLite's own rtreecheck() finds it sound, and
# its leaves are tight (neighbours share a leaf: together the leaves' boxes cover the extent
# about once, where leaves of rows in the view's order would each cover most of it)
rtree_shape() {
  python3 - "$1" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
t, c = db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchone()
check = db.execute(f"SELECT rtreecheck('rtree_{t}_{c}')").fetchone()[0]
x0, y0, x1, y1 = db.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents").fetchone()
leaves = []
for (data,) in db.execute(f'SELECT data FROM "rtree_{t}_{c}_node" WHERE nodeno IN (SELECT DISTINCT nodeno FROM "rtree_{t}_{c}_rowid")'):
    n = struct.unpack(">H", data[2:4])[0]
    cells = [struct.unpack(">q4f", data[4 + 24 * i: 28 + 24 * i]) for i in range(n)]
    leaves.append((max(c[2] for c in cells) - min(c[1] for c in cells)) * (max(c[4] for c in cells) - min(c[3] for c in cells)))
# leaves of neighbours tile the extent (about 1); leaves of rows in any order each span it
cover = sum(leaves) / ((x1 - x0) * (y1 - y0))
print(check, "tight" if len(leaves) >= 4 and cover < 2 else f"loose ({len(leaves)} leaves covering {cover:.2f} times the extent)")
PY
}
for id in 1 3; do
  gp=$(Q gn_gpkg -c "SELECT path FROM gn_export.generate($id, 'gpkg')")
  check "the R-tree of export $id holds exactly every non-empty geometry's envelope" ok "$(rtree_ok "$gp")"
  check "... and is sound (SQLite's rtreecheck) and packed tight from rows in spatial order" "ok tight" "$(rtree_shape "$gp")"
done

# the layer name is the safe label, not the time-stamped file name; geometry type and fields
path=$(Q gn_gpkg -c "SELECT path FROM gn_export.generate($TYPES, 'gpkg', id_role => 3)")
info=$(ogrinfo -ro -so -al "$path")
check "the layer is named after the label" 1 "$(echo "$info" | grep -c '^Layer name: Types_geo$')"
check "geometry type and Z" 1 "$(echo "$info" | grep -c '^Geometry: 3D Point$')"
fields=$(echo "$info" | sed -n 's/^\([a-z0-9_]*\): \([A-Za-z0-9()]*\).*/\1=\2/p' | tr '\n' ' ')
check "typed fields (MEDIUMINT, SMALLINT, INTEGER, FLOAT, DOUBLE, exact numeric as text, BOOLEAN, DATE, DATETIME, JSON text)" \
  "id=Integer i2=Integer(Int16) i8=Integer64 f4=Real(Float32) f8=Real num=String b=Integer(Boolean) t=String d=Date ts=DateTime j=String ai=String at=String u=String " \
  "$fields"

# ogr2ogr reads every value back equal to our CSV export
ogr2ogr -f CSV "$tmp/types_gdal.csv" "$path" -lco GEOMETRY=AS_WKT >/dev/null
Q gn_gpkg -c "SET gn_export.csv_separator = ','" -c "COPY (SELECT gn_export.run($TYPES, 'csv')) TO STDOUT WITH (FORMAT raw)" > "$tmp/types_ours.csv"
out=$(python3 - "$tmp/types_gdal.csv" "$tmp/types_ours.csv" <<'PY'
import csv, json, sys
gdal = {r["id"]: r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))}
ours = {r["id"]: r for r in csv.DictReader(open(sys.argv[2], encoding="utf-8", newline=""))}
bad = []
for k, o in ours.items():
    g = gdal[k]
    for col, v in o.items():
        if col == "geom":
            continue
        w = g[col]
        if col == "b" and v:
            w = {"1": "true", "0": "false"}.get(w, w)
        if col in ("d", "ts") and w:
            w = w.replace("/", "-").replace(" ", "T")
        if col in ("f4", "f8", "num") and v and w:
            ok = float(v) == float(w)
        elif col in ("j", "ai", "at") and v:
            ok = json.loads(v) == json.loads(w)
        else:
            ok = v == w
        if not ok:
            bad.append(f"id {k} {col}: ours {v!r} gdal {w!r}")
print("\n".join(bad) if bad else "same")
PY
)
check "ogr2ogr reads back the values of our CSV (bool, numeric, arrays, jsonb included)" same "$out"
check "a NULL geometry keeps its feature" 3 \
  "$(python3 -c 'import csv, sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1], encoding="utf-8"))))' "$tmp/types_gdal.csv")"

# errors: run() cannot stream a GeoPackage; an export without geometry cannot be one
err=$(Q gn_gpkg -c "\\set VERBOSITY sqlstate" -c "SELECT count(*) FROM gn_export.run(1, 'gpkg', 3)" 2>&1 || true)
check "run(..., 'gpkg') is refused with 22023" "ERROR:  22023" "$err"
err=$(Q gn_gpkg -c "SELECT status || ' ' || sqlstate FROM gn_export.generate(2, 'gpkg')" 2>&1 || true)
check "gpkg of an export without geometry fails with 22023" "failed 22023" "$err"
finish
