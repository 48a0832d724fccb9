-- run() and generate() on the demo database: access, filters, files, and every caller error
-- with its SQLSTATE.
CREATE DATABASE gn_t_engine;
\c gn_t_engine
\set demo_rows 40
\i demo_db.sql
\set SHOW_CONTEXT never
-- the demo data holds every awkward value the outputs must survive
SELECT bool_or(comment_releve LIKE '%;%') AS semicolon, bool_or(comment_releve LIKE '%"%') AS quote,
       bool_or(comment_releve LIKE E'%\t%') AS tab, bool_or(comment_releve LIKE E'%\r\n%') AS crlf,
       bool_or(comment_releve = '') AS empty, bool_or(comment_releve IS NULL) AS null
FROM gn_exports.v_synthese_sinp;

-- run(): the public export, anonymously, row count through the chunks
SELECT count(*) - 1 AS records FROM gn_export.run(2);
-- access goes through require_read: private export anonymously, with a token, as a user
SELECT count(*) FROM gn_export.run(1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) - 1 AS records_with_token
FROM gn_export.run(1, 'csv', token => (SELECT token FROM gn_exports.cor_exports_roles WHERE id_export = 1 AND id_role = 4));
SELECT count(*) - 1 AS records_as_agent FROM gn_export.run(1, 'csv', id_role => 4);
SELECT count(*) FROM gn_export.run(3, 'csv', id_role => 4);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(1, 'csv', token => 'not-a-token');
\echo :LAST_ERROR_SQLSTATE

-- filters: GeoNature's language, on the right column types
\pset format unaligned
\pset tuples_only on
SELECT string_agg(c, '') FROM gn_export.run(3, 'csv', id_role => 3,
    filters => '{"filter_n_lo_id_synthese": 3, "orderby": "id_synthese:DESC"}') c;
SELECT string_agg(c, '') FROM gn_export.run(3, 'json', id_role => 3,
    filters => '{"id_synthese": "7"}') c;
SELECT string_agg(c, '') FROM gn_export.run(2, 'csv',
    filters => '{"ilike_jdd_nom": "DONNÉES 1", "filter_d_up_ca_date_debut": "2004-01-01", "orderby": "id_dataset"}') c;
\pset format aligned
\pset tuples_only off
SELECT count(*) - 1 AS records_limit_offset FROM gn_export.run(3, 'csv', id_role => 3, filters => '{"limit": 5, "offset": 30}');
-- date filters on a timestamp column cover whole days (GeoNature ignored DATE columns)
SELECT (SELECT count(*) FROM gn_exports.v_synthese_sinp WHERE date_debut::date = d) AS expected,
       (SELECT count(*) - 2 FROM gn_export.run(1, 'json', id_role => 3,
            filters => jsonb_build_object('filter_d_eq_date_debut', to_char(d, 'YYYY-MM-DD')))) AS got
FROM (SELECT min(date_debut)::date AS d FROM gn_exports.v_synthese_sinp) x;
-- the geometry filter: WKT in 4326, on a 4326 view and on a 2154 view
SELECT count(*) AS features_4326 FROM gn_export.run(1, 'geojsonseq', id_role => 3,
    filters => '{"geometry": "POLYGON((5.9 44.5, 6.25 44.5, 6.25 45.1, 5.9 45.1, 5.9 44.5))"}')
UNION ALL
SELECT count(*) FROM gn_export.run(3, 'geojsonseq', id_role => 3,
    filters => '{"geometry": "POLYGON((5.9 44.5, 6.25 44.5, 6.25 45.1, 5.9 45.1, 5.9 44.5))"}');
SELECT count(*) AS expected FROM gn_exports.v_synthese_sinp
WHERE ST_Intersects(geom, 'SRID=4326;POLYGON((5.9 44.5, 6.25 44.5, 6.25 45.1, 5.9 45.1, 5.9 44.5))');

-- errors: unknown export
SELECT count(*) FROM gn_export.run(999);
\echo :LAST_ERROR_SQLSTATE
-- unknown format, and gpkg (a file, not a stream: generate() writes it)
SELECT count(*) FROM gn_export.run(2, 'xlsx');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(2, 'gpkg');
\echo :LAST_ERROR_SQLSTATE
-- geojson for an export without geometry
SELECT count(*) FROM gn_export.run(2, 'geojson');
\echo :LAST_ERROR_SQLSTATE
-- unknown filter column, unknown orderby column
SELECT count(*) FROM gn_export.run(2, 'csv', filters => '{"no_such_column": 1}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(2, 'csv', filters => '{"ilike_nope": "x"}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(2, 'csv', filters => '{"orderby": "nope:DESC"}');
\echo :LAST_ERROR_SQLSTATE
-- bad filter values: each says which filter, which column and which type
SELECT count(*) FROM gn_export.run(2, 'csv', filters => '{"id_dataset": "douze"}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(2, 'csv', filters => '{"filter_d_up_ca_date_debut": "2024-13-45"}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(2, 'csv', filters => '{"filter_n_up_bbox_west": "beaucoup"}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(2, 'csv', filters => '{"filter_d_up_jdd_nom": "2024-01-01"}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(1, 'csv', id_role => 3, filters => '{"geometry": "POLYGON((1 2, 3"}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(2, 'csv', filters => '{"geometry": "POINT(1 2)"}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(2, 'csv', filters => '{"limit": -5}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(2, 'csv', filters => '[1, 2]');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM gn_export.run(2, 'csv', filters => '{"id_dataset": {"$gt": 1}}');
\echo :LAST_ERROR_SQLSTATE
-- a bad separator setting
SET gn_export.csv_separator = ';;';
SELECT count(*) FROM gn_export.run(2);
\echo :LAST_ERROR_SQLSTATE
RESET gn_export.csv_separator;
-- hostile values are data: nothing runs, nothing changes
SELECT count(*) - 1 AS records FROM gn_export.run(2, 'csv', filters => $${"jdd_nom": "x'; DROP TABLE gn_meta.t_datasets; --"}$$);
SELECT count(*) FROM gn_export.run(2, 'csv', filters => $${"jdd_nom\"; DROP TABLE gn_meta.t_datasets; --": 1}$$);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS datasets_still_there FROM gn_meta.t_datasets;
-- the view has gone
CREATE VIEW public.v_ephemere AS SELECT 1 AS id;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column, public)
VALUES ('Éphémère', 'public', 'v_ephemere', 1, 'id', true);
DROP VIEW public.v_ephemere;
SELECT count(*) FROM gn_export.run((SELECT id FROM gn_exports.t_exports WHERE label = 'Éphémère'));
\echo :LAST_ERROR_SQLSTATE

-- the view's code is planned and run with the settings gn_export pins, whatever the session's:
-- search_path, and no JIT (whose compilation an export pays before its first row)
CREATE VIEW public.v_settings AS
SELECT 1 AS id, current_setting('search_path') AS search_path, current_setting('jit') AS jit;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column, public)
VALUES ('Réglages', 'public', 'v_settings', 1, 'id', true);
SET jit = on;
SET search_path = public, pg_catalog;
SELECT c FROM gn_export.run((SELECT id FROM gn_exports.t_exports WHERE label = 'Réglages'), 'csv') c;
RESET jit;
RESET search_path;
DELETE FROM gn_exports.t_exports WHERE label = 'Réglages';
DROP VIEW public.v_settings;

-- generate(): export_dir unset, then set to a directory that does not exist
SELECT status FROM gn_export.generate(2);
\echo :LAST_ERROR_SQLSTATE
SET gn_export.export_dir = '/nonexistent/gn_export';
SELECT status FROM gn_export.generate(2);
\echo :LAST_ERROR_SQLSTATE
SET gn_export.export_dir = 'relative/dir';
SELECT status FROM gn_export.generate(2);
\echo :LAST_ERROR_SQLSTATE
-- a real directory, made by tests/regress.sh and owned by the server's user
\getenv export_dir GN_EXPORT_TEST_DIR
SET gn_export.export_dir = :'export_dir';
SET gn_export.base_url = 'https://geonature.example.org/api/media/exports/';
SELECT status, rows, bytes > 0 AS has_bytes, regexp_replace(path, '^.*/engine_dir', '<dir>') AS path, url
FROM gn_export.generate(2, 'csv');
SELECT status, rows, regexp_replace(path, '^.*/engine_dir', '<dir>') AS path
FROM gn_export.generate(3, 'geojson');
-- the file's bytes are exactly run()'s chunks
SELECT pg_read_binary_file(path) = convert_to((SELECT string_agg(c, '') FROM gn_export.run(2, 'csv') c), 'UTF8') AS same_bytes
FROM gn_export.generate(2, 'csv');
-- with a user: access-checked, time-stamped name in usr_generated
SELECT status, regexp_replace(path, '^.*/engine_dir/usr_generated/\d{4}_\d\d_\d\d_\d\dh\d\dm\d\d_', '<usr_generated>/<stamp>_') AS path
FROM gn_export.generate(1, 'json', id_role => 4);
SELECT status FROM gn_export.generate(3, 'json', id_role => 4);
\echo :LAST_ERROR_SQLSTATE
-- skip_newer_than: a fresh file is kept and reported as skipped
SELECT status, rows FROM gn_export.generate(2, 'csv', skip_newer_than => '1 hour');
SELECT status FROM gn_export.generate(2, 'csv', skip_newer_than => '0 seconds');
SELECT status FROM gn_export.generate(2, 'csv', skip_newer_than => '-1 hour');
\echo :LAST_ERROR_SQLSTATE
-- no temporary file is left behind
SELECT count(*) AS temp_files FROM pg_ls_dir(current_setting('gn_export.export_dir') || '/schedules') f WHERE f LIKE '.%';
-- a file name from a label: NFKD, spaces to _, only [0-9A-Za-z_-]
UPDATE gn_exports.t_exports SET label = 'Données / Espèces (Écrins) 2024' WHERE id = 2;
SELECT regexp_replace(path, '^.*/', '') AS file FROM gn_export.generate(2, 'json');
-- generate() writes files only inside export_dir, under names it makes: the EXECUTE grant is
-- the privilege (revoked from PUBLIC), and pg_write_server_files is not enough
SELECT has_function_privilege('public', 'gn_export.generate(integer,text,integer,interval)', 'EXECUTE') AS public_may_generate,
       has_function_privilege('public', 'gn_export.run(integer,text,integer,text,jsonb)', 'EXECUTE') AS public_may_run;
CREATE ROLE gn_t_writer IN ROLE pg_write_server_files;
GRANT USAGE ON SCHEMA gn_exports TO gn_t_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA gn_exports TO gn_t_writer;
SET ROLE gn_t_writer;
SELECT status FROM gn_export.generate(2);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT EXECUTE ON FUNCTION gn_export.generate(integer,text,integer,interval) TO gn_t_writer;
SET ROLE gn_t_writer;
-- the view reads gn_meta with its owner's rights: the role needs SELECT on the view only
SELECT status FROM gn_export.generate(2);
SELECT requested_by FROM gn_export.t_runs ORDER BY id_run DESC LIMIT 1;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT requested_by FROM gn_export.t_runs ORDER BY id_run DESC LIMIT 1;
DROP OWNED BY gn_t_writer;
DROP ROLE gn_t_writer;
\c gn_export_regress
DROP DATABASE gn_t_engine;
