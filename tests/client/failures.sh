#!/usr/bin/env bash
# Failures never leave a partial file: a statement_timeout, a pg_cancel_backend() from another
# session, a view that raises mid-way and a full disk all leave no file and no temporary file,
# and the previous file byte-identical. Cancels abort the statement; the export's own errors
# (its view, the disk) are generate()'s outcome: status 'failed' with the SQLSTATE and message.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
client_cluster_up
make_demo_db gn_fail 10
FULL="$STATE_DIR/failure-full"
tmp=$(mktemp -d)
cleanup() {
  umount "$FULL" 2>/dev/null || true
  rm -rf "$tmp"
  cluster_down "$CLIENT_DIR"
}
trap cleanup EXIT
export_dir_for gn_fail failure-exports
Q gn_fail <<'SQL'
CREATE TABLE public.ctl (n int, boom int, sleep_every int);
INSERT INTO public.ctl VALUES (100, 0, 0);
CREATE FUNCTION public.slow(i int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE c public.ctl;
BEGIN
    SELECT * INTO c FROM public.ctl;
    IF c.sleep_every > 0 AND i % c.sleep_every = 0 THEN PERFORM pg_sleep(0.05); END IF;
    IF i = c.boom THEN RAISE EXCEPTION 'boom at row %', i; END IF;
    RETURN i;
END $$;
CREATE VIEW public.v_fail AS
SELECT public.slow(i) AS id, 'ligne ' || i || ' ; "quoted", é' AS txt
FROM generate_series(1, (SELECT n FROM public.ctl)) i;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Panne', 'public', 'v_fail', true, 1, 'id');
SQL
ID=$(Q gn_fail -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Panne'")
FILE="$EXPORTS/schedules/Panne.csv"
ctl() { Q gn_fail -c "UPDATE public.ctl SET $1"; }
leftovers() { find "$1" -name '.*' -type f | wc -l; }

Q gn_fail -c "SELECT status FROM gn_export.generate($ID)" >/dev/null
before=$(md5sum < "$FILE")
check "a first file exists with 100 records" 101 "$(wc -l < "$FILE")"

# statement_timeout in the middle of a generation
ctl "n = 200000, sleep_every = 1000"
err=$(Q gn_fail -c "SET statement_timeout = '1500ms'" -c "SELECT status FROM gn_export.generate($ID)" 2>&1 || true)
check "statement_timeout cancels generate()" 1 "$(echo "$err" | grep -c 'canceling statement due to statement timeout')"
check "after the timeout: previous file byte-identical" "$before" "$(md5sum < "$FILE")"
check "after the timeout: no temporary file" 0 "$(leftovers "$EXPORTS")"

# pg_cancel_backend() from another session
psql_at "$CLIENT_PORT" gn_fail -qAt -c "SET application_name = 'gn_cancel_me'" -c "SELECT status FROM gn_export.generate($ID)" \
  > "$tmp/cancel.out" 2>&1 &
bg=$!
for _ in $(seq 1 50); do
  active=$(Q postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gn_cancel_me' AND state = 'active'")
  [ "$active" = 1 ] && break
  sleep 0.1
done
sleep 1
# the temporary file is there while rows flow
check "while generating, a hidden temporary file exists" 1 "$(leftovers "$EXPORTS")"
Q postgres -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'gn_cancel_me'" >/dev/null
rc=0; wait $bg || rc=$?
check "pg_cancel_backend() stops generate() (psql exits non-zero)" 1 "$([ $rc -ne 0 ] && echo 1 || echo 0)"
check "the cancel is reported as such" 1 "$(grep -c 'canceling statement due to user request' "$tmp/cancel.out")"
check "after the cancel: previous file byte-identical" "$before" "$(md5sum < "$FILE")"
check "after the cancel: no temporary file" 0 "$(leftovers "$EXPORTS")"

# a view that raises an error mid-way (after two batches were written)
ctl "n = 5000, sleep_every = 0, boom = 2500"
out=$(Q gn_fail -c "SELECT status || ' ' || sqlstate || ' ' || error FROM gn_export.generate($ID)" 2>&1 || true)
check "the view's own error is the generation's outcome (status failed, its SQLSTATE and message)" \
  "failed P0001 boom at row 2500" "$out"
check "after the view's error: previous file byte-identical" "$before" "$(md5sum < "$FILE")"
check "after the view's error: no temporary file" 0 "$(leftovers "$EXPORTS")"

# the same through the COPY hook to a server file, and to the client
err=$(Q gn_fail -c "COPY (SELECT * FROM public.v_fail) TO '$EXPORTS/copy.json' WITH (FORMAT 'json')" 2>&1 || true)
check "COPY TO a file: the error is reported" 1 "$(echo "$err" | grep -c 'boom at row 2500')"
check "COPY TO a file: no file and no temporary file" "0 0" "$([ -e "$EXPORTS/copy.json" ] && echo 1 || echo 0) $(leftovers "$EXPORTS")"
rc=0
psql_at "$CLIENT_PORT" gn_fail -c "COPY (SELECT gn_export.run($ID)) TO STDOUT WITH (FORMAT raw)" > "$tmp/partial.csv" 2>/dev/null || rc=$?
check "COPY TO STDOUT: psql exits 1 when the export fails mid-way (callers must check it)" 1 "$rc"

# a full disk: a 1 MiB tmpfs as export_dir
ctl "n = 200000, boom = 0"
mkdir -p "$FULL"
if mount -t tmpfs -o size=1m,mode=0755 tmpfs "$FULL" 2>/dev/null; then
  chown postgres:postgres "$FULL"
  ctl "n = 100"
  Q gn_fail -c "SET gn_export.export_dir = '$FULL'" -c "SELECT status FROM gn_export.generate($ID)" >/dev/null
  small=$(md5sum < "$FULL/schedules/Panne.csv")
  ctl "n = 200000"
  out=$(Q gn_fail -c "SET gn_export.export_dir = '$FULL'" -c "SELECT status || ' ' || sqlstate || ' ' || error FROM gn_export.generate($ID)" 2>&1 || true)
  check "a full disk is a clear failure (53100 disk_full)" 1 "$(echo "$out" | grep -c '^failed 53100 gn_export: cannot write .*No space left on device')"
  check "after the full disk: previous file byte-identical" "$small" "$(md5sum < "$FULL/schedules/Panne.csv")"
  check "after the full disk: no temporary file" 0 "$(leftovers "$FULL")"
  umount "$FULL"
else
  echo "skipped: cannot mount a tmpfs here (the full-disk case needs root and mount rights)"
fi

finish
