//! The generator's random source: SplitMix64 seeded from `(seed, event id)`, so that
//! every event is a pure function of its id (SPEC §2.10's recommendation). That is
//! what makes generation parallel, reproducible at any parallelism, and restorable
//! from an event count alone.

/// A SplitMix64 stream for one event.
#[derive(Clone, Debug)]
pub(crate) struct EventRng {
    state: u64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl EventRng {
    /// The stream of event `event_id` under `seed`.
    #[inline]
    pub(crate) fn for_event(seed: u64, event_id: i64) -> Self {
        Self { state: mix(seed ^ mix((event_id as u64).wrapping_mul(GOLDEN))) }
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// Uniform in `[0, n)` (Lemire's multiply-shift; `n` = 0 gives 0).
    #[inline]
    pub(crate) fn next_int(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// Uniform in `[0, n)` for a bound that may not fit in 32 bits (`n` ≤ 0 gives 0).
    #[inline]
    pub(crate) fn next_long(&mut self, n: i64) -> i64 {
        if n <= 0 {
            0
        } else if n <= i64::from(u32::MAX) {
            i64::from(self.next_int(n as u32))
        } else {
            (self.next_u64() % n as u64) as i64
        }
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub(crate) fn next_double(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_event_gives_the_same_stream_and_neighbours_differ() {
        let a: Vec<u64> = (0..4).scan(EventRng::for_event(7, 42), |r, _| Some(r.next_u64())).collect();
        let b: Vec<u64> = (0..4).scan(EventRng::for_event(7, 42), |r, _| Some(r.next_u64())).collect();
        let c: Vec<u64> = (0..4).scan(EventRng::for_event(7, 43), |r, _| Some(r.next_u64())).collect();
        let d: Vec<u64> = (0..4).scan(EventRng::for_event(8, 42), |r, _| Some(r.next_u64())).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn bounded_draws_stay_in_range_and_cover_it() {
        let mut rng = EventRng::for_event(1, 1);
        let mut seen = [0u32; 13];
        for _ in 0..13_000 {
            seen[rng.next_int(13) as usize] += 1;
        }
        // Each of 13 values expected 1,000 times; 5 sigma is about ±150.
        assert!(seen.iter().all(|&n| (850..=1150).contains(&n)), "{seen:?}");
        assert_eq!(rng.next_int(0), 0);
        assert_eq!(rng.next_long(0), 0);
        assert!((0..1000).all(|_| rng.next_long(5_000_000_000) < 5_000_000_000));
        assert!((0..1000).all(|_| (0.0..1.0).contains(&rng.next_double())));
    }
}
