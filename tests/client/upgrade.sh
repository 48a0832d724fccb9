#!/usr/bin/env bash
# Upgrades, as a DBA meets them: for every released version whose install script is frozen
# under sql/ (gn_export--<version>.sql), a database installed at that version, with run history,
# grants and settings of its own, is upgraded with ALTER EXTENSION gn_export UPDATE, and then
# matches a fresh install of the current version: the same objects (pg_dump --schema-only
# --binary-upgrade of the extension's schema and the catalog's, which dumps the extension's
# members one by one, normalised), the history rows kept, the grants and settings in force, and
# the catalog's safeguards still refusing what they refused.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
client_cluster_up
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT
CURRENT=$(awk -F'"' '/^version = / {print $2; exit}' "$REPO/Cargo.toml")
OLD_VERSIONS=$(cd "$REPO/sql" && ls gn_export--*.sql | sed -n 's/^gn_export--\([0-9][0-9.]*\)\.sql$/\1/p' | sort -V)
check "at least one released version is frozen under sql/" yes "$([ -n "$OLD_VERSIONS" ] && echo yes)"

# db VERSION: a GeoNature-like database with gn_export at VERSION, two generated files in its
# history, a role granted what a DBA grants, and a database setting
make_db() {
  local db="$1" version="$2"
  psql_at "$CLIENT_PORT" postgres -qc "CREATE DATABASE $db"
  (cd "$REPO/sql/demo" && psql_at "$CLIENT_PORT" "$db" -q -f geonature_schema.sql -f reference_data.sql \
      -f synthese_generator.sql -c "CREATE EXTENSION gn_export VERSION '$version' CASCADE" -f exports.sql \
      -c "SELECT gn_demo.generate_synthese(40)") > /dev/null 2>&1
  export_dir_for "$db" "up-$db"
  Q "$db" -c "SELECT status FROM gn_export.generate(1, 'csv')" -c "SELECT status FROM gn_export.generate(2, 'json', 3)" > /dev/null
  Q postgres -c "ALTER DATABASE $db SET gn_export.api_max_limit = 500"
  Q "$db" <<'SQL'
GRANT EXECUTE ON FUNCTION gn_export.generate(integer, text, integer, interval) TO gn_upgrade_exporter;
GRANT SELECT ON gn_export.t_runs TO gn_upgrade_exporter;
SQL
}

# the database's objects, the extension's members one by one among them (a schema filter would
# leave the extension out), as pg_dump sees them, with what names a particular database masked:
# OIDs and transaction ids become placeholders, but every line stays, so the binary-upgrade
# calls still compare the extension's configuration tables (pg_extension_config_dump), its
# requirements and which privileges are its own (set_record_init_privs) against a DBA's grants
dump() {
  server pg_dump -h "$PG_SOCKDIR" -p "$CLIENT_PORT" -U postgres --schema-only --binary-upgrade "$1" \
    | grep -v -e '^-- Dumped ' -e '^SET ' -e '^SELECT pg_catalog.set_config' \
           -e '^\\connect' -e '^\\restrict' -e '^\\unrestrict' \
    | sed -E "s/'[0-9]+'(::pg_catalog\.oid)/'<oid>'\1/g; s/oid = '[0-9]+'/oid = '<oid>'/; s/(relfrozenxid|relminmxid) = '[0-9]+'/\1 = '<xid>'/g; s/ARRAY\['[0-9', ]+'\]::pg_catalog\.oid\[\]/ARRAY[<oids>]::pg_catalog.oid[]/g; s/'\{[0-9,]+\}'/'{<oids>}'/g; s/'\{[0-9A-F\/,]+\}'::pg_catalog\.pg_lsn\[\]/'{<lsns>}'::pg_catalog.pg_lsn[]/g"
}

Q postgres -c "CREATE ROLE gn_upgrade_exporter"
make_db gn_fresh "$CURRENT"
dump gn_fresh > "$tmp/fresh.sql"
check "a fresh install is at version $CURRENT" "$CURRENT" "$(Q gn_fresh -c "SELECT extversion FROM pg_extension WHERE extname = 'gn_export'")"

for OLD in $OLD_VERSIONS; do
  [ "$OLD" = "$CURRENT" ] && continue
  db="gn_from_${OLD//./_}"
  make_db "$db" "$OLD"
  check "$OLD: installed from its frozen script" "$OLD" "$(Q "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'gn_export'")"
  runs_before=$(Q "$db" -c "SELECT string_agg(id_run || ':' || status || ':' || format, ',' ORDER BY id_run) FROM gn_export.t_runs")
  Q "$db" -c "ALTER EXTENSION gn_export UPDATE"
  check "$OLD: ALTER EXTENSION gn_export UPDATE reaches $CURRENT" "$CURRENT|$CURRENT" \
    "$(Q "$db" -c "SELECT extversion || '|' || gn_export.version() FROM pg_extension WHERE extname = 'gn_export'")"
  dump "$db" > "$tmp/upgraded.sql"
  diff -u "$tmp/fresh.sql" "$tmp/upgraded.sql" > "$tmp/diff" && same=yes || same=no
  check "$OLD: the upgraded objects are a fresh install's (pg_dump --binary-upgrade, $(wc -l < "$tmp/fresh.sql") lines, $(grep -c '^ALTER EXTENSION gn_export ADD' "$tmp/fresh.sql") members of gn_export)" yes "$same"
  [ "$same" = yes ] || head -40 "$tmp/diff"
  check "$OLD: the run history is kept, row for row" "$runs_before" \
    "$(Q "$db" -c "SELECT string_agg(id_run || ':' || status || ':' || format, ',' ORDER BY id_run) FROM gn_export.t_runs")"
  check "$OLD: the DBA's grants are kept (generate() and the history for gn_upgrade_exporter)" "true|true" \
    "$(Q "$db" -c "SELECT has_function_privilege('gn_upgrade_exporter', 'gn_export.generate(integer, text, integer, interval)', 'EXECUTE') || '|' || has_table_privilege('gn_upgrade_exporter', 'gn_export.t_runs', 'SELECT')")"
  check "$OLD: PUBLIC still may not generate (the extension's own revoke is kept)" f \
    "$(Q "$db" -c "SELECT has_function_privilege('public', 'gn_export.generate(integer, text, integer, interval)', 'EXECUTE')")"
  check "$OLD: the database's settings still apply" 500 "$(Q "$db" -c "SHOW gn_export.api_max_limit")"
  check "$OLD: a new run is recorded after the old ones" "done|true|$(( $(Q "$db" -c "SELECT count(*) FROM gn_export.t_runs") + 1 ))" \
    "$(Q "$db" -c "SELECT status || '|' || recorded FROM gn_export.generate(1, 'csv')" -c "SELECT count(*) FROM gn_export.t_runs" | paste -sd'|')"
  check "$OLD: the catalog's safeguards still refuse an export whose view does not exist (23514 or 42P01)" ok \
    "$(st=$(sqlstate_in "$db" "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column) VALUES ('x', 'public', 'no_such_view', 1, 'id')"); [ -n "$st" ] && [ "$st" != 00000 ] && echo ok || echo "accepted ($st)")"
  check "$OLD: the API pages a snapshot after the upgrade" t \
    "$(Q "$db" -c "SELECT (r->'snapshot'->>'id') ~ '^[0-9a-f]{32}$' FROM gn_export.api(2, '{\"limit\": 1}') r")"

  # a Darwin Core view made by a version before 0.4.0 publishes exact coordinates: the upgrade
  # sets it aside, loudly, so that its export fails until the DBA makes it again
  db="gn_dwc_from_${OLD//./_}"
  make_db "$db" "$OLD"
  Q "$db" -c "SELECT gn_export.install_dwc_view()" \
    -c "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, public, id_licence, view_pk_column)
        VALUES ('GBIF', 'gn_exports', 'v_synthese_dwc', true, 1, 'occurrenceID')" > /dev/null
  said=$(QE "$db" -c "ALTER EXTENSION gn_export UPDATE")
  if [ "$(printf '%s\n' "$OLD" 0.4.0 | sort -V | head -1)" = 0.4.0 ]; then
    # made under the rule: the DBA's view is left as it is, and its export still runs
    check "$OLD: its Darwin Core view (under the rule) is left as the DBA made it, and its export runs" "v_synthese_dwc done" \
      "$(Q "$db" -c "SELECT string_agg(relname, ',') FROM pg_class WHERE relname LIKE 'v_synthese_dwc%'") $(Q "$db" -c "SELECT status FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'GBIF'), 'dwca')" 2>/dev/null)"
    # made again by this version's install_dwc_view() over the old one (and the old diffusion
    # view it depends on): the same rows, and the export runs
    before=$(Q "$db" -c "SELECT md5(string_agg(t::text, E'\n' ORDER BY t::text)) FROM gn_exports.v_synthese_dwc t")
    check "$OLD: install_dwc_view() again makes this version's view over the old one, with the same rows, and its export runs" "$before done" \
      "$(Q "$db" -c "SELECT gn_export.install_dwc_view()" > /dev/null; Q "$db" -c "SELECT md5(string_agg(t::text, E'\n' ORDER BY t::text)) FROM gn_exports.v_synthese_dwc t") $(Q "$db" -c "SELECT status FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'GBIF'), 'dwca')" 2>/dev/null)"
    continue
  fi
  check "$OLD: its Darwin Core view (no SINP diffusion rule) is set aside, with a WARNING saying what to run" "v_synthese_dwc_before_0_4 1" \
    "$(Q "$db" -c "SELECT string_agg(relname, ',') FROM pg_class WHERE relname LIKE 'v_synthese_dwc%'") $(echo "$said" | grep -c 'WARNING:.*SELECT gn_export.install_dwc_view()')"
  check "$OLD: ... its export fails (42P01) rather than publish exact coordinates, until install_dwc_view()" "42P01 done" \
    "$(Q "$db" -c "SELECT sqlstate FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'GBIF'), 'dwca')") $(Q "$db" -c "SELECT gn_export.install_dwc_view()" -c "SELECT status FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'GBIF'), 'dwca')" 2>/dev/null | tail -1)"
done
finish
