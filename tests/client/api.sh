#!/usr/bin/env bash
# The partner API seen from outside: every demo export's gn_export.openapi() document passes a
# real OpenAPI validator (openapi-spec-validator from PyPI, installed by tests/setup.sh), and so
# does the document of a view whose column names collide with API parameters.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
VALIDATOR="${GN_EXPORT_VENV:-/opt/gn_export-test-venv}/bin/openapi-spec-validator"
[ -x "$VALIDATOR" ] || { echo "missing $VALIDATOR: run bash tests/setup.sh"; exit 1; }
client_cluster_up
make_demo_db gn_api 200
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT

Q gn_api <<'SQL'
CREATE VIEW public.v_piege AS
SELECT s.id_synthese AS "limit", s.nom_cite AS token, s.count_min AS "ilike_x", s.the_geom_local AS geometry,
       s.date_min::date AS "jour d'observation", s.additional_data AS "données", ARRAY[s.cd_nom] AS codes
FROM gn_synthese.synthese s;
COMMENT ON COLUMN public.v_piege.token IS 'Nom "cité", avec des guillemets';
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('Piège à noms', 'public', 'v_piege', 'geometry', 2154, true, 2, 'limit');
SQL

for id in $(Q gn_api -c "SELECT id FROM gn_exports.t_exports ORDER BY id"); do
  label=$(Q gn_api -c "SELECT label FROM gn_exports.t_exports WHERE id = $id")
  Q gn_api -c "SELECT gn_export.openapi($id)" > "$tmp/openapi_$id.json"
  out=$("$VALIDATOR" "$tmp/openapi_$id.json" 2>&1) && rc=0 || rc=$?
  check "openapi($id) '$label' is a valid OpenAPI 3.0 document" 0 "$rc"
  [ "$rc" = 0 ] || echo "$out" | head -20
done
# the document describes what api() answers: every item key is a declared property
keys_ok=$(Q gn_api -c "SELECT bool_and(d->'components'->'schemas'->'Item'->'properties' ? k)
  FROM gn_export.openapi(1) d, gn_export.api(1, '{\"limit\": 5}', 3) r,
       json_array_elements(r->'items'->'features') f, json_object_keys(f->'properties') k")
check "api() items only carry properties the OpenAPI document declares" t "$keys_ok"
finish
