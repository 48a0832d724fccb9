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
#       clang, for building and trying gn_export on those servers (tests/client/servers.sh).
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
  if findmnt -rn -o TARGET | grep -c "^$dir/" > /dev/null; then
    echo "roots: something is still mounted under $dir: unmount it first" >&2; exit 1
  fi
  rm -rf --one-file-system "$dir"
  mkdir -p "$ROOTS"
  # debootstrap knows a suite by its script; a testing suite newer than this Debian's
  # debootstrap is made as sid is
  local script=/usr/share/debootstrap/scripts/$suite
  [ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
  debootstrap --variant=minbase "$suite" "$dir" "$MIRROR" "$script" > "$ROOTS/$suite.log" 2>&1 ||
    { tail -20 "$ROOTS/$suite.log" >&2; exit 1; }
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  touch "$dir/.gn_export-root"
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
  if [ -x "$ROOTS/$suite/usr/lib/postgresql/$v/bin/pg_config" ] &&
     inside "$suite" dpkg-query -W "postgresql-$v-postgis-3" > /dev/null 2>&1; then
    log "$suite root with PostgreSQL $v present"
    return
  fi
  log "PostgreSQL $v, PostGIS and pg_cron in the $suite root"
  apt_in "$suite" "postgresql-$v" "postgresql-server-dev-$v" "postgresql-$v-postgis-3" "postgresql-$v-cron" \
    libclang-dev clang pkg-config gcc make ca-certificates
  log "$suite root: $(inside "$suite" "/usr/lib/postgresql/$v/bin/pg_config" --version)"
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
    *) echo "roots: unknown root '$what' (forky-gdal, trixie-pg17, forky-pg18)" >&2; exit 2 ;;
  esac
done
