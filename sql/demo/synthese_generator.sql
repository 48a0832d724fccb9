-- Deterministic generator of N synthese observations with realistic, awkward content:
-- separators, quotes, backslashes, tabs, LF/CR/CRLF, accents, CJK, emoji, empty strings and
-- NULLs in many columns; ~85% points, ~10% lines, ~5% polygons and a few NULL geometries;
-- jsonb additional_data. Same N, same rows, on every machine of the same architecture.
-- (schema gn_demo: made by reference_data.sql, which this follows)

-- A pseudo-random non-negative integer for row i and a salt (hashint8 is deterministic).
CREATE OR REPLACE FUNCTION gn_demo.r(i bigint, salt int) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT abs(hashint8(i * 7919 + salt)::bigint) $$;

CREATE OR REPLACE FUNCTION gn_demo.awkward(i bigint, salt int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (ARRAY[
    'Observation au bord du lac ; temps clair, vent "fort"',
    E'Ligne 1\nLigne 2',
    E'Fin de ligne Windows\r\nseconde ligne',
    E'Tabulation\tici',
    'Chemin C:\data\obs\ (antislash)',
    '\.',
    '\N',
    '',
    NULL,
    'Accents : éèêàçôœ ÉÈ Ÿ',
    '漢字とかなの混在',
    'Emoji 🦅🏔️🌼',
    E'Retour chariot seul\rfin',
    'Virgule, point-virgule; guillemet " et apostrophe ''',
    'Commentaire ordinaire',
    NULL,
    'Individu observé en vol',
    NULL
])[1 + gn_demo.r(i, salt) % 18] $$;

CREATE OR REPLACE FUNCTION gn_demo.generate_synthese(n int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    inserted bigint;
BEGIN
    INSERT INTO gn_synthese.synthese (
        id_synthese, unique_id_sinp, unique_id_sinp_grp, id_source, id_module, entity_source_pk_value,
        id_dataset, id_nomenclature_geo_object_nature, id_nomenclature_grp_typ, grp_method,
        id_nomenclature_obs_technique, id_nomenclature_bio_status, id_nomenclature_bio_condition,
        id_nomenclature_naturalness, id_nomenclature_exist_proof, id_nomenclature_valid_status,
        id_nomenclature_diffusion_level, id_nomenclature_life_stage, id_nomenclature_sex,
        id_nomenclature_obj_count, id_nomenclature_type_count, id_nomenclature_sensitivity,
        id_nomenclature_observation_status, id_nomenclature_blurring, id_nomenclature_source_status,
        id_nomenclature_info_geo_type, id_nomenclature_behaviour, id_nomenclature_biogeo_status,
        id_nomenclature_determination_method, reference_biblio, count_min, count_max, cd_nom, cd_hab,
        nom_cite, meta_v_taxref, sample_number_proof, digital_proof, non_digital_proof,
        altitude_min, altitude_max, depth_min, depth_max, place_name,
        the_geom_4326, the_geom_point, the_geom_local, "precision",
        date_min, date_max, validator, validation_comment, observers, determiner, id_digitiser,
        comment_context, comment_description, additional_data, meta_validation_date,
        meta_create_date, meta_update_date, last_action)
    SELECT
        i,
        md5('obs' || i)::uuid,
        CASE WHEN i % 3 = 0 THEN md5('grp' || (i / 3))::uuid END,
        1 + gn_demo.r(i, 1) % 3,
        NULL,
        CASE WHEN i % 11 = 0 THEN NULL ELSE 'src-' || i END,
        1 + gn_demo.r(i, 2) % 20,
        -- nomenclatures: id = id_type * 10 + k; some left NULL, as in real data
        10 + gn_demo.r(i, 3) % 4,
        CASE WHEN i % 5 = 0 THEN NULL ELSE 20 + gn_demo.r(i, 4) % 4 END,
        CASE WHEN i % 7 = 0 THEN 'Transect ; "parcours" n°' || (i % 13) END,
        30 + gn_demo.r(i, 5) % 4,
        40 + gn_demo.r(i, 6) % 4,
        50 + gn_demo.r(i, 7) % 4,
        60 + gn_demo.r(i, 8) % 4,
        70 + gn_demo.r(i, 9) % 4,
        80 + gn_demo.r(i, 10) % 4,
        -- diffusion level (NIV_PRECIS): as real data, often unset (it then follows the sensitivity)
        CASE WHEN gn_demo.r(i, 11) % 100 < 40 THEN NULL
             WHEN gn_demo.r(i, 11) % 100 < 75 THEN 95
             WHEN gn_demo.r(i, 11) % 100 < 88 THEN 90
             ELSE 91 + gn_demo.r(i, 11) % 4 END,
        100 + gn_demo.r(i, 12) % 4,
        110 + gn_demo.r(i, 13) % 4,
        120 + gn_demo.r(i, 14) % 4,
        130 + gn_demo.r(i, 15) % 4,
        -- sensitivity (SENSIBILITE): mostly 0, a few sensitive, 1 % not computed (NULL)
        CASE WHEN gn_demo.r(i, 16) % 100 < 86 THEN 160
             WHEN gn_demo.r(i, 16) % 100 < 99 THEN 161 + gn_demo.r(i, 16) % 4 END,
        170 + gn_demo.r(i, 17) % 4,
        CASE WHEN i % 4 = 0 THEN NULL ELSE 180 + gn_demo.r(i, 18) % 4 END,
        190 + gn_demo.r(i, 19) % 4,
        200 + gn_demo.r(i, 20) % 4,
        CASE WHEN i % 6 = 0 THEN NULL ELSE 210 + gn_demo.r(i, 21) % 4 END,
        220 + gn_demo.r(i, 22) % 4,
        230 + gn_demo.r(i, 23) % 4,
        CASE WHEN i % 19 = 0 THEN 'Dupont, J. (2019) « Flore des Alpes », p. ' || (i % 300) END,
        c.cmin,
        c.cmin + gn_demo.r(i, 25) % 5,
        t.cd_nom,
        CASE WHEN i % 3 = 0 THEN 1 + gn_demo.r(i, 26) % 50 END,
        t.lb_nom || CASE WHEN i % 8 = 0 THEN ' ' || t.lb_auteur ELSE '' END,
        '16.0',
        CASE WHEN i % 23 = 0 THEN 'ECH-' || i END,
        CASE WHEN i % 29 = 0 THEN 'https://photos.example.org/obs/' || i || '.jpg' END,
        CASE WHEN i % 31 = 0 THEN 'Échantillon conservé au musée' END,
        a.alt,
        a.alt + (gn_demo.r(i, 27) % 50)::int,
        CASE WHEN i % 50 = 0 THEN 0 END,
        CASE WHEN i % 50 = 0 THEN (gn_demo.r(i, 28) % 20)::int END,
        CASE WHEN i % 5 = 0 THEN NULL ELSE gn_demo.awkward(i, 29) END,
        g.geom,
        CASE WHEN g.geom IS NOT NULL THEN ST_PointOnSurface(g.geom) END,
        ST_Transform(g.geom, 2154),
        CASE WHEN i % 9 = 0 THEN NULL ELSE (10 * (1 + gn_demo.r(i, 30) % 50))::int END,
        d.dmin,
        d.dmin + (gn_demo.r(i, 31) % 3) * interval '1 day',
        CASE WHEN i % 4 = 0 THEN 'Validateur, Vé' END,
        CASE WHEN i % 4 = 0 THEN gn_demo.awkward(i, 32) END,
        (ARRAY['Dupont Jean', 'Martin Élodie, Bernard Loïc', 'Nguyễn Thị Hoa', 'O''Brien Seán',
               'Müller Jürgen; Weiß Anna', 'Anonyme', 'Lefèvre Zoé'])[1 + gn_demo.r(i, 33) % 7],
        CASE WHEN i % 3 = 0 THEN NULL ELSE 'Déterminateur ' || (i % 17) END,
        CASE WHEN i % 2 = 0 THEN 4 END,
        gn_demo.awkward(i, 34),
        gn_demo.awkward(i, 35),
        CASE gn_demo.r(i, 36) % 4
            WHEN 0 THEN NULL
            WHEN 1 THEN jsonb_build_object('nb_individus', gn_demo.r(i, 37) % 50, 'méthode', 'transect')
            WHEN 2 THEN jsonb_build_object('météo', jsonb_build_object('temp', -5.5 + (gn_demo.r(i, 38) % 300) / 10.0,
                                           'ciel', 'dégagé "bleu"'), 'tags', jsonb_build_array('alpin', 'été', i % 7))
            ELSE jsonb_build_object('commentaire', gn_demo.awkward(i, 39), 'ok', i % 2 = 0)
        END,
        CASE WHEN i % 4 = 0 THEN d.dmin + interval '30 days' END,
        timestamp '2024-01-01' + (gn_demo.r(i, 40) % 31536000) * interval '1 second',
        timestamp '2024-06-01' + (gn_demo.r(i, 41) % 15768000) * interval '1 second'
            + CASE WHEN i % 10 = 0 THEN interval '0.123456 second' ELSE interval '0' END,
        (ARRAY['I', 'U', 'I', 'I'])[1 + gn_demo.r(i, 42) % 4]
    FROM generate_series(1, n) i
    CROSS JOIN LATERAL (
        SELECT 5.9 + (gn_demo.r(i, 50) % 70000) / 100000.0 AS x,
               44.5 + (gn_demo.r(i, 51) % 60000) / 100000.0 AS y,
               gn_demo.r(i, 52) % 100 AS kind
    ) p
    CROSS JOIN LATERAL (
        SELECT CASE
            WHEN i % 997 = 0 THEN NULL
            WHEN p.kind < 85 THEN ST_SetSRID(ST_MakePoint(p.x, p.y), 4326)
            WHEN p.kind < 95 THEN ST_SetSRID(ST_MakeLine(ARRAY[ST_MakePoint(p.x, p.y),
                                        ST_MakePoint(p.x + 0.001, p.y + 0.0005),
                                        ST_MakePoint(p.x + 0.002, p.y - 0.0003)]), 4326)
            ELSE ST_MakeEnvelope(p.x, p.y, p.x + 0.002, p.y + 0.0015, 4326)
        END AS geom
    ) g
    CROSS JOIN LATERAL (SELECT 60001 + (gn_demo.r(i, 53) % 400)::int AS cd_nom) t0
    JOIN taxonomie.taxref t ON t.cd_nom = t0.cd_nom
    CROSS JOIN LATERAL (SELECT CASE WHEN i % 13 = 0 THEN NULL ELSE (1 + gn_demo.r(i, 24) % 20)::int END AS cmin) c
    CROSS JOIN LATERAL (SELECT CASE WHEN i % 17 = 0 THEN NULL ELSE (800 + gn_demo.r(i, 54) % 2800)::int END AS alt) a
    CROSS JOIN LATERAL (SELECT timestamp '2000-01-01' + (gn_demo.r(i, 55) % 788400000) * interval '1 second' AS dmin) d
    ORDER BY i;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    -- the areas each new observation's box meets, as GeoNature's trigger attaches them (by
    -- intersection): the demo's communes and départements are a grid in degrees, its 10 km
    -- cells one in Lambert-93, so the cells come from the box's corners
    INSERT INTO gn_synthese.cor_area_synthese (id_synthese, id_area)
    SELECT s.id_synthese, a.id_area
    FROM gn_synthese.synthese s
    CROSS JOIN LATERAL (
        SELECT ST_XMin(s.the_geom_4326) AS x0, ST_XMax(s.the_geom_4326) AS x1,
               ST_YMin(s.the_geom_4326) AS y0, ST_YMax(s.the_geom_4326) AS y1,
               ST_XMin(s.the_geom_local) AS e0, ST_XMax(s.the_geom_local) AS e1,
               ST_YMin(s.the_geom_local) AS n0, ST_YMax(s.the_geom_local) AS n1) b
    CROSS JOIN LATERAL (
        SELECT 25 AS id_type, gn_demo.commune_code(ci, cj) AS code
        FROM generate_series(floor((b.x0 - 5.9) / 0.05)::int, floor((b.x1 - 5.9) / 0.05)::int) ci,
             generate_series(floor((b.y0 - 44.5) / 0.05)::int, floor((b.y1 - 44.5) / 0.05)::int) cj
        UNION ALL
        SELECT 27, format('10kmL93E%sN%s', lpad(me::text, 3, '0'), lpad(mn::text, 3, '0'))
        FROM generate_series(floor(b.e0 / 10000)::int, floor(b.e1 / 10000)::int) me,
             generate_series(floor(b.n0 / 10000)::int, floor(b.n1 / 10000)::int) mn
        UNION ALL
        SELECT DISTINCT 26, gn_demo.departement(x) FROM unnest(ARRAY[b.x0, b.x1]) x
    ) c
    JOIN ref_geo.l_areas a ON a.id_type = c.id_type AND a.area_code = c.code
    WHERE s.id_synthese BETWEEN 1 AND n AND s.the_geom_4326 IS NOT NULL
    ON CONFLICT DO NOTHING;
    PERFORM setval(pg_get_serial_sequence('gn_synthese.synthese', 'id_synthese'),
                   greatest((SELECT max(id_synthese) FROM gn_synthese.synthese), 1));
    RETURN inserted;
END
$$;
