//! q15 — bidding statistics report: per day, bids and distinct bidders and
//! auctions, overall and per price band. An unbounded group aggregation: an
//! updating result, `+I` for a day's first bid, then `-U`/`+U` for every bid
//! (each changes `total_bids`), as Flink's group aggregation emits without
//! mini-batch. Keyed by day; the distinct counts are exact.

use super::bid_stats::{BidStats, DistinctBands};
use super::csv::{Change, CsvLine, CsvRow, emit_update};
use super::streams::bids;
use super::time::{day_number, format_day};
use brook_api::{
    Collector, DataStream, KeyedContext, KeyedProcessFunction, RuntimeContext, ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

/// `(day, total_bids, rank1..3_bids, total_bidders, rank1..3_bidders,
/// total_auctions, rank1..3_auctions)`; `day` as days since the epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q15Row {
    pub day: i64,
    pub stats: BidStats,
}

impl CsvRow for Q15Row {
    fn write_csv(&self, out: &mut String) {
        let mut line = CsvLine::new(out);
        line.str(&format_day(self.day));
        self.stats.write_csv(&mut line);
    }
}

#[derive(Clone, Default)]
struct DailyStats {
    stats: ValueState<BidStats>,
    distinct: DistinctBands,
}

impl KeyedProcessFunction<i64, Bid, Change<Q15Row>> for DailyStats {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.stats = ctx.get_state(&ValueStateDescriptor::new("stats"));
        self.distinct.open(ctx);
    }

    fn process_element(&mut self, bid: Bid, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Change<Q15Row>>) {
        let day = *ctx.current_key();
        let old = ctx.state(&self.stats).value().copied();
        let mut stats = old.unwrap_or_default();
        self.distinct.add(&mut stats, bid.bidder, bid.auction, bid.price, ctx);
        ctx.state(&self.stats).update(stats);
        emit_update(old.map(|stats| Q15Row { day, stats }), Q15Row { day, stats }, out);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Change<Q15Row>> {
    bids(events)
        .key_by(|b: &Bid| day_number(b.date_time))
        .process(DailyStats::default())
        .name("q15: Daily Bid Statistics")
}
