#!/usr/bin/env bash
# custody add of a 1 GiB file (hash + copy into the vault + fsync, one pass)
# beside sha256sum and openssl dgst -sha256 on the same file (hash only), and
# beside a plain durable copy (dd conv=fsync), which bounds any tool that must
# write the bytes to disk. Goal (issue 2): >= 0.9x openssl's throughput.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build=${1:-build}
custody=$build/cli/custody
size_mib=${BENCH_ADD_MIB:-1024}
work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/custody-bench-add.XXXXXX")
trap 'rm -rf "$work"' EXIT
export HOME=$work/home CUSTODY_VAULT=$work/vault CUSTODY_ACTOR=bench
head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$work/evidence.bin"
cat "$work/evidence.bin" >/dev/null # warm the page cache: every tool reads from memory
sync # the new file's own writeback must not compete with the timed writes below
bytes=$(stat -c %s "$work/evidence.bin")
"$custody" init --origin bench.local/add >/dev/null
inc=$("$custody" incident open --severity P3 --title bench)

t_openssl=$(median_time openssl dgst -sha256 "$work/evidence.bin")
t_sha256sum=$(median_time sha256sum "$work/evidence.bin")
BENCH_BEFORE='rm -f "$work/copy.bin"; sync' t_dd=$(median_time dd if="$work/evidence.bin" of="$work/copy.bin" bs=4M conv=fsync status=none)
rm -f "$work/copy.bin"
# custody stores identical content once, so each run gets a fresh vault.
t_custody=$(
  times=()
  for _ in 1 2 3; do
    rm -rf "$CUSTODY_VAULT"
    "$custody" init --origin bench.local/add >/dev/null
    inc=$("$custody" incident open --severity P3 --title bench)
    sync
    t0=$(date +%s.%N)
    "$custody" add "$work/evidence.bin" --incident "$inc" --source bench >/dev/null
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)

echo "add: ${size_mib} MiB file, page cache warm, median of 3 runs; ratio = openssl time / tool time"
printf '%-44s %10s %14s %8s\n' "tool" "time" "throughput" "vs openssl"
row "openssl dgst -sha256 (hash only)" "$t_openssl" "$bytes" "$t_openssl"
row "sha256sum (hash only)" "$t_sha256sum" "$bytes" "$t_openssl"
row "dd bs=4M conv=fsync (durable copy, no hash)" "$t_dd" "$bytes" "$t_openssl"
row "custody add (hash + durable copy + ledger)" "$t_custody" "$bytes" "$t_openssl"
echo "goal: custody add >= 0.90x openssl; bounded by the durable copy (dd) on this disk"
