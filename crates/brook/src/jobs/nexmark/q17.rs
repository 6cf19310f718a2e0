//! q17 — auction statistics report: per `(auction, day)`, bid counts overall
//! and per price band, and min, max, avg (`BIGINT`, truncated) and sum of the
//! price. Updating: `+I` for a key's first bid, then `-U`/`+U` for every bid.

use super::bid_stats::band;
use super::csv::{Change, CsvLine, CsvRow, emit_update};
use super::streams::bids;
use super::time::{day_number, format_day};
use brook_api::{
    Collector, DataStream, KeyedContext, KeyedProcessFunction, RuntimeContext, ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

/// The aggregates of one `(auction, day)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionStats {
    pub total_bids: i64,
    pub rank_bids: [i64; 3],
    pub min_price: i64,
    pub max_price: i64,
    pub sum_price: i64,
}

/// `(auction, day, total_bids, rank1..3_bids, min_price, max_price, avg_price, sum_price)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q17Row {
    pub auction: i64,
    pub day: i64,
    pub stats: AuctionStats,
}

impl CsvRow for Q17Row {
    fn write_csv(&self, out: &mut String) {
        let s = &self.stats;
        let mut line = CsvLine::new(out);
        line.int(self.auction).str(&format_day(self.day)).int(s.total_bids);
        for n in s.rank_bids {
            line.int(n);
        }
        line.int(s.min_price).int(s.max_price).int(s.sum_price / s.total_bids).int(s.sum_price);
    }
}

#[derive(Clone, Default)]
struct AuctionDayStats {
    stats: ValueState<AuctionStats>,
}

impl KeyedProcessFunction<(i64, i64), Bid, Change<Q17Row>> for AuctionDayStats {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.stats = ctx.get_state(&ValueStateDescriptor::new("stats"));
    }

    fn process_element(
        &mut self,
        bid: Bid,
        ctx: &mut KeyedContext<'_, (i64, i64)>,
        out: &mut Collector<Change<Q17Row>>,
    ) {
        let (auction, day) = *ctx.current_key();
        let old = ctx.state(&self.stats).value().copied();
        let mut s = old.unwrap_or(AuctionStats {
            total_bids: 0,
            rank_bids: [0; 3],
            min_price: i64::MAX,
            max_price: i64::MIN,
            sum_price: 0,
        });
        s.total_bids += 1;
        s.rank_bids[band(bid.price)] += 1;
        s.min_price = s.min_price.min(bid.price);
        s.max_price = s.max_price.max(bid.price);
        s.sum_price += bid.price;
        ctx.state(&self.stats).update(s);
        emit_update(old.map(|stats| Q17Row { auction, day, stats }), Q17Row { auction, day, stats: s }, out);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Change<Q17Row>> {
    bids(events)
        .key_by(|b: &Bid| (b.auction, day_number(b.date_time)))
        .process(AuctionDayStats::default())
        .name("q17: Auction Statistics")
}
