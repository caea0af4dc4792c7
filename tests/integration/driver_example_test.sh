#!/bin/sh
# Runs examples/driver_example against the test MariaDB (scripts/services/up)
# on a database of its own, and checks what it prints: its profile hash is
# `sqlx snapshot`'s, the change it plans is applied and undone, and the
# database ends where it started.
# Usage: driver_example_test.sh DRIVER_EXAMPLE SQLX
set -eu
example=$1
sqlx=$2
: "${SQLX_TEST_MARIADB_HOST:?is not set: run tests through scripts/test, or eval \"\$(scripts/services/up)\" first}"
: "${SQLX_TEST_MARIADB_PORT:?is not set: run tests through scripts/test}"
: "${SQLX_TEST_ROOT_PASSWORD:?is not set: run tests through scripts/test}"

tmp=$(mktemp -d)
db="sqlx_driver_example_$$"
url="mysql://root@$SQLX_TEST_MARIADB_HOST:$SQLX_TEST_MARIADB_PORT"
export SQLX_HOME="$tmp/home" SQLX_PASSWORD="$SQLX_TEST_ROOT_PASSWORD"
trap '"$sqlx" query "$url" "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; rm -rf "$tmp"' EXIT

fail() {
  echo "driver_example_test: $1" >&2
  echo "--- output:" >&2
  cat "$tmp/out" >&2
  exit 1
}

"$sqlx" query "$url" "CREATE DATABASE $db" >"$tmp/out" 2>&1 || fail "cannot create $db"
"$sqlx" query "$url/$db" "CREATE TABLE orders (id int PRIMARY KEY, code varchar(20))" >"$tmp/out" 2>&1 ||
  fail "cannot create a table in $db"

SQLX_URL=$url "$example" "$db" >"$tmp/out" 2>&1 || fail "driver_example exited $?"
grep -q '^server: MariaDB ' "$tmp/out" || fail "no 'server: MariaDB' line"
grep -q '^rendered SQL: [1-9][0-9]* lines$' "$tmp/out" || fail "no rendered SQL"
grep -qx 'operations: 0' "$tmp/out" || fail "diffing a snapshot against itself is not 0 operations"
hash=$(sed -n 's/^profile hash: \([0-9a-f]\{16,\}\)$/\1/p' "$tmp/out")
[ -n "$hash" ] || fail "no profile hash"
grep -qx 'apply: 1. create_table driver_example_notes \[safe, none\]' "$tmp/out" || fail "no planned create_table"
grep -q '^apply: applied, 1 operation(s), profile hash [0-9a-f]\{64\}$' "$tmp/out" || fail "the change was not applied"
grep -qx 'undo: 1. drop_table driver_example_notes \[destructive, none\]' "$tmp/out" || fail "no planned drop_table"
grep -qx "undo: applied, 1 operation(s), profile hash $hash" "$tmp/out" || fail "the undo did not reach the start"

"$sqlx" snapshot "$url/$db" -o "$tmp/snap.json" >"$tmp/cli" 2>&1 || fail "sqlx snapshot failed: $(cat "$tmp/cli")"
grep -q "(profile hash $hash)" "$tmp/cli" || fail "sqlx snapshot's profile hash differs: $(cat "$tmp/cli")"

SQLX_URL=$url "$example" sqlx_no_such_db >"$tmp/out" 2>&1 && fail "an unknown database did not fail"
grep -q 'sqlx_no_such_db' "$tmp/out" || fail "the error does not name the database"
echo "driver_example_test: ok"
