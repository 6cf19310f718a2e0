#!/usr/bin/env python3
"""Deterministic input for the window differential check (Brook vs Apache Flink).

    python3 differential/windows/gen_input.py OUT N [--seed S] [--keys K]

Writes N CSV lines `key,timestamp_ms,value` (no header): K keys (default 20)
named `key00`..`key19`, timestamps in milliseconds since the epoch from a
stream clock that starts at 2026-01-01T00:00:00Z, values integers 0..1000. The same (N, seed, keys) gives
the same bytes on every machine: all randomness comes from SplitMix64 (the
generator bench/flink/gen_text.py uses), no floating point.

The file is checked after writing, and the script fails if it breaks either
invariant the comparison relies on (see README.md):

1. bounded disorder: every timestamp is at least (the largest timestamp on any
   earlier line) - MAX_DISORDER_MS (1,500 ms). With a 2 s bounded-out-of-
   orderness watermark, the watermark is always below every record still to
   come, so no record is late in either engine, whatever the parallelism or
   however the file is split between source subtasks.
2. no session tie: within a key, no two timestamps that are neighbours in
   sorted order differ by exactly SESSION_GAP_MS (5,000 ms). Such a record would
   touch the session before it, and whether the two merge depends on whether
   the watermark reached the first session's end before the record arrived —
   a timing race in both engines, not a semantic difference.

Sessions: each key now and then pauses for 7-27 s of event time (its next
timestamp is then > 5 s after its previous ones), so 5 s session windows close
and new ones open; when every key is paused the whole stream has a gap.
"""

import argparse
import bisect
import sys

MASK = (1 << 64) - 1
BASE_TS = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms
MAX_DISORDER_MS = 1_500
SESSION_GAP_MS = 5_000
MAX_VALUE = 1_000


class SplitMix64:
    def __init__(self, seed):
        self.s = seed & MASK

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


def generate(n, seed, n_keys):
    """Yields (key_index, timestamp_ms, value) in file order."""
    rng = SplitMix64(seed)
    clock = BASE_TS  # the stream's "now": never decreases
    paused_until = [0] * n_keys
    per_key = [[] for _ in range(n_keys)]  # sorted timestamps of each key so far
    for _ in range(n):
        clock += rng.below(21)  # 0..20 ms between events, mean 10
        active = [k for k in range(n_keys) if paused_until[k] <= clock]
        if not active:
            clock = min(paused_until)
            active = [k for k in range(n_keys) if paused_until[k] <= clock]
        key = active[rng.below(len(active))]
        # Disorder: 70 % of the events are on time, the rest up to 1,500 ms late.
        late_by = 0 if rng.below(10) < 7 else rng.below(MAX_DISORDER_MS + 1)
        ts = clock - late_by
        # Invariant 2: move away from an exact session-gap tie with a neighbour.
        ts = avoid_session_tie(per_key[key], ts, clock)
        bisect.insort(per_key[key], ts)
        value = rng.below(MAX_VALUE + 1)
        # About one event in 150 of a key starts a pause of 7-27 s for that key.
        if rng.below(150) == 0:
            paused_until[key] = clock + 7_000 + rng.below(20_001)
        yield key, ts, value


def avoid_session_tie(sorted_ts, ts, clock):
    """`ts` moved (within the disorder bound: clock - 1,500 ..= clock) so that
    it is not exactly SESSION_GAP_MS from its sorted neighbours."""
    candidate = ts
    step = 1
    while has_session_tie(sorted_ts, candidate):
        # try ts+1, ts-1, ts+2, ts-2, ... inside [clock - MAX_DISORDER_MS, clock]
        candidate = ts + (step + 1) // 2 * (1 if step % 2 else -1)
        step += 1
        if step > 2 * MAX_DISORDER_MS + 2:
            raise RuntimeError(f"cannot place a record near {ts} without a session tie")
        if not clock - MAX_DISORDER_MS <= candidate <= clock:
            candidate = ts  # outside the bound: keep searching the other side
    return candidate


def has_session_tie(sorted_ts, ts):
    i = bisect.bisect_left(sorted_ts, ts)
    if i > 0 and ts - sorted_ts[i - 1] == SESSION_GAP_MS:
        return True
    j = bisect.bisect_right(sorted_ts, ts)
    if j < len(sorted_ts) and sorted_ts[j] - ts == SESSION_GAP_MS:
        return True
    return False


def check(path, n_keys):
    """Re-reads the file and verifies both invariants; returns statistics."""
    max_ts = None
    per_key = {}
    lines = 0
    worst_disorder = 0
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            key, ts, value = line.rstrip("\n").split(",")
            ts, value = int(ts), int(value)
            assert 0 <= value <= MAX_VALUE, f"line {lineno}: value {value} out of range"
            if max_ts is not None:
                worst_disorder = max(worst_disorder, max_ts - ts)
                if ts < max_ts - MAX_DISORDER_MS:
                    sys.exit(f"gen_input: line {lineno}: timestamp {ts} is {max_ts - ts} ms behind "
                             f"the maximum {max_ts} so far (bound {MAX_DISORDER_MS} ms)")
            max_ts = ts if max_ts is None else max(max_ts, ts)
            per_key.setdefault(key, []).append(ts)
            lines += 1
    sessions = 0
    for key, stamps in per_key.items():
        stamps.sort()
        sessions += 1
        for a, b in zip(stamps, stamps[1:]):
            if b - a == SESSION_GAP_MS:
                sys.exit(f"gen_input: key {key}: timestamps {a} and {b} are exactly "
                         f"{SESSION_GAP_MS} ms apart (session tie)")
            if b - a > SESSION_GAP_MS:
                sessions += 1
    assert len(per_key) <= n_keys
    return lines, len(per_key), sessions, worst_disorder


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("n", type=int)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--keys", type=int, default=20)
    a = p.parse_args()
    if a.n < 1 or a.keys < 1:
        p.error("N and --keys must be positive")
    with open(a.out, "w") as f:
        for key, ts, value in generate(a.n, a.seed, a.keys):
            f.write(f"key{key:02d},{ts},{value}\n")
    lines, keys, sessions, worst = check(a.out, a.keys)
    print(f"gen_input: wrote {a.out}: {lines} events, {keys} keys, {sessions} sessions "
          f"(5 s gap), largest disorder {worst} ms (bound {MAX_DISORDER_MS} ms), seed {a.seed}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
