//! Watermark strategies: how records get event timestamps and how event time
//! advances (Flink's `WatermarkStrategy`, `WatermarkGenerator`, `WatermarkOutput`).
//!
//! A [`WatermarkStrategy`] is a timestamp assigner, a factory of
//! [`WatermarkGenerator`]s and an optional idleness timeout. A program hands one to
//! `DataStream::assign_timestamps_and_watermarks`, which runs it in a
//! [`TimestampsAndWatermarksOperator`](crate::operators::TimestampsAndWatermarksOperator),
//! one generator per subtask:
//!
//! ```text
//!   record ──assigner──▶ timestamp ──▶ emitted, then generator.on_event(record, ts, out)
//!   every pipeline.auto-watermark-interval ──▶ generator.on_periodic_emit(out)
//!   out.emit_watermark(w) ──▶ forwarded only if w is above every watermark emitted before
//! ```
//!
//! Built-in generators:
//!
//! | strategy | watermark |
//! |---|---|
//! | [`WatermarkStrategy::for_monotonous_timestamps`] | max timestamp − 1 |
//! | [`WatermarkStrategy::for_bounded_out_of_orderness`]`(d)` | max timestamp − d − 1 |
//! | [`WatermarkStrategy::no_watermarks`] | none (only end of input's `Watermark::MAX`) |
//!
//! A custom generator is *periodic* (it tracks events in `on_event` and emits in
//! `on_periodic_emit`) or *punctuated* (it emits from `on_event`, e.g. on marker
//! records); [`WatermarkStrategy::for_generator`] takes either.
//!
//! ```
//! use brook_runtime::watermark::WatermarkStrategy;
//! use std::time::Duration;
//!
//! // (sensor, reading, event time in ms), at most 5 s out of order; a subtask that
//! // sees no reading for a minute stops holding event time back.
//! let strategy = WatermarkStrategy::<(String, f64, i64)>::for_bounded_out_of_orderness(Duration::from_secs(5))
//!     .with_timestamp_assigner(|(_, _, ts), _previous| *ts)
//!     .with_idleness(Duration::from_secs(60));
//! assert_eq!(strategy.idleness(), Some(Duration::from_secs(60)));
//! ```
//!
//! Per-split watermarks inside split-based sources (one generator per Kafka
//! partition or file split, emitting the minimum) reuse this interface but are not
//! built yet: a strategy runs once per subtask, after the source.

mod bounded_out_of_orderness;
mod generator;
mod idleness;
mod output;
mod split_watermarks;
mod strategy;

pub use bounded_out_of_orderness::BoundedOutOfOrdernessWatermarks;
pub use generator::{NoWatermarksGenerator, WatermarkGenerator};
pub use idleness::{RelativeClock, WatermarksWithIdleness};
pub use output::{WatermarkOutput, WatermarkSignal};
pub use split_watermarks::SplitWatermarks;
pub use strategy::{TimestampAssigner, WatermarkStrategy};
