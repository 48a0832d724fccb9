#!/usr/bin/env bash
# The code of objects someone else owns runs with that owner's rights, never more: privilege
# escalations tried as an attacker would, each under the call that reaches it:
#  1. the catalog owner swaps a table gn_export reads or writes (GeoNature's catalog,
#     permission and notification tables) for a view, or puts a trigger or rule on it, and waits
#     for the superuser's pg_cron job or the DBA: every statement on a table gn_export does not
#     own runs as that table's owner in a security-restricted operation, after checking that
#     it is a plain table with the expected columns and no rule (42501 otherwise);
#  2. the catalog owner prepares the catalog before the DBA runs CREATE EXTENSION (or
#     install_catalog() again): only plain tables are adopted, our triggers are recognised by
#     their function, and the installer never reads an adopted table;
#  3. a reader's temporary objects never run with the definer's rights, a non-superuser caller
#     is never switched to a superuser, and PostGIS's own functions find spatial_ref_sys;
#  4. operators and functions planted in public before CREATE EXTENSION or ALTER EXTENSION
#     UPDATE are never bound into the extension's SQL;
#  6. generate() in a READ ONLY transaction on a primary, HTML in notifications, Rust
#     backtraces.
#  8. the SINP views the DBA installs run the code of the relations they read (the
#     module's RDF view, a Synthese swapped for a view) as those relations' owner, and bind no
#     closer match the database owner planted in PostGIS's schema.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
client_cluster_up
make_demo_db gn_atk 100
export_dir_for gn_atk atk-exports
trap 'cluster_down "$CLIENT_DIR"' EXIT

# out DB SQL...: every line psql prints, errors included, then "SQLSTATE <code>"
out() { local db="$1"; shift; QE "$db" "$@" -c '\echo SQLSTATE :LAST_ERROR_SQLSTATE'; }
escalated() { Q "$1" -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$2'"; }
ran_as() { Q "$1" -c "SELECT coalesce(string_agg(DISTINCT who::text, ',' ORDER BY who::text), '-') FROM public.pwned WHERE what = '$2'"; }

# own_schemas DB SCHEMA...: GeoNature's application role owns these schemas, their tables and views
own_schemas() {
  local db="$1"; shift
  Q "$db" -c "DO \$\$
DECLARE s text; t record;
BEGIN
    FOREACH s IN ARRAY string_to_array('$*', ' ') LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO geonatadmin', s);
        FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = s AND c.relkind IN ('r', 'v') LOOP
            EXECUTE format('ALTER TABLE %I.%I OWNER TO geonatadmin', s, t.relname);
        END LOOP;
    END LOOP;
END \$\$"
}

# GeoNature's ownership: its application role owns every GeoNature schema and table, and is
# not a superuser. escalate(what) records who ran it and tries to make its author superuser.
owner_setup() {
  own_schemas "$1" gn_exports gn_permissions gn_commons utilisateurs gn_notifications
  Q "$1" <<'SQL'
CREATE TABLE public.pwned (who name, what text);
GRANT INSERT ON public.pwned TO PUBLIC;
CREATE SCHEMA IF NOT EXISTS app AUTHORIZATION geonatadmin;
SET ROLE geonatadmin;
CREATE FUNCTION app.escalate(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.pwned VALUES (current_user, what);
    BEGIN
        EXECUTE 'ALTER ROLE geonatadmin SUPERUSER';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    RETURN true;
END $$;
CREATE FUNCTION app.tg_escalate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM app.escalate(TG_ARGV[0]);
    RETURN NEW;
END $$;
RESET ROLE;
SQL
}
Q postgres -c "CREATE ROLE geonatadmin LOGIN"
owner_setup gn_atk
Q gn_atk -c "INSERT INTO gn_exports.cor_exports_roles (id_export, id_role) VALUES (1, 4) ON CONFLICT DO NOTHING"

echo "## 1. every statement on a table gn_export does not own runs as its owner, once checked"
# swap SCHEMA.TABLE ENTRY-POINT: the table becomes a view of itself that runs escalate()
swap() {
  local t="$1" call="$2" name="${1#*.}" schema="${1%%.*}" got
  Q gn_atk -c "SET ROLE geonatadmin" -c "ALTER TABLE $t RENAME TO ${name}_data" \
    -c "CREATE VIEW $t AS SELECT * FROM $schema.${name}_data WHERE app.escalate('view $t')"
  got=$(out gn_atk -c "$call")
  check "$t swapped for a view: '$call' refuses (42501), naming it" "42501 1" \
    "$(echo "$got" | grep -o 42501 | head -1) $(echo "$got" | grep -c "$name.*view\|view.*$name" | head -1 | sed 's/^[1-9][0-9]*$/1/')"
  check "... and the view's code ran as nobody" "- f" "$(ran_as gn_atk "view $t") $(escalated gn_atk geonatadmin)"
  Q gn_atk -c "SET ROLE geonatadmin" -c "DROP VIEW $t" -c "ALTER TABLE $schema.${name}_data RENAME TO $name"
}
swap gn_exports.t_export_schedules "SELECT * FROM gn_export.run_scheduled()"
swap gn_exports.t_export_schedules "SELECT * FROM gn_export.schedule_ids()"
swap gn_exports.t_export_schedules "SELECT gn_export.begin_schedule(1)"
swap gn_exports.t_export_schedules "SELECT * FROM gn_export.run_schedule(1)"
swap gn_exports.t_export_schedules "CALL gn_export.run_schedules()"
swap gn_exports.t_licences "SELECT * FROM gn_export.exports()"
swap gn_exports.t_licences "SELECT sqlstate, error FROM gn_export.generate(2, 'csv')"
swap gn_exports.t_exports "SELECT gn_export.can_read(1)"
swap gn_exports.cor_exports_roles "SELECT gn_export.can_read(1, NULL, 'abc')"
swap gn_exports.cor_exports_roles "SELECT * FROM gn_export.exports(3)"
swap gn_permissions.t_permissions "SELECT gn_export.scope(3)"
swap gn_permissions.bib_actions "SELECT gn_export.scope(3, 'R')"
swap gn_permissions.t_objects "SELECT gn_export.scope(3)"
swap gn_commons.t_modules "SELECT gn_export.can_read(1, 3)"
swap utilisateurs.cor_roles "SELECT gn_export.scope(4)"
swap gn_notifications.t_notifications_rules "SELECT sqlstate, error FROM gn_export.generate(2, 'csv', 3)"
swap gn_notifications.bib_notifications_categories "SELECT sqlstate, error FROM gn_export.generate(2, 'csv', 3)"
swap gn_notifications.t_notifications "SELECT sqlstate, error FROM gn_export.generate(2, 'csv', 3)"

Q gn_atk -c "SET ROLE geonatadmin" \
  -c "CREATE TRIGGER z_escalate BEFORE UPDATE ON gn_exports.cor_exports_roles FOR EACH ROW EXECUTE FUNCTION app.tg_escalate('token trigger')"
Q gn_atk -c "SELECT gn_export.rotate_token(1, 4)" > /dev/null
check "a trigger on cor_exports_roles runs as its owner when the DBA rotates a token" "geonatadmin f" \
  "$(ran_as gn_atk 'token trigger') $(escalated gn_atk geonatadmin)"
Q gn_atk -c "SET ROLE geonatadmin" -c "DROP TRIGGER z_escalate ON gn_exports.cor_exports_roles" \
  -c "CREATE RULE z_escalate AS ON UPDATE TO gn_exports.cor_exports_roles DO ALSO SELECT app.escalate('token rule')"
got=$(out gn_atk -c "SELECT gn_export.rotate_token(1, 4)")
check "a rule on cor_exports_roles: rotate_token() refuses (42501), naming the rule" "42501 1" \
  "$(echo "$got" | grep -o 42501 | head -1) $(echo "$got" | grep -q 'has a rule' && echo 1)"
check "... and the rule's code ran as nobody" "- f" "$(ran_as gn_atk 'token rule') $(escalated gn_atk geonatadmin)"
Q gn_atk -c "SET ROLE geonatadmin" -c "DROP RULE z_escalate ON gn_exports.cor_exports_roles"
Q gn_atk -c "SET ROLE geonatadmin" -c "ALTER TABLE gn_exports.t_licences ALTER COLUMN url_licence TYPE text USING url_licence::text" \
  -c "ALTER TABLE gn_exports.t_licences RENAME COLUMN name_licence TO nom"
got=$(out gn_atk -c "SELECT count(*) FROM gn_export.exports()")
check "a catalog table without a column gn_export reads is refused (42501), naming the column" "42501 1" \
  "$(echo "$got" | grep -o 42501 | head -1) $(echo "$got" | grep -q 'no column "name_licence"' && echo 1)"
Q gn_atk -c "SET ROLE geonatadmin" -c "ALTER TABLE gn_exports.t_licences RENAME COLUMN nom TO name_licence"
check "... a text column where GeoNature has varchar is accepted" "ok" \
  "$(Q gn_atk -c "SELECT count(*) FROM gn_export.exports()" > /dev/null && echo ok)"
check "nothing above ran as the superuser" "0" "$(Q gn_atk -c "SELECT count(*) FROM public.pwned WHERE who = 'postgres'")"

echo "## 2. CREATE EXTENSION adopts plain tables only, and never reads them as the installer"
# a GeoNature database whose catalog exists before gn_export (made by installing and dropping it)
adopt_db() {
  psql_at "$CLIENT_PORT" postgres -qc "CREATE DATABASE $1"
  (cd "$REPO/sql/demo" && psql_at "$CLIENT_PORT" "$1" -q -f geonature_schema.sql -f reference_data.sql \
     -c "CREATE EXTENSION gn_export CASCADE" -c "DROP EXTENSION gn_export") > /dev/null 2>&1
  owner_setup "$1"
}
adopt_db gn_adopt
Q gn_adopt <<'SQL'
SET ROLE geonatadmin;
INSERT INTO gn_exports.cor_exports_roles (id_export, id_role, token) SELECT 1, 1, 'same' WHERE EXISTS (SELECT 1 FROM gn_exports.t_exports WHERE id = 1);
ALTER TABLE gn_exports.cor_exports_roles RENAME TO cor_exports_roles_data;
CREATE VIEW gn_exports.cor_exports_roles AS
SELECT * FROM gn_exports.cor_exports_roles_data
UNION ALL SELECT 1, 1, 'same' WHERE app.escalate('adopted view');
CREATE FUNCTION app.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER gn_export_heal_token INSTEAD OF INSERT ON gn_exports.cor_exports_roles
FOR EACH ROW EXECUTE FUNCTION app.noop();
RESET ROLE;
SQL
got=$(out gn_adopt -c "CREATE EXTENSION gn_export")
check "a view in place of cor_exports_roles: CREATE EXTENSION refuses (42501), naming it" "42501 1" \
  "$(echo "$got" | grep -o 42501 | head -1) $(echo "$got" | grep -c 'cor_exports_roles.*view\|view.*cor_exports_roles')"
check "... the catalog owner's function never ran, and it is no superuser" "- f" \
  "$(ran_as gn_adopt 'adopted view') $(escalated gn_adopt geonatadmin)"
Q gn_adopt -c "SET ROLE geonatadmin" -c "DROP VIEW gn_exports.cor_exports_roles" \
  -c "ALTER TABLE gn_exports.cor_exports_roles_data RENAME TO cor_exports_roles" \
  -c "CREATE TRIGGER gn_export_check_definition BEFORE INSERT ON gn_exports.t_exports FOR EACH ROW EXECUTE FUNCTION app.noop()" \
  -c "CREATE TRIGGER escalate_on_index BEFORE UPDATE ON gn_exports.cor_exports_roles FOR EACH ROW EXECUTE FUNCTION app.tg_escalate('adopted trigger')"
Q gn_adopt -c "SET ROLE geonatadmin" -c "CREATE FUNCTION app.spy_policy() RETURNS boolean LANGUAGE plpgsql AS \$\$ BEGIN RETURN app.escalate('adopted policy'); END \$\$" \
  -c "ALTER TABLE gn_exports.cor_exports_roles ENABLE ROW LEVEL SECURITY" \
  -c "ALTER TABLE gn_exports.cor_exports_roles FORCE ROW LEVEL SECURITY" \
  -c "CREATE POLICY spy ON gn_exports.cor_exports_roles USING (app.spy_policy())"
got=$(out gn_adopt -c "CREATE EXTENSION gn_export")
check "plain tables with a decoy trigger and a policy are adopted" "SQLSTATE 00000" "$(echo "$got" | grep SQLSTATE)"
check "... the installer ran none of the catalog owner's code" "0 f" \
  "$(Q gn_adopt -c "SELECT count(*) FROM public.pwned WHERE who = 'postgres'") $(escalated gn_adopt geonatadmin)"
check "... and gn_export's own definition check is attached despite the decoy's name" "1" \
  "$(Q gn_adopt -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'gn_exports.t_exports'::regclass AND tgfoid = 'gn_export.tg_check_definition()'::regprocedure")"
check "... and refuses a definition on a missing view" "42P01" \
  "$(sqlstate_in gn_adopt "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column) VALUES ('x', 'public', 'nope', 1, 'id')")"
Q gn_adopt -c "SET ROLE geonatadmin" -c "ALTER TABLE gn_exports.t_licences RENAME TO t_licences_data" \
  -c "CREATE VIEW gn_exports.t_licences AS SELECT * FROM gn_exports.t_licences_data WHERE app.escalate('reinstall')"
got=$(out gn_adopt -c "SELECT gn_export.install_catalog()")
check "install_catalog() run again over a swapped table refuses (42501)" "42501 - f" \
  "$(echo "$got" | grep -o 42501 | head -1) $(ran_as gn_adopt reinstall) $(escalated gn_adopt geonatadmin)"

adopt_db gn_adopt_up
Q gn_adopt_up -c "CREATE EXTENSION gn_export VERSION '$(cd "$REPO/sql" && ls gn_export--*.sql | sed -n 's/^gn_export--\([0-9][0-9.]*\)\.sql$/\1/p' | sort -V | tail -1)'"
Q gn_adopt_up -c "SET ROLE geonatadmin" -c "ALTER TABLE gn_exports.cor_exports_roles RENAME TO cor_exports_roles_data" \
  -c "CREATE VIEW gn_exports.cor_exports_roles AS SELECT * FROM gn_exports.cor_exports_roles_data WHERE app.escalate('update')" \
  -c "CREATE TRIGGER escalate_on_update BEFORE UPDATE ON gn_exports.t_exports FOR EACH ROW EXECUTE FUNCTION app.tg_escalate('update trigger')"
QE gn_adopt_up -c "ALTER EXTENSION gn_export UPDATE" > /dev/null
check "ALTER EXTENSION UPDATE over a swapped catalog runs none of the catalog owner's code" "0 f" \
  "$(Q gn_adopt_up -c "SELECT count(*) FROM public.pwned WHERE who = 'postgres'") $(escalated gn_adopt_up geonatadmin)"

echo "## 3. a reader's temporary objects never run as the definer; never a switch up to a superuser"
Q postgres -c "CREATE DATABASE gn_plain"
Q gn_plain <<'SQL'
CREATE EXTENSION gn_export CASCADE;
CREATE TABLE public.pwned (who name, what text);
GRANT INSERT ON public.pwned TO PUBLIC;
CREATE TABLE public.pts (id int PRIMARY KEY, geom geometry(Point, 4326));
INSERT INTO public.pts VALUES (1, 'SRID=4326;POINT(2.35 48.85)'), (2, 'SRID=4326;POINT(5.37 43.3)');
CREATE VIEW public.v_l93 AS SELECT id, ST_Transform(geom, 'EPSG:2154') AS geom FROM public.pts;
CREATE VIEW public.v_who AS SELECT 1 AS id, current_user::text AS who;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('L93', 'public', 'v_l93', 'geom', 2154, true, 1, 'id'), ('Qui', 'public', 'v_who', NULL, NULL, true, 1, 'id');
CREATE ROLE nobody LOGIN;
GRANT SELECT ON public.v_l93, public.v_who TO nobody;
SQL
L93=$(Q gn_plain -c "SELECT id FROM gn_exports.t_exports WHERE label = 'L93'")
WHO=$(Q gn_plain -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Qui'")
check "a view using PostGIS's ST_Transform(geom, text) exports (superuser)" "3" \
  "$(Q gn_plain -c "SELECT count(*) FROM gn_export.run($L93, 'csv')")"
check "... and for a plain reader" "3" \
  "$(Q gn_plain -c "SET ROLE nobody" -c "SELECT count(*) FROM gn_export.run($L93, 'csv')")"
check "a superuser's view read by a plain reader runs as the reader, not as the superuser" "nobody" \
  "$(Q gn_plain -c "SET ROLE nobody" -c "SELECT string_agg(x, '') FROM gn_export.run($WHO, 'csv') x" | tr -d '\r' | grep '^1;' | cut -d';' -f2)"
got=$(out gn_plain -c "SET ROLE nobody" \
  -c "CREATE FUNCTION pg_temp.grab() RETURNS text LANGUAGE plpgsql AS \$\$ BEGIN INSERT INTO public.pwned VALUES (current_user, 'temp srs'); BEGIN EXECUTE 'ALTER ROLE nobody SUPERUSER'; EXCEPTION WHEN insufficient_privilege THEN NULL; END; RETURN '+proj=longlat'; END \$\$" \
  -c "CREATE TEMP VIEW spatial_ref_sys AS SELECT 4326 AS srid, pg_temp.grab() AS proj4text" \
  -c "SELECT count(*) FROM gn_export.run($L93, 'csv')" -c "SELECT count(*) FROM gn_export.api($L93)")
check "a reader's temporary spatial_ref_sys never runs as the superuser" "nobody|- f" \
  "$(ran_as gn_plain 'temp srs' | sed 's/^-$/nobody/')|$(Q gn_plain -c "SELECT coalesce(string_agg(who::text, ','), '-') FROM public.pwned WHERE who <> 'nobody'") $(escalated gn_plain nobody)"
Q gn_atk <<'SQL'
SET ROLE geonatadmin;
CREATE TABLE app.lookup (ok boolean);
INSERT INTO app.lookup VALUES (false);
CREATE FUNCTION app.visible() RETURNS boolean LANGUAGE plpgsql STABLE SET search_path = app AS $$
BEGIN RETURN (SELECT ok FROM lookup LIMIT 1); END $$;
CREATE VIEW app.v_private AS SELECT i AS id, 'secret ' || i AS txt FROM generate_series(1, 3) i WHERE app.visible();
RESET ROLE;
CREATE ROLE reader LOGIN;
GRANT USAGE ON SCHEMA app TO reader;
GRANT SELECT ON app.v_private TO reader;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Privé', 'app', 'v_private', true, 1, 'id');
SQL
PRIV=$(Q gn_atk -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Privé'")
got=$(out gn_atk -c "SET ROLE reader" \
  -c "CREATE FUNCTION pg_temp.grab() RETURNS boolean LANGUAGE plpgsql AS \$\$ BEGIN INSERT INTO public.pwned VALUES (current_user, 'temp lookup'); RETURN true; END \$\$" \
  -c "CREATE TEMP VIEW lookup AS SELECT pg_temp.grab() AS ok" \
  -c "SELECT count(*) FROM gn_export.run($PRIV, 'csv')")
check "a reader's temporary view shadowing the definer's table: refused (42501), naming the temporary objects" "42501 1" \
  "$(echo "$got" | grep -o 42501 | head -1) $(echo "$got" | grep -q 'temporary objects' && echo 1)"
check "... and it never ran as the definer" "-" "$(Q gn_atk -c "SELECT coalesce(string_agg(DISTINCT who::text, ','), '-') FROM public.pwned WHERE what = 'temp lookup' AND who <> 'reader'")"
check "the same reader without temporary objects runs it (0 rows: the definer's table says no)" "1" \
  "$(Q gn_atk -c "SET ROLE reader" -c "SELECT count(*) FROM gn_export.run($PRIV, 'csv')")"

# GeoNature keeps functions of its own in public (fct_trg_meta_dates_change): PostGIS's schema
# stays on the definer's path for them, not for a look-alike someone else planted
Q gn_atk <<'SQL'
GRANT CREATE ON SCHEMA public TO geonatadmin, reader;
SET ROLE geonatadmin;
CREATE FUNCTION public.fct_trg_meta_dates_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TABLE app.pts (id int PRIMARY KEY, geom geometry(Point, 4326));
INSERT INTO app.pts VALUES (1, 'SRID=4326;POINT(2.35 48.85)');
CREATE VIEW app.v_l93 AS SELECT id, ST_Transform(geom, 'EPSG:2154') AS geom FROM app.pts;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('L93 GeoNature', 'app', 'v_l93', 'geom', 2154, true, 1, 'id');
RESET ROLE;
SQL
GL93=$(Q gn_atk -c "SELECT id FROM gn_exports.t_exports WHERE label = 'L93 GeoNature'")
check "ST_Transform(geom, text) works beside the definer's own functions in public" "2" \
  "$(Q gn_atk -c "SELECT count(*) FROM gn_export.run($GL93, 'csv')")"
# the look-alike tells when it runs; where PostGIS's schema is kept off the definer's path,
# ST_Transform's unqualified body finds no spatial_ref_sys (42P01) or, where it finds its own
# (the run succeeds), it must still bind nothing of the planter's
LOOKALIKE="CREATE FUNCTION public.st_srid(text) RETURNS integer LANGUAGE plpgsql AS \$\$ BEGIN INSERT INTO public.pwned VALUES (current_user, 'st_srid look-alike'); RETURN 4326; END \$\$"
not_bound() {
  local state ran; state=$(sqlstate_in gn_atk "SELECT count(*) FROM gn_export.run($GL93, 'csv')")
  ran=$(ran_as gn_atk 'st_srid look-alike')
  case "$state $ran" in "42P01 -" | "00000 -") echo "not bound" ;; *) echo "SQLSTATE $state, the look-alike ran as: $ran" ;; esac
}
Q gn_atk -c "SET ROLE reader" -c "$LOOKALIKE"
check "... but not beside a look-alike another role planted there (nothing of it bound)" "not bound" "$(not_bound)"
Q gn_atk -c "DROP FUNCTION public.st_srid(text)"
# membership of an extension proves nothing: the owner of one can add its own look-alike to it
Q gn_atk -c "GRANT CREATE ON DATABASE gn_atk TO reader"
Q gn_atk -c "SET ROLE reader" -c "CREATE EXTENSION tcn SCHEMA public" -c "$LOOKALIKE" \
  -c "ALTER EXTENSION tcn ADD FUNCTION public.st_srid(text)"
check "... nor beside one its planter made part of an extension (nothing of it bound)" "not bound" "$(not_bound)"
Q gn_atk -c "DROP EXTENSION tcn"
check "a caller's temporary relation never meets the catalog owner's triggers or policies (42501)" "42501" \
  "$(sqlstate_in gn_atk "CREATE TEMP TABLE t_roles (id int); SELECT count(*) FROM gn_export.exports()")"

echo "## 4. nothing planted in public is bound into the extension's SQL"
# the database owner plants look-alike operators and functions before the DBA installs
plant() {
  Q "$1" <<'SQL'
CREATE TABLE IF NOT EXISTS public.pwned (who name, what text);
GRANT INSERT ON public.pwned TO PUBLIC;
SET ROLE dbowner;
CREATE FUNCTION public.spy(text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.pwned VALUES (current_user, 'planted ' || $1); RETURN true; END $$;
CREATE FUNCTION public.cat(text, integer) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN public.spy('||int') THEN $1 || $2::text END $$;
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = integer, FUNCTION = public.cat);
CREATE FUNCTION public.catn(text, name) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN public.spy('||name') THEN $1 || $2::text END $$;
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = name, FUNCTION = public.catn);
CREATE FUNCTION public.catb(text, bigint) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN public.spy('||bigint') THEN $1 || $2::text END $$;
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = bigint, FUNCTION = public.catb);
CREATE FUNCTION public.mi(timestamptz, timestamptz) RETURNS interval LANGUAGE sql AS $$ SELECT CASE WHEN public.spy('-') THEN pg_catalog.timestamptz_mi($1, $2) END $$;
CREATE OPERATOR public.- (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.mi);
CREATE FUNCTION public.pg_size_pretty(integer) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN public.spy('size') THEN 'x' END $$;
CREATE FUNCTION public.md5(varchar) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN public.spy('md5') THEN 'x' END $$;
CREATE FUNCTION public.neq(name, text) RETURNS boolean LANGUAGE sql AS $$ SELECT public.spy('<>') AND $1::text <> $2 $$;
CREATE OPERATOR public.<> (LEFTARG = name, RIGHTARG = text, FUNCTION = public.neq);
RESET ROLE;
SQL
}
# dependencies of gn_export's objects (functions, views, defaults, checks, triggers on the
# catalog) on what dbowner planted
bound() {
  Q "$1" -c "WITH planted AS (
       SELECT 'pg_operator'::regclass AS cls, oid FROM pg_operator WHERE oprowner = 'dbowner'::regrole
       UNION ALL SELECT 'pg_proc'::regclass, oid FROM pg_proc WHERE proowner = 'dbowner'::regrole),
     ours AS (SELECT oid FROM pg_class WHERE relnamespace IN ('gn_export'::regnamespace, 'gn_exports'::regnamespace))
     SELECT count(*) FROM pg_depend d JOIN planted p ON p.cls = d.refclassid AND p.oid = d.refobjid
      WHERE (d.classid = 'pg_rewrite'::regclass AND d.objid IN (SELECT oid FROM pg_rewrite WHERE ev_class IN (SELECT oid FROM ours)))
         OR (d.classid = 'pg_attrdef'::regclass AND d.objid IN (SELECT oid FROM pg_attrdef WHERE adrelid IN (SELECT oid FROM ours)))
         OR (d.classid = 'pg_constraint'::regclass AND d.objid IN (SELECT oid FROM pg_constraint WHERE conrelid IN (SELECT oid FROM ours)))
         OR (d.classid = 'pg_proc'::regclass AND d.objid IN (SELECT oid FROM pg_proc WHERE pronamespace = 'gn_export'::regnamespace))
         OR (d.classid = 'pg_trigger'::regclass AND d.objid IN (SELECT oid FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM ours)))"
}
# a run of each kind in the history (schedule, user, administrator), then the DBA reads it
history_read() {
  Q "$1" -c "INSERT INTO gn_export.t_runs (id_export, format, id_role, id_export_schedule, started_at, finished_at, status, bytes)
             VALUES (1, 'csv', NULL, 7, now(), now(), 'done', 10), (1, 'csv', 3, NULL, now(), now(), 'done', 10),
                    (1, 'csv', NULL, NULL, now(), now(), 'failed', 10)" \
     -c "SELECT requested_for, size, duration FROM gn_export.v_runs" > /dev/null
}
Q postgres -c "CREATE ROLE dbowner LOGIN" -c "CREATE DATABASE gn_plant OWNER dbowner"
Q gn_plant -c "CREATE EXTENSION postgis"
plant gn_plant
Q gn_plant -c "CREATE EXTENSION gn_export"
history_read gn_plant
check "after CREATE EXTENSION over planted operators: nothing of gn_export depends on them" "0" "$(bound gn_plant)"
check "... and reading the run history ran none of them" "-" "$(Q gn_plant -c "SELECT coalesce(string_agg(DISTINCT what, ','), '-') FROM public.pwned")"
OLDV=$(cd "$REPO/sql" && ls gn_export--*.sql | sed -n 's/^gn_export--\([0-9][0-9.]*\)\.sql$/\1/p' | sort -V | tail -1)
Q postgres -c "CREATE DATABASE gn_plant_acl OWNER dbowner"
Q gn_plant_acl -c "CREATE EXTENSION postgis" -c "CREATE SCHEMA gn_export" -c "GRANT CREATE ON SCHEMA gn_export TO dbowner"
check "a gn_export schema made beforehand and open to another role: CREATE EXTENSION refuses (42501)" "42501" \
  "$(sqlstate_in gn_plant_acl "CREATE EXTENSION gn_export")"
Q postgres -c "CREATE DATABASE gn_plant_up OWNER dbowner"
Q gn_plant_up -c "CREATE EXTENSION postgis"
plant gn_plant_up
Q gn_plant_up -c "CREATE EXTENSION gn_export VERSION '$OLDV'" -c "ALTER EXTENSION gn_export UPDATE"
history_read gn_plant_up
check "planted before $OLDV was installed, then ALTER EXTENSION UPDATE: nothing depends on them" "0" "$(bound gn_plant_up)"
check "... and reading the run history ran none of them" "-" "$(Q gn_plant_up -c "SELECT coalesce(string_agg(DISTINCT what, ','), '-') FROM public.pwned")"

echo "## 5. API callers cannot stall or mislead others"
Q gn_atk <<'SQL'
CREATE TABLE public.items (id int PRIMARY KEY);
INSERT INTO public.items SELECT generate_series(1, 50);
CREATE VIEW public.v_items AS SELECT id FROM public.items;
GRANT SELECT ON public.v_items TO geonatadmin;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Items', 'public', 'v_items', true, 1, 'id'), ('Items bis', 'public', 'v_items', true, 1, 'id'),
       ('Items ter', 'public', 'v_items', true, 1, 'id');
SQL
ITEMS=$(Q gn_atk -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Items'")
BIS=$(Q gn_atk -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Items bis'")
TER=$(Q gn_atk -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Items ter'")
for e in "$ITEMS" "$BIS"; do
  Q gn_atk -c "BEGIN" -c "SELECT gn_export.api($e, '{\"snapshot\": \"new\"}') IS NOT NULL" -c "SELECT pg_sleep(6)" -c "COMMIT" > /dev/null &
done
sleep 2
check "two callers idle in open transactions after making snapshots hold no lock" "0" \
  "$(Q gn_atk -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")"
check "... and a third caller's new snapshot does not wait for them" "50" \
  "$(Q gn_atk -c "SET statement_timeout = '3s'" -c "SELECT gn_export.api($TER, '{\"snapshot\": \"new\"}')->>'total'")"
wait
STORE="$CLIENT_DIR/pgsql_tmp_gn_export_api"
Q postgres -c "ALTER DATABASE gn_atk SET gn_export.api_snapshot_space = '256kB'"
Q gn_atk -c "SELECT count(*) FROM generate_series(1, 300) i, gn_export.api($ITEMS, jsonb_build_object('id', i))" > /dev/null
check "300 calls with distinct filters: the store takes at most api_snapshot_space on disk (256 kB, du)" ok \
  "$(k=$(du -sk "$STORE" | cut -f1); [ "$k" -le 260 ] && echo ok || echo "$k kB in $(ls -A "$STORE" | wc -l) files")"
Q postgres -c "ALTER DATABASE gn_atk RESET gn_export.api_snapshot_space"
Q gn_atk -c "SELECT count(*) FROM generate_series(1, 1100) i, gn_export.api($ITEMS, jsonb_build_object('id', i))" > /dev/null
check "1,100 calls with distinct filters: at most 1,000 snapshots and their pointers are kept" ok \
  "$(n=$(ls -A "$STORE" | wc -l); [ "$n" -le 2004 ] && echo ok || echo "$n files")"
Q postgres -c "CREATE DATABASE gn_clone TEMPLATE gn_atk"
Q gn_clone -c "DELETE FROM public.items WHERE id > 10"
check "a database cloned with TEMPLATE never serves its snapshots to the other (10 and 50 rows)" "10 50" \
  "$(Q gn_clone -c "SELECT gn_export.api($ITEMS)->>'total'") $(Q gn_atk -c "SELECT gn_export.api($ITEMS)->>'total'")"

echo "## 7. a published file is always the recorded one"
rm -f "$EXPORTS/schedules/Items.json"
Q gn_atk -c "BEGIN" -c "SELECT status FROM gn_export.generate($ITEMS, 'json')" -c "ROLLBACK" > /dev/null
check "a generation whose transaction rolls back publishes no file" "absent 0" \
  "$([ -e "$EXPORTS/schedules/Items.json" ] && echo present || echo absent) $(find "$EXPORTS" -name '.*.tmp' | wc -l)"
Q gn_atk -c "SELECT status FROM gn_export.generate($ITEMS, 'json')" > /dev/null
before=$(md5sum < "$EXPORTS/schedules/Items.json")
Q gn_atk -c "INSERT INTO public.items VALUES (1000)" \
  -c "BEGIN" -c "SELECT status FROM gn_export.generate($ITEMS, 'json')" -c "ROLLBACK" > /dev/null
check "... and leaves the previous file as it was" "$before" "$(md5sum < "$EXPORTS/schedules/Items.json")"
# the web server's user replaces the finished temporary file before the run commits
Q gn_atk -c "DELETE FROM public.items WHERE id = 1000"
before=$(md5sum < "$EXPORTS/schedules/Items.json")
psql_at "$CLIENT_PORT" gn_atk -qAt <<SQL > /dev/null 2>&1
BEGIN;
SELECT status FROM gn_export.generate($ITEMS, 'json');
\! for f in $EXPORTS/schedules/.Items.json.*.tmp; do rm "\$f"; echo planted > "\$f"; done
COMMIT;
SQL
check "a temporary file replaced before the commit is never published" "$before 0" \
  "$(md5sum < "$EXPORTS/schedules/Items.json") $(grep -c planted "$EXPORTS/schedules/Items.json")"
find "$EXPORTS/schedules" -name '.Items.json.*.tmp' -delete
paths=$(Q gn_atk -c "BEGIN" -c "SELECT path FROM gn_export.generate($ITEMS, 'csv', 3)" -c "SELECT path FROM gn_export.generate($ITEMS, 'csv', 4)" -c "COMMIT")
check "two user generations of one export in one second get two files" "2 2" \
  "$(echo "$paths" | sort -u | wc -l) $(for p in $paths; do [ -f "$p" ] && echo x; done | wc -l)"
Q gn_atk <<'SQL'
CREATE TABLE public.slow_t (id int PRIMARY KEY);
INSERT INTO public.slow_t SELECT generate_series(1, 4000);
ANALYZE public.slow_t;
CREATE VIEW public.v_slow AS SELECT id, 'x' AS s FROM public.slow_t WHERE pg_catalog.pg_sleep(0.005) IS NOT NULL;
GRANT SELECT ON public.v_slow TO geonatadmin;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Lent', 'public', 'v_slow', true, 1, 'id');
SQL
SLOW=$(Q gn_atk -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Lent'")
# each killed once its temporary file is there (keys are read in order through the index)
for call in "SELECT status FROM gn_export.generate($SLOW, 'csv')" "SELECT gn_export.api($SLOW, '{\"snapshot\": \"new\"}') IS NOT NULL"; do
  before=$(find "$EXPORTS" "$CLIENT_DIR/pgsql_tmp_gn_export_api" -name '.*.tmp' | wc -l)
  PGAPPNAME=gn_victim PGOPTIONS="-c enable_seqscan=off -c enable_sort=off" Q gn_atk -c "$call" > /dev/null 2>&1 &
  for _ in $(seq 1 100); do
    [ "$(find "$EXPORTS" "$CLIENT_DIR/pgsql_tmp_gn_export_api" -name '.*.tmp' | wc -l)" -gt "$before" ] && break
    sleep 0.1
  done
  Q gn_atk -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gn_victim'" > /dev/null
  wait || true
done
left=$(find "$EXPORTS" "$CLIENT_DIR/pgsql_tmp_gn_export_api" -name '.*.tmp' | wc -l)
removed=$(Q gn_atk -c "SELECT count(*) FROM gn_export.clean_files() WHERE reason LIKE '%backend that has ended%'")
check "terminated generate() and snapshot build: clean_files() removes their temporary files at once" "2 2 0" \
  "$left $removed $(find "$EXPORTS" "$CLIENT_DIR/pgsql_tmp_gn_export_api" -name '.*.tmp' | wc -l)"
Q gn_atk <<'SQL'
CREATE VIEW public.v_slowgeo AS
SELECT id, ST_SetSRID(ST_MakePoint(2, 45), 4326)::geometry(Point, 4326) AS geom
  FROM public.slow_t WHERE pg_catalog.pg_sleep(0.005) IS NOT NULL;
GRANT SELECT ON public.v_slowgeo TO geonatadmin;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('Lent geo', 'public', 'v_slowgeo', 'geom', 4326, true, 1, 'id');
SQL
SLOWGEO=$(Q gn_atk -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Lent geo'")
left=""
for f in gpkg parquet; do
  PGAPPNAME=gn_victim PGOPTIONS="-c enable_seqscan=off -c enable_sort=off" Q gn_atk -c "SELECT status FROM gn_export.generate($SLOWGEO, '$f')" > /dev/null 2>&1 &
  sleep 2
  Q gn_atk -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gn_victim'" > /dev/null
  wait || true
  left="$left $(find "$EXPORTS/schedules" -name ".Lent_geo.$f.*.tmp" | wc -l)$(find "$EXPORTS/schedules" -name '.Lent_geo.*.tmp' | wc -l)"
done
check "a terminated GeoPackage generation leaves its temporary file, which the next generation removes as it starts" " 11 11" "$left"
Q gn_atk -c "SELECT status FROM gn_export.generate($ITEMS, 'csv')" > /dev/null
check "... which the next generation in that directory removes (a standby, where clean_files() does not run, too)" "0" \
  "$(find "$EXPORTS/schedules" -name '.Lent_geo.*.tmp' | wc -l)"

echo "## 6. smaller holes"
check "generate() in a READ ONLY transaction on a primary is refused (25006)" "25006" \
  "$(sqlstate_in gn_atk "BEGIN READ ONLY; SELECT status FROM gn_export.generate(2, 'csv'); COMMIT")"
Q gn_atk -c "UPDATE gn_exports.t_exports SET label = 'Jeux <img src=x onerror=alert(1)>' WHERE id = 2"
Q gn_atk -c "SELECT status FROM gn_export.generate(2, 'csv', 3)" > /dev/null
check "labels are escaped in the HTML of notifications" "0 1" \
  "$(Q gn_atk -c "SELECT count(*) FILTER (WHERE content LIKE '%<img%'), count(*) FILTER (WHERE content LIKE '%&lt;img src=x%') FROM (SELECT content FROM gn_notifications.t_notifications ORDER BY id_notification DESC LIMIT 1) n" | tr '|' ' ')"
cluster_down "$CLIENT_DIR"
(export RUST_BACKTRACE=1; server pg_ctl -D "$CLIENT_DIR" -l "$CLIENT_DIR/server.log" -w -t 60 start > /dev/null)
Q gn_atk -c "CREATE VIEW public.v_boom AS SELECT i AS id, 1 / (i - 2) AS x FROM generate_series(1, 3) i" \
  -c "GRANT SELECT ON public.v_boom TO geonatadmin" \
  -c "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column) VALUES ('Boum', 'public', 'v_boom', true, 1, 'id')"
BOOM=$(Q gn_atk -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Boum'")
got=$(out gn_atk -c "\\set VERBOSITY verbose" -c "SELECT gn_export.run($BOOM)" -c "SELECT gn_export.api($BOOM)")
check "with RUST_BACKTRACE set on the server, a view's error reaches the client without a Rust backtrace" "22012 0" \
  "$(echo "$got" | grep -o 22012 | head -1) $(echo "$got" | grep -v '^LOCATION' | grep -ci 'backtrace\|rust_begin_unwind\|pgrx\|\.rs:[0-9]')"

echo "## 8. the SINP views run as the owner of the data they read, not as their installer"
# GeoNature's application role owns the Synthese, its areas, nomenclatures, taxa and metadata
# too; the DBA installs the views as the superuser, and the superuser's jobs export them
own_schemas gn_atk gn_synthese ref_geo ref_nomenclatures taxonomie gn_meta
Q gn_atk <<'SQL' > /dev/null
-- the module's RDF view, which geonatadmin owns and may redefine, now runs its code
SET ROLE geonatadmin;
ALTER VIEW gn_exports.v_exports_synthese_sinp_rdf RENAME TO v_exports_synthese_sinp_rdf_data;
CREATE VIEW gn_exports.v_exports_synthese_sinp_rdf AS
SELECT * FROM gn_exports.v_exports_synthese_sinp_rdf_data WHERE app.escalate('rdf view');
RESET ROLE;
SQL
Q postgres -c "ALTER DATABASE gn_atk SET gn_export.dsw_enabled = on"
got=$(out gn_atk -c "SELECT gn_export.install_dsw_view()" -c "SELECT count(*) > 0 FROM gn_export.dsw('{\"limit\": 5}')")
check "install_dsw_view() as the superuser, then dsw() as the superuser: the RDF view's code runs as its owner" "geonatadmin f" \
  "$(ran_as gn_atk 'rdf view') $(escalated gn_atk geonatadmin)"
check "... the views belong to the data's owner" "geonatadmin geonatadmin" \
  "$(Q gn_atk -c "SELECT string_agg(DISTINCT pg_get_userbyid(relowner)::text, ',') FROM pg_class WHERE oid IN ('gn_exports.v_synthese_dsw'::regclass, 'gn_exports.v_synthese_diffusion'::regclass)") $(Q gn_atk -c "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'gn_exports.v_exports_synthese_sinp_rdf'::regclass")"
# the Synthese itself swapped for a view that runs geonatadmin's code
Q gn_atk -c "SET ROLE geonatadmin" -c "ALTER TABLE gn_synthese.synthese RENAME TO synthese_data" \
  -c "CREATE VIEW gn_synthese.synthese AS SELECT * FROM gn_synthese.synthese_data WHERE app.escalate('synthese view')" > /dev/null
got=$(out gn_atk -c "SELECT gn_export.install_dwc_view()" \
  -c "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column) VALUES ('GBIF', 'gn_exports', 'v_synthese_dwc', true, 1, 'occurrenceID')" \
  -c "SELECT status FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'GBIF'), 'dwca')")
check "install_dwc_view() and generate(dwca) as the superuser: the Synthese's code runs as its owner" "geonatadmin f done" \
  "$(ran_as gn_atk 'synthese view') $(escalated gn_atk geonatadmin) $(echo "$got" | grep -o -m1 '^done')"
Q postgres -c "CREATE ROLE gn_other"
Q gn_atk -c "ALTER TABLE ref_geo.l_areas OWNER TO gn_other"
check "install_diffusion_view() where a relation it reads has another owner (not a superuser): 42501, naming it" "42501 1" \
  "$(sqlstate_in gn_atk "SELECT gn_export.install_diffusion_view()") $(QE gn_atk -c "SELECT gn_export.install_diffusion_view()" | grep -c 'ref_geo.l_areas.*gn_other')"
# the database owner, who may create in PostGIS's schema (public), plants closer matches of the
# PostGIS functions the SINP views call, before the DBA installs them
(cd "$REPO/sql/demo" && Q gn_plant -f geonature_schema.sql -f reference_data.sql) > /dev/null 2>&1
Q gn_plant <<'SQL'
SET ROLE dbowner;
CREATE FUNCTION public.st_xmin(geometry) RETURNS float8 LANGUAGE sql AS $$ SELECT CASE WHEN public.spy('st_xmin') THEN 0::float8 END $$;
CREATE FUNCTION public.st_ymin(geometry) RETURNS float8 LANGUAGE sql AS $$ SELECT CASE WHEN public.spy('st_ymin') THEN 0::float8 END $$;
CREATE FUNCTION public.st_xmax(geometry) RETURNS float8 LANGUAGE sql AS $$ SELECT CASE WHEN public.spy('st_xmax') THEN 0::float8 END $$;
CREATE FUNCTION public.st_ymax(geometry) RETURNS float8 LANGUAGE sql AS $$ SELECT CASE WHEN public.spy('st_ymax') THEN 0::float8 END $$;
RESET ROLE;
SQL
Q gn_plant -c "SELECT gn_export.install_dwc_view()" > /dev/null
check "install_dwc_view() over closer matches planted in PostGIS's schema: its views depend on none of them" "0" "$(bound gn_plant)"
finish
