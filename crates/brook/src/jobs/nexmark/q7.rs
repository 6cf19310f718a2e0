//! q7 — highest bid: the bids whose price equals the maximum price of a
//! 10-second tumbling window, with `dateTime BETWEEN window_end - 10 s AND
//! window_end` (both ends included, so a bid exactly at a window end can match
//! the window before too).
//!
//! Flink computes the per-window maximum (late bids — window end − 1 ≤
//! watermark — do not count) and joins it with every bid in a regular join.
//! Here one operator keyed by window end does both: it keeps the running
//! maximum of the window's on-time bids and only the bids that can still equal
//! it (price ≥ running maximum). When the watermark reaches end − 1 it emits the
//! bids at the maximum and keeps the maximum, so a bid of that window arriving
//! later with the same price still joins, as in Flink's regular join. Each bid
//! goes to its own window and, when it lies exactly on a window end, also to the
//! window ending there (as a join candidate only). Rows are the SELECT's
//! `auction, price, bidder, dateTime, extra` (the sink's column names are
//! swapped in Flink's DDL, SPEC §2.11-2). Insert-only.

use super::csv::{CsvLine, CsvRow};
use super::streams::view;
use brook_api::{
    Collector, DataStream, KeyedContext, KeyedProcessFunction, RuntimeContext, ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

pub const SIZE_MS: i64 = 10_000;

/// `(auction, price, bidder, dateTime, extra)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q7Row {
    pub auction: i64,
    pub price: i64,
    pub bidder: i64,
    pub date_time: i64,
    pub extra: String,
}

impl CsvRow for Q7Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).int(self.auction).int(self.price).int(self.bidder).int(self.date_time).str(&self.extra);
    }
}

impl From<Bid> for Q7Row {
    fn from(b: Bid) -> Self {
        Q7Row { auction: b.auction, price: b.price, bidder: b.bidder, date_time: b.date_time, extra: b.extra }
    }
}

/// A bid sent to the window ending at `window_end`; `counts` says whether it is
/// in the window (else it only lies on its end, a join candidate).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowBid {
    pub window_end: i64,
    pub counts: bool,
    pub bid: Bid,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct WindowState {
    /// The maximum price of the window's on-time bids so far.
    max: Option<i64>,
    /// Set once the window fired; `max` is then final.
    fired: bool,
    /// Bids (in arrival order) whose price is at least `max`.
    candidates: Vec<Bid>,
}

#[derive(Clone, Default)]
struct HighestBid {
    window: ValueState<WindowState>,
}

impl KeyedProcessFunction<i64, WindowBid, Q7Row> for HighestBid {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.window = ctx.get_state(&ValueStateDescriptor::new("window"));
    }

    fn process_element(&mut self, wb: WindowBid, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Q7Row>) {
        let wm = ctx.timer_service().current_watermark();
        let on_time = wb.counts && wb.window_end - 1 > wm;
        let price = wb.bid.price;
        // Most bids neither raise the maximum nor equal it: decide on a borrow.
        let (fired, max) = ctx.state(&self.window).value().map_or((false, None), |w| (w.fired, w.max));
        if fired {
            if max == Some(price) {
                out.collect(wb.bid.into());
            }
            return;
        }
        if max.is_some_and(|m| price < m) {
            return;
        }
        let mut w = ctx.state(&self.window).value().cloned().unwrap_or_default();
        if on_time && max.is_none_or(|m| price > m) {
            w.max = Some(price);
            w.candidates.retain(|b| b.price >= price);
            ctx.timer_service().register_event_time_timer(wb.window_end - 1);
        }
        if w.max.is_none_or(|m| price >= m) {
            w.candidates.push(wb.bid);
        }
        ctx.state(&self.window).update(w);
    }

    fn on_timer(&mut self, _timestamp: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Q7Row>) {
        let Some(mut w) = ctx.state(&self.window).value().cloned() else { return };
        if w.fired {
            return;
        }
        for b in std::mem::take(&mut w.candidates) {
            if Some(b.price) == w.max {
                out.collect(b.into());
            }
        }
        w.fired = true;
        ctx.state(&self.window).update(w);
    }
}

/// The window (end) of `t`, and the window ending at `t` when `t` is on a boundary.
pub fn windows_of(t: i64) -> (i64, Option<i64>) {
    let end = t.div_euclid(SIZE_MS) * SIZE_MS + SIZE_MS;
    (end, (t.rem_euclid(SIZE_MS) == 0).then_some(t))
}

pub fn query(events: DataStream<Event>) -> DataStream<Q7Row> {
    // Chained to the source: each window's bids then arrive in source order.
    view(events, "q7: Assign Windows", |e: Event| {
        let Event::Bid(bid) = e else { return None.into_iter().chain(None) };
        let (own, boundary) = windows_of(bid.date_time);
        let on_end = boundary.map(|end| WindowBid { window_end: end, counts: false, bid: bid.clone() });
        Some(WindowBid { window_end: own, counts: true, bid }).into_iter().chain(on_end)
    })
    .key_by(|wb: &WindowBid| wb.window_end)
    .process(HighestBid::default())
    .name("q7: Highest Bid")
}
