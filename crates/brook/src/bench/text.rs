//! The word-count benchmark's input: a deterministic text of Zipf-distributed words.
//!
//! The output is byte-identical with `bench/flink/gen_text.py`, so Apache Flink
//! and Brook count the same file whichever side generated it. The algorithm,
//! with all arithmetic on unsigned 64-bit integers modulo 2^64:
//!
//! 1. **Random numbers.** One SplitMix64 generator, `state = seed` (default 42).
//!    `next()`: `state += 0x9E3779B97F4A7C15`; `z = state`;
//!    `z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9`; `z = (z ^ (z >> 27)) * 0x94D049BB133111EB`;
//!    return `z ^ (z >> 31)`. Steps 2 and 4 draw from this one stream, in order.
//! 2. **Vocabulary.** Until there are 10,000 distinct words: draw a length
//!    `2 + next() % 9` (2..=10), then that many letters, each `'a' + next() % 26`.
//!    A candidate equal to an earlier word is dropped (its draws stay consumed).
//!    The r-th distinct word (1-based) has rank r.
//! 3. **Zipf weights (s = 1).** Rank r weighs `floor(1_000_000_000 / r)`;
//!    `cum[i]` is the sum of the weights of ranks `1..=i+1`; `total = cum[9999]`.
//! 4. **Lines.** Let `target = floor(M × 1_048_576)` bytes. While fewer than
//!    `target` bytes are written: draw `n = 5 + next() % 11` (5..=15 words, mean
//!    10); for each word draw `x = next() % total` and take the word at the first
//!    index `i` with `cum[i] > x`; write the words separated by single spaces and
//!    end the line with `\n`. The last line is completed, so the file holds at
//!    least `target` bytes and less than one line more.
//!
//! Every word is lowercase ASCII letters, so the word-count tokenizer
//! ([`crate::jobs::wordcount::tokenize`]) and `wc -w` both count exactly the
//! words drawn in step 4.

use anyhow::Context as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

/// Seed of the benchmark's text unless told otherwise (as `gen_text.py --seed`).
pub const DEFAULT_SEED: u64 = 42;
/// Distinct words in the vocabulary.
pub const VOCABULARY_SIZE: usize = 10_000;
const WEIGHT_NUMERATOR: u64 = 1_000_000_000;
const MIN_WORD_LEN: u64 = 2;
const WORD_LEN_SPAN: u64 = 9;
const MIN_LINE_WORDS: u64 = 5;
const LINE_WORDS_SPAN: u64 = 11;
const MIB: f64 = 1_048_576.0;

/// The SplitMix64 generator of step 1.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The 10,000 words of step 2, by rank, and the Zipf table of step 3.
#[derive(Clone, Debug)]
pub struct ZipfVocabulary {
    words: Vec<Vec<u8>>,
    cumulative: Vec<u64>,
}

impl ZipfVocabulary {
    /// Draws the vocabulary from `rng` (step 2) and builds the weights (step 3).
    pub fn draw(rng: &mut SplitMix64) -> Self {
        let mut words = Vec::with_capacity(VOCABULARY_SIZE);
        let mut seen = std::collections::HashSet::with_capacity(VOCABULARY_SIZE);
        while words.len() < VOCABULARY_SIZE {
            let len = MIN_WORD_LEN + rng.next_u64() % WORD_LEN_SPAN;
            let word: Vec<u8> = (0..len).map(|_| b'a' + (rng.next_u64() % 26) as u8).collect();
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        let mut acc = 0u64;
        let cumulative = (1..=VOCABULARY_SIZE as u64)
            .map(|rank| {
                acc += WEIGHT_NUMERATOR / rank;
                acc
            })
            .collect();
        Self { words, cumulative }
    }

    /// The words, most frequent first.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(|w| std::str::from_utf8(w).expect("words are ASCII letters"))
    }

    /// A word drawn with Zipf probabilities (step 4).
    #[inline]
    fn sample(&self, rng: &mut SplitMix64) -> &[u8] {
        let total = *self.cumulative.last().expect("the vocabulary is not empty");
        let x = rng.next_u64() % total;
        &self.words[self.cumulative.partition_point(|&c| c <= x)]
    }
}

/// What a generated text holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TextStats {
    pub bytes: u64,
    pub lines: u64,
    pub words: u64,
}

impl std::fmt::Display for TextStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The same summary line as gen_text.py prints.
        write!(f, "bytes={} lines={} words={}", self.bytes, self.lines, self.words)
    }
}

/// The number of bytes a text of `mib` MiB aims for (`floor(M × 1_048_576)`).
pub fn target_bytes(mib: f64) -> u64 {
    (mib * MIB) as u64
}

/// Writes the text of at least `target` bytes for `seed` to `out` (steps 1–4).
pub fn write_text(out: &mut impl Write, target: u64, seed: u64) -> std::io::Result<TextStats> {
    let mut rng = SplitMix64::new(seed);
    let vocabulary = ZipfVocabulary::draw(&mut rng);
    let mut stats = TextStats { bytes: 0, lines: 0, words: 0 };
    let mut line = Vec::with_capacity(256);
    while stats.bytes < target {
        let n = MIN_LINE_WORDS + rng.next_u64() % LINE_WORDS_SPAN;
        line.clear();
        for i in 0..n {
            if i > 0 {
                line.push(b' ');
            }
            line.extend_from_slice(vocabulary.sample(&mut rng));
        }
        line.push(b'\n');
        out.write_all(&line)?;
        stats.bytes += line.len() as u64;
        stats.lines += 1;
        stats.words += n;
    }
    Ok(stats)
}

/// Writes the text of `mib` MiB for `seed` to the file `path`.
pub fn generate_file(path: &Path, mib: f64, seed: u64) -> anyhow::Result<TextStats> {
    anyhow::ensure!(mib.is_finite() && mib > 0.0, "the text size must be a positive number of MiB, not {mib}");
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create directory {}", parent.display()))?;
    }
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let stats = write_text(&mut out, target_bytes(mib), seed)
        .and_then(|s| out.flush().map(|()| s))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(stats)
}

/// Words in a text file as the word-count job's tokenizer splits them (runs of
/// alphanumeric characters), for inputs this module did not generate.
pub fn count_words(path: &Path) -> anyhow::Result<u64> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = String::new();
    let mut words = 0u64;
    loop {
        line.clear();
        let n = reader.read_line(&mut line).with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
        if n == 0 {
            return Ok(words);
        }
        words += line.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).count() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::wordcount::tokenize;
    use brook_api::Collector;

    fn text(target: u64, seed: u64) -> (String, TextStats) {
        let mut out = Vec::new();
        let stats = write_text(&mut out, target, seed).unwrap();
        (String::from_utf8(out).unwrap(), stats)
    }

    #[test]
    fn text_matches_gen_text_py() {
        // `python3 bench/flink/gen_text.py OUT 0.001` (seed 42): 1048-byte target.
        let (text, stats) = text(target_bytes(0.001), DEFAULT_SEED);
        assert_eq!(stats, TextStats { bytes: GOLDEN_BYTES, lines: GOLDEN_LINES, words: GOLDEN_WORDS });
        assert_eq!(text.lines().next().unwrap(), GOLDEN_FIRST_LINE);
        assert_eq!(text.lines().last().unwrap(), GOLDEN_LAST_LINE);
        assert_eq!(text.len() as u64, stats.bytes);
    }

    const GOLDEN_BYTES: u64 = 1106;
    const GOLDEN_LINES: u64 = 16;
    const GOLDEN_WORDS: u64 = 160;
    const GOLDEN_FIRST_LINE: &str = "lcxxgqdb ri gprh pysj xfgpottxv agbld pkzgwr bkq dd xcvmyd nlc ji nxvzkpu kh";
    const GOLDEN_LAST_LINE: &str = "ivvgnnwtl nrpb dwkshgiwkn sluazcusr dd jryyjzkcya fphy vcaz";

    #[test]
    fn text_is_deterministic_and_seeded() {
        assert_eq!(text(10_000, 7), text(10_000, 7));
        assert_ne!(text(10_000, 7).0, text(10_000, 8).0);
    }

    #[test]
    fn vocabulary_has_ten_thousand_distinct_lowercase_words() {
        let vocabulary = ZipfVocabulary::draw(&mut SplitMix64::new(DEFAULT_SEED));
        let words: Vec<&str> = vocabulary.words().collect();
        assert_eq!(words.len(), VOCABULARY_SIZE);
        assert_eq!(words.iter().collect::<std::collections::HashSet<_>>().len(), VOCABULARY_SIZE);
        assert!(words.iter().all(|w| (2..=10).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_lowercase())));
    }

    #[test]
    fn lines_have_five_to_fifteen_words_and_the_size_is_just_past_the_target() {
        let target = 50_000;
        let (text, stats) = text(target, DEFAULT_SEED);
        assert!(text.ends_with('\n'));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, stats.lines);
        assert!(lines.iter().all(|l| (5..=15).contains(&l.split(' ').count())));
        let last = lines.last().unwrap().len() as u64 + 1;
        assert!(stats.bytes >= target && stats.bytes - last < target);
    }

    #[test]
    fn word_counts_agree_with_the_wordcount_tokenizer() {
        let (text, stats) = text(20_000, DEFAULT_SEED);
        let mut out = Collector::new();
        for line in text.lines() {
            tokenize(line, &mut out);
        }
        assert_eq!(out.into_values().len() as u64, stats.words);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("text.txt");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(count_words(&path).unwrap(), stats.words);
    }
}
