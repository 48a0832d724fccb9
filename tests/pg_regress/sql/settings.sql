-- Settings: registered when the library loads, with the prefix reserved.
CREATE EXTENSION IF NOT EXISTS gn_export CASCADE;
SELECT gn_export.version() IS NOT NULL AS loaded;
SELECT name, setting, context, vartype FROM pg_settings WHERE name LIKE 'gn_export.%' ORDER BY name;
SHOW gn_export.export_dir;
-- a typo in a gn_export setting is an error, not a silent placeholder
SET gn_export.exportdir = '/tmp';
\echo :LAST_ERROR_SQLSTATE
-- bounds are enforced
SET gn_export.geojson_decimals = 18;
\echo :LAST_ERROR_SQLSTATE
SET gn_export.geojson_decimals = 6;
SHOW gn_export.geojson_decimals;
-- export_dir is for superusers only
CREATE ROLE gn_t_user;
SET ROLE gn_t_user;
SET gn_export.export_dir = '/tmp';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE gn_t_user;
