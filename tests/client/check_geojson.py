"""RFC 7946 check of GeoJSON files (a FeatureCollection, or one Feature per line) with the
geojson-validator package: prints "ok <features>" or what is wrong.

usage: check_geojson.py FILE [FILE...]
"""

import json
import sys

import geojson_validator as gv
from loguru import logger


def collection(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    doc = json.loads(text) if text.lstrip().startswith('{"type":"FeatureCollection"') else None
    if doc is None:
        doc = {"type": "FeatureCollection", "features": [json.loads(line) for line in text.splitlines() if line]}
    return doc


def main() -> int:
    skipped_logs = []
    logger.remove()
    logger.add(lambda m: skipped_logs.append(str(m).strip()) if "could not be validated" in str(m) else None)
    status = 0
    for path in sys.argv[1:]:
        skipped_logs.clear()
        fc = collection(path)
        structure = gv.validate_structure(fc)
        geometries = gv.validate_geometries(fc)
        nulls = {i for i, f in enumerate(fc["features"]) if f.get("geometry") is None}
        unexpected = [i for i in geometries["skipped_validation"] if i not in nulls]
        problems = {k: v for k, v in geometries["invalid"].items()}
        if structure or problems or unexpected or skipped_logs:
            print(f"{path}: structure {structure} invalid {problems} unreadable {unexpected} {skipped_logs[:3]}")
            status = 1
        else:
            print(f"ok {len(fc['features'])}")
    return status


if __name__ == "__main__":
    sys.exit(main())
