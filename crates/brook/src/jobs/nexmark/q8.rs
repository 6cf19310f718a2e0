//! q8 — monitor new users: persons who registered and opened an auction in the
//! same 10-second tumbling window: `(id, name, window start)`.
//!
//! Flink groups persons by `(id, name, window)` and auctions by `(seller,
//! window)` and joins the two on id and window. Here one operator keyed by person
//! id keeps, per window, the person's name and whether it sold something, and
//! emits when the watermark reaches the window's end − 1. A person or auction
//! whose window has fired (end − 1 ≤ watermark) is late and dropped, as by
//! Flink's window aggregations. Insert-only.

use super::csv::{CsvLine, CsvRow};
use super::streams::{Either, OneInput, view};
use brook_api::{
    Collector, DataStream, KeyedCoProcessFunction, KeyedContext, MapState, MapStateDescriptor, RuntimeContext,
};
use brook_connectors::nexmark::{Auction, Event, Person};
use serde::{Deserialize, Serialize};

pub const SIZE_MS: i64 = 10_000;

/// `(id, name, stime)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q8Row {
    pub id: i64,
    pub name: String,
    pub stime: i64,
}

impl CsvRow for Q8Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).int(self.id).str(&self.name).int(self.stime);
    }
}

/// What a window knows of one person id.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Seen {
    name: Option<String>,
    sold: bool,
}

#[derive(Clone, Default)]
struct NewUsers {
    /// By window start.
    windows: MapState<i64, Seen>,
}

impl NewUsers {
    /// The start of `t`'s window, unless it has fired; registers its timer.
    fn window(t: i64, ctx: &mut KeyedContext<'_, i64>) -> Option<i64> {
        let start = t.div_euclid(SIZE_MS) * SIZE_MS;
        if start + SIZE_MS - 1 <= ctx.timer_service().current_watermark() {
            return None;
        }
        ctx.timer_service().register_event_time_timer(start + SIZE_MS - 1);
        Some(start)
    }

    fn update(&self, start: i64, ctx: &mut KeyedContext<'_, i64>, f: impl FnOnce(&mut Seen)) {
        let mut seen = ctx.map_state(&self.windows).remove(&start).unwrap_or_default();
        f(&mut seen);
        ctx.map_state(&self.windows).put(start, seen);
    }
}

impl KeyedCoProcessFunction<i64, Person, Auction, Q8Row> for NewUsers {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.windows = ctx.get_state(&MapStateDescriptor::new("windows"));
    }

    fn process_element1(&mut self, p: Person, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<Q8Row>) {
        if let Some(start) = Self::window(p.date_time, ctx) {
            self.update(start, ctx, |s| s.name = Some(p.name));
        }
    }

    fn process_element2(&mut self, a: Auction, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<Q8Row>) {
        if let Some(start) = Self::window(a.date_time, ctx) {
            self.update(start, ctx, |s| s.sold = true);
        }
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Q8Row>) {
        let start = timestamp + 1 - SIZE_MS;
        if let Some(Seen { name: Some(name), sold: true }) = ctx.map_state(&self.windows).remove(&start) {
            out.collect(Q8Row { id: *ctx.current_key(), name, stime: start });
        }
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Q8Row> {
    view(events, "Persons and Auctions", |e: Event| match e {
        Event::Person(p) => Some(Either::Left(p)),
        Event::Auction(a) => Some(Either::Right(a)),
        Event::Bid(_) => None,
    })
    .key_by(|x: &Either<Person, Auction>| match x {
        Either::Left(p) => p.id,
        Either::Right(a) => a.seller,
    })
    .process(OneInput(NewUsers::default()))
    .name("q8: Join Persons and Sellers per Window")
}
