#!/usr/bin/env bash
# Read replicas: a primary and a streaming hot standby on this machine (pg_basebackup -R, a
# second port). On the standby, run(), api() (its snapshots on the standby's own disk),
# openapi(), exports(), can_read() and the COPY formats serve what the primary serves;
# generate() writes its file and says that its history, notification and NOTIFY are left out;
# run_scheduled(), clean_files() and rotate_token() refuse with 25006.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
client_cluster_up
STANDBY_DIR="$STATE_DIR/standby-cluster"
STANDBY_PORT=$((CLIENT_PORT + 1))
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"; cluster_down "$STANDBY_DIR"; cluster_down "$CLIENT_DIR"' EXIT
S() { psql_at "$STANDBY_PORT" gn_sb -qAt "$@"; }
SE() { psql_at "$STANDBY_PORT" gn_sb -qAt -v ON_ERROR_STOP=0 "$@" 2>&1 || true; }
standby_sqlstate() { SE -c "$1" -c '\echo SQLSTATE :LAST_ERROR_SQLSTATE' | sed -n 's/^SQLSTATE //p'; }

make_demo_db gn_sb 300
export_dir_for gn_sb sb-primary-exports
Q postgres -c "ALTER DATABASE gn_sb SET gn_export.dsw_enabled = on"   # dsw() is off by default
Q gn_sb -c "SELECT gn_export.install_dsw_view()" > /dev/null            # the view dsw() serves
# a snapshot on the primary: temporary, it must not travel with the base backup
Q gn_sb -c "SELECT gn_export.api(1, '{\"limit\": 5}', 3)" > /dev/null
test -n "$(ls -A "$CLIENT_DIR/pgsql_tmp_gn_export_api")"

cluster_down "$STANDBY_DIR"; rm -rf "$STANDBY_DIR"
install -d -o postgres -g postgres -m 700 "$STANDBY_DIR"
as_postgres "$PG_BIN/pg_basebackup" -h "$PG_SOCKDIR" -p "$CLIENT_PORT" -U postgres -D "$STANDBY_DIR" -R -X stream -c fast
echo "port = $STANDBY_PORT" | as_postgres tee -a "$STANDBY_DIR/postgresql.conf" > /dev/null
as_postgres "$PG_BIN/pg_ctl" -D "$STANDBY_DIR" -l "$STANDBY_DIR/log" -w start > /dev/null
check "the standby is a hot standby, streaming from the primary" "t|streaming" \
  "$(S -c "SELECT pg_is_in_recovery()" -c "SELECT status FROM pg_stat_wal_receiver" | paste -sd'|')"
check "pg_basebackup left the primary's API snapshots out (pgsql_tmp prefix)" "" \
  "$(ls -A "$STANDBY_DIR/pgsql_tmp_gn_export_api" 2>/dev/null || true)"

# the standby writes its files to a directory of its own
SB_EXPORTS="$STATE_DIR/sb-standby-exports"
rm -rf "$SB_EXPORTS"; install -d -o postgres -g postgres "$SB_EXPORTS"
export PGOPTIONS="-c gn_export.export_dir=$SB_EXPORTS"

# reads: the standby answers what the primary answers
for q in "SELECT md5(string_agg(c, '' ORDER BY n)) FROM gn_export.run(1, 'csv', 3) WITH ORDINALITY AS r(c, n)" \
         "SELECT md5(string_agg(c, '' ORDER BY n)) FROM gn_export.run(2, 'json') WITH ORDINALITY AS r(c, n)" \
         "SELECT md5(gn_export.openapi(1)::text)" \
         "SELECT string_agg(e::text, ',') FROM gn_export.exports(3) e" \
         "SELECT gn_export.can_read(1, 3)::text || gn_export.can_read(1, 5)::text"; do
  check "on the standby as on the primary: ${q:0:70}" "$(Q gn_sb -c "$q")" "$(S -c "$q")"
done
copy_md5() { psql_at "$1" gn_sb -qAt -c "COPY (SELECT * FROM gn_exports.v_synthese_sinp ORDER BY id_synthese) TO STDOUT (FORMAT geojson)" | md5sum; }
check "COPY ... (FORMAT geojson) through the hook: the standby's bytes are the primary's" "$(copy_md5 "$CLIENT_PORT")" "$(copy_md5 "$STANDBY_PORT")"

# what makes that possible on the primary too: reads spend no transaction id (no commit
# record, no WAL flush for a page)
check "run(), run_bytes(), dsw(), the COPY hook, api() making a snapshot, openapi(), exports() and can_read() on the primary assign no transaction id" "t" \
  "$(Q gn_sb -c "BEGIN" -c "SELECT count(*) FROM gn_export.run(1, 'csv', 3)" -c "SELECT count(*) FROM gn_export.run_bytes(1, 'csv.gz', 3)" \
      -c "SELECT count(*) FROM gn_export.dsw('{\"limit\": 0}')" \
      -c "COPY (SELECT * FROM gn_exports.v_synthese_sinp) TO STDOUT (FORMAT geojson)" \
      -c "SELECT gn_export.api(1, '{\"limit\": 3, \"filter_n_up_altitude_min\": 1234, \"snapshot\": \"new\"}', 3) IS NOT NULL" \
      -c "SELECT gn_export.openapi(1) IS NOT NULL" -c "SELECT count(*) FROM gn_export.exports(3)" -c "SELECT gn_export.can_read(1, 3)" \
      -c "SELECT txid_current_if_assigned() IS NULL" -c "COMMIT" | tail -1)"
for q in "SELECT md5(string_agg(b, ''::bytea ORDER BY n)) FROM gn_export.run_bytes(1, 'csv.gz', 3) WITH ORDINALITY AS r(b, n)" \
         "SELECT md5(string_agg(c, '' ORDER BY n)) FROM gn_export.dsw('{\"limit\": 0}') WITH ORDINALITY AS r(c, n)"; do
  check "on the standby as on the primary: ${q:0:70}" "$(Q gn_sb -c "$q")" "$(S -c "$q")"
done

# the API on the standby: snapshots in its own data directory, pages by id
first=$(S -c "SELECT (r->'snapshot'->>'id') || '|' || (r->>'total_filtered') FROM gn_export.api(1, '{\"limit\": 50}', 3) r")
sid=${first%|*}; total=${first#*|}
ids=$(for p in $(seq 0 $(( (total + 49) / 50 - 1 ))); do
  S -c "SELECT string_agg(f->>'id', ',') FROM gn_export.api(1, '{\"limit\": 50, \"offset\": $p, \"snapshot\": \"$sid\"}', 3) r, json_array_elements(r->'items'->'features') f"
done | paste -sd,)
check "api() on the standby: every page of its snapshot, from new sessions, is the export in key order" \
  "$(Q gn_sb -c "SELECT string_agg(id_synthese::text, ',' ORDER BY id_synthese) FROM gn_exports.v_synthese_sinp")" "$ids"
check "the standby's snapshot is a file of the standby's data directory" yes \
  "$([ -f "$STANDBY_DIR/pgsql_tmp_gn_export_api/$sid" ] && [ ! -e "$CLIENT_DIR/pgsql_tmp_gn_export_api/$sid" ] && echo yes)"

# generate(): the file, without history, notification or NOTIFY
out=$(S -c "SELECT status || '|' || recorded || '|' || rows FROM gn_export.generate(1, 'csv', 3)" 2>&1)
check "generate() on the standby writes the file and says it recorded nothing" "done|false|300" "$(echo "$out" | grep -v NOTICE)"
check "with a NOTICE that names what is left out" 1 "$(echo "$out" | grep -c 'NOTICE:.*on a hot standby: its run history, the user.s notification and the gn_export channel')"
check "the file is on the standby's disk, whole: the bytes the primary's run() streams" \
  "$(Q gn_sb -c "SELECT md5(string_agg(c, '' ORDER BY n)) FROM gn_export.run(1, 'csv', 3) WITH ORDINALITY AS r(c, n)")" \
  "$(md5sum "$SB_EXPORTS"/usr_generated/*.csv | cut -d' ' -f1)"
check "the standby's server log keeps who wrote which file" 1 \
  "$(grep -c "LOG: .*on a hot standby: its run history.*usr_generated.*requested by postgres" "$STANDBY_DIR/log")"
for f in tsv json geojson geojsonseq gpkg parquet csv.gz; do
  check "generate(1, '$f') on the standby: done, not recorded" "done|false" \
    "$(S -c "SET client_min_messages = warning" -c "SELECT status || '|' || recorded FROM gn_export.generate(1, '$f')")"
done
check "a young file is kept (skip_newer_than) on the standby too" "skipped|false" \
  "$(S -c "SET client_min_messages = warning" -c "SELECT status || '|' || recorded FROM gn_export.generate(1, 'csv.gz', NULL, '1 hour')")"
check "GDAL reads the standby's GeoPackage: 300 features" 300 \
  "$(ogrinfo -so -al "$SB_EXPORTS/schedules/Synthese_SINP.gpkg" 2>/dev/null | sed -n 's/^Feature Count: //p')"

# writers refuse, saying where to run them
for f in "gn_export.run_scheduled()" "gn_export.clean_files()" "gn_export.rotate_token(1, 4)"; do
  check "$f on the standby: 25006" 25006 "$(standby_sqlstate "SELECT * FROM $f")"
done
check "the refusal says to run it on the primary" 1 \
  "$(SE -c "SELECT * FROM gn_export.run_scheduled()" | grep -c 'HINT:  Run it on the primary')"

# what a page costs on the standby (snapshots work the same; nothing falls back), timed in
# the server, next to the primary
page_ms() {
  psql_at "$1" gn_sb -qAt <<'SQL' | tail -1
SELECT gn_export.api(1, '{"limit": 100}', 3) IS NOT NULL AS warm \gset
SELECT clock_timestamp() AS t0 \gset
SELECT gn_export.api(1, '{"limit": 100, "offset": 1}', 3) IS NOT NULL AS page \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 1);
SQL
}
echo "   a warm page of 100 features: primary $(page_ms "$CLIENT_PORT") ms, standby $(page_ms "$STANDBY_PORT") ms"
finish
