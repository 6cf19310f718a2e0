//! The test text and an independent word counter to compute expected results.

use std::collections::BTreeMap;

/// Words of the test text: ASCII, digits, mixed scripts and case pairs whose
/// lowercase forms differ from a byte-wise ASCII lowering.
const VOCABULARY: &[&str] = &[
    "the",
    "stream",
    "Flink",
    "brook",
    "river",
    "water",
    "to",
    "be",
    "or",
    "not",
    "Straße",
    "STRASSE",
    "ÜBER",
    "über",
    "Über",
    "naïve",
    "café",
    "CAFÉ",
    "Ελλάδα",
    "мир",
    "МИР",
    "日本語",
    "١٢٣",
    "42",
    "3rd",
    "x86_64",
    "don't",
    "e-mail",
    "co-op",
    "ǅemal",
    "ﬁne",
    "Øresund",
    "ÅNGSTRÖM",
    "a",
    "I",
    "élan",
    "extraordinarily",
    "incomprehensibilities",
];

/// What separates words on a line (all non-alphanumeric).
const SEPARATORS: &[&str] =
    &[" ", " ", " ", ", ", "--", "! ", "? ", "; ", ":", "\t", "...", " (", ") ", " \"", "—", " « ", " » "];

/// A deterministic text of `lines` lines: mixed case, punctuation, digits,
/// Unicode, empty and blank lines, a few `\r\n` endings, and no newline after
/// the last line.
pub fn sample(lines: usize) -> String {
    let mut rng = Lcg(0x5eed_b00c);
    let mut text = String::new();
    for i in 0..lines {
        if i > 0 {
            text.push_str(if rng.below(25) == 0 { "\r\n" } else { "\n" });
        }
        match rng.below(20) {
            0 => continue,                      // empty line
            1 => text.push_str("  \t ... -- "), // no words at all
            _ => {}
        }
        let words = 1 + rng.below(12);
        for w in 0..words {
            if w > 0 || rng.below(4) == 0 {
                text.push_str(SEPARATORS[rng.below(SEPARATORS.len())]);
            }
            let word = VOCABULARY[rng.below(VOCABULARY.len())];
            match rng.below(6) {
                0 => text.push_str(&word.to_uppercase()),
                1 => {
                    let mut chars = word.chars();
                    if let Some(first) = chars.next() {
                        text.extend(first.to_uppercase());
                        text.push_str(chars.as_str());
                    }
                }
                _ => text.push_str(word),
            }
        }
        if rng.below(3) == 0 {
            text.push_str(SEPARATORS[rng.below(SEPARATORS.len())]);
        }
    }
    // The last line ends without a newline and holds words seen nowhere else.
    text.push_str("\nLast line: Zebra ZEBRA zebra");
    text
}

/// Word counts as Flink's WordCount defines them, written independently of
/// Brook: each line lowercased, split on every non-alphanumeric character,
/// empty pieces dropped.
pub fn word_counts(text: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        for word in line.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            *counts.entry(word.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// A small linear congruential generator: the same text on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

#[test]
fn sample_text_covers_the_tricky_cases() {
    let text = sample(400);
    assert!(!text.ends_with('\n'), "the last line has no trailing newline");
    assert!(text.contains("\n\n"), "there are empty lines");
    assert!(text.contains("\r\n"), "there are CRLF line endings");
    let counts = word_counts(&text);
    for word in ["straße", "strasse", "über", "мир", "日本語", "١٢٣", "42", "3rd", "x86", "64", "don", "t", "zebra"]
    {
        assert!(counts.contains_key(word), "{word} is in the sample");
    }
    assert_eq!(counts["zebra"], 3);
    assert!(counts.values().sum::<u64>() > 1000, "a few thousand words");
}
