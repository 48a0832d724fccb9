#!/usr/bin/env bash
# The tests on another PostgreSQL server GeoNature runs on: 17 (Debian 13 "trixie") or 18
# (Debian forky), from Debian's own packages in the roots tests/roots.sh makes.
#
#   bash tests/server.sh 17                 pg_regress and the client suites below, on 17
#   bash tests/server.sh 18 engine api      pg_regress and the suites named, on 18
#
# It lends the root what the server and the tests share (the repository, the tests' state
# directory, /tmp's sockets, /proc and /dev) and this machine's Rust toolchain, builds and
# installs gn_export there for that server, then runs tests/regress.sh and each client suite
# with GN_PG set (tests/lib.sh: the clusters run the root's server, the clients stay this
# machine's). Everything lent is given back on exit.
set -euo pipefail
V="${1:?usage: bash tests/server.sh 17|18 [client suite...]}"; shift
export GN_PG="$V"
source "$(dirname "$0")/lib.sh"
[ -n "$PG_ROOT" ] || { echo "server.sh: PostgreSQL 15 is this machine's: run bash tests/run.sh" >&2; exit 2; }
[ -x "$PG_ROOT$PG_CONFIG" ] || { echo "no PostgreSQL $V in $PG_ROOT: run bash tests/setup.sh"; exit 1; }
# the suites the issue of versions names: the COPY hook and the engine, trust (callers' and
# owners' rights), the validators, the API and the upgrade from released versions
if [ $# -gt 0 ]; then suites=("$@"); else suites=(engine callers_rights owners_rights validators api upgrade); fi
for t in "${suites[@]}"; do
  case $t in
    # they drive a second server with this machine's pg_basebackup, pg_dump and pg_restore (15)
    standby | dump_restore) echo "server.sh: $t.sh runs on PostgreSQL 15 only" >&2; exit 2 ;;
  esac
  [ -f "$REPO/tests/client/$t.sh" ] || { echo "server.sh: no tests/client/$t.sh" >&2; exit 2; }
done

trap give_back_root EXIT
lend_root

say "PostgreSQL $V ($(chroot "$PG_ROOT" "$PG_CONFIG" --version), PostGIS $(chroot "$PG_ROOT" dpkg-query -W -f='${Version}' "postgresql-$V-postgis-3" | cut -d+ -f1)) in $PG_ROOT"
start=$(date +%s)
install_extension --release 2>&1 | grep -E '^error|Finished|Installing' || true
[ -e "$PG_ROOT$(server_config --pkglibdir)/gn_export.so" ] || { echo "server.sh: gn_export did not build for PostgreSQL $V"; exit 1; }
say "built and installed for PostgreSQL $V in $(( $(date +%s) - start )) s"

passed=()
start=$(date +%s)
SKIP_INSTALL=1 bash "$REPO/tests/regress.sh"
passed+=("pg_regress ($(( $(date +%s) - start )) s)")
for t in "${suites[@]}"; do
  say "PostgreSQL $V: client test $t.sh"
  start=$(date +%s)
  bash "$REPO/tests/client/$t.sh"
  passed+=("$t ($(( $(date +%s) - start )) s)")
done
say "PostgreSQL $V: ${#passed[@]} passed: ${passed[*]}"
