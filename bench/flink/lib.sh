# Shared helpers for the bench/flink scripts. Source it, don't run it.
# shellcheck shell=bash

BENCH_FLINK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BROOK_CACHE="${BROOK_CACHE:-$HOME/.cache/brook}"
FLINK_VENV="$BROOK_CACHE/flink-venv"
FLINK_REST_PORT="${FLINK_REST_PORT:-8081}"
FLINK_RPC_PORT="${FLINK_RPC_PORT:-6123}"
# One private run dir (conf/, log/, pid/, tmp/) per REST port so that two
# clusters on different ports never share state.
FLINK_RUN_DIR="${FLINK_RUN_DIR:-$BROOK_CACHE/flink-run-$FLINK_REST_PORT}"
CLK_TCK="$(getconf CLK_TCK)"

die() { echo "error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# The brook binary: $BROOK, else REPO/target/release/brook, else $CARGO_TARGET_DIR/release/brook.
find_brook() {
    local repo="$1" b
    if [ -n "${BROOK:-}" ]; then
        [ -x "$BROOK" ] || die "BROOK=$BROOK is not an executable"
        echo "$BROOK"; return
    fi
    for b in "$repo/target/release/brook" "${CARGO_TARGET_DIR:-/nonexistent}/release/brook"; do
        [ -x "$b" ] && { echo "$b"; return; }
    done
    die "no brook binary: build with 'cargo build --release -p brook' or set BROOK"
}

# Prints the Flink distribution dir (pyflink package folder); installs if needed.
flink_home() {
    if [ -n "${FLINK_HOME:-}" ] && [ -x "$FLINK_HOME/bin/flink" ]; then
        echo "$FLINK_HOME"; return
    fi
    local d
    d="$(ls -d "$FLINK_VENV"/lib/python3*/site-packages/pyflink 2>/dev/null | head -n 1 || true)"
    if [ -z "$d" ] || [ ! -x "$d/bin/flink" ]; then
        d="$("$BENCH_FLINK_DIR/setup.sh")"
    fi
    echo "$d"
}

venv_python() { echo "$FLINK_VENV/bin/python"; }

# PIDs of the running JobManager / TaskManager JVMs (from Flink's pid files).
jm_pids() { cat "$FLINK_RUN_DIR"/pid/flink-*-standalonesession.pid 2>/dev/null || true; }
tm_pids() { cat "$FLINK_RUN_DIR"/pid/flink-*-taskexecutor.pid 2>/dev/null || true; }
alive_pids() { local p; for p in "$@"; do [ -d "/proc/$p" ] && echo "$p"; done; true; }

# Sum of utime+stime (clock ticks) of the given PIDs (all threads; children of
# the JVMs are not counted — Flink's Java jobs start none).
cpu_ticks() {
    local total=0 p rest
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] || continue
        # fields after the ") " that closes comm: state is field 3, utime 14, stime 15
        rest="$(sed 's/^.*) //' "/proc/$p/stat")"
        # shellcheck disable=SC2086
        set -- $rest
        total=$(( total + ${12} + ${13} ))
    done
    echo "$total"
}

# VmHWM (peak RSS) of a PID in kB.
vm_hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
vm_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Busy clock ticks of the whole machine (all CPUs) from /proc/stat.
machine_busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }

rest_url() { echo "http://127.0.0.1:$FLINK_REST_PORT"; }

# GET a REST path, print the body (empty + non-zero exit on failure).
rest_get() {
    "$(venv_python)" - "$(rest_url)$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        sys.stdout.write(r.read().decode())
except Exception as e:
    sys.exit(1)
PY
}

# Floating-point helper: calc 'expr' -> prints with 3 decimals.
calc() { "$(venv_python)" -c "print(f'{($1):.3f}')"; }

# Builds bench jobs jar (javac against the distribution's lib/ jars) if stale.
# Prints the jar path.
build_jobs() {
    local home="$1"
    local out="$BROOK_CACHE/flink-jobs"
    local jar="$out/brook-flink-bench.jar"
    local src_dir="$BENCH_FLINK_DIR/java"
    local newest
    newest="$(find "$src_dir" -name '*.java' -newer "$jar" 2>/dev/null | head -n 1 || true)"
    if [ ! -f "$jar" ] || [ -n "$newest" ]; then
        log "compiling bench jobs with javac against $home/lib/*"
        rm -rf "$out/classes"; mkdir -p "$out/classes"
        # shellcheck disable=SC2046
        javac -nowarn -encoding UTF-8 --release 11 -cp "$home/lib/*" -d "$out/classes" \
            $(find "$src_dir" -name '*.java') >&2
        (cd "$out/classes" && jar cf "$jar.tmp" .) && mv "$jar.tmp" "$jar"
    fi
    echo "$jar"
}

# Runs `flink run` on the jar/class with args; parses JobID and Job Runtime.
# Sets globals: RUN_WALL_S, RUN_JOB_ID, RUN_JOB_RUNTIME_MS, RUN_CLIENT_CPU_S,
# RUN_CLUSTER_CPU_S, RUN_TM_HWM_KB (max over TMs), RUN_JM_HWM_KB,
# RUN_MACHINE_CPU_S (busy CPU of the whole machine), RUN_LOAD_BEFORE/AFTER
run_flink_job() {
    local home="$1"; shift
    local pids tm jm t0 t1 c0 c1 outf timef
    jm="$(alive_pids $(jm_pids))"; tm="$(alive_pids $(tm_pids))"
    [ -n "$jm" ] && [ -n "$tm" ] || die "no running cluster (bench/flink/cluster.sh start)"
    pids="$jm $tm"
    outf="$(mktemp)"; timef="$(mktemp)"
    RUN_LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)"
    local m0 m1
    m0="$(machine_busy_ticks)"
    c0="$(cpu_ticks $pids)"
    t0="$(date +%s.%N)"
    set +e
    times >"$timef"
    FLINK_CONF_DIR="$FLINK_RUN_DIR/conf" FLINK_LOG_DIR="$FLINK_RUN_DIR/log" \
        "$home/bin/flink" run "$@" >"$outf" 2>&1
    local rc=$?
    times >>"$timef"
    set -e
    t1="$(date +%s.%N)"
    c1="$(cpu_ticks $pids)"
    m1="$(machine_busy_ticks)"
    RUN_LOAD_AFTER="$(cut -d' ' -f1 /proc/loadavg)"
    if [ $rc -ne 0 ]; then
        cat "$outf" >&2; rm -f "$outf" "$timef"; die "flink run failed (rc=$rc)"
    fi
    RUN_JOB_ID="$(sed -n 's/.*JobID \([0-9a-f]\{32\}\).*/\1/p' "$outf" | head -n 1)"
    RUN_JOB_RUNTIME_MS="$(sed -n 's/^Job Runtime: \([0-9]*\) ms.*/\1/p' "$outf" | head -n 1)"
    RUN_WALL_S="$(calc "$t1 - $t0")"
    RUN_CLUSTER_CPU_S="$(calc "($c1 - $c0) / $CLK_TCK")"
    RUN_MACHINE_CPU_S="$(calc "($m1 - $m0) / $CLK_TCK")"
    # `times` line 2 and 4 = children user/sys, formatted like 1m2.345s
    RUN_CLIENT_CPU_S="$(awk 'function s(x){sub(/s$/,"",x); split(x,a,"m"); return a[1]*60+a[2]}
        NR==2 {b=s($1)+s($2)} NR==4 {e=s($1)+s($2)} END {printf "%.3f", e-b}' "$timef")"
    local p h
    RUN_TM_HWM_KB=0
    for p in $tm; do h="$(vm_hwm_kb "$p")"; [ "$h" -gt "$RUN_TM_HWM_KB" ] && RUN_TM_HWM_KB="$h"; done
    RUN_JM_HWM_KB="$(vm_hwm_kb $jm)"
    RUN_OUTPUT="$(cat "$outf")"
    rm -f "$outf" "$timef"
}

# Start a cluster unless one is already running; sets STARTED_CLUSTER=1 if we
# started it (the caller then stops it via stop_own_cluster on exit).
STARTED_CLUSTER=0
ensure_cluster() {
    if [ -n "$(alive_pids $(jm_pids))" ] && [ -n "$(alive_pids $(tm_pids))" ]; then
        log "reusing running cluster ($("$BENCH_FLINK_DIR/cluster.sh" pids)); TM peak RSS then covers its whole life"
    else
        "$BENCH_FLINK_DIR/cluster.sh" start >&2
        STARTED_CLUSTER=1
    fi
}
stop_own_cluster() {
    if [ "$STARTED_CLUSTER" = 1 ]; then "$BENCH_FLINK_DIR/cluster.sh" stop >&2 || true; fi
}

# Prints per-vertex "read-records/write-records" of a finished job as
# "name<TAB>read<TAB>write" lines.
job_vertices() {
    local body
    body="$(rest_get "/jobs/$1")" || return 0
    "$(venv_python)" - "$body" <<'PY2'
import json, sys
j = json.loads(sys.argv[1])
for v in j.get("vertices", []):
    m = v.get("metrics", {})
    print("%s\t%s\t%s\tp=%s" % (v["name"], m.get("read-records", 0), m.get("write-records", 0), v.get("parallelism")))
PY2
}


# report NAME RECORDS PARALLELISM [extra key=value ...]: prints the figures of
# the last run_flink_job, human readable and as one "RESULT {json}" line.
report() {
    local name="$1" records="$2" par="$3"; shift 3
    "$(venv_python)" - "$name" "$records" "$par" "$RUN_WALL_S" "${RUN_JOB_RUNTIME_MS:-0}" \
        "$RUN_CLUSTER_CPU_S" "$RUN_CLIENT_CPU_S" "$RUN_TM_HWM_KB" "$RUN_JM_HWM_KB" "${RUN_JOB_ID:-}" \
        "$RUN_MACHINE_CPU_S" "$RUN_LOAD_BEFORE" "$RUN_LOAD_AFTER" "$@" <<'PY'
import json, sys
name, records, par, wall, rt_ms, cpu, client_cpu, tm_hwm, jm_hwm, jid, mcpu, l0, l1, *extra = sys.argv[1:]
records = int(records); wall = float(wall); rt = int(rt_ms) / 1000.0; cpu = float(cpu)
r = {
    "benchmark": name, "parallelism": int(par), "records": records,
    "wall_s": round(wall, 3), "job_runtime_s": round(rt, 3),
    "cluster_cpu_s": round(cpu, 3), "client_cpu_s": float(client_cpu),
    "records_per_s_wall": round(records / wall) if wall else None,
    "records_per_s_job": round(records / rt) if rt else None,
    "records_per_cpu_s": round(records / cpu) if cpu else None,
    "tm_peak_rss_mb": round(int(tm_hwm) / 1024, 1), "jm_peak_rss_mb": round(int(jm_hwm) / 1024, 1),
    # CPU burnt by everything else on the machine while the job ran: if this is
    # large the figures above are contaminated by other load.
    "other_cpu_s": round(float(mcpu) - cpu - float(client_cpu), 1),
    "loadavg_1m_before_after": f"{l0}/{l1}",
    "job_id": jid,
}
for kv in extra:
    k, v = kv.split("=", 1)
    r[k] = v
w = max(len(k) for k in r)
for k, v in r.items():
    print(f"{k:<{w}}  {v}")
print("RESULT " + json.dumps(r))
PY
}
