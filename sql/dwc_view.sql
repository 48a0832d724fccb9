-- gn_export.install_dwc_view(): a Darwin Core view of GeoNature's Synthese, for Darwin Core
-- Archives (generate(id, 'dwca')). Called by the DBA, never by CREATE EXTENSION: the view is the
-- database's (not a member of the extension), owned by the Synthese's owner (see
-- gn_export.sinp_view_owner()), and is registered in
-- gn_exports.t_exports like any export. Locations follow the SINP diffusion rule of
-- gn_exports.synthese_diffusion() (install_diffusion_view(), which this calls): exact, generalised
-- to an area and said so in Darwin Core's terms, or the observation is left out.
CREATE FUNCTION gn_export.install_dwc_view() RETURNS text
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
