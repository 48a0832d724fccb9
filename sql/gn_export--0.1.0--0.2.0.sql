-- gn_export 0.1.0 -> 0.2.0 (ALTER EXTENSION gn_export UPDATE)
--
-- 0.2.0 pages the partner API from snapshots of a query's keys (files under the data
-- directory: no schema), and runs on hot standbys, where generate() cannot write its history:
-- its result says whether it did.
\echo Use "ALTER EXTENSION gn_export UPDATE" to load this file. \quit

ALTER TYPE gn_export.generation ADD ATTRIBUTE recorded boolean;
COMMENT ON TYPE gn_export.generation IS 'The outcome of gn_export.generate(): status is done, skipped or failed; recorded is false on a hot standby, where the run history, the notification and the NOTIFY are not written.';
