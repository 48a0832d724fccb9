-- The partner API, gn_export.api(), on the demo: GeoNature's GET /exports/api/<id> with its
-- defects fixed, and every error with its SQLSTATE.
CREATE DATABASE gn_t_api;
\c gn_t_api
\set demo_rows 60
\i demo_db.sql
\set SHOW_CONTEXT never
-- a public export without geometry: an array of objects, the licence, the counts
SELECT jsonb_pretty(gn_export.api(2, '{"limit": 2, "orderby": "id_dataset:DESC"}')::jsonb #- '{items,0,jdd_description}' #- '{items,1,jdd_description}' #- '{snapshot}');
-- pages are slices of a snapshot of the query's keys, which the answer names: a random id and
-- its time, ISO 8601 in UTC
SELECT r->'snapshot'->>'id' ~ '^[0-9a-f]{32}$' AS id_is_32_hex,
       r->'snapshot'->>'created_at' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$' AS iso_utc,
       (r->'snapshot'->>'created_at')::timestamptz BETWEEN now() - interval '10 minutes' AND clock_timestamp() AS recent
FROM gn_export.api(2, '{"limit": 1}') r;
-- the same query reuses it whatever the page; other filters or another order make another
SELECT count(DISTINCT r->'snapshot'->>'id') AS snapshots_same_query
FROM generate_series(0, 3) p, gn_export.api(2, jsonb_build_object('limit', 2, 'offset', p)) r;
SELECT count(DISTINCT r->'snapshot'->>'id') AS snapshots_three_queries
FROM (VALUES ('{}'::jsonb), ('{"orderby": "jdd_nom"}'), ('{"jdd_nom": "x"}')) q(f), gn_export.api(2, f) r;
-- GeoNature's defaults: limit from gn_export.api_default_limit, capped at api_max_limit
SELECT r->'limit' AS lim, r->'page' AS page, json_array_length(r->'items') AS n FROM gn_export.api(2) r;
SET gn_export.api_max_limit = 5;
SELECT r->'limit' AS lim, json_array_length(r->'items') AS n FROM gn_export.api(2, '{"limit": 1000}') r;
RESET gn_export.api_max_limit;
-- an export with geometry: a FeatureCollection, id = pk, NULL geometries kept (pages are honest)
SELECT r->'items'->>'type' AS type, json_array_length(r->'items'->'features') AS features,
       (SELECT count(*) FROM json_array_elements(r->'items'->'features') f WHERE json_typeof(f->'geometry') = 'null') AS null_geometries,
       (SELECT bool_and((f->>'id')::int = (f->'properties'->>'id_synthese')::int) FROM json_array_elements(r->'items'->'features') f) AS id_is_pk,
       r->'total' AS total, r->'total_filtered' AS total_filtered
FROM gn_export.api(1, '{"limit": 100}', 3) r;
SELECT count(*) AS null_geometries_in_view FROM gn_exports.v_synthese_sinp WHERE geom IS NULL;
-- access: public anonymously; private with the token (argument or parameter), as a user; refused otherwise
SELECT (gn_export.api(1, jsonb_build_object('limit', 1, 'token', (SELECT token FROM gn_exports.cor_exports_roles WHERE id_export = 1 AND id_role = 4))))->'limit' AS with_token_param;
SELECT (gn_export.api(1, '{"limit": 1}', token => (SELECT token FROM gn_exports.cor_exports_roles WHERE id_export = 1 AND id_role = 4)))->'limit' AS with_token_arg;
SELECT (gn_export.api(1, '{"limit": 1}', 4))->'limit' AS as_user;
SELECT gn_export.api(1);
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(1, '{"token": "wrong"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(3, '{}', 4);
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(999);
\echo :LAST_ERROR_SQLSTATE

-- every filter type on the right column types
CREATE FUNCTION pg_temp.n(r json) RETURNS int LANGUAGE sql AS $$
    SELECT coalesce(json_array_length(r->'items'->'features'), json_array_length(r->'items')) $$;
SELECT 'text ilike' AS filter, pg_temp.n(gn_export.api(1, '{"ilike_comment_releve": "LIGNE"}', 3)) AS got,
       (SELECT count(*) FROM gn_exports.v_synthese_sinp WHERE comment_releve ILIKE '%ligne%') AS expected
UNION ALL SELECT 'varchar ilike (GeoNature ignored it)', pg_temp.n(gn_export.api(1, '{"ilike_nom_cite": "rana"}', 3)),
       (SELECT count(*) FROM gn_exports.v_synthese_sinp WHERE nom_cite ILIKE '%rana%')
UNION ALL SELECT 'varchar equality', pg_temp.n(gn_export.api(1, '{"nom_cite": "Picea abies"}', 3)),
       (SELECT count(*) FROM gn_exports.v_synthese_sinp WHERE nom_cite = 'Picea abies')
UNION ALL SELECT 'int equality', pg_temp.n(gn_export.api(1, '{"cd_nom": 60105}', 3)),
       (SELECT count(*) FROM gn_exports.v_synthese_sinp WHERE cd_nom = 60105)
UNION ALL SELECT 'int range (filter_n)', pg_temp.n(gn_export.api(1, '{"filter_n_up_altitude_min": 1500, "filter_n_lo_altitude_min": 2500}', 3)),
       (SELECT count(*) FROM gn_exports.v_synthese_sinp WHERE altitude_min BETWEEN 1500 AND 2500)
UNION ALL SELECT 'float range', pg_temp.n(gn_export.api(1, '{"filter_n_up_x_centroid_4326": 6.2}', 3)),
       (SELECT count(*) FROM gn_exports.v_synthese_sinp WHERE x_centroid_4326 >= 6.2)
UNION ALL SELECT 'timestamp from a date (whole days)', pg_temp.n(gn_export.api(1, '{"filter_d_up_date_debut": "2010-01-01", "filter_d_lo_date_debut": "2015-12-31"}', 3)),
       (SELECT count(*) FROM gn_exports.v_synthese_sinp WHERE date_debut >= '2010-01-01' AND date_debut < '2016-01-01')
UNION ALL SELECT 'timestamp from a timestamp', pg_temp.n(gn_export.api(1, '{"filter_d_up_date_debut": "2010-06-01T12:00:00"}', 3)),
       (SELECT count(*) FROM gn_exports.v_synthese_sinp WHERE date_debut >= '2010-06-01 12:00')
UNION ALL SELECT 'date column (GeoNature ignored it)', pg_temp.n(gn_export.api(3, '{"filter_d_lo_date_debut": "2008-12-31"}', 3)),
       (SELECT count(*) FROM gn_exports.v_synthese_l93 WHERE date_debut <= '2008-12-31')
UNION ALL SELECT 'date equality', pg_temp.n(gn_export.api(3, jsonb_build_object('filter_d_eq_date_debut', (SELECT to_char(min(date_debut), 'YYYY-MM-DD') FROM gn_exports.v_synthese_l93)), 3)),
       (SELECT count(*) FROM gn_exports.v_synthese_l93 WHERE date_debut = (SELECT min(date_debut) FROM gn_exports.v_synthese_l93))
UNION ALL SELECT 'geometry on a 4326 view', pg_temp.n(gn_export.api(1, '{"geometry": "POLYGON((5.9 44.5, 6.2 44.5, 6.2 44.8, 5.9 44.8, 5.9 44.5))"}', 3)),
       (SELECT count(*) FROM gn_exports.v_synthese_sinp WHERE ST_Intersects(geom, 'SRID=4326;POLYGON((5.9 44.5, 6.2 44.5, 6.2 44.8, 5.9 44.8, 5.9 44.5))'))
UNION ALL SELECT 'geometry on a 2154 view (GeoNature failed)', pg_temp.n(gn_export.api(3, '{"geometry": "POLYGON((5.9 44.5, 6.2 44.5, 6.2 44.8, 5.9 44.8, 5.9 44.5))"}', 3)),
       (SELECT count(*) FROM gn_exports.v_synthese_l93 WHERE ST_Intersects(geom_local, ST_Transform('SRID=4326;POLYGON((5.9 44.5, 6.2 44.5, 6.2 44.8, 5.9 44.8, 5.9 44.5))'::geometry, 2154)));

-- orderby ASC and DESC (ties broken by the pk, so pages are stable)
SELECT (SELECT array_agg((f->>'id')::int) FROM json_array_elements(r->'items'->'features') f) AS ids
FROM gn_export.api(1, '{"limit": 5, "orderby": "id_synthese:DESC"}', 3) r;
SELECT (SELECT array_agg((f->>'id')::int) FROM json_array_elements(r->'items'->'features') f) AS ids
FROM gn_export.api(1, '{"limit": 5, "orderby": "id_synthese:asc"}', 3) r;
SELECT (SELECT array_agg(f->'properties'->>'nom_cite' ORDER BY ord) FROM json_array_elements(r->'items'->'features') WITH ORDINALITY f(f, ord))
     = (SELECT array_agg(nom_cite::text ORDER BY nom_cite DESC, id_synthese) FROM (SELECT * FROM gn_exports.v_synthese_sinp ORDER BY nom_cite DESC, id_synthese LIMIT 5) x) AS by_name_desc
FROM gn_export.api(1, '{"limit": 5, "orderby": "nom_cite:DESC"}', 3) r;

-- several columns, as GN2PG writes them (GeoNature's GenericQuery sorted by the first only)
SELECT (SELECT array_agg(f->'properties'->>'nom_cite' || '/' || (f->>'id') ORDER BY ord) FROM json_array_elements(r->'items'->'features') WITH ORDINALITY f(f, ord))
     = (SELECT array_agg(nom_cite || '/' || id_synthese ORDER BY nom_cite DESC, id_synthese DESC)
          FROM (SELECT * FROM gn_exports.v_synthese_sinp ORDER BY nom_cite DESC, id_synthese DESC LIMIT 5) x) AS by_name_then_id_desc
FROM gn_export.api(1, '{"limit": 5, "orderby": "nom_cite:desc:id_synthese:DESC"}', 3) r;
-- names that are neither the API's, nor columns, nor filters are ignored as GeoNature ignores
-- them (GN2PG's action, a cache buster, f=json), listed in "ignored", and not part of the query
SELECT r->'ignored' AS ignored, r->'total_filtered' AS total_filtered, r->'pages' AS pages,
       r->'snapshot'->>'id' = (gn_export.api(2, '{"limit": 2}')->'snapshot'->>'id') AS same_snapshot
FROM gn_export.api(2, '{"limit": 2, "action": "[''I'', ''U'']", "_": "1733572800", "f": "json"}') r;

-- paging through a filtered export: the pages' union is the filtered set, nothing twice,
-- and total_filtered stays the same on every page (GeoNature subtracted the offset)
WITH pages AS (
    SELECT p, gn_export.api(1, jsonb_build_object('limit', 7, 'offset', p, 'filter_n_up_altitude_min', 1500, 'orderby', 'nom_cite'), 3) AS r
    FROM generate_series(0, 9) p
), ids AS (
    SELECT p, (f->>'id')::int AS id FROM pages, json_array_elements(r->'items'->'features') f
)
SELECT (SELECT count(DISTINCT r->>'total_filtered') FROM pages) AS distinct_total_filtered,
       (SELECT min((r->>'total_filtered')::int) FROM pages) AS total_filtered,
       (SELECT count(*) FROM ids) AS rows_paged,
       (SELECT count(DISTINCT id) FROM ids) AS distinct_rows,
       (SELECT array_agg(id ORDER BY id) FROM ids) = (SELECT array_agg(id_synthese ORDER BY id_synthese) FROM gn_exports.v_synthese_sinp WHERE altitude_min >= 1500) AS union_is_filtered_set,
       (SELECT max(p) FROM pages WHERE pg_temp.n(r) > 0) AS last_full_page;
-- a snapshot keeps its rows and counts: a row inserted meanwhile is only in a newer snapshot
SELECT r->'snapshot'->>'id' AS sid, r->'total' AS total, r->'total_filtered' AS total_filtered FROM gn_export.api(2, '{"limit": 1}') r \gset
SELECT :total AS total, :total_filtered AS total_filtered;
INSERT INTO gn_meta.t_datasets (id_acquisition_framework, dataset_name, dataset_shortname, dataset_desc,
    id_nomenclature_data_type, marine_domain, terrestrial_domain, id_nomenclature_dataset_objectif,
    id_nomenclature_collecting_method, id_nomenclature_data_origin, id_nomenclature_source_status,
    id_nomenclature_resource_type) VALUES (1, 'Nouveau', 'N', 'n', 1, false, true, 1, 1, 1, 1, 1);
SELECT r->'total' AS pinned_total, json_array_length(r->'items') AS items, r->'snapshot'->>'id' = :'sid' AS same
FROM gn_export.api(2, jsonb_build_object('limit', 100, 'snapshot', :'sid')) r;
-- without an id, the newest snapshot of the query made less than api_snapshot_ttl ago
SELECT r->'total' AS reused_total, r->'snapshot'->>'id' = :'sid' AS same FROM gn_export.api(2, '{"limit": 100}') r;
SELECT r->'total' AS new_total, json_array_length(r->'items') AS items, r->'snapshot'->>'id' <> :'sid' AS other
FROM gn_export.api(2, '{"limit": 100, "snapshot": "new"}') r;
SELECT r->'total' AS newest_total FROM gn_export.api(2, '{"limit": 100}') r;
SELECT r->'total' AS still_pinned_total FROM gn_export.api(2, jsonb_build_object('limit', 100, 'snapshot', :'sid')) r;
-- a deleted row leaves its snapshot's pages (rows are read now), the counts stay the snapshot's
DELETE FROM gn_meta.t_datasets WHERE dataset_name = 'Nouveau';
SELECT r->'total' AS total, json_array_length(r->'items') AS items FROM gn_export.api(2, '{"limit": 100}') r;
-- snapshot ids: of another query, unknown, expired, or not an id at all (never a path)
\set VERBOSITY sqlstate
SELECT gn_export.api(2, jsonb_build_object('snapshot', :'sid', 'orderby', 'jdd_nom'));
\set VERBOSITY default
SELECT gn_export.api(2, '{"snapshot": "00000000000000000000000000000000"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '{"snapshot": "../../postgresql.conf"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '{"snapshot": 7}');
\echo :LAST_ERROR_SQLSTATE
SET gn_export.api_snapshot_ttl = 1;
SELECT pg_sleep(1.2);
\set VERBOSITY sqlstate
SELECT gn_export.api(2, jsonb_build_object('snapshot', :'sid'));
\set VERBOSITY default
RESET gn_export.api_snapshot_ttl;
-- a page past the end is empty, with the same totals
SELECT pg_temp.n(r) AS n, r->'total_filtered' AS total_filtered, r->'page' AS page
FROM gn_export.api(1, '{"limit": 7, "offset": 1000, "filter_n_up_altitude_min": 1500}', 3) r;

-- values render as in the files: ISO dates, nested JSON, numbers
SELECT r->'items'->0->'ca_date_debut' AS date, r->'items'->0->'date_creation' AS ts,
       r->'items'->0->'donnees_additionnelles' AS json, r->'items'->0->'bbox_west' AS float
FROM gn_export.api(2, '{"limit": 1}') r;

-- errors, each with its SQLSTATE: limit 0 no longer dumps the whole view
SELECT gn_export.api(2, '{"limit": 0}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '{"limit": -3}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '{"limit": "beaucoup"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '{"offset": -1}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '{"offset": 1.5}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '{"orderby": "absente"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '{"orderby": "jdd_nom:desc:asc"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '{"ilike_absente": "x"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '{"id_dataset": "un"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '{"filter_d_up_ca_date_debut": "hier"}');
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(1, '{"geometry": "POLYGON((0 0, 1 1"}', 3);
\echo :LAST_ERROR_SQLSTATE
SELECT gn_export.api(2, '[1]');
\echo :LAST_ERROR_SQLSTATE

-- the OpenAPI document: parameters typed and described from the view
SELECT d->>'openapi' AS openapi, d->'info'->>'title' AS title, d->'info'->'license'->>'name' AS licence,
       jsonb_object_keys(d->'paths') AS path,
       d->'paths'->'/exports/api/1'->'get'->'security' AS security,
       d->'components'->'securitySchemes'->'api_key'->>'name' AS header
FROM gn_export.openapi(1) d;
SELECT p->>'name' AS name, p->'schema' AS schema, p->>'description' AS description
FROM gn_export.openapi(1) d, jsonb_array_elements(d->'paths'->'/exports/api/1'->'get'->'parameters') p
WHERE p->>'name' IN ('token', 'limit', 'offset', 'geometry', 'id_synthese', 'filter_d_up_date_debut', 'ilike_nom_cite', 'filter_n_lo_x_centroid_4326')
ORDER BY 1;
SELECT d->'paths'->'/exports/api/2'->'get' ? 'security' AS public_has_security,
       jsonb_typeof(d->'components'->'schemas'->'Page'->'properties'->'items') AS items_type
FROM gn_export.openapi(2) d;
SELECT gn_export.openapi(999);
\echo :LAST_ERROR_SQLSTATE
\c gn_export_regress
DROP DATABASE gn_t_api;
