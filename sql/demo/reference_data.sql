-- Demo reference data: organisms, users and groups with EXPORTS permissions, nomenclatures,
-- taxa, habitats, acquisition frameworks, datasets and sources. Deterministic and idempotent
-- (it only fills empty tables).

-- Users and groups ----------------------------------------------------------------------------
--   1 Grp_admin        group, EXPORTS R with scope NULL (= 3, all data)
--   2 Grp_partenaires  group, EXPORTS R scope 1
--   3 admin            member of Grp_admin              -> scope 3
--   4 agent            own EXPORTS R scope 1            -> scope 1, associated with 'Synthese SINP'
--   5 partenaire       member of Grp_partenaires        -> scope 1 through the group
--   6 visiteur         no permission                    -> scope 0
INSERT INTO utilisateurs.bib_organismes (id_organisme, nom_organisme, ville_organisme)
SELECT * FROM (VALUES (1, 'Parc national des Écrins', 'Gap'),
                      (2, 'Conservatoire botanique national alpin', 'Gap')) v
WHERE NOT EXISTS (SELECT 1 FROM utilisateurs.bib_organismes);
SELECT setval(pg_get_serial_sequence('utilisateurs.bib_organismes', 'id_organisme'),
              (SELECT max(id_organisme) FROM utilisateurs.bib_organismes));

INSERT INTO utilisateurs.t_roles (id_role, groupe, identifiant, nom_role, prenom_role, email, id_organisme, date_insert)
SELECT * FROM (VALUES
    (1, true,  NULL,         'Grp_admin',       NULL,       NULL,                        1, timestamp '2024-01-01'),
    (2, true,  NULL,         'Grp_partenaires', NULL,       NULL,                        2, timestamp '2024-01-01'),
    (3, false, 'admin',      'Administrateur',  'Alice',    'admin@example.org',         1, timestamp '2024-01-01'),
    (4, false, 'agent',      'Agent',           'Benoît',   'agent@example.org',         1, timestamp '2024-01-01'),
    (5, false, 'partenaire', 'Partenaire',      'Chloé',    'partenaire@example.org',    2, timestamp '2024-01-01'),
    (6, false, 'visiteur',   'Visiteur',        'Dominique','visiteur@example.org',      NULL::int, timestamp '2024-01-01')) v
WHERE NOT EXISTS (SELECT 1 FROM utilisateurs.t_roles);
SELECT setval(pg_get_serial_sequence('utilisateurs.t_roles', 'id_role'),
              (SELECT max(id_role) FROM utilisateurs.t_roles));

INSERT INTO utilisateurs.cor_roles (id_role_groupe, id_role_utilisateur)
VALUES (1, 3), (2, 5) ON CONFLICT DO NOTHING;

INSERT INTO gn_permissions.t_permissions (id_role, id_action, id_module, id_object, scope_value)
SELECT v.id_role, a.id_action, m.id_module, 1, v.scope_value
FROM (VALUES (1, NULL::int), (2, 1), (4, 1)) v(id_role, scope_value)
CROSS JOIN gn_permissions.bib_actions a
CROSS JOIN gn_commons.t_modules m
WHERE a.code_action = 'R' AND m.module_code = 'EXPORTS'
  AND NOT EXISTS (SELECT 1 FROM gn_permissions.t_permissions);

-- Nomenclatures: 21 types (GeoNature's mnemonics), id = id_type * 10 + k: 4 values each, but
-- GeoNature's own codes and labels for the two that the SINP diffusion rule reads, SENSIBILITE
-- (0 to 4) and NIV_PRECIS (0 to 5) ------------------------------------------------------------
INSERT INTO ref_nomenclatures.bib_nomenclatures_types (id_type, mnemonique, label_default)
SELECT * FROM (VALUES
    (1, 'NAT_OBJ_GEO', 'Nature d''objet géographique'), (2, 'TYP_GRP', 'Type de regroupement'),
    (3, 'METH_OBS', 'Méthodes d''observation'), (4, 'STATUT_BIO', 'Statut biologique'),
    (5, 'ETA_BIO', 'État biologique de l''observation'), (6, 'NATURALITE', 'Niveau de naturalité'),
    (7, 'PREUVE_EXIST', 'Existence d''une preuve'), (8, 'STATUT_VALID', 'Statut de validation'),
    (9, 'NIV_PRECIS', 'Niveaux de précision de diffusion'), (10, 'STADE_VIE', 'Stade de vie'),
    (11, 'SEXE', 'Sexe'), (12, 'OBJ_DENBR', 'Objet du dénombrement'),
    (13, 'TYP_DENBR', 'Type de dénombrement'), (16, 'SENSIBILITE', 'Niveau de sensibilité'),
    (17, 'STATUT_OBS', 'Statut d''observation'), (18, 'DEE_FLOU', 'Floutage DEE'),
    (19, 'STATUT_SOURCE', 'Statut de la source'), (20, 'TYP_INF_GEO', 'Type d''information géographique'),
    (21, 'OCC_COMPORTEMENT', 'Comportement des occurrences'), (22, 'STAT_BIOGEO', 'Statut biogéographique'),
    (23, 'METH_DETERMIN', 'Méthode de détermination')) v
WHERE NOT EXISTS (SELECT 1 FROM ref_nomenclatures.bib_nomenclatures_types);

INSERT INTO ref_nomenclatures.t_nomenclatures
    (id_nomenclature, id_type, cd_nomenclature, mnemonique, label_default, label_fr, definition_default, source, statut)
SELECT t.id_type * 10 + k,
       t.id_type,
       CASE WHEN t.mnemonique IN ('SENSIBILITE', 'NIV_PRECIS') THEN (k)::text ELSE (k + 1)::text END,
       l.label,
       l.label,
       l.label,
       'Valeur ' || k || ' de la nomenclature ' || t.label_default,
       'SINP',
       'Validé'
FROM ref_nomenclatures.bib_nomenclatures_types t
CROSS JOIN LATERAL generate_series(0, CASE t.mnemonique WHEN 'SENSIBILITE' THEN 4 WHEN 'NIV_PRECIS' THEN 5 ELSE 3 END) k
CROSS JOIN LATERAL (SELECT CASE t.mnemonique
        WHEN 'NAT_OBJ_GEO' THEN (ARRAY['Stationnel', 'Inventoriel', 'Ne sait pas', 'Non renseigné'])[k + 1]
        WHEN 'METH_OBS'    THEN (ARRAY['Vu', 'Entendu', 'Empreintes', 'Fèces/Guano/Épreintes'])[k + 1]
        WHEN 'STATUT_BIO'  THEN (ARRAY['Inconnu', 'Non renseigné', 'Non déterminé', 'Reproduction'])[k + 1]
        WHEN 'SEXE'        THEN (ARRAY['Femelle', 'Mâle', 'Hermaphrodite', 'Inconnu'])[k + 1]
        WHEN 'SENSIBILITE' THEN (ARRAY['Non sensible - Diffusion précise', 'Sensible - Diffusion à la Commune ou Znieff',
                                        'Sensible - Diffusion à la maille 10km', 'Sensible - Diffusion au département',
                                        'Sensible - Aucune diffusion'])[k + 1]
        WHEN 'NIV_PRECIS'  THEN (ARRAY['Standard', 'Commune', 'Maille', 'Département', 'Non diffusé', 'Précise'])[k + 1]
        WHEN 'STATUT_OBS'  THEN (ARRAY['Présent', 'Non observé', 'Ne sait pas', 'Présent'])[k + 1]
        WHEN 'STADE_VIE'   THEN (ARRAY['Adulte', 'Juvénile', 'Œuf', 'Larve'])[k + 1]
        ELSE t.mnemonique || ' « ' || (k + 1) || ' »'
    END AS label) l
WHERE NOT EXISTS (SELECT 1 FROM ref_nomenclatures.t_nomenclatures);

-- Taxa: 400 names over two kingdoms -----------------------------------------------------------
INSERT INTO taxonomie.taxref (cd_nom, id_statut, id_rang, regne, phylum, classe, ordre, famille,
                              cd_ref, lb_nom, lb_auteur, nom_complet, nom_valide, nom_vern,
                              group1_inpn, group2_inpn, url)
SELECT 60000 + i,
       'P',
       'ES',
       CASE WHEN animal THEN 'Animalia' ELSE 'Plantae' END,
       CASE WHEN animal THEN 'Chordata' ELSE 'Tracheophyta' END,
       CASE WHEN animal THEN (ARRAY['Aves', 'Mammalia', 'Amphibia', 'Insecta'])[1 + i % 4]
            ELSE (ARRAY['Magnoliopsida', 'Liliopsida', 'Polypodiopsida', 'Pinopsida'])[1 + i % 4] END,
       'Ordre ' || (i % 17),
       'Famille ' || (i % 53),
       60000 + i - (i % 7 = 3)::int,             -- a few synonyms point at their neighbour
       genus || ' ' || species,
       (ARRAY['L., 1758', '(Linnaeus, 1758)', 'Gmelin, 1789', 'Schreb., 1771', 'Desf.'])[1 + i % 5],
       genus || ' ' || species || ' ' || (ARRAY['L., 1758', '(Linnaeus, 1758)', 'Gmelin, 1789', 'Schreb., 1771', 'Desf.'])[1 + i % 5],
       genus || ' ' || species,
       CASE WHEN i % 9 = 0 THEN NULL ELSE (ARRAY['Aigle royal', 'Chamois', 'Grenouille rousse', 'Apollon',
            'Edelweiss', 'Gentiane de Koch', 'Lis martagon', 'Épicéa', 'Sabot de Vénus', 'Bouquetin des Alpes'])[1 + i % 10] || ' n°' || i END,
       CASE WHEN animal THEN 'Chordés' ELSE 'Trachéophytes' END,
       CASE WHEN animal THEN (ARRAY['Oiseaux', 'Mammifères', 'Amphibiens', 'Insectes'])[1 + i % 4]
            ELSE (ARRAY['Angiospermes', 'Angiospermes', 'Fougères', 'Gymnospermes'])[1 + i % 4] END,
       'https://inpn.mnhn.fr/espece/cd_nom/' || (60000 + i)
FROM generate_series(1, 400) i
CROSS JOIN LATERAL (SELECT i <= 200 AS animal,
    (ARRAY['Aquila', 'Rupicapra', 'Rana', 'Parnassius', 'Leontopodium', 'Gentiana', 'Lilium', 'Picea',
           'Cypripedium', 'Capra', 'Tetrao', 'Lagopus', 'Saxifraga', 'Androsace'])[1 + i % 14] AS genus,
    (ARRAY['chrysaetos', 'rupicapra', 'temporaria', 'apollo', 'nivale', 'acaulis', 'martagon', 'abies',
           'calceolus', 'ibex', 'tetrix', 'muta', 'oppositifolia', 'alpina', 'helvetica', 'vulgaris'])[1 + (i / 14) % 16] AS species) n
WHERE NOT EXISTS (SELECT 1 FROM taxonomie.taxref);

INSERT INTO ref_habitats.habref (cd_hab, fg_validite, cd_typo, lb_code, lb_hab_fr, niveau)
SELECT h, 'V', 7, 'H' || h, (ARRAY['Pelouses alpines', 'Éboulis calcaires', 'Forêts de mélèzes',
       'Lacs d''altitude', 'Landes à rhododendron'])[1 + h % 5] || ' (' || h || ')', 3
FROM generate_series(1, 50) h
WHERE NOT EXISTS (SELECT 1 FROM ref_habitats.habref);

-- Metadata ------------------------------------------------------------------------------------
INSERT INTO gn_meta.t_acquisition_frameworks (id_acquisition_framework, unique_acquisition_framework_id,
    acquisition_framework_name, acquisition_framework_desc, acquisition_framework_start_date)
SELECT a, md5('af' || a)::uuid, 'Cadre d''acquisition ' || a || ' – inventaires « alpins »',
       'Inventaires de la faune et de la flore ' || a, date '2000-01-01' + a * 365
FROM generate_series(1, 5) a
WHERE NOT EXISTS (SELECT 1 FROM gn_meta.t_acquisition_frameworks);
SELECT setval(pg_get_serial_sequence('gn_meta.t_acquisition_frameworks', 'id_acquisition_framework'),
              (SELECT max(id_acquisition_framework) FROM gn_meta.t_acquisition_frameworks));

INSERT INTO gn_meta.t_datasets (id_dataset, unique_dataset_id, id_acquisition_framework, dataset_name,
    dataset_shortname, dataset_desc, id_nomenclature_data_type, marine_domain, terrestrial_domain,
    id_nomenclature_dataset_objectif, bbox_west, bbox_east, bbox_south, bbox_north,
    id_nomenclature_collecting_method, id_nomenclature_data_origin, id_nomenclature_source_status,
    id_nomenclature_resource_type, meta_create_date, keywords)
SELECT d, md5('jdd' || d)::uuid, 1 + d % 5, 'Jeu de données ' || d || ' ; suivi "flore", faune',
       'JDD' || d, 'Observations du jeu ' || d || E'\nsur plusieurs lignes', 1, false, true, 1,
       5.9, 6.6, 44.5, 45.1, 1, 1, 1, 1, timestamp '2020-01-01' + d * interval '3 days',
       CASE WHEN d % 4 = 0 THEN NULL ELSE 'alpes, montagne' END
FROM generate_series(1, 20) d
WHERE NOT EXISTS (SELECT 1 FROM gn_meta.t_datasets);
SELECT setval(pg_get_serial_sequence('gn_meta.t_datasets', 'id_dataset'),
              (SELECT max(id_dataset) FROM gn_meta.t_datasets));

-- Datasets 19 and 20 have no actor (GeoNature's own view would drop their observations).
INSERT INTO gn_meta.cor_dataset_actor (id_dataset, id_role, id_organism, id_nomenclature_actor_role)
SELECT d, CASE WHEN d % 2 = 0 THEN 4 END, CASE WHEN d % 2 = 1 THEN 1 + d % 2 END, 1
FROM generate_series(1, 18) d
WHERE NOT EXISTS (SELECT 1 FROM gn_meta.cor_dataset_actor);

INSERT INTO gn_synthese.t_sources (id_source, name_source, desc_source, entity_source_pk_field)
SELECT * FROM (VALUES (1, 'Occtax', 'Saisie Occtax', 'pr_occtax.cor_counting_occtax.id_counting_occtax'),
                      (2, 'Import', 'Imports de fichiers', 'gn_imports.id_import'),
                      (3, 'GN2PG', 'Flux depuis une autre instance', NULL)) v
WHERE NOT EXISTS (SELECT 1 FROM gn_synthese.t_sources);
SELECT setval(pg_get_serial_sequence('gn_synthese.t_sources', 'id_source'),
              (SELECT max(id_source) FROM gn_synthese.t_sources));

-- Areas (ref_geo): two départements split at 6.25° E, communes on a 0.05° grid (named after the
-- département they lie in: 15 columns from 5.90° E, 13 rows from 44.50° N) and the national
-- 10 km grid in Lambert-93 (M10, GeoNature's codes), covering the observations' box; and its
-- 1 km grid (M1), disabled (not attached to observations), as an instance that keeps it for its
-- maps: some 6,000 areas, so that l_areas has the size a real one has and queries are planned
-- as on a real one
INSERT INTO ref_geo.bib_areas_types (id_type, type_name, type_code, type_desc, ref_name, ref_version, size_hierarchy)
SELECT * FROM (VALUES
    (25, 'Communes', 'COM', 'Type communes', 'IGN admin_express', 2024, 25),
    (26, 'Départements', 'DEP', 'Type départements', 'IGN admin_express', 2024, 100),
    (27, 'Mailles10*10', 'M10', 'Type mailles INPN 10*10', NULL, NULL, 10),
    (28, 'Mailles1*1', 'M1', 'Type mailles INPN 1*1', NULL, NULL, 1)) v
WHERE NOT EXISTS (SELECT 1 FROM ref_geo.bib_areas_types);

CREATE SCHEMA IF NOT EXISTS gn_demo;
-- the code of the demo's commune in grid cell (i, j), and of the département at longitude x
CREATE OR REPLACE FUNCTION gn_demo.departement(x double precision) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN x < 6.25 THEN '38' ELSE '05' END $$;
CREATE OR REPLACE FUNCTION gn_demo.commune_code(i int, j int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT gn_demo.departement(5.9 + 0.05 * i + 0.025) || lpad((1 + j * 15 + i)::text, 3, '0') $$;

INSERT INTO ref_geo.l_areas (id_type, area_name, area_code, geom, geom_4326, source, meta_create_date)
SELECT 26, name, code, ST_Multi(ST_Transform(g, 2154)), ST_Multi(g), 'IGN admin_express', timestamp '2024-01-01'
FROM (VALUES ('Isère', '38', ST_MakeEnvelope(5.85, 44.45, 6.25, 45.2, 4326)),
             ('Hautes-Alpes', '05', ST_MakeEnvelope(6.25, 44.45, 6.7, 45.2, 4326))) d(name, code, g)
WHERE NOT EXISTS (SELECT 1 FROM ref_geo.l_areas);

INSERT INTO ref_geo.l_areas (id_type, area_name, area_code, geom, geom_4326, source, meta_create_date)
SELECT 25,
       (ARRAY['Saint-Véran', 'La Grave', 'Vallouise-Pelvoux', 'L''Argentière-la-Bessée', 'Névache',
              'Le Monêtier-les-Bains', 'Villar-d''Arêne', 'Pelvoux', 'Saint-Christophe-en-Oisans',
              'Mont-de-Lans', 'Chantelouve', 'Orcières', 'Champoléon'])[1 + (i + j) % 13] || ' ' || (1 + j * 15 + i),
       gn_demo.commune_code(i, j),
       ST_Multi(ST_Transform(g, 2154)), ST_Multi(g), 'IGN admin_express', timestamp '2024-01-01'
FROM generate_series(0, 14) i
CROSS JOIN generate_series(0, 12) j
CROSS JOIN LATERAL (SELECT ST_MakeEnvelope(5.9 + 0.05 * i, 44.5 + 0.05 * j, 5.95 + 0.05 * i, 44.55 + 0.05 * j, 4326) AS g) c
WHERE NOT EXISTS (SELECT 1 FROM ref_geo.l_areas WHERE id_type = 25);

-- the INPN grids in Lambert-93, named as GeoNature names them (10kmL93E097N645, 1kmL93E0970N6450)
INSERT INTO ref_geo.l_areas (id_type, area_name, area_code, geom, geom_4326, source, enable, meta_create_date)
SELECT grid.id_type, code, code, ST_Multi(g), ST_Multi(ST_Transform(g, 4326)), 'INPN', grid.enable, timestamp '2024-01-01'
FROM (VALUES (27, 10000, 3, '10km', true), (28, 1000, 4, '1km', false)) grid(id_type, side, digits, prefix, enable)
CROSS JOIN (SELECT ST_Transform(ST_MakeEnvelope(5.85, 44.45, 6.7, 45.2, 4326), 2154) AS box) b
CROSS JOIN LATERAL generate_series(floor(ST_XMin(b.box) / grid.side)::int, floor(ST_XMax(b.box) / grid.side)::int) e
CROSS JOIN LATERAL generate_series(floor(ST_YMin(b.box) / grid.side)::int, floor(ST_YMax(b.box) / grid.side)::int) n
CROSS JOIN LATERAL (SELECT format('%sL93E%sN%s', grid.prefix, lpad(e::text, grid.digits, '0'), lpad(n::text, grid.digits, '0')) AS code,
                           ST_MakeEnvelope(e * grid.side, n * grid.side, (e + 1) * grid.side, (n + 1) * grid.side, 2154) AS g) m
WHERE NOT EXISTS (SELECT 1 FROM ref_geo.l_areas a WHERE a.id_type = grid.id_type);
ANALYZE ref_geo.l_areas;
