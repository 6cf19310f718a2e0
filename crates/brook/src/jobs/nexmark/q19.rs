//! q19 — auction top-10 price: the 10 highest bids of each auction with their
//! rank (`ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) <= 10`).
//!
//! Emitted as Flink's append-only Top-N with row numbers: a bid that enters the
//! top 10 at rank r (after the bids of equal price already there) takes rank r,
//! and every bid below moves down one: for each, `-U` of it at its old rank and
//! `+U` of the bid above it at that rank; the last one moved gets `+I` at its new
//! rank if that is still within 10 (else it silently leaves). A bid below the
//! top 10 changes nothing.

use super::bid_row::write_bid;
use super::csv::{Change, CsvLine, CsvRow};
use super::streams::bids;
use brook_api::{
    Collector, DataStream, KeyedContext, KeyedProcessFunction, RuntimeContext, ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

pub const TOP_N: usize = 10;

/// The bid's columns and `rank_number`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q19Row {
    pub bid: Bid,
    pub rank_number: i64,
}

impl CsvRow for Q19Row {
    fn write_csv(&self, out: &mut String) {
        let mut line = CsvLine::new(out);
        write_bid(&mut line, &self.bid);
        line.int(self.rank_number);
    }
}

/// Inserts `bid` into `top` (sorted by price, descending; equal prices in
/// arrival order) and emits the changes, as Flink's `AppendOnlyTopNFunction`
/// with row numbers does.
pub fn insert_ranked(top: &mut Vec<Bid>, bid: Bid, n: usize, out: &mut Collector<Change<Q19Row>>) {
    let position = top.iter().take_while(|b| b.price >= bid.price).count();
    if position >= n {
        return;
    }
    top.insert(position, bid);
    let row = |b: &Bid, rank: usize| Q19Row { bid: b.clone(), rank_number: rank as i64 };
    let mut current = position;
    let mut rank = position + 1;
    for k in position + 1..top.len() {
        rank = k;
        if rank > n {
            break;
        }
        out.collect(Change::update_before(row(&top[k], rank)));
        out.collect(Change::update_after(row(&top[current], rank)));
        current = k;
        rank = k + 1;
    }
    if rank <= n {
        out.collect(Change::insert(row(&top[current], rank)));
    }
    top.truncate(n);
}

#[derive(Clone, Default)]
struct TopBids {
    top: ValueState<Vec<Bid>>,
}

impl KeyedProcessFunction<i64, Bid, Change<Q19Row>> for TopBids {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.top = ctx.get_state(&ValueStateDescriptor::new("top"));
    }

    fn process_element(&mut self, bid: Bid, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Change<Q19Row>>) {
        let below_top =
            ctx.state(&self.top).value().is_some_and(|top| top.len() >= TOP_N && top[TOP_N - 1].price >= bid.price);
        if below_top {
            return;
        }
        let mut top = ctx.state(&self.top).value().cloned().unwrap_or_default();
        insert_ranked(&mut top, bid, TOP_N, out);
        ctx.state(&self.top).update(top);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Change<Q19Row>> {
    bids(events).key_by(|b: &Bid| b.auction).process(TopBids::default()).name("q19: Top 10 Bids per Auction")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bid(price: i64) -> Bid {
        Bid {
            auction: 1,
            bidder: price,
            price,
            channel: String::new(),
            url: String::new(),
            date_time: 0,
            extra: String::new(),
        }
    }

    fn changes(out: Collector<Change<Q19Row>>) -> Vec<(&'static str, i64, i64)> {
        out.into_values().into_iter().map(|c| (c.kind.short(), c.row.bid.price, c.row.rank_number)).collect()
    }

    /// Top 2 of [100, 90]: 95 takes rank 2 and 90 leaves without a `-D` (Flink
    /// replaces it by the `+U` at its rank); 10 is below the top and changes nothing.
    #[test]
    fn a_bid_entering_a_full_top_n_pushes_the_last_one_out() {
        let mut top = vec![bid(100), bid(90)];
        let mut out = Collector::new();
        insert_ranked(&mut top, bid(95), 2, &mut out);
        assert_eq!(changes(out), vec![("-U", 90, 2), ("+U", 95, 2)]);
        assert_eq!(top.iter().map(|b| b.price).collect::<Vec<_>>(), vec![100, 95]);
        let mut out = Collector::new();
        insert_ranked(&mut top, bid(10), 2, &mut out);
        assert_eq!(changes(out), vec![]);
        let mut out = Collector::new();
        insert_ranked(&mut top, bid(200), 2, &mut out);
        assert_eq!(changes(out), vec![("-U", 100, 1), ("+U", 200, 1), ("-U", 95, 2), ("+U", 100, 2)]);
    }
}
