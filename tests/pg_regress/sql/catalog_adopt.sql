-- A GeoNature database: the module's alembic migrations already made the catalog, with rows
-- and with GeoNature's defect of one token shared by every association. CREATE EXTENSION adopts
-- it untouched (plus additive safeguards) and DROP EXTENSION leaves every row in place.
CREATE DATABASE gn_t_adopt;
\c gn_t_adopt
CREATE EXTENSION postgis;
CREATE SCHEMA utilisateurs;
CREATE TABLE utilisateurs.t_roles (groupe boolean NOT NULL DEFAULT false, id_role serial PRIMARY KEY,
                                   identifiant varchar(100), nom_role varchar(50));
INSERT INTO utilisateurs.t_roles (identifiant, nom_role) VALUES ('admin', 'Admin'), ('agent', 'Agent'), ('partner', 'Partner');

-- exactly what GeoNature's module creates (exports.sql and later revisions)
CREATE SCHEMA gn_exports;
CREATE TABLE gn_exports.t_licences (id_licence serial PRIMARY KEY, name_licence varchar(100) NOT NULL,
                                    url_licence varchar(500) NOT NULL);
CREATE TABLE gn_exports.t_exports (id serial PRIMARY KEY, label text NOT NULL CONSTRAINT uniq_label UNIQUE,
    schema_name text NOT NULL, view_name text NOT NULL, "desc" text, geometry_field varchar(255),
    geometry_srid integer, public boolean NOT NULL DEFAULT false,
    id_licence integer NOT NULL REFERENCES gn_exports.t_licences (id_licence), view_pk_column varchar NOT NULL);
CREATE TABLE gn_exports.cor_exports_roles (
    id_export integer NOT NULL REFERENCES gn_exports.t_exports (id) ON DELETE CASCADE,
    id_role integer NOT NULL REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE,
    token varchar NOT NULL, PRIMARY KEY (id_export, id_role));
CREATE TABLE gn_exports.t_export_schedules (id_export_schedule serial PRIMARY KEY,
    id_export integer NOT NULL REFERENCES gn_exports.t_exports (id) ON DELETE CASCADE,
    frequency integer NOT NULL, format varchar(10) NOT NULL, in_process boolean NOT NULL DEFAULT false);
CREATE VIEW gn_exports.v_obs AS SELECT 1 AS id_obs, 'Aquila chrysaetos'::text AS nom,
    ST_SetSRID(ST_MakePoint(6.1, 45.1), 4326)::geometry(Point, 4326) AS geom;
INSERT INTO gn_exports.t_licences (name_licence, url_licence) VALUES ('Ma licence', 'https://example.org/l');
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, id_licence, view_pk_column)
VALUES ('Observations', 'gn_exports', 'v_obs', 'geom', 4326, 1, 'id_obs'),
       -- a row GeoNature's migration left behind: its view is gone and its pk says 'to define'
       ('Ancien export', 'gn_exports', 'v_disparue', NULL, NULL, 1, 'to define');
INSERT INTO gn_exports.cor_exports_roles VALUES (1, 1, 'abcdefabcdefabcdefabcdefabcdef01'),
                                                (1, 2, 'abcdefabcdefabcdefabcdefabcdef01');
INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format) VALUES (1, 1, 'shp');

CREATE TEMP TABLE before AS
SELECT 'licences' AS t, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM gn_exports.t_licences x
UNION ALL SELECT 'exports', md5(string_agg(x::text, '|' ORDER BY x::text)) FROM gn_exports.t_exports x
UNION ALL SELECT 'roles', md5(string_agg(x::text, '|' ORDER BY x::text)) FROM gn_exports.cor_exports_roles x
UNION ALL SELECT 'schedules', md5(string_agg(x::text, '|' ORDER BY x::text)) FROM gn_exports.t_export_schedules x;

-- the shared token already in the rows is reported, not rewritten
SET client_min_messages = warning;
CREATE EXTENSION gn_export;
RESET client_min_messages;

CREATE TEMP TABLE after_create AS
SELECT 'licences' AS t, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM gn_exports.t_licences x
UNION ALL SELECT 'exports', md5(string_agg(x::text, '|' ORDER BY x::text)) FROM gn_exports.t_exports x
UNION ALL SELECT 'roles', md5(string_agg(x::text, '|' ORDER BY x::text)) FROM gn_exports.cor_exports_roles x
UNION ALL SELECT 'schedules', md5(string_agg(x::text, '|' ORDER BY x::text)) FROM gn_exports.t_export_schedules x;
SELECT b.t, b.h = a.h AS unchanged FROM before b JOIN after_create a USING (t) ORDER BY 1;

-- no licence was seeded into the administrators' table, no column changed type
SELECT id_licence, name_licence FROM gn_exports.t_licences;
SELECT column_name, data_type, column_default FROM information_schema.columns
WHERE table_schema = 'gn_exports' AND table_name = 'cor_exports_roles' ORDER BY ordinal_position;
-- the shared tokens prevented the unique index
SELECT to_regclass('gn_exports.cor_exports_roles_token_key') AS token_index;

-- the old row whose view has gone stays editable where validation is not concerned
UPDATE gn_exports.t_exports SET "desc" = 'à supprimer' WHERE label = 'Ancien export';
-- a new association written the GeoNature way (same token again) gets its own token
INSERT INTO gn_exports.cor_exports_roles VALUES (1, 3, 'abcdefabcdefabcdefabcdefabcdef01');
SELECT token <> 'abcdefabcdefabcdefabcdefabcdef01' AS healed, token ~ '^[0-9a-f]{32}$' AS hex32
FROM gn_exports.cor_exports_roles WHERE id_role = 3;

DROP EXTENSION gn_export CASCADE;
SELECT count(*) AS licences, (SELECT count(*) FROM gn_exports.t_exports) AS exports,
       (SELECT count(*) FROM gn_exports.cor_exports_roles) AS associations,
       (SELECT count(*) FROM gn_exports.t_export_schedules) AS schedules
FROM gn_exports.t_licences;
SELECT label FROM gn_exports.t_exports ORDER BY id;
SELECT count(*) AS gn_triggers_left FROM pg_trigger WHERE tgname LIKE 'gn_export%';
-- the foreign keys GeoNature made are still in place
SELECT conname FROM pg_constraint WHERE conrelid = 'gn_exports.cor_exports_roles'::regclass AND contype = 'f' ORDER BY 1;

-- a catalog without shared tokens gets the unique index on adoption
DELETE FROM gn_exports.cor_exports_roles WHERE id_role = 2;
CREATE EXTENSION gn_export;
SELECT to_regclass('gn_exports.cor_exports_roles_token_key') AS token_index;
DROP EXTENSION gn_export;

\c gn_export_regress
DROP DATABASE gn_t_adopt;
