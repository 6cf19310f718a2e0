#!/usr/bin/env bash
# Benchmarks (d) and (e): keyed event-time windows, STREAMING mode.
#
#   bench/flink/windows.sh MODE [N_RECORDS] [N_KEYS] [PARALLELISM]   (MODE tumbling|sliding; 10000000 10000 1)
#
# Runs brook.bench.Windows (java/brook/bench/Windows.java, a DataStream job
# compiled with javac against the distribution's lib/*.jar):
#   fromSequence(0, N-1) -> map(i -> (i % K, ts = i / 10, v = (i * 7919) % 1000))
#   -> forMonotonousTimestamps (ts) -> keyBy(f0)
#   -> tumbling: TumblingEventTimeWindows.of(10 s) -> aggregate(count)   -> DiscardingSink
#   -> sliding:  SlidingEventTimeWindows.of(10 s, 2 s) -> reduce(max v) -> DiscardingSink
# WARMUP=N runs the job N times first.
# Uses a running cluster (bench/flink/cluster.sh start) or starts and stops one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MODE="${1:?usage: windows.sh tumbling|sliding [N_RECORDS] [N_KEYS] [PARALLELISM]}"
N="${2:-10000000}"; KEYS="${3:-10000}"; PAR="${4:-1}"
WARMUP="${WARMUP:-0}"
case "$MODE" in tumbling|sliding) ;; *) die "MODE must be tumbling or sliding, not $MODE" ;; esac

HOME_DIR="$(flink_home)"
JAR="$(build_jobs "$HOME_DIR")"
trap stop_own_cluster EXIT
ensure_cluster

for i in $(seq 1 "$WARMUP"); do
    log "warm-up run $i/$WARMUP"
    run_flink_job "$HOME_DIR" -p "$PAR" -c brook.bench.Windows "$JAR" --mode "$MODE" --records "$N" --keys "$KEYS"
done

log "measured run: $MODE, $N records, $KEYS keys, parallelism $PAR"
run_flink_job "$HOME_DIR" -p "$PAR" -c brook.bench.Windows "$JAR" --mode "$MODE" --records "$N" --keys "$KEYS"

log "vertices (name, read-records, write-records):"
job_vertices "$RUN_JOB_ID" | sed 's/^/    /' >&2

report "windows_$MODE" "$N" "$PAR" "keys=$KEYS" "warmup_runs=$WARMUP"
