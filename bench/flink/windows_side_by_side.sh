#!/usr/bin/env bash
# Benchmarks (d) and (e) side by side: three Brook rounds interleaved with Flink runs
# on one cluster — each Flink cell after two warm-up jobs, then every cell once more.
#
#   bench/flink/windows_side_by_side.sh          (10,000,000 records, 10,000 keys, p 1 and 2)
#
# Env: BROOK (brook binary; default target/release/brook, falling back to
# $CARGO_TARGET_DIR/release/brook), plus lib.sh's FLINK_REST_PORT, FLINK_RPC_PORT, ...
# Prints Brook's table rows and Flink's records_per_cpu_s per run (docs/benchmarks.md,
# "Windows").
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO="$(cd "$BENCH_FLINK_DIR/../.." && pwd)"
BROOK="$(find_brook "$REPO")"

brook_round() {
    log "brook round $1 (load $(cut -d' ' -f1 /proc/loadavg))"
    "$BROOK" bench --scenario d -p 1,2 | grep -E '^\| d'
    "$BROOK" bench --scenario e -p 1,2 | grep -E '^\| e'
}
flink_cell() {
    log "flink $1 p$2 (warm-up runs: $3)"
    WARMUP="$3" "$BENCH_FLINK_DIR/windows.sh" "$1" 10000000 10000 "$2" 2>&1 | grep -E '^records_per_cpu_s|^other_cpu_s'
}

trap stop_own_cluster EXIT
ensure_cluster
brook_round 1
for cell in "tumbling 1" "tumbling 2" "sliding 1" "sliding 2"; do flink_cell $cell 2; done
brook_round 2
for cell in "tumbling 1" "tumbling 2" "sliding 1" "sliding 2"; do flink_cell $cell 0; done
brook_round 3
