#!/usr/bin/env bash
# Latency of gn_export.api() pages of 1000 items on the demo 'Synthese SINP' (GeoJSON items):
# one session asks for pages 0..50 in turn; the first call pays the export's total count
# (then cached for gn_export.api_total_cache seconds), p50/p90 are over the 50 next pages.
#   bash tests/api_latency.sh               # 100000 and 1000000 rows (rebuilds the demo)
#   SIZES=100000 bash tests/api_latency.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SIZES="${SIZES:-100000 1000000}"
PORT="${DEMO_PORT:-54315}"
printf '%-9s %-58s %9s %9s %9s\n' rows filter first_ms p50_ms p90_ms
for ROWS in $SIZES; do
  ROWS=$ROWS bash "$REPO/tests/demo.sh" > /dev/null
  for filter in '{}' '{"filter_n_up_altitude_min": 2000, "ilike_nom_cite": "a"}'; do
    psql_at "$PORT" gn_demo -XAtq -F ' ' -v filter="$filter" -v rows="$ROWS" <<'SQL'
SET my.filter = :'filter';
CREATE TEMP TABLE t (i int, ms float8);
DO $$
DECLARE s timestamptz; f jsonb := current_setting('my.filter')::jsonb;
BEGIN
    FOR i IN 0..50 LOOP
        s := clock_timestamp();
        PERFORM gn_export.api(1, f || jsonb_build_object('limit', 1000, 'offset', i), 3);
        INSERT INTO t VALUES (i, extract(epoch FROM clock_timestamp() - s) * 1000);
    END LOOP;
END $$;
SELECT format('%-9s %-58s %9s %9s %9s', :'rows', :'filter',
              (SELECT round(ms) FROM t WHERE i = 0),
              (SELECT round(percentile_disc(0.5) WITHIN GROUP (ORDER BY ms)) FROM t WHERE i > 0),
              (SELECT round(percentile_disc(0.9) WITHIN GROUP (ORDER BY ms)) FROM t WHERE i > 0));
SQL
  done
done
