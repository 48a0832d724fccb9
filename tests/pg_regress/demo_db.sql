\set ECHO none
-- Loads the GeoNature-like demo (sql/demo) into the current database, quietly, with
-- :demo_rows observations. Included by the tests that run on the demo: \i demo_db.sql
\o /dev/null
SET client_min_messages = warning;
\ir ../../sql/demo/geonature_schema.sql
\ir ../../sql/demo/reference_data.sql
\ir ../../sql/demo/synthese_generator.sql
CREATE EXTENSION gn_export CASCADE;
\ir ../../sql/demo/exports.sql
SELECT gn_demo.generate_synthese(:demo_rows);
RESET client_min_messages;
\o
\set ECHO all
