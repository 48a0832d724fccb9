#!/usr/bin/env bash
# Darwin Core Archives: install_dwc_view() maps the Synthese to Darwin Core, and
# generate(id, 'dwca') writes a zip that python-dwca-reader opens and iterates to exactly the
# view's rows and values, with well-formed meta.xml and eml.xml (xmllint), GBIF's licence rule,
# the required terms, and a package id whose version changes with the data, and only then.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$PY" -c "import dwca" || { echo "missing python-dwca-reader in $VENV: run bash tests/setup.sh"; exit 1; }
client_cluster_up
make_demo_db gn_dwca 500
export_dir_for gn_dwca dwca-exports
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT
VIEW=gn_exports.v_synthese_dwc

check "install_dwc_view() creates the Darwin Core view of the Synthese" "$VIEW" \
  "$(Q gn_dwca -c "SELECT gn_export.install_dwc_view()")"
check "the view speaks GBIF's vocabularies (sex, lifeStage, occurrenceStatus, basisOfRecord, taxonRank)" "0 0 0 0 0" \
  "$(Q gn_dwca -c "SELECT count(*) FILTER (WHERE sex NOT IN ('female', 'male', 'hermaphrodite')),
                          count(*) FILTER (WHERE \"lifeStage\" NOT IN ('adult', 'juvenile', 'immature', 'larva', 'egg', 'pupa', 'imago')),
                          count(*) FILTER (WHERE \"occurrenceStatus\" NOT IN ('present', 'absent')),
                          count(*) FILTER (WHERE \"basisOfRecord\" NOT IN ('HumanObservation', 'PreservedSpecimen', 'MaterialCitation', 'Occurrence')),
                          count(*) FILTER (WHERE \"taxonRank\" IS NULL) FROM $VIEW" | tr '|' ' ')"
check "the view: coordinates from the diffusion rule (ST_Y when precise), observers joined with ' | ', withheld observations left out" "0 0 t t" \
  "$(Q gn_dwca -c "SELECT count(*) FILTER (WHERE \"decimalLatitude\" IS DISTINCT FROM d.latitude),
                          count(*) FILTER (WHERE d.diffusion = 'precise' AND \"decimalLatitude\" IS DISTINCT FROM ST_Y(s.the_geom_point)),
                          bool_or(\"recordedBy\" LIKE '% | %'),
                          (SELECT count(*) FROM $VIEW) = (SELECT count(*) FROM gn_exports.v_synthese_diffusion x JOIN gn_synthese.synthese y USING (id_synthese) WHERE x.diffusion <> 'withheld' AND y.unique_id_sinp IS NOT NULL)
                     FROM $VIEW v JOIN gn_synthese.synthese s ON s.unique_id_sinp::text = v.\"occurrenceID\"
                     JOIN gn_exports.v_synthese_diffusion d ON d.id_synthese = s.id_synthese" | tr '|' ' ')"
# GBIF reads an eventDate at midnight as a time of observation: an observation recorded
# without a time (GeoNature stores midnight) has its date alone; a time of day is kept
read -r A B <<< "$(Q gn_dwca -c "SELECT string_agg(s.id_synthese::text, ' ' ORDER BY s.id_synthese) FROM (SELECT s.id_synthese FROM $VIEW v
    JOIN gn_synthese.synthese s ON s.unique_id_sinp::text = v.\"occurrenceID\" ORDER BY 1 LIMIT 2) s")"
Q gn_dwca -c "UPDATE gn_synthese.synthese SET date_min = '2024-05-01', date_max = '2024-05-01' WHERE id_synthese = $A" \
          -c "UPDATE gn_synthese.synthese SET date_min = '2024-05-01 08:30', date_max = '2024-05-02' WHERE id_synthese = $B"
check "eventDate: the date alone without a time, the time when there is one" "2024-05-01|2024-05-01T08:30:00/2024-05-02" \
  "$(Q gn_dwca -c "SELECT string_agg(\"eventDate\", '|' ORDER BY s.id_synthese) FROM $VIEW v JOIN gn_synthese.synthese s ON s.unique_id_sinp::text = v.\"occurrenceID\" WHERE s.id_synthese IN ($A, $B)")"
Q gn_dwca <<'SQL'
-- values an archive must carry without breaking its lines
UPDATE gn_synthese.synthese SET comment_description = E'deux\tcolonnes\net deux\r\nlignes' WHERE id_synthese = 3;
INSERT INTO gn_exports.t_licences (name_licence, url_licence)
VALUES ('Creative Commons Zero v1.0 Universal (CC0-1.0)', 'https://creativecommons.org/publicdomain/zero/1.0/');
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, "desc", public, id_licence, view_pk_column)
VALUES ('Darwin Core', 'gn_exports', 'v_synthese_dwc', 'Observations du parc & alentours', true,
        (SELECT id_licence FROM gn_exports.t_licences WHERE name_licence LIKE '%CC0%'), 'occurrenceID');
SQL
ID=$(Q gn_dwca -c "SELECT id FROM gn_exports.t_exports WHERE label = 'Darwin Core'")
Q gn_dwca -c "COPY (SELECT * FROM $VIEW) TO STDOUT (FORMAT csv, HEADER)" > "$tmp/truth.csv"
N=$(Q gn_dwca -c "SELECT count(*) FROM $VIEW")
out=$(QE gn_dwca -c "SELECT status || ' ' || coalesce(path, sqlstate || ' ' || error) FROM gn_export.generate($ID, 'dwca')")
F=$(echo "$out" | grep '^done ' | cut -d' ' -f2 || true)
[ -n "$F" ] || echo "generate said: $out" >&2
check "generate(dwca) publishes <label>.dwca (where GeoNature looks for it), without a licence warning for CC0" "done $EXPORTS/schedules/Darwin_Core.dwca|0" \
  "$(echo "$out" | grep '^done ')|$(echo "$out" | grep -c 'GBIF accepts only')"
check "the zip holds occurrence.txt, meta.xml and eml.xml at its root, dated 1980-01-01 (no clock in the file)" "eml.xml meta.xml occurrence.txt (1980, 1, 1, 0, 0, 0)" \
  "$(python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(' '.join(sorted(z.namelist())), ' '.join(sorted({str(i.date_time) for i in z.infolist()})))" "$F")"
(cd "$tmp" && python3 -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall('.')" "$F")
check "meta.xml and eml.xml are well-formed (xmllint)" "" "$(xmllint --noout "$tmp/meta.xml" "$tmp/eml.xml" 2>&1)"
check "eml.xml names the licence by the URL GBIF's registry reads (the catalog has https://creativecommons.org/publicdomain/zero/1.0/)" 1 \
  "$(grep -c '<ulink url="http://creativecommons.org/publicdomain/zero/1.0/legalcode"><citetitle>Public Domain (CC0 1.0)</citetitle></ulink>' "$tmp/eml.xml")"
check "every line of occurrence.txt has the header's number of fields" 1 \
  "$(awk -F'\t' '{print NF}' "$tmp/occurrence.txt" | sort -u | wc -l)"
check "occurrence.txt: a header line and one line per row of the view" "$((N + 1))" "$(wc -l < "$tmp/occurrence.txt")"
check "meta.xml: Occurrence core, id in column 0, every attribute, eml.xml as metadata" 6 \
  "$(grep -o -E 'rowType="http://rs.tdwg.org/dwc/terms/Occurrence"|<id index="0"/>|encoding="UTF-8" fieldsTerminatedBy="\\t" linesTerminatedBy="\\n" fieldsEnclosedBy=""|ignoreHeaderLines="1"|metadata="eml.xml"|term="http://rs.tdwg.org/dwc/terms/scientificName"' "$tmp/meta.xml" | wc -l)"
res=$("$PY" "$(dirname "$0")/check_dwca.py" "$F" "$tmp/truth.csv" occurrenceID 2>&1)
check "python-dwca-reader: an Occurrence core in UTF-8" "core row type: http://rs.tdwg.org/dwc/terms/Occurrence|core encoding: UTF-8" \
  "$(echo "$res" | grep '^core ' | paste -sd'|')"
check "python-dwca-reader iterates exactly the view's rows" "rows: archive = view: True $N" "$(echo "$res" | grep '^rows: ')"
check "python-dwca-reader reads the view's values (tabs and line breaks made spaces)" "rows whose values differ from the view: 0" \
  "$(echo "$res" | grep -A2 '^rows whose' | grep -v -E '^(fields|eml)' | paste -sd' ')"
check "every field is a Darwin Core or Dublin Core term" "fields are terms: True" "$(echo "$res" | grep '^fields')"
check "eml.xml: title from the label, a licence, the language" "eml title: Darwin Core|eml has a licence: True|eml language: fr" \
  "$(echo "$res" | grep -E '^eml (title|has|language)' | paste -sd'|')"
p1=$(echo "$res" | sed -n 's/^eml packageId: //p')
package() { # the package id of a new generation
  local f; f=$(Q gn_dwca -c "SELECT path FROM gn_export.generate($ID, 'dwca')")
  unzip -p "$f" eml.xml | sed -n 's/.*packageId="\([^"]*\)".*/\1/p'
}
sleep 1.1
p2=$(package)
Q gn_dwca -c "UPDATE gn_synthese.synthese SET comment_description = 'revu', meta_update_date = now()
              WHERE id_synthese = (SELECT min(id_synthese) FROM gn_synthese.synthese s JOIN $VIEW v ON v.\"occurrenceID\" = s.unique_id_sinp::text)" > /dev/null
p3=$(package)
check "the package id keeps the export's UUID, the same version for the same data, a new one when a row changed" "same uuid, same version, new version" \
  "$([ "${p1%%/*}" = "${p3%%/*}" ] && [ "$p1" = "$p2" ] && [ "$p2" != "$p3" ] && echo "same uuid, same version, new version" || echo "$p1 $p2 $p3")"
Q gn_dwca -c "UPDATE gn_exports.t_exports SET id_licence = 1 WHERE id = $ID"
check "a licence GBIF does not accept (CC-BY-1.0) is a WARNING, not a failure" "done 1" \
  "$(QE gn_dwca -c "SELECT status FROM gn_export.generate($ID, 'dwca')" | grep -c -E '^done$|GBIF accepts only CC0 1.0, CC BY 4.0 and CC BY-NC 4.0' | tr '\n' ' ' | sed 's/ $//; s/^2$/done 1/')"
Q gn_dwca -c "CREATE VIEW public.v_dwc_extra AS SELECT *, 42 AS id_technique FROM $VIEW" \
  -c "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column) VALUES ('Extra', 'public', 'v_dwc_extra', true, 1, 'occurrenceID')"
check "columns that are not terms are left out with a WARNING naming them" 1 \
  "$(QE gn_dwca -c "SELECT status FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'Extra'), 'dwca')" | grep -c 'left out of the archive: id_technique')"
check "an export without GBIF's required terms fails with 22023, naming them" "failed 22023 1" \
  "$(Q gn_dwca -c "SELECT status, sqlstate, (error LIKE '%needs the columns occurrenceID, basisOfRecord, scientificName%')::int FROM gn_export.generate(2, 'dwca')" | tr '|' ' ')"
check "exports().formats offers dwca where the view has the required terms, not elsewhere" "t f" \
  "$(Q gn_dwca -c "SELECT bool_or('dwca' = ANY(formats)) FILTER (WHERE id = $ID), bool_or('dwca' = ANY(formats)) FILTER (WHERE id = 2) FROM gn_export.exports()" | tr '|' ' ')"
Q gn_dwca -c "INSERT INTO gn_exports.t_export_schedules (id_export, frequency, format) VALUES ($ID, 1, 'dwca')"
rm -f "$EXPORTS/schedules/Darwin_Core.dwca"
check "a schedule in dwca is generated" "done $EXPORTS/schedules/Darwin_Core.dwca" \
  "$(Q gn_dwca -c "SELECT status, path FROM gn_export.run_scheduled() WHERE format = 'dwca'" | tr '|' ' ')"
check "run() refuses dwca: a file, not a stream (22023)" 22023 "$(sqlstate_in gn_dwca "SELECT gn_export.run($ID, 'dwca')")"
Q postgres -c "CREATE DATABASE gn_dwca_bare"
Q gn_dwca_bare -c "CREATE EXTENSION gn_export CASCADE" 2>/dev/null
check "install_dwc_view() without GeoNature's Synthese: 42P01" 42P01 "$(sqlstate_in gn_dwca_bare "SELECT gn_export.install_dwc_view()")"
finish
