"""Whether a value a reader gives back from one of gn_export's files is the database's value
(as psycopg types it): the one comparison of the file readers' checks (check_parquet.py,
check_opendata.py)."""

import datetime
import decimal
import json
import math
import uuid

import numpy as np


def same(a, b, text_uuids=False):
    """a as a reader gives it, b from psycopg; with text_uuids, a uuid must come as its text
    (what open-data readers need), not as 16 bytes."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(b, bool) or isinstance(a, bool):
        return a == b
    if isinstance(b, float):
        return (
            (math.isnan(a) and math.isnan(b))
            or a == b
            or np.float32(b) == np.float32(a)  # a real column, read back as a double
            or abs(a - b) <= abs(b) * 1e-7
        )
    if isinstance(b, decimal.Decimal):
        return str(a) == str(b)  # numeric is text of its exact digits in the files
    if isinstance(b, (dict, list)) and isinstance(a, str):
        return json.loads(a) == b
    if isinstance(b, uuid.UUID):
        if isinstance(a, uuid.UUID):
            return a == b  # DuckDB reads Parquet's UUID type as a UUID
        if isinstance(a, bytes):
            return not text_uuids and uuid.UUID(bytes=a) == b
        return isinstance(a, str) and uuid.UUID(a) == b
    if isinstance(b, datetime.time) and isinstance(a, str):
        return datetime.time.fromisoformat(a) == b
    if isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, text_uuids) for x, y in zip(a, b))
    if isinstance(b, datetime.datetime) and isinstance(a, datetime.datetime):
        if b.tzinfo is not None and a.tzinfo is None:
            a = a.replace(tzinfo=datetime.timezone.utc)  # a reader's UTC without its zone
        return a == b
    return a == b
