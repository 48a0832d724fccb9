"""Checks every cell of the SINP diffusion table of docs/security.md against a Darwin Core archive
(python-dwca-reader) and a Darwin-SW Turtle file (rdflib).

usage: check_sensitivity.py docs/security.md cases.csv ARCHIVE.zip DSW.ttl

cases.csv: uuid, sens, lvl, found (t/f), lon, lat, areas ("TYPE:code:name:xmin,ymin,xmax,ymax"
joined with ';'). For each case the table (and "no attached area withholds a generalised
observation") gives what may be published; each output must publish exactly that: nothing,
the exact point, or the centre of the attached area's bounding box with an uncertainty that
covers the box and no field that locates the observation better.
"""

import csv
import os
import sys

import pyproj
import rdflib
from dwca.read import DwCAReader

DWC = "http://rs.tdwg.org/dwc/terms/"
AREA_OF = {"commune": "COM", "10 km": "M10", "département": "DEP"}
# what a generalised observation must not carry: the case rows' place name and remarks
SECRETS = ("nid", "Aire occupée")
GEOD = pyproj.Geod(ellps="WGS84")


def read_table(readme):
    """The rule's table: {sensitivity: {level: outcome}}, keyed by each header's first word."""
    lines = open(readme, encoding="utf-8").read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("| sensitivity \\ diffusion level |"))
    cells = lambda l: [c.strip() for c in l.strip().strip("|").split("|")]
    levels = [c.split()[0] for c in cells(lines[start])[1:]]
    table = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        row = cells(line)
        table[row[0].split()[0]] = dict(zip(levels, row[1:]))
    return table


def expected(table, case):
    outcome = table[case["sens"]][case["lvl"]]
    if case["found"] != "t" and outcome in AREA_OF:
        return "withheld"
    return outcome


def areas(case):
    out = {}
    for a in case["areas"].split(";"):
        kind, code, name, box = a.split(":")
        out[kind] = (code, name, [float(v) for v in box.split(",")])
    return out


def covering_radius(lon, lat, box):
    """The largest geodesic distance from (lon, lat) to a corner of the box, in metres."""
    x0, y0, x1, y1 = box
    return max(GEOD.inv(lon, lat, x, y)[2] for x in (x0, x1) for y in (y0, y1))


def judge(case, got):
    """What an output published for a case (got: None when absent, else a dict of fields),
    and what is wrong with it against the case's expected outcome (empty when right)."""
    if got is None:
        return "withheld", []
    lon, lat = float(case["lon"]), float(case["lat"])
    glat, glon = got.get("decimalLatitude"), got.get("decimalLongitude")
    if glat is None or glon is None:
        return "no coordinates", ["published without coordinates"]
    glat, glon = float(glat), float(glon)
    if abs(glat - lat) < 1e-9 and abs(glon - lon) < 1e-9:
        problems = [] if not got.get("dataGeneralizations") else ["exact but says it is generalised"]
        return "exact", problems
    for outcome, kind in AREA_OF.items():
        code, name, box = areas(case)[kind]
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        if abs(glat - cy) < 1e-5 and abs(glon - cx) < 1e-5:
            problems = []
            need = covering_radius(glon, glat, box)
            unc = got.get("coordinateUncertaintyInMeters")
            if unc is None or not need <= float(unc) <= need * 1.01 + 1:
                problems.append(f"uncertainty {unc}, the box needs {need:.0f} m")
            if code not in (got.get("dataGeneralizations") or ""):
                problems.append(f"dataGeneralizations does not name {code}: {got.get('dataGeneralizations')!r}")
            if not got.get("informationWithheld"):
                problems.append("no informationWithheld")
            if got.get("municipality") != (name if kind == "COM" else None):
                problems.append(f"municipality {got.get('municipality')!r}")
            if got.get("county") != (name if kind == "DEP" else None):
                problems.append(f"county {got.get('county')!r}")
            for term in ("footprintWKT", "locality", "minimumElevationInMeters", "maximumElevationInMeters",
                         "minimumDepthInMeters", "maximumDepthInMeters", "eventRemarks", "occurrenceRemarks"):
                if got.get(term) not in (None, ""):
                    problems.append(f"{term} kept: {got[term]!r}")
            leaks = [v for v in got.get("_all", []) if any(s in v for s in SECRETS)]
            if leaks:
                problems.append(f"place or remarks leak: {leaks}")
            return outcome, problems
    return "elsewhere", [f"published at {glat}, {glon}"]


def from_archive(path):
    rows = {}
    with DwCAReader(path) as dwca:
        for r in dwca:
            got = {k[len(DWC):]: v for k, v in r.data.items() if k.startswith(DWC) and v != ""}
            got["_all"] = list(r.data.values())
            rows[r.id] = got
    return rows


def from_turtle(path):
    g = rdflib.Graph().parse(path, format="turtle")
    D = rdflib.Namespace(DWC)
    rows = {}
    for occ in g.subjects(rdflib.RDF.type, D.Occurrence):
        uuid = str(occ).removeprefix("urn:uuid:")
        nodes = [occ] + [rdflib.URIRef(f"{occ}#{p}") for p in ("event", "location", "organism", "identification")]
        got = {"_all": [str(o) for n in nodes for o in g.objects(n, None) if isinstance(o, rdflib.Literal)]}
        for n in nodes:
            for p, o in g.predicate_objects(n):
                if str(p).startswith(DWC) and isinstance(o, rdflib.Literal):
                    got[str(p)[len(DWC):]] = str(o)
        rows[uuid] = got
    return rows


def check(name, cases, table, read, path):
    counts = {k: 0 for k in ("exact", "commune", "10 km", "département", "withheld")}
    if not os.path.isfile(path):
        print(f"{name}: no output: {path}")
        print(f"{name}: cells checked 0, wrong {len(cases)}")
        return
    rows = read(path)
    wrong = 0
    for case in cases:
        want = expected(table, case)
        got, problems = judge(case, rows.get(case["uuid"]))
        counts[got] = counts.get(got, 0) + 1
        if got != want or problems:
            wrong += 1
            if wrong <= 8:
                print(f"{name} wrong: sensitivity {case['sens']}, level {case['lvl']}, area {'found' if case['found'] == 't' else 'missing'}:"
                      f" expected {want}, published {got} {'; '.join(problems)}")
    print(f"{name}: cells checked {len(cases)}, wrong {wrong}")
    print(f"{name}: published " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def main(readme, cases_csv, archive, turtle):
    table = read_table(readme)
    print(f"table: {len(table)} x {len(next(iter(table.values())))}")
    cases = list(csv.DictReader(open(cases_csv, encoding="utf-8")))
    check("dwca", cases, table, from_archive, archive)
    check("turtle", cases, table, from_turtle, turtle)


if __name__ == "__main__":
    main(*sys.argv[1:])
