//! q16 — channel statistics report: q15's counters per `(channel, day)`, plus
//! `minute = MAX(DATE_FORMAT(dateTime, 'HH:mm'))` (the latest minute of day
//! seen). Updating like q15: `+I` for a key's first bid, then `-U`/`+U` for
//! every bid.

use super::bid_stats::{BidStats, DistinctBands};
use super::csv::{Change, CsvLine, CsvRow, emit_update};
use super::streams::bids;
use super::time::{day_number, format_day, format_minute, minute_of_day};
use brook_api::{
    Collector, DataStream, KeyedContext, KeyedProcessFunction, RuntimeContext, ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

/// `(channel, day, minute, …the twelve counters of q15)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q16Row {
    pub channel: String,
    pub day: i64,
    pub minute: i64,
    pub stats: BidStats,
}

impl CsvRow for Q16Row {
    fn write_csv(&self, out: &mut String) {
        let mut line = CsvLine::new(out);
        line.str(&self.channel).str(&format_day(self.day)).str(&format_minute(self.minute));
        self.stats.write_csv(&mut line);
    }
}

#[derive(Clone, Default)]
struct ChannelStats {
    /// (latest minute of day, counters).
    stats: ValueState<(i64, BidStats)>,
    distinct: DistinctBands,
}

impl KeyedProcessFunction<(String, i64), Bid, Change<Q16Row>> for ChannelStats {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.stats = ctx.get_state(&ValueStateDescriptor::new("stats"));
        self.distinct.open(ctx);
    }

    fn process_element(
        &mut self,
        bid: Bid,
        ctx: &mut KeyedContext<'_, (String, i64)>,
        out: &mut Collector<Change<Q16Row>>,
    ) {
        let (channel, day) = ctx.current_key().clone();
        let old = ctx.state(&self.stats).value().copied();
        let (minute, mut stats) = old.unwrap_or((i64::MIN, BidStats::default()));
        let minute = minute.max(minute_of_day(bid.date_time));
        self.distinct.add(&mut stats, bid.bidder, bid.auction, bid.price, ctx);
        ctx.state(&self.stats).update((minute, stats));
        let row = |(minute, stats): (i64, BidStats)| Q16Row { channel: channel.clone(), day, minute, stats };
        emit_update(old.map(row), row((minute, stats)), out);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Change<Q16Row>> {
    bids(events)
        .key_by(|b: &Bid| (b.channel.clone(), day_number(b.date_time)))
        .process(ChannelStats::default())
        .name("q16: Channel Bid Statistics")
}
