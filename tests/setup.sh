#!/usr/bin/env bash
# One-time (idempotent) machine setup for gn_export on Debian 12, as root:
# apt packages, cargo-pgrx 0.18.1, and `cargo pgrx init` against the system PostgreSQL 15.
set -euo pipefail

PGRX_VERSION=0.18.1
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PKGS=(postgresql-15 postgresql-server-dev-15 postgresql-15-postgis-3 postgresql-15-cron
      gdal-bin python3-gdal libclang-dev clang sudo pkg-config python3 python3-venv jq libxml2-utils unzip dpkg-dev
      curl libmagic1 debootstrap)

log() { printf '== setup: %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "apt packages present"
fi

# Debian's postgresql-common creates a 'main' cluster on 5432 and may start it; we never
# use it (our tests and demo run their own clusters), so it is left alone.

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1; }

if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
  log "installing cargo-pgrx $PGRX_VERSION (takes a few minutes)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
else
  log "cargo-pgrx $PGRX_VERSION present"
fi

PGRX_HOME="${PGRX_HOME:-$HOME/.pgrx}"
if ! grep -qs "pg15 *= *\"$PG_CONFIG\"" "$PGRX_HOME/config.toml"; then
  log "cargo pgrx init --pg15 $PG_CONFIG"
  cargo pgrx init --pg15 "$PG_CONFIG"
else
  log "pgrx already initialised for pg15"
fi
# Python readers and validators for the client tests, in their own virtualenvs, pinned in
# tests/requirements.txt and tests/requirements-gpio.txt (geoparquet-io's DuckDB differs from
# the readers'); each reinstalled when its file changes
venv() { # venv DIR REQUIREMENTS
  if ! cmp -s "$2" "$1/.gn_export-requirements.txt"; then
    log "python venv $1 with $(grep -vc '^#' "$2") pinned packages"
    [ -x "$1/bin/pip" ] || python3 -m venv "$1"
    "$1/bin/pip" install -q --disable-pip-version-check -r "$2"
    cp "$2" "$1/.gn_export-requirements.txt"
  else
    log "python venv $1 present"
  fi
}
HERE="$(cd "$(dirname "$0")" && pwd)"
venv "${GN_EXPORT_VENV:-/opt/gn_export-test-venv}" "$HERE/requirements.txt"
venv "${GN_EXPORT_GPIO_VENV:-/opt/gn_export-gpio-venv}" "$HERE/requirements-gpio.txt"
# another Debian's programs: GDAL with its Parquet driver (QGIS's reader), in a forky root
# and PostgreSQL 17 (Debian 13) and 18 (forky), to build and try gn_export on them
bash "$(cd "$(dirname "$0")" && pwd)/roots.sh" forky-gdal trixie-pg17 forky-pg18 \
  clean-bookworm clean-trixie clean-forky
log "done"
