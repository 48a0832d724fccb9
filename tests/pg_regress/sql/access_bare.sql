-- Access on a database without any GeoNature table: public exports and tokens only.
CREATE DATABASE gn_t_access_bare;
\c gn_t_access_bare
SET client_min_messages = warning;
CREATE EXTENSION gn_export CASCADE;
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE VIEW public.v AS SELECT 1 AS id, 'un'::text AS nom;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Publique', 'public', 'v', true, 1, 'id'), ('Privée', 'public', 'v', false, 1, 'id');
-- no utilisateurs.t_roles here, so any id_role can be associated
INSERT INTO gn_exports.cor_exports_roles (id_export, id_role, token)
SELECT id, 42, 'token-of-role-42-for-the-private' FROM gn_exports.t_exports WHERE label = 'Privée';

SELECT gn_export.scope(42) AS scope, gn_export.scope(42, 'E') AS export_scope;
SELECT gn_export.scope(42, 'X');
\echo :LAST_ERROR_SQLSTATE
SELECT label, gn_export.can_read(id) AS anonymous,
       gn_export.can_read(id, 42) AS user_42,
       gn_export.can_read(id, NULL, 'token-of-role-42-for-the-private') AS with_token,
       gn_export.can_read(id, NULL, 'wrong') AS wrong_token
FROM gn_exports.t_exports ORDER BY id;
SELECT gn_export.require_read(id, 42) FROM gn_exports.t_exports WHERE label = 'Privée';
\echo :LAST_ERROR_SQLSTATE
SELECT id, label, formats, tokens FROM gn_export.exports(42);
SELECT id, label FROM gn_export.exports();
\c gn_export_regress
DROP DATABASE gn_t_access_bare;
