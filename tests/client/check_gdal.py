"""Compares what GDAL read from one of gn_export's files (gdal_read.py's JSON, on stdin) with
the database's rows: which view columns GDAL ignored, its warnings, the layer's SRS, the row
count, and the columns where a value differs.

    check_gdal.py PORT DB SQL KEY GEOMETRY < gdal.json
"""

import datetime
import json
import sys

import psycopg
from same_value import same

port, db, sql, key, geometry = sys.argv[1:6]
read = json.load(sys.stdin)


def as_read(a, b):
    """GDAL's ISO 8601 texts of dates and times as the database's types, and its JSON lists
    (LISTS_AS_STRING_JSON) as lists. GDAL keeps a time's seconds in a 32-bit float: its
    precision is the millisecond (OGRField), so a timestamp is compared to the millisecond."""
    if isinstance(b, list) and isinstance(a, str):
        a = json.loads(a)
    if isinstance(b, list) and isinstance(a, list):
        return [as_read(x, y) for x, y in zip(a, b)] + a[len(b):]
    if isinstance(a, str) and isinstance(b, datetime.datetime):
        t = datetime.datetime.fromisoformat(a)
        return b if abs(t.replace(tzinfo=t.tzinfo or b.tzinfo) - b) < datetime.timedelta(milliseconds=1) else t
    if isinstance(a, str) and isinstance(b, datetime.date):
        return datetime.date.fromisoformat(a[:10])
    return a


with psycopg.connect(host="/tmp", port=port, dbname=db, user="postgres") as conn:
    cur = conn.execute(sql)
    names = [d.name for d in cur.description]
    rows = {str(r[names.index(key)]): dict(zip(names, r)) for r in cur}

columns = [n for n in names if n != geometry]
print("warnings:", "; ".join(read["warnings"]) or "none")
print("ignored:", " ".join(c for c in columns if c not in read["fields"]) or "none")
print("srs:", read["srs"])
print("rows:", read["count"], "of", len(rows))
differ = {}
for f in read["features"]:
    row = rows.get(str(f.get(key)))
    if row is None:
        differ.setdefault(key, f"no row {f.get(key)}")
        continue
    for c in columns:
        if c in read["fields"] and not same(as_read(f[c], row[c]), row[c], text_uuids=True):
            differ.setdefault(c, f"{key} {f.get(key)}: GDAL {f[c]!r}, database {row[c]!r}")
print("differ:", " ".join(sorted(differ)) or "none")
for c, d in sorted(differ.items()):
    print("   ", c, d)
