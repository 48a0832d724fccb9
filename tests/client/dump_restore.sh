#!/usr/bin/env bash
# pg_dump / pg_restore of a database using gn_export: the catalog (not part of the extension)
# is dumped as ordinary tables with their safeguard triggers, and a restore must neither fail
# nor duplicate anything, in custom and in plain format.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
client_cluster_up

make_demo_db gn_src 200
# the shape of the catalog we expect to get back
snapshot() {
  Q "$1" -c "SELECT string_agg(x::text, '|' ORDER BY x::text) FROM gn_exports.t_exports x" \
         -c "SELECT string_agg(x::text, '|' ORDER BY x::text) FROM gn_exports.cor_exports_roles x" \
         -c "SELECT string_agg(x::text, '|' ORDER BY x::text) FROM gn_exports.t_licences x" \
         -c "SELECT string_agg(x::text, '|' ORDER BY x::text) FROM gn_exports.t_export_schedules x" \
         -c "SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE tgname LIKE 'gn_export%'" \
         -c "SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'x'" \
         -c "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'gn_exports.cor_exports_roles'::regclass" \
         -c "SELECT to_regclass('gn_exports.cor_exports_roles_token_key') IS NOT NULL"
}
src=$(snapshot gn_src)

tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"; cluster_down "$CLIENT_DIR"' EXIT

"$PG_BIN/pg_dump" -h "$PG_SOCKDIR" -p "$CLIENT_PORT" -U postgres -Fc -f "$tmp/gn.dump" gn_src
psql_at "$CLIENT_PORT" postgres -qc "CREATE DATABASE gn_custom"
rc=0
"$PG_BIN/pg_restore" -h "$PG_SOCKDIR" -p "$CLIENT_PORT" -U postgres --exit-on-error -d gn_custom "$tmp/gn.dump" \
  2> "$tmp/restore.err" || rc=$?
check "pg_restore (custom format) exits 0" 0 "$rc"
check "pg_restore reports no error" "" "$(grep -v 'WARNING\|HINT' "$tmp/restore.err" || true)"
check "catalog, tokens, triggers and safeguards identical after pg_restore" "$src" "$(snapshot gn_custom)"

"$PG_BIN/pg_dump" -h "$PG_SOCKDIR" -p "$CLIENT_PORT" -U postgres -Fp -f "$tmp/gn.sql" gn_src
psql_at "$CLIENT_PORT" postgres -qc "CREATE DATABASE gn_plain"
rc=0
psql_at "$CLIENT_PORT" gn_plain -q -f "$tmp/gn.sql" >/dev/null 2>"$tmp/plain.err" || rc=$?
check "plain dump restores with ON_ERROR_STOP" 0 "$rc"
check "catalog, tokens, triggers and safeguards identical after a plain restore" "$src" "$(snapshot gn_plain)"

# the restored safeguards work: a shared token is healed, a bad definition refused
Q gn_custom -c "INSERT INTO gn_exports.cor_exports_roles (id_export, id_role, token)
                SELECT id_export, 6, token FROM gn_exports.cor_exports_roles LIMIT 1"
check "restored token trigger heals a copied token" 1 \
  "$(Q gn_custom -c "SELECT count(DISTINCT token) - count(*) + 1 FROM gn_exports.cor_exports_roles")"
state=$(Q gn_custom -c "\\set VERBOSITY sqlstate" -c "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, id_licence, view_pk_column)
                VALUES ('x', 'gn_exports', 'v_absente', 1, 'id')" 2>&1 || true)
check "restored validation trigger refuses a missing view" "ERROR:  42P01" "$state"

# DROP EXTENSION in the restored database still leaves the catalog
Q gn_custom -c "DROP EXTENSION gn_export CASCADE"
check "DROP EXTENSION after restore keeps the exports" 3 "$(Q gn_custom -c "SELECT count(*) FROM gn_exports.t_exports")"

finish
