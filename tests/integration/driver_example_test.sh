#!/bin/sh
# Runs examples/driver_example against the test MariaDB (scripts/services/up)
# and checks what it prints, and that its profile hash is `sqlx snapshot`'s.
# Usage: driver_example_test.sh DRIVER_EXAMPLE SQLX
set -eu
example=$1
sqlx=$2
: "${SQLX_TEST_MARIADB_HOST:?is not set: run tests through scripts/test, or eval \"\$(scripts/services/up)\" first}"
: "${SQLX_TEST_MARIADB_PORT:?is not set: run tests through scripts/test}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SQLX_HOME="$tmp/home" SQLX_PASSWORD=native-pw
url="mysql://sqlx_native@$SQLX_TEST_MARIADB_HOST:$SQLX_TEST_MARIADB_PORT"

fail() {
  echo "driver_example_test: $1" >&2
  echo "--- output:" >&2
  cat "$tmp/out" >&2
  exit 1
}

SQLX_URL=$url "$example" sqlx_test >"$tmp/out" 2>&1 || fail "driver_example exited $?"
grep -q '^server: MariaDB ' "$tmp/out" || fail "no 'server: MariaDB' line"
grep -q '^rendered SQL: [1-9][0-9]* lines$' "$tmp/out" || fail "no rendered SQL"
grep -qx 'operations: 0' "$tmp/out" || fail "diffing a snapshot against itself is not 0 operations"
hash=$(sed -n 's/^profile hash: \([0-9a-f]\{16,\}\)$/\1/p' "$tmp/out")
[ -n "$hash" ] || fail "no profile hash"

"$sqlx" snapshot "$url/sqlx_test" -o "$tmp/snap.json" >"$tmp/cli" 2>&1 || fail "sqlx snapshot failed: $(cat "$tmp/cli")"
grep -q "(profile hash $hash)" "$tmp/cli" || fail "sqlx snapshot's profile hash differs: $(cat "$tmp/cli")"

SQLX_URL=$url "$example" sqlx_no_such_db >"$tmp/out" 2>&1 && fail "an unknown database did not fail"
grep -q 'sqlx_no_such_db' "$tmp/out" || fail "the error does not name the database"
echo "driver_example_test: ok"
