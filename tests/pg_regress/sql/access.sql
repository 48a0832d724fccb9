-- GeoNature's export-permission scenarios on the demo database (sql/demo), each with its
-- expected answer, plus the cases GeoNature got wrong (shared and leaked tokens).
CREATE DATABASE gn_t_access;
\c gn_t_access
\set demo_rows 20
\i demo_db.sql
\set SHOW_CONTEXT never
-- demo: export 1 'Synthese SINP' private, associated with user 4 (agent, scope 1);
-- export 2 'Jeux de données' public; export 3 'Synthese Lambert-93' private, associated with
-- group 2 (Grp_partenaires, scope 1) whose member is user 5; user 3 (admin) is in Grp_admin
-- (scope 3); user 6 (visiteur) has no permission.
SELECT id, label, public FROM gn_exports.t_exports ORDER BY id;
SELECT r AS id_role, gn_export.scope(r) AS scope FROM generate_series(1, 6) r;

-- public export read anonymously
SELECT gn_export.can_read(2) AS public_anonymous;
-- private export with no token and no user: refused
SELECT gn_export.can_read(1) AS private_anonymous;
SELECT gn_export.require_read(1);
\echo :LAST_ERROR_SQLSTATE
-- private export with a fake token: refused, and the message does not repeat it
SELECT gn_export.can_read(1, NULL, 'fake-token') AS private_fake_token;
SELECT gn_export.require_read(1, NULL, 'fake-token');
\echo :LAST_ERROR_SQLSTATE
-- private export with the right token: allowed
SELECT gn_export.can_read(1, NULL, (SELECT token FROM gn_exports.cor_exports_roles WHERE id_export = 1 AND id_role = 4)) AS private_right_token;
-- a token of another export does not open this one
SELECT gn_export.can_read(1, NULL, (SELECT token FROM gn_exports.cor_exports_roles WHERE id_export = 3 AND id_role = 2)) AS other_exports_token;
-- a user associated with the export: allowed
SELECT gn_export.can_read(1, 4) AS associated_user;
-- an admin at scope 3: allowed on an export associated with someone else
SELECT gn_export.can_read(1, 3) AS admin_scope_3;
-- ... but a wrong token refuses even the admin (GeoNature's order: token before user)
SELECT gn_export.can_read(1, 3, 'fake-token') AS admin_with_wrong_token;
-- a member of an associated group: allowed
SELECT gn_export.can_read(3, 5) AS group_member;
-- an unassociated user at scope 1: refused
SELECT gn_export.can_read(3, 4) AS unassociated_scope_1;
SELECT gn_export.require_read(3, 4);
\echo :LAST_ERROR_SQLSTATE
-- a user without any EXPORTS permission: refused even on an export they are associated with
INSERT INTO gn_exports.cor_exports_roles (id_export, id_role) VALUES (1, 6);
SELECT gn_export.can_read(1, 6) AS scope_0_associated;
SELECT gn_export.require_read(1, 6);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM gn_exports.cor_exports_roles WHERE id_role = 6;
-- an unknown export id: P0002, before any access check
SELECT gn_export.can_read(999);
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.require_read(999, 3);
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.can_read(NULL);
\echo :LAST_ERROR_SQLSTATE
-- the empty token counts as no token (GeoNature: `if token:`)
SELECT gn_export.can_read(1, 4, '') AS empty_token_with_user;

-- the lists: admin sees all; a scope-1 user without groups sees public + own; a scope-1 user
-- in a group sees public + the group's; anonymous and scope 0 see public only
SELECT id, label, formats, licence_name, cardinality(tokens) AS own_tokens FROM gn_export.exports(3);
SELECT id, label, formats, cardinality(tokens) AS own_tokens FROM gn_export.exports(4);
SELECT id, label, formats, cardinality(tokens) AS own_tokens FROM gn_export.exports(5);
SELECT id, label FROM gn_export.exports();
SELECT id, label FROM gn_export.exports(6);
-- tokens: only the caller's own (and their groups'), never another role's
SELECT e.id, e.tokens = ARRAY(SELECT token::text FROM gn_exports.cor_exports_roles WHERE id_export = e.id AND id_role = 4) AS own_token_only
FROM gn_export.exports(4) e WHERE e.id = 1;
SELECT e.id, e.tokens = ARRAY(SELECT token::text FROM gn_exports.cor_exports_roles WHERE id_export = e.id AND id_role = 2) AS group_token_only
FROM gn_export.exports(5) e WHERE e.id = 3;
SELECT count(*) AS tokens_shown_to_admin FROM gn_export.exports(3) e, unnest(e.tokens);
-- search: the words in order, case-insensitive; LIKE wildcards are literal
SELECT label FROM gn_export.exports(3, 'synthese');
SELECT label FROM gn_export.exports(3, 'SYNTHESE lambert');
SELECT label FROM gn_export.exports(3, 'lambert synthese');
SELECT label FROM gn_export.exports(3, '%');
SELECT label FROM gn_export.exports(3, '   ');

-- further cases: an expired permission is ignored, a future one counts
INSERT INTO gn_permissions.t_permissions (id_role, id_action, id_module, scope_value, expire_on)
SELECT 6, 2, id_module, 2, now() - interval '1 day' FROM gn_commons.t_modules WHERE module_code = 'EXPORTS';
SELECT gn_export.scope(6) AS scope_with_expired_permission;
UPDATE gn_permissions.t_permissions SET expire_on = now() + interval '1 day' WHERE id_role = 6;
SELECT gn_export.scope(6) AS scope_with_future_permission;
-- a permission with validated false (or NULL) is ignored
UPDATE gn_permissions.t_permissions SET validated = false WHERE id_role = 6;
SELECT gn_export.scope(6) AS scope_with_unvalidated_permission;
UPDATE gn_permissions.t_permissions SET validated = NULL WHERE id_role = 6;
SELECT gn_export.scope(6) AS scope_with_null_validated;
-- permissions of other modules, objects or actions do not count
UPDATE gn_permissions.t_permissions SET validated = true,
       id_module = (SELECT id_module FROM gn_commons.t_modules WHERE module_code = 'SYNTHESE') WHERE id_role = 6;
SELECT gn_export.scope(6) AS scope_from_other_module;
SELECT gn_export.scope(4, 'C') AS create_scope, gn_export.scope(4, 'R') AS read_scope;
-- a group's permission counts for its members, and the widest wins
SELECT gn_export.scope(5) AS member_of_scope_1_group;
INSERT INTO utilisateurs.cor_roles VALUES (1, 5);
SELECT gn_export.scope(5) AS member_of_scope_1_and_scope_3_groups;
DELETE FROM utilisateurs.cor_roles WHERE id_role_groupe = 1 AND id_role_utilisateur = 5;
-- unknown action codes and NULLs
SELECT gn_export.scope(4, 'X');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.scope(4, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.scope(NULL) AS anonymous_scope, gn_export.scope(12345) AS unknown_role_scope;

-- two associations get two different tokens; a rotated token replaces the old one
INSERT INTO gn_exports.cor_exports_roles (id_export, id_role) VALUES (3, 4), (3, 6);
SELECT count(DISTINCT token) AS distinct_tokens FROM gn_exports.cor_exports_roles WHERE id_export = 3 AND id_role IN (4, 6);
CREATE TEMP TABLE old_token AS SELECT token FROM gn_exports.cor_exports_roles WHERE id_export = 1 AND id_role = 4;
CREATE TEMP TABLE new_token AS SELECT gn_export.rotate_token(1, 4) AS token;
SELECT n.token <> o.token AS changed, n.token ~ '^[0-9a-f]{32}$' AS hex32,
       n.token = (SELECT token FROM gn_exports.cor_exports_roles WHERE id_export = 1 AND id_role = 4) AS stored
FROM new_token n, old_token o;
SELECT gn_export.can_read(1, NULL, (SELECT token FROM old_token)) AS old_token_works,
       gn_export.can_read(1, NULL, (SELECT token FROM new_token)) AS new_token_works;
SELECT gn_export.rotate_token(1, 6);
\echo :LAST_ERROR_SQLSTATE

-- who may call what: reading functions by anyone, rotate_token not by PUBLIC
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p WHERE p.pronamespace = 'gn_export'::regnamespace
  AND p.proname IN ('scope', 'can_read', 'require_read', 'exports', 'rotate_token')
ORDER BY 1;
CREATE ROLE gn_t_reader;
GRANT USAGE ON SCHEMA gn_exports TO gn_t_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA gn_exports TO gn_t_reader;
SET ROLE gn_t_reader;
SELECT gn_export.can_read(2) AS reader_can_check;
SELECT gn_export.rotate_token(1, 4);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP OWNED BY gn_t_reader;
DROP ROLE gn_t_reader;

-- hostile tokens are values, never SQL
SELECT gn_export.can_read(1, NULL, $$' OR '1'='1$$) AS injection_token,
       gn_export.can_read(1, NULL, repeat('a', 100000)) AS huge_token;

-- and when no export exists, every list is empty
DELETE FROM gn_exports.t_exports;
SELECT count(*) AS admin_list FROM gn_export.exports(3);
SELECT count(*) AS anonymous_list FROM gn_export.exports();

\c gn_export_regress
DROP DATABASE gn_t_access;
