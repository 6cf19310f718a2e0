//! q5 — hot items: per hopping window (10 s long, every 2 s), the auctions with
//! the most bids, ties included.
//!
//! Flink plans two window aggregations and a window join; the result is the
//! same as this: stage 1, keyed by auction, counts bids per 2-second slice and,
//! when the watermark reaches a window's end − 1, sums the window's five slices
//! into `(window end, auction, count)`; stage 2, keyed by window end, keeps the
//! maximum count and the auctions that have it and emits them when the
//! watermark reaches the window's end − 1.
//!
//! Lateness as in Flink's slice-sharing window aggregation: a bid counts in
//! every window of its slice that has not fired yet (end − 1 > watermark), and
//! is dropped when all of them have. Windows are aligned to the epoch.

use super::csv::{CsvLine, CsvRow};
use super::streams::bids;
use brook_api::{
    Collector, DataStream, KeyedContext, KeyedProcessFunction, MapState, MapStateDescriptor, RuntimeContext,
    ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

pub const SIZE_MS: i64 = 10_000;
pub const SLIDE_MS: i64 = 2_000;

/// `(auction, num)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q5Row {
    pub auction: i64,
    pub num: i64,
}

impl CsvRow for Q5Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).int(self.auction).int(self.num);
    }
}

/// One auction's bid count in one window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowCount {
    pub window_end: i64,
    pub auction: i64,
    pub count: i64,
}

/// The end of the slice (and of the first window) holding `t`.
pub fn slice_end(t: i64) -> i64 {
    t.div_euclid(SLIDE_MS) * SLIDE_MS + SLIDE_MS
}

#[derive(Clone, Default)]
struct CountPerWindow {
    /// Bid counts by slice end.
    slices: MapState<i64, i64>,
}

impl KeyedProcessFunction<i64, Bid, WindowCount> for CountPerWindow {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.slices = ctx.get_state(&MapStateDescriptor::new("slices"));
    }

    fn process_element(&mut self, bid: Bid, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<WindowCount>) {
        let slice = slice_end(bid.date_time);
        let last_window_end = slice + SIZE_MS - SLIDE_MS;
        let wm = ctx.timer_service().current_watermark();
        if last_window_end - 1 <= wm {
            return; // every window of the slice has fired
        }
        let n = ctx.map_state(&self.slices).get(&slice).copied();
        ctx.map_state(&self.slices).put(slice, n.unwrap_or(0) + 1);
        if n.is_some() {
            return; // the slice's timer chain is already running
        }
        // The first window of the slice that has not fired yet.
        let mut first = slice;
        while first - 1 <= wm {
            first += SLIDE_MS;
        }
        ctx.timer_service().register_event_time_timer(first - 1);
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<WindowCount>) {
        let end = timestamp + 1;
        let mut count = 0;
        let mut later = false;
        let mut expired = Vec::new();
        for (&slice, &n) in ctx.map_state(&self.slices).iter() {
            if slice <= end - SIZE_MS + SLIDE_MS {
                expired.push(slice); // in no window after this one
            } else {
                later = true;
            }
            if slice > end - SIZE_MS && slice <= end {
                count += n;
            }
        }
        for slice in expired {
            ctx.map_state(&self.slices).remove(&slice);
        }
        if count > 0 {
            out.collect_with_timestamp(WindowCount { window_end: end, auction: *ctx.current_key(), count }, timestamp);
        }
        if later {
            ctx.timer_service().register_event_time_timer(timestamp + SLIDE_MS);
        }
    }
}

#[derive(Clone, Default)]
struct MaxPerWindow {
    /// The highest count and the auctions that have it, in arrival order.
    top: ValueState<(i64, Vec<i64>)>,
}

impl KeyedProcessFunction<i64, WindowCount, Q5Row> for MaxPerWindow {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.top = ctx.get_state(&ValueStateDescriptor::new("top"));
    }

    fn process_element(&mut self, c: WindowCount, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<Q5Row>) {
        let top = match ctx.state(&self.top).value() {
            None => {
                ctx.timer_service().register_event_time_timer(c.window_end - 1);
                (c.count, vec![c.auction])
            }
            Some((max, _)) if c.count > *max => (c.count, vec![c.auction]),
            Some((max, auctions)) if c.count == *max => {
                let mut auctions = auctions.clone();
                auctions.push(c.auction);
                (*max, auctions)
            }
            Some(_) => return,
        };
        ctx.state(&self.top).update(top);
    }

    fn on_timer(&mut self, _timestamp: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Q5Row>) {
        if let Some((num, auctions)) = ctx.state(&self.top).value().cloned() {
            for auction in auctions {
                out.collect(Q5Row { auction, num });
            }
        }
        ctx.state(&self.top).clear();
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Q5Row> {
    bids(events)
        .key_by(|b: &Bid| b.auction)
        .process(CountPerWindow::default())
        .name("q5: Count per Auction and Window")
        .key_by(|c: &WindowCount| c.window_end)
        .process(MaxPerWindow::default())
        .name("q5: Hottest Auctions per Window")
}
