#!/usr/bin/env bash
# The Debian packages (packaging/deb.sh) as a DBA installs them on a new server: each
# postgresql-NN-gn-export_<version>_amd64.deb into a clean root of its Debian (12 for 15, 13
# for 17, forky for 18; tests/roots.sh's tarballs) that has no Rust toolchain, with apt, which
# brings the server and PostGIS from Debian's archive. Then, in the cluster Debian creates:
# CREATE EXTENSION gn_export CASCADE, an export in every format it offers (generate()), the
# COPY hook and run() through COPY, and the upgrade from 0.2.0 (as its package left it) with
# ALTER EXTENSION gn_export UPDATE.
#   bash tests/packages.sh [15] [17] [18]      builds the packages (packaging/deb.sh), then tries them
#   PACKAGES=DIR bash tests/packages.sh ...    tries the packages already built in DIR
set -euo pipefail
source "$(dirname "$0")/client/lib.sh"
[ $# -gt 0 ] || set -- 15 17 18
PACKAGES="${PACKAGES:-}"
if [ -z "$PACKAGES" ]; then
  bash "$REPO/packaging/deb.sh" "$@"
  PACKAGES="$REPO/target/packages"
fi
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -1)
APT=(apt-get -q -o Acquire::Check-Valid-Until=false)

root=""
mounted=()
give_back() {
  if [ -n "$root" ] && [ -n "${V:-}" ] && [ -e "$root/var/lib/postgresql/$V/main/postmaster.pid" ]; then
    chroot "$root" pg_ctlcluster "$V" main stop -m immediate > /dev/null 2>&1 ||
      kill -KILL "$(head -1 "$root/var/lib/postgresql/$V/main/postmaster.pid")" 2>/dev/null || true
  fi
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}"; done
  mounted=()
  # never through a mount
  if [ -n "$root" ] && ! findmnt -rn -o TARGET | grep -c "^$root/" > /dev/null; then rm -rf --one-file-system "$root"; fi
  root=""
}
trap give_back EXIT

SQL_SETUP="CREATE TABLE public.obs (id int PRIMARY KEY, nom text, d date, geom geometry(Point, 4326));
INSERT INTO public.obs VALUES (1, 'Lynx boréal', '2024-03-01', 'SRID=4326;POINT(6.5 44.5)'), (2, 'Aigle', NULL, NULL);
INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, geometry_srid, public, id_licence, view_pk_column)
VALUES ('Obs', 'public', 'obs', 'geom', 4326, true, 1, 'id');"
CSV='id;nom;d;geom
1;Lynx boréal;2024-03-01;POINT(6.5 44.5)
2;Aigle;;'

for V in "$@"; do
  case $V in 15) suite=bookworm ;; 17) suite=trixie ;; 18) suite=forky ;; *) echo "no package for $V"; exit 2 ;; esac
  deb="$PACKAGES/postgresql-$V-gn-export_${VERSION}_amd64.deb"
  tar="$ROOTS/clean-$suite.tar"
  [ -s "$deb" ] || { echo "no $deb: run bash packaging/deb.sh $V"; exit 1; }
  [ -s "$tar" ] || { echo "no $tar: run bash tests/setup.sh"; exit 1; }
  echo "## $(basename "$deb") in a clean Debian $suite root"
  root=$(mktemp -d /var/tmp/gn_export-package-XXXXXX)
  tar -C "$root" -xf "$tar"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # no service starts while packages install (no init in a root); the cluster is started below
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
  for d in /proc /dev; do mount --bind "$d" "$root$d"; mounted+=("$root$d"); done
  R() { chroot "$root" "$@"; }
  # what a Rust toolchain or a server would have left: commands, rustup's and cargo's homes
  toolchain() { R sh -c 'for c in cargo rustc rustup cc pg_config; do command -v $c; done; ls -d /root/.cargo /root/.rustup /usr/lib/postgresql 2>/dev/null; true'; }
  found=$(toolchain)
  check "$suite: the root has no Rust toolchain, no compiler, no PostgreSQL" "none" "${found:-none}"
  cp "$deb" "$root/var/cache/"
  start=$(date +%s)
  R "${APT[@]}" update > "$root/var/cache/apt.log" 2>&1
  # LANG: the cluster Debian creates on install takes its encoding from it (UTF-8, as gn_export needs)
  installed=$(R env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y "/var/cache/$(basename "$deb")" >> "$root/var/cache/apt.log" 2>&1 &&
    R dpkg-query -W -f='${Status} ${Version}' "postgresql-$V-gn-export" || tail -20 "$root/var/cache/apt.log")
  check "$suite: apt installs the package and what it depends on ($(( $(date +%s) - start )) s)" "install ok installed $VERSION" "$installed"
  found=$(toolchain | grep -v -e '^/usr/lib/postgresql$' -e '/pg_config$' || true)
  check "$suite: still no Rust toolchain nor compiler (only the server came)" "none" "${found:-none}"
  check "$suite: the server and PostGIS it depends on" "postgresql-$V postgresql-$V-postgis-3" \
    "$(R dpkg-query -W -f='${Package} ' "postgresql-$V" "postgresql-$V-postgis-3" | sed 's/ $//')"

  # Debian's own cluster (postinst made it), on a port and socket of its own
  conf=/etc/postgresql/$V/main/postgresql.conf
  R sh -c "sed -i 's/^port = .*/port = 54397/' $conf && echo \"listen_addresses = ''\" >> $conf"
  R pg_ctlcluster "$V" main start
  P() { R su postgres -c "psql -p 54397 -XAtq -v ON_ERROR_STOP=1 -d ${1:-gn}"; }
  R su postgres -c "createdb -p 54397 gn"
  check "$suite: CREATE EXTENSION gn_export CASCADE gives $VERSION over PostGIS" "$VERSION postgis" \
    "$(P <<< "SET client_min_messages = error; CREATE EXTENSION gn_export CASCADE;
      SELECT extversion FROM pg_extension WHERE extname = 'gn_export'; SELECT extname FROM pg_extension WHERE extname = 'postgis';" | paste -sd' ')"
  R install -d -o postgres /var/lib/postgresql/exports
  P <<< "ALTER DATABASE gn SET session_preload_libraries = 'gn_export';
    ALTER DATABASE gn SET gn_export.export_dir = '/var/lib/postgresql/exports'; $SQL_SETUP" > /dev/null
  formats=$(P <<< "SELECT array_to_string(formats, ' ') FROM gn_export.exports() WHERE label = 'Obs'")
  statuses=""
  for f in $formats; do
    statuses+="$f:$(P <<< "SELECT status || coalesce(' ' || error, '') FROM gn_export.generate((SELECT id FROM gn_exports.t_exports WHERE label = 'Obs'), '$f')" 2>&1 | tail -1 || true) "
  done
  check "$suite: generate() writes the export in each of its $(wc -w <<< "$formats") formats" \
    "$(for f in $formats; do printf '%s:done ' "$f"; done)" "$statuses"
  check "$suite: the COPY hook (FORMAT geojson) and run() through COPY (FORMAT raw)" "2 features|$CSV" \
    "$(P <<< "COPY (SELECT * FROM public.obs) TO STDOUT (FORMAT geojson)" | grep -o '"type":"Feature"' | wc -l | sed 's/$/ features/')|$(P <<< "COPY (SELECT gn_export.run((SELECT id FROM gn_exports.t_exports WHERE label = 'Obs'), 'csv')) TO STDOUT (FORMAT raw)" | tr -d '\r')"
  # a database as the 0.2.0 package left it: its install script, as that package shipped it
  cp "$REPO/sql/gn_export--0.2.0.sql" "$root/usr/share/postgresql/$V/extension/"
  R su postgres -c "createdb -p 54397 gn_old"
  check "$suite: from 0.2.0, ALTER EXTENSION gn_export UPDATE reaches $VERSION through the package's scripts" "0.2.0 $VERSION" \
    "$(P gn_old <<< "SET client_min_messages = error; CREATE EXTENSION gn_export VERSION '0.2.0' CASCADE;
      SELECT extversion FROM pg_extension WHERE extname = 'gn_export'; ALTER EXTENSION gn_export UPDATE;
      SELECT extversion FROM pg_extension WHERE extname = 'gn_export';" | paste -sd' ')"
  give_back
done
finish
