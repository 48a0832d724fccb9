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
CREATE FUNCTION gn_export.sinp_view_owner(installer text, relations text[]) RETURNS name
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

CREATE FUNCTION gn_export.install_diffusion_view() RETURNS text
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
