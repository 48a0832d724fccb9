#!/usr/bin/env bash
# gn_export on the other PostgreSQL servers GeoNature runs on: 17 (Debian 13 "trixie") and 18
# (Debian forky), from Debian's own packages in the roots tests/roots.sh makes. In each root:
# build and install gn_export for that server (this machine's Rust toolchain, lent to the
# root), then in a new cluster CREATE EXTENSION gn_export CASCADE (PostGIS), the COPY hook's
# GeoJSON, run() through COPY (FORMAT raw), generate() a GeoPackage and a GeoParquet. The rest
# of the suite runs on PostgreSQL 15; this is the first step of running it on 17 and 18.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CARGO_DIR="${CARGO_HOME:-$HOME/.cargo}"
RUSTUP_DIR="${RUSTUP_HOME:-$HOME/.rustup}"
mounted=()
stop_cluster=""
# the cluster first (it holds files of the lent /dev), then the mounts, last lent first
cleanup() {
  [ -z "$stop_cluster" ] || eval "$stop_cluster" > /dev/null 2>&1 || true
  stop_cluster=""
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" ||
      echo "servers: could not unmount ${mounted[i]}" >&2
  done
  mounted=()
}
trap cleanup EXIT
# lend: the host's DIR at the same path inside the root
lend() {
  local root=$1 dir=$2
  mkdir -p "$root$dir"
  mount --bind "$dir" "$root$dir"
  mounted+=("$root$dir")
}

# the same table and export everywhere, and what each output must be
SQL_SETUP="CREATE TABLE public.obs (id int PRIMARY KEY, nom text, d date, geom geometry(Point, 4326));
INSERT INTO public.obs VALUES (1, 'Lynx boréal', '2024-03-01', 'SRID=4326;POINT(6.5 44.5)'), (2, 'Aigle', NULL, NULL);
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('Obs', 'public', 'obs', 'geom', 4326, true, 1, 'id');"
GEOJSON='{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[6.5,44.5]},"properties":{"id":1,"nom":"Lynx boréal","d":"2024-03-01"}},
{"type":"Feature","geometry":null,"properties":{"id":2,"nom":"Aigle","d":null}}
]}'
CSV='id;nom;d;geom
1;Lynx boréal;2024-03-01;POINT(6.5 44.5)
2;Aigle;;'

for server in "17 trixie" "18 forky"; do
  read -r v suite <<< "$server"
  root="$ROOTS/$suite"
  [ -x "$root/usr/lib/postgresql/$v/bin/pg_config" ] ||
    { echo "no PostgreSQL $v in $root: run bash tests/setup.sh"; exit 1; }
  echo "## PostgreSQL $v ($suite)"
  for d in /proc /dev "$CARGO_DIR" "$RUSTUP_DIR" "$REPO"; do lend "$root" "$d"; done
  in_root() { chroot "$root" env PATH="$CARGO_DIR/bin:/usr/bin:/bin" CARGO_HOME="$CARGO_DIR" RUSTUP_HOME="$RUSTUP_DIR" "$@"; }
  pg_config=/usr/lib/postgresql/$v/bin/pg_config
  log="$root/var/tmp/gn_export-pg$v.log"
  start=$(date +%s)
  built=$(in_root bash -c "cd '$REPO' && cargo pgrx init --pg$v $pg_config > /var/tmp/gn_export-pg$v.log 2>&1 &&
    CARGO_TARGET_DIR=/var/tmp/gn_export-target-$v cargo pgrx install --pg-config $pg_config \
      --no-default-features --features pg$v >> /var/tmp/gn_export-pg$v.log 2>&1 && echo built" || true)
  check "PostgreSQL $v: gn_export builds and installs for $(in_root $pg_config --version) ($(( $(date +%s) - start )) s)" built "$built"
  [ "$built" = built ] || { tail -30 "$log"; continue; }

  # a new cluster of that server, as postgres, on a socket of its own
  dir=/var/tmp/gn_export-pg$v-cluster
  stop_cluster="in_root su postgres -c '/usr/lib/postgresql/$v/bin/pg_ctl -D $dir/data stop -m immediate'"
  eval "$stop_cluster" > /dev/null 2>&1 || true
  in_root bash -c "rm -rf $dir && install -d -o postgres $dir &&
    su postgres -c '/usr/lib/postgresql/$v/bin/initdb -D $dir/data -A trust -U postgres > $dir/initdb.log' &&
    su postgres -c \"/usr/lib/postgresql/$v/bin/pg_ctl -D $dir/data -o '-p 54399 -k $dir' -l $dir/log start -w > /dev/null\""
  # SQL on stdin, as postgres in database gn
  P() { in_root su postgres -c "/usr/lib/postgresql/$v/bin/psql -h $dir -p 54399 -XAtq -d gn -v ON_ERROR_STOP=1"; }
  in_root su postgres -c "/usr/lib/postgresql/$v/bin/createdb -h $dir -p 54399 gn"
  check "PostgreSQL $v: CREATE EXTENSION gn_export CASCADE gives 0.6.0 over its PostGIS" "0.6.0 $(in_root dpkg-query -W -f='${Version}' postgresql-$v-postgis-3 | cut -d+ -f1)" \
    "$(P <<< "SET client_min_messages = error; CREATE EXTENSION gn_export CASCADE;
      SELECT extversion FROM pg_extension WHERE extname = 'gn_export'; SELECT extversion FROM pg_extension WHERE extname = 'postgis';" | paste -sd' ')"
  P <<< "ALTER DATABASE gn SET session_preload_libraries = 'gn_export';
    ALTER DATABASE gn SET gn_export.export_dir = '$dir/exports'; $SQL_SETUP" > /dev/null
  in_root install -d -o postgres "$dir/exports"
  check "PostgreSQL $v: the COPY hook writes GeoJSON" "$GEOJSON" "$(P <<< "COPY (SELECT * FROM public.obs ORDER BY id) TO STDOUT (FORMAT geojson)")"
  check "PostgreSQL $v: run() streams CSV through COPY (FORMAT raw)" "$CSV" \
    "$(P <<< "COPY (SELECT gn_export.run((SELECT id FROM gn_exports.t_exports WHERE label = 'Obs'), 'csv')) TO STDOUT (FORMAT raw)" | tr -d '\r')"
  for f in gpkg parquet; do
    check "PostgreSQL $v: generate($f) writes its file" "done 2" \
      "$(P <<< "SELECT status || ' ' || rows FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'Obs'), '$f')" 2>&1 | tail -1)"
  done
  cleanup
done
finish
