#!/usr/bin/env bash
# custody verify (issue 3):
#  - entries verified per second on a 100,000-entry ledger, beside the raw
#    Ed25519 verify rate that `openssl speed ed25519` reports for this machine
#    times its cores (every entry costs one signature verification; the rest
#    is canonical JSON, schemas, the rules and the tree). Goal: >= 0.8x.
#  - object re-hash throughput over 2 GiB of objects, beside sha256sum and
#    openssl dgst -sha256 over the same files (single-process tools; custody
#    hashes objects on all cores). Page cache warm for every tool.
# Usage: bench/verify.sh [BUILD_DIR]   (default build/; needs custody and
# custody_bench_vault built). Sizes: BENCH_VERIFY_ENTRIES (100000),
# BENCH_VERIFY_OBJECTS (8) x BENCH_VERIFY_OBJECT_MIB (256); BENCH_VERIFY_PAIRS (7).
set -euo pipefail
build=${1:-build}
custody=$build/cli/custody
maker=$build/bench/custody_bench_vault
for b in "$custody" "$maker"; do
  [[ -x $b ]] || { echo "verify.sh: $b is not built" >&2; exit 2; }
done
entries=${BENCH_VERIFY_ENTRIES:-100000}
objects=${BENCH_VERIFY_OBJECTS:-8}
object_mib=${BENCH_VERIFY_OBJECT_MIB:-256}
pairs=${BENCH_VERIFY_PAIRS:-7}
cores=$(nproc)
work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/custody-bench-verify.XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
calc() { echo "$*" | bc -l; }
median() { sort -n | sed -n 2p; }
# json FILE KEY...: prints a number from custody verify --json output.
json() {
  local file=$1 path=""
  shift
  for k in "$@"; do path+=".$k"; done
  jq -r "$path" "$file"
}
# wall CMD...: prints the wall time of CMD in seconds (output discarded).
wall() {
  local t0 t1
  t0=$(now)
  "$@" >/dev/null
  t1=$(now)
  calc "$t1 - $t0"
}

# --- Entries per second, each run next to its own bound -------------------------
# The host's speed drifts (other tenants), so every custody run is paired
# with `openssl speed ed25519` runs just before and just after it (their mean
# is that run's bound) and the ratio is taken per pair; the table shows the
# medians of BENCH_VERIFY_PAIRS (7) pairs.
"$maker" "$work/ledger" "$entries" 1000 4096 >/dev/null
vault=$work/ledger/vault
cat "$vault/ledger.db" >/dev/null
ed_speed() { openssl speed -seconds 2 "$@" ed25519 2>/dev/null | awk '/Ed25519/ {print $NF}' | tail -1; }
ones=() walls=() phases=() ratio_walls=() ratio_phases=()
for ((pair = 0; pair < pairs; ++pair)); do
  before=$(ed_speed)
  cat "$vault/ledger.db" >/dev/null # this host drops idle page cache within seconds
  t0=$(now)
  "$custody" verify --vault "$vault" --no-rehash --json >"$work/out.json" || {
    echo "verify.sh: the benchmark vault did not verify:" >&2
    cat "$work/out.json" >&2
    exit 1
  }
  t1=$(now)
  one=$(calc "($before + $(ed_speed)) / 2")
  wall_s=$(calc "$t1 - $t0")
  phase_s=$(json "$work/out.json" timing entries_seconds)
  ones+=("$one")
  walls+=("$wall_s")
  phases+=("$phase_s")
  ratio_walls+=("$(calc "$entries / $wall_s / ($one * $cores)")")
  ratio_phases+=("$(calc "$entries / $phase_s / ($one * $cores)")")
done
ed_multi=$(ed_speed -multi "$cores")
median_of_pairs() { sort -g | sed -n "$(((pairs + 1) / 2))p"; }
ed_one=$(printf '%s\n' "${ones[@]}" | median_of_pairs)
bound=$(calc "$ed_one * $cores")
t_wall=$(printf '%s\n' "${walls[@]}" | median_of_pairs)
t_phase=$(printf '%s\n' "${phases[@]}" | median_of_pairs)
rate_wall=$(calc "$entries / $t_wall")
rate_phase=$(calc "$entries / $t_phase")
ratio_wall=$(printf '%s\n' "${ratio_walls[@]}" | median_of_pairs)
ratio_phase=$(printf '%s\n' "${ratio_phases[@]}" | median_of_pairs)
rm -rf "$work/ledger"

# --- Re-hash throughput ---------------------------------------------------------
"$maker" "$work/objects" 100 "$objects" $((object_mib * 1024 * 1024)) >/dev/null
vault=$work/objects/vault
files=("$vault"/objects/sha256/*/*)
bytes=$(cat "${files[@]}" | wc -c)
hash_times=()
for _ in 1 2 3; do
  "$custody" verify --vault "$vault" --json >"$work/out.json"
  hash_times+=("$(json "$work/out.json" timing objects_seconds)")
done
t_rehash=$(printf '%s\n' "${hash_times[@]}" | median)
t_sha256sum=$(for _ in 1 2 3; do wall sha256sum "${files[@]}"; done | median)
t_openssl=$(for _ in 1 2 3; do wall openssl dgst -sha256 "${files[@]}"; done | median)
mbs() { calc "$bytes / $1 / 1000000"; }

echo "verify: ${entries}-entry ledger (custody verify --no-rehash; medians of $pairs runs, each between two openssl speed runs, ratio per run), $((objects * object_mib)) MiB in $objects objects (page cache warm, median of 3); $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if (($(calc "$ed_multi < 0.8 * $bound"))); then
  echo "note: openssl speed -multi $cores reached only $(printf '%.0f' "$ed_multi")/s of $(printf '%.0f' "$bound")/s: the machine is busy, figures are low"
fi
printf '%-46s %-44s %14s %7s %8s\n' "measure" "reference" "figure" "ratio" "goal"
printf '%-46s %-44s %12.0f/s %6.2fx %8s\n' "entries verified/s (whole run, wall clock)" \
  "$(printf 'openssl speed ed25519 %.0f verify/s x %d' "$ed_one" "$cores")" "$rate_wall" \
  "$ratio_wall" ">=0.80x"
printf '%-46s %-44s %12.0f/s %6.2fx %8s\n' "entries verified/s (ledger pass only)" \
  "$(printf 'openssl speed ed25519 %.0f verify/s x %d' "$ed_one" "$cores")" "$rate_phase" \
  "$ratio_phase" ">=0.80x"
printf '%-46s %-44s %12.0f/s %6.2fx %8s\n' "entries verified/s (ledger pass only)" \
  "$(printf 'openssl speed -multi %d ed25519: %.0f/s' "$cores" "$ed_multi")" "$rate_phase" \
  "$(calc "$rate_phase / $ed_multi")" "-"
printf '%-46s %-44s %9.0f MB/s %6.2fx %8s\n' "re-hash throughput (custody verify)" \
  "$(printf 'sha256sum, 1 process: %.0f MB/s' "$(mbs "$t_sha256sum")")" "$(mbs "$t_rehash")" \
  "$(calc "$t_sha256sum / $t_rehash")" ">=1x"
printf '%-46s %-44s %9.0f MB/s %6.2fx %8s\n' "re-hash throughput (custody verify)" \
  "$(printf 'openssl dgst -sha256, 1 process: %.0f MB/s' "$(mbs "$t_openssl")")" "$(mbs "$t_rehash")" \
  "$(calc "$t_openssl / $t_rehash")" ">=1x"
range() { sort -g | sed -n '1p;$p' | xargs printf '%.2f-%.2f'; }
echo "per-pair ratios, lowest-highest: whole run $(printf '%s\n' "${ratio_walls[@]}" | range)x," \
  "ledger pass $(printf '%s\n' "${ratio_phases[@]}" | range)x"
