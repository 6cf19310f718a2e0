#!/usr/bin/env python3
"""The expected window results computed offline from the definitions, as a
third opinion when Brook and Flink disagree.

    python3 differential/windows/reference.py INPUT OUT_DIR

Writes OUT_DIR/{tumbling-count,sliding-max,session-sum}.txt, one line
`key,window_start,window_end,result` per window, sorted (LC_ALL=C order). Valid
only for input without late records (gen_input.py guarantees that): then every
window sees all its records, whatever the arrival order and the parallelism.

- tumbling 10 s: window [t - t mod 10000, +10000); count of records;
- sliding 30 s every 10 s: the three windows [s, s + 30000) with s a multiple of
  10000 and s <= t < s + 30000; max of the values;
- sessions with a 5 s gap: per key, sort the timestamps; a record starts a new
  session when it is more than 5000 ms after the end of the session so far
  (the session [first, last + 5000) touches a window starting at its end, and
  Flink merges windows that touch); sum of the values.

All timestamps are positive here, so `t mod size` needs no care for negatives.
"""

import os
import sys
from collections import defaultdict

TUMBLE = 10_000
SLIDE_SIZE, SLIDE = 30_000, 10_000
GAP = 5_000


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().split("\n\n")[1])
    src, out_dir = sys.argv[1], sys.argv[2]
    events = defaultdict(list)
    with open(src) as f:
        for line in f:
            key, ts, value = line.rstrip("\n").split(",")
            events[key].append((int(ts), int(value)))

    counts = defaultdict(int)
    maxima = {}
    sessions = []
    for key, recs in events.items():
        recs.sort()
        for ts, value in recs:
            start = ts - ts % TUMBLE
            counts[(key, start, start + TUMBLE)] += 1
            s = ts - ts % SLIDE
            while s > ts - SLIDE_SIZE:
                w = (key, s, s + SLIDE_SIZE)
                maxima[w] = max(maxima.get(w, value), value)
                s -= SLIDE
        start, end, total = recs[0][0], recs[0][0] + GAP, 0
        for ts, value in recs:
            if ts > end:
                sessions.append((key, start, end, total))
                start, end, total = ts, ts + GAP, 0
            end = max(end, ts + GAP)
            total += value
        sessions.append((key, start, end, total))

    os.makedirs(out_dir, exist_ok=True)
    outputs = {
        "tumbling-count": [(*w, c) for w, c in counts.items()],
        "sliding-max": [(*w, m) for w, m in maxima.items()],
        "session-sum": sessions,
    }
    for name, rows in outputs.items():
        lines = sorted(",".join(map(str, r)) for r in rows)
        with open(os.path.join(out_dir, name + ".txt"), "w") as f:
            f.writelines(line + "\n" for line in lines)


if __name__ == "__main__":
    main()
