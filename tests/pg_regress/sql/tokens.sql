-- Every association gets its own random 32-hex token (GeoNature gave one token to everybody).
CREATE DATABASE gn_t_tokens;
\c gn_t_tokens
CREATE EXTENSION gn_export CASCADE;
CREATE VIEW public.v AS SELECT 1 AS id;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column)
SELECT 'Export ' || i, 'public', 'v', 1, 'id' FROM generate_series(1, 3) i;
INSERT INTO gn_exports.cor_exports_roles (id_export, id_role)
SELECT e.id, r FROM gn_exports.t_exports e, generate_series(1, 50) r;
SELECT count(*) AS associations, count(DISTINCT token) AS distinct_tokens,
       bool_and(token ~ '^[0-9a-f]{32}$') AS all_hex32
FROM gn_exports.cor_exports_roles;

-- a writer that supplies one fixed token for several rows (GeoNature's Python default)
INSERT INTO gn_exports.cor_exports_roles VALUES (1, 100, 'samesamesamesamesamesamesamesame'),
                                                (1, 101, 'samesamesamesamesamesamesamesame'),
                                                (2, 100, 'samesamesamesamesamesamesamesame');
SELECT count(*) FILTER (WHERE token = 'samesamesamesamesamesamesamesame') AS kept_once,
       count(DISTINCT token) AS distinct_tokens
FROM gn_exports.cor_exports_roles WHERE id_role IN (100, 101);
-- an empty token is replaced too; an explicit unique token is kept
INSERT INTO gn_exports.cor_exports_roles VALUES (3, 100, ''), (3, 101, 'my-own-unique-token');
SELECT id_role, token = '' AS still_empty, token FROM gn_exports.cor_exports_roles
WHERE id_export = 3 AND id_role IN (100, 101) AND token !~ '^[0-9a-f]{32}$' ORDER BY 1;
-- copying another association's token is refused by replacing it
UPDATE gn_exports.cor_exports_roles SET token = (SELECT token FROM gn_exports.cor_exports_roles WHERE id_export = 1 AND id_role = 1)
WHERE id_export = 1 AND id_role = 2;
SELECT count(DISTINCT token) = count(*) AS still_unique FROM gn_exports.cor_exports_roles;
-- the unique index is the last line of defence (a trigger-less bulk path, e.g. replication)
UPDATE gn_exports.cor_exports_roles SET token = '0123456789abcdef0123456789abcdef' WHERE id_export = 1 AND id_role = 1
RETURNING token;
ALTER TABLE gn_exports.cor_exports_roles DISABLE TRIGGER gn_export_heal_token;
INSERT INTO gn_exports.cor_exports_roles VALUES (1, 200, '0123456789abcdef0123456789abcdef');
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE gn_exports.cor_exports_roles ENABLE TRIGGER gn_export_heal_token;
\c gn_export_regress
DROP DATABASE gn_t_tokens;
