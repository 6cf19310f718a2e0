//! q6 — average selling price by seller. Flink cannot run the SPEC's SQL (an
//! OVER window over an updating input, FLINK-19059); this is its intended
//! meaning, as Nexmark describes it: when an auction closes (the watermark
//! passes its `expires`), its final price is its highest valid bid; per seller,
//! each closed auction with a bid emits the average (`BIGINT`, truncated) of the
//! final prices of the seller's last 11 closed auctions (`ROWS BETWEEN 10
//! PRECEDING AND CURRENT ROW`), in closing order (`expires`, then auction id).
//! Auctions without valid bids have no final price and are skipped; bids that
//! arrive after their auction closed are late and dropped. Insert-only.

use super::auction_bids::in_lifetime;
use super::csv::{CsvLine, CsvRow};
use super::streams::{OneInput, auction_id, auctions_and_bids};
use brook_api::{
    Collector, DataStream, KeyedCoProcessFunction, KeyedContext, KeyedProcessFunction, ListState, ListStateDescriptor,
    MapState, MapStateDescriptor, RuntimeContext, ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Auction, Bid, Event};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How many closed auctions the average covers: the current one and 10 preceding.
pub const LAST_AUCTIONS: usize = 11;

/// `(seller, avg_price)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q6Row {
    pub seller: i64,
    pub avg_price: i64,
}

impl CsvRow for Q6Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).int(self.seller).int(self.avg_price);
    }
}

/// A closed auction and its final price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    pub seller: i64,
    pub expires: i64,
    pub auction: i64,
    pub price: i64,
}

/// An auction's state: open with its best price so far, or closed.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Lifecycle {
    Open { auction: Auction, max: Option<i64> },
    Closed,
}

#[derive(Clone, Default)]
struct CloseAuction {
    lifecycle: ValueState<Lifecycle>,
    waiting_bids: ListState<Bid>,
}

impl KeyedCoProcessFunction<i64, Auction, Bid, Closed> for CloseAuction {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.lifecycle = ctx.get_state(&ValueStateDescriptor::new("lifecycle"));
        self.waiting_bids = ctx.get_state(&ListStateDescriptor::new("waiting-bids"));
    }

    fn process_element1(&mut self, a: Auction, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<Closed>) {
        let max = ctx.list_state(&self.waiting_bids).get().iter().filter(|b| in_lifetime(&a, b)).map(|b| b.price).max();
        ctx.list_state(&self.waiting_bids).clear();
        ctx.timer_service().register_event_time_timer(a.expires);
        let lean = Auction { item_name: String::new(), description: String::new(), extra: String::new(), ..a };
        ctx.state(&self.lifecycle).update(Lifecycle::Open { auction: lean, max });
    }

    fn process_element2(&mut self, bid: Bid, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<Closed>) {
        match ctx.state(&self.lifecycle).value().cloned() {
            None => ctx.list_state(&self.waiting_bids).add(bid),
            Some(Lifecycle::Closed) => {}
            Some(Lifecycle::Open { auction, max }) => {
                if in_lifetime(&auction, &bid) && max.is_none_or(|m| bid.price > m) {
                    ctx.state(&self.lifecycle).update(Lifecycle::Open { auction, max: Some(bid.price) });
                }
            }
        }
    }

    fn on_timer(&mut self, _timestamp: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Closed>) {
        if let Some(Lifecycle::Open { auction, max: Some(price) }) = ctx.state(&self.lifecycle).value() {
            out.collect(Closed {
                seller: auction.seller,
                expires: auction.expires,
                auction: auction.id,
                price: *price,
            });
        }
        ctx.state(&self.lifecycle).update(Lifecycle::Closed);
    }
}

#[derive(Clone, Default)]
struct AveragePerSeller {
    /// Closed auctions waiting for the watermark, by closing time.
    pending: MapState<i64, Vec<(i64, i64)>>,
    /// The final prices of the seller's last closed auctions, oldest first.
    last_prices: ValueState<VecDeque<i64>>,
}

impl KeyedProcessFunction<i64, Closed, Q6Row> for AveragePerSeller {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.pending = ctx.get_state(&MapStateDescriptor::new("pending"));
        self.last_prices = ctx.get_state(&ValueStateDescriptor::new("last-prices"));
    }

    fn process_element(&mut self, c: Closed, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<Q6Row>) {
        ctx.timer_service().register_event_time_timer(c.expires);
        let mut at = ctx.map_state(&self.pending).remove(&c.expires).unwrap_or_default();
        at.push((c.auction, c.price));
        ctx.map_state(&self.pending).put(c.expires, at);
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Q6Row>) {
        let mut due: Vec<i64> = ctx.map_state(&self.pending).keys().copied().filter(|&t| t <= timestamp).collect();
        due.sort_unstable();
        let mut prices = ctx.state(&self.last_prices).value().cloned().unwrap_or_default();
        let seller = *ctx.current_key();
        for t in due {
            let mut closed = ctx.map_state(&self.pending).remove(&t).expect("listed above");
            closed.sort_unstable();
            for (_, price) in closed {
                if prices.len() == LAST_AUCTIONS {
                    prices.pop_front();
                }
                prices.push_back(price);
                let avg = prices.iter().sum::<i64>() / prices.len() as i64;
                out.collect(Q6Row { seller, avg_price: avg });
            }
        }
        ctx.state(&self.last_prices).update(prices);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Q6Row> {
    auctions_and_bids(events)
        .key_by(auction_id)
        .process(OneInput(CloseAuction::default()))
        .name("q6: Close Auctions")
        .key_by(|c: &Closed| c.seller)
        .process(AveragePerSeller::default())
        .name("q6: Average per Seller")
}
