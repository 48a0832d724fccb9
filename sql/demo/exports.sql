-- Demo export views and their registration in the gn_exports catalog (needs the extension).
-- Idempotent: views are replaced, catalog rows are inserted only when missing.

-- 'Synthese SINP': our own view, with the 70 column names, order and types of GeoNature's
-- gn_exports.v_synthese_sinp. Unlike GeoNature's, datasets without actors keep their rows.
CREATE OR REPLACE VIEW gn_exports.v_synthese_sinp AS
WITH jdd_acteurs AS (
    SELECT d.id_dataset,
           string_agg(DISTINCT concat(COALESCE(o.nom_organisme, r.nom_role || ' ' || r.prenom_role), ' (', n.label_default, ')'),
                      ', ') AS acteurs
    FROM gn_meta.t_datasets d
    JOIN gn_meta.cor_dataset_actor act ON act.id_dataset = d.id_dataset
    LEFT JOIN ref_nomenclatures.t_nomenclatures n ON n.id_nomenclature = act.id_nomenclature_actor_role
    LEFT JOIN utilisateurs.t_roles r ON r.id_role = act.id_role
    LEFT JOIN utilisateurs.bib_organismes o ON o.id_organisme = act.id_organism
    GROUP BY d.id_dataset
)
SELECT s.id_synthese,
       s.entity_source_pk_value AS id_source,
       s.unique_id_sinp AS id_perm_sinp,
       s.unique_id_sinp_grp AS id_perm_grp_sinp,
       s.date_min AS date_debut,
       s.date_max AS date_fin,
       s.cd_nom,
       t.cd_ref,
       s.meta_v_taxref AS version_taxref,
       s.nom_cite,
       t.nom_valide,
       t.regne,
       t.group1_inpn,
       t.group2_inpn,
       t.classe,
       t.ordre,
       t.famille,
       t.id_rang AS rang_taxo,
       s.count_min AS nombre_min,
       s.count_max AS nombre_max,
       s.altitude_min,
       s.altitude_max,
       s.depth_min AS profondeur_min,
       s.depth_max AS profondeur_max,
       s.observers AS observateurs,
       s.determiner AS determinateur,
       s.validator AS validateur,
       s.sample_number_proof AS numero_preuve,
       s.digital_proof AS preuve_numerique,
       s.non_digital_proof AS preuve_non_numerique,
       s.the_geom_4326 AS geom,
       s.comment_context AS comment_releve,
       s.comment_description AS comment_occurrence,
       s.meta_create_date AS date_creation,
       s.meta_update_date AS date_modification,
       COALESCE(s.meta_update_date, s.meta_create_date) AS derniere_action,
       d.unique_dataset_id AS jdd_uuid,
       d.dataset_name AS jdd_nom,
       a.acteurs AS jdd_acteurs,
       af.unique_acquisition_framework_id AS ca_uuid,
       af.acquisition_framework_name AS ca_nom,
       s.reference_biblio,
       s.cd_hab AS code_habitat,
       h.lb_hab_fr AS habitat,
       s.place_name AS nom_lieu,
       s.precision,
       s.additional_data::text AS donnees_additionnelles,
       st_astext(s.the_geom_4326) AS wkt_4326,
       st_x(s.the_geom_point) AS x_centroid_4326,
       st_y(s.the_geom_point) AS y_centroid_4326,
       n1.label_default AS nature_objet_geo,
       n2.label_default AS type_regroupement,
       s.grp_method AS methode_regroupement,
       n3.label_default AS comportement,
       n4.label_default AS technique_obs,
       n5.label_default AS statut_biologique,
       n6.label_default AS etat_biologique,
       n7.label_default AS naturalite,
       n8.label_default AS preuve_existante,
       n9.label_default AS precision_diffusion,
       n10.label_default AS stade_vie,
       n11.label_default AS sexe,
       n12.label_default AS objet_denombrement,
       n13.label_default AS type_denombrement,
       n14.label_default AS niveau_sensibilite,
       n15.label_default AS statut_observation,
       n16.label_default AS floutage_dee,
       n17.label_default AS statut_source,
       n18.label_default AS type_info_geo,
       n19.label_default AS methode_determination
FROM gn_synthese.synthese s
JOIN taxonomie.taxref t ON t.cd_nom = s.cd_nom
JOIN gn_meta.t_datasets d ON d.id_dataset = s.id_dataset
LEFT JOIN jdd_acteurs a ON a.id_dataset = s.id_dataset
JOIN gn_meta.t_acquisition_frameworks af ON af.id_acquisition_framework = d.id_acquisition_framework
JOIN gn_synthese.t_sources sources ON sources.id_source = s.id_source
LEFT JOIN ref_habitats.habref h ON h.cd_hab = s.cd_hab
LEFT JOIN ref_nomenclatures.t_nomenclatures n1 ON s.id_nomenclature_geo_object_nature = n1.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n2 ON s.id_nomenclature_grp_typ = n2.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n3 ON s.id_nomenclature_behaviour = n3.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n4 ON s.id_nomenclature_obs_technique = n4.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n5 ON s.id_nomenclature_bio_status = n5.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n6 ON s.id_nomenclature_bio_condition = n6.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n7 ON s.id_nomenclature_naturalness = n7.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n8 ON s.id_nomenclature_exist_proof = n8.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n9 ON s.id_nomenclature_diffusion_level = n9.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n10 ON s.id_nomenclature_life_stage = n10.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n11 ON s.id_nomenclature_sex = n11.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n12 ON s.id_nomenclature_obj_count = n12.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n13 ON s.id_nomenclature_type_count = n13.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n14 ON s.id_nomenclature_sensitivity = n14.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n15 ON s.id_nomenclature_observation_status = n15.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n16 ON s.id_nomenclature_blurring = n16.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n17 ON s.id_nomenclature_source_status = n17.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n18 ON s.id_nomenclature_info_geo_type = n18.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n19 ON s.id_nomenclature_determination_method = n19.id_nomenclature;

COMMENT ON VIEW gn_exports.v_synthese_sinp IS 'Observations de la synthèse au format SINP (démo gn_export)';
COMMENT ON COLUMN gn_exports.v_synthese_sinp.id_synthese IS 'Identifiant de l''observation dans la synthèse';
COMMENT ON COLUMN gn_exports.v_synthese_sinp.date_debut IS 'Date de début de l''observation';
COMMENT ON COLUMN gn_exports.v_synthese_sinp.nom_cite IS 'Nom du taxon cité par l''observateur';
COMMENT ON COLUMN gn_exports.v_synthese_sinp.geom IS 'Géométrie de l''observation (WGS84)';

-- The view GeoNature's EXPORT module creates for its Darwin-SW export (not registered in
-- t_exports): its 53 column names, order and types, over the demo's tables. As GeoNature's,
-- a dataset with two producer organisms gives each of its observations twice.
CREATE OR REPLACE VIEW gn_exports.v_exports_synthese_sinp_rdf AS
WITH info_dataset AS (
    SELECT da.id_dataset, org.uuid_organisme, org.nom_organisme
    FROM gn_meta.cor_dataset_actor da
    JOIN utilisateurs.bib_organismes org ON org.id_organisme = da.id_organism
)
SELECT s.id_synthese AS "idSynthese",
       s.unique_id_sinp AS "permId",
       COALESCE(s.unique_id_sinp_grp, s.unique_id_sinp) AS "permIdGrp",
       s.count_min AS "denbrMin",
       s.count_max AS "denbrMax",
       s.meta_v_taxref AS "vTAXREF",
       s.sample_number_proof AS "sampleNumb",
       s.digital_proof AS "preuvNum",
       s.non_digital_proof AS "preuvNoNum",
       s.altitude_min AS "altMin",
       s.altitude_max AS "altMax",
       st_astext(s.the_geom_4326) AS geom,
       s.date_min AS "dateDebut",
       s.date_max AS "dateFin",
       s.validator AS validateur,
       s.observers AS observer,
       s.id_digitiser,
       s.determiner,
       s.comment_context AS "obsCtx",
       s.comment_description AS "obsDescr",
       s.meta_create_date,
       s.meta_update_date,
       d.unique_dataset_id AS "jddId",
       d.dataset_name AS "jddCode",
       d.id_acquisition_framework,
       t.cd_nom AS "cdNom",
       t.cd_ref AS "cdRef",
       s.nom_cite AS "nomCite",
       t.nom_complet,
       st_x(s.the_geom_point) AS x_centroid,
       st_y(s.the_geom_point) AS y_centroid,
       COALESCE(s.meta_update_date, s.meta_create_date) AS lastact,
       n1.label_default AS "ObjGeoTyp",
       n2.label_default AS "methGrp",
       n3.label_default AS "occComport",
       n4.label_default AS "obsTech",
       n5.label_default AS "ocEtatBio",
       n6.label_default AS "ocStatBio",
       n7.label_default AS "ocNat",
       n8.label_default AS "preuveOui",
       n9.label_default AS "difNivPrec",
       n10.label_default AS "ocStade",
       n11.label_default AS "ocSex",
       n12.label_default AS "objDenbr",
       n13.label_default AS "denbrTyp",
       n14.label_default AS "sensiNiv",
       n15.label_default AS "statObs",
       n16.label_default AS "dEEFlou",
       n17.label_default AS "statSource",
       n18.label_default AS "typInfGeo",
       n19.label_default AS "ocMethDet",
       info_d.uuid_organisme AS "ownerInstitutionID",
       info_d.nom_organisme AS "ownerInstitutionCode"
FROM gn_synthese.synthese s
JOIN taxonomie.taxref t ON t.cd_nom = s.cd_nom
JOIN gn_meta.t_datasets d ON d.id_dataset = s.id_dataset
JOIN gn_synthese.t_sources sources ON sources.id_source = s.id_source
LEFT JOIN ref_nomenclatures.t_nomenclatures n1 ON s.id_nomenclature_geo_object_nature = n1.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n2 ON s.id_nomenclature_grp_typ = n2.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n3 ON s.id_nomenclature_behaviour = n3.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n4 ON s.id_nomenclature_obs_technique = n4.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n5 ON s.id_nomenclature_bio_status = n5.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n6 ON s.id_nomenclature_bio_condition = n6.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n7 ON s.id_nomenclature_naturalness = n7.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n8 ON s.id_nomenclature_exist_proof = n8.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n9 ON s.id_nomenclature_diffusion_level = n9.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n10 ON s.id_nomenclature_life_stage = n10.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n11 ON s.id_nomenclature_sex = n11.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n12 ON s.id_nomenclature_obj_count = n12.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n13 ON s.id_nomenclature_type_count = n13.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n14 ON s.id_nomenclature_sensitivity = n14.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n15 ON s.id_nomenclature_observation_status = n15.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n16 ON s.id_nomenclature_blurring = n16.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n17 ON s.id_nomenclature_source_status = n17.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n18 ON s.id_nomenclature_info_geo_type = n18.id_nomenclature
LEFT JOIN ref_nomenclatures.t_nomenclatures n19 ON s.id_nomenclature_determination_method = n19.id_nomenclature
LEFT JOIN info_dataset info_d ON info_d.id_dataset = d.id_dataset;

-- 'Jeux de données': a public export without geometry.
CREATE OR REPLACE VIEW gn_exports.v_jeux_de_donnees AS
SELECT d.id_dataset,
       d.unique_dataset_id AS jdd_uuid,
       d.dataset_name AS jdd_nom,
       d.dataset_shortname AS jdd_nom_court,
       d.dataset_desc AS jdd_description,
       d.keywords AS mots_cles,
       d.terrestrial_domain AS domaine_terrestre,
       d.marine_domain AS domaine_marin,
       d.bbox_west, d.bbox_east, d.bbox_south, d.bbox_north,
       af.acquisition_framework_name AS ca_nom,
       af.acquisition_framework_start_date AS ca_date_debut,
       d.meta_create_date AS date_creation,
       d.additional_data AS donnees_additionnelles
FROM gn_meta.t_datasets d
JOIN gn_meta.t_acquisition_frameworks af USING (id_acquisition_framework);
COMMENT ON VIEW gn_exports.v_jeux_de_donnees IS 'Jeux de données publiés (démo gn_export)';

-- 'Synthese Lambert-93': a private export stored in EPSG:2154 (GeoJSON must reproject it).
CREATE OR REPLACE VIEW gn_exports.v_synthese_l93 AS
SELECT s.id_synthese,
       s.unique_id_sinp AS id_perm_sinp,
       s.cd_nom,
       s.nom_cite,
       s.date_min::date AS date_debut,
       s.date_max::date AS date_fin,
       s.count_min AS nombre_min,
       s.observers AS observateurs,
       s.precision,
       s.the_geom_local AS geom_local,
       s.comment_description AS commentaire,
       s.additional_data AS donnees_additionnelles
FROM gn_synthese.synthese s;
COMMENT ON VIEW gn_exports.v_synthese_l93 IS 'Observations en Lambert-93 (démo gn_export)';

INSERT INTO gn_exports.t_exports (label, schema_name, view_name, "desc", geometry_field, geometry_srid,
                                  public, id_licence, view_pk_column)
SELECT label, schema_name, view_name, "desc", geometry_field, geometry_srid, public, id_licence, view_pk_column
FROM (VALUES
    (1, 'Synthese SINP', 'gn_exports', 'v_synthese_sinp', 'Export des observations de la synthèse au format SINP',
     'geom', 4326, false, 1, 'id_synthese'),
    (2, 'Jeux de données', 'gn_exports', 'v_jeux_de_donnees', 'Liste publique des jeux de données',
     NULL, NULL::int, true, 3, 'id_dataset'),
    (3, 'Synthese Lambert-93', 'gn_exports', 'v_synthese_l93', 'Observations en Lambert-93 pour les partenaires',
     'geom_local', 2154, false, 2, 'id_synthese')) v(n, label, schema_name, view_name, "desc", geometry_field,
                                                     geometry_srid, public, id_licence, view_pk_column)
WHERE NOT EXISTS (SELECT 1 FROM gn_exports.t_exports e WHERE e.label = v.label)
-- the ids the demo and the tests name (1, 2, 3): in this order whatever the plan (PostgreSQL 17
-- hashes the anti-join and would give them in another)
ORDER BY v.n;

-- 'Synthese SINP' is associated with the user 'agent', 'Synthese Lambert-93' with the group
-- 'Grp_partenaires'. Tokens come from the column default: one fresh random token per row.
INSERT INTO gn_exports.cor_exports_roles (id_export, id_role)
SELECT e.id, v.id_role
FROM (VALUES ('Synthese SINP', 4), ('Synthese Lambert-93', 2)) v(label, id_role)
JOIN gn_exports.t_exports e ON e.label = v.label
ON CONFLICT DO NOTHING;

INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format)
SELECT e.id, 1, 'csv' FROM gn_exports.t_exports e
WHERE e.label = 'Jeux de données'
  AND NOT EXISTS (SELECT 1 FROM gn_exports.t_export_schedules s WHERE s.id_export = e.id);
