#!/usr/bin/env bash
# Latency of gn_export.api() pages of 1000 items on the demo 'Synthese SINP' (GeoJSON items),
# as partners harvest it through GeoNature's connection pool: the first call of a query makes
# its snapshot (alone, with "snapshot": "new"); the next pages are spread over 4 concurrent
# sessions (page p to session p mod 4), each page in its own transaction, timed in the server
# (the call alone, not the transfer of its 2 MB answer). A pool's connections are long-lived:
# each session has served one page of the query before (the set's first page again), and what
# that costs a new connection (its caches, the page's plan) is shown apart as cold_ms (the
# median over the 4 sessions). Two page sets: the first pages (0..200) and the last ones (the
# 200 before the end, made from a new snapshot again). Percentiles are nearest-rank over the
# set, the first call included.
#   bash tests/api_latency.sh               # 100000 and 1000000 rows (rebuilds the demo)
#   SIZES=100000 bash tests/api_latency.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SIZES="${SIZES:-100000 1000000}"
PORT="${DEMO_PORT:-54315}"
SESSIONS=4
PAGES=200
FILTERS=('{}' '{"filter_n_up_altitude_min": 2000, "ilike_nom_cite": "a"}')
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
P() { psql_at "$PORT" gn_demo -XAtq "$@"; }

# call FILTER P SNAPSHOT: times one page in the server; prints "ms|total_filtered|snapshot id"
call() {
  P -v f="$1" -v p="$2" -v s="$3" <<'SQL'
SELECT clock_timestamp() AS t0 \gset
SELECT (r->>'total_filtered') || '|' || (r->'snapshot'->>'id') AS rest
FROM gn_export.api(1, :'f'::jsonb || jsonb_build_object('limit', 1000, 'offset', :p::int, 'snapshot', :'s'), 3) r \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 1) || '|' || :'rest';
SQL
}

# session FILTER FIRST LAST J: pages FIRST..LAST with p mod SESSIONS = J, one transaction each
session() {
  P -v f="$1" -v a="$2" -v b="$3" -v j="$4" -v n="$SESSIONS" <<'SQL'
SET my.f = :'f'; SET my.a = :a; SET my.b = :b; SET my.j = :j; SET my.n = :n;
CREATE TEMP TABLE t (p int, ms float8);
DO $$
DECLARE s timestamptz; f jsonb := current_setting('my.f')::jsonb;
BEGIN
    -- the connection's first page (the set's first page again), timed apart
    s := clock_timestamp();
    PERFORM gn_export.api(1, f || jsonb_build_object('limit', 1000, 'offset', current_setting('my.a')::int - 1), 3);
    INSERT INTO t VALUES (-1, extract(epoch FROM clock_timestamp() - s) * 1000);
    COMMIT;
    FOR p IN current_setting('my.a')::int..current_setting('my.b')::int LOOP
        CONTINUE WHEN p % current_setting('my.n')::int <> current_setting('my.j')::int;
        s := clock_timestamp();
        PERFORM gn_export.api(1, f || jsonb_build_object('limit', 1000, 'offset', p), 3);
        INSERT INTO t VALUES (p, extract(epoch FROM clock_timestamp() - s) * 1000);
        COMMIT;
    END LOOP;
END $$;
SELECT CASE WHEN p < 0 THEN 'cold ' ELSE '' END || round(ms::numeric, 1) FROM t;
SQL
}

# measure ROWS FILTER LABEL FIRST_PAGE_OF_SET: one line of the table
measure() {
  local rows="$1" filter="$2" label="$3" first="$4" last="$5"
  local out ms
  out=$(call "$filter" "$first" new); ms=${out%%|*}
  : > "$tmp/ms"
  echo "$ms" >> "$tmp/ms"
  for j in $(seq 0 $((SESSIONS - 1))); do
    session "$filter" "$((first + 1))" "$last" "$j" > "$tmp/s$j" &
  done
  wait
  cat "$tmp"/s* | grep -v '^cold' >> "$tmp/ms"
  cold=$(cat "$tmp"/s* | sed -n 's/^cold //p' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  rm -f "$tmp"/s*
  sort -n "$tmp/ms" | awk -v rows="$rows" -v f="$filter" -v l="$label" -v first="$ms" -v cold="$cold" '
    { v[NR] = $1 }
    function pct(q,  k) { k = int(q * NR); if (k < q * NR) k++; if (k < 1) k = 1; return v[k] }
    END { printf "%-9s %-58s %-14s %6d %9s %8s %8s %8s %8s\n", rows, f, l, NR, first, cold, pct(0.5), pct(0.9), pct(0.99) }'
}

printf '%-9s %-58s %-14s %6s %9s %8s %8s %8s %8s\n' rows filter pages n first_ms cold_ms p50_ms p90_ms p99_ms
for ROWS in $SIZES; do
  ROWS=$ROWS DEMO_EXPORTS=0 bash "$REPO/tests/demo.sh" > /dev/null
  for filter in "${FILTERS[@]}"; do
    n=$(call "$filter" 0 new | cut -d'|' -f2)
    last=$(( (n + 999) / 1000 - 1 ))
    end=$(( last < PAGES ? last : PAGES ))
    measure "$ROWS" "$filter" "0..$end" 0 "$end"
    start=$(( last - PAGES < 0 ? 0 : last - PAGES ))
    measure "$ROWS" "$filter" "$start..$last" "$start" "$last"
  done
done
