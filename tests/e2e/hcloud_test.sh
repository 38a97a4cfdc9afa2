#!/usr/bin/env bash
# End to end: custody snapshot / isolate / inventory / analysis-server against
# the Hetzner Cloud API stand-in (tests/hcloud_standin), every step recorded in
# the ledger. Covers: happy paths, a bad token (its bytes appear nowhere),
# 429 then success, 5xx until retries run out (no entry claims a snapshot),
# an action that ends in error, 423 then success, 120 servers over several
# pages, and the expected-inventory audit (3 unauthorised servers, 1 key).
source "$(dirname "$0")/lib.sh"
STANDIN=${STANDIN:?set STANDIN to the hcloud-standin binary}
DATA=$(cd "$(dirname "$0")/../hcloud_standin" && pwd)

# start_standin NAME [ARGS...]: starts a stand-in, sets ${NAME}_URL.
start_standin() {
  local name=$1
  shift
  (umask 077 && head -c 24 /dev/urandom | base64 >"$T/$name.token")
  "$STANDIN" --token-file "$T/$name.token" --port-file "$T/$name.port" --quiet "$@" \
    >"$T/$name.log" 2>&1 &
  echo $! >"$T/$name.pid"
  for _ in $(seq 1 100); do [[ -s $T/$name.port ]] && break; sleep 0.05; done
  [[ -s $T/$name.port ]] || fail "stand-in $name did not start: $(cat "$T/$name.log")"
  printf -v "${name}_URL" 'http://127.0.0.1:%s' "$(cat "$T/$name.port")"
}
stop_standins() { for p in "$T"/*.pid; do [[ -f $p ]] && kill "$(cat "$p")" 2>/dev/null || true; done; }
trap 'stop_standins; cleanup' EXIT

start_standin api --action-ms 300
export HCLOUD_ENDPOINT=$api_URL/v1 HCLOUD_TOKEN
HCLOUD_TOKEN=$(cat "$T/api.token")
fault() { curl -sf -X POST "$api_URL/__standin/faults" -d "$1" >/dev/null || fail "fault $1"; }
action_fault() { curl -sf -X POST "$api_URL/__standin/action_faults" -d "$1" >/dev/null || fail "action fault $1"; }
api() { curl -sf -H "Authorization: Bearer $HCLOUD_TOKEN" "$HCLOUD_ENDPOINT$1"; }

V=$T/vault
export CUSTODY_VAULT=$V CUSTODY_ACTOR=alice
run_custody init --origin custody.test/hcloud
expect_rc 0 init
run_custody incident open --severity P1 --title "VPS compromised" --json
INC=$(jq -r .id <<<"$OUT")
S1=4294967322 S2=4294967311 S3=58123456

entries() {  # entries TYPE: the fields of every entry of TYPE, one JSON per line
  sqlite3 -readonly "$V/ledger.db" "SELECT CAST(entry AS TEXT) FROM ledger ORDER BY seq" |
    jq -c --arg t "$1" 'select(.type == $t) | .fields'
}

# --- snapshot, happy path --------------------------------------------------
run_custody snapshot --incident "$INC" --server "$S1" --json
expect_rc 0 "snapshot"
image=$(jq -r .image_id <<<"$OUT")
snap_item=$(jq -r .snapshot_item <<<"$OUT")
[[ $(api "/images/$image" | jq -r .image.status) == available ]] || fail "the image exists and is available"
desc=$(api "/images/$image" | jq -r .image.description)
[[ $desc =~ ^forensic-snapshot-$INC-$S1-[0-9]{14}$ ]] || fail "snapshot description: $desc"
[[ $(api "/images/$image" | jq -r '.image.labels["custody/incident"]') == "$INC" ]] || fail "label names the incident"
mapfile -t snaps < <(entries response_action | jq -c 'select(.action == "snapshot")')
[[ ${#snaps[@]} == 2 ]] || fail "snapshot recorded as requested, then success: ${#snaps[@]} entries"
expect_eq "$(jq -r .outcome <<<"${snaps[0]}")" requested "first entry"
expect_eq "$(jq -r .outcome <<<"${snaps[1]}")" success "second entry"
expect_eq "$(jq -r .provider_actions[0].command <<<"${snaps[0]}")" create_image "action recorded"
expect_eq "$(jq -r .resources.image_id <<<"${snaps[1]}")" "$image" "image id recorded"
[[ $(jq '[.exchanges[] | select(.method == "POST" and (.path | test("create_image")))] | length' <<<"${snaps[0]}") == 1 ]] || fail "the create_image request is in the entry"
run_custody log --incident "$INC"
expect_out "| $snap_item: Snapshot ID: $image (cloud_snapshot, hetzner:server/$S1" "runbook snapshot row"
expect_out "| N/A (Hetzner) | alice |" "snapshot hash N/A (Hetzner)"
expect_out "| Hetzner Cloud image $image" "snapshot location"
expect_out "Server disk snapshot" "snapshot notes"
server_item=$(entries collect | jq -r 'select(.original_name == "hetzner-server-'"$S1"'.json") | .item')
[[ -n $server_item ]] || fail "the server's JSON is evidence"
pass "snapshot: requested, polled, recorded as item $snap_item"

# --- 429 then success ------------------------------------------------------
fault "{\"method\":\"GET\",\"path\":\"/v1/servers/$S2\",\"status\":429,\"code\":\"rate_limit_exceeded\",\"reset_after_s\":1}"
run_custody snapshot --incident "$INC" --server "$S2" --json
expect_rc 0 "snapshot after a 429"
last=$(entries response_action | tail -1)
[[ $(jq '[.exchanges[]] | length' <<<"$(entries response_action | jq -c 'select(.action=="snapshot")' | tail -2 | head -1)") -ge 3 ]] || fail "exchanges recorded"
statuses=$(entries response_action | jq -r 'select(.action=="snapshot") | .exchanges[] | select(.path=="/servers/'"$S2"'") | .status' | tr '\n' ' ')
[[ $statuses == "429 200 "* ]] || fail "429 then 200 recorded: $statuses"
pass "429 then success after RateLimit-Reset"

# --- 423 then success ------------------------------------------------------
fault "{\"method\":\"POST\",\"path\":\"/v1/servers/$S3/actions/create_image\",\"status\":423,\"code\":\"locked\",\"message\":\"server is locked\"}"
run_custody snapshot --incident "$INC" --server "$S3" --json
expect_rc 0 "snapshot after a 423"
statuses=$(entries response_action | jq -r 'select(.action=="snapshot") | .exchanges[] | select(.path=="/servers/'"$S3"'/actions/create_image") | .status' | tr '\n' ' ')
[[ $statuses == "423 201 " ]] || fail "423 then 201 recorded: $statuses"
pass "423 locked, then success"

# --- an action that ends in error -------------------------------------------
action_fault '{"command":"create_image","code":"action_failed","message":"disk read error"}'
collects_before=$(entries collect | jq -s 'map(select(.kind=="cloud_snapshot")) | length')
run_custody snapshot --incident "$INC" --server "$S1"
expect_rc 2 "failed action exits non-zero"
expect_err "disk read error" "the action's error is shown"
failed=$(entries response_action | tail -1)
expect_eq "$(jq -r .outcome <<<"$failed")" failed "recorded as a failure"
expect_eq "$(jq -r .provider_actions[0].status <<<"$failed")" error "the action's final state"
[[ $(jq -r .provider_actions[0].error_message <<<"$failed") == "disk read error" ]] || fail "action error recorded"
[[ $(entries collect | jq -s 'map(select(.kind=="cloud_snapshot")) | length') == "$collects_before" ]] || fail "no snapshot item for a failed action"
pass "action error: recorded as failed, exit 2, no snapshot item"

# --- 5xx until retries run out -----------------------------------------------
fault "{\"method\":\"POST\",\"path\":\"/v1/servers/$S2/actions/create_image\",\"count\":99,\"status\":502,\"body\":\"bare\"}"
before=$(entries response_action | wc -l)
run_custody snapshot --incident "$INC" --server "$S2"
expect_rc 2 "5xx until retries run out"
expect_err "gave up after 5 attempts" "clear message"
expect_err "HTTP 502" "names the status"
failed=$(entries response_action | tail -1)
expect_eq "$(jq -r .outcome <<<"$failed")" failed "the failure is recorded"
[[ $(jq '[.exchanges[] | select(.status == 502)] | length' <<<"$failed") == 5 ]] || fail "5 attempts recorded"
[[ $(jq -r '.resources | length' <<<"$failed") == 0 ]] || fail "no image claimed"
[[ $(entries collect | jq -s 'map(select(.kind=="cloud_snapshot")) | length') == "$collects_before" ]] || fail "no snapshot item"
curl -sf -X DELETE "$api_URL/__standin/faults" >/dev/null
pass "5xx: gave up after 5 tries, recorded as failed, no snapshot claimed"

# --- bad token: a clear error, and the token's bytes appear nowhere ----------
secret="custody-e2e-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
HCLOUD_TOKEN=$secret run_custody snapshot --incident "$INC" --server "$S1"
expect_rc 2 "bad token"
expect_err "401" "names the status"
expect_err "unauthorized" "names the API error code"
printf '%s\n' "$secret" >"$T/token-file"
chmod 600 "$T/token-file"
HCLOUD_TOKEN= run_custody inventory --incident "$INC" --token-file "$T/token-file" -vv
expect_rc 2 "bad token file"
if grep -rqaF "$secret" "$V" "$T/.out" "$T/.err" "$T/api.log"; then fail "the token leaked"; fi
if grep -qaF "$secret" <(sqlite3 -readonly "$V/ledger.db" "SELECT CAST(entry AS TEXT) FROM ledger"); then fail "the token is in the ledger"; fi
chmod 644 "$T/token-file"
HCLOUD_TOKEN= run_custody inventory --incident "$INC" --token-file "$T/token-file"
expect_rc 2 "token file readable by others"
expect_err "0644" "names the mode"
run_custody snapshot --incident "$INC" --server "$S1" --token abc
expect_rc 2 "no --token option exists"
pass "bad token: clear error, token bytes nowhere in output, logs or vault"

run_custody snapshot --incident "$INC" --server "$S1" --endpoint http://198.51.100.1/v1
expect_rc 2 "plain http to a remote endpoint is refused"
pass "endpoint validation"

# --- isolate and undo ---------------------------------------------------------
before_fw=$(api "/servers/$S2" | jq -c '[.server.public_net.firewalls[].id]')
run_custody isolate --incident "$INC" --server "$S2" --admin-ip 203.0.113.7 --json
expect_rc 0 "isolate"
expect_err "Connections established before the firewall was applied may survive" "warns about established connections"
fw=$(jq -r .firewall_id <<<"$OUT")
rules=$(api "/firewalls/$fw" | jq -c '.firewall.rules')
[[ $(jq -c '[.[] | select(.direction=="in")] | map({protocol,port,source_ips})' <<<"$rules") == '[{"protocol":"tcp","port":"22","source_ips":["203.0.113.7/32"]}]' ]] || fail "inbound: SSH from the admin only: $rules"
[[ $(jq '[.[] | select(.direction=="out")] | length' <<<"$rules") -ge 1 ]] || fail "an outbound rule closes outbound by default"
# Every directly applied firewall is taken off (their rules would add up with
# the isolation's); one applied by a label selector cannot be, and is named in
# a warning.
for other in $(api "/servers/$S2" | jq -r '.server.public_net.firewalls[].id'); do
  [[ $other == "$fw" ]] && continue
  [[ $(api "/firewalls/$other" | jq -r '.firewall.applied_to[] | select(.type=="server" and .server.id=='"$S2"') | .type') == "" ]] || fail "firewall $other is still applied directly"
  expect_err "$other" "the selector-managed firewall $other is named in a warning"
done
[[ $(api "/servers/$S2" | jq '[.server.public_net.firewalls[].id] | index('"$fw"')') != null ]] || fail "the isolation firewall is applied"
iso=$(entries response_action | tail -1)
expect_eq "$(jq -r .action <<<"$iso")" isolate "recorded as isolate"
expect_eq "$(jq -r .outcome <<<"$iso")" success "isolation succeeded"
run_custody isolate --incident "$INC" --server "$S2" --undo --json
expect_rc 0 "undo"
[[ $(api "/servers/$S2" | jq -c '[.server.public_net.firewalls[].id] | sort') == "$(jq -c sort <<<"$before_fw")" ]] || fail "firewalls restored"
run_custody isolate --incident "$INC" --server "$S2" --admin-ip 0.0.0.0/0
expect_rc 2 "/0 refused"
pass "isolate: SSH from the admin CIDR only, outbound closed, undo restores"

# --- inventory with an expected list ----------------------------------------------
run_custody inventory --incident "$INC" --expected "$DATA/expected_inventory.json" --since 2026-11-29T00:00:00Z --json
expect_rc 1 "unauthorised resources are a finding (exit 1)"
expect_eq "$(jq -r .report.counts.unauthorized_server <<<"$OUT")" 3 "3 planted unauthorised servers"
expect_eq "$(jq -r .report.counts.unknown_ssh_key <<<"$OUT")" 1 "1 unknown SSH key"
ids=$(jq -c '[.report.findings[] | select(.kind=="unauthorized_server") | .id] | sort' <<<"$OUT")
expect_eq "$ids" "[4294969001,4294969002,4294969003]" "the planted servers"
inv=$(entries response_action | tail -1)
expect_eq "$(jq -r .resources.findings.unauthorized_server <<<"$inv")" 3 "counts in the ledger"
[[ $(jq '.evidence | length' <<<"$inv") == 3 ]] || fail "expected list, listing and report stored as evidence"
pass "inventory: 3 unauthorised servers and 1 unknown key found and recorded"

# --- analysis server ------------------------------------------------------------
run_custody analysis-server --incident "$INC" --image "$image" --firewall "$fw" --ssh-key 4294968401 --json
expect_rc 0 "analysis server"
srv=$(jq -r .server_id <<<"$OUT")
[[ $(api "/servers/$srv" | jq -r .server.image.id) == "$image" ]] || fail "built from the snapshot"
[[ $(api "/servers/$srv" | jq -r '.server.labels["custody/incident"]') == "$INC" ]] || fail "labelled"
pass "analysis server from the snapshot"

# --- 120 servers over several pages ------------------------------------------------
start_standin fleet --seed "$DATA/seed_fleet.json"
HCLOUD_ENDPOINT=$fleet_URL/v1 HCLOUD_TOKEN=$(cat "$T/fleet.token") run_custody inventory --incident "$INC" --json
expect_rc 0 "fleet inventory (nothing expected: no findings)"
expect_eq "$(jq -r .counts.servers <<<"$OUT")" 120 "all 120 servers"
pages=$(entries response_action | tail -1 | jq -r '[.exchanges[] | select(.path | startswith("/servers?")) | .path] | length')
[[ $pages -ge 3 ]] || fail "servers listed over several pages: $pages requests"
pass "120 servers over $pages pages"

run_custody incident status "$INC" --to contained
run_custody incident status "$INC" --to resolved
run_custody incident status "$INC" --to closed
run_custody snapshot --incident "$INC" --server "$S1"
expect_rc 2 "closed incident"
expect_err "is closed" "refused on a closed incident"
pass "closed incidents refuse response actions"
