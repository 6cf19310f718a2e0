//! [`NexmarkConfig`]: the options of Flink's `nexmark` table connector (SPEC §2.1)
//! with their keys and defaults, plus Brook's `seed`, `base-time`, `splits` and
//! `flink-quirks`.

use super::error::NexmarkError;

/// Events per `Long.MAX / (50 × 500)`: Flink's stand-in for "unbounded".
pub const UNBOUNDED_EVENTS: u64 = 368_934_881_474_191;

/// How the generator is configured. Keys are Flink's (`events.num`, …); see
/// [`NexmarkConfig::set`].
#[derive(Clone, Debug, PartialEq)]
pub struct NexmarkConfig {
    /// `events.num`: events over all splits; 0 = unbounded.
    pub events_num: u64,
    /// `first-event.rate`: events per event-time second over all splits (drives
    /// timestamps only, unless `max_emit_speed` is false).
    pub first_event_rate: u64,
    /// `person.proportion`, `auction.proportion`, `bid.proportion`: 1 / 3 / 46.
    pub person_proportion: u32,
    pub auction_proportion: u32,
    pub bid_proportion: u32,
    /// `person.avg-size`, `auction.avg-size`, `bid.avg-size` in bytes: 200 / 500 / 100.
    pub person_avg_size: u32,
    pub auction_avg_size: u32,
    pub bid_avg_size: u32,
    /// `bid.hot-ratio.auctions` (2), `bid.hot-ratio.bidders` (4),
    /// `auction.hot-ratio.sellers` (4): P(hot) = 1 − 1/ratio.
    pub hot_auction_ratio: u32,
    pub hot_bidder_ratio: u32,
    pub hot_seller_ratio: u32,
    /// `max-emit-speed`: true emits as fast as possible; false paces each split to
    /// wall-clock due times (`first-event.rate`).
    pub max_emit_speed: bool,
    /// `keep-alive`: an exhausted split stays open (the source never ends).
    pub keep_alive: bool,
    /// `stop-at`: each split stops after this many events (−1 = no limit).
    pub stop_at: i64,
    /// `seed` (Brook): every event is a pure function of `(seed, event id)`.
    pub seed: u64,
    /// `base-time` (Brook; Flink uses the wall clock): event time of event number 0,
    /// epoch ms. Default 2015-07-15 00:00:00 UTC, as RisingWave.
    pub base_time: i64,
    /// `splits` (Brook): number of sub-generators; 0 = one per source subtask
    /// (Flink's `numEventGenerators` = parallelism). Fix it to get the same events
    /// at any parallelism.
    pub splits: u32,
    /// `flink-quirks` (Brook, default true): reproduce SPEC §2.11's quirks 1 (bidder
    /// + 2000) and 4 (padding characters `H..z`); false gives Beam's behaviour.
    pub flink_quirks: bool,
}

impl Default for NexmarkConfig {
    fn default() -> Self {
        Self {
            events_num: 0,
            first_event_rate: 10_000,
            person_proportion: 1,
            auction_proportion: 3,
            bid_proportion: 46,
            person_avg_size: 200,
            auction_avg_size: 500,
            bid_avg_size: 100,
            hot_auction_ratio: 2,
            hot_bidder_ratio: 4,
            hot_seller_ratio: 4,
            max_emit_speed: true,
            keep_alive: false,
            stop_at: -1,
            seed: 0,
            base_time: 1_436_918_400_000,
            splits: 0,
            flink_quirks: true,
        }
    }
}

/// Every key [`NexmarkConfig::set`] accepts, with its meaning.
pub const OPTION_KEYS: &[(&str, &str)] = &[
    ("events.num", "events over all splits; 0 = unbounded"),
    ("first-event.rate", "events per event-time second over all splits"),
    ("next-event.rate", "accepted and ignored, as in Flink"),
    ("rate.shape", "accepted and ignored, as in Flink"),
    ("rate.period", "accepted and ignored, as in Flink"),
    ("rate.limited", "accepted and ignored, as in Flink"),
    ("person.proportion", "persons per 50 events (1)"),
    ("auction.proportion", "auctions per 50 events (3)"),
    ("bid.proportion", "bids per 50 events (46)"),
    ("person.avg-size", "bytes (200)"),
    ("auction.avg-size", "bytes (500)"),
    ("bid.avg-size", "bytes (100)"),
    ("bid.hot-ratio.auctions", "P(hot auction) = 1 - 1/ratio (2)"),
    ("bid.hot-ratio.bidders", "P(hot bidder) = 1 - 1/ratio (4)"),
    ("auction.hot-ratio.sellers", "P(hot seller) = 1 - 1/ratio (4)"),
    ("max-emit-speed", "true: as fast as possible; false: paced by first-event.rate"),
    ("keep-alive", "an exhausted split stays open"),
    ("stop-at", "events per split before it stops (-1: no limit)"),
    ("seed", "seed of the per-event random source (0)"),
    ("base-time", "event time of event number 0, epoch ms"),
    ("splits", "sub-generators; 0 = one per source subtask"),
    ("flink-quirks", "bidder +2000 and H..z padding, as Flink (true)"),
];

impl NexmarkConfig {
    /// Sets the option `key` (a Flink connector key or one of Brook's, see
    /// [`OPTION_KEYS`]) from its text.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), NexmarkError> {
        let bad = |reason: &str| NexmarkError::InvalidOption {
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        };
        let num = || value.trim().replace('_', "").parse::<u64>().map_err(|_| bad("expected a non-negative integer"));
        let small = || num().and_then(|n| u32::try_from(n).map_err(|_| bad("too large")));
        let flag = || value.trim().parse::<bool>().map_err(|_| bad("expected true or false"));
        match key {
            "events.num" => self.events_num = num()?,
            "first-event.rate" => self.first_event_rate = num()?,
            "next-event.rate" | "rate.shape" | "rate.period" | "rate.limited" => {}
            "person.proportion" => self.person_proportion = small()?,
            "auction.proportion" => self.auction_proportion = small()?,
            "bid.proportion" => self.bid_proportion = small()?,
            "person.avg-size" => self.person_avg_size = small()?,
            "auction.avg-size" => self.auction_avg_size = small()?,
            "bid.avg-size" => self.bid_avg_size = small()?,
            "bid.hot-ratio.auctions" => self.hot_auction_ratio = small()?,
            "bid.hot-ratio.bidders" => self.hot_bidder_ratio = small()?,
            "auction.hot-ratio.sellers" => self.hot_seller_ratio = small()?,
            "max-emit-speed" => self.max_emit_speed = flag()?,
            "keep-alive" => self.keep_alive = flag()?,
            "stop-at" => self.stop_at = value.trim().parse().map_err(|_| bad("expected an integer"))?,
            "seed" => self.seed = num()?,
            "base-time" => self.base_time = value.trim().parse().map_err(|_| bad("expected epoch milliseconds"))?,
            "splits" => self.splits = small()?,
            "flink-quirks" => self.flink_quirks = flag()?,
            _ => {
                let known: Vec<&str> = OPTION_KEYS.iter().map(|(k, _)| *k).collect();
                return Err(NexmarkError::UnknownOption { key: key.to_string(), known: known.join(", ") });
            }
        }
        self.validate()
    }

    /// Checks that the options describe a generator that can run.
    pub fn validate(&self) -> Result<(), NexmarkError> {
        let bad = |key: &str, value: String, reason: &str| {
            Err(NexmarkError::InvalidOption { key: key.into(), value, reason: reason.into() })
        };
        if self.first_event_rate == 0 {
            return bad("first-event.rate", "0".into(), "must be at least 1 event per second");
        }
        if self.person_proportion == 0 || self.auction_proportion == 0 {
            return bad(
                "person.proportion / auction.proportion",
                format!("{} / {}", self.person_proportion, self.auction_proportion),
                "must be at least 1 (bids and auctions refer to persons and auctions)",
            );
        }
        Ok(())
    }

    /// Events over all splits (`events.num`, or Flink's unbounded stand-in).
    pub fn max_events(&self) -> u64 {
        if self.events_num == 0 { UNBOUNDED_EVENTS } else { self.events_num }
    }

    /// `person + auction + bid` proportions.
    pub fn total_proportion(&self) -> u64 {
        u64::from(self.person_proportion) + u64::from(self.auction_proportion) + u64::from(self.bid_proportion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flink_keys_set_fields_and_bad_values_say_which_key() {
        let mut c = NexmarkConfig::default();
        c.set("events.num", "1_000").unwrap();
        c.set("bid.hot-ratio.bidders", "8").unwrap();
        c.set("rate.shape", "SINE").unwrap();
        assert_eq!((c.events_num, c.hot_bidder_ratio), (1000, 8));
        let e = c.set("first-event.rate", "fast").unwrap_err().to_string();
        assert_eq!(e, "invalid value 'fast' for nexmark option 'first-event.rate': expected a non-negative integer");
        let e = c.set("bid.ratio", "1").unwrap_err().to_string();
        assert!(e.starts_with("unknown nexmark option 'bid.ratio'; known options: events.num, "), "{e}");
    }
}
