-- gn_export 0.5.0 -> 0.6.0 (ALTER EXTENSION gn_export UPDATE)
--
-- 0.6.0 makes the SINP diffusion rule cheaper to apply, with the same results: the rule becomes
-- a table (view gn_exports.v_synthese_diffusion_rule) and a SQL function the planner inlines
-- (gn_exports.synthese_diffusion()), which the Darwin Core and Darwin-SW views apply to the
-- Synthese row they read instead of joining a second scan of it. The three install functions
-- below are the install script's own texts (sql/diffusion_view.sql, sql/dwc_view.sql,
-- sql/dsw_view.sql), with CREATE OR REPLACE. Views the DBA made with 0.5.0 are the database's,
-- not the extension's, and keep working as they are: run SELECT gn_export.install_dwc_view();
-- (and install_dsw_view()) again to remake them. The run history gains two columns, so that a
-- published GeoPackage's last_change changes only with its content.
\echo Use "ALTER EXTENSION gn_export UPDATE" to load this file. \quit

-- names below bind to gn_export or pg_catalog, whatever is planted on the installer's path
SET LOCAL search_path = gn_export, pg_catalog, pg_temp;

-- A published GeoPackage keeps its last_change while its content stays the same: the run
-- history remembers each published version (a hash of the file but its stamp, and since when).
ALTER TABLE gn_export.t_runs ADD COLUMN content_hash text, ADD COLUMN content_since timestamptz;
COMMENT ON COLUMN gn_export.t_runs.content_hash IS 'For a published file stamped with a time (a GeoPackage''s last_change): a hash of its bytes but that time.';
COMMENT ON COLUMN gn_export.t_runs.content_since IS 'For a published file stamped with a time: since when this content is published, the time its file is stamped with.';

-- gn_export.install_diffusion_view(): the SINP diffusion rule, written once: for each Synthese
-- observation, what may be published of its location. It makes three objects, owned by the
-- Synthese's owner: gn_exports.synthese_diffusion_rule(), the rule as a table of pairs of
-- levels; gn_exports.synthese_diffusion(...), the rule applied to one observation's columns,
-- which the Darwin Core and Darwin-SW views (install_dwc_view(), install_dsw_view()) call on the
-- row they read and take their coordinates from, and nothing else; and the view
-- gn_exports.v_synthese_diffusion, every observation with the rule applied, which an
-- administrator's own views can join. docs/security.md, "Sensitive observations", gives the
-- table of every combination and the reasons for each decision.
--
-- The rule:
-- * each of the two levels is ranked from precise (0) to no diffusion (4):
--   sensitivity (SENSIBILITE)  0 → 0, 1 → 1 (commune), 2 → 2 (10 km mesh), 3 → 3 (département),
--                              4 → 4 (no diffusion);
--   diffusion level (NIV_PRECIS) 5 (precise) → 0, 0 (standard) → 1, 1 (commune) → 1,
--                              2 (mesh) → 2, 3 (département) → 3, 4 (not diffused) → 4;
--   a NULL diffusion level follows the sensitivity, as gn_sensitivity.calculate_cd_diffusion_level
--   reads it;
-- * the stricter of the two ranks wins;
-- * fail closed: a NULL sensitivity, an id that is not a SENSIBILITE (or NIV_PRECIS)
--   nomenclature, any other code, or no area of the rank's type attached to the observation in
--   gn_synthese.cor_area_synthese withholds the observation: never the exact location;
-- * a generalised observation is published as the areas of its rank's type (COM, M10, DEP in
--   ref_geo.bib_areas_types) that cor_area_synthese attaches to it: as a point, the centre of
--   their bounding box, with the radius that covers the whole box (coordinateUncertaintyInMeters).
--
-- Its cost, on a demo where 28 % of the observations are generalised: some 4 µs an observation
-- (the pair of levels is hashed against the 42 pairs of the rule; areas are looked up, by
-- index, only for a generalised observation). The fences (OFFSET 0) keep the planner from
-- pasting the lookups where they would run for every observation (docs/performance.md).
-- gn_export.sinp_view_owner(): the role a SINP view will belong to, the owner of the data it
-- reads. A view runs the code of the relations it reads (their views' functions, their
-- policies) with its own owner's rights: owned by the superuser who installs it, it would run
-- GeoNature's code as a superuser. So it belongs to the owner of the first relation, and every
-- other one must belong to that role or to a superuser (42501 otherwise).
CREATE OR REPLACE FUNCTION gn_export.sinp_view_owner(installer text, relations text[]) RETURNS name
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $owner$
DECLARE
    owner oid;
    other oid;
    rel text;
BEGIN
    SELECT c.relowner INTO owner FROM pg_class c WHERE c.oid = to_regclass(relations[1]);
    FOREACH rel IN ARRAY relations LOOP
        SELECT c.relowner INTO other FROM pg_class c WHERE c.oid = to_regclass(rel);
        IF other <> owner AND NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = other) THEN
            RAISE EXCEPTION '%: % belongs to %, not to %, the owner of % to whom the view would belong',
                            installer, rel, pg_get_userbyid(other), pg_get_userbyid(owner), relations[1]
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'A view runs the code of what it reads with its owner''s rights: give what it reads one owner (GeoNature''s application role), or a superuser.';
        END IF;
    END LOOP;
    RETURN pg_get_userbyid(owner);
END
$owner$;
COMMENT ON FUNCTION gn_export.sinp_view_owner(text, text[]) IS
    'The role a SINP view (install_diffusion_view(), install_dwc_view(), install_dsw_view()) will belong to: the owner of the first relation it reads; 42501 when another belongs to a third role that is not a superuser.';

CREATE OR REPLACE FUNCTION gn_export.install_diffusion_view() RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $install$
DECLARE
    pg text;
    owner name;
BEGIN
    IF to_regclass('gn_synthese.synthese') IS NULL OR to_regclass('gn_synthese.cor_area_synthese') IS NULL
       OR to_regclass('ref_geo.l_areas') IS NULL OR to_regclass('ref_geo.bib_areas_types') IS NULL
       OR to_regclass('ref_nomenclatures.t_nomenclatures') IS NULL
       OR to_regclass('ref_nomenclatures.bib_nomenclatures_types') IS NULL THEN
        RAISE EXCEPTION 'gn_export.install_diffusion_view() needs GeoNature''s Synthese, its areas and its nomenclatures (gn_synthese.synthese, gn_synthese.cor_area_synthese, ref_geo.l_areas, ref_geo.bib_areas_types, ref_nomenclatures.t_nomenclatures, ref_nomenclatures.bib_nomenclatures_types)'
            USING ERRCODE = 'undefined_table',
                  HINT = 'The SINP diffusion rule reads the sensitivity and the diffusion level of each observation and the areas it lies in: install GeoNature (or its ref_geo schema) first.';
    END IF;
    SELECT quote_ident(n.nspname) INTO pg
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'postgis';
    IF pg IS NULL THEN
        RAISE EXCEPTION 'gn_export.install_diffusion_view() needs PostGIS' USING ERRCODE = 'undefined_object';
    END IF;
    owner := gn_export.sinp_view_owner('gn_export.install_diffusion_view()',
        ARRAY['gn_synthese.synthese', 'gn_synthese.cor_area_synthese', 'ref_geo.l_areas', 'ref_geo.bib_areas_types',
              'ref_nomenclatures.t_nomenclatures', 'ref_nomenclatures.bib_nomenclatures_types']);
    -- the rule proper, as a table. A function, not a view: the planner counts its rows as
    -- ROWS says (a view's estimate, from the joins below, is 4 rows), and with 4 it loops over
    -- the pairs for every observation instead of hashing them. SET blocks inlining.
    EXECUTE $rule$
CREATE OR REPLACE FUNCTION gn_exports.synthese_diffusion_rule()
RETURNS TABLE (sensitivity_key integer, level_key integer, sensitivity text, level_set text,
               diffusion_level text, by_sensitivity integer, by_level integer, rank integer,
               area_type text, id_area_type integer)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 42
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
-- the two nomenclatures, each code ranked from precise (0) to no diffusion (4)
WITH sensitivity AS (
    SELECT n.id_nomenclature AS id, n.cd_nomenclature::text AS code,
           CASE n.cd_nomenclature WHEN '0' THEN 0 WHEN '1' THEN 1 WHEN '2' THEN 2 WHEN '3' THEN 3
                                  WHEN '4' THEN 4 END AS rank
      FROM ref_nomenclatures.t_nomenclatures n
      JOIN ref_nomenclatures.bib_nomenclatures_types t ON t.id_type = n.id_type
     WHERE t.mnemonique = 'SENSIBILITE'
), diffusion_level AS (
    SELECT n.id_nomenclature AS id, n.cd_nomenclature::text AS code,
           CASE n.cd_nomenclature WHEN '5' THEN 0 WHEN '0' THEN 1 WHEN '1' THEN 1 WHEN '2' THEN 2
                                  WHEN '3' THEN 3 WHEN '4' THEN 4 END AS rank
      FROM ref_nomenclatures.t_nomenclatures n
      JOIN ref_nomenclatures.bib_nomenclatures_types t ON t.id_type = n.id_type
     WHERE t.mnemonique = 'NIV_PRECIS'
)
-- the rule proper, once per pair of a known sensitivity (or none) and a known level (or none),
-- -1 standing for none: the two ranks, the stricter one, the area type it asks for. An
-- observation whose pair is not here has an unknown id: it matches no row and is withheld.
SELECT COALESCE(sv.id, -1) AS sensitivity_key, COALESCE(dl.id, -1) AS level_key,
       sv.code AS sensitivity, dl.code AS level_set, x.diffusion_level,
       sv.rank AS by_sensitivity, x.by_level,
       CASE WHEN sv.rank IS NULL OR x.by_level IS NULL THEN 4
            ELSE greatest(sv.rank, x.by_level) END AS rank,
       t.type_code::text AS area_type, t.id_type AS id_area_type
  FROM (SELECT id, code, rank FROM sensitivity UNION ALL SELECT NULL, NULL, NULL) sv
 CROSS JOIN (SELECT id, code, rank FROM diffusion_level UNION ALL SELECT NULL, NULL, NULL) dl
 -- a NULL level follows the sensitivity, as gn_sensitivity.calculate_cd_diffusion_level
 CROSS JOIN LATERAL (
     SELECT CASE WHEN dl.id IS NULL THEN sv.rank ELSE dl.rank END AS by_level,
            CASE WHEN dl.id IS NOT NULL THEN dl.code
                 ELSE CASE sv.code WHEN '0' THEN '5' WHEN '1' THEN '1' WHEN '2' THEN '2'
                                   WHEN '3' THEN '3' WHEN '4' THEN '4' END END AS diffusion_level) x
  LEFT JOIN ref_geo.bib_areas_types t
    ON sv.rank IS NOT NULL AND x.by_level IS NOT NULL
   AND t.type_code = CASE greatest(sv.rank, x.by_level) WHEN 1 THEN 'COM' WHEN 2 THEN 'M10'
                                                       WHEN 3 THEN 'DEP' END;
END
$rule$;
    EXECUTE format('ALTER FUNCTION gn_exports.synthese_diffusion_rule() OWNER TO %I', owner);
    COMMENT ON FUNCTION gn_exports.synthese_diffusion_rule() IS
        'The SINP diffusion rule as a table (made by gn_export.install_diffusion_view()): for each pair of a SENSIBILITE and a NIV_PRECIS nomenclature (-1: none), the two ranks, the stricter one and the area type (COM, M10, DEP) it asks for.';

    -- the rule applied to one observation, given its columns: one row. A SQL function with a body parsed here, under this function's
    -- pinned search_path, that the planner inlines where it is called (LANGUAGE sql, STABLE,
    -- no SET clause, not STRICT, not SECURITY DEFINER): so the Darwin Core and Darwin-SW views
    -- apply it to the Synthese row they read, with no second scan of the Synthese and no join
    -- back on id_synthese, and it runs with the rights of whoever runs them.
    EXECUTE format($fn$
CREATE OR REPLACE FUNCTION gn_exports.synthese_diffusion(
    obs_id integer, obs_sensitivity integer, obs_level integer,
    obs_point %1$s.geometry, obs_geom %1$s.geometry, obs_precision integer)
RETURNS TABLE (sensitivity text, diffusion_level text, diffusion text, withheld_because text,
               area_code text, area_name text, geom_4326 %1$s.geometry,
               latitude double precision, longitude double precision, uncertainty_in_meters integer,
               municipality text, county text, data_generalizations text, information_withheld text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
SELECT r.sensitivity,
       r.diffusion_level,
       CASE WHEN r.rank = 0 THEN 'precise'
            WHEN a.info IS NOT NULL THEN r.area_type
            ELSE 'withheld' END,
       CASE WHEN r.by_sensitivity IS NULL AND NOT EXISTS (
                     SELECT FROM gn_exports.synthese_diffusion_rule() x
                      WHERE x.sensitivity_key = k.sensitivity_key AND x.by_sensitivity IS NOT NULL)
            THEN 'sensitivity unknown (NULL, or not a SENSIBILITE nomenclature with code 0 to 4)'
            WHEN r.by_level IS NULL
            THEN 'diffusion level unknown (not a NIV_PRECIS nomenclature with code 0 to 5)'
            WHEN r.rank = 4 THEN 'no diffusion'
            WHEN r.rank > 0 AND a.info IS NULL
            THEN 'no ' || r.area_type || ' area attached in gn_synthese.cor_area_synthese' END,
       a.info[1],
       a.info[2],
       CASE WHEN r.rank = 0 THEN obs_geom
            WHEN a.info IS NOT NULL
            THEN (SELECT %1$s.st_multi(%1$s.st_union(la.geom_4326))
                    FROM gn_synthese.cor_area_synthese c
                    JOIN ref_geo.l_areas la ON la.id_area = c.id_area AND la.id_type = r.id_area_type
                   WHERE c.id_synthese = obs_id AND la.geom_4326 IS NOT NULL) END,
       CASE WHEN r.rank = 0 THEN %1$s.st_y(obs_point) ELSE b.latitude END,
       CASE WHEN r.rank = 0 THEN %1$s.st_x(obs_point) ELSE b.longitude END,
       CASE WHEN r.rank = 0 AND obs_precision > 0 THEN obs_precision
            WHEN a.info IS NOT NULL
            -- the farthest corner of the box from its centre (a southern one or a northern one),
            -- by the haversine formula on a sphere of radius a²/b, WGS84's largest radius of
            -- curvature: never shorter than the distance on the ellipsoid, at most 0.5 %% longer,
            -- and a tenth of the time of PostGIS's geodesic distance
            THEN ceil(2 * 6399593.6259 * asin(sqrt(greatest(
                power(sin(radians(b.latitude - b.ymin) / 2), 2)
                  + cos(radians(b.latitude)) * cos(radians(b.ymin)) * power(sin(radians(b.longitude - b.xmin) / 2), 2),
                power(sin(radians(b.ymax - b.latitude) / 2), 2)
                  + cos(radians(b.latitude)) * cos(radians(b.ymax)) * power(sin(radians(b.longitude - b.xmin) / 2), 2)))))::integer END,
       CASE WHEN r.area_type = 'COM' THEN a.info[2] END,
       CASE WHEN r.area_type = 'DEP' THEN a.info[2] END,
       CASE WHEN a.info IS NOT NULL
            THEN 'coordinates generalised to the '
                 || CASE r.area_type WHEN 'COM' THEN 'commune' WHEN 'M10' THEN '10 km grid cell' ELSE 'département' END
                 || CASE WHEN a.info[1] LIKE '%% | %%' THEN 's ' ELSE ' ' END || a.info[1] || ' (' || a.info[2] || ')'
                 || ' under the SINP rules (sensitivity ' || r.sensitivity
                 || ', diffusion level ' || COALESCE(r.level_set, 'not set') || '):'
                 || ' the point is the centre of the area''s bounding box and coordinateUncertaintyInMeters covers the whole box' END,
       CASE WHEN a.info IS NOT NULL
            THEN 'precise location, footprint, locality, elevation, depth and remarks withheld (sensitive observation or producer''s diffusion level)' END
  -- the observation's pair of ids (a fence: pasted in, they would put the caller's columns in
  -- the outer join's condition, and the planner would no longer inline this function)
  FROM (SELECT COALESCE(obs_sensitivity, -1) AS sensitivity_key, COALESCE(obs_level, -1) AS level_key
        OFFSET 0) k
  LEFT JOIN gn_exports.synthese_diffusion_rule() r
    ON r.sensitivity_key = k.sensitivity_key AND r.level_key = k.level_key
  -- the attached areas of the rule's type, looked up only for a generalised observation: their
  -- codes and names (joined with ' | '), their bounding box (xmin, ymin, xmax, ymax); NULL when
  -- none is. A fence (OFFSET 0): pasted into the query that calls this, the lookup could run
  -- for every observation
 CROSS JOIN LATERAL (
    SELECT CASE WHEN r.id_area_type IS NOT NULL THEN (
        -- st_xmin() and its kin take a box3d: cast explicitly (once per area), so that no
        -- function of a closer signature someone may create in PostGIS's schema is bound
        SELECT CASE WHEN count(*) > 0 THEN
                   ARRAY[string_agg(la.area_code, ' | ' ORDER BY la.area_code),
                         string_agg(la.area_name, ' | ' ORDER BY la.area_code),
                         min(%1$s.st_xmin(la.box))::text, min(%1$s.st_ymin(la.box))::text,
                         max(%1$s.st_xmax(la.box))::text, max(%1$s.st_ymax(la.box))::text] END
          FROM gn_synthese.cor_area_synthese c
          -- an index lookup per attached area (a fence again: joined, the planner may scan
          -- l_areas once per observation)
          CROSS JOIN LATERAL (SELECT l.area_code::text AS area_code, l.area_name::text AS area_name,
                                     l.geom_4326::%1$s.box3d AS box
                                FROM ref_geo.l_areas l
                               WHERE l.id_area = c.id_area AND l.id_type = r.id_area_type
                                 AND l.geom_4326 IS NOT NULL OFFSET 0) la
         WHERE c.id_synthese = obs_id) END AS info
    OFFSET 0
 ) a
 CROSS JOIN LATERAL (
    SELECT a.info[3]::double precision AS xmin, a.info[4]::double precision AS ymin,
           a.info[6]::double precision AS ymax,
           (a.info[3]::double precision + a.info[5]::double precision) / 2 AS longitude,
           (a.info[4]::double precision + a.info[6]::double precision) / 2 AS latitude
 ) b;
END
$fn$, pg);
    EXECUTE format('ALTER FUNCTION gn_exports.synthese_diffusion(integer, integer, integer, %1$s.geometry, %1$s.geometry, integer) OWNER TO %2$I', pg, owner);
    EXECUTE format('COMMENT ON FUNCTION gn_exports.synthese_diffusion(integer, integer, integer, %1$s.geometry, %1$s.geometry, integer) IS %2$L', pg,
        'The SINP diffusion rule applied to one Synthese observation, given its id_synthese, id_nomenclature_sensitivity, id_nomenclature_diffusion_level, the_geom_point, the_geom_4326 and precision (made by gn_export.install_diffusion_view()): one row of v_synthese_diffusion''s columns.');

    -- every observation, the rule applied
    EXECUTE $view$
CREATE OR REPLACE VIEW gn_exports.v_synthese_diffusion AS
SELECT s.id_synthese, d.*
  FROM gn_synthese.synthese s
 CROSS JOIN LATERAL gn_exports.synthese_diffusion(s.id_synthese, s.id_nomenclature_sensitivity,
                                                  s.id_nomenclature_diffusion_level, s.the_geom_point,
                                                  s.the_geom_4326, s."precision") d
$view$;
    EXECUTE format('ALTER VIEW gn_exports.v_synthese_diffusion OWNER TO %I', owner);
    COMMENT ON VIEW gn_exports.v_synthese_diffusion IS
        'What may be published of the location of each Synthese observation under the SINP rules (made by gn_export.install_diffusion_view()): precise, generalised to a commune (COM), 10 km grid cell (M10) or département (DEP), or withheld.';
    RETURN 'gn_exports.v_synthese_diffusion';
END
$install$;
COMMENT ON FUNCTION gn_export.install_diffusion_view() IS
    'Creates (or replaces) gn_exports.v_synthese_diffusion, the SINP diffusion rule applied to each Synthese observation (precise, generalised to COM, M10 or DEP, or withheld; fails closed), owned by the Synthese''s owner, and returns its name. Not executable by PUBLIC.';
REVOKE EXECUTE ON FUNCTION gn_export.install_diffusion_view() FROM PUBLIC;

-- gn_export.install_dwc_view(): a Darwin Core view of GeoNature's Synthese, for Darwin Core
-- Archives (generate(id, 'dwca')). Called by the DBA, never by CREATE EXTENSION: the view is the
-- database's (not a member of the extension), owned by the Synthese's owner (see
-- gn_export.sinp_view_owner()), and is registered in
-- gn_exports.t_exports like any export. Locations follow the SINP diffusion rule of
-- gn_exports.synthese_diffusion() (install_diffusion_view(), which this calls): exact, generalised
-- to an area and said so in Darwin Core's terms, or the observation is left out.
CREATE OR REPLACE FUNCTION gn_export.install_dwc_view() RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $install$
DECLARE
    pg text;
    owner name;
BEGIN
    IF to_regclass('gn_synthese.synthese') IS NULL OR to_regclass('taxonomie.taxref') IS NULL
       OR to_regclass('gn_meta.t_datasets') IS NULL OR to_regclass('ref_nomenclatures.t_nomenclatures') IS NULL THEN
        RAISE EXCEPTION 'gn_export.install_dwc_view() needs GeoNature''s Synthese (gn_synthese.synthese, taxonomie.taxref, gn_meta.t_datasets, ref_nomenclatures.t_nomenclatures)'
            USING ERRCODE = 'undefined_table',
                  HINT = 'On another database, write a view whose columns are named after Darwin Core terms (occurrenceID, basisOfRecord, scientificName, ...).';
    END IF;
    SELECT quote_ident(n.nspname) INTO pg
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'postgis';
    IF pg IS NULL THEN
        RAISE EXCEPTION 'gn_export.install_dwc_view() needs PostGIS' USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM gn_export.install_diffusion_view();
    owner := gn_export.sinp_view_owner('gn_export.install_dwc_view()',
        ARRAY['gn_synthese.synthese', 'gn_exports.v_synthese_diffusion', 'taxonomie.taxref', 'gn_meta.t_datasets',
              'ref_nomenclatures.t_nomenclatures', 'gn_exports.t_exports', 'gn_exports.t_licences']);
    EXECUTE format($view$
CREATE OR REPLACE VIEW gn_exports.v_synthese_dwc AS
WITH label AS (SELECT id_nomenclature, lower(label_default) AS l, cd_nomenclature FROM ref_nomenclatures.t_nomenclatures)
SELECT s.unique_id_sinp::text AS "occurrenceID",
       CASE WHEN src.l LIKE '%%terrain%%' THEN 'HumanObservation'
            WHEN src.l LIKE '%%collection%%' THEN 'PreservedSpecimen'
            WHEN src.l LIKE '%%littérature%%' OR src.l LIKE '%%litterature%%' THEN 'MaterialCitation'
            ELSE 'Occurrence' END AS "basisOfRecord",
       -- an observation recorded without a time (GeoNature stores midnight) has its date alone
       CASE WHEN s.date_min::time = '00:00' THEN to_char(s.date_min, 'YYYY-MM-DD')
            ELSE to_char(s.date_min, 'YYYY-MM-DD"T"HH24:MI:SS') END
         || CASE WHEN s.date_max IS DISTINCT FROM s.date_min
                 THEN '/' || CASE WHEN s.date_max::time = '00:00' THEN to_char(s.date_max, 'YYYY-MM-DD')
                                  ELSE to_char(s.date_max, 'YYYY-MM-DD"T"HH24:MI:SS') END
                 ELSE '' END AS "eventDate",
       t.nom_complet AS "scientificName",
       t.lb_auteur AS "scientificNameAuthorship",
       CASE t.id_rang WHEN 'KD' THEN 'kingdom' WHEN 'PH' THEN 'phylum' WHEN 'CL' THEN 'class'
                      WHEN 'OR' THEN 'order' WHEN 'FM' THEN 'family' WHEN 'SSFM' THEN 'subfamily'
                      WHEN 'TR' THEN 'tribe' WHEN 'GN' THEN 'genus' WHEN 'SSGN' THEN 'subgenus'
                      WHEN 'ES' THEN 'species' WHEN 'SSES' THEN 'subspecies'
                      WHEN 'VAR' THEN 'variety' WHEN 'FO' THEN 'form' END AS "taxonRank",
       t.regne AS kingdom, t.phylum, t.classe AS class, t.ordre AS "order", t.famille AS family,
       t.cd_nom::text AS "taxonID",
       t.nom_vern AS "vernacularName",
       s.nom_cite AS "verbatimIdentification",
       CASE WHEN obs.l LIKE 'présent%%' THEN 'present'
            WHEN obs.l LIKE 'non observ%%' OR obs.l LIKE 'absent%%' THEN 'absent' END AS "occurrenceStatus",
       CASE WHEN cnt.l LIKE 'individu%%' AND s.count_min = s.count_max THEN s.count_min END AS "individualCount",
       s.count_min::text AS "organismQuantity",
       CASE WHEN s.count_min IS NULL THEN NULL
            WHEN cnt.l LIKE 'individu%%' THEN 'individuals' ELSE cnt.l END AS "organismQuantityType",
       CASE sex.l WHEN 'femelle' THEN 'female' WHEN 'mâle' THEN 'male'
                  WHEN 'hermaphrodite' THEN 'hermaphrodite' END AS sex,
       CASE stage.l WHEN 'adulte' THEN 'adult' WHEN 'juvénile' THEN 'juvenile' WHEN 'immature' THEN 'immature'
                    WHEN 'larve' THEN 'larva' WHEN 'œuf' THEN 'egg' WHEN 'oeuf' THEN 'egg'
                    WHEN 'nymphe' THEN 'pupa' WHEN 'imago' THEN 'imago' END AS "lifeStage",
       dif.latitude AS "decimalLatitude",
       dif.longitude AS "decimalLongitude",
       'EPSG:4326' AS "geodeticDatum",
       dif.uncertainty_in_meters AS "coordinateUncertaintyInMeters",
       CASE WHEN p.precise AND %1$s.geometrytype(s.the_geom_4326) <> 'POINT' THEN %1$s.st_astext(s.the_geom_4326) END AS "footprintWKT",
       CASE WHEN p.precise AND %1$s.geometrytype(s.the_geom_4326) <> 'POINT' THEN 'EPSG:4326' END AS "footprintSRS",
       CASE WHEN p.precise THEN s.altitude_min END AS "minimumElevationInMeters",
       CASE WHEN p.precise THEN s.altitude_max END AS "maximumElevationInMeters",
       CASE WHEN p.precise THEN s.depth_min END AS "minimumDepthInMeters",
       CASE WHEN p.precise THEN s.depth_max END AS "maximumDepthInMeters",
       CASE WHEN p.precise THEN s.place_name END AS locality,
       regexp_replace(btrim(s.observers), '\s*,\s*', ' | ', 'g') AS "recordedBy",
       regexp_replace(btrim(s.determiner), '\s*,\s*', ' | ', 'g') AS "identifiedBy",
       CASE WHEN p.precise THEN s.comment_context END AS "eventRemarks",
       CASE WHEN p.precise THEN s.comment_description END AS "occurrenceRemarks",
       d.unique_dataset_id::text AS "datasetID",
       d.dataset_name AS "datasetName",
       (SELECT l.url_licence FROM gn_exports.t_exports e JOIN gn_exports.t_licences l ON l.id_licence = e.id_licence
         WHERE e.schema_name = 'gn_exports' AND e.view_name = 'v_synthese_dwc' ORDER BY e.id LIMIT 1)::text AS license,
       'fr' AS language,
       to_char(COALESCE(s.meta_update_date, s.meta_create_date), 'YYYY-MM-DD"T"HH24:MI:SS') AS modified,
       dif.municipality,
       dif.county,
       dif.data_generalizations AS "dataGeneralizations",
       dif.information_withheld AS "informationWithheld"
FROM gn_synthese.synthese s
-- the SINP rule, applied to this row (the function is inlined here: no second scan)
CROSS JOIN LATERAL gn_exports.synthese_diffusion(s.id_synthese, s.id_nomenclature_sensitivity,
                                                 s.id_nomenclature_diffusion_level, s.the_geom_point,
                                                 s.the_geom_4326, s."precision") dif
CROSS JOIN LATERAL (SELECT dif.diffusion = 'precise' AS precise) p
JOIN taxonomie.taxref t ON t.cd_nom = s.cd_nom
JOIN gn_meta.t_datasets d ON d.id_dataset = s.id_dataset
LEFT JOIN label src ON src.id_nomenclature = s.id_nomenclature_source_status
LEFT JOIN label obs ON obs.id_nomenclature = s.id_nomenclature_observation_status
LEFT JOIN label cnt ON cnt.id_nomenclature = s.id_nomenclature_obj_count
LEFT JOIN label sex ON sex.id_nomenclature = s.id_nomenclature_sex
LEFT JOIN label stage ON stage.id_nomenclature = s.id_nomenclature_life_stage
WHERE s.unique_id_sinp IS NOT NULL AND dif.diffusion <> 'withheld'
$view$, pg);
    EXECUTE format('ALTER VIEW gn_exports.v_synthese_dwc OWNER TO %I', owner);
    COMMENT ON VIEW gn_exports.v_synthese_dwc IS
        'GeoNature''s Synthese as Darwin Core (made by gn_export.install_dwc_view()); locations follow the SINP diffusion rule of gn_exports.v_synthese_diffusion: exact, generalised (dataGeneralizations), or the observation left out.';
    RETURN 'gn_exports.v_synthese_dwc';
END
$install$;
COMMENT ON FUNCTION gn_export.install_dwc_view() IS
    'Creates (or replaces) gn_exports.v_synthese_diffusion and gn_exports.v_synthese_dwc, the Synthese mapped to Darwin Core under the SINP diffusion rule, for Darwin Core Archives. Not executable by PUBLIC.';
REVOKE EXECUTE ON FUNCTION gn_export.install_dwc_view() FROM PUBLIC;

-- gn_export.install_dsw_view(): the view gn_export.dsw() serves, GeoNature's RDF view
-- (gn_exports.v_exports_synthese_sinp_rdf, from the EXPORT module) under the SINP diffusion rule
-- of gn_exports.v_synthese_diffusion (install_diffusion_view(), which this calls). It keeps the
-- columns Darwin-SW reads, takes the coordinates from the rule, empties what would locate a
-- generalised observation better (its WKT, elevations, remarks), says what was done
-- (dataGeneralizations, informationWithheld, coordinateUncertaintyInMeters, municipality,
-- county), and leaves withheld observations out. Called by the DBA, like install_dwc_view();
-- owned by the RDF view's owner, whose code it runs (see gn_export.sinp_view_owner()).
CREATE OR REPLACE FUNCTION gn_export.install_dsw_view() RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $install$
DECLARE
    owner name;
BEGIN
    IF to_regclass('gn_exports.v_exports_synthese_sinp_rdf') IS NULL THEN
        RAISE EXCEPTION 'gn_export.install_dsw_view() needs the EXPORT module''s view gn_exports.v_exports_synthese_sinp_rdf'
            USING ERRCODE = 'undefined_table',
                  HINT = 'Install GeoNature''s EXPORT module, or export a view of your own with its column names as run(id, ''ttl'').';
    END IF;
    PERFORM gn_export.install_diffusion_view();
    owner := gn_export.sinp_view_owner('gn_export.install_dsw_view()',
        ARRAY['gn_exports.v_exports_synthese_sinp_rdf', 'gn_synthese.synthese', 'gn_exports.v_synthese_diffusion']);
    CREATE OR REPLACE VIEW gn_exports.v_synthese_dsw AS
    SELECT r."idSynthese", r."permId", r."permIdGrp", r."dateDebut", r."dateFin",
           CASE WHEN p.precise THEN r."obsCtx" END AS "obsCtx",
           CASE WHEN p.precise THEN r.geom END AS geom,
           dif.longitude AS x_centroid,
           dif.latitude AS y_centroid,
           CASE WHEN p.precise THEN r."altMin" END AS "altMin",
           CASE WHEN p.precise THEN r."altMax" END AS "altMax",
           r."statObs", r."statSource",
           CASE WHEN p.precise THEN r."obsDescr" END AS "obsDescr",
           r."denbrMin", r."objDenbr", r."ocNat", r."ocStade", r."ocSex", r.observer, r.determiner,
           r."difNivPrec", r."jddId", r."jddCode", r."ownerInstitutionCode", r.lastact, r."nomCite",
           r."cdNom", r."cdRef", r.nom_complet, r."vTAXREF",
           dif.uncertainty_in_meters AS "coordinateUncertaintyInMeters",
           dif.municipality,
           dif.county,
           dif.data_generalizations AS "dataGeneralizations",
           dif.information_withheld AS "informationWithheld"
    FROM gn_exports.v_exports_synthese_sinp_rdf r
    JOIN gn_synthese.synthese s ON s.id_synthese = r."idSynthese"
    -- the SINP rule, applied to the observation's row (the function is inlined here)
    CROSS JOIN LATERAL gn_exports.synthese_diffusion(s.id_synthese, s.id_nomenclature_sensitivity,
                                                     s.id_nomenclature_diffusion_level, s.the_geom_point,
                                                     s.the_geom_4326, s."precision") dif
    CROSS JOIN LATERAL (SELECT dif.diffusion = 'precise' AS precise) p
    WHERE dif.diffusion <> 'withheld';
    EXECUTE format('ALTER VIEW gn_exports.v_synthese_dsw OWNER TO %I', owner);
    COMMENT ON VIEW gn_exports.v_synthese_dsw IS
        'GeoNature''s RDF view for Darwin-SW (gn_export.dsw()), under the SINP diffusion rule of gn_exports.v_synthese_diffusion (made by gn_export.install_dsw_view()).';
    RETURN 'gn_exports.v_synthese_dsw';
END
$install$;
COMMENT ON FUNCTION gn_export.install_dsw_view() IS
    'Creates (or replaces) gn_exports.v_synthese_diffusion and gn_exports.v_synthese_dsw, the EXPORT module''s RDF view under the SINP diffusion rule, which gn_export.dsw() serves. Not executable by PUBLIC.';
REVOKE EXECUTE ON FUNCTION gn_export.install_dsw_view() FROM PUBLIC;


-- 0.6.0 adds the procedure gn_export.run_schedules(), which commits each schedule on its own
-- (in_process seen by GeoNature while a file is made; no lock or snapshot held between
-- schedules), and the three functions it calls; as the install script makes them
CREATE FUNCTION gn_export."begin_schedule"(
	"id_export_schedule" INT /* i32 */
) RETURNS bool /* bool */
STRICT VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'begin_schedule_wrapper';

CREATE FUNCTION gn_export."run_schedule"(
	"id_export_schedule" INT /* i32 */
) RETURNS TABLE (
	"id_export_schedule" INT,  /* i32 */
	"id_export" INT,  /* i32 */
	"format" TEXT,  /* String */
	"status" TEXT,  /* String */
	"path" TEXT,  /* Option < String > */
	"rows" bigint,  /* Option < i64 > */
	"bytes" bigint,  /* Option < i64 > */
	"error" TEXT,  /* Option < String > */
	"started_at" timestamp with time zone,  /* Option < TimestampWithTimeZone > */
	"finished_at" timestamp with time zone  /* Option < TimestampWithTimeZone > */
)
STRICT VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'run_schedule_wrapper';

CREATE FUNCTION gn_export."schedule_ids"() RETURNS SETOF INT /* i32 */
STRICT STABLE PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'schedule_ids_wrapper';

REVOKE EXECUTE ON FUNCTION gn_export.schedule_ids() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gn_export.begin_schedule(integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gn_export.run_schedule(integer) FROM PUBLIC;
-- Every schedule that is due, each committed on its own: in_process is committed (GeoNature's
-- admin sees it) before the file is made, and nothing (row locks, snapshot, the xmin horizon
-- VACUUM waits on) is held from one schedule to the next. For pg_cron:
-- CALL gn_export.run_schedules(). A procedure with a SET clause cannot commit: every name in
-- it is schema-qualified and it uses no operator, so the caller's search_path finds nothing.
CREATE PROCEDURE gn_export.run_schedules()
LANGUAGE plpgsql
AS $procedure$
DECLARE
    s integer;
BEGIN
    FOR s IN SELECT x FROM gn_export.schedule_ids() AS x LOOP
        IF gn_export.begin_schedule(s) THEN
            COMMIT;
        END IF;
        PERFORM gn_export.run_schedule(s);
        COMMIT;
    END LOOP;
END
$procedure$;
COMMENT ON PROCEDURE gn_export.run_schedules() IS
    'Generates every due schedule of gn_exports.t_export_schedules as run_scheduled() does, but commits each on its own (in_process visible while it runs; no lock or snapshot held between schedules). For pg_cron: CALL gn_export.run_schedules(). Not executable by PUBLIC.';
REVOKE EXECUTE ON PROCEDURE gn_export.run_schedules() FROM PUBLIC;
