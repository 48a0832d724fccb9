#!/usr/bin/env bash
# The whole test suite: formatting, lints, #[pg_test]/unit tests, pg_regress golden files and
# client-side tests on PostgreSQL 15; pg_regress and the main client suites on 17 and 18; the
# Debian packages. Needs `bash tests/setup.sh` once. Run as root (PostgreSQL runs as postgres).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO"

say "cargo fmt --check"
cargo fmt --check

say "cargo clippy -D warnings"
cargo clippy --all-targets --features "pg15 pg_test" -- -D warnings

say "the house is a stack: no cycle, no import up the stack (tests/imports.py)"
python3 tests/imports.py --strict

say "plain unit tests: encoders, writers, registry, no server (cargo test)"
cargo test --features "pg15 pg_test" --lib -- --skip ::pg_

say "cargo pgrx test (unit tests again, and #[pg_test] in a throw-away cluster)"
PGRX_TEST_DIR="$STATE_DIR/pgrx-test-data"
install -d -o postgres -g postgres "$PGRX_TEST_DIR"
cargo pgrx test pg15 --runas postgres --pgdata "$PGRX_TEST_DIR"

say "pg_regress golden files"
# the test build installed above is replaced by a plain debug build inside regress.sh
bash tests/regress.sh

suites=(pgrx-test pg_regress)
for t in tests/client/*.sh; do
  [ -e "$t" ] || continue
  [ "$(basename "$t")" = lib.sh ] && continue
  say "client test $(basename "$t")"
  bash "$t"
  suites+=("$(basename "$t")")
done

# the same on PostgreSQL 17 and 18 (Debian's, each in its root): pg_regress and the client
# suites tests/server.sh names; then the Debian packages, each installed where no Rust is
for v in 17 18; do
  say "PostgreSQL $v: tests/server.sh $v"
  start=$SECONDS
  bash tests/server.sh "$v"
  suites+=("PostgreSQL $v ($((SECONDS - start)) s)")
done
say "Debian packages: tests/packages.sh"
start=$SECONDS
bash tests/packages.sh
suites+=("packages ($((SECONDS - start)) s)")

echo "tests: ${#suites[@]} passed, 0 failed"
