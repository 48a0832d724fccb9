#!/usr/bin/env bash
# Faults while everything runs. For SOAK_SECONDS (default 40) on a
# 20,000-row export, sessions generate files in several formats (as the administrator, as
# users, through the schedules, and in transactions that roll back), stream run(), page the API
# and write rows, while a faulter cancels and terminates random ones of them and statement
# timeouts fire. Then:
#  - the server answers, and no client or server message is XX000, a PANIC or a Rust panic;
#  - every schedule file is the one the newest recorded run of it describes (its size);
#  - every user file the history records is there with its recorded size, and every file in
#    usr_generated is recorded;
#  - after clean_files() no temporary file is left, in export_dir or the snapshot store;
#  - a harvest of the API pages exactly the view's rows.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECONDS_TO_RUN="${SOAK_SECONDS:-40}"
client_cluster_up
make_demo_db gn_soak 100
export_dir_for gn_soak soak-exports
logs=$(mktemp -d); chmod 777 "$logs"
trap 'rm -rf "$logs"; cluster_down "$CLIENT_DIR"' EXIT

Q gn_soak <<'SQL'
CREATE TABLE public.obs (id int PRIMARY KEY, name text, n numeric);
INSERT INTO public.obs SELECT i, 'obs ' || i, i / 7.0 FROM generate_series(1, 20000) i;
CREATE VIEW public.v_obs AS SELECT * FROM public.obs;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Soak', 'public', 'v_obs', true, 1, 'id');
INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format)
SELECT id, 1, f FROM gn_exports.t_exports, unnest(ARRAY['csv', 'json', 'tsv']) f WHERE label = 'Soak';
SQL
E=$(Q gn_soak -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Soak'")
deadline=$(( $(date +%s) + SECONDS_TO_RUN ))

# loop NAME SQL...: runs the statements again and again until the deadline, in new sessions,
# verbose errors (with their SQLSTATE) to NAME's log; failures are what the faults cause
loop() {
  local name="$1"; shift
  while [ "$(date +%s)" -lt "$deadline" ]; do
    PGAPPNAME="soak_$name" psql_at "$CLIENT_PORT" gn_soak -qAt -v ON_ERROR_STOP=0 -v VERBOSITY=verbose \
      "$@" >> "$logs/$name.log" 2>&1 || true
  done
}
loop admin1 -c "SELECT status FROM gn_export.generate($E, 'csv')" -c "SELECT status FROM gn_export.generate($E, 'json')" &
loop admin2 -c "SET statement_timeout = '300ms'" -c "SELECT status FROM gn_export.generate($E, 'tsv')" \
  -c "RESET statement_timeout" -c "SELECT status FROM gn_export.generate($E, 'csv')" &
loop rollback -c "BEGIN" -c "SELECT status FROM gn_export.generate($E, 'json')" -c "ROLLBACK" \
  -c "BEGIN" -c "SELECT status FROM gn_export.generate($E, 'csv', 3)" -c "ROLLBACK" &
loop user -c "SELECT status FROM gn_export.generate($E, 'csv', 3)" -c "SELECT status FROM gn_export.generate($E, 'json', 4)" &
loop sched -c "SELECT count(*) FROM gn_export.run_scheduled()" &
loop stream -c "SELECT count(*) FROM gn_export.run($E, 'json')" &
loop api -c "SELECT gn_export.api($E, jsonb_build_object('limit', 500, 'offset', (random() * 39)::int))->>'limit'" \
  -c "SELECT gn_export.api($E, jsonb_build_object('snapshot', 'new', 'limit', 10))->>'limit'" &
loop writer -c "INSERT INTO public.obs SELECT max(id) + 1, 'new', 1 FROM public.obs" \
  -c "DELETE FROM public.obs WHERE id = (SELECT min(id) FROM public.obs WHERE id > 10000)" &
faults=0
while [ "$(date +%s)" -lt "$deadline" ]; do
  sleep 0.$(( RANDOM % 5 + 1 ))
  kind=$([ $((RANDOM % 3)) = 0 ] && echo terminate || echo cancel)
  n=$(Q gn_soak -c "SELECT count(pg_${kind}_backend(pid)) FROM (SELECT pid FROM pg_stat_activity
        WHERE application_name LIKE 'soak_%' AND application_name <> 'soak_writer' AND state = 'active'
        ORDER BY random() LIMIT 1) p" 2>/dev/null || echo 0)
  faults=$((faults + n))
done
wait
echo "faults sent: $faults"

check "the server answers after $SECONDS_TO_RUN s of faults" "1" "$(Q gn_soak -c "SELECT 1")"
check "no XX000, PANIC or Rust panic reached a client or the server log" "0" \
  "$(cat "$logs"/*.log "$CLIENT_DIR/server.log" | grep -c 'XX000\|PANIC\|panicked at' || true)"
check "the faults reached the sessions (cancels and terminations were sent and seen)" "yes" \
  "$([ "$faults" -gt 10 ] && grep -qh '57014\|57P01' "$logs"/*.log && echo yes)"
for ext in csv json tsv; do
  f="$EXPORTS/schedules/Soak.$ext"
  check "schedules/Soak.$ext is the file its newest recorded run describes" \
    "$(Q gn_soak -c "SELECT bytes FROM gn_export.t_runs WHERE status = 'done' AND path = '$f' ORDER BY id_run DESC LIMIT 1")" \
    "$(stat -c %s "$f" 2>/dev/null || echo missing)"
done
check "every user file the history records is there with its recorded size" "0" \
  "$(Q gn_soak -c "SELECT path || ' ' || bytes FROM gn_export.t_runs WHERE status = 'done' AND id_role IS NOT NULL" \
     | while read -r p b; do [ "$(stat -c %s "$p" 2>/dev/null)" = "$b" ] || echo "$p"; done | wc -l)"
recorded=$(Q gn_soak -c "SELECT path FROM gn_export.t_runs WHERE path IS NOT NULL" | sort)
check "every file in usr_generated is recorded" "0" \
  "$(find "$EXPORTS/usr_generated" -type f ! -name '.*' | sort | comm -23 - <(echo "$recorded") | wc -l)"
check "user runs got one file each (no two records share a path)" "0" \
  "$(Q gn_soak -c "SELECT count(*) FROM (SELECT path FROM gn_export.t_runs WHERE id_role IS NOT NULL AND path IS NOT NULL GROUP BY path HAVING count(*) > 1) d")"
Q gn_soak -c "SELECT count(*) FROM gn_export.clean_files()" > /dev/null
check "after clean_files() no temporary file is left (export_dir, snapshot store)" "0" \
  "$(find "$EXPORTS" "$CLIENT_DIR/pgsql_tmp_gn_export_api" -name '.*.tmp' | wc -l)"
want=$(Q gn_soak -c "SELECT count(*) FROM public.v_obs")
got=$(Q gn_soak -c "WITH first AS (SELECT gn_export.api($E, '{\"limit\": 1000, \"snapshot\": \"new\"}') AS r),
  pages AS (SELECT gn_export.api($E, jsonb_build_object('limit', 1000, 'offset', o, 'snapshot', (SELECT r->'snapshot'->>'id' FROM first))) AS r
              FROM generate_series(0, ($want - 1) / 1000) o)
  SELECT count(*) || ' ' || count(DISTINCT i->>'id') FROM pages, json_array_elements(r->'items') i")
check "a harvest after the faults pages exactly the view's rows, each once" "$want $want" "$got"
finish
