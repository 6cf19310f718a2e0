//! q9 — winning bids: for every auction, its highest valid bid (earliest on
//! ties), as an updating result emitted like Flink's append-only Top-N without
//! row numbers: `+I` for the first valid bid, then `-D` of the old winner and
//! `+I` of the new one each time a bid beats it (an equal bid does not).
//!
//! Deviation in emission only: bids that arrive before their auction are joined
//! in one step when it arrives and only their winner is emitted; Flink emits
//! an update per stored bid that beats the previous ones, in state order.

use super::auction_bids::{beats, best_valid, in_lifetime};
use super::csv::{Change, CsvLine, CsvRow};
use super::streams::{OneInput, auction_id, auctions_and_bids};
use brook_api::{
    Collector, DataStream, KeyedCoProcessFunction, KeyedContext, ListState, ListStateDescriptor, RuntimeContext,
    ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Auction, Bid, Event};
use serde::{Deserialize, Serialize};

/// The auction's ten columns, then `auction, bidder, price, bid_dateTime, bid_extra`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q9Row {
    pub auction: Auction,
    pub bid: Bid,
}

impl CsvRow for Q9Row {
    fn write_csv(&self, out: &mut String) {
        let (a, b) = (&self.auction, &self.bid);
        CsvLine::new(out)
            .int(a.id)
            .str(&a.item_name)
            .str(&a.description)
            .int(a.initial_bid)
            .int(a.reserve)
            .int(a.date_time)
            .int(a.expires)
            .int(a.seller)
            .int(a.category)
            .str(&a.extra)
            .int(b.auction)
            .int(b.bidder)
            .int(b.price)
            .int(b.date_time)
            .str(&b.extra);
    }
}

#[derive(Clone, Default)]
struct WinningBid {
    auction: ValueState<Auction>,
    winner: ValueState<Bid>,
    waiting_bids: ListState<Bid>,
}

impl KeyedCoProcessFunction<i64, Auction, Bid, Change<Q9Row>> for WinningBid {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.auction = ctx.get_state(&ValueStateDescriptor::new("auction"));
        self.winner = ctx.get_state(&ValueStateDescriptor::new("winner"));
        self.waiting_bids = ctx.get_state(&ListStateDescriptor::new("waiting-bids"));
    }

    fn process_element1(&mut self, a: Auction, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Change<Q9Row>>) {
        let best = best_valid(&a, ctx.list_state(&self.waiting_bids).get()).cloned();
        ctx.list_state(&self.waiting_bids).clear();
        if let Some(bid) = best {
            out.collect(Change::insert(Q9Row { auction: a.clone(), bid: bid.clone() }));
            ctx.state(&self.winner).update(bid);
        }
        ctx.state(&self.auction).update(a);
    }

    fn process_element2(&mut self, bid: Bid, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Change<Q9Row>>) {
        // Decide on borrows; clone the auction and the old winner only to emit.
        let Some(valid) = ctx.state(&self.auction).value().map(|a| in_lifetime(a, &bid)) else {
            ctx.list_state(&self.waiting_bids).add(bid);
            return;
        };
        if !valid {
            return;
        }
        let wins = ctx.state(&self.winner).value().map(|old| beats(&bid, old));
        if wins == Some(false) {
            return;
        }
        let a = ctx.state(&self.auction).value().cloned().expect("checked above");
        match ctx.state(&self.winner).value().cloned() {
            None => out.collect(Change::insert(Q9Row { auction: a, bid: bid.clone() })),
            Some(old) => {
                out.collect(Change::delete(Q9Row { auction: a.clone(), bid: old }));
                out.collect(Change::insert(Q9Row { auction: a, bid: bid.clone() }));
            }
        }
        ctx.state(&self.winner).update(bid);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Change<Q9Row>> {
    auctions_and_bids(events).key_by(auction_id).process(OneInput(WinningBid::default())).name("q9: Winning Bid")
}
