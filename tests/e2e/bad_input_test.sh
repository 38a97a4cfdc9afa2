#!/usr/bin/env bash
# Bad input gets a clear message, exit 2, and leaves the ledger unchanged:
# missing vault, unreadable file, key file 0644, unknown and revoked actor,
# bad incident id, invalid status transition, adding to a closed incident,
# and a clock that went backwards.
source "$(dirname "$0")/lib.sh"
V=$T/vault
export CUSTODY_VAULT=$V CUSTODY_ACTOR=alice
run_custody init --origin custody.test/bad
expect_rc 0 "init"
run_custody incident open --severity P2 --title "t" --json
INC=$(jq -r .id <<<"$OUT")
printf 'x\n' >"$T/f.log"

# refused CHECK-DESCRIPTION EXPECTED-STDERR ARGS...: exit 2, message, no change.
refused() {
  local what=$1 msg=$2
  shift 2
  local before
  before=$(ledger_state "$V")
  run_custody "$@"
  expect_rc 2 "$what"
  expect_err "$msg" "$what"
  expect_err "custody: error:" "$what"
  [[ $(ledger_state "$V") == "$before" ]] || fail "$what: the ledger changed"
  pass "$what"
}

refused "missing vault" "open vault $T/nope: No such file or directory" \
  add "$T/f.log" --vault "$T/nope" --incident "$INC" --source x
CUSTODY_VAULT= run_custody incident list
expect_rc 2 "no vault at all"
expect_err "no vault given: use --vault DIR or set CUSTODY_VAULT" "no vault at all"
refused "not a vault" "is not a custody vault" incident list --vault "$T"
refused "missing file" "open $T/missing.log: No such file or directory" \
  add "$T/missing.log" --incident "$INC" --source x
refused "a directory as file" "not a regular file" add "$T" --incident "$INC" --source x
# Reading /proc/self/mem at offset 0 fails with EIO even for root: a real
# unreadable regular file, whatever user the tests run as.
refused "unreadable file" "read /proc/self/mem: Input/output error" \
  add /proc/self/mem --incident "$INC" --source x
[[ -z $(find "$V/objects/tmp" -type f) ]] || fail "no temp file left after a read error"
if [[ $(id -u) -ne 0 ]]; then
  printf 'y\n' >"$T/noperm.log"
  chmod 000 "$T/noperm.log"
  refused "file without read permission" "Permission denied" add "$T/noperm.log" --incident "$INC" --source x
fi

cp "$HOME/.config/custody/keys/alice.pem" "$T/loose.pem"
chmod 644 "$T/loose.pem"
refused "key file 0644" "accessible by group or others (mode 0644)" \
  add "$T/f.log" --key "$T/loose.pem" --incident "$INC" --source x
refused "unknown actor (name)" "cannot load the key of mallory" \
  add "$T/f.log" --actor mallory --incident "$INC" --source x
# A key that exists but was never registered in this vault.
openssl genpkey -algorithm ed25519 -out "$T/mallory.pem" 2>/dev/null
chmod 600 "$T/mallory.pem"
refused "unknown actor (unregistered key)" "is not registered in this vault" \
  add "$T/f.log" --actor mallory --key "$T/mallory.pem" --incident "$INC" --source x
refused "someone else's name" "is registered to alice, not to mallory" \
  add "$T/f.log" --actor mallory --key "$HOME/.config/custody/keys/alice.pem" --incident "$INC" --source x

run_custody key new --actor bob
expect_rc 0 "register bob"
run_custody key revoke bob --reason "left the team"
expect_rc 0 "revoke bob"
refused "revoked actor" "was revoked at entry" \
  add "$T/f.log" --actor bob --incident "$INC" --source x
refused "revoking the last key" "last active key" key revoke alice

refused "bad incident id" "no incident INC-1999-01-01-9" \
  add "$T/f.log" --incident INC-1999-01-01-9 --source x
refused "malformed incident id" "no incident not-an-id" \
  add "$T/f.log" --incident not-an-id --source x
refused "invalid status transition" "invalid status transition open -> closed" \
  incident status "$INC" --to closed
refused "bad severity" "P5 not in {P0,P1,P2,P3}" incident open --severity P5 --title t
refused "local time without zone" "missing UTC offset" \
  incident open --severity P1 --title t --detected-at "2026-12-03 01:00:00"
refused "detection in the future" "is in the future" \
  incident open --severity P1 --title t --detected-at 2999-01-01T00:00:00Z

for to in contained resolved closed; do
  run_custody incident status "$INC" --to "$to"
  expect_rc 0 "to $to"
done
refused "adding to a closed incident" "incident $INC is closed: no evidence can be added" \
  add "$T/f.log" --incident "$INC" --source x
refused "updating a closed incident" "is closed; reopen it" incident update "$INC" --title new

# The clock went backwards (libfaketime shifts this process's clock a day back).
run_custody incident reopen "$INC"
expect_rc 0 "reopen"
before=$(ledger_state "$V")
set +e
# (ASAN_OPTIONS: a sanitizer build must accept the preloaded library.)
ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
FAKETIME="-1d" LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
  "$CUSTODY" add "$T/f.log" --incident "$INC" --source x >"$T/.out" 2>"$T/.err"
RC=$?
set -e
ERR=$(cat "$T/.err")
expect_rc 2 "clock earlier than the last entry"
expect_err "is earlier than the last ledger entry" "clock earlier than the last entry"
[[ $(ledger_state "$V") == "$before" ]] || fail "clock: the ledger changed"
pass "clock earlier than the last entry"

# Secrets never on the command line: there is no option to pass a passphrase.
run_custody key new --help
[[ $OUT != *"--passphrase "* ]] || fail "no --passphrase option"
printf 'wrong horse\n' >"$T/pw"
chmod 600 "$T/pw"
run_custody key new --actor carol --key "$T/carol.pem" --new-passphrase-file "$T/pw"
expect_rc 0 "encrypted key"
grep -q "ENCRYPTED PRIVATE KEY" "$T/carol.pem" || fail "carol's key is encrypted"
refused "encrypted key without passphrase" "cannot decrypt private key (no passphrase)" \
  incident open --actor carol --key "$T/carol.pem" --severity P3 --title x
printf 'not it\n' >"$T/badpw"
chmod 600 "$T/badpw"
refused "encrypted key, wrong passphrase" "cannot decrypt private key (wrong passphrase)" \
  incident open --actor carol --key "$T/carol.pem" --passphrase-file "$T/badpw" --severity P3 --title x
chmod 644 "$T/pw"
refused "passphrase file readable by others" "secret file is accessible by group or others" \
  incident open --actor carol --key "$T/carol.pem" --passphrase-file "$T/pw" --severity P3 --title x
chmod 600 "$T/pw"
run_custody incident open --actor carol --key "$T/carol.pem" --passphrase-file "$T/pw" --severity P3 --title x
expect_rc 0 "encrypted key with its passphrase"
if grep -rqa "wrong horse" "$V" "$T/.out" "$T/.err"; then fail "the passphrase leaked into the vault or output"; fi
pass "passphrases come from files and never leak"
