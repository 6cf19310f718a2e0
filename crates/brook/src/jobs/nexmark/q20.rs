//! q20 — expand bid with auction: every bid joined with its auction when the
//! auction is in category 10 (`bid JOIN auction ON auction = id WHERE category = 10`).
//!
//! A regular inner join keyed by auction id. Auction ids are unique, so once the
//! auction is known a bid joins (or, for another category, is dropped) on
//! arrival; bids that arrive first wait. Flink keeps every bid of every auction
//! (and, with the filter pushed below the join, bids of other categories wait
//! for ever); the rows are the same. Insert-only.

use super::csv::{CsvLine, CsvRow};
use super::streams::{OneInput, auction_id, auctions_and_bids};
use brook_api::{
    Collector, DataStream, KeyedCoProcessFunction, KeyedContext, ListState, ListStateDescriptor, RuntimeContext,
    ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Auction, Bid, Event};
use serde::{Deserialize, Serialize};

/// The bid's columns then the auction's (SPEC q20).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q20Row {
    pub bid: Bid,
    pub auction: Auction,
}

impl CsvRow for Q20Row {
    fn write_csv(&self, out: &mut String) {
        let (b, a) = (&self.bid, &self.auction);
        CsvLine::new(out)
            .int(b.auction)
            .int(b.bidder)
            .int(b.price)
            .str(&b.channel)
            .str(&b.url)
            .int(b.date_time)
            .str(&b.extra)
            .str(&a.item_name)
            .str(&a.description)
            .int(a.initial_bid)
            .int(a.reserve)
            .int(a.date_time)
            .int(a.expires)
            .int(a.seller)
            .int(a.category)
            .str(&a.extra);
    }
}

/// The auction side of the join: category-10 auctions, or the fact that the
/// auction is in another category (its bids never join).
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Side {
    Category10(Auction),
    Other,
}

#[derive(Clone, Default)]
struct ExpandBid {
    auction: ValueState<Side>,
    waiting_bids: ListState<Bid>,
}

impl KeyedCoProcessFunction<i64, Auction, Bid, Q20Row> for ExpandBid {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.auction = ctx.get_state(&ValueStateDescriptor::new("auction"));
        self.waiting_bids = ctx.get_state(&ListStateDescriptor::new("waiting-bids"));
    }

    fn process_element1(&mut self, a: Auction, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Q20Row>) {
        if a.category != 10 {
            ctx.list_state(&self.waiting_bids).clear();
            ctx.state(&self.auction).update(Side::Other);
            return;
        }
        let waiting: Vec<Bid> = ctx.list_state(&self.waiting_bids).get().to_vec();
        for bid in waiting {
            out.collect(Q20Row { bid, auction: a.clone() });
        }
        ctx.list_state(&self.waiting_bids).clear();
        ctx.state(&self.auction).update(Side::Category10(a));
    }

    fn process_element2(&mut self, bid: Bid, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Q20Row>) {
        match ctx.state(&self.auction).value() {
            Some(Side::Category10(a)) => out.collect(Q20Row { bid, auction: a.clone() }),
            Some(Side::Other) => {}
            None => ctx.list_state(&self.waiting_bids).add(bid),
        }
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Q20Row> {
    auctions_and_bids(events).key_by(auction_id).process(OneInput(ExpandBid::default())).name("q20: Join Auction")
}
