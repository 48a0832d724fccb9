"""Reads a file with GDAL as QGIS does, inside a Debian root whose GDAL has the Parquet driver
(tests/roots.sh): prints one JSON document with GDAL's warnings, the layer's fields and SRS,
and every feature's values as GDAL gives them (dates and times as ISO 8601 texts).

    python3 gdal_read.py FILE [OPEN_OPTION ...]
"""

import json
import sys

from osgeo import gdal, ogr

gdal.UseExceptions()
warnings = []
gdal.PushErrorHandler(lambda cls, no, msg: warnings.append(msg) if cls >= gdal.CE_Warning else None)

ds = gdal.OpenEx(sys.argv[1], gdal.OF_VECTOR, open_options=sys.argv[2:])
layer = ds.GetLayer(0)
defn = layer.GetLayerDefn()
fields = []
for i in range(defn.GetFieldCount()):
    f = defn.GetFieldDefn(i)
    fields.append((f.GetName(), ogr.GetFieldTypeName(f.GetType()), ogr.GetFieldSubTypeName(f.GetSubType())))


def tz(flag):
    if flag == 100:
        return "+00:00"
    if flag > 1:
        m = (flag - 100) * 15
        return "%s%02d:%02d" % ("+" if m >= 0 else "-", abs(m) // 60, abs(m) % 60)
    return ""


def value(feature, i, typ, sub):
    if not feature.IsFieldSetAndNotNull(i):
        return None
    if typ in ("Date", "DateTime", "Time"):
        y, mo, d, h, mi, s, flag = feature.GetFieldAsDateTime(i)
        date = "%04d-%02d-%02d" % (y, mo, d)
        time = "%02d:%02d:%09.6f" % (h, mi, s)
        return {"Date": date, "Time": time}.get(typ, date + "T" + time + tz(flag))
    # the list getters; the bindings give None for an empty list of strings, which GDAL
    # itself reads as an empty list (ogrinfo: "(0:)")
    getter = {
        "IntegerList": feature.GetFieldAsIntegerList,
        "Integer64List": feature.GetFieldAsInteger64List,
        "RealList": feature.GetFieldAsDoubleList,
        "StringList": feature.GetFieldAsStringList,
    }.get(typ, feature.GetField)
    v = getter(i)
    if v is None and typ.endswith("List"):
        v = []
    if sub == "Boolean":
        return [bool(x) for x in v] if isinstance(v, list) else bool(v)
    return v


features = []
for feature in layer:
    features.append({name: value(feature, i, typ, sub) for i, (name, typ, sub) in enumerate(fields)})
srs = layer.GetSpatialRef()
print(json.dumps({
    "warnings": warnings,
    "fields": {name: typ + ("(" + sub + ")" if sub != "None" else "") for name, typ, sub in fields},
    "srs": srs and "%s:%s" % (srs.GetAuthorityName(None), srs.GetAuthorityCode(None)),
    "count": layer.GetFeatureCount(),
    "features": features,
}))
