//! The three views of the event stream (SPEC §1.1: `person`, `auction`, `bid`)
//! and the benchmark's watermark.

use brook_api::{
    Collector, DataStream, KeyedCoProcessFunction, KeyedContext, KeyedProcessFunction, RuntimeContext,
    WatermarkGenerator, WatermarkOutput, WatermarkStrategy,
};
use brook_connectors::nexmark::{Auction, Bid, Event, Person};
use brook_types::{Timestamp, Watermark};
use serde::{Deserialize, Serialize};

/// The DDL's bounded out-of-orderness: `WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND`.
pub const WATERMARK_DELAY_MS: i64 = 4_000;

/// The parallelism of `input`'s operator given to `view`, so that the views
/// chain to the source: each event then reaches its keyed operator through one
/// channel, in source order, and the per-key results do not depend on
/// parallelism.
fn like_input<T: brook_types::Data>(input: Option<usize>, view: DataStream<T>) -> DataStream<T> {
    match input {
        Some(p) => view.set_parallelism(p),
        None => view,
    }
}

/// The bids of the event stream (timestamps kept).
pub fn bids(events: DataStream<Event>) -> DataStream<Bid> {
    view(events, "Bids", |e: Event| match e {
        Event::Bid(b) => Some(b),
        _ => None,
    })
}

/// The auctions of the event stream.
pub fn auctions(events: DataStream<Event>) -> DataStream<Auction> {
    view(events, "Auctions", |e: Event| match e {
        Event::Auction(a) => Some(a),
        _ => None,
    })
}

/// The persons of the event stream.
pub fn persons(events: DataStream<Event>) -> DataStream<Person> {
    view(events, "Persons", |e: Event| match e {
        Event::Person(p) => Some(p),
        _ => None,
    })
}

/// Flink SQL's watermark for `dateTime - INTERVAL '4' SECOND`: the highest
/// `dateTime` seen minus 4 s (no extra millisecond, unlike the DataStream
/// `forBoundedOutOfOrderness`), never decreasing.
#[derive(Clone, Copy, Debug)]
pub struct NexmarkWatermarks {
    max_seen: Timestamp,
    emitted: Timestamp,
    /// Emit on every record (deterministic tests) or on the periodic tick.
    punctuated: bool,
}

impl NexmarkWatermarks {
    pub fn new(punctuated: bool) -> Self {
        Self { max_seen: Timestamp::MIN, emitted: Timestamp::MIN, punctuated }
    }

    fn emit(&mut self, output: &mut WatermarkOutput) {
        if self.max_seen == Timestamp::MIN {
            return;
        }
        let wm = self.max_seen - WATERMARK_DELAY_MS;
        if wm > self.emitted {
            self.emitted = wm;
            output.emit_watermark(Watermark(wm));
        }
    }
}

impl<T> WatermarkGenerator<T> for NexmarkWatermarks {
    fn on_event(&mut self, _event: &T, timestamp: Timestamp, output: &mut WatermarkOutput) {
        self.max_seen = self.max_seen.max(timestamp);
        if self.punctuated {
            self.emit(output);
        }
    }

    fn on_periodic_emit(&mut self, output: &mut WatermarkOutput) {
        self.emit(output);
    }
}

/// Gives events their `dateTime` as timestamp and the benchmark's watermark.
/// `punctuated` emits a watermark after every event that raises it (golden
/// tests: lateness then depends only on the input order), otherwise every
/// `pipeline.auto-watermark-interval` as Flink SQL does.
pub fn with_nexmark_watermarks(events: DataStream<Event>, punctuated: bool) -> DataStream<Event> {
    events.assign_timestamps_and_watermarks(
        WatermarkStrategy::for_generator(move || NexmarkWatermarks::new(punctuated))
            .with_timestamp_assigner(|e: &Event, _| e.date_time()),
    )
}

/// Records of two kinds in one stream: the input of a join that reads both
/// sides through one channel per producer, so each key sees them in source
/// order (a two-input operator may read one input ahead of the other).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Either<A, B> {
    Left(A),
    Right(B),
}

/// The records `f` makes of each event, chained to the source (see [`like_input`]).
pub fn view<T: brook_types::Data, R, F>(events: DataStream<Event>, name: &str, f: F) -> DataStream<T>
where
    R: IntoIterator<Item = T>,
    F: FnMut(Event) -> R + Clone + Send + Sync + 'static,
{
    let p = events.parallelism();
    like_input(p, events.flat_map(f).name(name))
}

/// Auctions (left) and bids (right).
pub fn auctions_and_bids(events: DataStream<Event>) -> DataStream<Either<Auction, Bid>> {
    view(events, "Auctions and Bids", |e: Event| match e {
        Event::Auction(a) => Some(Either::Left(a)),
        Event::Bid(b) => Some(Either::Right(b)),
        Event::Person(_) => None,
    })
}

/// The auction id of an auction or a bid.
pub fn auction_id(x: &Either<Auction, Bid>) -> i64 {
    match x {
        Either::Left(a) => a.id,
        Either::Right(b) => b.auction,
    }
}

/// Runs a [`KeyedCoProcessFunction`] over an [`Either`] stream: left records are
/// its first input, right records its second.
#[derive(Clone)]
pub struct OneInput<F>(pub F);

impl<K, A, B, O, F> KeyedProcessFunction<K, Either<A, B>, O> for OneInput<F>
where
    F: KeyedCoProcessFunction<K, A, B, O>,
{
    fn open(&mut self, ctx: &RuntimeContext) {
        self.0.open(ctx);
    }

    fn process_element(&mut self, value: Either<A, B>, ctx: &mut KeyedContext<'_, K>, out: &mut Collector<O>) {
        match value {
            Either::Left(a) => self.0.process_element1(a, ctx, out),
            Either::Right(b) => self.0.process_element2(b, ctx, out),
        }
    }

    fn on_timer(&mut self, timestamp: Timestamp, ctx: &mut KeyedContext<'_, K>, out: &mut Collector<O>) {
        self.0.on_timer(timestamp, ctx, out);
    }
}
