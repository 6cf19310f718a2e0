//! String, price and padding helpers (SPEC §2.8) and the tables that Flink builds
//! once per JVM: the 1 MiB padding pool, the hot URLs and the 10,000 channel/URL
//! pairs (§2.7). Flink fills those tables from unseeded random sources; Brook fills
//! them from fixed seeds, so they are the same in every process and every run.

use super::rng::EventRng;
use std::sync::OnceLock;

/// Length of the padding pool `extra` strings are cut from (Flink: 1 MiB).
const POOL_LEN: usize = 1 << 20;
/// Number of `channel-<n>` channels.
pub(crate) const CHANNELS_NUMBER: u32 = 10_000;
pub(crate) const HOT_CHANNELS: [&str; 4] = ["Google", "Facebook", "Baidu", "Apple"];

const MIN_STRING_LENGTH: u32 = 3;

/// `randString(max, special)`: length `3 + U[0, max − 3)`, each character `special`
/// with probability 1/13 else a lowercase letter; leading and trailing spaces trimmed.
/// Appended to `out`.
pub(crate) fn push_rand_string(rng: &mut EventRng, max: u32, special: u8, out: &mut String) {
    let len = (MIN_STRING_LENGTH + rng.next_int(max.saturating_sub(MIN_STRING_LENGTH))) as usize;
    let mut buf = [0u8; 128];
    let len = len.min(buf.len());
    let mut bits = 0u64;
    for (i, byte) in buf[..len].iter_mut().enumerate() {
        if i % 4 == 0 {
            bits = rng.next_u64();
        }
        // One 16-bit draw per character: 338 = 13 × 26 outcomes, 26 of them (1/13)
        // the special character, 312 = 12 × 26 a letter.
        let v = (((bits & 0xFFFF) * 338) >> 16) as u32;
        bits >>= 16;
        *byte = if v < 26 { special } else { b'a' + ((v - 26) % 26) as u8 };
    }
    let mut text = &buf[..len];
    if special == b' ' {
        while let [b' ', rest @ ..] = text {
            text = rest;
        }
        while let [rest @ .., b' '] = text {
            text = rest;
        }
    }
    out.push_str(std::str::from_utf8(text).expect("letters and a special ASCII character"));
}

/// `randString` as its own string.
pub(crate) fn rand_string(rng: &mut EventRng, max: u32, special: u8) -> String {
    let mut s = String::with_capacity(max as usize);
    push_rand_string(rng, max, special, &mut s);
    s
}

/// `price()`: `round(10^(6u) × 100)`, log-uniform from 100 to 100,000,000 cents.
#[inline]
pub(crate) fn price(rng: &mut EventRng) -> i64 {
    // 10^(6u) as e^(6u·ln 10): `exp` is cheaper than `powf`.
    ((rng.next_double() * 6.0 * std::f64::consts::LN_10).exp() * 100.0).round() as i64
}

/// `extraString(current, target)`: padding of about `target − current` characters
/// (±20 %), cut from the padding pool at a random offset.
#[cfg(test)]
pub(crate) fn extra(rng: &mut EventRng, current: usize, target: usize, flink_chars: bool) -> String {
    extra_range(rng, current, target).text(flink_chars).to_owned()
}

/// Where an `extra` string lies in the padding pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PoolRange {
    offset: u32,
    size: u32,
}

impl PoolRange {
    /// The padding itself.
    pub(crate) fn text(self, flink_chars: bool) -> &'static str {
        &pool(flink_chars)[self.offset as usize..(self.offset + self.size) as usize]
    }

    /// Asks the CPU to fetch the start of the padding into its cache (the pool is
    /// 1 MiB and read at random offsets: without this, most copies wait for memory).
    pub(crate) fn prefetch(self, flink_chars: bool) {
        let pool = pool(flink_chars).as_bytes();
        let end = (self.offset + self.size.min(192)) as usize;
        for at in (self.offset as usize..end).step_by(64) {
            prefetch(&pool[at]);
        }
    }
}

/// The draws of `extraString(current, target)` (see [`extra`]): where its padding lies.
pub(crate) fn extra_range(rng: &mut EventRng, current: usize, target: usize) -> PoolRange {
    if current > target {
        return PoolRange::default();
    }
    let d = (target - current) as i64;
    let delta = (0.2 * d as f64).round() as i64;
    let size = (d - delta + if delta == 0 { 0 } else { rng.next_long(2 * delta) }).clamp(0, POOL_LEN as i64) as usize;
    let offset = rng.next_long((POOL_LEN - size) as i64) as usize;
    PoolRange { offset: offset as u32, size: size as u32 }
}

/// A hint to load the cache line holding `byte`; no effect on the program's values.
#[inline(always)]
pub(crate) fn prefetch(byte: &u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` is a hint that never faults and changes no memory; the
    // pointer comes from a live reference. SSE is part of every x86_64 target.
    #[allow(unsafe_code)]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(std::ptr::from_ref(byte).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = byte;
}

/// The padding pool. Flink fills it 6 characters per signed 32-bit draw with Java's
/// signed remainder, so characters range over `H..z` (§2.11 quirk 4); without the
/// quirk the draw is unsigned and characters are `a..z`.
fn pool(flink_chars: bool) -> &'static str {
    static FLINK: OnceLock<String> = OnceLock::new();
    static LETTERS: OnceLock<String> = OnceLock::new();
    let cell = if flink_chars { &FLINK } else { &LETTERS };
    cell.get_or_init(|| {
        let mut rng = EventRng::for_event(0x006e_6578_6d61_726b, -1);
        let mut bytes = Vec::with_capacity(POOL_LEN);
        while bytes.len() < POOL_LEN {
            let mut r = rng.next_u64() as u32 as i32;
            for _ in 0..6 {
                let c = if flink_chars { i32::from(b'a') + r % 26 } else { i32::from(b'a') + (r as u32 % 26) as i32 };
                bytes.push(c as u8);
                r /= 26;
            }
        }
        bytes.truncate(POOL_LEN);
        String::from_utf8(bytes).expect("ASCII 72..122")
    })
}

/// `baseUrl()`: `https://www.nexmark.com/<s>/<s>/<s>/item.htm?query=1`, each `s` a
/// `randString(5, '_')`.
fn base_url(rng: &mut EventRng) -> String {
    let mut url = String::with_capacity(64);
    url.push_str("https://www.nexmark.com/");
    for _ in 0..3 {
        push_rand_string(rng, 5, b'_', &mut url);
        url.push('/');
    }
    url.push_str("item.htm?query=1");
    url
}

/// The channel and URL tables, built once from fixed seeds.
pub(crate) struct Channels {
    pub(crate) hot_urls: [String; 4],
    /// `("channel-<n>", url_n)` for n in `[0, 10000)`: their bytes back to back at
    /// `n * PAIR` of `pairs` (padded with spaces), so that the prefetch of a pair
    /// needs no lookup first and taking it needs no UTF-8 check.
    pairs: String,
    /// The lengths of channel and URL `n`.
    lens: Vec<(u8, u8)>,
}

/// Bytes per channel/URL pair in `Channels::pairs` (at most 12 + 78 are used).
const PAIR: usize = 96;

impl Channels {
    /// Cold channel `n` (< 10,000) and its URL.
    pub(crate) fn cold(&self, n: u32) -> (&str, &str) {
        let (c, u) = self.lens[n as usize];
        let at = n as usize * PAIR;
        let (c, u) = (at + c as usize, at + c as usize + u as usize);
        (&self.pairs[at..c], &self.pairs[c..u])
    }

    pub(crate) fn prefetch_cold(&self, n: u32) {
        let at = n as usize * PAIR;
        let bytes = self.pairs.as_bytes();
        prefetch(&bytes[at]);
        prefetch(&bytes[at + PAIR / 2]);
        prefetch(&bytes[at + PAIR - 1]);
    }
}

pub(crate) fn channels() -> &'static Channels {
    static CHANNELS: OnceLock<Channels> = OnceLock::new();
    CHANNELS.get_or_init(|| {
        let mut rng = EventRng::for_event(0x6368_616e_6e65_6c73, -1);
        let hot_urls = std::array::from_fn(|_| base_url(&mut rng));
        let mut pairs = String::with_capacity(CHANNELS_NUMBER as usize * PAIR);
        let lens = (0..CHANNELS_NUMBER as i32)
            .map(|n| {
                let mut url = base_url(&mut rng);
                if rng.next_int(10) > 0 {
                    url.push_str("&channel_id=");
                    // Java's Math.abs(Integer.reverse(n)): |MIN| stays negative.
                    url.push_str(&n.reverse_bits().wrapping_abs().to_string());
                }
                let channel = format!("channel-{n}");
                assert!(channel.len() + url.len() <= PAIR, "a channel and its URL fit in {PAIR} bytes");
                let end = pairs.len() + PAIR;
                pairs.push_str(&channel);
                pairs.push_str(&url);
                pairs.extend(std::iter::repeat_n(' ', end - pairs.len()));
                (channel.len() as u8, url.len() as u8)
            })
            .collect();
        Channels { hot_urls, pairs, lens }
    })
}

/// Four `U[0, 10000)` as zero-padded 4-digit groups separated by spaces.
pub(crate) fn credit_card(rng: &mut EventRng) -> String {
    let mut bytes = [b' '; 19];
    for group in 0..4 {
        let mut n = rng.next_int(10_000);
        for pos in (0..4).rev() {
            bytes[group * 5 + pos] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    std::str::from_utf8(&bytes).expect("digits and spaces").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand_strings_have_the_spec_lengths_and_characters() {
        let mut rng = EventRng::for_event(3, 3);
        let mut spaces = 0usize;
        let mut chars = 0usize;
        for _ in 0..10_000 {
            let s = rand_string(&mut rng, 20, b' ');
            assert!(s.len() <= 19, "{s:?}");
            assert!(!s.starts_with(' ') && !s.ends_with(' '), "{s:?}");
            assert!(s.bytes().all(|b| b == b' ' || b.is_ascii_lowercase()), "{s:?}");
            spaces += s.bytes().filter(|&b| b == b' ').count();
            chars += s.len();
        }
        // Inner characters are spaces with probability 1/13 (trimming removes a few).
        let ratio = spaces as f64 / chars as f64;
        assert!((0.06..0.08).contains(&ratio), "{ratio}");
        let url_part = rand_string(&mut rng, 5, b'_');
        assert!((3..=4).contains(&url_part.len()), "{url_part:?}");
    }

    #[test]
    fn prices_are_log_uniform_in_thirds() {
        let mut rng = EventRng::for_event(5, 5);
        let mut buckets = [0u32; 3];
        for _ in 0..30_000 {
            let p = price(&mut rng);
            assert!((100..=100_000_000).contains(&p), "{p}");
            buckets[if p < 10_000 {
                0
            } else if p < 1_000_000 {
                1
            } else {
                2
            }] += 1;
        }
        assert!(buckets.iter().all(|&n| (9_500..=10_500).contains(&n)), "{buckets:?}");
    }

    #[test]
    fn extra_has_the_target_size_within_twenty_percent() {
        let mut rng = EventRng::for_event(9, 9);
        for _ in 0..1000 {
            let e = extra(&mut rng, 32, 100, true);
            assert!((54..=81).contains(&e.len()), "{}", e.len());
            assert!(e.bytes().all(|b| (b'H'..=b'z').contains(&b)));
            let plain = extra(&mut rng, 32, 100, false);
            assert!(plain.bytes().all(|b| b.is_ascii_lowercase()));
        }
        assert_eq!(extra(&mut rng, 300, 200, true), "");
    }

    #[test]
    fn channel_urls_follow_flink() {
        let c = channels();
        assert_eq!(c.lens.len(), 10_000);
        assert_eq!(c.cold(7).0, "channel-7");
        assert_eq!(c.cold(9_999).0, "channel-9999");
        assert!((0..10_000).all(|n| c.cold(n).1.starts_with("https://www.nexmark.com/")));
        assert!(
            c.hot_urls.iter().all(|u| u.starts_with("https://www.nexmark.com/") && u.ends_with("item.htm?query=1"))
        );
        let with_id = (0..10_000).filter(|&n| c.cold(n).1.contains("&channel_id=")).count();
        assert!((8_800..=9_200).contains(&with_id), "{with_id}");
        let one = c.cold(1).1;
        assert!(!one.contains("&channel_id=") || one.ends_with("&channel_id=-2147483648"), "{one}");
    }

    #[test]
    fn credit_cards_are_four_padded_groups() {
        let mut rng = EventRng::for_event(1, 2);
        let cc = credit_card(&mut rng);
        assert_eq!(cc.len(), 19);
        assert!(cc.split(' ').all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit())), "{cc}");
    }
}
