#!/usr/bin/env bash
# Debian packages of gn_export, one per PostgreSQL server, as Debian names its extensions'
# (postgresql-15-postgis-3, postgresql-17-cron...):
#
#   bash packaging/deb.sh [15] [17] [18]    (default: all three)
#
# writes target/packages/postgresql-NN-gn-export_<version>_amd64.deb. Each is built against
# the Debian release that ships that server: 15 on this machine (Debian 12), 17 in the Debian
# 13 root and 18 in the forky root tests/roots.sh makes (`bash tests/setup.sh` makes them), so
# that the library needs no newer C library than its Debian has. A package holds the library,
# the control file, the install script of this version and every upgrade script, and depends
# on its server and PostGIS (what `CREATE EXTENSION gn_export CASCADE` needs) and on the
# shared libraries dpkg-shlibdeps finds; pg_cron is recommended (the schedules). The server
# needs no Rust toolchain: `apt install ./postgresql-17-gn-export_0.6.0_amd64.deb`.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -gt 0 ] || set -- 15 17 18
OUT="$REPO/target/packages"
mkdir -p "$OUT"
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -1)

for V in "$@"; do
  (
    export GN_PG="$V"
    # shellcheck source=../tests/lib.sh
    source "$REPO/tests/lib.sh"
    name="postgresql-$V-gn-export"
    stage="$STATE_DIR/package-pg$V"
    rm -rf "$stage"
    say "$name $VERSION: building for PostgreSQL $V"
    start=$(date +%s)
    if [ -z "$PG_ROOT" ]; then
      (cd "$REPO" && cargo pgrx package --pg-config "$PG_CONFIG" --out-dir "$stage") > "$STATE_DIR/package-pg$V.log" 2>&1 ||
        { tail -30 "$STATE_DIR/package-pg$V.log"; exit 1; }
      in_suite() { "$@"; }
    else
      trap unlend_root EXIT
      lend_root
      in_build_root bash -c "cd '$REPO' &&
        { grep -qs 'pg$V *=' /root/.pgrx/config.toml || cargo pgrx init --pg$V $PG_CONFIG; } &&
        CARGO_TARGET_DIR=/var/tmp/gn_export-target-$V cargo pgrx package --pg-config $PG_CONFIG \
          --no-default-features --features pg$V --out-dir '$stage'" > "$STATE_DIR/package-pg$V.log" 2>&1 ||
        { tail -30 "$STATE_DIR/package-pg$V.log"; exit 1; }
      in_suite() { chroot "$PG_ROOT" "$@"; }
    fi
    lib="$stage$(server_config --pkglibdir)/gn_export.so"
    [ -s "$lib" ] || { echo "deb.sh: no library in $stage"; exit 1; }
    # the library's own dependencies, as Debian's packages declare theirs
    work="$STATE_DIR/package-pg$V-shlibs"
    rm -rf "$work"; mkdir -p "$work/debian"
    printf 'Source: gn-export\n\nPackage: %s\nArchitecture: any\n' "$name" > "$work/debian/control"
    shlibs=$(in_suite sh -c "cd '$work' && dpkg-shlibdeps -O -e '$lib'" 2> "$work.log" | sed -n 's/^shlibs:Depends=//p' || true)
    [ -n "$shlibs" ] || { echo "deb.sh: dpkg-shlibdeps found nothing for $lib:"; cat "$work.log"; exit 1; }
    rm -rf "$work" "$work.log"
    arch=$(in_suite dpkg --print-architecture)
    # what Debian's policy asks of every package: its copyright, and the files' checksums
    install -d -m 755 "$stage/usr/share/doc/$name" "$stage/DEBIAN"
    printf 'gn_export %s\nLicense: %s (see /usr/share/common-licenses/GPL-3)\n' "$VERSION" \
      "$(sed -n 's/^license *= *"\(.*\)"/\1/p' "$REPO/Cargo.toml")" > "$stage/usr/share/doc/$name/copyright"
    chmod -R u=rwX,go=rX "$stage"
    size=$(du -sk "$stage" | cut -f1)
    (cd "$stage" && find usr -type f -exec md5sum {} + > DEBIAN/md5sums)
    cat > "$stage/DEBIAN/control" <<CONTROL
Package: $name
Version: $VERSION
Architecture: $arch
Maintainer: gn_export developers <gn-export@localhost>
Installed-Size: $size
Depends: postgresql-$V, postgresql-$V-postgis-3, $shlibs
Recommends: postgresql-$V-cron
Section: database
Priority: optional
Description: GeoNature's exports inside PostgreSQL $V
 gn_export reads GeoNature's export definitions and permissions and writes
 CSV, JSON, GeoJSON, GeoPackage, GeoParquet, Darwin Core Archives and
 Darwin-SW from inside the database: SELECT gn_export.run(1), COPY ... TO
 STDOUT, scheduled files with pg_cron, and a paginated JSON API.
 .
 After installing: CREATE EXTENSION gn_export CASCADE; in each database
 (PostGIS comes with it), and ALTER DATABASE ... SET
 session_preload_libraries = 'gn_export' for its COPY formats.
CONTROL
    deb="$OUT/${name}_${VERSION}_${arch}.deb"
    rm -f "$deb"
    dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" > /dev/null
    rm -rf "$stage"
    say "$(basename "$deb"): $(stat -c %s "$deb") bytes, Depends: postgresql-$V, postgresql-$V-postgis-3, $shlibs ($(( $(date +%s) - start )) s)"
  )
done
