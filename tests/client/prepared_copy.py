"""Runs one COPY statement several times as a named prepared statement over libpq's extended
protocol (PostgreSQL then hands the COPY hook a read-only parse tree from its plan cache) and
prints the md5 of each run's bytes, one per line, or the error.

usage: prepared_copy.py CONNINFO TIMES STATEMENT
"""

import hashlib
import sys

from psycopg import pq


def main() -> int:
    conninfo, times, statement = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    conn = pq.PGconn.connect(conninfo.encode())
    if conn.status != pq.ConnStatus.OK:
        print("connect:", conn.error_message.decode(errors="replace"))
        return 1
    res = conn.prepare(b"gn_copy", statement.encode())
    if res.status != pq.ExecStatus.COMMAND_OK:
        print("prepare:", res.error_message.decode(errors="replace").strip())
        return 1
    for _ in range(times):
        res = conn.exec_prepared(b"gn_copy", [])
        if res.status != pq.ExecStatus.COPY_OUT:
            print("error:", res.error_message.decode(errors="replace").strip())
            # the connection stays usable: go on with the next run
            continue
        digest = hashlib.md5()
        while True:
            n, data = conn.get_copy_data(0)
            if n < 0:
                break
            digest.update(bytes(data))
        tail = conn.get_result()
        while conn.get_result() is not None:
            pass
        if tail is not None and tail.status != pq.ExecStatus.COMMAND_OK:
            print("error:", tail.error_message.decode(errors="replace").strip())
            continue
        print(digest.hexdigest())
    conn.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
