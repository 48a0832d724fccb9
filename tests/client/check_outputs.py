#!/usr/bin/env python3
"""Reads gn_export's CSV, JSON and GeoJSON files back with Python's own csv and json modules
and compares every value with a reference dumped by PostgreSQL itself.

usage: check_outputs.py REFERENCE.json COLUMNS.txt PK CSV JSON GEOJSON [GEOJSONL]
Prints one "ok"/"FAILED" line per check and exits 1 if any failed.
"""
import csv
import io
import json
import math
import sys

ref_path, cols_path, pk, csv_path, json_path, geojson_path = sys.argv[1:7]
seq_path = sys.argv[7] if len(sys.argv) > 7 else None
failed = 0


def check(name, ok, detail=""):
    global failed
    print(("ok     " if ok else "FAILED ") + name + ("" if ok else f"\n  {detail}"))
    failed += 0 if ok else 1


with open(ref_path, encoding="utf-8") as f:
    # {pk: {"props": {col: value-as-json}, "text": {col: value-as-text}, "geom": geojson-or-null}}
    reference = {str(r["pk"]): r for r in json.load(f)}
with open(cols_path, encoding="utf-8") as f:
    columns = [c for c in f.read().split("\n") if c]

# CSV ------------------------------------------------------------------------------------------
with open(csv_path, encoding="utf-8", newline="") as f:
    raw = f.read()
check("CSV header and last record end with CRLF", raw.split("\n", 1)[0].endswith("\r") and raw.endswith("\r\n"))
rows = list(csv.reader(io.StringIO(raw, newline=""), delimiter=";"))
check("CSV header is the view's columns in view order", rows[0] == columns, f"{rows[0]} != {columns}")
check("CSV has one record per row", len(rows) - 1 == len(reference), f"{len(rows) - 1} != {len(reference)}")
bad = []
for rec in rows[1:]:
    d = dict(zip(columns, rec))
    ref = reference.get(d[pk])
    if ref is None:
        bad.append(f"unknown pk {d[pk]}")
        continue
    for col, expected in ref["text"].items():
        got = d[col]
        if (expected if expected is not None else "") != got:
            bad.append(f"pk {d[pk]} {col}: {got!r} != {expected!r}")
check("CSV values read back by csv.reader equal PostgreSQL's text", not bad, "; ".join(bad[:5]))

# JSON -----------------------------------------------------------------------------------------
with open(json_path, encoding="utf-8") as f:
    data = json.load(f)
check("JSON is an array of one object per row", isinstance(data, list) and len(data) == len(reference))
check("JSON keys in view order", all(list(o.keys()) == columns for o in data))
bad = []
for o in data:
    ref = reference[str(o[pk])]
    for col, expected in ref["props"].items():
        got = o[col]
        if isinstance(expected, float) or isinstance(got, float):
            same = got is not None and expected is not None and math.isclose(got, expected, rel_tol=1e-15)
        else:
            same = got == expected
        if not same:
            bad.append(f"pk {o[pk]} {col}: {got!r} != {expected!r}")
check("JSON values equal PostgreSQL's (strings, numbers, nested JSON, nulls)", not bad, "; ".join(bad[:5]))


# GeoJSON --------------------------------------------------------------------------------------
def same_coords(a, b):
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_coords(x, y) for x, y in zip(a, b))
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= 1e-9


def check_features(name, features):
    bad = []
    for ft in features:
        props = ft["properties"]
        ref = reference[str(props[pk])]
        if ft.get("id") != props[pk]:
            bad.append(f"id {ft.get('id')!r} != pk {props[pk]!r}")
        g, rg = ft["geometry"], ref["geom"]
        if (g is None) != (rg is None) or (g and (g["type"] != rg["type"] or not same_coords(g["coordinates"], rg["coordinates"]))):
            bad.append(f"pk {props[pk]} geometry {json.dumps(g)[:80]} != {json.dumps(rg)[:80]}")
        for col, expected in ref["props"].items():
            if col in props and props[col] != expected and not (isinstance(expected, float) and math.isclose(props[col], expected, rel_tol=1e-15)):
                bad.append(f"pk {props[pk]} {col}: {props[col]!r} != {expected!r}")
    check(f"{name}: one feature per row", len(features) == len(reference), f"{len(features)} != {len(reference)}")
    check(f"{name}: id = pk, geometry in EPSG:4326 equal to ST_Transform's, properties equal", not bad, "; ".join(bad[:5]))


with open(geojson_path, encoding="utf-8") as f:
    fc = json.load(f)
check("GeoJSON is a FeatureCollection without crs", fc.get("type") == "FeatureCollection" and "crs" not in fc)
check_features("GeoJSON", fc["features"])
if seq_path:
    with open(seq_path, encoding="utf-8") as f:
        check_features("GeoJSONSeq", [json.loads(line) for line in f if line.strip()])

sys.exit(1 if failed else 0)
