-- Scheduled exports, the run history, GeoNature notifications, pg_notify and clean_files().
CREATE DATABASE gn_t_schedule;
\c gn_t_schedule
\set demo_rows 30
\i demo_db.sql
\set SHOW_CONTEXT never
\getenv export_dir GN_EXPORT_TEST_DIR
SELECT set_config('gn_export.export_dir', :'export_dir' || '/schedule', false) IS NOT NULL AS export_dir_set;
\! install -d -o postgres -g postgres "$GN_EXPORT_TEST_DIR/schedule"
CREATE FUNCTION pg_temp.f(p text) RETURNS text LANGUAGE sql AS $$ SELECT regexp_replace(p, '^.*/schedule/', '') $$;

-- three schedules: the first is not due (its file is fresh), the second fails (its view
-- raises), the third is due. GeoNature stopped at the first skipped schedule.
CREATE VIEW public.v_panne AS SELECT 1 / (id_dataset - id_dataset) AS id FROM gn_meta.t_datasets;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column)
VALUES ('En panne', 'public', 'v_panne', 1, 'id');
DELETE FROM gn_exports.t_export_schedules;
INSERT INTO gn_exports.t_export_schedules (id_export_schedule, id_export, frequency, format, in_process) VALUES
    (11, 2, 1, 'csv', false),
    (12, (SELECT id FROM gn_exports.t_exports WHERE label = 'En panne'), 1, 'json', true),  -- stuck since a GeoNature crash
    (13, 3, 7, 'geojson', false);
SELECT status FROM gn_export.generate(2, 'csv');
SELECT id_export_schedule AS s, format, status, pg_temp.f(path) AS file, rows, error
FROM gn_export.run_scheduled() ORDER BY 1;
-- in_process is never left true, even after a failure (and a stuck one is repaired)
SELECT id_export_schedule AS s, in_process FROM gn_exports.t_export_schedules ORDER BY 1;
-- run again at once: nothing is due any more, the failing one is tried again
SELECT id_export_schedule AS s, status FROM gn_export.run_scheduled() ORDER BY 1;
-- a daily schedule run again 23h30 (1410 minutes) later regenerates, 22h30 later it does not
-- (a 1 hour tolerance by default); GeoNature's daily schedules ran every other day
\! touch -d '1410 minutes ago' "$GN_EXPORT_TEST_DIR/schedule/schedules/Jeux_de_donnees.csv"
SELECT id_export_schedule AS s, status FROM gn_export.run_scheduled() WHERE id_export_schedule = 11;
\! touch -d '1350 minutes ago' "$GN_EXPORT_TEST_DIR/schedule/schedules/Jeux_de_donnees.csv"
SELECT id_export_schedule AS s, status FROM gn_export.run_scheduled() WHERE id_export_schedule = 11;
-- formats a schedule cannot generate (GeoNature's migrated 'shp' rows) fail cleanly
ALTER TABLE gn_exports.t_export_schedules DROP CONSTRAINT t_export_schedules_format_check;
INSERT INTO gn_exports.t_export_schedules (id_export_schedule, id_export, frequency, format) VALUES (14, 2, 1, 'shp');
SELECT id_export_schedule AS s, status, error FROM gn_export.run_scheduled() WHERE id_export_schedule = 14;
DELETE FROM gn_exports.t_export_schedules WHERE id_export_schedule = 14;

-- the run history, for administrators
SELECT label, format, requested_for, status, rows, sqlstate, error IS NOT NULL AS has_error
FROM gn_export.v_runs ORDER BY id_run;

-- generate() with a user: a GeoNature notification (EXPORT-DONE, method DB), also on failure
UPDATE gn_exports.t_exports SET public = true WHERE label = 'En panne';
SELECT status FROM gn_export.generate(1, 'csv', id_role => 4);
SELECT status, sqlstate, error FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'En panne'), 'csv', id_role => 4);
SELECT id_role, title, code_status, creation_date IS NOT NULL AS dated, url IS NULL AS no_url,
       regexp_replace(content, '[0-9_hm]{19}_', '<stamp>_', 'g') AS content
FROM gn_notifications.t_notifications ORDER BY id_notification;
-- an unsubscribed user gets none (their own rule overrides the default one)
INSERT INTO gn_notifications.t_notifications_rules (id_role, code_method, code_category, subscribed)
VALUES (3, 'DB', 'EXPORT-DONE', false);
SELECT status FROM gn_export.generate(1, 'csv', id_role => 3);
SELECT count(*) AS notifications_for_user_3 FROM gn_notifications.t_notifications WHERE id_role = 3;
-- scheduled and admin generations notify nobody in GeoNature
SELECT count(*) AS notifications FROM gn_notifications.t_notifications;

-- the history records who asked: the user, the schedule, or the administrator's role
SELECT requested_for, status, count(*) FROM gn_export.v_runs GROUP BY 1, 2 ORDER BY 1, 2;

-- clean_files(): old user files and orphan schedule files go; live schedule files stay
\! cd "$GN_EXPORT_TEST_DIR/schedule" && touch -d '20 days ago' schedules/Jeux_de_donnees.csv && touch -d '20 days ago' schedules/Jeux_de_donnees.json && touch -d '20 days ago' usr_generated/2020_01_01_00h00m00_Old.csv && touch -d '20 days ago' usr_generated/notes.txt && touch -d '3 days ago' schedules/.Old.csv.1.tmp && touch -d '20 days ago' usr_generated/2020_01_02_00h00m00_Recent.csv && touch usr_generated/2020_01_02_00h00m00_Recent.csv && chown postgres usr_generated/* schedules/.Old.csv.1.tmp
SELECT pg_temp.f(path) AS file, reason, bytes > 0 AS had_bytes FROM gn_export.clean_files() ORDER BY 1;
SELECT f AS kept FROM pg_ls_dir(current_setting('gn_export.export_dir') || '/schedules') f WHERE f NOT LIKE '.%' ORDER BY 1;
SELECT f AS kept FROM pg_ls_dir(current_setting('gn_export.export_dir') || '/usr_generated') f
WHERE f LIKE '2020%' OR f = 'notes.txt' ORDER BY 1;
-- (user files of the same export made in different seconds are one line)
SELECT DISTINCT regexp_replace(pg_temp.f(path), '[0-9_hm]{19}_', '<stamp>_') AS removed_now, reason FROM gn_export.clean_files(0) ORDER BY 1;
SELECT gn_export.clean_files(-1);
\echo :LAST_ERROR_SQLSTATE
-- who may call what
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       has_function_privilege('pg_write_server_files', p.oid, 'EXECUTE') AS file_writers
FROM pg_proc p WHERE p.pronamespace = 'gn_export'::regnamespace
  AND p.proname IN ('run_scheduled', 'clean_files', 'generate', 'api', 'run')
ORDER BY 1;
\c gn_export_regress
DROP DATABASE gn_t_schedule;
