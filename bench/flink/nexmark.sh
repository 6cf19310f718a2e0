#!/usr/bin/env bash
# Nexmark side by side: Brook and Apache Flink 2.3 over the same exported events.
#
#   bench/flink/nexmark.sh [EVENTS] [PARALLELISM] [QUERIES]     (5000000 2 q0,q1,q2,q5,q7,q8)
#
# 1. `brook nexmark gen` writes EVENTS events (seed 0, first-event.rate $RATE) to
#    $BROOK_CACHE/nexmark-data-EVENTS-RATE/{person,auction,bid}.csv (kept; reused).
# 2. Brook: `brook bench nexmark --input DIR -p PARALLELISM` (blackhole sinks), each
#    query in a fresh process; CPU = that process's user+system time.
# 3. Flink: each query as Flink SQL (SPEC §3 text) over three filesystem/CSV tables
#    person, auction, bid with `dateTime` = the epoch-ms column as TIMESTAMP(3) (UTC)
#    and WATERMARK dateTime - 4 s, blackhole sinks, mini-batch 2 s / 50,000 rows and
#    split distinct aggregation as in the Nexmark repo; CPU = TaskManager process CPU.
# 4. Both engines run the queries in $COMPARE again with file sinks (Flink with
#    checkpoints every 2 s into $WORK so its file sink commits) and the sorted rows are compared.
# Prints one table: events/CPU-s of each engine and their ratio (Brook / Flink).
#
# Env: BROOK (brook binary; default target/release/brook, falling back to
# $CARGO_TARGET_DIR/release/brook), RATE (100000), COMPARE (q5,q7,q8), KEEP_DATA (1),
# plus lib.sh's FLINK_REST_PORT, FLINK_RPC_PORT, FLINK_TM_MEMORY, ...
set -euo pipefail
. "$(dirname "$0")/lib.sh"

EVENTS="${1:-5000000}"; PAR="${2:-2}"; QUERIES="${3:-q0,q1,q2,q5,q7,q8}"
RATE="${RATE:-100000}"
COMPARE="${COMPARE:-q5,q7,q8}"
KEEP_DATA="${KEEP_DATA:-1}"
REPO="$(cd "$BENCH_FLINK_DIR/../.." && pwd)"
BROOK="$(find_brook "$REPO")"

DATA="$BROOK_CACHE/nexmark-data-$EVENTS-$RATE"
WORK="$(mktemp -d /tmp/brook-nexmark-XXXXXX)"
cleanup() {
    stop_own_cluster
    rm -rf "$WORK"
    if [ "$KEEP_DATA" != 1 ]; then rm -rf "$DATA"; fi
}
trap cleanup EXIT

if [ ! -f "$DATA/bid.csv" ]; then
    log "generating $EVENTS events into $DATA"
    "$BROOK" nexmark gen --events "$EVENTS" --seed 0 -D "first-event.rate=$RATE" --out "$DATA" >&2
fi

# ---------------------------------------------------------------- Flink SQL text
ddl() { # DIR
    cat <<SQL
SET 'table.local-time-zone' = 'UTC';
SET 'table.exec.mini-batch.enabled' = 'true';
SET 'table.exec.mini-batch.allow-latency' = '2s';
SET 'table.exec.mini-batch.size' = '50000';
SET 'table.optimizer.distinct-agg.split.enabled' = 'true';
CREATE TABLE person (
    id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR, city VARCHAR, state VARCHAR,
    dateTimeMs BIGINT, extra VARCHAR,
    dateTime AS CAST(TO_TIMESTAMP_LTZ(dateTimeMs, 3) AS TIMESTAMP(3)),
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH ('connector' = 'filesystem', 'path' = '$1/person.csv', 'format' = 'csv');
CREATE TABLE auction (
    id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT, reserve BIGINT,
    dateTimeMs BIGINT, expiresMs BIGINT, seller BIGINT, category BIGINT, extra VARCHAR,
    dateTime AS CAST(TO_TIMESTAMP_LTZ(dateTimeMs, 3) AS TIMESTAMP(3)),
    expires AS CAST(TO_TIMESTAMP_LTZ(expiresMs, 3) AS TIMESTAMP(3)),
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH ('connector' = 'filesystem', 'path' = '$1/auction.csv', 'format' = 'csv');
CREATE TABLE bid (
    auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
    dateTimeMs BIGINT, extra VARCHAR,
    dateTime AS CAST(TO_TIMESTAMP_LTZ(dateTimeMs, 3) AS TIMESTAMP(3)),
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH ('connector' = 'filesystem', 'path' = '$1/bid.csv', 'format' = 'csv');
SQL
}

sink_columns() { # QUERY
    case "$1" in
        q0) echo "auction BIGINT, bidder BIGINT, price BIGINT, dateTime TIMESTAMP(3), extra VARCHAR" ;;
        q1) echo "auction BIGINT, bidder BIGINT, price DECIMAL(23, 3), dateTime TIMESTAMP(3), extra VARCHAR" ;;
        q2) echo "auction BIGINT, price BIGINT" ;;
        q5) echo "auction BIGINT, num BIGINT" ;;
        # The SELECT's order (SPEC §2.11 quirk 2: the repo's sink names price and bidder the other way round).
        q7) echo "auction BIGINT, price BIGINT, bidder BIGINT, dateTime TIMESTAMP(3), extra VARCHAR" ;;
        q8) echo "id BIGINT, name VARCHAR, stime TIMESTAMP(3)" ;;
        *) die "no Flink SQL for $1 in this script (it has q0 q1 q2 q5 q7 q8)" ;;
    esac
}

query_sql() { # QUERY
    case "$1" in
        q0) echo "INSERT INTO nexmark_q0 SELECT auction, bidder, price, dateTime, extra FROM bid" ;;
        q1) echo "INSERT INTO nexmark_q1 SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid" ;;
        q2) echo "INSERT INTO nexmark_q2 SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0" ;;
        q5) cat <<'SQL' ;;
INSERT INTO nexmark_q5
SELECT AuctionBids.auction, AuctionBids.num
FROM (
    SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
    FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
    GROUP BY auction, window_start, window_end
) AS AuctionBids
JOIN (
    SELECT MAX(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
    FROM (
        SELECT COUNT(*) AS num, window_start AS starttime, window_end AS endtime
        FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
        GROUP BY auction, window_start, window_end
    ) AS CountBids
    GROUP BY CountBids.starttime, CountBids.endtime
) AS MaxBids
ON AuctionBids.starttime = MaxBids.starttime
AND AuctionBids.endtime = MaxBids.endtime
AND AuctionBids.num >= MaxBids.maxn
SQL
        q7) cat <<'SQL' ;;
INSERT INTO nexmark_q7
SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
FROM bid B
JOIN (
    SELECT MAX(price) AS maxprice, window_end AS dateTime
    FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
    GROUP BY window_start, window_end
) B1
ON B.price = B1.maxprice
WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime
SQL
        q8) cat <<'SQL' ;;
INSERT INTO nexmark_q8
SELECT P.id, P.name, P.starttime
FROM (
    SELECT id, name, window_start AS starttime, window_end AS endtime
    FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
    GROUP BY id, name, window_start, window_end
) P
JOIN (
    SELECT seller, window_start AS starttime, window_end AS endtime
    FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
    GROUP BY seller, window_start, window_end
) A
ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime
SQL
    esac
}

write_sql() { # QUERY FILE [OUTDIR]: blackhole sink, or a CSV file sink into OUTDIR
    local q="$1" file="$2" out="${3:-}"
    {
        ddl "$DATA"
        if [ -n "$out" ]; then
            echo "SET 'execution.checkpointing.interval' = '2s';"
            echo "SET 'execution.checkpointing.storage' = 'filesystem';"
            echo "SET 'execution.checkpointing.dir' = 'file://$WORK/flink-checkpoints';"
            echo "SET 'execution.checkpointing.tolerable-failed-checkpoints' = '100';"
            echo "CREATE TABLE nexmark_$q ($(sink_columns "$q")) WITH ('connector' = 'filesystem', 'path' = '$out', 'format' = 'csv');"
        else
            echo "CREATE TABLE nexmark_$q ($(sink_columns "$q")) WITH ('connector' = 'blackhole');"
        fi
        query_sql "$q"
        echo ";"
    } | sed 's/\bdateTime\b/`dateTime`/g' >"$file"  # DATETIME is a keyword of Flink 2's parser
}

# ---------------------------------------------------------------- Brook
log "brook: $BROOK bench nexmark --input $DATA --queries $QUERIES -p $PAR"
"$BROOK" bench nexmark --input "$DATA" --queries "$QUERIES" -p "$PAR" --json "$WORK/brook.json" >"$WORK/brook.md"
cat "$WORK/brook.md" >&2
if [ -n "$COMPARE" ]; then
    log "brook: rows of $COMPARE into $WORK/brook-out"
    "$BROOK" bench nexmark --input "$DATA" --queries "$COMPARE" -p "$PAR" --output "$WORK/brook-out" >/dev/null
fi

# ---------------------------------------------------------------- Flink
HOME_DIR="$(flink_home)"
JAR="$(build_jobs "$HOME_DIR")"
ensure_cluster
TOTAL_EVENTS="$(cat "$DATA"/person.csv "$DATA"/auction.csv "$DATA"/bid.csv | wc -l)"
: >"$WORK/flink.jsonl"
IFS=',' read -r -a QS <<<"$QUERIES"
for q in "${QS[@]}"; do
    write_sql "$q" "$WORK/$q.sql"
    log "flink: $q at parallelism $PAR"
    tm="$(alive_pids $(tm_pids))"
    t0="$(cpu_ticks $tm)"
    run_flink_job "$HOME_DIR" -p "$PAR" -c brook.bench.NexmarkSql "$JAR" --sql "$WORK/$q.sql"
    t1="$(cpu_ticks $tm)"
    TM_CPU_S="$(calc "($t1 - $t0) / $CLK_TCK")"
    report "nexmark_$q" "$TOTAL_EVENTS" "$PAR" "query=$q" "tm_cpu_s=$TM_CPU_S" >"$WORK/$q.report"
    sed -n 's/^RESULT //p' "$WORK/$q.report" >>"$WORK/flink.jsonl"
    grep -v '^RESULT ' "$WORK/$q.report" | sed 's/^/    /' >&2
done
IFS=',' read -r -a CS <<<"$COMPARE"
for q in "${CS[@]}"; do
    [ -n "$q" ] || continue
    write_sql "$q" "$WORK/$q-out.sql" "$WORK/flink-out/$q"
    log "flink: rows of $q into $WORK/flink-out/$q"
    run_flink_job "$HOME_DIR" -p "$PAR" -c brook.bench.NexmarkSql "$JAR" --sql "$WORK/$q-out.sql"
done

# ---------------------------------------------------------------- side by side
"$(venv_python)" - "$WORK" "$TOTAL_EVENTS" "$PAR" "$COMPARE" "$DATA" <<'PY'
import csv, datetime, glob, json, os, re, sys
work, events, par, compare, data = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
brook = {r["job"]: r for r in json.load(open(f"{work}/brook.json"))["runs"]}
flink = {}
for line in open(f"{work}/flink.jsonl"):
    r = json.loads(line); flink[r["query"]] = r
print(f"Nexmark side by side: {events:,} events from {data}, parallelism {par}")
print()
print("| query | Brook events/CPU-s | Brook CPU s | Brook wall s | Flink events/CPU-s (TM) | Flink TM CPU s | Flink wall s | ratio |")
print("|---|--:|--:|--:|--:|--:|--:|--:|")
for q in flink:
    b, f = brook.get(q), flink[q]
    f_cpu = float(f["tm_cpu_s"]); f_rate = events / f_cpu if f_cpu else 0
    b_rate = b["records_per_cpu_sec"] if b else 0
    ratio = f"{b_rate / f_rate:.1f}x" if f_rate and b_rate else "–"
    print(f"| {q} | {b_rate:,.0f} | {b['cpu_secs']:.2f} | {b['wall_secs']:.2f} | {f_rate:,.0f} | {f_cpu:.2f} | {f['wall_s']:.2f} | {ratio} |")
print()
TS = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$")
def norm(v):
    if TS.match(v):
        t = datetime.datetime.fromisoformat(v.replace(" ", "T")).replace(tzinfo=datetime.timezone.utc)
        return str(int(round(t.timestamp() * 1000)))
    return v
def rows(paths):
    out = []
    for p in paths:
        with open(p, newline="") as fh:
            out.extend(tuple(norm(v) for v in row) for row in csv.reader(fh))
    return sorted(out)
for q in [c for c in compare.split(",") if c]:
    b = rows([f"{work}/brook-out/{q}.csv"])
    fpaths = [p for p in glob.glob(f"{work}/flink-out/{q}/**", recursive=True)
              if os.path.isfile(p) and not os.path.basename(p).startswith(".")]
    f = rows(fpaths)
    if b == f:
        print(f"{q}: identical ({len(b)} rows)")
    else:
        only_b = sorted(set(b) - set(f))[:3]; only_f = sorted(set(f) - set(b))[:3]
        print(f"{q}: DIFFERENT: Brook {len(b)} rows, Flink {len(f)} rows; only Brook e.g. {only_b}; only Flink e.g. {only_f}")
PY
