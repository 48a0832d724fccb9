-- The validation trigger on gn_exports.t_exports refuses definitions that can never run,
-- each with its SQLSTATE and a message that says what to do.
CREATE DATABASE gn_t_valid;
\c gn_t_valid
CREATE EXTENSION gn_export CASCADE;
\set SHOW_CONTEXT never
CREATE TABLE public.obs (id int PRIMARY KEY, nom text, geom geometry(Point, 2154), geog geography(Point, 4326),
                         g_any geometry, "Mixed Case" int);
INSERT INTO public.obs (id, nom) VALUES (1, 'un'), (2, 'deux');
CREATE VIEW public.v_obs AS SELECT * FROM public.obs;

-- the view does not exist: 42P01
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column)
VALUES ('A', 'public', 'v_absente', 1, 'id');
\echo :LAST_ERROR_SQLSTATE
-- a schema that does not exist: 42P01
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column)
VALUES ('A', 'nulle_part', 'v_obs', 1, 'id');
\echo :LAST_ERROR_SQLSTATE
-- view_pk_column is not a column: 42703
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column)
VALUES ('A', 'public', 'v_obs', 1, 'id_obs');
\echo :LAST_ERROR_SQLSTATE
-- identifiers are exact, never folded: "Mixed Case" exists, mixed case does not
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column)
VALUES ('A', 'public', 'v_obs', 1, 'mixed case');
\echo :LAST_ERROR_SQLSTATE
-- geometry_field is not a column: 42703
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, id_licence, view_pk_column)
VALUES ('A', 'public', 'v_obs', 'the_geom', 1, 'id');
\echo :LAST_ERROR_SQLSTATE
-- geometry_field is not a geometry: 42804
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, id_licence, view_pk_column)
VALUES ('A', 'public', 'v_obs', 'nom', 1, 'id');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, id_licence, view_pk_column)
VALUES ('A', 'public', 'v_obs', 'geog', 1, 'id');
\echo :LAST_ERROR_SQLSTATE
-- nor is a domain over geometry (someone else's functions and casts may apply to it): 42804
CREATE DOMAIN public.geom_d AS geometry;
CREATE VIEW public.v_obs_domain AS SELECT id, geom::public.geom_d AS geom FROM public.obs;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, id_licence, view_pk_column)
VALUES ('A', 'public', 'v_obs_domain', 'geom', 1, 'id');
\echo :LAST_ERROR_SQLSTATE
-- geometry_srid disagrees with the column's SRID: 22023
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, id_licence, view_pk_column)
VALUES ('A', 'public', 'v_obs', 'geom', 4326, 1, 'id');
\echo :LAST_ERROR_SQLSTATE
-- an UPDATE that breaks a good definition is refused the same way
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, id_licence, view_pk_column)
VALUES ('Bon', 'public', 'v_obs', 'geom', 2154, 1, 'id') RETURNING label, geometry_field, geometry_srid;
UPDATE gn_exports.t_exports SET geometry_srid = 4326 WHERE label = 'Bon';
\echo :LAST_ERROR_SQLSTATE
UPDATE gn_exports.t_exports SET view_name = 'v_absente' WHERE label = 'Bon';
\echo :LAST_ERROR_SQLSTATE
UPDATE gn_exports.t_exports SET view_pk_column = 'nope' WHERE label = 'Bon';
\echo :LAST_ERROR_SQLSTATE

-- accepted: NULL SRID (the column's is used), an unconstrained geometry column with any SRID,
-- a blank geometry field (no geometry), a table instead of a view, a quoted mixed-case pk
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, id_licence, view_pk_column)
VALUES ('Sans SRID', 'public', 'v_obs', 'geom', NULL, 1, 'id'),
       ('Géométrie libre', 'public', 'v_obs', 'g_any', 3857, 1, 'id'),
       ('Sans géométrie', 'public', 'v_obs', '', NULL, 1, 'id'),
       ('Table', 'public', 'obs', NULL, NULL, 1, 'Mixed Case')
RETURNING label;
-- label and public can change on a row even after its view is dropped
DROP VIEW public.v_obs CASCADE;
UPDATE gn_exports.t_exports SET public = true, label = 'Bon (ancien)' WHERE label = 'Bon' RETURNING label, public;

-- the check is callable directly, e.g. before registering an export
SELECT gn_export.check_definition('Direct', 'public', 'obs', 'id', 'geom', 2154);
SELECT gn_export.check_definition('Direct', 'public', 'obs', 'id', 'geom', 4326);
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.check_definition('Direct', 'public', NULL, 'id');
\echo :LAST_ERROR_SQLSTATE
-- hostile identifiers are data, never SQL
SELECT gn_export.check_definition('X', 'public', 'obs; DROP TABLE public.obs; --', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.check_definition('X', 'public', 'obs', 'id"; DROP TABLE public.obs; --');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS obs_still_there FROM public.obs;
\c gn_export_regress
DROP DATABASE gn_t_valid;
