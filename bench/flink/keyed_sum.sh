#!/usr/bin/env bash
# Benchmark (c): keyed rolling sum, STREAMING mode, every update emitted.
#
#   bench/flink/keyed_sum.sh [N_RECORDS] [N_KEYS] [PARALLELISM]   (10000000 100000 1)
#
# Runs brook.bench.KeyedSum (java/brook/bench/KeyedSum.java, a DataStream job
# compiled with javac against the distribution's lib/*.jar):
#   fromSequence(0, N-1) -> map(i -> (i % N_KEYS, 1L)) -> keyBy(f0) -> sum(1) -> DiscardingSink
# Keys and values are Java longs (BIGINT). WARMUP=N runs the job N times first.
# Uses a running cluster (bench/flink/cluster.sh start) or starts and stops one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

N="${1:-10000000}"; KEYS="${2:-100000}"; PAR="${3:-1}"
WARMUP="${WARMUP:-0}"

HOME_DIR="$(flink_home)"
JAR="$(build_jobs "$HOME_DIR")"
trap stop_own_cluster EXIT
ensure_cluster

for i in $(seq 1 "$WARMUP"); do
    log "warm-up run $i/$WARMUP"
    run_flink_job "$HOME_DIR" -p "$PAR" -c brook.bench.KeyedSum "$JAR" --records "$N" --keys "$KEYS"
done

log "measured run: $N records, $KEYS keys, parallelism $PAR"
run_flink_job "$HOME_DIR" -p "$PAR" -c brook.bench.KeyedSum "$JAR" --records "$N" --keys "$KEYS"

log "vertices (name, read-records, write-records):"
job_vertices "$RUN_JOB_ID" | sed 's/^/    /' >&2

report keyed_sum "$N" "$PAR" "keys=$KEYS" "warmup_runs=$WARMUP"
