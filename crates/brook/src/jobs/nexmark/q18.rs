//! q18 — find last bid: each bidder's latest bid on each auction (`ROW_NUMBER()
//! OVER (PARTITION BY bidder, auction ORDER BY dateTime DESC) <= 1`), as Flink's
//! event-time keep-last deduplication: a bid replaces the kept one when its
//! `dateTime` is at least as late (so a tie goes to the later arrival), emitting
//! `-U` old and `+U` new; the first bid of a pair is `+I`; an older bid changes
//! nothing.

use super::bid_row::write_bid;
use super::csv::{Change, CsvLine, CsvRow};
use super::streams::bids;
use brook_api::{
    Collector, DataStream, KeyedContext, KeyedProcessFunction, RuntimeContext, ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

/// The bid's columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q18Row(pub Bid);

impl CsvRow for Q18Row {
    fn write_csv(&self, out: &mut String) {
        write_bid(&mut CsvLine::new(out), &self.0);
    }
}

#[derive(Clone, Default)]
struct LastBid {
    last: ValueState<Bid>,
}

impl KeyedProcessFunction<(i64, i64), Bid, Change<Q18Row>> for LastBid {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.last = ctx.get_state(&ValueStateDescriptor::new("last"));
    }

    fn process_element(
        &mut self,
        bid: Bid,
        ctx: &mut KeyedContext<'_, (i64, i64)>,
        out: &mut Collector<Change<Q18Row>>,
    ) {
        match ctx.state(&self.last).value() {
            None => out.collect(Change::insert(Q18Row(bid.clone()))),
            Some(old) if old.date_time <= bid.date_time => {
                out.collect(Change::update_before(Q18Row(old.clone())));
                out.collect(Change::update_after(Q18Row(bid.clone())));
            }
            Some(_) => return,
        }
        ctx.state(&self.last).update(bid);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Change<Q18Row>> {
    bids(events)
        .key_by(|b: &Bid| (b.bidder, b.auction))
        .process(LastBid::default())
        .name("q18: Last Bid per Bidder and Auction")
}
