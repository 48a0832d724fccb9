#!/usr/bin/env bash
# The partner API seen from outside: every demo export's gn_export.openapi() document passes a
# real OpenAPI validator (openapi-spec-validator from PyPI, installed by tests/setup.sh), and so
# does the document of a view whose column names collide with API parameters. Then the API's
# snapshots, as a harvester through GeoNature's connection pool meets them: every page from
# another session, rows inserted and deleted between pages, keys that repeat or are NULL, the
# space bound, expiry and clean_files(), and the files themselves (modes, planted links).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
VALIDATOR="${GN_EXPORT_VENV:-/opt/gn_export-test-venv}/bin/openapi-spec-validator"
[ -x "$VALIDATOR" ] || { echo "missing $VALIDATOR: run bash tests/setup.sh"; exit 1; }
client_cluster_up
make_demo_db gn_api 200
export_dir_for gn_api api-exports
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT

Q gn_api <<'SQL'
CREATE VIEW public.v_piege AS
SELECT s.id_synthese AS "limit", s.nom_cite AS token, s.count_min AS "ilike_x", s.the_geom_local AS geometry,
       s.date_min::date AS "jour d'observation", s.additional_data AS "données", ARRAY[s.cd_nom] AS codes
FROM gn_synthese.synthese s;
COMMENT ON COLUMN public.v_piege.token IS 'Nom "cité", avec des guillemets';
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('Piège à noms', 'public', 'v_piege', 'geometry', 2154, true, 2, 'limit');
SQL

for id in $(Q gn_api -c "SELECT id FROM gn_exports.t_exports ORDER BY id"); do
  label=$(Q gn_api -c "SELECT label FROM gn_exports.t_exports WHERE id = $id")
  Q gn_api -c "SELECT gn_export.openapi($id)" > "$tmp/openapi_$id.json"
  out=$("$VALIDATOR" "$tmp/openapi_$id.json" 2>&1) && rc=0 || rc=$?
  check "openapi($id) '$label' is a valid OpenAPI 3.0 document" 0 "$rc"
  [ "$rc" = 0 ] || echo "$out" | head -20
done
# the document describes what api() answers: every item key is a declared property
keys_ok=$(Q gn_api -c "SELECT bool_and(d->'components'->'schemas'->'Item'->'properties' ? k)
  FROM gn_export.openapi(1) d, gn_export.api(1, '{\"limit\": 5}', 3) r,
       json_array_elements(r->'items'->'features') f, json_object_keys(f->'properties') k")
check "api() items only carry properties the OpenAPI document declares" t "$keys_ok"
top_ok=$(Q gn_api -c "SELECT (SELECT array_agg(k ORDER BY k) FROM json_object_keys(gn_export.api(1, '{\"limit\": 1}', 3)) k)
  = (SELECT array_agg(k ORDER BY k) FROM jsonb_array_elements_text(gn_export.openapi(1)->'components'->'schemas'->'Page'->'required') k)")
check "api() answers exactly the members the OpenAPI document requires (snapshot included)" t "$top_ok"

# --- snapshots: every call below is a new session, as pages through a connection pool are ----
SNAPS="$CLIENT_DIR/pgsql_tmp_gn_export_api"
Q gn_api <<'SQL'
CREATE TABLE public.obs (id int PRIMARY KEY, v text);
INSERT INTO public.obs SELECT 2 * i, 'v' || i FROM generate_series(1, 100) i;
CREATE VIEW public.v_obs AS SELECT id, v FROM public.obs;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Obs', 'public', 'v_obs', true, 2, 'id');
SQL
OBS=$(Q gn_api -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Obs'")
# page P [extra params]: the ids of page P (limit 7) and the snapshot id, "ids|sid"
page() {
  Q gn_api -c "SELECT (SELECT coalesce(string_agg(i->>'id', ',' ORDER BY o), '') FROM json_array_elements(r->'items') WITH ORDINALITY AS e(i, o))
                      || '|' || coalesce(r->'snapshot'->>'id', '') FROM gn_export.api($OBS, '{\"limit\": 7, \"offset\": $1 ${2:-}}') r"
}
# GeoNature's own clients pass no snapshot id: their pages come from the newest snapshot of
# the query, so rows inserted between pages shift nothing either (GeoNature's OFFSET pages did)
first=$(page 0); ids=${first%|*}
for p in $(seq 1 15); do
  Q gn_api -c "INSERT INTO public.obs VALUES ($((2 * p * 7 - 3)), 'between')"
  r=$(page "$p"); [ -n "${r%|*}" ] && ids="$ids,${r%|*}"
done
check "a harvest without snapshot ids, rows inserted between its pages: the first page's rows, each once, in order" \
  "$(seq 2 2 200 | paste -sd,)" "$ids"
Q gn_api -c "DELETE FROM public.obs WHERE v = 'between'"

first=$(page 0 ', "snapshot": "new"'); SID=${first#*|}; ids=${first%|*}
# rows inserted between the pages (odd ids fall between the snapshot's) and one deleted
Q gn_api -c "INSERT INTO public.obs SELECT 2 * i + 1, 'new' FROM generate_series(0, 100) i"
for p in $(seq 1 15); do
  r=$(page "$p" ", \"snapshot\": \"$SID\"")
  [ "$p" = 5 ] && Q gn_api -c "DELETE FROM public.obs WHERE id = 200"
  [ -n "${r%|*}" ] && ids="$ids,${r%|*}"
done
want=$(seq 2 2 198 | paste -sd,)
check "a harvest pinned to its snapshot, one session per page, gets exactly the snapshot's rows in order: no inserted row, no duplicate, no gap (the row deleted meanwhile left out)" "$want" "$ids"
check "pages without an id, from other sessions, reuse the newest snapshot of the same query" "$SID" "$(page 3 | cut -d'|' -f2)"
new=$(Q gn_api -c "SELECT (r->>'total_filtered') || '|' || json_array_length(r->'items') || '|' || (r->'snapshot'->>'id' <> '$SID')
                    FROM gn_export.api($OBS, '{\"limit\": 1000, \"snapshot\": \"new\"}') r")
check "a new snapshot sees the rows inserted since (200 rows: 101 inserted, 1 deleted)" "200|200|true" "$new"

# a harvest without snapshot ids (GN2PG's) that lasts longer than api_snapshot_ttl stays on the
# snapshot it began on while it keeps paging; another harvest beginning meanwhile shares it
Q postgres -c "ALTER DATABASE gn_api SET gn_export.api_snapshot_ttl = 2"
long=', "orderby": "v:desc"'
s0=$(page 0 "$long" | cut -d'|' -f2); sleep 1.2
s1=$(page 1 "$long" | cut -d'|' -f2); sleep 1.2
s2=$(page 2 "$long" | cut -d'|' -f2); sleep 1.2
s3=$(page 3 "$long" | cut -d'|' -f2)
check "a harvest without ids, 3.6 s long with api_snapshot_ttl = 2 s, stays on one snapshot" "$s0 $s0 $s0" "$s1 $s2 $s3"
check "a harvest beginning meanwhile (offset 0) shares the snapshot another harvest is paging" "$s0" \
  "$(page 0 "$long" | cut -d'|' -f2)"
sleep 2.5
check "once nobody paged it for api_snapshot_ttl, a harvest's next page makes a new snapshot" "true" \
  "$([ "$(page 4 "$long" | cut -d'|' -f2)" != "$s0" ] && echo true || echo false)"
Q postgres -c "ALTER DATABASE gn_api RESET gn_export.api_snapshot_ttl"

# keys that repeat and keys that are NULL (GeoNature filled view_pk_column with the view's first
# column): pages partition the rows, for the key's own order and for another order
Q gn_api <<'SQL'
CREATE TABLE public.dup (k int, v text, n int);
INSERT INTO public.dup VALUES (1, 'a', 5), (1, 'b', 4), (NULL, 'c', 3), (NULL, 'd', 3), (2, 'e', 2), (1, 'a', 5),
  (3, 'f', 1), (NULL, 'c', 3), (2, 'g', 9), (4, NULL, NULL);
CREATE VIEW public.v_dup AS SELECT k, v, n FROM public.dup;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Dup', 'public', 'v_dup', true, 2, 'k');
SQL
DUP=$(Q gn_api -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Dup'")
for order in '' ', "orderby": "n:DESC"' ', "orderby": "v"'; do
  rows=$(Q gn_api -c "SELECT string_agg(x, ' ' ORDER BY x) FROM (
      SELECT format('%s:%s:%s', i->>'k', i->>'v', i->>'n') AS x
      FROM generate_series(0, 12) p, gn_export.api($DUP, jsonb_build_object('limit', 2, 'offset', p) || '{\"x\": 0 $order}'::jsonb - 'x') r,
           json_array_elements(r->'items') i) s")
  label=${order#, }
  check "repeated and NULL keys: pages of 2 serve every row once (${label:-ordered by the key})" \
    "$(Q gn_api -c "SELECT string_agg(x, ' ' ORDER BY x) FROM (SELECT format('%s:%s:%s', k, v, n) AS x FROM public.dup) s")" "$rows"
done

# keys equal for their type but not as text (1.0 and 1.00), and dates paged by sessions that
# print dates differently: every row once
Q gn_api <<'SQL'
CREATE TABLE public.num (k numeric, d date, v text);
INSERT INTO public.num VALUES (1.0, '2024-01-02', 'a'), (1.00, '2024-02-01', 'b'), (2, '2024-03-04', 'c'), (2.50, '2025-12-31', 'd');
CREATE VIEW public.v_num AS SELECT k, d, v FROM public.num;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Num', 'public', 'v_num', true, 2, 'k'), ('Dates', 'public', 'v_num', true, 2, 'd');
SQL
NUM=$(Q gn_api -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Num'")
DATES=$(Q gn_api -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Dates'")
check "numeric keys equal but written differently (1.0, 1.00): pages of 1 serve each row once" "a b c d" \
  "$(Q gn_api -c "SELECT string_agg(i->>'v', ' ' ORDER BY i->>'v') FROM generate_series(0, 5) p,
      gn_export.api($NUM, jsonb_build_object('limit', 1, 'offset', p)) r, json_array_elements(r->'items') i")"
sid=$(Q gn_api -c "SET DateStyle = 'SQL, DMY'" -c "SELECT r->'snapshot'->>'id' FROM gn_export.api($DATES, '{\"limit\": 1, \"snapshot\": \"new\"}') r" | tail -1)
got=$(for p in 0 1 2 3; do
  Q gn_api -c "SET DateStyle = 'SQL, MDY'" -c "SELECT i->>'v' FROM gn_export.api($DATES, '{\"limit\": 1, \"offset\": $p, \"snapshot\": \"$sid\"}') r, json_array_elements(r->'items') i" | tail -1
done | paste -sd' ')
check "date keys written by a session in SQL, DMY style and read by one in SQL, MDY style: every row, in order" "a b c d" "$got"

check "a filter that keeps one row of a repeated key serves that row alone (total_filtered 1)" "1|2:e" \
  "$(Q gn_api -c "SELECT (r->>'total_filtered') || '|' || string_agg(format('%s:%s', i->>'k', i->>'v'), ' ')
      FROM gn_export.api($DUP, '{\"v\": \"e\"}') r, json_array_elements(r->'items') i GROUP BY r->>'total_filtered'")"

# timestamptz keys that repeat: a session in another time zone writes them otherwise, so it
# pages its own snapshot (an id made in UTC is another query in Paris), and every row once
Q gn_api <<'SQL'
CREATE TABLE public.tz (at timestamptz, v text);
INSERT INTO public.tz VALUES ('2024-06-01 10:00+00', 'a'), ('2024-06-01 10:00+00', 'b'), ('2024-06-01 12:00+02', 'c'), ('2024-12-01 00:30+00', 'd');
CREATE VIEW public.v_tz AS SELECT at, v FROM public.tz;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Tz', 'public', 'v_tz', true, 2, 'at');
SQL
TZX=$(Q gn_api -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Tz'")
sid=$(Q gn_api -c "SET TimeZone = 'UTC'" -c "SELECT r->'snapshot'->>'id' FROM gn_export.api($TZX, '{\"limit\": 1}') r" | tail -1)
check "a snapshot made in UTC is another query for a session in Europe/Paris (22023)" 22023 \
  "$(QE gn_api -c "SET TimeZone = 'Europe/Paris'" -c "SELECT gn_export.api($TZX, '{\"snapshot\": \"$sid\"}')" -c '\echo SQLSTATE :LAST_ERROR_SQLSTATE' | sed -n 's/^SQLSTATE //p')"
check "repeated timestamptz keys paged in Europe/Paris: every row once" "a b c d" \
  "$(Q gn_api -c "SET TimeZone = 'Europe/Paris'" -c "SELECT string_agg(i->>'v', ' ' ORDER BY i->>'v') FROM generate_series(0, 5) p,
      gn_export.api($TZX, jsonb_build_object('limit', 1, 'offset', p)) r, json_array_elements(r->'items') i" | tail -1)"

# the space bound: the least recently used snapshots go; keys beyond it alone are refused
Q gn_api -c "INSERT INTO public.obs SELECT i, 'bulk' FROM generate_series(1000, 30999) i"
bound=$(Q gn_api <<'SQL'
SET gn_export.api_snapshot_space = '256kB';
SELECT string_agg(r->'snapshot'->>'id', ' ' ORDER BY p) FROM generate_series(1, 8) p,
  gn_export.api((SELECT id FROM gn_exports.t_exports WHERE label = 'Obs'), jsonb_build_object('limit', 1, 'filter_n_up_id', p)) r;
SQL
)
oldest=${bound%% *}; newest=${bound##* }
check "beyond api_snapshot_space the oldest snapshot is gone (22023 names it expired)" 22023 \
  "$(sqlstate_in gn_api "SELECT gn_export.api($OBS, '{\"limit\": 1, \"filter_n_up_id\": 1, \"snapshot\": \"$oldest\"}')")"
check "the newest is still served" "$newest" \
  "$(Q gn_api -c "SELECT r->'snapshot'->>'id' FROM gn_export.api($OBS, '{\"limit\": 1, \"filter_n_up_id\": 8, \"snapshot\": \"$newest\"}') r")"
used=$(du -sb --apparent-size "$SNAPS" | cut -f1)
check "the snapshot directory holds at most 256 kB once a snapshot is made (holds $used bytes)" ok \
  "$([ "$used" -le $((256 * 1024 + 4096)) ] && echo ok || echo "$used bytes")"
check "keys that alone exceed api_snapshot_space are refused (54000)" 54000 \
  "$(QE gn_api -c "SET gn_export.api_snapshot_space = '64kB'" -c "SELECT gn_export.api($OBS, '{\"snapshot\": \"new\"}')" -c '\echo SQLSTATE :LAST_ERROR_SQLSTATE' | sed -n 's/^SQLSTATE //p')"
check "no temporary file is left behind by the refused snapshot" "" "$(ls -A "$SNAPS" | grep '\.tmp$' || true)"

# files: the server's alone, and never read through a link planted under a snapshot's name
Q gn_api -c "SELECT gn_export.api($OBS, '{\"limit\": 1}') IS NOT NULL" > /dev/null
check "the snapshot directory is 0700 and its files 0600, owned by the server" "700 postgres|600 postgres" \
  "$(stat -c '%a %U' "$SNAPS")|$(find "$SNAPS" -type f -printf '%m %u\n' | sort -u | paste -sd' ')"
echo '{"secret": 1}' > /tmp/gn_export_planted; chown postgres /tmp/gn_export_planted
ln -s /tmp/gn_export_planted "$SNAPS/0123456789abcdef0123456789abcdef"
check "a link planted under a snapshot's name is not followed (22023)" 22023 \
  "$(sqlstate_in gn_api "SELECT gn_export.api($OBS, '{\"snapshot\": \"0123456789abcdef0123456789abcdef\"}')")"
rm -f "$SNAPS/0123456789abcdef0123456789abcdef" /tmp/gn_export_planted

# a redefined view: its snapshots hold another query
sid=$(page 0 | cut -d'|' -f2)
Q gn_api -c "CREATE OR REPLACE VIEW public.v_obs AS SELECT id, v FROM public.obs WHERE id % 2 = 0"
check "after CREATE OR REPLACE VIEW, a snapshot of the old view is refused (22023)" 22023 \
  "$(sqlstate_in gn_api "SELECT gn_export.api($OBS, '{\"limit\": 7, \"offset\": 1, \"snapshot\": \"$sid\"}')")"
check "and a page without an id makes one of the new view" "$(page 0 | cut -d'|' -f1)" "2,4,6,8,10,12,14"

# expiry, and clean_files() removes what has expired
removed=$(Q gn_api -c "SET gn_export.api_snapshot_ttl = 1" -c "SELECT pg_sleep(1.5)" \
  -c "SELECT count(*) FILTER (WHERE reason LIKE 'API snapshot unused%') > 0, count(*) FILTER (WHERE path NOT LIKE '$SNAPS/%' AND reason LIKE 'API%') FROM gn_export.clean_files()" | tail -1)
check "clean_files() removes the snapshots unused for api_snapshot_ttl, and only from their directory" "t|0" "$removed"
check "nothing but pointers younger than the ttl is left" "" "$(find "$SNAPS" -type f ! -name '*.latest' -printf '%f ')"
# a snapshot made before the server restarted is never served (a crash may have torn it)
sid=$(page 0 ', "snapshot": "new"' | cut -d'|' -f2)
server pg_ctl -D "$CLIENT_DIR" restart -w -m fast > /dev/null
check "after a restart, a snapshot made before is refused (22023)" 22023 \
  "$(sqlstate_in gn_api "SELECT gn_export.api($OBS, '{\"limit\": 7, \"snapshot\": \"$sid\"}')")"
check "and clean_files() removes it" 1 \
  "$(Q gn_api -c "SELECT count(*) FROM gn_export.clean_files() WHERE path LIKE '%/$sid' AND reason LIKE '%before the server started'")"
finish
