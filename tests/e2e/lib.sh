# Shared helpers for the end-to-end tests (sourced). Each test runs the real
# custody binary in a fresh temp dir with its own HOME, so keys and vaults
# never touch the user's files. Assertions print what they expected and what
# they got, and fail the test at once.
set -euo pipefail

CUSTODY=${CUSTODY:?set CUSTODY to the custody binary}
T=$(mktemp -d "${TMPDIR:-/tmp}/custody-e2e.XXXXXX")
export HOME=$T/home
mkdir -p "$HOME"
unset CUSTODY_VAULT CUSTODY_ACTOR CUSTODY_KEY CUSTODY_PASSPHRASE_FILE
cleanup() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then rm -rf "$T"; else echo "e2e: files kept in $T" >&2; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

# run_custody ARGS...: runs custody, capturing stdout, stderr and the exit code
# in $OUT, $ERR and $RC (never aborts the test).
run_custody() {
  set +e
  "$CUSTODY" "$@" >"$T/.out" 2>"$T/.err"
  RC=$?
  set -e
  OUT=$(cat "$T/.out")
  ERR=$(cat "$T/.err")
}

expect_rc() {  # expect_rc CODE DESCRIPTION
  [[ $RC -eq $1 ]] || fail "$2: exit $RC, expected $1; stderr: $ERR; stdout: $OUT"
}
expect_err() {  # expect_err SUBSTRING DESCRIPTION
  [[ $ERR == *"$1"* ]] || fail "$2: stderr lacks '$1': $ERR"
}
expect_out() {
  [[ $OUT == *"$1"* ]] || fail "$2: stdout lacks '$1': $OUT"
}
expect_eq() {  # expect_eq GOT WANT DESCRIPTION
  [[ "$1" == "$2" ]] || fail "$3: got '$1', expected '$2'"
}

# ledger_state VAULT: a fingerprint of the ledger and its checkpoints.
ledger_state() {
  sqlite3 -readonly "$1/ledger.db" \
    "SELECT count(*) || ':' || coalesce(hex(max(leaf_hash)),'') FROM ledger;
     SELECT count(*) FROM checkpoints;
     SELECT group_concat(key || '=' || doc, '|') FROM incidents;
     SELECT group_concat(key || '=' || doc, '|') FROM items;
     SELECT group_concat(key || '=' || doc, '|') FROM keys;" | sha256sum
}
