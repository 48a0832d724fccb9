-- Every PostgreSQL type renders, in every format (design §4): numbers as numbers, NaN and
-- infinities, exact numerics, ISO dates independent of DateStyle, JSON nested, arrays as JSON
-- arrays, geometries as WKT in CSV/JSON and as GeoJSON (Z kept, M dropped, EMPTY, curves
-- linearised, reprojected to 4326), NULL as NULL.
CREATE DATABASE gn_t_types;
\c gn_t_types
SET client_min_messages = warning;
CREATE EXTENSION gn_export CASCADE;
RESET client_min_messages;
SET timezone = 'Europe/Paris';
SET datestyle = 'SQL, DMY';   -- the output must not depend on it
SET extra_float_digits = 0;   -- nor on this
CREATE TYPE public.humeur AS ENUM ('content', 'grognon');
CREATE DOMAIN public.code_insee AS varchar(5) CHECK (VALUE ~ '^[0-9AB]{5}$');
CREATE TABLE public.types (
    id int PRIMARY KEY,
    i2 smallint, i8 bigint, f4 real, f8 double precision, num numeric(10,3), num_free numeric,
    b boolean, t text, vc varchar(10), ch char(3), d date, tm time, tmtz timetz,
    ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb,
    ai int[], at text[], a2 int[][], bt bytea, e public.humeur, dom public.code_insee,
    ip inet, geom geometry(GeometryZ, 2154), g2 geometry
);
INSERT INTO public.types VALUES
 (1, -32768, 9223372036854775807, 0.1, 0.1, 12.500, 1e-20, true, 'a;b,"c"\d' || E'\t\n\r\n', 'x', 'ab',
  '2024-03-01', '10:20:30', '10:20:30+02', '2024-03-01 10:20:30.123456', '2024-07-01 10:20:30+00',
  '1 year 2 mons 3 days 04:05:06', '12345678-9abc-def0-0123-456789abcdef', '{"k": [1, "é"]}', '{"b": 2, "a": 1}',
  '{1,NULL,3}', '{"a b","c\"d",NULL}', '{{1,2},{3,4}}', '\x00ff', 'grognon', '05061', '192.168.0.1/24',
  'SRID=2154;POINT Z (700000 6600000 1500)', 'SRID=4326;POINT M (6 45 3)'),
 (2, 0, -1, 'NaN', 'Infinity', 'NaN', '0.000', false, '', '', '', '0044-03-15 BC', '24:00:00', '00:00:00-09:30',
  'infinity', '-infinity', '0', '00000000-0000-0000-0000-000000000000', 'null', '[]',
  '{}', '{}', '{}', '\x', 'content', NULL, NULL,
  'SRID=2154;LINESTRING Z (700000 6600000 1, 700100 6600100 2)', 'SRID=4326;CIRCULARSTRING(6 45, 6.001 45.001, 6.002 45)'),
 (3, NULL, NULL, '-Infinity', -0.0, '-123456.789', NULL, NULL, 'é漢🦅', NULL, NULL, '2000-02-29', NULL, NULL,
  '1999-12-31 23:59:59.999999', '2024-01-15 08:00:00.5+01', NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'SRID=2154;POLYGON Z EMPTY', 'SRID=4326;POINT EMPTY'),
 (4, 1, 1, 1e-7, 1.5e300, 1, NULL, true, '\N', '\.', ' ', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'SRID=4326;GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1))');
CREATE VIEW public.v_types AS SELECT * FROM public.types ORDER BY id;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('Types', 'public', 'v_types', 'geom', 2154, true, 1, 'id');

\pset format unaligned
\pset tuples_only on
\pset fieldsep ''
\pset recordsep ''
-- CSV (each chunk carries its own CRLF; psql adds nothing between records here)
SELECT gn_export.run(1, 'csv');
\echo
-- JSON
SELECT gn_export.run(1, 'json');
-- GeoJSON: reprojected from 2154 to 4326, Z kept, other geometries not in properties
SELECT gn_export.run(1, 'geojson');
-- one feature per line
SELECT gn_export.run(1, 'geojsonseq');
-- the separator comes from gn_export.csv_separator
SET gn_export.csv_separator = ',';
SELECT gn_export.run(1, 'csv', filters => '{"id": 1}');
\echo
SET gn_export.csv_separator = E'\t';
SELECT gn_export.run(1, 'csv', filters => '{"id": 4}');
\echo
RESET gn_export.csv_separator;
-- fewer decimals on request
SET gn_export.geojson_decimals = 3;
SELECT gn_export.run(1, 'geojsonseq', filters => '{"id": 2}');
RESET gn_export.geojson_decimals;
\pset format aligned
\pset tuples_only off
\pset fieldsep '|'
\pset recordsep '\n'
-- the chunks: header, one per row, footer
SELECT n, length(c) FROM gn_export.run(1, 'geojson') WITH ORDINALITY AS r(c, n);
\c gn_export_regress
DROP DATABASE gn_t_types;
