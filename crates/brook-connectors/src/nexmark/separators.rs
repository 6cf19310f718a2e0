//! The separators of exported CSV text — `,`, `\n` and `"` — found 64 bytes
//! at a time: one pass over the read buffer gives every line's end and field
//! boundaries, where a search per field and one per line went over the bytes
//! again and again.

/// Positions of `,`, `\n` and `"` in `bytes`, in order.
pub(super) struct Separators<'a> {
    bytes: &'a [u8],
    /// Where the block of `mask` starts.
    base: usize,
    /// The separators of that block not yet returned (bit i: byte base + i).
    mask: u64,
}

impl<'a> Separators<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        let mask = block_mask(bytes, 0);
        Self { bytes, base: 0, mask }
    }
}

impl Iterator for Separators<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 64;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.mask = block_mask(self.bytes, self.base);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// The separators among the 64 bytes from `base` (fewer at the end).
#[inline]
fn block_mask(bytes: &[u8], base: usize) -> u64 {
    match bytes.get(base..base + 64) {
        Some(block) => mask_of(block.try_into().expect("64 bytes")),
        None => {
            let mut block = [0u8; 64];
            let tail = bytes.get(base..).unwrap_or_default();
            block[..tail.len()].copy_from_slice(tail);
            mask_of(&block)
        }
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
#[allow(unsafe_code)]
fn mask_of(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    // SAFETY: SSE2 is enabled (the cfg above; it is part of x86-64), and each
    // unaligned load reads 16 bytes inside the 64 of `block`.
    unsafe {
        let (comma, newline, quote) =
            (_mm_set1_epi8(b',' as i8), _mm_set1_epi8(b'\n' as i8), _mm_set1_epi8(b'"' as i8));
        let mut mask = 0u64;
        for i in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast::<__m128i>());
            let hits = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, newline)),
                _mm_cmpeq_epi8(v, quote),
            );
            mask |= u64::from(_mm_movemask_epi8(hits) as u16) << (16 * i);
        }
        mask
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
fn mask_of(block: &[u8; 64]) -> u64 {
    let mut mask = 0u64;
    for (i, &b) in block.iter().enumerate() {
        mask |= u64::from((b == b',') | (b == b'\n') | (b == b'"')) << i;
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_separator_is_found_in_order_at_any_length_and_offset() {
        let text: Vec<u8> = (0..300u32)
            .map(|i| match i % 11 {
                0 => b',',
                5 if i % 3 == 0 => b'\n',
                7 if i % 5 == 0 => b'"',
                _ => [b'a', 0x2B, 0x2D, 0xAC, 0x0B, 0x22 ^ 0x80, b'9'][(i % 7) as usize],
            })
            .collect();
        for start in 0..70 {
            for end in (start..text.len()).step_by(13).chain([text.len()]) {
                let bytes = &text[start..end];
                let expected: Vec<usize> =
                    (0..bytes.len()).filter(|&i| matches!(bytes[i], b',' | b'\n' | b'"')).collect();
                assert_eq!(Separators::new(bytes).collect::<Vec<_>>(), expected, "{start}..{end}");
            }
        }
        assert_eq!(Separators::new(b"").count(), 0);
    }
}
