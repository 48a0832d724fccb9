-- The COPY hook: FORMAT raw, json, geojson and geojsonseq for any query, with GEOMETRY and ID;
-- every other COPY untouched. The library must be loaded before the COPY statement.
CREATE DATABASE gn_t_copy;
ALTER DATABASE gn_t_copy SET session_preload_libraries = 'gn_export';
\c gn_t_copy
SET client_min_messages = warning;
CREATE EXTENSION gn_export CASCADE;
RESET client_min_messages;
CREATE TABLE public.obs (id int, nom text, geom geometry(Point, 2154), autre geometry);
INSERT INTO public.obs VALUES (1, E'a;b\t"c"\nd', 'SRID=2154;POINT(700000 6600000)', 'SRID=4326;POINT(1 2)'),
                              (2, NULL, NULL, NULL), (3, '漢字🦅', 'SRID=2154;POINT(700100 6600100)', NULL);
-- raw: each value verbatim, no delimiter, no escaping
COPY (SELECT nom || E'\n' FROM public.obs WHERE nom IS NOT NULL ORDER BY id) TO STDOUT WITH (FORMAT raw);
COPY (SELECT '\x41420a'::bytea) TO STDOUT WITH (FORMAT raw);
-- geojson of any query: the first geometry column, reprojected to 4326; ID on request
COPY (SELECT * FROM public.obs ORDER BY id) TO STDOUT WITH (FORMAT geojson, ID 'id');
COPY (SELECT id, autre, geom FROM public.obs ORDER BY id) TO STDOUT WITH (FORMAT geojsonseq, GEOMETRY 'geom');
-- a table instead of a query
COPY public.obs TO STDOUT WITH (FORMAT 'json');
-- the export through run(), byte for byte
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, public, id_licence, view_pk_column)
VALUES ('Obs', 'public', 'obs', 'geom', true, 1, 'id');
COPY (SELECT gn_export.run(1, 'geojsonseq', filters => '{"orderby": "id"}')) TO STDOUT WITH (FORMAT raw);
-- every other COPY goes to PostgreSQL untouched
COPY (SELECT id, nom FROM public.obs ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER);
COPY (SELECT 1) TO STDOUT WITH (FORMAT parquet);
\echo :LAST_ERROR_SQLSTATE
-- errors
COPY (SELECT 1, 2) TO STDOUT WITH (FORMAT raw);
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT 1::int) TO STDOUT WITH (FORMAT raw);
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT 1 AS id) TO STDOUT WITH (FORMAT geojson);
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT * FROM public.obs) TO STDOUT WITH (FORMAT geojson, GEOMETRY 'nom');
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT * FROM public.obs) TO STDOUT WITH (FORMAT geojson, GEOMETRY 'absent');
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT * FROM public.obs) TO STDOUT WITH (FORMAT geojson, DELIMITER ',');
\echo :LAST_ERROR_SQLSTATE
COPY public.obs FROM '/tmp/gn_t_nothing.geojson' WITH (FORMAT geojson);
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT 'x') TO PROGRAM 'cat' WITH (FORMAT raw);
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT 'x') TO 'relative.txt' WITH (FORMAT raw);
\echo :LAST_ERROR_SQLSTATE
COPY (INSERT INTO public.obs (id) VALUES (9) RETURNING nom) TO STDOUT WITH (FORMAT raw);
\echo :LAST_ERROR_SQLSTATE
-- files follow core COPY's privilege rule
CREATE ROLE gn_t_copier;
GRANT SELECT ON public.obs TO gn_t_copier;
SET ROLE gn_t_copier;
COPY (SELECT nom FROM public.obs) TO '/tmp/gn_t_copy.txt' WITH (FORMAT raw);
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT nom FROM public.obs WHERE id = 3) TO STDOUT WITH (FORMAT raw);
\echo
RESET ROLE;
DROP OWNED BY gn_t_copier;
DROP ROLE gn_t_copier;
-- a superuser writes a file, atomically
COPY (SELECT id, geom FROM public.obs ORDER BY id) TO '/tmp/gn_t_copy.geojson' WITH (FORMAT geojson);
SELECT pg_read_file('/tmp/gn_t_copy.geojson');
\! rm -f /tmp/gn_t_copy.geojson
\c gn_export_regress
DROP DATABASE gn_t_copy;
