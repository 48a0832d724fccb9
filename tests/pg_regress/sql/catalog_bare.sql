-- CREATE EXTENSION on a database that has only PostGIS available: CASCADE brings PostGIS,
-- the gn_exports catalog is created with GeoNature's names and types, and it is not owned by
-- the extension, so DROP EXTENSION leaves it and its rows.
CREATE DATABASE gn_t_bare;
\c gn_t_bare
SELECT count(*) AS extensions_before FROM pg_extension WHERE extname IN ('postgis', 'gn_export');
CREATE EXTENSION gn_export CASCADE;
SELECT extname, extnamespace::regnamespace FROM pg_extension WHERE extname IN ('postgis', 'gn_export') ORDER BY 1;

-- same tables and columns as GeoNature's EXPORT module 1.8
SELECT table_name, column_name, data_type, character_maximum_length AS len, is_nullable, column_default
FROM information_schema.columns WHERE table_schema = 'gn_exports'
ORDER BY table_name, ordinal_position;

-- (NOT NULL left out: PostgreSQL 18 lists them here too, 15 and 17 in pg_attribute only)
SELECT conrelid::regclass AS "table", conname, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE connamespace = 'gn_exports'::regnamespace AND contype <> 'n' ORDER BY 1, 2;

SELECT id_licence, name_licence, url_licence FROM gn_exports.t_licences ORDER BY 1;

-- no utilisateurs.t_roles here, so no foreign key to it
SELECT count(*) AS fk_to_t_roles FROM pg_constraint
WHERE conrelid = 'gn_exports.cor_exports_roles'::regclass AND contype = 'f' AND confrelid <> 'gn_exports.t_exports'::regclass;

-- the catalog is not an extension member: nothing in gn_exports depends on the extension
-- (the types PostgreSQL makes by itself, arrays and tables' and views' row types, left out:
-- PostgreSQL 17 records them as members too, 15 does not)
SELECT pg_describe_object(classid, objid, objsubid) AS member
FROM pg_depend d
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'gn_export')
  AND NOT EXISTS (SELECT 1 FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
                   WHERE d.classid = 'pg_type'::regclass AND t.oid = d.objid
                     AND (t.typcategory = 'A' OR c.relkind IN ('r', 'v', 'm', 'p', 'f')))
ORDER BY 1;

-- every function and procedure of the extension runs with a pinned search_path, but the one
-- procedure that commits (a SET clause forbids COMMIT): its names are all schema-qualified
SELECT p.oid::regprocedure AS without_pinned_search_path
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid AND d.classid = 'pg_proc'::regclass
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'gn_export')
  AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=pg\_catalog, %')
ORDER BY 1;

-- the schema gn_export holds the API
SELECT gn_export.version() = (SELECT extversion FROM pg_extension WHERE extname = 'gn_export') AS version_ok;

-- schedules: in_process defaults to false; frequency 1..365; supported formats only
CREATE VIEW public.v_demo AS SELECT 1 AS id, 'x'::text AS label;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column)
VALUES ('Demo', 'public', 'v_demo', 1, 'id');
INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format)
SELECT id, 1, 'csv' FROM gn_exports.t_exports RETURNING frequency, format, in_process;
INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format)
SELECT id, 0, 'csv' FROM gn_exports.t_exports;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format)
SELECT id, 366, 'json' FROM gn_exports.t_exports;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format)
SELECT id, 7, 'shp' FROM gn_exports.t_exports;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format)
SELECT id, 365, f FROM gn_exports.t_exports, unnest(ARRAY['json', 'geojson', 'gpkg']) f;

-- DROP EXTENSION, even with CASCADE, leaves the catalog and its rows
DROP EXTENSION gn_export CASCADE;
SELECT count(*) AS licences FROM gn_exports.t_licences;
SELECT label, schema_name, view_name FROM gn_exports.t_exports;
SELECT count(*) AS schedules FROM gn_exports.t_export_schedules;
SELECT count(*) AS gn_triggers_left FROM pg_trigger WHERE tgname LIKE 'gn_export%';
-- the functions are gone; PostgreSQL keeps the (now empty) schema an extension was created in
SELECT count(*) AS api_functions_left FROM pg_proc WHERE pronamespace = 'gn_export'::regnamespace;

-- and a second CREATE EXTENSION adopts what the first one created
CREATE EXTENSION gn_export;
SELECT count(*) AS licences_after_recreate FROM gn_exports.t_licences;
DROP EXTENSION gn_export;

-- under a pg_dump restore (row_security off) the catalog is left to the restore; a DBA can
-- still install it by hand
DROP SCHEMA gn_exports CASCADE;
SET row_security = off;
CREATE EXTENSION gn_export;
RESET row_security;
SELECT to_regclass('gn_exports.t_exports') AS catalog_before_install;
SELECT gn_export.install_catalog();
SELECT count(*) AS licences_after_install FROM gn_exports.t_licences;
-- installing again is harmless
SELECT gn_export.install_catalog();
SELECT count(*) AS licences_after_second_install,
       (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'gn_export%') AS triggers
FROM gn_exports.t_licences;
-- install_catalog is for administrators only
SELECT has_function_privilege('public', 'gn_export.install_catalog()', 'EXECUTE') AS public_may_install;
DROP EXTENSION gn_export;

\c gn_export_regress
DROP DATABASE gn_t_bare;
