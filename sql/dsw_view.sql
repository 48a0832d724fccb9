-- gn_export.install_dsw_view(): the view gn_export.dsw() serves, GeoNature's RDF view
-- (gn_exports.v_exports_synthese_sinp_rdf, from the EXPORT module) under the SINP diffusion rule
-- of gn_exports.v_synthese_diffusion (install_diffusion_view(), which this calls). It keeps the
-- columns Darwin-SW reads, takes the coordinates from the rule, empties what would locate a
-- generalised observation better (its WKT, elevations, remarks), says what was done
-- (dataGeneralizations, informationWithheld, coordinateUncertaintyInMeters, municipality,
-- county), and leaves withheld observations out. Called by the DBA, like install_dwc_view();
-- owned by the RDF view's owner, whose code it runs (see gn_export.sinp_view_owner()).
CREATE FUNCTION gn_export.install_dsw_view() RETURNS text
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
