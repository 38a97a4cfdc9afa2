#!/usr/bin/env bash
# End to end through the CLI: init, a second person's key, an incident, two
# files added, one exported, the custody log in three formats, a checkpoint
# kept outside the vault, status transitions, and --help everywhere.
source "$(dirname "$0")/lib.sh"
V=$T/vault
export CUSTODY_VAULT=$V

run_custody init --actor alice --origin custody.test/e2e
expect_rc 0 "init"
expect_out "Created vault" "init"
expect_out "custody.test/e2e+" "init prints the verifier key"
[[ -f $HOME/.config/custody/keys/alice.pem ]] || fail "alice's key is in ~/.config/custody/keys"
[[ $(stat -c %a "$HOME/.config/custody/keys/alice.pem") == 600 ]] || fail "key mode 0600"
[[ $(stat -c %a "$V") == 700 ]] || fail "vault mode 0700"
pass "init"
export CUSTODY_ACTOR=alice

run_custody key new --actor bob --comment "analyst" --json
expect_rc 0 "key new"
bob_kid=$(jq -r .kid <<<"$OUT")
[[ ${#bob_kid} -eq 64 ]] || fail "kid is a 64-hex fingerprint: $bob_kid"
[[ -f $HOME/.config/custody/keys/bob.pem ]] || fail "bob's key written"
run_custody key list --json
expect_rc 0 "key list"
[[ $(jq '.keys | length' <<<"$OUT") == 2 ]] || fail "two keys listed"
[[ $(jq -r '.keys[1].registered_by' <<<"$OUT") == alice ]] || fail "bob registered by alice"
pass "key new / list"

run_custody incident open --severity P1 --title "VPS 42 compromised" \
  --system hetzner:server/4294967297 --customer acme --playbook vps-compromise \
  --detected-at 2026-01-01T00:00:00Z --json
expect_rc 0 "incident open"
INC=$(jq -r .id <<<"$OUT")
[[ $INC =~ ^INC-[0-9]{4}-[0-9]{2}-[0-9]{2}-1$ ]] || fail "incident id format: $INC"
[[ $INC == "INC-$(date -u +%F)-1" ]] || fail "id uses today's UTC date: $INC"
expect_eq "$(jq -r .detected_at <<<"$OUT")" "2026-01-01T00:00:00.000Z" "detected_at"
expect_eq "$(jq -r .status <<<"$OUT")" "open" "status"
pass "incident open"

printf 'Dec  3 01:02:03 vps42 sshd[811]: Failed password for root from 203.0.113.9\n' >"$T/auth.log"
printf '{"logs":[{"ts":1764723723000,"msg":"GET /"}]}\n' >"$T/vercel.json"
run_custody add "$T/auth.log" --incident "$INC" --source vps42 --notes "copied by scp" --json
expect_rc 0 "add auth.log"
expect_eq "$(jq -r .sha256 <<<"$OUT")" "$(sha256sum "$T/auth.log" | cut -d' ' -f1)" "hash = sha256sum"
expect_eq "$(jq -r .id <<<"$OUT")" "$INC-E1" "item id"
run_custody add "$T/vercel.json" --incident "$INC" --source vercel --kind api_export \
  --collected-at 2026-12-01T10:00:00Z --json
expect_rc 0 "add vercel.json"
expect_eq "$(jq -r .collected_at <<<"$OUT")" "2026-12-01T10:00:00.000Z" "collected-at kept"
pass "add"

mkdir "$T/analysis"
run_custody export "$INC-E1" --to "$T/analysis" --purpose "timeline" --actor bob --json
expect_rc 0 "export"
copy=$(jq -r .file <<<"$OUT")
cmp "$copy" "$T/auth.log" || fail "exported copy equals the original"
[[ $(jq -r .verified <<<"$OUT") == true ]] || fail "copy verified"
pass "export"

run_custody log --incident "$INC"
expect_rc 0 "log md"
expect_out "| # | Evidence Item | Hash (SHA-256) | Collected By | Date/Time (UTC) | Storage Location | Notes |" "runbook table"
expect_out "| 1 | $INC-E1: auth.log" "row 1"
expect_out "| bob | $INC-E1 | export | timeline |" "access history names bob"
run_custody log --incident "$INC" --format csv
expect_rc 0 "log csv"
[[ $(head -1 <<<"$OUT") == "#,Evidence Item,Hash (SHA-256),Collected By,Date/Time (UTC),Storage Location,Notes" ]] || fail "csv header"
run_custody log --incident "$INC" --format json
expect_rc 0 "log json"
[[ $(jq '.evidence | length' <<<"$OUT") == 2 && $(jq -r '.accesses[0].outcome' <<<"$OUT") == ok ]] || fail "json log"
pass "log"

run_custody checkpoint --out "$T/missing-dir/checkpoint.txt"
expect_rc 2 "checkpoint --out into a missing directory"
expect_err "missing-dir" "the error names the path"
mkdir "$T/outside"
run_custody checkpoint --out "$T/outside/checkpoint.txt"
expect_rc 0 "checkpoint"
size=$(sqlite3 -readonly "$V/ledger.db" "SELECT count(*) FROM ledger")
mapfile -t lines <"$T/outside/checkpoint.txt"
expect_eq "${lines[0]}" "custody.test/e2e" "checkpoint origin line"
expect_eq "${lines[1]}" "$size" "checkpoint size = ledger size"
[[ ${lines[2]} =~ ^[A-Za-z0-9+/]{43}=$ ]] || fail "checkpoint root is base64 of 32 bytes"
[[ ${lines[4]} == "— custody.test/e2e "* ]] || fail "signature line: ${lines[4]}"
[[ "$OUT"$'\n' == "$(cat "$T/outside/checkpoint.txt")"$'\n' ]] || fail "stdout = file"
pass "checkpoint"

run_custody incident status "$INC" --to contained --note "firewall applied" --json
expect_rc 0 "contained"
[[ $(jq -r .contained_at <<<"$OUT") != null ]] || fail "contained_at set"
run_custody incident status "$INC" --to resolved --root-cause "weak root password" --json
expect_rc 0 "resolved"
expect_eq "$(jq -r .root_cause <<<"$OUT")" "weak root password" "root cause recorded"
run_custody incident status "$INC" --to closed --json
expect_rc 0 "closed"
[[ $(jq -r .closed_at <<<"$OUT") != null ]] || fail "closed_at set"
run_custody incident reopen "$INC" --note "new IOC" --json
expect_rc 0 "reopen"
expect_eq "$(jq -r .status <<<"$OUT")" "open" "reopened"
expect_eq "$(jq -r .closed_at <<<"$OUT")" "null" "closed_at cleared on reopen"
expect_eq "$(jq '.history | length' <<<"$OUT")" "4" "history keeps every transition"
run_custody incident show "$INC"
expect_rc 0 "show"
expect_out "status             open" "human show"
run_custody incident list --json
expect_eq "$(jq length <<<"$OUT")" "1" "one incident"
pass "status transitions"

# Every subcommand answers --help with exit 0.
for cmd in "init" "key" "key new" "key list" "key revoke" "incident" "incident open" \
           "incident status" "incident reopen" "incident update" "incident show" \
           "incident list" "add" "export" "log" "checkpoint"; do
  # shellcheck disable=SC2086
  run_custody $cmd --help
  expect_rc 0 "$cmd --help"
  expect_out "Usage:" "$cmd --help"
done
run_custody --version
expect_rc 0 "--version"
run_custody bogus
expect_rc 2 "unknown subcommand"
pass "help"
