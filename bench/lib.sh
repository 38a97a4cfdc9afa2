# Shared helpers for benchmark scripts (sourced).
# median_time CMD...: runs CMD 3 times, prints the median wall time in seconds.
median_time() {
  local times=() t0 t1
  for _ in 1 2 3; do
    [[ -n ${BENCH_BEFORE:-} ]] && eval "$BENCH_BEFORE"
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}
# row NAME SECONDS BYTES REF_SECONDS: prints a table row with MB/s and the ratio.
row() {
  local mbs ratio
  mbs=$(echo "$3 / $2 / 1000000" | bc -l)
  ratio=$(echo "$4 / $2" | bc -l)
  printf '%-44s %8.2f s %9.0f MB/s %7.2fx\n' "$1" "$2" "$mbs" "$ratio"
}
