//! The counters q15 and q16 share: bids, distinct bidders and distinct
//! auctions, overall and per price band (`price < 10,000`, `10,000 ≤ price <
//! 1,000,000`, `price ≥ 1,000,000`), with `COUNT(DISTINCT x) FILTER (…)`
//! kept exact by remembering, per bidder and per auction, the bands seen.

use super::csv::CsvLine;
use brook_api::state::StateKey;
use brook_api::{KeyedContext, MapState, MapStateDescriptor, RuntimeContext};
use serde::{Deserialize, Serialize};

/// The price band of the `rank1/2/3` filters: 0, 1 or 2.
pub fn band(price: i64) -> usize {
    if price < 10_000 {
        0
    } else if price < 1_000_000 {
        1
    } else {
        2
    }
}

/// The twelve counters, in the SELECT's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidStats {
    pub total_bids: i64,
    pub rank_bids: [i64; 3],
    pub total_bidders: i64,
    pub rank_bidders: [i64; 3],
    pub total_auctions: i64,
    pub rank_auctions: [i64; 3],
}

impl BidStats {
    pub fn write_csv(&self, line: &mut CsvLine<'_>) {
        line.int(self.total_bids);
        for n in self.rank_bids {
            line.int(n);
        }
        line.int(self.total_bidders);
        for n in self.rank_bidders {
            line.int(n);
        }
        line.int(self.total_auctions);
        for n in self.rank_auctions {
            line.int(n);
        }
    }
}

/// The keyed state behind [`BidStats`]: which bands each bidder and auction was seen in.
#[derive(Clone, Default)]
pub struct DistinctBands {
    bidders: MapState<i64, u8>,
    auctions: MapState<i64, u8>,
}

impl DistinctBands {
    pub fn open(&mut self, ctx: &RuntimeContext) {
        self.bidders = ctx.get_state(&MapStateDescriptor::new("bidder-bands"));
        self.auctions = ctx.get_state(&MapStateDescriptor::new("auction-bands"));
    }

    /// Counts a bid into `stats`.
    pub fn add<K: StateKey>(
        &self,
        stats: &mut BidStats,
        bidder: i64,
        auction: i64,
        price: i64,
        ctx: &mut KeyedContext<'_, K>,
    ) {
        let b = band(price);
        stats.total_bids += 1;
        stats.rank_bids[b] += 1;
        let (new, new_in_band) = Self::see(&mut ctx.map_state(&self.bidders), bidder, b);
        stats.total_bidders += i64::from(new);
        stats.rank_bidders[b] += i64::from(new_in_band);
        let (new, new_in_band) = Self::see(&mut ctx.map_state(&self.auctions), auction, b);
        stats.total_auctions += i64::from(new);
        stats.rank_auctions[b] += i64::from(new_in_band);
    }

    /// Marks `id` as seen in `band`: (first time at all, first time in this band).
    fn see<K: StateKey>(
        state: &mut brook_api::state::MapStateRef<'_, K, (), i64, u8>,
        id: i64,
        band: usize,
    ) -> (bool, bool) {
        let bit = 1u8 << band;
        let mask = state.get(&id).copied();
        if mask.is_some_and(|m| m & bit != 0) {
            return (false, false);
        }
        state.put(id, mask.unwrap_or(0) | bit);
        (mask.is_none(), true)
    }
}
