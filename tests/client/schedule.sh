#!/usr/bin/env bash
# Scheduling seen from several sessions: a real pg_cron job (CALL gn_export.run_schedules())
# produces a file, the procedure commits each schedule on its own, two concurrent
# run_scheduled() calls generate each schedule exactly once, a cancel leaves in_process false
# and no temporary file, a LISTEN client receives the pg_notify payload, and another session
# sees a large generation's progress in pg_stat_progress_copy.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
client_cluster_up
make_demo_db gn_sched 500
export_dir_for gn_sched schedule-exports
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT
Q gn_sched <<'SQL'
CREATE TABLE public.ctl (sleep_every int, n int);
INSERT INTO public.ctl VALUES (100, 1500);
CREATE FUNCTION public.slow(i int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE s int := (SELECT sleep_every FROM public.ctl);
BEGIN
    IF s > 0 AND i % s = 0 THEN PERFORM pg_sleep(0.1); END IF;
    RETURN i;
END $$;
CREATE VIEW public.v_lent AS
SELECT public.slow(i) AS id, 'ligne ' || i AS txt FROM generate_series(1, (SELECT n FROM public.ctl)) i;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
SELECT 'Lent ' || k, 'public', 'v_lent', true, 1, 'id' FROM generate_series(1, 3) k;
DELETE FROM gn_exports.t_export_schedules;
INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format)
SELECT id, 1, 'csv' FROM gn_exports.t_exports WHERE label LIKE 'Lent %';
SQL

# two sessions run the schedules at the same time: each is generated exactly once
psql_at "$CLIENT_PORT" gn_sched -XAtq -c "SELECT id_export_schedule || ':' || status FROM gn_export.run_scheduled()" > "$tmp/a.out" &
a=$!
psql_at "$CLIENT_PORT" gn_sched -XAtq -c "SELECT id_export_schedule || ':' || status FROM gn_export.run_scheduled()" > "$tmp/b.out" &
b=$!
wait $a; wait $b
check "two concurrent run_scheduled(): each schedule generated exactly once" "1 1 1" \
  "$(Q gn_sched -c "SELECT string_agg(n::text, ' ' ORDER BY s) FROM (SELECT s.id_export_schedule AS s, count(r.id_run) FILTER (WHERE r.status = 'done') AS n FROM gn_exports.t_export_schedules s LEFT JOIN gn_export.t_runs r USING (id_export_schedule) GROUP BY 1) x")"
check "the other session saw them busy or already fresh" 3 \
  "$(cat "$tmp/a.out" "$tmp/b.out" | grep -cE ':(busy|skipped)$')"
check "in_process is false once both are over" 0 "$(Q gn_sched -c "SELECT count(*) FROM gn_exports.t_export_schedules WHERE in_process")"

# a cancel (statement_timeout) in the middle of a scheduled generation
Q gn_sched -c "UPDATE public.ctl SET n = 100000"
find "$EXPORTS/schedules" -name '*.csv' -exec touch -d '2 days ago' {} +
before=$(md5sum "$EXPORTS/schedules/Lent_1.csv" | cut -d' ' -f1)
err=$(Q gn_sched -c "SET statement_timeout = '1500ms'" -c "SELECT * FROM gn_export.run_scheduled()" 2>&1 || true)
check "statement_timeout cancels the whole run (not swallowed as a failed schedule)" 1 "$(echo "$err" | grep -c 'canceling statement due to statement timeout')"
check "in_process is false after the cancel" 0 "$(Q gn_sched -c "SELECT count(*) FROM gn_exports.t_export_schedules WHERE in_process")"
check "after the cancel: no temporary file, previous file intact" "0 $before" \
  "$(find "$EXPORTS" -name '.*' -type f | wc -l) $(md5sum "$EXPORTS/schedules/Lent_1.csv" | cut -d' ' -f1)"

# progress of a large generation, seen from another session: a user's download, whose rows
# flow as the view makes them (a published file's come in key order: here, only once the
# view's slow keys are all made and sorted)
PGAPPNAME=gn_progress psql_at "$CLIENT_PORT" gn_sched -XAtq -c "SELECT status FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'Lent 1'), id_role => 3)" > /dev/null 2>&1 &
g=$!
sleep 2
p1=$(Q gn_sched -c "SELECT p.tuples_processed || ' ' || p.bytes_processed || ' ' || p.command || ' ' || p.type || ' ' || p.relid::regclass
                      FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'gn_progress'")
sleep 1.5
p2=$(Q gn_sched -c "SELECT p.tuples_processed FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'gn_progress'")
echo "  progress: $p1 then $p2 rows"
check "progress visible in pg_stat_progress_copy (COPY TO FILE, the export's view)" "COPY TO FILE v_lent" "$(echo "$p1" | cut -d' ' -f3-)"
check "progress grows while rows flow" 1 "$([ "${p2:-0}" -gt "${p1%% *}" ] && [ "${p1%% *}" -gt 0 ] && echo 1 || echo 0)"
Q postgres -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'gn_progress'" > /dev/null
wait $g || true
Q gn_sched -c "UPDATE public.ctl SET n = 1500, sleep_every = 0"

# a LISTEN client receives the payload of every finished generation, with no token in it
psql_at "$CLIENT_PORT" gn_sched -X -c "LISTEN gn_export" -c "SELECT pg_sleep(3)" > "$tmp/listen.out" 2>&1 &
l=$!
sleep 1
Q gn_sched -c "SELECT status FROM gn_export.generate(1, 'csv', id_role => 4)" > /dev/null
wait $l
check "the LISTEN client received the notification" 1 "$(grep -c 'Asynchronous notification "gn_export" with payload' "$tmp/listen.out")"
payload=$(grep -o 'payload "{.*}"' "$tmp/listen.out" | sed 's/^payload "//; s/"$//')
check "the payload describes the generation" '"done" 1 4' \
  "$(echo "$payload" | python3 -c 'import json,sys; p=json.load(sys.stdin); print(json.dumps(p["status"]), p["id_export"], p["id_role"])')"
tokens=$(Q gn_sched -c "SELECT string_agg(token, '|') FROM gn_exports.cor_exports_roles")
check "the payload carries no token" 0 "$(echo "$payload" | grep -cE "$tokens" || true)"

# CALL gn_export.run_schedules() commits each schedule on its own: while one is made, another
# session sees it in_process, and an earlier one's history; its row is not locked any more
runner="${SCHEDULE_RUNNER:-CALL gn_export.run_schedules()}"
Q gn_sched -c "UPDATE public.ctl SET n = 1500, sleep_every = 100"
rm -f "$EXPORTS"/schedules/Lent_*.csv
since=$(Q gn_sched -c "SELECT clock_timestamp()")
first=$(Q gn_sched -c "SELECT min(id_export_schedule) FROM gn_exports.t_export_schedules")
done_first="SELECT count(*) FROM gn_export.t_runs WHERE id_export_schedule = $first AND status = 'done' AND started_at > '$since'"
psql_at "$CLIENT_PORT" gn_sched -XAtq -c "$runner" > /dev/null 2>&1 &
c=$!
for _ in $(seq 1 30); do
  making=$(Q gn_sched -c "SELECT in_process FROM gn_exports.t_export_schedules WHERE id_export_schedule = $first")
  [ "$making" = t ] && break; sleep 0.1
done
for _ in $(seq 1 60); do [ "$(Q gn_sched -c "$done_first")" = 1 ] && break; sleep 0.1; done
recorded=$(Q gn_sched -c "$done_first")
unlocked=$(QE gn_sched -c "BEGIN" -c "SELECT 'unlocked' FROM gn_exports.t_export_schedules WHERE id_export_schedule = $first FOR UPDATE NOWAIT" -c "ROLLBACK" | grep -o 'unlocked\|could not obtain lock' | head -1)
still=$(kill -0 $c 2>/dev/null && echo "while the next is made" || echo "only once all were made")
wait $c
check "$runner: another session sees the schedule being made in_process" t "$making"
check "$runner: a schedule's run is recorded (committed) before the next is made, and its row is not locked" "1 unlocked while the next is made" "$recorded $unlocked $still"
check "$runner: every due schedule made, none left in_process" "3 0" \
  "$(Q gn_sched -c "SELECT count(DISTINCT id_export_schedule) FROM gn_export.t_runs WHERE status = 'done' AND started_at > '$since'") $(Q gn_sched -c "SELECT count(*) FROM gn_exports.t_export_schedules WHERE in_process")"
Q gn_sched -c "UPDATE public.ctl SET n = 1500, sleep_every = 0"

# a real pg_cron job runs the schedules
rm -f "$EXPORTS/schedules/Lent_2.csv"
since=$(Q gn_sched -c "SELECT now()")
Q postgres -c "CREATE EXTENSION IF NOT EXISTS pg_cron" \
           -c "SELECT cron.schedule_in_database('gn-export-scheduled', '* * * * *', 'CALL gn_export.run_schedules()', 'gn_sched')" > /dev/null
for _ in $(seq 1 90); do
  [ -s "$EXPORTS/schedules/Lent_2.csv" ] && break
  sleep 1
done
check "the pg_cron job produced the file" 1501 "$(wc -l < "$EXPORTS/schedules/Lent_2.csv" 2>/dev/null || echo 0)"
check "cron.job_run_details says it succeeded" 1 \
  "$(Q postgres -c "SELECT count(*) FILTER (WHERE status = 'succeeded') > 0 FROM cron.job_run_details" | tr -d '\n' | sed 's/t/1/; s/f/0/')"
check "and the history says which schedule did it" 1 \
  "$(Q gn_sched -c "SELECT count(*) FROM gn_export.t_runs r JOIN gn_exports.t_exports e ON e.id = r.id_export WHERE e.label = 'Lent 2' AND r.status = 'done' AND r.id_export_schedule IS NOT NULL AND r.started_at > '$since'")"
Q postgres -c "SELECT cron.unschedule('gn-export-scheduled')" > /dev/null

# a published file is a version of its export: generated again from the same data, it is the
# same file, byte for byte (portals and GBIF then see no new version), even where PostgreSQL
# reads the rows in parallel (forced here, as it plans a large table) and a second has passed
Q gn_sched -c "SELECT gn_export.install_dwc_view()" \
  -c "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
      VALUES ('GBIF', 'gn_exports', 'v_synthese_dwc', true, 1, 'occurrenceID')" > /dev/null
gbif=$(Q gn_sched -c "SELECT id FROM gn_exports.t_exports WHERE label = 'GBIF'")
# enough rows for the parallel workers to share the scan
make_demo_db gn_sched_rows 20000
Q postgres -c "ALTER DATABASE gn_sched_rows SET gn_export.export_dir = '$EXPORTS'" \
           -c "ALTER DATABASE gn_sched_rows SET session_preload_libraries = 'gn_export'" > /dev/null
parallel="SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2;"
same_again() { # db id format: "same" when two generations 1.1 s apart give the same bytes
  local a b
  a=$(Q "$1" -c "$parallel" -c "SELECT path FROM gn_export.generate($2, '$3')" 2>/dev/null | tail -1)
  cp "$a" "$tmp/first"; sleep 1.1
  b=$(Q "$1" -c "$parallel" -c "SELECT path FROM gn_export.generate($2, '$3')" 2>/dev/null | tail -1)
  cmp -s "$tmp/first" "$b" && echo same || echo "differ at byte $(cmp "$tmp/first" "$b" | awk '{print $5}' | tr -d ,)"
}
for f in csv csv.gz json geojson geojson.gz parquet gpkg; do
  check "an unchanged export generated again: the same $f, byte for byte" same "$(same_again gn_sched_rows 1 "$f")"
done
# a GeoPackage says when its content last changed (gpkg_contents.last_change): kept while the
# data stays the same (above), the generation's time once it changed
last_change() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT last_change FROM gpkg_contents").fetchone()[0])' "$1"; }
gp=$(Q gn_sched_rows -c "SELECT path FROM gn_export.generate(1, 'gpkg')" 2>/dev/null | tail -1)
kept=$(last_change "$gp")
Q gn_sched_rows -c "UPDATE gn_synthese.synthese SET nom_cite = nom_cite || ' (revu)' WHERE id_synthese = (SELECT min(id_synthese) FROM gn_synthese.synthese)" > /dev/null
gp=$(Q gn_sched_rows -c "SELECT path FROM gn_export.generate(1, 'gpkg')" 2>/dev/null | tail -1)
# a GeoPackage published with stable_files off carries no version: the next one, even with
# the content of an older version, never takes that older time back (last_change never goes back)
Q gn_sched_rows -c "SET gn_export.stable_files = off" -c "SELECT status FROM gn_export.generate(1, 'gpkg')" > /dev/null
unversioned=$(last_change "$gp")
check "a GeoPackage published after an unversioned one is stamped anew, never with an older time" later \
  "$(gp2=$(Q gn_sched_rows -c "SELECT path FROM gn_export.generate(1, 'gpkg')" | tail -1); [[ "$(last_change "$gp2")" > "$unversioned" || "$(last_change "$gp2")" == "$unversioned" ]] && [[ "$(last_change "$gp2")" != "$kept" ]] && echo later || echo "went back to $(last_change "$gp2")")"
check "... and once a row changed, its last_change is the new generation's time, recorded in the history" \
  "later $(last_change "$gp")" \
  "$([[ "$(last_change "$gp")" > "$kept" ]] && echo later || echo "not later than $kept") $(Q gn_sched_rows -c "SELECT to_char(content_since AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM gn_export.t_runs ORDER BY id_run DESC LIMIT 1")"
check "an unchanged export generated again: the same Darwin Core Archive, byte for byte" same "$(same_again gn_sched "$gbif" dwca)"
eml=$(unzip -p "$EXPORTS/schedules/GBIF.dwca" eml.xml)
check "... its pubDate is the latest modified of its rows, its version the CRC-32 of its core" \
  "$(Q gn_sched -c "SELECT max(modified)::date FROM gn_exports.v_synthese_dwc") v$(unzip -p "$EXPORTS/schedules/GBIF.dwca" occurrence.txt | python3 -c 'import sys, zlib; print(format(zlib.crc32(sys.stdin.buffer.read()), "08x"))')" \
  "$(echo "$eml" | sed -n 's:.*<pubDate>\(.*\)</pubDate>.*:\1:p') $(echo "$eml" | sed -n 's:.*packageId="[^/]*/\(v[0-9a-f]*\)".*:\1:p')"

# two rows with one occurrenceID make GBIF and the IPT reject the whole archive: refused
Q gn_sched -c "CREATE VIEW public.v_dwc_twice AS SELECT * FROM gn_exports.v_synthese_dwc UNION ALL (SELECT * FROM gn_exports.v_synthese_dwc ORDER BY \"occurrenceID\" LIMIT 2)" \
  -c "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
      VALUES ('GBIF twice', 'public', 'v_dwc_twice', true, 1, 'occurrenceID')" > /dev/null
twice=$(Q gn_sched -c "SELECT status || ' ' || sqlstate || ' ' || (error LIKE '%occurrenceID values are on more than one row: \"' || (SELECT min(\"occurrenceID\") FROM gn_exports.v_synthese_dwc) || '\", \"%')::text FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'GBIF twice'), 'dwca')" 2>/dev/null)
check "a Darwin Core Archive whose occurrenceIDs repeat is refused (23505), naming them; no file" "failed 23505 true no" \
  "$twice $([ -e "$EXPORTS/schedules/GBIF_twice.dwca" ] && echo file || echo no)"
# gn_export.stable_files off: the plan's order (faster where a large view must be sorted), and
# so neither the same bytes nor the check of repeated ids
check "with gn_export.stable_files off, the rows are not read in key order: the repeats go unseen" done \
  "$(Q gn_sched -c "SET gn_export.stable_files = off" -c "SELECT status FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'GBIF twice'), 'dwca')" 2>/dev/null | tail -1)"
# GeoNature's admin lists a schedule's file as schedules/<label>.<format as the row writes it>
# (gn_module_export's ExportRequest._get_cst_file_name): every format gn_export schedules is
# there, under the name GeoNature computes; a spelling GeoNature would look for in vain (an
# alias, capitals) is refused, not published under another name
# (GeoNature's table has no CHECK on formats: the one gn_export adds to a catalog it creates is
# dropped here, as on a GeoNature database)
Q gn_sched -c "DELETE FROM gn_exports.t_export_schedules" \
  -c "ALTER TABLE gn_exports.t_export_schedules DROP CONSTRAINT IF EXISTS t_export_schedules_format_check" \
  -c "UPDATE gn_exports.t_exports SET label = 'Données de l''été' WHERE id = 1" \
  -c "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
      VALUES ('Darwin-SW', 'gn_exports', 'v_exports_synthese_sinp_rdf', true, 1, 'idSynthese')" \
  -c "INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format)
      SELECT 1, 1, f FROM unnest(ARRAY['csv', 'csv.gz', 'tsv', 'json', 'geojson', 'geojsonseq', 'gpkg', 'parquet']) f
      UNION ALL SELECT id, 1, 'ttl' FROM gn_exports.t_exports WHERE label = 'Darwin-SW'
      UNION ALL SELECT $gbif, 1, 'dwca'" > /dev/null
Q gn_sched -c "SELECT status FROM gn_export.run_scheduled()" > /dev/null
geonature_name() { # label format: GeoNature's removeDisallowedFilenameChars(label) + '.' + format
  python3 -c 'import re, sys, unicodedata
s = re.sub("[ ]+", "_", unicodedata.normalize("NFKD", sys.argv[1]))
print(re.sub("[^0-9a-zA-Z_-]", "", s) + "." + sys.argv[2])' "$1" "$2"
}
listed=""
while IFS='|' read -r label format; do
  [ -s "$EXPORTS/schedules/$(geonature_name "$label" "$format")" ] && listed="$listed $format"
done < <(Q gn_sched -F'|' -c "SELECT e.label, s.format FROM gn_exports.t_export_schedules s JOIN gn_exports.t_exports e ON e.id = s.id_export ORDER BY s.id_export_schedule")
check "every schedule's file is where GeoNature's admin looks for it (schedules/<label>.<format>)" \
  " csv csv.gz tsv json geojson geojsonseq gpkg parquet ttl dwca" "$listed"
Q gn_sched -c "DELETE FROM gn_exports.t_export_schedules" \
  -c "INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format) VALUES (1, 1, 'geoparquet'), (1, 1, 'CSV')" > /dev/null
Q gn_sched -c "SELECT status FROM gn_export.run_scheduled()" > /dev/null
check "a schedule's format GeoNature's admin would look for under another name is refused (22023), no file" \
  "failed 22023 failed 22023 0" \
  "$(Q gn_sched -c "SELECT string_agg(r.status || ' ' || r.sqlstate, ' ' ORDER BY r.id_run) FROM gn_export.t_runs r WHERE r.id_export_schedule IN (SELECT id_export_schedule FROM gn_exports.t_export_schedules)") $(ls "$EXPORTS/schedules/" | grep -c '\.geoparquet$\|\.CSV$')"
finish
