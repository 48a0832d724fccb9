"""GeoNature's routes that GN2PG calls, as a thin pass-through to the database, for the GN2PG
client test. It does what GeoNature's EXPORT route does with a request and nothing more: the
query string in (decoded as Flask decodes it: '+' is a space, the first value of a repeated name
wins), gn_export.api()'s JSON out, unchanged; errors as GeoNature answers them (400, 403, 404,
500, with a JSON body). GN2PG also logs in and looks up the module's path first, and fetches
deletions from the Synthese's own log route, which is GeoNature's, not the export's: this
route answers them from gn_synthese.t_log_synthese when the database has it, else with none.

    python gn2pg_route.py PORT DSN LOG
LOG receives one line per request: the method, the path with its query string, the status.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import psycopg

PORT, DSN, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
STATUS = {"42501": 403, "P0002": 404, "22023": 400, "42703": 400, "22P02": 400}
local = threading.local()
log_lock = threading.Lock()


def db():
    # one connection per server thread, as a pool hands GeoNature's workers theirs
    if getattr(local, "conn", None) is None or local.conn.closed:
        local.conn = psycopg.connect(DSN, autocommit=True)
    return local.conn


def first_values(query):
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


class Route(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with log_lock, open(LOG, "a") as f:
            f.write(f"{self.command} {self.path} {status}\n")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if urlsplit(self.path).path == "/api/auth/login":
            return self.answer(200, {"user": {"id_role": 1}})
        self.answer(404, {"message": "not found"})

    def do_GET(self):
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        params = first_values(url.query)
        if parts == ["api", "gn_commons", "modules"]:
            return self.answer(200, [{"module_code": "EXPORTS", "module_path": "exports"}])
        if parts[:3] == ["api", "exports", "api"] and len(parts) == 4 and parts[3].isdigit():
            try:
                row = db().execute(
                    "SELECT gn_export.api(%s, %s::jsonb)::text", (int(parts[3]), json.dumps(params))
                ).fetchone()
                return self.answer(200, row[0].encode())
            except psycopg.Error as e:
                code = e.sqlstate or ""
                return self.answer(STATUS.get(code, 500), {"message": str(e).strip(), "sqlstate": code})
        if parts == ["api", "synthese", "log"]:
            return self.answer(200, self.deletions(params))
        self.answer(404, {"message": "not found"})

    def deletions(self, params):
        limit = int(params.get("limit") or 1000)
        page = int(params.get("page") or 1)
        since = (params.get("meta_last_action_date") or "gte:1900-01-01").split(":", 1)[1]
        has_log = db().execute("SELECT to_regclass('gn_synthese.t_log_synthese') IS NOT NULL").fetchone()[0]
        if not has_log:
            return {"items": [], "total": 0, "limit": limit, "page": page}
        rows = db().execute(
            "SELECT id_synthese, unique_id_sinp::text, last_action, meta_last_action_date::text,"
            "       count(*) OVER () FROM gn_synthese.t_log_synthese"
            " WHERE last_action = 'D' AND meta_last_action_date >= %s::timestamp"
            " ORDER BY id_synthese LIMIT %s OFFSET %s",
            (since, limit, (page - 1) * limit),
        ).fetchall()
        items = [
            {"id_synthese": r[0], "unique_id_sinp": r[1], "last_action": r[2], "meta_last_action_date": r[3]}
            for r in rows
        ]
        return {"items": items, "total": rows[0][4] if rows else 0, "limit": limit, "page": page}

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Route).serve_forever()
