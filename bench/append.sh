#!/usr/bin/env bash
# Durable appends per second for 10,000 entries, one entry per transaction and
# in batches of 100, beside raw SQLite doing the same number of durable inserts
# of rows of the same size with the same settings (WAL, synchronous=FULL) via
# the sqlite3 shell: the floor cost of a durable commit on this disk. custody
# adds canonical encoding, schema and rule checks, an Ed25519 signature and
# projection rows per entry.
set -euo pipefail
build=${1:-build}
n=${BENCH_APPEND_N:-10000}
work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/custody-bench-append.XXXXXX")
trap 'rm -rf "$work"' EXIT

read -r _ _ c_single_s c_single_rate < <("$build/bench/custody_bench_append" "$work" "$n" 100 | grep '^single')
rm -rf "$work"/*
read -r _ _ c_batch_s c_batch_rate < <("$build/bench/custody_bench_append" "$work" "$n" 100 | grep '^batched')

payload=$(printf 'x%.0s' $(seq 1 700))
sqlite_run() {  # sqlite_run BATCH
  local db=$work/raw.db batch=$1
  rm -f "$db"*
  {
    echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    echo "CREATE TABLE t (seq INTEGER PRIMARY KEY, entry BLOB, leaf BLOB, sig BLOB);"
    for ((i = 0; i < n; i++)); do
      ((i % batch == 0)) && echo "BEGIN IMMEDIATE;"
      echo "INSERT INTO t VALUES ($i, '$payload', randomblob(32), randomblob(64));"
      (((i + 1) % batch == 0 || i + 1 == n)) && echo "COMMIT;"
    done
  } >"$work/script.sql"
  local t0 t1
  t0=$(date +%s.%N)
  sqlite3 "$db" <"$work/script.sql" >/dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
s_single=$(sqlite_run 1)
s_batch=$(sqlite_run 100)
rate() { echo "$n / $1" | bc -l; }

echo "append: $n entries, durable (WAL, synchronous=FULL)"
printf '%-52s %9s %12s\n' "writer" "time" "entries/s"
printf '%-52s %8.2fs %12.0f\n' "sqlite3 shell, raw rows, 1 per transaction" "$s_single" "$(rate "$s_single")"
printf '%-52s %8.2fs %12.0f\n' "custody ledger, 1 entry per transaction" "$c_single_s" "$c_single_rate"
printf '%-52s %8.2fs %12.0f\n' "sqlite3 shell, raw rows, 100 per transaction" "$s_batch" "$(rate "$s_batch")"
printf '%-52s %8.2fs %12.0f\n' "custody ledger, 100 entries per transaction" "$c_batch_s" "$c_batch_rate"
