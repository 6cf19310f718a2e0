#!/usr/bin/env bash
# Benchmark (b): word count over a text file, BATCH execution mode.
#
#   bench/flink/wordcount.sh FILE [PARALLELISM]
#
# Runs brook.bench.WordCount (java/brook/bench/WordCount.java, a stand-in for
# Flink's bundled streaming WordCount example, whose jar the wheel lacks),
# compiled with javac against the distribution's lib/*.jar, via `bin/flink run`.
# If FILE does not exist it is generated with gen_text.py (SIZE_MB, default 100;
# SEED, default 42). Output goes to a temp dir that is removed afterwards
# (KEEP_OUTPUT=1 keeps it). WARMUP=N runs the job N times first, unmeasured.
# Flink's TextLineInputFormat is not splittable, so one file is read and
# tokenized by ONE source subtask whatever the parallelism; SPLIT_FILES=N first
# splits FILE by lines into N files in a temp dir (not timed) and reads that dir.
# Uses a running cluster (bench/flink/cluster.sh start) or starts and stops one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || { echo "usage: $0 FILE [PARALLELISM]" >&2; exit 2; }
FILE="$1"; PAR="${2:-1}"
WARMUP="${WARMUP:-0}"
# In BATCH mode Flink 2.x uses the adaptive batch scheduler, which by default
# picks each vertex's parallelism from the data volume and ignores -p; turn that
# off so PARALLELISM is what runs (AUTO_PARALLELISM=1 keeps Flink's choice).
BATCH_OPTS="-Dexecution.batch.adaptive.auto-parallelism.enabled=false"
[ "${AUTO_PARALLELISM:-0}" = 1 ] && BATCH_OPTS=""

if [ ! -f "$FILE" ]; then
    log "generating $FILE (${SIZE_MB:-100} MB, seed ${SEED:-42})"
    mkdir -p "$(dirname "$FILE")"
    python3 "$BENCH_FLINK_DIR/gen_text.py" "$FILE" "${SIZE_MB:-100}" --seed "${SEED:-42}" >&2
fi
FILE="$(cd "$(dirname "$FILE")" && pwd)/$(basename "$FILE")"

HOME_DIR="$(flink_home)"
JAR="$(build_jobs "$HOME_DIR")"
WORDS="$(wc -w < "$FILE" | tr -d ' ')"
BYTES="$(stat -c %s "$FILE")"
log "input $FILE: $BYTES bytes, $WORDS words; parallelism $PAR"

OUT_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/brook-flink-wc.XXXXXX")"
INPUT="$FILE"
if [ "${SPLIT_FILES:-1}" -gt 1 ]; then
    mkdir -p "$OUT_ROOT/input"
    split -n "l/$SPLIT_FILES" -d "$FILE" "$OUT_ROOT/input/part-"
    INPUT="$OUT_ROOT/input"
    log "split input into $SPLIT_FILES files in $INPUT"
fi
cleanup() {
    stop_own_cluster
    if [ "${KEEP_OUTPUT:-0}" = 1 ]; then log "output kept in $OUT_ROOT"; else rm -rf "$OUT_ROOT"; fi
}
trap cleanup EXIT
ensure_cluster

for i in $(seq 1 "$WARMUP"); do
    log "warm-up run $i/$WARMUP"
    run_flink_job "$HOME_DIR" -p "$PAR" $BATCH_OPTS -c brook.bench.WordCount "$JAR" \
        --input "$INPUT" --output "$OUT_ROOT/warmup-$i" --execution-mode batch
    rm -rf "$OUT_ROOT/warmup-$i"
done

log "measured run"
run_flink_job "$HOME_DIR" -p "$PAR" $BATCH_OPTS -c brook.bench.WordCount "$JAR" \
    --input "$INPUT" --output "$OUT_ROOT/out" --execution-mode batch

# Verify: every word counted once -> sum of final counts == input word count.
OUT_WORDS="$(find "$OUT_ROOT/out" -type f -name 'part-*' -exec cat {} + \
    | awk -F, '{sub(/\)$/, "", $2); s += $2; n++} END {printf "%d %d", s, n}')"
SUM="${OUT_WORDS% *}"; DISTINCT="${OUT_WORDS#* }"
log "vertices (name, read-records, write-records):"
job_vertices "$RUN_JOB_ID" | sed 's/^/    /' >&2
[ "$SUM" = "$WORDS" ] || log "WARNING: output counts sum to $SUM, input has $WORDS words"

report wordcount "$WORDS" "$PAR" "input_bytes=$BYTES" "distinct_words=$DISTINCT" \
    "output_count_sum=$SUM" "warmup_runs=$WARMUP" "input_files=${SPLIT_FILES:-1}"
