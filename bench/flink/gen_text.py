#!/usr/bin/env python3
"""Deterministic Zipf-like text generator for the word-count benchmark.

    gen_text.py OUT SIZE_MB [--seed N]

Writes at least SIZE_MB * 1048576 bytes of lowercase ASCII text to OUT and
prints "bytes=B lines=L words=W" on stdout. The algorithm is fixed so that the
Rust side (Brook) produces byte-identical files; see README.md ("Text
generator") for the exact specification. Pure Python, no dependencies
(~25 s for 100 MB).
"""
import argparse
import bisect
import sys

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
VOCAB_SIZE = 10_000
WEIGHT_NUM = 1_000_000_000
MIN_WORD_LEN, WORD_LEN_SPAN = 2, 9      # word length 2..10
MIN_LINE_WORDS, LINE_WORDS_SPAN = 5, 11  # words per line 5..15 (mean 10)


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + GAMMA) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * M1) & MASK
        z = ((z ^ (z >> 27)) * M2) & MASK
        return z ^ (z >> 31)


def make_vocab(rng):
    words, seen = [], set()
    while len(words) < VOCAB_SIZE:
        n = MIN_WORD_LEN + rng.next() % WORD_LEN_SPAN
        w = "".join(chr(97 + rng.next() % 26) for _ in range(n))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def cumulative_weights():
    cum, acc = [], 0
    for r in range(VOCAB_SIZE):
        acc += WEIGHT_NUM // (r + 1)
        cum.append(acc)
    return cum


def generate(out, target, rng, vocab, cum):
    total = cum[-1]
    written = lines = words = 0
    buf = []
    while written < target:
        n = MIN_LINE_WORDS + rng.next() % LINE_WORDS_SPAN
        line = " ".join(vocab[bisect.bisect_right(cum, rng.next() % total)] for _ in range(n)) + "\n"
        buf.append(line)
        written += len(line)
        lines += 1
        words += n
        if len(buf) >= 4096:
            out.write("".join(buf).encode())
            buf.clear()
    out.write("".join(buf).encode())
    return written, lines, words


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("size_mb", type=float)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    target = int(a.size_mb * 1048576)
    rng = SplitMix64(a.seed)
    vocab = make_vocab(rng)
    cum = cumulative_weights()
    with open(a.out, "wb") as f:
        written, lines, words = generate(f, target, rng, vocab, cum)
    print(f"bytes={written} lines={lines} words={words}")


if __name__ == "__main__":
    sys.exit(main())
