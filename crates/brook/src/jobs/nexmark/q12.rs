//! q12 — processing-time windows: bids per bidder in 10-second tumbling windows
//! of the wall clock: `(bidder, bid_count, starttime, endtime)`.
//!
//! Which window a bid lands in depends on when it is processed, so the rows are
//! not deterministic; what is: windows are aligned to the epoch and 10 s long,
//! and every bid is counted exactly once. Deviation: at end of input the open
//! windows are emitted (an event-time timer at the end of time fires them),
//! where Flink drops processing-time windows that have not fired. Insert-only.

use super::csv::{CsvLine, CsvRow};
use super::streams::bids;
use brook_api::{
    Collector, DataStream, KeyedContext, KeyedProcessFunction, MapState, MapStateDescriptor, RuntimeContext, TimeDomain,
};
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

pub const SIZE_MS: i64 = 10_000;

/// `(bidder, bid_count, starttime, endtime)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q12Row {
    pub bidder: i64,
    pub bid_count: i64,
    pub starttime: i64,
    pub endtime: i64,
}

impl CsvRow for Q12Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).int(self.bidder).int(self.bid_count).int(self.starttime).int(self.endtime);
    }
}

#[derive(Clone, Default)]
struct ProcessingTimeWindows {
    /// Bid counts by window start.
    windows: MapState<i64, i64>,
}

impl KeyedProcessFunction<i64, Bid, Q12Row> for ProcessingTimeWindows {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.windows = ctx.get_state(&MapStateDescriptor::new("windows"));
    }

    fn process_element(&mut self, _bid: Bid, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<Q12Row>) {
        let now = ctx.timer_service().current_processing_time();
        let start = now - now.rem_euclid(SIZE_MS);
        ctx.timer_service().register_processing_time_timer(start + SIZE_MS - 1);
        ctx.timer_service().register_event_time_timer(i64::MAX);
        let n = ctx.map_state(&self.windows).get(&start).copied().unwrap_or(0);
        ctx.map_state(&self.windows).put(start, n + 1);
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Q12Row>) {
        let bidder = *ctx.current_key();
        let mut due: Vec<(i64, i64)> = match ctx.time_domain() {
            Some(TimeDomain::ProcessingTime) => {
                let start = timestamp + 1 - SIZE_MS;
                ctx.map_state(&self.windows).remove(&start).map(|n| (start, n)).into_iter().collect()
            }
            _ => {
                let all: Vec<(i64, i64)> = ctx.map_state(&self.windows).iter().map(|(&s, &n)| (s, n)).collect();
                ctx.map_state(&self.windows).clear();
                all
            }
        };
        due.sort_unstable();
        for (start, n) in due {
            out.collect(Q12Row { bidder, bid_count: n, starttime: start, endtime: start + SIZE_MS });
        }
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Q12Row> {
    bids(events).key_by(|b: &Bid| b.bidder).process(ProcessingTimeWindows::default()).name("q12: Windows per Bidder")
}
