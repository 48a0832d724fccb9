#!/usr/bin/env bash
# Sensitive observations: the SINP diffusion rule, cell by cell. On a GeoNature-like
# database with GeoNature's SENSIBILITE and NIV_PRECIS nomenclatures, ref_geo areas (COM, M10,
# DEP) and gn_synthese.cor_area_synthese, one observation per combination of sensitivity (0-4,
# NULL, unknown id) x diffusion level (NULL, 0-5, unknown id) x area attached or not (112), each
# in a commune of its own, with a place name, elevations and remarks. The table in docs/security.md says
# what each may publish; the Darwin Core archive (read by python-dwca-reader) and the Turtle of
# dsw() (read by rdflib) must publish exactly that: the exact point, the attached area's
# bounding-box centre with an uncertainty covering the area and nothing that locates it better,
# or nothing at all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$PY" -c "import dwca, rdflib, pyproj" || { echo "missing python-dwca-reader, rdflib or pyproj in $VENV: run bash tests/setup.sh"; exit 1; }
client_cluster_up
make_demo_db gn_sens 0
export_dir_for gn_sens sens-exports
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT

Q gn_sens <<'SQL'
-- the cases: sensitivity id (160-164 are codes 0-4; 999 is no nomenclature), level id (90-95
-- are codes 0-5; 164 is a SENSIBILITE id in the level's place), area attached or not
CREATE TABLE gn_demo.cases AS
SELECT row_number() OVER (ORDER BY sk, lk, found) - 1 AS k, sens, sens_id, lvl, lvl_id, found
FROM (VALUES (0, '0', 160), (1, '1', 161), (2, '2', 162), (3, '3', 163), (4, '4', 164),
             (5, 'NULL', NULL::int), (6, 'unknown', 999)) s(sk, sens, sens_id)
CROSS JOIN (VALUES (0, 'NULL', NULL::int), (1, '0', 90), (2, '1', 91), (3, '2', 92), (4, '3', 93),
                   (5, '4', 94), (6, '5', 95), (7, 'unknown', 164)) l(lk, lvl, lvl_id)
CROSS JOIN (VALUES (true), (false)) f(found);
INSERT INTO gn_synthese.synthese (id_synthese, unique_id_sinp, id_source, id_dataset, cd_nom, nom_cite,
    id_nomenclature_sensitivity, id_nomenclature_diffusion_level, id_nomenclature_source_status,
    id_nomenclature_observation_status, date_min, date_max, altitude_min, altitude_max, depth_min, depth_max,
    place_name, comment_context, comment_description, observers, "precision",
    the_geom_4326, the_geom_point, the_geom_local)
SELECT 1000 + c.k, md5('case' || c.k)::uuid, 1, 1, 60001, 'Aquila chrysaetos',
       c.sens_id, c.lvl_id, 190, 170, timestamp '2024-05-01 08:00', timestamp '2024-05-01 08:00',
       1234, 1240, 3, 4, 'Lieu-dit du nid', 'Sous la falaise du nid', 'Aire occupée', 'Dupont Jean', 7,
       g, g, ST_Transform(g, 2154)
FROM gn_demo.cases c
-- case k in commune cell (k % 15, k / 15), away from its edges
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(5.9 + 0.05 * (c.k % 15) + 0.0123,
                                                   44.5 + 0.05 * (c.k / 15) + 0.0317), 4326) AS g) p;
-- GeoNature's trigger attaches the enabled areas an observation intersects; here only where found
INSERT INTO gn_synthese.cor_area_synthese (id_synthese, id_area)
SELECT s.id_synthese, a.id_area
FROM gn_synthese.synthese s
JOIN gn_demo.cases c ON c.k = s.id_synthese - 1000 AND c.found
JOIN ref_geo.l_areas a ON ST_Intersects(a.geom, s.the_geom_local) AND a.enable;
SQL
# what the checker needs of each case: where it is, and each area it lies in
Q gn_sens -c "COPY (
  SELECT md5('case' || c.k)::uuid AS uuid, c.sens, c.lvl, c.found,
         ST_X(s.the_geom_point) AS lon, ST_Y(s.the_geom_point) AS lat,
         string_agg(t.type_code || ':' || a.area_code || ':' || a.area_name || ':' ||
                    concat_ws(',', ST_XMin(a.geom_4326), ST_YMin(a.geom_4326), ST_XMax(a.geom_4326), ST_YMax(a.geom_4326)),
                    ';' ORDER BY t.type_code) AS areas
  FROM gn_demo.cases c
  JOIN gn_synthese.synthese s ON s.id_synthese = 1000 + c.k
  JOIN ref_geo.l_areas a ON ST_Intersects(a.geom, s.the_geom_local) AND a.enable
  JOIN ref_geo.bib_areas_types t ON t.id_type = a.id_type
  GROUP BY c.k, c.sens, c.lvl, c.found, s.the_geom_point ORDER BY c.k) TO STDOUT (FORMAT csv, HEADER)" > "$tmp/cases.csv"
check "112 cases, each in one commune, one 10 km cell and one département" "112 112" \
  "$(($(wc -l < "$tmp/cases.csv") - 1)) $(grep -c 'COM:[^;]*;DEP:[^;]*;M10:' "$tmp/cases.csv")"

# the Darwin Core archive
QE gn_sens -c "SELECT gn_export.install_dwc_view()" > /dev/null
Q gn_sens -c "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
              VALUES ('GBIF', 'gn_exports', 'v_synthese_dwc', true, 1, 'occurrenceID')"
DWCA=$(QE gn_sens -c "SELECT coalesce(path, error) FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'GBIF'), 'dwca')" | tail -1)
# the Turtle of dsw(), as GeoNature's semantic route serves it
QE gn_sens -c "SELECT gn_export.install_dsw_view()" > /dev/null
Q postgres -c "ALTER DATABASE gn_sens SET gn_export.dsw_enabled = on"
psql_at "$CLIENT_PORT" gn_sens -c "COPY (SELECT gn_export.dsw('{\"limit\": 0}')) TO STDOUT (FORMAT raw)" > "$tmp/dsw.ttl" 2> "$tmp/dsw.err" || true

res=$("$PY" "$(dirname "$0")/check_sensitivity.py" "$REPO/docs/security.md" "$tmp/cases.csv" "$DWCA" "$tmp/dsw.ttl" 2>&1)
echo "$res" | grep -v -E '^(dwca|turtle): (cells|published)' | head -20
check "docs/security.md's table has every combination (7 sensitivities x 8 levels)" "table: 7 x 8" "$(echo "$res" | grep '^table: ')"
check "Darwin Core archive: every cell as docs/security.md's table says" "dwca: cells checked 112, wrong 0" \
  "$(echo "$res" | grep '^dwca: cells')"
check "Turtle of dsw(): every cell as docs/security.md's table says" "turtle: cells checked 112, wrong 0" \
  "$(echo "$res" | grep '^turtle: cells')"
check "Darwin Core archive: exact, generalised and withheld observations as the table counts them" \
  "dwca: published exact 4, commune 6, 10 km 7, département 9, withheld 86" "$(echo "$res" | grep '^dwca: published')"
check "Turtle: the same" "turtle: published exact 4, commune 6, 10 km 7, département 9, withheld 86" \
  "$(echo "$res" | grep '^turtle: published')"

# the rule, seen by an administrator: why observations are withheld
check "v_synthese_diffusion says why each observation is withheld" \
  "diffusion level unknown (not a NIV_PRECIS nomenclature with code 0 to 5)|10
no COM area attached in gn_synthese.cor_area_synthese|6
no DEP area attached in gn_synthese.cor_area_synthese|9
no M10 area attached in gn_synthese.cor_area_synthese|7
no diffusion|22
sensitivity unknown (NULL, or not a SENSIBILITE nomenclature with code 0 to 4)|32" \
  "$(Q gn_sens -c "SELECT withheld_because, count(*) FROM gn_exports.v_synthese_diffusion WHERE id_synthese >= 1000 AND diffusion = 'withheld' GROUP BY 1 ORDER BY 1")"
NO_RDF="BEGIN; DROP VIEW IF EXISTS gn_exports.v_synthese_dsw; DROP VIEW gn_exports.v_exports_synthese_sinp_rdf; SELECT gn_export.install_dsw_view()"
check "install_dsw_view() without GeoNature's RDF view: 42P01, naming it" "42P01 1" \
  "$(sqlstate_in gn_sens "$NO_RDF") $(QE gn_sens -c "$NO_RDF" | grep -c 'needs the EXPORT module.s view gn_exports.v_exports_synthese_sinp_rdf')"
check "dsw() without install_dsw_view(): 42P01, its hint says to run it" "42P01 1" \
  "$(sqlstate_in gn_sens "BEGIN; DROP VIEW gn_exports.v_synthese_dsw; SELECT gn_export.dsw()") $(QE gn_sens -c "BEGIN" -c "DROP VIEW gn_exports.v_synthese_dsw" -c "SELECT gn_export.dsw()" | grep -c 'HINT:.*install_dsw_view()')"
finish
