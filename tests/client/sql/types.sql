-- A table of every column type GeoNature's views use (gpkg.sh, geoparquet.sh), with NULLs.
CREATE TABLE public.types (
    id int PRIMARY KEY, i2 smallint, i8 bigint, f4 real, f8 double precision, num numeric(12,3),
    b boolean, t text, d date, ts timestamp, j jsonb, ai int[], at text[], u uuid,
    geom geometry(PointZ, 2154));
INSERT INTO public.types VALUES
 (1, -3, 9007199254740993, 0.5, 0.1, 12.500, true, E'a;b,"c"\n漢🦅', '2024-03-01', '2024-03-01 10:20:30', '{"k": [1, "é"]}', '{1,NULL,3}', '{"x y",z}', '12345678-9abc-def0-0123-456789abcdef', 'SRID=2154;POINT Z (700000 6600000 1500)'),
 (2, 0, 0, -1.25, -0.000001, -0.001, false, '', '2000-02-29', '1999-12-31 23:59:59', '[]', '{}', '{}', NULL, 'SRID=2154;POINT Z (700100 6600100 10)'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('Types géo', 'public', 'types', 'geom', 2154, true, 1, 'id');
