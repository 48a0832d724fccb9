#!/usr/bin/env bash
# Darwin-SW Turtle: GeoNature's RDF view exported by run(), generate(), schedules,
# the COPY hook and gn_export.dsw(), read back by rdflib: one dwc:Occurrence per observation
# (a dataset with two producers included), IRIs from the SINP UUIDs, no "None", latitude = ST_Y,
# only Darwin Core / Darwin-SW terms, typed literals, fractions of seconds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$PY" -c "import rdflib" || { echo "missing rdflib in $VENV: run bash tests/setup.sh"; exit 1; }
client_cluster_up
make_demo_db gn_dsw 500
export_dir_for gn_dsw dsw-exports
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT
VIEW=gn_exports.v_exports_synthese_sinp_rdf

Q gn_dsw <<'SQL'
-- dataset 1 gets a second producer organism: GeoNature's view then gives its rows twice
INSERT INTO gn_meta.cor_dataset_actor (id_dataset, id_organism, id_nomenclature_actor_role) VALUES (1, 1, 1);
-- fractions of seconds (GeoNature's module crashed on them), NULLs (it wrote "None")
UPDATE gn_synthese.synthese SET date_min = date_min + interval '0.123456 s' WHERE id_synthese = 1;
UPDATE gn_synthese.synthese SET comment_context = NULL, observers = NULL WHERE id_synthese % 3 = 0;
UPDATE gn_synthese.synthese SET the_geom_point = NULL WHERE id_synthese = 2;
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
VALUES ('Darwin-SW', 'gn_exports', 'v_exports_synthese_sinp_rdf', true, 1, 'idSynthese');
SQL
ID=$(Q gn_dsw -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Darwin-SW'")
# GeoNature's route is off unless expose_dsw_api: so is dsw(), and PUBLIC may not call it
check "dsw() is off by default (0A000), its hint naming the setting" "0A000 1" \
  "$(sqlstate_in gn_dsw "SELECT count(*) FROM gn_export.dsw()") $(QE gn_dsw -c "SELECT count(*) FROM gn_export.dsw()" | grep -c 'gn_export.dsw_enabled = on')"
Q gn_dsw -c "CREATE ROLE gn_dsw_reader" -c "GRANT SELECT ON $VIEW TO gn_dsw_reader"
check "... and not executable by PUBLIC even when on (42501)" "42501" \
  "$(sqlstate_in gn_dsw "SET gn_export.dsw_enabled = on; SET ROLE gn_dsw_reader; SELECT count(*) FROM gn_export.dsw()")"
check "only a superuser turns it on (42501)" "42501" \
  "$(sqlstate_in gn_dsw "SET ROLE gn_dsw_reader; SET gn_export.dsw_enabled = on")"
Q postgres -c "ALTER DATABASE gn_dsw SET gn_export.dsw_enabled = on"
Q gn_dsw -c "COPY (SELECT \"permId\", y_centroid, x_centroid FROM $VIEW) TO STDOUT (FORMAT csv, DELIMITER ';')" > "$tmp/truth.csv"
# dsw() serves the RDF view under the SINP diffusion rule (sensitivity.sh checks the rule)
DSW_VIEW=gn_exports.v_synthese_dsw
check "install_dsw_view() makes the view dsw() serves" "$DSW_VIEW" "$(Q gn_dsw -c "SELECT gn_export.install_dsw_view()")"
Q gn_dsw -c "COPY (SELECT \"permId\", y_centroid, x_centroid FROM $DSW_VIEW) TO STDOUT (FORMAT csv, DELIMITER ';')" > "$tmp/truth_dsw.csv"
check "... without the withheld observations, and with the generalised ones' coordinates" "t t" \
  "$(Q gn_dsw -c "SELECT (SELECT count(*) FROM $DSW_VIEW) < (SELECT count(*) FROM $VIEW), bool_or(\"dataGeneralizations\" IS NOT NULL AND y_centroid IS NOT NULL) FROM $DSW_VIEW" | tr '|' ' ')"
check "dataset 1's observations are twice in GeoNature's view" t \
  "$(Q gn_dsw -c "SELECT count(*) > count(DISTINCT \"permId\") FROM $VIEW")"

expected() { # [truth file]
  cat <<EOT
rows in the view: $(wc -l < "${1:-$tmp/truth.csv}")
occurrences = distinct permId: True
occurrence IRIs are urn:uuid of permId: True
literals 'None': 0
terms outside Darwin Core, Darwin-SW, dcterms, foaf: []
IRIs under http://purl.org/dc/terms without its slash: 0
latitudes that are not ST_Y (or longitudes not ST_X): 0
datatypes: [('decimalLatitude', 'decimal'), ('modified', 'dateTime')]
event dates with fractions of seconds: 1
every occurrence linked to its event, location, organism, identification, taxon: True
EOT
}
F=$(Q gn_dsw -c "SELECT path FROM gn_export.generate($ID, 'ttl')")
check "generate(ttl) is named after the label" "$EXPORTS/schedules/Darwin-SW.ttl" "$F"
check "generate(ttl): rdflib reads it, one occurrence per observation, real terms, latitude = ST_Y" \
  "$(expected)" "$("$PY" "$(dirname "$0")/check_dsw.py" "$F" "$tmp/truth.csv" 2>&1)"
# a published file's rows come in the order of the export's key: so do run()'s, asked to
check "run(ttl) in key order, through COPY, is the file byte for byte" "" \
  "$(psql_at "$CLIENT_PORT" gn_dsw -c "COPY (SELECT gn_export.run($ID, 'ttl', filters => '{\"orderby\": \"idSynthese\"}')) TO STDOUT (FORMAT raw)" | cmp - "$F" 2>&1)"
psql_at "$CLIENT_PORT" gn_dsw -c "COPY (SELECT gn_export.dsw('{\"limit\": 0}')) TO STDOUT (FORMAT raw)" > "$tmp/all.ttl"
check "dsw(limit 0) streams the whole view, read as the file is" \
  "$(expected "$tmp/truth_dsw.csv")" "$("$PY" "$(dirname "$0")/check_dsw.py" "$tmp/all.ttl" "$tmp/truth_dsw.csv" 2>&1)"
check "dsw(limit 10, offset 2): the third page of 10 rows by idSynthese" \
  "$(Q gn_dsw -c "SELECT string_agg(\"permId\"::text, ',' ORDER BY \"idSynthese\") FROM (SELECT * FROM $DSW_VIEW ORDER BY \"idSynthese\" LIMIT 10 OFFSET 20) p")" \
  "$(Q gn_dsw -c "SELECT string_agg(c, '') FROM gn_export.dsw('{\"limit\": 10, \"offset\": 2}') c" | grep -o '^<urn:uuid:[^>#]*> a dwc:Occurrence' | sed 's/^<urn:uuid://; s/> a dwc:Occurrence//' | paste -sd,)"
# pages concatenated into one document, as a harvester keeps them: every observation keeps
# its own observers (blank node labels come from the row, not from its place in the page)
for p in 0 1 2; do Q gn_dsw -c "SELECT string_agg(c, '') FROM gn_export.dsw('{\"limit\": 10, \"offset\": $p}') c"; done > "$tmp/pages.ttl"
check "three pages of dsw() concatenated: no agent with two names, none recorded two observations" "0 0" \
  "$("$PY" - "$tmp/pages.ttl" <<'PY'
import sys, rdflib
g = rdflib.Graph().parse(sys.argv[1], format="turtle")
FOAF, DSW = rdflib.Namespace("http://xmlns.com/foaf/0.1/"), rdflib.Namespace("http://purl.org/dsw/")
agents = set(g.subjects(rdflib.RDF.type, FOAF.Agent))
print(sum(len(set(g.objects(a, FOAF.name))) > 1 for a in agents),
      sum(len(set(g.subjects(DSW.recBy, a))) > 1 for a in agents))
PY
)"
check "dsw() filters as GeoNature's API (cdNom)" \
  "$(Q gn_dsw -c "SELECT count(*) FROM $DSW_VIEW WHERE \"cdNom\" = (SELECT min(\"cdNom\") FROM $DSW_VIEW)")" \
  "$(Q gn_dsw -c "SELECT string_agg(c, '') FROM gn_export.dsw(json_build_object('limit', 0, 'cdNom', (SELECT min(\"cdNom\") FROM $DSW_VIEW))::jsonb) c" | grep -c ' a dwc:Occurrence ;')"
psql_at "$CLIENT_PORT" gn_dsw -c "COPY (SELECT * FROM $VIEW ORDER BY \"idSynthese\" LIMIT 7) TO STDOUT (FORMAT ttl)" > "$tmp/hook.ttl"
check "COPY (SELECT ... FROM the RDF view) TO STDOUT (FORMAT ttl) is Turtle rdflib reads" 7 \
  "$("$PY" -c "import rdflib,sys; g=rdflib.Graph().parse(sys.argv[1], format='turtle'); print(len(set(g.subjects(rdflib.RDF.type, rdflib.URIRef('http://rs.tdwg.org/dwc/terms/Occurrence')))))" "$tmp/hook.ttl")"
check "exports().formats offers ttl where the view has permId, not elsewhere" "t f" \
  "$(Q gn_dsw -c "SELECT bool_or('ttl' = ANY(formats)) FILTER (WHERE id = $ID), bool_or('ttl' = ANY(formats)) FILTER (WHERE id = 1) FROM gn_export.exports(1)" | tr '|' ' ')"
check "run(ttl) of an export without permId: 22023, naming the columns Darwin-SW reads" "22023 1" \
  "$(sqlstate_in gn_dsw "SELECT gn_export.run(2, 'ttl')") $(QE gn_dsw -c "SELECT gn_export.run(2, 'ttl')" | grep -c 'HINT:.*permId, permIdGrp, dateDebut')"
Q gn_dsw -c "INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format) VALUES ($ID, 1, 'ttl')"
rm -f "$F"   # not due while the file generate() wrote is fresh
check "a schedule in ttl is generated" "done $EXPORTS/schedules/Darwin-SW.ttl" \
  "$(Q gn_dsw -c "SELECT status, path FROM gn_export.run_scheduled() WHERE format = 'ttl'" | tr '|' ' ')"
Q postgres -c "CREATE DATABASE gn_dsw_bare"
Q gn_dsw_bare -c "CREATE EXTENSION gn_export CASCADE" 2>/dev/null
check "dsw() where GeoNature's RDF view does not exist: 42P01" 42P01 "$(sqlstate_in gn_dsw_bare "SET gn_export.dsw_enabled = on; SELECT gn_export.dsw()")"
check "dsw() limit -1: 22023" 22023 "$(sqlstate_in gn_dsw "SELECT gn_export.dsw('{\"limit\": -1}')")"
finish
