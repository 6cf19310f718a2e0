//! q4 — average price for a category: the average, per category, of every
//! auction's final price (its highest valid bid), as an updating result.
//!
//! Stage 1, keyed by auction: the highest valid bid so far; each raise is sent
//! on as `(category, old max, new max)`. Stage 2, keyed by category: sum and
//! count of the auctions' maxima, retracting an old max and adding the new one
//! in one step (as Flink does when the `-U`/`+U` pair meets in one mini-batch),
//! and emitting like Flink's group aggregation: `+I` for the first average, `-U`
//! and `+U` when it changes, nothing when it does not. `AVG` of a `BIGINT` is a
//! `BIGINT` (truncating division). Bids that arrive before their auction are
//! joined in one step when it arrives.

use super::auction_bids::in_lifetime;
use super::csv::{Change, CsvLine, CsvRow, emit_update};
use super::streams::{OneInput, auction_id, auctions_and_bids};
use brook_api::{
    Collector, DataStream, KeyedCoProcessFunction, KeyedContext, KeyedProcessFunction, ListState, ListStateDescriptor,
    RuntimeContext, ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Auction, Bid, Event};
use serde::{Deserialize, Serialize};

/// `(category, avg)` (the sink names them `id, final`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q4Row {
    pub category: i64,
    pub avg: i64,
}

impl CsvRow for Q4Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).int(self.category).int(self.avg);
    }
}

/// An auction's final price changed from `old` (none: its first valid bid) to `new`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxChange {
    pub category: i64,
    pub old: Option<i64>,
    pub new: i64,
}

#[derive(Clone, Default)]
struct MaxPerAuction {
    auction: ValueState<Auction>,
    max: ValueState<i64>,
    waiting_bids: ListState<Bid>,
}

impl KeyedCoProcessFunction<i64, Auction, Bid, MaxChange> for MaxPerAuction {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.auction = ctx.get_state(&ValueStateDescriptor::new("auction"));
        self.max = ctx.get_state(&ValueStateDescriptor::new("max"));
        self.waiting_bids = ctx.get_state(&ListStateDescriptor::new("waiting-bids"));
    }

    fn process_element1(&mut self, a: Auction, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<MaxChange>) {
        let max = ctx.list_state(&self.waiting_bids).get().iter().filter(|b| in_lifetime(&a, b)).map(|b| b.price).max();
        ctx.list_state(&self.waiting_bids).clear();
        if let Some(max) = max {
            out.collect(MaxChange { category: a.category, old: None, new: max });
            ctx.state(&self.max).update(max);
        }
        // Only the lifetime and category are needed from here on.
        ctx.state(&self.auction).update(Auction {
            item_name: String::new(),
            description: String::new(),
            extra: String::new(),
            ..a
        });
    }

    fn process_element2(&mut self, bid: Bid, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<MaxChange>) {
        let Some(a) = ctx.state(&self.auction).value().cloned() else {
            ctx.list_state(&self.waiting_bids).add(bid);
            return;
        };
        if !in_lifetime(&a, &bid) {
            return;
        }
        let category = a.category;
        let old = ctx.state(&self.max).value().copied();
        if old.is_none_or(|old| bid.price > old) {
            out.collect(MaxChange { category, old, new: bid.price });
            ctx.state(&self.max).update(bid.price);
        }
    }
}

#[derive(Clone, Default)]
struct AveragePerCategory {
    /// (sum, count) of the auctions' final prices.
    sum_count: ValueState<(i64, i64)>,
}

impl KeyedProcessFunction<i64, MaxChange, Change<Q4Row>> for AveragePerCategory {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.sum_count = ctx.get_state(&ValueStateDescriptor::new("sum-count"));
    }

    fn process_element(&mut self, c: MaxChange, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Change<Q4Row>>) {
        let before = ctx.state(&self.sum_count).value().copied();
        let (mut sum, mut count) = before.unwrap_or((0, 0));
        match c.old {
            Some(old) => sum += c.new - old,
            None => {
                sum += c.new;
                count += 1;
            }
        }
        ctx.state(&self.sum_count).update((sum, count));
        let old = before.map(|(s, n)| Q4Row { category: c.category, avg: s / n });
        emit_update(old, Q4Row { category: c.category, avg: sum / count }, out);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Change<Q4Row>> {
    auctions_and_bids(events)
        .key_by(auction_id)
        .process(OneInput(MaxPerAuction::default()))
        .name("q4: Max Price per Auction")
        .key_by(|c: &MaxChange| c.category)
        .process(AveragePerCategory::default())
        .name("q4: Average per Category")
}
