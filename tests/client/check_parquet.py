"""Reads a GeoParquet file back with pyarrow, geopandas and DuckDB and compares it with the
database.

usage: check_parquet.py FILE PORT DB KEY SQL
SQL selects the export's rows (the truth, as psycopg types them; other geometries as WKT) and
`__wkb`: the feature geometry as PostGIS writes it in the file's CRS. Rows are matched by the
unique column KEY.
Prints one line per finding, for the shell test to assert."""
import json, sys

import duckdb

import warnings

import geopandas
import psycopg
import pyarrow.parquet as pq
import shapely
from same_value import same

warnings.filterwarnings("ignore", "GeoSeries.notna", UserWarning)
path, port, db, key, sql = sys.argv[1:6]
table = pq.read_table(path)
meta = json.loads(table.schema.metadata[b"geo"])
primary = meta["primary_column"]
col = meta["columns"][primary]
print("geo version:", meta["version"], "encoding:", col["encoding"])
print("geometry types:", ",".join(col["geometry_types"]))
print("crs key:", "absent" if "crs" not in col else ("null" if col["crs"] is None else col["crs"].get("id", {}).get("code")))
logical = pq.ParquetFile(path).schema.column(table.schema.get_field_index(primary)).logical_type
crs_text = str(logical)[len("Geometry(crs="):-1] if str(logical).startswith("Geometry(crs=") else ""
print("geometry type:", str(logical).split("(")[0], "crs:",
      json.loads(crs_text).get("id", {}).get("code") if crs_text else "none")
print("covering:", ",".join(col.get("covering", {})) or "none")
print("schema:", " ".join(f"{f.name}={f.type}" for f in table.schema if f.name != primary))
print("compression:", pq.ParquetFile(path).metadata.row_group(0).column(0).compression
      if pq.ParquetFile(path).metadata.num_row_groups else "none")

with psycopg.connect(host="/tmp", port=port, dbname=db, user="postgres") as conn:
    # intervals as every gn_export format writes them (ISO 8601)
    conn.execute("SET intervalstyle = iso_8601")
    cur = conn.execute(sql)
    names = [d.name for d in cur.description]
    truth = cur.fetchall()
print("rows: file =", table.num_rows, "view =", len(truth))


rows = table.select([n for n in names if n in table.column_names and n != primary]).to_pylist()
kt = names.index(key)
by_key = {t[kt]: t for t in truth}
print("keys: file = view:", sorted(r[key] for r in rows) == sorted(by_key))
bad = []
for i, r in enumerate(rows):
    t = by_key.get(r[key], [None] * len(names))
    for name, v in zip(names, t):
        if name == "__wkb":
            continue
        if name == primary:
            continue
        if not same(r.get(name), v):
            bad.append(f"row {i} {name}: file {r.get(name)!r} view {v!r}")
print("values differing from the view:", len(bad))
for b in bad[:5]:
    print("  ", b)

gdf = geopandas.read_parquet(path, columns=[key, primary])
print("geopandas rows:", len(gdf), "crs:", gdf.crs.to_string() if gdf.crs else None)
if "__wkb" in names:
    k = names.index("__wkb")
    diff = 0
    for g, kv in zip(gdf.geometry, gdf[key]):
        t = by_key[kv]
        want = None if t[k] is None else shapely.from_wkb(bytes(t[k]))
        if want is None or want.is_empty:
            diff += not (g is None or g.is_empty)
        elif g is None or not g.equals_exact(want, 1e-9):
            diff += 1
    print("geometries differing from PostGIS:", diff)
bbox = col.get("bbox")
if len(gdf) and (~gdf.geometry.is_empty & gdf.geometry.notna()).any() and bbox:
    tb = gdf.geometry.total_bounds
    print("bbox matches the data:", all(abs(x - y) < 1e-6 for x, y in zip(tb, bbox)))

# DuckDB: every value, and the geometry as the WKB it reads (GEOMETRY in 2.0 and 1.1 alike)
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
cols = [n for n in names if n in table.column_names and n != primary]
quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in cols)
cur = con.execute(f'SELECT {quoted}, "{primary}"::BLOB FROM read_parquet(?)', [path])
bad, geo_bad = [], 0
k = names.index("__wkb") if "__wkb" in names else None
for i, r in enumerate(cur.fetchall()):
    t = by_key.get(r[cols.index(key)], [None] * len(names))
    for name, v in zip(cols, r):
        if not same(v, t[names.index(name)]):
            bad.append(f"row {i} {name}: duckdb {v!r} view {t[names.index(name)]!r}")
    if k is not None:
        want = None if t[k] is None else shapely.from_wkb(bytes(t[k]))
        got = None if r[-1] is None else shapely.from_wkb(bytes(r[-1]))
        if want is None or want.is_empty:
            geo_bad += not (got is None or got.is_empty)
        elif got is None or not got.equals_exact(want, 1e-9):
            geo_bad += 1
print("duckdb values differing from the view:", len(bad))
for b in bad[:5]:
    print("  ", b)
if k is not None:
    print("duckdb geometries differing from PostGIS:", geo_bad)
