//! q11 — user sessions: bids per bidder per session of activity, a session
//! closing after 10 s without bids: `(bidder, bid_count, starttime, endtime)`.
//!
//! Flink's session windows: each bid opens `[t, t + 10 s)`; windows that
//! overlap or touch merge; a session fires when the watermark reaches its end
//! − 1, and ends at its last bid + 10 s. A bid is late and dropped when the
//! session it would form or join has already fired. Insert-only.

use super::csv::{CsvLine, CsvRow};
use super::streams::bids;
use brook_api::{
    Collector, DataStream, KeyedContext, KeyedProcessFunction, RuntimeContext, ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

pub const GAP_MS: i64 = 10_000;

/// `(bidder, bid_count, starttime, endtime)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q11Row {
    pub bidder: i64,
    pub bid_count: i64,
    pub starttime: i64,
    pub endtime: i64,
}

impl CsvRow for Q11Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).int(self.bidder).int(self.bid_count).int(self.starttime).int(self.endtime);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub start: i64,
    pub end: i64,
    pub count: i64,
}

/// Adds a bid at `t` to open `sessions`, merging every session its window
/// `[t, t + gap)` overlaps or touches (Flink's `TimeWindow.intersects`).
pub fn add_bid(sessions: &mut Vec<Session>, t: i64) -> Session {
    let mut merged = Session { start: t, end: t + GAP_MS, count: 1 };
    // Merging can make the session touch ones it did not before: repeat.
    loop {
        let before = sessions.len();
        sessions.retain(|s| {
            let touches = s.start <= merged.end && merged.start <= s.end;
            if touches {
                merged = Session {
                    start: s.start.min(merged.start),
                    end: s.end.max(merged.end),
                    count: s.count + merged.count,
                };
            }
            !touches
        });
        if sessions.len() == before {
            break;
        }
    }
    sessions.push(merged);
    merged
}

#[derive(Clone, Default)]
struct Sessions {
    open: ValueState<Vec<Session>>,
}

impl KeyedProcessFunction<i64, Bid, Q11Row> for Sessions {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.open = ctx.get_state(&ValueStateDescriptor::new("open-sessions"));
    }

    fn process_element(&mut self, bid: Bid, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<Q11Row>) {
        let wm = ctx.timer_service().current_watermark();
        let mut sessions = ctx.state(&self.open).value().cloned().unwrap_or_default();
        let mut candidate = sessions.clone();
        let merged = add_bid(&mut candidate, bid.date_time);
        if merged.end - 1 <= wm {
            return; // late: the session has fired (or would fire at once)
        }
        sessions = candidate;
        ctx.timer_service().register_event_time_timer(merged.end - 1);
        ctx.state(&self.open).update(sessions);
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Q11Row>) {
        let Some(mut sessions) = ctx.state(&self.open).value().cloned() else { return };
        let bidder = *ctx.current_key();
        sessions.retain(|s| {
            let due = s.end - 1 <= timestamp;
            if due {
                out.collect(Q11Row { bidder, bid_count: s.count, starttime: s.start, endtime: s.end });
            }
            !due
        });
        if sessions.is_empty() {
            ctx.state(&self.open).clear();
        } else {
            ctx.state(&self.open).update(sessions);
        }
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Q11Row> {
    bids(events).key_by(|b: &Bid| b.bidder).process(Sessions::default()).name("q11: Sessions per Bidder")
}
