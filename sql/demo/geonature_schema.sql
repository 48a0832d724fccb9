-- A GeoNature-like subset: the real schema, table and column names and types of GeoNature 2.16
-- (utilisateurs, gn_commons, gn_permissions, gn_notifications, taxonomie, ref_nomenclatures,
-- ref_habitats, gn_meta, gn_synthese), reduced to what exports read. Idempotent.
-- The gn_exports catalog is NOT created here: CREATE EXTENSION gn_export does that.

CREATE EXTENSION IF NOT EXISTS postgis;

-- utilisateurs (UsersHub) ---------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS utilisateurs;
CREATE TABLE IF NOT EXISTS utilisateurs.bib_organismes (
    id_organisme      serial PRIMARY KEY,
    uuid_organisme    uuid NOT NULL DEFAULT gen_random_uuid(),
    nom_organisme     varchar(500) NOT NULL,
    adresse_organisme varchar(128),
    cp_organisme      varchar(5),
    ville_organisme   varchar(100),
    tel_organisme     varchar(14),
    fax_organisme     varchar(14),
    email_organisme   varchar(100),
    url_organisme     varchar(255),
    url_logo          varchar(255),
    id_parent         integer,
    additional_data   jsonb DEFAULT '{}'::jsonb,
    meta_create_date  timestamp DEFAULT now(),
    meta_update_date  timestamp DEFAULT now()
);
CREATE TABLE IF NOT EXISTS utilisateurs.t_roles (
    groupe       boolean NOT NULL DEFAULT false,
    id_role      serial PRIMARY KEY,
    uuid_role    uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT t_roles_uuid_un UNIQUE,
    identifiant  varchar(100),
    nom_role     varchar(50),
    prenom_role  varchar(50),
    desc_role    text,
    pass         varchar(100),
    pass_plus    text,
    email        varchar(250),
    id_organisme integer REFERENCES utilisateurs.bib_organismes (id_organisme) ON UPDATE CASCADE,
    remarques    text,
    active       boolean DEFAULT true,
    champs_addi  jsonb,
    date_insert  timestamp,
    date_update  timestamp
);
CREATE TABLE IF NOT EXISTS utilisateurs.cor_roles (
    id_role_groupe      integer NOT NULL REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE ON DELETE CASCADE,
    id_role_utilisateur integer NOT NULL REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE ON DELETE CASCADE,
    PRIMARY KEY (id_role_groupe, id_role_utilisateur)
);

-- gn_commons ------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS gn_commons;
CREATE TABLE IF NOT EXISTS gn_commons.t_modules (
    id_module           serial PRIMARY KEY,
    module_code         varchar(50) NOT NULL UNIQUE,
    module_label        varchar(255) NOT NULL,
    module_picto        varchar(255),
    module_desc         text,
    module_group        varchar(50),
    module_path         varchar(255),
    module_external_url varchar(255),
    module_target       varchar(10),
    module_comment      text,
    active_frontend     boolean NOT NULL DEFAULT true,
    active_backend      boolean NOT NULL DEFAULT true,
    module_doc_url      varchar(255),
    module_order        integer,
    type                varchar(255) NOT NULL DEFAULT 'base',
    ng_module           varchar(500),
    meta_create_date    timestamp DEFAULT now(),
    meta_update_date    timestamp DEFAULT now()
);
INSERT INTO gn_commons.t_modules (module_code, module_label, module_path, ng_module) VALUES
    ('GEONATURE', 'GeoNature', NULL, NULL),
    ('SYNTHESE', 'Synthèse', 'synthese', 'synthese'),
    ('EXPORTS', 'Export', 'exports', 'exports')
ON CONFLICT (module_code) DO NOTHING;

-- gn_permissions (GeoNature >= 2.15) ------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS gn_permissions;
CREATE TABLE IF NOT EXISTS gn_permissions.bib_actions (
    id_action          serial PRIMARY KEY,
    code_action        varchar(50) NOT NULL,
    description_action text
);
INSERT INTO gn_permissions.bib_actions (id_action, code_action, description_action)
SELECT * FROM (VALUES (1, 'C', 'Créer (C)'), (2, 'R', 'Lire (R)'), (3, 'U', 'Mettre à jour (U)'),
                      (4, 'V', 'Valider (V)'), (5, 'E', 'Exporter (E)'), (6, 'D', 'Supprimer (D)')) v
WHERE NOT EXISTS (SELECT 1 FROM gn_permissions.bib_actions);
SELECT setval(pg_get_serial_sequence('gn_permissions.bib_actions', 'id_action'),
              (SELECT max(id_action) FROM gn_permissions.bib_actions));
CREATE TABLE IF NOT EXISTS gn_permissions.t_objects (
    id_object          serial PRIMARY KEY,
    code_object        varchar(50) NOT NULL,
    description_object text
);
INSERT INTO gn_permissions.t_objects (id_object, code_object, description_object)
SELECT 1, 'ALL', 'Représente tous les objets d''un module'
WHERE NOT EXISTS (SELECT 1 FROM gn_permissions.t_objects);
SELECT setval(pg_get_serial_sequence('gn_permissions.t_objects', 'id_object'),
              (SELECT max(id_object) FROM gn_permissions.t_objects));
CREATE TABLE IF NOT EXISTS gn_permissions.bib_filters_scope (
    value       integer PRIMARY KEY,
    label       varchar(255),
    description text
);
INSERT INTO gn_permissions.bib_filters_scope VALUES
    (1, 'Mes données', 'Les données dont je suis l''auteur'),
    (2, 'Les données de mon organisme', 'Les données de mon organisme')
ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS gn_permissions.t_permissions (
    id_permission      serial PRIMARY KEY,
    id_role            integer NOT NULL REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE ON DELETE CASCADE,
    id_action          integer NOT NULL REFERENCES gn_permissions.bib_actions (id_action),
    id_module          integer NOT NULL REFERENCES gn_commons.t_modules (id_module),
    id_object          integer NOT NULL DEFAULT 1 REFERENCES gn_permissions.t_objects (id_object),
    scope_value        integer REFERENCES gn_permissions.bib_filters_scope (value),
    sensitivity_filter boolean DEFAULT false,
    created_on         timestamp DEFAULT now(),
    expire_on          timestamp,
    validated          boolean DEFAULT true
);

-- gn_notifications ----------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS gn_notifications;
CREATE TABLE IF NOT EXISTS gn_notifications.bib_notifications_methods (
    code        varchar PRIMARY KEY,
    label       varchar,
    description text
);
CREATE TABLE IF NOT EXISTS gn_notifications.bib_notifications_categories (
    code        varchar PRIMARY KEY,
    label       varchar,
    description text,
    id_module   integer REFERENCES gn_commons.t_modules (id_module),
    id_object   integer REFERENCES gn_permissions.t_objects (id_object),
    id_action   integer REFERENCES gn_permissions.bib_actions (id_action)
);
CREATE TABLE IF NOT EXISTS gn_notifications.bib_notifications_templates (
    code_category varchar REFERENCES gn_notifications.bib_notifications_categories (code),
    code_method   varchar REFERENCES gn_notifications.bib_notifications_methods (code),
    content       text,
    PRIMARY KEY (code_category, code_method)
);
CREATE TABLE IF NOT EXISTS gn_notifications.t_notifications (
    id_notification serial PRIMARY KEY,
    id_role         integer NOT NULL REFERENCES utilisateurs.t_roles (id_role),
    title           varchar,
    content         text,
    url             varchar,
    code_status     varchar,
    creation_date   timestamp
);
CREATE TABLE IF NOT EXISTS gn_notifications.t_notifications_rules (
    id            serial PRIMARY KEY,
    id_role       integer REFERENCES utilisateurs.t_roles (id_role),
    code_method   varchar NOT NULL REFERENCES gn_notifications.bib_notifications_methods (code),
    code_category varchar NOT NULL REFERENCES gn_notifications.bib_notifications_categories (code),
    subscribed    boolean NOT NULL DEFAULT true,
    CONSTRAINT un_role_method_category UNIQUE (id_role, code_method, code_category)
);
CREATE UNIQUE INDEX IF NOT EXISTS un_method_category
    ON gn_notifications.t_notifications_rules (code_method, code_category) WHERE id_role IS NULL;
INSERT INTO gn_notifications.bib_notifications_methods VALUES
    ('DB', 'Notification en base', 'Notification affichée dans GeoNature'),
    ('EMAIL', 'Notification par e-mail', 'Notification envoyée par e-mail')
ON CONFLICT DO NOTHING;
INSERT INTO gn_notifications.bib_notifications_categories (code, label, description) VALUES
    ('EXPORT-DONE', 'Fichier d''export généré',
     'Se déclenche lorsque la génération d''un fichier d''export est terminée')
ON CONFLICT DO NOTHING;
INSERT INTO gn_notifications.bib_notifications_templates VALUES
    ('EXPORT-DONE', 'DB', '{% if export_failed %}La génération de l''export {{ export.label }} a échoué.{% else %}Le fichier de l''export {{ export.label }} est disponible.{% endif %}'),
    ('EXPORT-DONE', 'EMAIL', '{% if export_failed %}La génération de l''export {{ export.label }} a échoué.{% else %}<p>Le fichier de l''export <b>{{ export.label }}</b> est disponible <a href="{{ url }}">ici</a> pendant {{ nb_keep_day }} jours.</p>{% endif %}')
ON CONFLICT DO NOTHING;
INSERT INTO gn_notifications.t_notifications_rules (id_role, code_method, code_category, subscribed)
SELECT NULL, m, 'EXPORT-DONE', true FROM (VALUES ('DB'), ('EMAIL')) v(m)
WHERE NOT EXISTS (SELECT 1 FROM gn_notifications.t_notifications_rules r
                  WHERE r.id_role IS NULL AND r.code_method = v.m AND r.code_category = 'EXPORT-DONE');

-- taxonomie (TaxHub) ----------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS taxonomie;
CREATE TABLE IF NOT EXISTS taxonomie.taxref (
    cd_nom           integer PRIMARY KEY,
    id_statut        char(1),
    id_habitat       integer,
    id_rang          varchar(10),
    regne            varchar(20),
    phylum           varchar(50),
    classe           varchar(50),
    ordre            varchar(50),
    famille          varchar(50),
    sous_famille     varchar(50),
    tribu            varchar(50),
    cd_taxsup        integer,
    cd_sup           integer,
    cd_ref           integer,
    lb_nom           varchar(250),
    lb_auteur        varchar(500),
    nom_complet      varchar(500),
    nom_complet_html varchar(500),
    nom_valide       varchar(500),
    nom_vern         varchar(1000),
    nom_vern_eng     varchar(500),
    group1_inpn      varchar(50),
    group2_inpn      varchar(50),
    url              text,
    group3_inpn      varchar(250),
    cd_ba            integer
);

-- ref_nomenclatures --------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS ref_nomenclatures;
CREATE TABLE IF NOT EXISTS ref_nomenclatures.bib_nomenclatures_types (
    id_type       integer PRIMARY KEY,
    mnemonique    varchar(255) UNIQUE,
    label_default varchar(255) NOT NULL
);
CREATE TABLE IF NOT EXISTS ref_nomenclatures.t_nomenclatures (
    id_nomenclature    integer PRIMARY KEY,
    id_type            integer NOT NULL REFERENCES ref_nomenclatures.bib_nomenclatures_types (id_type),
    cd_nomenclature    varchar(255) NOT NULL,
    mnemonique         varchar(255),
    label_default      varchar(255),
    definition_default text,
    label_fr           varchar(255),
    definition_fr      text,
    label_en           varchar(255),
    definition_en      text,
    label_es           varchar(255),
    definition_es      text,
    label_de           varchar(255),
    definition_de      text,
    label_it           varchar(255),
    definition_it      text,
    source             varchar(50),
    statut             varchar(20),
    id_broader         integer,
    hierarchy          varchar(255),
    meta_create_date   timestamp DEFAULT now(),
    meta_update_date   timestamp,
    active             boolean NOT NULL DEFAULT true
);

-- ref_habitats (Habref) -----------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS ref_habitats;
CREATE TABLE IF NOT EXISTS ref_habitats.habref (
    cd_hab            integer PRIMARY KEY,
    fg_validite       varchar(20) NOT NULL,
    cd_typo           integer NOT NULL,
    lb_code           varchar(50),
    lb_hab_fr         varchar(500),
    lb_hab_fr_complet varchar(500),
    lb_hab_en         varchar(500),
    lb_auteur         varchar(500),
    niveau            integer,
    lb_niveau         varchar(100),
    cd_hab_sup        integer,
    path_cd_hab       varchar(2000),
    france            varchar(5),
    lb_description    varchar(4000)
);

-- gn_meta -------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS gn_meta;
CREATE TABLE IF NOT EXISTS gn_meta.t_acquisition_frameworks (
    id_acquisition_framework          serial PRIMARY KEY,
    unique_acquisition_framework_id   uuid NOT NULL DEFAULT gen_random_uuid(),
    acquisition_framework_name        varchar(255) NOT NULL,
    acquisition_framework_desc        text NOT NULL,
    id_nomenclature_territorial_level integer,
    territory_desc                    text,
    keywords                          text,
    id_nomenclature_financing_type    integer,
    target_description                text,
    ecologic_or_geologic_target       text,
    acquisition_framework_parent_id   integer,
    is_parent                         boolean,
    opened                            boolean DEFAULT true,
    id_digitizer                      integer,
    acquisition_framework_start_date  date NOT NULL,
    acquisition_framework_end_date    date,
    meta_create_date                  timestamp NOT NULL DEFAULT now(),
    meta_update_date                  timestamp,
    initial_closing_date              timestamp,
    additional_data                   jsonb DEFAULT '{}'::jsonb
);
CREATE TABLE IF NOT EXISTS gn_meta.t_datasets (
    id_dataset                        serial PRIMARY KEY,
    unique_dataset_id                 uuid NOT NULL DEFAULT gen_random_uuid(),
    id_acquisition_framework          integer NOT NULL REFERENCES gn_meta.t_acquisition_frameworks (id_acquisition_framework),
    dataset_name                      varchar(255) NOT NULL,
    dataset_shortname                 varchar(255) NOT NULL,
    dataset_desc                      text NOT NULL,
    id_nomenclature_data_type         integer NOT NULL,
    keywords                          text,
    marine_domain                     boolean NOT NULL,
    terrestrial_domain                boolean NOT NULL,
    id_nomenclature_dataset_objectif  integer NOT NULL,
    bbox_west                         real,
    bbox_east                         real,
    bbox_south                        real,
    bbox_north                        real,
    id_nomenclature_collecting_method integer NOT NULL,
    id_nomenclature_data_origin       integer NOT NULL,
    id_nomenclature_source_status     integer NOT NULL,
    id_nomenclature_resource_type     integer NOT NULL,
    active                            boolean NOT NULL DEFAULT true,
    validable                         boolean DEFAULT true,
    id_digitizer                      integer,
    id_taxa_list                      integer,
    meta_create_date                  timestamp NOT NULL DEFAULT now(),
    meta_update_date                  timestamp,
    additional_data                   jsonb DEFAULT '{}'::jsonb
);
CREATE TABLE IF NOT EXISTS gn_meta.cor_dataset_actor (
    id_cda                     serial PRIMARY KEY,
    id_dataset                 integer NOT NULL REFERENCES gn_meta.t_datasets (id_dataset) ON DELETE CASCADE,
    id_role                    integer REFERENCES utilisateurs.t_roles (id_role),
    id_organism                integer REFERENCES utilisateurs.bib_organismes (id_organisme),
    id_nomenclature_actor_role integer NOT NULL
);

-- gn_synthese ---------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS gn_synthese;
CREATE TABLE IF NOT EXISTS gn_synthese.t_sources (
    id_source              serial PRIMARY KEY,
    name_source            varchar(255) NOT NULL,
    desc_source            text,
    entity_source_pk_field varchar(255),
    url_source             varchar(255),
    meta_create_date       timestamp DEFAULT now(),
    meta_update_date       timestamp DEFAULT now(),
    id_module              integer REFERENCES gn_commons.t_modules (id_module)
);
CREATE TABLE IF NOT EXISTS gn_synthese.synthese (
    id_synthese                           serial PRIMARY KEY,
    unique_id_sinp                        uuid UNIQUE,
    unique_id_sinp_grp                    uuid,
    id_source                             integer NOT NULL REFERENCES gn_synthese.t_sources (id_source),
    id_module                             integer,
    entity_source_pk_value                varchar,
    id_dataset                            integer REFERENCES gn_meta.t_datasets (id_dataset),
    id_nomenclature_geo_object_nature     integer,
    id_nomenclature_grp_typ               integer,
    grp_method                            varchar(255),
    id_nomenclature_obs_technique         integer,
    id_nomenclature_bio_status            integer,
    id_nomenclature_bio_condition         integer,
    id_nomenclature_naturalness           integer,
    id_nomenclature_exist_proof           integer,
    id_nomenclature_valid_status          integer,
    id_nomenclature_diffusion_level       integer,
    id_nomenclature_life_stage            integer,
    id_nomenclature_sex                   integer,
    id_nomenclature_obj_count             integer,
    id_nomenclature_type_count            integer,
    id_nomenclature_sensitivity           integer,
    id_nomenclature_observation_status    integer,
    id_nomenclature_blurring              integer,
    id_nomenclature_source_status         integer,
    id_nomenclature_info_geo_type         integer,
    id_nomenclature_behaviour             integer,
    id_nomenclature_biogeo_status         integer,
    id_nomenclature_determination_method  integer,
    reference_biblio                      varchar(5000),
    count_min                             integer,
    count_max                             integer,
    cd_nom                                integer REFERENCES taxonomie.taxref (cd_nom),
    cd_hab                                integer,
    nom_cite                              varchar(1000) NOT NULL,
    meta_v_taxref                         varchar(50),
    sample_number_proof                   text,
    digital_proof                         text,
    non_digital_proof                     text,
    altitude_min                          integer,
    altitude_max                          integer,
    depth_min                             integer,
    depth_max                             integer,
    place_name                            varchar(500),
    the_geom_4326                         geometry(Geometry, 4326),
    the_geom_point                        geometry(Point, 4326),
    the_geom_local                        geometry(Geometry, 2154),
    "precision"                           integer,
    id_area_attachment                    integer,
    date_min                              timestamp NOT NULL,
    date_max                              timestamp NOT NULL,
    validator                             varchar(1000),
    validation_comment                    text,
    observers                             varchar(1000),
    determiner                            varchar(1000),
    id_digitiser                          integer,
    comment_context                       text,
    comment_description                   text,
    additional_data                       jsonb,
    meta_validation_date                  timestamp,
    meta_create_date                      timestamp DEFAULT now(),
    meta_update_date                      timestamp DEFAULT now(),
    last_action                           char(1),
    id_import                             integer
);

-- ref_geo (RefGeo) and the Synthese's areas -----------------------------------------------------
-- The areas each observation lies in, as GeoNature's trigger on the Synthese attaches them: what
-- the SINP diffusion rule (gn_export.install_diffusion_view()) generalises sensitive observations
-- to. Without GeoNature's foreign keys, so that the generator fills them at full speed.
CREATE SCHEMA IF NOT EXISTS ref_geo;
CREATE TABLE IF NOT EXISTS ref_geo.bib_areas_types (
    id_type        serial PRIMARY KEY,
    type_name      varchar(200) NOT NULL,
    type_code      varchar(25) NOT NULL UNIQUE,
    type_desc      text,
    ref_name       varchar(200),
    ref_version    integer,
    num_version    varchar(50),
    size_hierarchy integer
);
CREATE TABLE IF NOT EXISTS ref_geo.l_areas (
    id_area          serial PRIMARY KEY,
    id_type          integer NOT NULL REFERENCES ref_geo.bib_areas_types (id_type),
    area_name        varchar(250),
    area_code        varchar(25),
    geom             geometry(MultiPolygon, 2154),
    centroid         geometry(Point, 2154),
    source           varchar(250),
    comment          text,
    enable           boolean NOT NULL DEFAULT true,
    additional_data  jsonb,
    meta_create_date timestamp,
    meta_update_date timestamp,
    geom_4326        geometry(MultiPolygon, 4326),
    description      text,
    CONSTRAINT unique_l_areas_id_type_area_code UNIQUE (id_type, area_code)
);
CREATE INDEX IF NOT EXISTS index_l_areas_geom ON ref_geo.l_areas USING gist (geom);
CREATE TABLE IF NOT EXISTS gn_synthese.cor_area_synthese (
    id_synthese integer NOT NULL,
    id_area     integer NOT NULL,
    PRIMARY KEY (id_synthese, id_area)
);
CREATE INDEX IF NOT EXISTS i_cor_area_synthese_id_area ON gn_synthese.cor_area_synthese (id_area);
