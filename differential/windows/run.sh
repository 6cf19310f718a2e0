#!/usr/bin/env bash
# Differential check: Brook's and Apache Flink 2.3's event-time window results on
# the same generated input must be identical. Not run in CI; see README.md.
#
#   differential/windows/run.sh
#
# 1. generates the input with gen_input.py (skipped if the file exists);
# 2. builds and runs Brook's side (examples/window-differential, release);
# 3. installs Flink 2.3 (bench/flink/setup.sh), starts a local cluster on REST
#    port $FLINK_REST_PORT (bench/flink/cluster.sh), compiles
#    java/brook/diff/WindowJobs.java with javac against the distribution's
#    lib/*.jar and runs it with `flink run`;
# 4. sorts both sides' lines and compares each output; prints the number of
#    windows on each side and IDENTICAL or the first differences. As a third
#    opinion, reference.py computes each output offline from the definitions;
#    the table says which side it agrees with (it does not change the verdict).
# Exits 1 if any output differs or any record was late, 0 if all are identical.
# The cluster is stopped with cluster.sh stop afterwards (if this script started it).
#
# Env: N (200000 events), SEED (42), KEYS (20), PARALLELISM (2, both engines),
#      INPUT (default $WORK_DIR/events-N-seedSEED-keysKEYS.csv),
#      WORK_DIR (${BROOK_CACHE:-~/.cache/brook}/window-differential),
#      FLINK_REST_PORT (8093), FLINK_RPC_PORT (6133), and bench/flink's other
#      variables (BROOK_CACHE, FLINK_TM_MEMORY, ...).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# Ports of our own, so that a benchmark cluster on 8081/6123 is never touched.
export FLINK_REST_PORT="${FLINK_REST_PORT:-8093}"
export FLINK_RPC_PORT="${FLINK_RPC_PORT:-6133}"
. "$REPO/bench/flink/lib.sh"
export BROOK_CACHE

N="${N:-200000}"
SEED="${SEED:-42}"
KEYS="${KEYS:-20}"
PARALLELISM="${PARALLELISM:-2}"
WORK_DIR="${WORK_DIR:-$BROOK_CACHE/window-differential}"
INPUT="${INPUT:-$WORK_DIR/events-$N-seed$SEED-keys$KEYS.csv}"
OUTPUTS="tumbling-count sliding-max session-sum"

mkdir -p "$WORK_DIR"
if [ ! -f "$INPUT" ]; then
    log "generating $INPUT ($N events, $KEYS keys, seed $SEED)"
    mkdir -p "$(dirname "$INPUT")"
    python3 "$HERE/gen_input.py" "$INPUT" "$N" --seed "$SEED" --keys "$KEYS"
fi
INPUT="$(cd "$(dirname "$INPUT")" && pwd)/$(basename "$INPUT")"
log "input $INPUT: $(wc -l < "$INPUT" | tr -d ' ') events, sha256 $(sha256sum "$INPUT" | cut -c1-16)…"

# ---- Brook -----------------------------------------------------------------
log "building brook-example-window-differential (release)"
(cd "$REPO" && cargo build --release -p brook-example-window-differential >&2)
TARGET_DIR="$(cd "$REPO" && cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
BROOK_OUT="$WORK_DIR/brook"
rm -rf "$BROOK_OUT"
log "running Brook at parallelism $PARALLELISM"
"$TARGET_DIR/release/brook-example-window-differential" \
    --input "$INPUT" --out-dir "$BROOK_OUT" -p "$PARALLELISM" >&2

# ---- Flink -----------------------------------------------------------------
# Compiles WindowJobs.java against the distribution's jars if the jar is stale;
# prints the jar path.
build_window_jobs() {
    local home="$1" out="$BROOK_CACHE/flink-jobs/window-differential"
    local jar="$out/brook-window-differential.jar" newest
    newest="$(find "$HERE/java" -name '*.java' -newer "$jar" 2>/dev/null | head -n 1 || true)"
    if [ ! -f "$jar" ] || [ -n "$newest" ]; then
        log "compiling WindowJobs.java with javac against $home/lib/*"
        rm -rf "$out/classes"; mkdir -p "$out/classes"
        # shellcheck disable=SC2046
        javac -nowarn -encoding UTF-8 --release 11 -cp "$home/lib/*" -d "$out/classes" \
            $(find "$HERE/java" -name '*.java') >&2
        (cd "$out/classes" && jar cf "$jar.tmp" .) && mv "$jar.tmp" "$jar"
    fi
    echo "$jar"
}

FLINK_DIR="$(flink_home)"
JAR="$(build_window_jobs "$FLINK_DIR")"
FLINK_OUT="$WORK_DIR/flink"
rm -rf "$FLINK_OUT"
trap stop_own_cluster EXIT
ensure_cluster
log "running Flink at parallelism $PARALLELISM (REST port $FLINK_REST_PORT)"
run_flink_job "$FLINK_DIR" -p "$PARALLELISM" -c brook.diff.WindowJobs "$JAR" \
    --input "$INPUT" --output "$FLINK_OUT"
log "Flink job ${RUN_JOB_ID:-?} finished in ${RUN_JOB_RUNTIME_MS:-?} ms"
stop_own_cluster
trap - EXIT

# ---- Compare ---------------------------------------------------------------
# Committed part files only; a hidden in-progress file means lost output.
flink_lines() {
    local dir="$FLINK_OUT/$1" pending
    pending="$(find "$dir" -type f -name '.*' 2>/dev/null | head -n 1 || true)"
    [ -z "$pending" ] || die "Flink left an uncommitted part file: $pending"
    find "$dir" -type f -name 'part-*' -exec cat {} + 2>/dev/null || true
}

CMP_DIR="$WORK_DIR/compare"
rm -rf "$CMP_DIR"; mkdir -p "$CMP_DIR"
python3 "$HERE/reference.py" "$INPUT" "$WORK_DIR/reference"
# agrees_with NAME: which engines' sorted output equals the offline reference
agrees_with() {
    local ref="$WORK_DIR/reference/$1.txt" who=""
    cmp -s "$CMP_DIR/$1.brook" "$ref" && who="brook"
    cmp -s "$CMP_DIR/$1.flink" "$ref" && who="${who:+$who+}flink"
    echo "reference = ${who:-neither}"
}
status=0
printf '\n%-15s %10s %10s %10s  %s\n' output brook flink reference result
for name in $OUTPUTS; do
    LC_ALL=C sort "$BROOK_OUT/$name.txt" > "$CMP_DIR/$name.brook"
    flink_lines "$name" | LC_ALL=C sort > "$CMP_DIR/$name.flink"
    nb="$(wc -l < "$CMP_DIR/$name.brook" | tr -d ' ')"
    nf="$(wc -l < "$CMP_DIR/$name.flink" | tr -d ' ')"
    nr="$(wc -l < "$WORK_DIR/reference/$name.txt" | tr -d ' ')"
    if [ "$nb" -gt 0 ] && cmp -s "$CMP_DIR/$name.brook" "$CMP_DIR/$name.flink"; then
        printf '%-15s %10s %10s %10s  %s (%s)\n' "$name" "$nb" "$nf" "$nr" IDENTICAL "$(agrees_with "$name")"
    else
        status=1
        printf '%-15s %10s %10s %10s  %s (%s)\n' "$name" "$nb" "$nf" "$nr" DIFFERENT "$(agrees_with "$name")"
        LC_ALL=C comm -23 "$CMP_DIR/$name.brook" "$CMP_DIR/$name.flink" > "$CMP_DIR/$name.only-brook"
        LC_ALL=C comm -13 "$CMP_DIR/$name.brook" "$CMP_DIR/$name.flink" > "$CMP_DIR/$name.only-flink"
        echo "    $(wc -l < "$CMP_DIR/$name.only-brook") lines only in Brook, first ones:"
        head -n 10 "$CMP_DIR/$name.only-brook" | sed 's/^/      < /'
        echo "    $(wc -l < "$CMP_DIR/$name.only-flink") lines only in Flink, first ones:"
        head -n 10 "$CMP_DIR/$name.only-flink" | sed 's/^/      > /'
    fi
done

# The input is built so that no record is late; a late record would make the
# comparison depend on timing, so it fails the check.
nlb="$(wc -l < "$BROOK_OUT/late.txt" | tr -d ' ')"
nlf="$(flink_lines late | wc -l | tr -d ' ')"
if [ "$nlb" = 0 ] && [ "$nlf" = 0 ]; then
    printf '%-15s %10s %10s %10s  %s\n' "late records" 0 0 - "none, as the input guarantees"
else
    status=1
    printf '%-15s %10s %10s %10s  %s\n' "late records" "$nlb" "$nlf" - "INVARIANT BROKEN: the input must have no late records"
fi
echo
echo "sorted outputs: $CMP_DIR (*.brook, *.flink), reference: $WORK_DIR/reference"
if [ "$status" = 0 ]; then
    echo "RESULT: IDENTICAL (N=$N, seed $SEED, $KEYS keys, parallelism $PARALLELISM)"
else
    echo "RESULT: DIFFERENT (N=$N, seed $SEED, $KEYS keys, parallelism $PARALLELISM)"
fi
exit "$status"
