-- A table of edge cases (validators.sh, geoparquet.sh): every geometry type, empties, mixed
-- SRIDs, SRID 0, Z/M, curves, NaN/±Infinity, date and time limits, huge numerics, `\.`.
CREATE TABLE public.edge (id int PRIMARY KEY, kind text, geom geometry, f8 float8, f4 float4,
                          n numeric, d date, ts timestamp, tstz timestamptz, txt text);
INSERT INTO public.edge VALUES
 (1, 'point 4326', 'SRID=4326;POINT(6 45)', 'NaN', 'Infinity', 12.500, '2000-01-01', '2000-01-01 12:00:00.123456', '2000-01-01 12:00:00.123456+02', '\.'),
 (2, 'clockwise polygon with a hole, 2154', 'SRID=2154;POLYGON((700000 6600000,700000 6601000,701000 6601000,701000 6600000,700000 6600000),(700200 6600200,700400 6600200,700400 6600400,700200 6600200))',
     '-Infinity', 'NaN', 123456789012345678901234567890.123456789, 'infinity', 'infinity', '-infinity', 'tab	here'),
 (3, 'multipoint with an empty', 'SRID=4326;MULTIPOINT((6 45),EMPTY)', 1.7976931348623157e308, 1.5, 'NaN', '-infinity', '-infinity', 'infinity', ''),
 (4, 'empty point', 'SRID=4326;POINT EMPTY', 0, 0, 0, '4713-11-24 BC', '4713-11-24 00:00:00 BC', '2000-01-01 00:00:00+00', NULL),
 (5, 'SRID 0 in Lambert-93', 'POINT(700000 6600000)', 1, 1, 1, '9999-12-31', '9999-12-31 23:59:59.999999', '1999-12-31 23:59:59.999+00', 'x'),
 (6, 'circular string', 'SRID=2154;CIRCULARSTRING(700000 6600000,700500 6600500,701000 6600000)', 2, 2, 2, '294276-12-31', '294276-12-31 23:59:59', '2000-06-01 00:00:00+00', 'é漢🦅'),
 (7, 'point ZM', 'SRID=4326;POINT ZM(6 45 100 5)', 3, 3, 3, '2024-02-29', '2024-02-29 00:00:00', '2024-02-29 00:00:00+00', '\N'),
 (8, 'TIN', 'SRID=4326;TIN Z(((6 45 0,7 45 0,6 46 0,6 45 0)))', 4, 4, 4, NULL, NULL, NULL, '"q"'),
 (9, 'collection with an empty', 'SRID=4326;GEOMETRYCOLLECTION(POINT EMPTY,LINESTRING(6 45,7 46))', 5, 5, 5, NULL, NULL, NULL, 'a;b'),
 (10, 'clockwise multipolygon', 'SRID=4326;MULTIPOLYGON(((6 45,6 46,7 46,7 45,6 45)))', 6, 6, 6, NULL, NULL, NULL, 'a
b'),
 (11, 'no geometry', NULL, 7, 7, 7, NULL, NULL, NULL, NULL),
 (12, 'polyhedral surface', 'SRID=4326;POLYHEDRALSURFACE(((6 45,6 46,7 46,6 45)))', 8, 8, 8, NULL, NULL, NULL, 'z'),
 (13, 'triangle', 'SRID=4326;TRIANGLE((6 45,7 45,6 46,6 45))', 9, 9, 9, NULL, NULL, NULL, 'z'),
 (14, 'curve polygon', 'SRID=2154;CURVEPOLYGON(CIRCULARSTRING(700000 6600000,700500 6600500,701000 6600000,700500 6599500,700000 6600000))', 10, 10, 10, NULL, NULL, NULL, 'z');
CREATE VIEW public.v_edge AS SELECT * FROM public.edge;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('Bords', 'public', 'v_edge', 'geom', 2154, true, 1, 'id');
