"""data.gouv.fr's analysis of a file, with its own code (udata-hydra and csv-detective, offline:
the parts that read the file, without hydra's database, queue or network), and the readers
open-data users run on it (polars, DuckDB), each value compared with the database's.

    python check_opendata.py FILE PORT DB SQL KEY

FILE is a .parquet, .csv or .csv.gz file gn_export wrote; SQL selects the same rows from the
database (the view), KEY names their key column. Prints one line per finding:
  hydra: ok | hydra: <error>          hydra's analysis ran without error (or its error)
  type <column> <hydra's type>        the type hydra gives each column
  rows: <n>                           rows hydra read (every value cast to its type); for
                                      GeoJSON, the bytes of the PMTiles hydra made of it
  polars: <n> values differ           (Parquet) values polars reads that differ from the view
  duckdb: <n> values differ           (Parquet) the same with DuckDB
"""

import asyncio
import logging
import shutil
import sys
import tempfile
from pathlib import Path

import psycopg
from same_value import same

logging.disable(logging.CRITICAL)
from udata_hydra.analysis.helpers import get_python_type  # noqa: E402
from udata_hydra.data_formats import Csv, Gz, Parquet  # noqa: E402
from udata_hydra.data_formats.parquet.to_db import _iter_parquet_rows  # noqa: E402
from udata_hydra.utils.casting import iter_tabular_rows  # noqa: E402

path, port, db, sql, key = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
is_parquet = path.endswith(".parquet")


def pmtiles():
    """hydra's analysis of GeoJSON: its conversion to PMTiles for the portal's map (tippecanoe,
    as hydra calls it), into a directory of the test's own."""
    import os

    from udata_hydra.data_formats import Geojson, data_format
    from udata_hydra.data_formats.geojson import to_pmtiles

    # hydra's local storage, not /tmp: both where tippecanoe writes and where hydra's PMTiles
    # looks for the file it wrote (a file left in /tmp by another run must not answer for it)
    out = Path(tempfile.mkdtemp())
    to_pmtiles.storage_path = lambda name: str(out / name)
    data_format.storage_path = lambda name: out / name
    # tippecanoe's progress goes to the process's stderr, and the findings to stdout
    saved, quiet = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    try:
        tiles = to_pmtiles.geojson_to_pmtiles(Geojson(file_name=str(Path(path).resolve())))
    finally:
        os.dup2(saved, 2)
    return os.path.getsize(out / tiles.file_name)


def hydra():
    """hydra's analysis: the columns' types, and every row cast to them."""
    if path.endswith((".geojson", ".geojsonl", ".geojsonseq")):
        return {}, pmtiles()
    if is_parquet:
        import pyarrow.parquet as pq

        f = Parquet(file_name=str(Path(path).resolve()))
        insp = f.inspect()
        rows = sum(1 for _ in _iter_parquet_rows(pq.ParquetFile(f.path)))
        return {c: get_python_type(v) for c, v in insp["columns"].items()}, rows
    work = Path(tempfile.mkdtemp())
    copy = work / Path(path).name
    shutil.copy(path, copy)  # Gz.unwrap() removes the file it unwraps
    if copy.name.endswith(".gz"):
        gz = Gz(file_name=str(copy))
        gz.unwrap()
        copy = Path(gz.path)
    f = Csv(file_name=str(copy))
    insp = asyncio.run(f.inspect())
    rows = sum(1 for _ in iter_tabular_rows(Path(f.path), insp, cast_json=False))
    return {c: v.get("format", get_python_type(v)) for c, v in insp["columns"].items()}, rows


try:
    types, n = hydra()
    print("hydra: ok")
    for c, t in types.items():
        print("type", c, t)
    print("rows:", n)
except Exception as e:  # hydra fails a file with many exception types
    print("hydra:", type(e).__name__, str(e).splitlines()[0][:200])

if not is_parquet:
    sys.exit(0)

with psycopg.connect(host="/tmp", port=port, dbname=db, user="postgres") as conn:
    conn.execute("SET intervalstyle = iso_8601")
    spatial = {r[0] for r in conn.execute("SELECT oid FROM pg_type WHERE typname IN ('geometry', 'geography')")}
    cur = conn.execute(sql)
    names = [d.name for d in cur.description]
    # geometries: GeoParquet's own checks (check_parquet.py) compare them with PostGIS's
    kept = [i for i, d in enumerate(cur.description) if d.type_code not in spatial]
    truth = {r[names.index(key)]: {names[i]: r[i] for i in kept} for r in cur.fetchall()}


def compare(label, rows):
    bad = []
    for r in rows:
        t = truth.get(r.get(key))
        if t is None:
            bad.append(f"{label}: key {r.get(key)!r} is not the view's")
            continue
        for name, v in t.items():
            if name in r and not isinstance(v, (bytes, memoryview)) and not same(r[name], v, text_uuids=True):
                bad.append(f"{label}: {key} {r.get(key)!r} {name}: read {r[name]!r}, view {v!r}")
    missing = len(truth) - len({r.get(key) for r in rows})
    print(f"{label}: {len(bad) + missing} values differ")
    for b in bad[:5]:
        print("  ", b)


import duckdb  # noqa: E402
import polars  # noqa: E402

compare("polars", polars.read_parquet(path).to_dicts())
rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
compare("duckdb", [dict(zip(rel.columns, r)) for r in rel.fetchall()])
