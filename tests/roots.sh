#!/usr/bin/env bash
# Debian roots for the client tests that need another Debian's programs, made from Debian's
# own archive (idempotent, as root; tests/setup.sh runs it):
#
#   bash tests/roots.sh forky-gdal
#       a Debian forky (testing) root whose GDAL reads Parquet as QGIS does: Debian builds
#       GDAL without its Parquet driver, so the driver is built from Debian's GDAL source as a
#       standalone plugin against Debian's libgdal and Apache Arrow (about 2 minutes the first
#       time). Used by tests/client/gdal_parquet.sh.
#
#   bash tests/roots.sh trixie-pg17 forky-pg18
#       Debian 13's PostgreSQL 17 and forky's 18, each with its PostGIS, pg_cron, headers and
#       clang, for building gn_export and running the tests on those servers (tests/server.sh,
#       packaging/deb.sh); their postgres user takes this machine's ids.
#
#   bash tests/roots.sh clean-bookworm clean-trixie clean-forky
#       tarballs of minimal roots with nothing added (no Rust, no PostgreSQL), from which
#       tests/packages.sh installs each Debian package as on a new server.
#
# Roots live under $GN_EXPORT_ROOTS (default /opt/gn_export-roots). Their programs run inside
# them with chroot (they need their own C library). The archive this machine reaches may be a
# snapshot older than a testing suite's Release file allows: apt is told not to check its
# validity date (signatures are still checked).
set -euo pipefail

ROOTS="${GN_EXPORT_ROOTS:-/opt/gn_export-roots}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
APT=(apt-get -q -o Acquire::Check-Valid-Until=false)

log() { printf '== roots: %s\n' "$*"; }

# logged LOG CMD...: CMD's output to LOG, shown only if CMD fails
logged() {
  local out=$1; shift
  "$@" >> "$out" 2>&1 || { tail -30 "$out" >&2; exit 1; }
}

# root SUITE: a minimal Debian SUITE root at $ROOTS/SUITE
root() {
  local suite=$1 dir=$ROOTS/$1
  if [ -x "$dir/usr/bin/apt-get" ] && [ -e "$dir/.gn_export-root" ]; then
    return
  fi
  log "debootstrap $suite into $dir"
  # never through a mount left inside it (a lent /dev or repository)
  nothing_lent "$dir"
  bootstrap "$suite" "$dir" "$ROOTS/$suite.log"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  touch "$dir/.gn_export-root"
}

# bootstrap SUITE DIR LOG: a minimal SUITE root made anew at DIR, debootstrap's output in LOG
bootstrap() {
  local suite=$1 dir=$2 out=$3
  rm -rf --one-file-system "$dir"
  mkdir -p "$ROOTS"
  # debootstrap knows a suite by its script; a testing suite newer than this Debian's
  # debootstrap is made as sid is
  local script=/usr/share/debootstrap/scripts/$suite
  [ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
  debootstrap --variant=minbase "$suite" "$dir" "$MIRROR" "$script" > "$out" 2>&1 ||
    { tail -20 "$out" >&2; exit 1; }
}

# nothing_lent DIR: stops when something is still mounted under DIR (a lent /dev or repository)
nothing_lent() {
  if findmnt -rn -o TARGET | grep -c "^$1/" > /dev/null; then
    echo "roots: something is still mounted under $1: unmount it first" >&2; exit 1
  fi
}

# inside SUITE CMD...: runs CMD inside the root
inside() { local dir=$ROOTS/$1; shift; chroot "$dir" "$@"; }

# the kernel's views a package's scripts need, for the time of one command
with_proc() {
  local dir=$ROOTS/$1; shift
  mount --bind /proc "$dir/proc"; mount --bind /dev "$dir/dev"
  local rc=0
  "$@" || rc=$?
  umount "$dir/dev" "$dir/proc"
  return $rc
}

apt_in() {
  local suite=$1; shift
  inside "$suite" "${APT[@]}" update > /dev/null
  with_proc "$suite" inside "$suite" env DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y --no-install-recommends "$@" > /dev/null
}

# postgresql SUITE MAJOR: the server, its headers, PostGIS and pg_cron of that suite, and what
# pgrx builds with
postgresql() {
  local suite=$1 v=$2
  root "$suite"
  if [ -x "$ROOTS/$suite/usr/lib/postgresql/$v/bin/pg_config" ] && [ -x "$ROOTS/$suite/usr/bin/dpkg-shlibdeps" ] &&
     inside "$suite" dpkg-query -W "postgresql-$v-postgis-3" > /dev/null 2>&1; then
    log "$suite root with PostgreSQL $v present"
  else
    log "PostgreSQL $v, PostGIS and pg_cron in the $suite root"
    apt_in "$suite" "postgresql-$v" "postgresql-server-dev-$v" "postgresql-$v-postgis-3" "postgresql-$v-cron" \
      libclang-dev clang pkg-config gcc make ca-certificates dpkg-dev
    log "$suite root: $(inside "$suite" "/usr/lib/postgresql/$v/bin/pg_config" --version)"
  fi
  same_postgres "$suite"
}

# same_postgres SUITE: the root's postgres user and group get this machine's ids, so that a
# cluster the tests make here (owned by postgres) is the root server's own, and its files ours
same_postgres() {
  local dir=$ROOTS/$1 uid gid old_uid old_gid
  uid=$(id -u postgres); gid=$(id -g postgres)
  old_uid=$(inside "$1" id -u postgres); old_gid=$(inside "$1" id -g postgres)
  [ "$old_uid:$old_gid" = "$uid:$gid" ] && return
  log "$1 root: postgres takes this machine's ids $uid:$gid (was $old_uid:$old_gid)"
  # the files are walked below: never into something lent (a bind mount has the same device)
  nothing_lent "$dir"
  local taken_by_user taken_by_group
  taken_by_user=$(inside "$1" getent passwd "$uid" | cut -d: -f1 || true)
  taken_by_group=$(inside "$1" getent group "$gid" | cut -d: -f1 || true)
  if { [ -n "$taken_by_user" ] && [ "$taken_by_user" != postgres ]; } ||
     { [ -n "$taken_by_group" ] && [ "$taken_by_group" != postgres ]; }; then
    echo "roots: uid $uid or gid $gid is taken in $dir: cannot give postgres this machine's ids" >&2; exit 1
  fi
  [ "$old_gid" = "$gid" ] || inside "$1" groupmod -g "$gid" postgres
  [ "$old_uid" = "$uid" ] || inside "$1" usermod -u "$uid" postgres
  inside "$1" usermod -g "$gid" postgres
  # what the packages made for the old ids (usermod moved the home directory's only)
  find "$dir" -xdev \( -uid "$old_uid" -o -gid "$old_gid" \) -print0 |
    while IFS= read -r -d '' f; do
      chown -h "$( [ "$(stat -c %u "$f")" = "$old_uid" ] && echo "$uid" || stat -c %u "$f"):$( [ "$(stat -c %g "$f")" = "$old_gid" ] && echo "$gid" || stat -c %g "$f")" "$f"
    done
}

# clean SUITE: a tarball of a minimal SUITE root, never used in place: each package test
# (tests/packages.sh) unpacks it and installs a package there, as on a new server
clean() {
  local suite=$1 tar=$ROOTS/clean-$1.tar dir=$ROOTS/.clean-$1
  if [ -s "$tar" ]; then
    log "clean $suite root present"
    return
  fi
  log "debootstrap a clean $suite root into $tar"
  bootstrap "$suite" "$dir" "$ROOTS/clean-$suite.log"
  tar -C "$dir" -cf "$tar.part" . && mv "$tar.part" "$tar"
  rm -rf --one-file-system "$dir"
}

forky_gdal() {
  root forky
  # grep -c reads it all: grep -q would stop ogrinfo with SIGPIPE, a failure under pipefail
  if inside forky ogrinfo --formats 2>/dev/null | grep -c '^  Parquet ' > /dev/null; then
    log "forky root with GDAL's Parquet driver present"
    return
  fi
  log "GDAL's Parquet driver for the forky root's GDAL"
  echo "deb-src $MIRROR forky main" > "$ROOTS/forky/etc/apt/sources.list.d/gn_export-src.list"
  apt_in forky gdal-bin python3-gdal libgdal-dev libarrow-dev libparquet-dev libarrow-dataset-dev \
    libarrow-acero-dev cmake ninja-build g++ dpkg-dev
  # the plugin is built against the very version installed (GDAL checks it): the upstream
  # sources of the installed package (Debian's own patches do not touch the driver)
  local version upstream
  version=$(inside forky dpkg-query -W -f='${source:Version}' libgdal-dev)
  upstream=${version%%+*}
  inside forky sh -c "rm -rf /usr/src/gdal && mkdir -p /usr/src/gdal && cd /usr/src/gdal &&
    ${APT[*]} source --tar-only gdal=$version > /dev/null && tar xf gdal_*.orig.tar.* && rm -f gdal_*.orig.tar.*"
  local out=$ROOTS/forky-gdal.log
  : > "$out"
  logged "$out" inside forky cmake -S "/usr/src/gdal/gdal-$upstream/ogr/ogrsf_frmts/parquet" \
    -B /usr/src/gdal/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr
  logged "$out" inside forky cmake --build /usr/src/gdal/build -j"$(nproc)"
  logged "$out" inside forky cmake --install /usr/src/gdal/build
  inside forky rm -rf /usr/src/gdal
  inside forky ogrinfo --formats | grep -c '^  Parquet ' > /dev/null ||
    { echo "roots: GDAL's Parquet plugin did not load in the forky root" >&2; exit 1; }
  log "forky root: $(inside forky ogrinfo --version) with its Parquet driver"
}

for what in "$@"; do
  case $what in
    forky-gdal) forky_gdal ;;
    trixie-pg17) postgresql trixie 17 ;;
    forky-pg18) postgresql forky 18 ;;
    clean-bookworm | clean-trixie | clean-forky) clean "${what#clean-}" ;;
    *) echo "roots: unknown root '$what' (forky-gdal, trixie-pg17, forky-pg18, clean-bookworm, clean-trixie, clean-forky)" >&2; exit 2 ;;
  esac
done
