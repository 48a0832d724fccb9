#!/usr/bin/env bash
# A caller lends its rights to no one and reaches nothing it should not, tried as an attacker
# would:
#  1. a catalog writer's code never runs with the rights of whoever runs the export (the
#     superuser's pg_cron job included), and definitions cannot point at system catalogs or at
#     relations their writer cannot read;
#  2. objects planted in the caller's search_path (a function, an operator, a relation) never run;
#  3. files: no symlink is followed, temporary names cannot be guessed;
#  4. a file is found again only by its exact name, two exports never share a file, and names
#     fit the file system;
#  5. read-only parse trees, text read by length, a bounded per-role count cache, JSON numbers
#     beyond f64, and the EXECUTE privilege on run() in the COPY fast path;
#  6. the EXECUTE grant on generate(), run_scheduled() and clean_files() is the privilege.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ -x "$PY" ] || { echo "missing $PY: run bash tests/setup.sh"; exit 1; }
client_cluster_up
make_demo_db gn_trust 100
export_dir_for gn_trust trust-exports
tmp=$(mktemp -d); chmod 755 "$tmp"
# a file of the server's user, where the server sees it at the same path (PostgreSQL 17 and 18
# run in a root that is lent STATE_DIR: tests/server.sh)
install -d -o postgres -g postgres -m 700 "$STATE_DIR/trust-victim"
VICTIM="$STATE_DIR/trust-victim/gn_export_victim.txt"
cleanup() { rm -rf "$tmp"; rm -f "$VICTIM" "$VICTIM.2"; cluster_down "$CLIENT_DIR"; }
trap cleanup EXIT
# psql with errors allowed, to read :LAST_ERROR_SQLSTATE
sqlstate() { sqlstate_in gn_trust "$1"; }

Q gn_trust <<'SQL'
-- GeoNature's application role owns the catalog; it is not a superuser
CREATE ROLE geonatadmin LOGIN;
ALTER SCHEMA gn_exports OWNER TO geonatadmin;
ALTER TABLE gn_exports.t_licences OWNER TO geonatadmin;
ALTER TABLE gn_exports.t_exports OWNER TO geonatadmin;
ALTER TABLE gn_exports.cor_exports_roles OWNER TO geonatadmin;
ALTER TABLE gn_exports.t_export_schedules OWNER TO geonatadmin;
GRANT SELECT ON ALL TABLES IN SCHEMA gn_exports, gn_meta, gn_synthese, taxonomie, ref_nomenclatures,
      ref_habitats, utilisateurs TO geonatadmin;
GRANT USAGE ON SCHEMA gn_meta, gn_synthese, taxonomie, ref_nomenclatures, ref_habitats, utilisateurs,
      gn_permissions, gn_commons TO geonatadmin;
CREATE SCHEMA app AUTHORIZATION geonatadmin;
-- what planted code leaves behind
CREATE TABLE public.pwned (who name, what text);
GRANT INSERT ON public.pwned TO PUBLIC;
-- a table nobody but the superuser may read
CREATE TABLE public.secret (id int, code text);
INSERT INTO public.secret VALUES (1, 'launch code');
-- a low-privileged role that can create objects in public (as in PostgreSQL < 15 databases)
CREATE ROLE mallory LOGIN;
GRANT CREATE ON SCHEMA public TO mallory;
SQL

echo "## 1. catalog writers never borrow the caller's identity"
Q gn_trust <<'SQL'
SET ROLE geonatadmin;
CREATE FUNCTION app.escalate() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.pwned VALUES (current_user, 'view function');
    BEGIN
        EXECUTE 'ALTER ROLE geonatadmin SUPERUSER';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    RETURN 1;
END $$;
CREATE VIEW app.v_escalate AS SELECT app.escalate() AS id, 'x'::text AS txt;
-- the catalog owner may also put triggers on its own tables, which gn_export writes to
CREATE FUNCTION app.tg_spy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.pwned VALUES (current_user, 'catalog trigger');
    RETURN NEW;
END $$;
CREATE TRIGGER spy BEFORE UPDATE ON gn_exports.t_export_schedules FOR EACH ROW EXECUTE FUNCTION app.tg_spy();
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Escalade', 'app', 'v_escalate', true, 1, 'id');
INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format)
SELECT id, 1, 'csv' FROM gn_exports.t_exports WHERE label = 'Escalade';
RESET ROLE;
SQL
ESC=$(Q gn_trust -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Escalade'")
Q gn_trust -c "SELECT status FROM gn_export.run_scheduled() WHERE id_export = $ESC" > /dev/null
# the procedure pg_cron calls, on the same schedule made due again
rm -f "$EXPORTS/schedules/Escalade.csv"
Q gn_trust -c "CALL gn_export.run_schedules()" > /dev/null
Q gn_trust -c "SELECT status FROM gn_export.generate($ESC, 'json')" > /dev/null
psql_at "$CLIENT_PORT" gn_trust -c "COPY (SELECT gn_export.run($ESC)) TO STDOUT WITH (FORMAT raw)" > /dev/null
Q gn_trust -c "SELECT gn_export.run($ESC, 'json')" > /dev/null
Q gn_trust -c "SELECT gn_export.api($ESC)" > /dev/null
check "the pg_cron-style superuser run left geonatadmin a plain role" f \
  "$(Q gn_trust -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'geonatadmin'")"
check "run_scheduled, run_schedules, generate, COPY run(), run() and api() ran the view's function as the view's owner only" \
  "geonatadmin" "$(Q gn_trust -c "SELECT string_agg(DISTINCT who::text, ',') FROM public.pwned WHERE what = 'view function'")"
check "... and each of the six paths did run it" t \
  "$(Q gn_trust -c "SELECT count(*) >= 6 FROM public.pwned WHERE what = 'view function'")"
check "a trigger on GeoNature's schedule table runs as that table's owner, not as the scheduler" \
  "geonatadmin" "$(Q gn_trust -c "SELECT string_agg(DISTINCT who::text, ',') FROM public.pwned WHERE what = 'catalog trigger'")"

for rel in pg_catalog.pg_authid:oid information_schema.tables:table_name pg_toast.pg_toast_2619:chunk_id \
           public.secret:id public.secret:no_such_column; do
  check "a definition on ${rel%%:*} (key ${rel#*:}) is refused (42501), its columns not probed" 42501 "$(sqlstate "SET ROLE geonatadmin;
    INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
    VALUES ('Vol', split_part('${rel%%:*}', '.', 1), split_part('${rel%%:*}', '.', 2), true, 1, '${rel#*:}')")"
done
# rows written before the extension (an adopted catalog) are refused when they run
Q gn_trust <<'SQL'
ALTER TABLE gn_exports.t_exports DISABLE TRIGGER gn_export_check_definition;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Mots de passe', 'pg_catalog', 'pg_authid', true, 1, 'oid'),
       ('Secret', 'public', 'secret', true, 1, 'id');
ALTER TABLE gn_exports.t_exports ENABLE TRIGGER gn_export_check_definition;
INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format)
SELECT id, 1, 'csv' FROM gn_exports.t_exports WHERE label IN ('Mots de passe', 'Secret');
SQL
check "an old row on pg_authid fails when scheduled, and so does one on a table its writer cannot read" \
  "failed|failed" "$(Q gn_trust -c "SELECT string_agg(status, '|') FROM gn_export.run_scheduled() r
     JOIN gn_exports.t_exports e ON e.id = r.id_export WHERE e.label IN ('Mots de passe', 'Secret')")"
check "... and generate() says 42501 for both" "42501|42501" "$(Q gn_trust -c "SELECT string_agg(g.sqlstate, '|')
     FROM gn_exports.t_exports e, gn_export.generate(e.id) g WHERE e.label IN ('Mots de passe', 'Secret')")"
check "no file holds their rows" "0" "$(grep -rlE 'launch code|SCRAM-SHA|rolpassword' "$EXPORTS" | wc -l)"

echo "## 2. nothing planted in the caller's search_path runs"
Q gn_trust <<'SQL'
CREATE SCHEMA postgres AUTHORIZATION mallory;
SET ROLE mallory;
CREATE FUNCTION public.format(text, name, name) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.pwned VALUES (current_user, 'function');
    RETURN pg_catalog.format($1, $2, $3);
END $$;
CREATE FUNCTION public.spy_eq(varchar, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.pwned VALUES (current_user, 'operator');
    RETURN $1::text OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = text, FUNCTION = public.spy_eq);
CREATE VIEW postgres.spatial_ref_sys AS
SELECT srid, 'EVIL'::varchar(256) AS auth_name, auth_srid, 'EVIL'::varchar(2048) AS srtext, proj4text
FROM public.spatial_ref_sys;
RESET ROLE;
SQL
psql_at "$CLIENT_PORT" gn_trust -c "COPY (SELECT 1 AS id, ST_MakePoint(1, 2) AS g) TO STDOUT WITH (FORMAT geojson)" > /dev/null
psql_at "$CLIENT_PORT" gn_trust -c "COPY (SELECT gn_export.run(1, 'geojson', 3)) TO STDOUT WITH (FORMAT raw)" > /dev/null
Q gn_trust -c "SELECT status FROM gn_export.generate(1, 'geojson')" \
  -c "SELECT status FROM gn_export.generate(3, 'gpkg')" \
  -c "SELECT count(*) FROM gn_export.exports(4)" -c "SELECT gn_export.scope(4)" \
  -c "SELECT gn_export.can_read(1, 4)" -c "SELECT gn_export.api(1, '{\"limit\": 2}', 3)" \
  -c "SELECT count(*) FROM gn_export.run(1, 'csv', 3)" > /dev/null
check "no planted function, operator or relation ran (COPY hook, generate, exports, scope, can_read, api, run)" \
  "0" "$(Q gn_trust -c "SELECT count(*) FROM public.pwned WHERE what IN ('function', 'operator')")"
gpkg="$EXPORTS/schedules/Synthese_Lambert-93.gpkg"
check "the GeoPackage's SRS comes from PostGIS's spatial_ref_sys, not the caller's schema" "EPSG" \
  "$("$PY" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT organization FROM gpkg_spatial_ref_sys WHERE srs_id = 2154\").fetchone()[0])" "$gpkg")"
Q gn_trust -c "DROP OPERATOR public.= (varchar, text)" -c "DROP FUNCTION public.format(text, name, name)" \
  -c "DROP SCHEMA postgres CASCADE"

echo "## 3. files: no symlink followed, no guessable name"
runuser -u postgres -- sh -c "echo precious > '$VICTIM'; chmod 600 '$VICTIM'; echo precious > '$VICTIM.2'"
Q gn_trust -c "SELECT status FROM gn_export.generate(2)" > /dev/null
# the web server's user plants a link where the old code put its temporary file
psql_at "$CLIENT_PORT" gn_trust -qAt <<SQL > /dev/null
SELECT pg_backend_pid() AS pid \gset
\setenv BPID :pid
\! ln -s '$VICTIM' "$EXPORTS/schedules/.Jeux_de_donnees.csv.\$BPID.tmp"
SELECT status FROM gn_export.generate(2);
SQL
check "a link planted under a predictable temporary name is not written through" "precious 600" \
  "$(head -c 20 "$VICTIM" | head -1) $(stat -c %a "$VICTIM")"
ln -sf "$VICTIM.2" "$EXPORTS/schedules/Jeux_de_donnees.json"
Q gn_trust -c "SELECT status FROM gn_export.generate(2, 'json')" > /dev/null
check "a link at the final name is replaced, never written through" "precious regular file" \
  "$(head -c 20 "$VICTIM.2" | head -1) $(stat -c %F "$EXPORTS/schedules/Jeux_de_donnees.json")"
install -d -o postgres -g postgres "$tmp/elsewhere"
touch -d '100 days ago' "$tmp/elsewhere/2020_01_01_00h00m00_Jeux_de_donnees.csv"
rm -rf "$EXPORTS/usr_generated"; ln -s "$tmp/elsewhere" "$EXPORTS/usr_generated"
err=$(QE gn_trust -c "SELECT status FROM gn_export.generate(2, 'csv', 3)")
check "a symlinked usr_generated is refused with a clear error" 1 "$(echo "$err" | grep -c 'usr_generated.*symbolic link')"
QE gn_trust -c "SELECT count(*) FROM gn_export.clean_files(1)" > /dev/null
check "nothing was written or deleted through it (generate, clean_files)" "2020_01_01_00h00m00_Jeux_de_donnees.csv" \
  "$(ls "$tmp/elsewhere")"
rm "$EXPORTS/usr_generated"
check "temporary files are never left behind" 0 "$(find "$EXPORTS" -name '.*' -type f | wc -l)"

echo "## 4. a file is found again only by its exact name"
Q gn_trust <<'SQL'
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('SINP', 'gn_exports', 'v_jeux_de_donnees', true, 1, 'id_dataset'),
       ('Suivi SINP', 'gn_exports', 'v_jeux_de_donnees', false, 1, 'id_dataset'),
       ('Flore été', 'gn_exports', 'v_jeux_de_donnees', true, 1, 'id_dataset'),
       (repeat('Très long libellé ', 20), 'gn_exports', 'v_jeux_de_donnees', true, 1, 'id_dataset');
SQL
SINP=$(Q gn_trust -c "SELECT id FROM gn_exports.t_exports WHERE label = 'SINP'")
SUIVI=$(Q gn_trust -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Suivi SINP'")
Q gn_trust -c "SELECT status FROM gn_export.generate($SUIVI, 'csv', 3)" > /dev/null
got=$(Q gn_trust -c "SELECT status || ' ' || path FROM gn_export.generate($SINP, 'csv', 6, '1 day')")
check "a user without permission gets the public export's own file, never another export's" "done 0" \
  "$(echo "$got" | cut -d' ' -f1) $(echo "$got" | grep -c Suivi)"
check "labels that differ by accents only are refused (23505)" 23505 "$(sqlstate "INSERT INTO gn_exports.t_exports
  (label, schema_name, view_name, public, id_licence, view_pk_column) VALUES ('Flore ete', 'gn_exports', 'v_jeux_de_donnees', true, 1, 'id_dataset')")"
check "... and so is a rename onto another export's file name" 23505 \
  "$(sqlstate "UPDATE gn_exports.t_exports SET label = 'Flore, été!' WHERE id = $SINP")"
Q gn_trust <<'SQL'
ALTER TABLE gn_exports.t_exports DISABLE TRIGGER USER;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Flore, ete', 'gn_exports', 'v_jeux_de_donnees', true, 1, 'id_dataset');
ALTER TABLE gn_exports.t_exports ENABLE TRIGGER USER;
SQL
check "two old rows with colliding labels get two files, the older keeping GeoNature's name" \
  "Flore_ete.csv Flore_ete_$(Q gn_trust -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Flore, ete'").csv" \
  "$(Q gn_trust -c "SELECT string_agg(regexp_replace(g.path, '.*/', ''), ' ' ORDER BY e.id)
      FROM gn_exports.t_exports e, gn_export.generate(e.id) g WHERE e.label LIKE 'Flore%'")"
long=$(Q gn_trust -c "SELECT status || ' ' || coalesce(error, path) FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label LIKE 'Très long%'), 'json', 3)")
check "a 360-character label gives a file whose name fits the file system" "done ok" \
  "$(echo "$long" | cut -d' ' -f1) $([ "$(basename "$(echo "$long" | cut -d' ' -f2-)" | wc -c)" -le 256 ] && echo ok)"

echo "## 5. parse trees, text, caches, JSON, privileges"
COPYQ="COPY (WITH c AS (SELECT 1 AS a) SELECT a, (SELECT 2) AS b FROM c) TO STDOUT (FORMAT 'json')"
want=$(psql_at "$CLIENT_PORT" gn_trust -c "$COPYQ" | md5sum | cut -d' ' -f1)
got=$("$PY" "$(dirname "$0")/prepared_copy.py" "host=$PG_SOCKDIR port=$CLIENT_PORT dbname=gn_trust user=postgres" 5 "$COPYQ" | sort | uniq -c | awk '{print $1, $2}')
check "a COPY hook statement run 5 times as a named prepared statement gives 5 identical results" "5 $want" "$got"
out=$(QE gn_trust <<SQL
DO \$\$ BEGIN
  FOR i IN 1..5 LOOP
    COPY (WITH c AS (SELECT 1 AS a) SELECT a, (SELECT 2) AS b FROM c) TO '$EXPORTS/plpgsql.json' (FORMAT 'json');
  END LOOP;
END \$\$;
SQL
)
check "... and 5 times as static SQL in a PL/pgSQL loop" "|$want" "$out|$(md5sum < "$EXPORTS/plpgsql.json" | cut -d' ' -f1)"

# text is read from values by their length (a SQL_ASCII database once made it read past them);
# such databases are now refused outright: gn_export reads and writes UTF-8 only
Q postgres -c "CREATE DATABASE gn_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
check "a SQL_ASCII database is refused at CREATE EXTENSION (0A000)" 0A000 \
  "$(QE gn_ascii -c "CREATE EXTENSION gn_export CASCADE" -c '\echo SQLSTATE :LAST_ERROR_SQLSTATE' | sed -n 's/^SQLSTATE //p')"

rss() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status"; }
psql_at "$CLIENT_PORT" gn_trust -qAt <<'SQL' > /dev/null
SELECT pg_backend_pid() AS pid \gset
\setenv BPID :pid
SELECT count(*) FROM generate_series(1, 20) i, gn_export.api(1, jsonb_build_object('ilike_nom_cite', i || repeat('x', 65536)), 3);
\! awk '/^RssAnon:/ {print $2}' /proc/$BPID/status > /tmp/gn_export_rss_before
SELECT count(*) FROM generate_series(21, 420) i, gn_export.api(1, jsonb_build_object('ilike_nom_cite', i || repeat('x', 65536)), 3);
\! awk '/^RssAnon:/ {print $2}' /proc/$BPID/status > /tmp/gn_export_rss_after
SQL
growth=$(( $(cat /tmp/gn_export_rss_after) - $(cat /tmp/gn_export_rss_before) ))
rm -f /tmp/gn_export_rss_before /tmp/gn_export_rss_after
check "400 API calls with distinct 64 KiB filters leave the backend's memory flat (< 8 MB; grew ${growth} kB)" ok \
  "$([ "$growth" -lt 8192 ] && echo ok || echo "grew $growth kB")"

Q gn_trust <<'SQL'
CREATE ROLE alice; CREATE ROLE bob;
CREATE TABLE public.notes (id int PRIMARY KEY, who name);
INSERT INTO public.notes VALUES (1, 'alice'), (2, 'alice'), (3, 'bob');
CREATE VIEW public.v_mine AS SELECT id, who FROM public.notes WHERE who = current_user;
GRANT SELECT ON public.v_mine TO alice, bob, geonatadmin;
GRANT USAGE ON SCHEMA gn_exports TO alice, bob;
GRANT SELECT ON ALL TABLES IN SCHEMA gn_exports TO alice, bob;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Mes notes', 'public', 'v_mine', true, 1, 'id');
SQL
MINE=$(Q gn_trust -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Mes notes'")
check "counts are never shared between database roles: total = items served, for each role" "t|t" \
  "$(Q gn_trust -c "SET ROLE alice" -c "SELECT (r->>'total')::int = json_array_length(r->'items') FROM gn_export.api($MINE) r" \
      -c "SET ROLE bob" -c "SELECT (r->>'total')::int = json_array_length(r->'items') FROM gn_export.api($MINE) r" | paste -sd'|')"

deep=$(printf '[%.0s' $(seq 1 300))1$(printf ']%.0s' $(seq 1 300))
for call in "gn_export.api(2, '{\"limit\": 1e400}')" "gn_export.api(2, '{\"offset\": -1e400}')" \
            "gn_export.api(2, '{\"jdd_nom\": $deep}')" \
            "gn_export.run(2, 'csv', NULL, NULL, '{\"limit\": 1e400}')" \
            "gn_export.run(2, 'csv', NULL, NULL, '{\"jdd_nom\": $deep}')"; do
  check "${call:0:60}: a clear error, not XX000" 22023 "$(sqlstate "SELECT $call")"
done
Q gn_trust <<'SQL'
CREATE VIEW public.v_big AS
SELECT 1 AS id, 1e400::numeric AS big, 123456789012345678901234567890.123456789 AS exact,
       '{"n": 1e400, "deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}'::jsonb AS j;
GRANT SELECT ON public.v_big TO geonatadmin;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Grands nombres', 'public', 'v_big', true, 1, 'id');
SQL
BIG=$(Q gn_trust -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Grands nombres'")
check "api() renders numbers beyond f64 in the data" "401|1" \
  "$(Q gn_trust -c "SELECT length(r->'items'->0->>'big') || '|' || (r->'items'->0->'j'->>'n' LIKE '1000%')::int FROM gn_export.api($BIG) r")"

Q gn_trust -c "CREATE ROLE carol LOGIN" -c "GRANT USAGE ON SCHEMA gn_exports, gn_meta TO carol" \
  -c "GRANT SELECT ON ALL TABLES IN SCHEMA gn_exports, gn_meta TO carol" \
  -c "REVOKE EXECUTE ON FUNCTION gn_export.run(integer, text, integer, text, jsonb) FROM PUBLIC"
check "run() revoked: the SRF is refused (42501)" 42501 "$(sqlstate "SET ROLE carol; SELECT gn_export.run(2)")"
check "run() revoked: the COPY fast path is refused too (42501)" 42501 \
  "$(sqlstate "SET ROLE carol; COPY (SELECT gn_export.run(2)) TO STDOUT (FORMAT raw)")"
Q gn_trust -c "GRANT EXECUTE ON FUNCTION gn_export.run(integer, text, integer, text, jsonb) TO PUBLIC"

echo "## 6. the EXECUTE grant is the privilege to generate"
Q gn_trust <<'SQL'
CREATE ROLE exporter LOGIN;
GRANT USAGE ON SCHEMA gn_exports, gn_meta TO exporter;
GRANT SELECT ON ALL TABLES IN SCHEMA gn_exports, gn_meta TO exporter;
GRANT EXECUTE ON FUNCTION gn_export.generate(integer, text, integer, interval),
                          gn_export.run_scheduled(), gn_export.clean_files(integer) TO exporter;
-- the procedure pg_cron calls, with the grants docs/security.md gives
GRANT EXECUTE ON PROCEDURE gn_export.run_schedules() TO exporter;
GRANT EXECUTE ON FUNCTION gn_export.schedule_ids(), gn_export.begin_schedule(integer),
                          gn_export.run_schedule(integer) TO exporter;
CREATE ROLE file_writer LOGIN IN ROLE pg_write_server_files;
GRANT USAGE ON SCHEMA gn_exports, gn_meta TO file_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA gn_exports, gn_meta TO file_writer;
SQL
check "a role granted EXECUTE on generate() generates, and its run is in the history" "done|exporter" \
  "$(Q gn_trust -c "SET ROLE exporter" -c "SELECT status FROM gn_export.generate(2, 'json')" \
     -c "RESET ROLE" -c "SELECT requested_by FROM gn_export.t_runs ORDER BY id_run DESC LIMIT 1" | paste -sd'|')"
check "... and may run the schedules (both ways) and clean the files" "ok" \
  "$(Q gn_trust -c "SET ROLE exporter" -c "SELECT count(*) FROM gn_export.run_scheduled()" \
      -c "CALL gn_export.run_schedules()" -c "SELECT count(*) FROM gn_export.clean_files()" > /dev/null && echo ok)"
check "without those grants, the procedure is refused (42501)" 42501 \
  "$(sqlstate "SET ROLE carol; CALL gn_export.run_schedules()")"
check "without that grant, generate() is refused (42501), even to pg_write_server_files" "42501 42501" \
  "$(sqlstate "SET ROLE carol; SELECT gn_export.generate(2)") $(sqlstate "SET ROLE file_writer; SELECT gn_export.generate(2)")"
check "COPY TO a server file with our formats still needs pg_write_server_files (42501)" 42501 \
  "$(sqlstate "SET ROLE exporter; COPY (SELECT 1 AS a) TO '$EXPORTS/x.json' (FORMAT 'json')")"
check "... which is enough for it" "" \
  "$(QE gn_trust -c "SET ROLE file_writer" -c "COPY (SELECT 1 AS a) TO '$EXPORTS/x.json' (FORMAT 'json')")"
finish
