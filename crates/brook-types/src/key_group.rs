//! Key groups, exactly as Flink assigns them.
//!
//! A key's group is `murmur(hashCode(key)) % max_parallelism`, where `hashCode` is
//! Java's `Object.hashCode` for the equivalent Java value ([`KeyHash`]) and `murmur`
//! is Flink's `MathUtils.murmurHash`. Subtask `i` of an operator at parallelism `p`
//! owns the contiguous range of key groups `[ceil(i*maxP/p), ceil((i+1)*maxP/p))`,
//! i.e. key group `kg` goes to subtask `kg * p / maxP`. Because the groups are the
//! unit of state, any snapshot restores at any parallelism up to `max_parallelism`.
//!
//! Using Java's hash codes means a `String`, `i32` or `i64` key lands in the same
//! key group, and so on the same subtask, as it would in Flink.

/// The default maximum parallelism (number of key groups), as Flink's for small jobs.
pub const DEFAULT_MAX_PARALLELISM: usize = 128;

/// The upper bound of max parallelism, as in Flink (2^15).
pub const UPPER_BOUND_MAX_PARALLELISM: usize = 1 << 15;

/// Java's `hashCode()` of the equivalent Java value.
pub trait KeyHash {
    fn key_hash(&self) -> i32;
}

impl KeyHash for i32 {
    #[inline]
    fn key_hash(&self) -> i32 {
        *self
    }
}
impl KeyHash for i16 {
    #[inline]
    fn key_hash(&self) -> i32 {
        i32::from(*self)
    }
}
impl KeyHash for i8 {
    #[inline]
    fn key_hash(&self) -> i32 {
        i32::from(*self)
    }
}
impl KeyHash for u8 {
    #[inline]
    fn key_hash(&self) -> i32 {
        i32::from(*self)
    }
}
impl KeyHash for u16 {
    #[inline]
    fn key_hash(&self) -> i32 {
        i32::from(*self)
    }
}
impl KeyHash for u32 {
    #[inline]
    fn key_hash(&self) -> i32 {
        *self as i32
    }
}
impl KeyHash for i64 {
    #[inline]
    fn key_hash(&self) -> i32 {
        (*self ^ ((*self as u64) >> 32) as i64) as i32
    }
}
impl KeyHash for u64 {
    #[inline]
    fn key_hash(&self) -> i32 {
        (*self as i64).key_hash()
    }
}
impl KeyHash for usize {
    #[inline]
    fn key_hash(&self) -> i32 {
        (*self as i64).key_hash()
    }
}
impl KeyHash for isize {
    #[inline]
    fn key_hash(&self) -> i32 {
        (*self as i64).key_hash()
    }
}
impl KeyHash for bool {
    #[inline]
    fn key_hash(&self) -> i32 {
        if *self { 1231 } else { 1237 }
    }
}
impl KeyHash for char {
    #[inline]
    fn key_hash(&self) -> i32 {
        // Java's Character is one UTF-16 unit; beyond the BMP we hash the code point.
        *self as i32
    }
}
impl KeyHash for f64 {
    #[inline]
    fn key_hash(&self) -> i32 {
        // Double.doubleToLongBits canonicalizes NaN.
        let bits = if self.is_nan() { 0x7ff8_0000_0000_0000_i64 } else { self.to_bits() as i64 };
        bits.key_hash()
    }
}
impl KeyHash for f32 {
    #[inline]
    fn key_hash(&self) -> i32 {
        if self.is_nan() { 0x7fc0_0000 } else { self.to_bits() as i32 }
    }
}
impl KeyHash for str {
    /// `String.hashCode`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units.
    #[inline]
    fn key_hash(&self) -> i32 {
        let mut h: i32 = 0;
        if self.is_ascii() {
            for &b in self.as_bytes() {
                h = h.wrapping_mul(31).wrapping_add(i32::from(b));
            }
        } else {
            for unit in self.encode_utf16() {
                h = h.wrapping_mul(31).wrapping_add(i32::from(unit));
            }
        }
        h
    }
}
impl KeyHash for String {
    #[inline]
    fn key_hash(&self) -> i32 {
        self.as_str().key_hash()
    }
}
impl KeyHash for () {
    fn key_hash(&self) -> i32 {
        0
    }
}
impl<T: KeyHash + ?Sized> KeyHash for &T {
    #[inline]
    fn key_hash(&self) -> i32 {
        (**self).key_hash()
    }
}
impl<T: KeyHash + ?Sized> KeyHash for Box<T> {
    #[inline]
    fn key_hash(&self) -> i32 {
        (**self).key_hash()
    }
}
impl<T: KeyHash> KeyHash for Option<T> {
    /// `null` hashes to 0, as in `Objects.hashCode`.
    fn key_hash(&self) -> i32 {
        self.as_ref().map_or(0, KeyHash::key_hash)
    }
}
impl<T: KeyHash> KeyHash for Vec<T> {
    /// `List.hashCode`.
    fn key_hash(&self) -> i32 {
        self.iter().fold(1i32, |h, e| h.wrapping_mul(31).wrapping_add(e.key_hash()))
    }
}

macro_rules! tuple_key_hash {
    ($($name:ident),+) => {
        impl<$($name: KeyHash),+> KeyHash for ($($name,)+) {
            /// Flink's `TupleN.hashCode`: `31 * h + f_i.hashCode()` starting from `f0`.
            #[allow(non_snake_case)]
            fn key_hash(&self) -> i32 {
                let ($($name,)+) = self;
                let mut h: i32 = 0;
                let mut first = true;
                $(
                    if first { h = $name.key_hash(); first = false; }
                    else { h = h.wrapping_mul(31).wrapping_add($name.key_hash()); }
                )+
                let _ = first;
                h
            }
        }
    };
}
tuple_key_hash!(A);
tuple_key_hash!(A, B);
tuple_key_hash!(A, B, C);
tuple_key_hash!(A, B, C, D);
tuple_key_hash!(A, B, C, D, E);

/// Flink's `MathUtils.murmurHash(int)`: one round of Murmur3 and the finalizer,
/// made non-negative.
#[inline]
pub fn murmur_hash(code: i32) -> i32 {
    let mut code = code.wrapping_mul(0xcc9e_2d51_u32 as i32);
    code = code.rotate_left(15);
    code = code.wrapping_mul(0x1b87_3593);
    code = code.rotate_left(13);
    code = code.wrapping_mul(5).wrapping_add(0xe654_6b64_u32 as i32);
    code ^= 4;
    code = bit_mix(code);
    if code >= 0 {
        code
    } else if code != i32::MIN {
        -code
    } else {
        0
    }
}

#[inline]
fn bit_mix(mut h: i32) -> i32 {
    h ^= ((h as u32) >> 16) as i32;
    h = h.wrapping_mul(0x85eb_ca6b_u32 as i32);
    h ^= ((h as u32) >> 13) as i32;
    h = h.wrapping_mul(0xc2b2_ae35_u32 as i32);
    h ^= ((h as u32) >> 16) as i32;
    h
}

/// The key group of a key hash: `murmur(hash) % max_parallelism`.
#[inline]
pub fn key_group_for_hash(key_hash: i32, max_parallelism: usize) -> usize {
    murmur_hash(key_hash) as usize % max_parallelism
}

/// The key group of a key (Flink's `KeyGroupRangeAssignment.assignToKeyGroup`).
#[inline]
pub fn assign_to_key_group<K: KeyHash + ?Sized>(key: &K, max_parallelism: usize) -> usize {
    key_group_for_hash(key.key_hash(), max_parallelism)
}

/// The subtask that owns a key group (`computeOperatorIndexForKeyGroup`).
#[inline]
pub fn operator_index_for_key_group(max_parallelism: usize, parallelism: usize, key_group: usize) -> usize {
    key_group * parallelism / max_parallelism
}

/// A contiguous, inclusive range of key groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyGroupRange {
    pub start: usize,
    /// Inclusive end; `end < start` means empty.
    pub end: usize,
}

impl KeyGroupRange {
    /// The key groups subtask `index` owns (`computeKeyGroupRangeForOperatorIndex`).
    pub fn for_operator_index(max_parallelism: usize, parallelism: usize, index: usize) -> Self {
        let start = (index * max_parallelism).div_ceil(parallelism);
        let end = ((index + 1) * max_parallelism).div_ceil(parallelism) - 1;
        Self { start, end }
    }

    pub fn contains(&self, key_group: usize) -> bool {
        self.start <= key_group && key_group <= self.end
    }

    pub fn len(&self) -> usize {
        if self.end < self.start { 0 } else { self.end - self.start + 1 }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Flink's default max parallelism for an operator of parallelism `p`:
/// `min(max(roundUpToPowerOfTwo(p + p/2), 128), 32768)`.
pub fn default_max_parallelism(parallelism: usize) -> usize {
    let p = parallelism + parallelism / 2;
    p.next_power_of_two().clamp(DEFAULT_MAX_PARALLELISM, UPPER_BOUND_MAX_PARALLELISM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn java_hash_codes() {
        assert_eq!("hello".key_hash(), 99_162_322);
        assert_eq!("".key_hash(), 0);
        assert_eq!("Aa".key_hash(), "BB".key_hash());
        assert_eq!(42i32.key_hash(), 42);
        assert_eq!(1i64.key_hash(), 1);
        assert_eq!((-1i64).key_hash(), 0);
        assert_eq!((1i64 << 32).key_hash(), 1);
        assert_eq!(true.key_hash(), 1231);
        // Tuple2.of("a", 1).hashCode() == 31 * 97 + 1
        assert_eq!(("a", 1i32).key_hash(), 31 * 97 + 1);
        // "ü" is one UTF-16 unit (0xFC); "😀" is two (0xD83D, 0xDE00).
        assert_eq!("ü".key_hash(), 0xFC);
        assert_eq!("😀".key_hash(), 0xD83D * 31 + 0xDE00);
    }

    #[test]
    fn murmur_matches_flink() {
        // Values printed by Flink 2.3's own classes (flink-dist-2.3.0.jar, Java 17):
        // MathUtils.murmurHash and KeyGroupRangeAssignment.
        assert_eq!(murmur_hash(0), 593_689_054);
        assert_eq!(murmur_hash(1), 68_075_478);
        assert_eq!(murmur_hash(42), 1_134_849_565);
        assert_eq!(murmur_hash(-1), 1_982_413_648);
        assert_eq!(assign_to_key_group("hello", 128), 35);
        assert_eq!(assign_to_key_group(&42i64, 128), 29);
        assert_eq!(assign_to_key_group(&("a", 1i32), 128), 29);
        // assignKeyToParallelOperator("hello", 128, 3)
        assert_eq!(operator_index_for_key_group(128, 3, assign_to_key_group("hello", 128)), 0);
    }

    #[test]
    fn key_group_ranges_partition_all_groups() {
        // computeKeyGroupRangeForOperatorIndex(128, 3, i) in Flink 2.3: [0,42], [43,85], [86,127].
        let r = KeyGroupRange::for_operator_index(128, 3, 0);
        assert_eq!((r.start, r.end), (0, 42));
        let r = KeyGroupRange::for_operator_index(128, 3, 1);
        assert_eq!((r.start, r.end), (43, 85));
        let r = KeyGroupRange::for_operator_index(128, 3, 2);
        assert_eq!((r.start, r.end), (86, 127));
    }

    #[test]
    fn default_max_parallelism_follows_flink() {
        assert_eq!(default_max_parallelism(1), 128);
        assert_eq!(default_max_parallelism(100), 256);
        assert_eq!(default_max_parallelism(100_000), 32_768);
    }

    proptest! {
        /// Every key group is owned by exactly the subtask whose range contains it,
        /// and that subtask is `kg * p / maxP`.
        #[test]
        fn operator_index_agrees_with_ranges(max_p in 1usize..4096, p_seed in 1usize..4096, key in any::<i64>()) {
            let p = 1 + p_seed % max_p;
            let kg = assign_to_key_group(&key, max_p);
            prop_assert!(kg < max_p);
            let idx = operator_index_for_key_group(max_p, p, kg);
            prop_assert!(idx < p);
            let range = KeyGroupRange::for_operator_index(max_p, p, idx);
            prop_assert!(range.contains(kg), "kg {} not in {:?} of subtask {}", kg, range, idx);
        }

        /// The ranges of all subtasks tile [0, maxP) without gaps or overlaps.
        #[test]
        fn ranges_tile_key_groups(max_p in 1usize..2048, p_seed in 1usize..2048) {
            let p = 1 + p_seed % max_p;
            let mut next = 0;
            for i in 0..p {
                let r = KeyGroupRange::for_operator_index(max_p, p, i);
                prop_assert_eq!(r.start, next);
                next = r.end + 1;
            }
            prop_assert_eq!(next, max_p);
        }

        #[test]
        fn murmur_is_non_negative(code in any::<i32>()) {
            prop_assert!(murmur_hash(code) >= 0);
        }
    }
}
