//! Windows: grouping a keyed stream into finite slices and evaluating them.
//!
//! A window operator (`KeyedStream::window(assigner)` in the API, run by
//! [`crate::operators::WindowOperator`]) is put together from four parts, as in
//! Flink:
//!
//! - a [`WindowAssigner`] puts each element into windows: tumbling and sliding
//!   windows of event or processing time, sessions (which merge), or one
//!   [`GlobalWindow`] per key ([`assigners`]);
//! - a [`Trigger`] decides when a window fires and purges; each assigner has a
//!   default ([`triggers`]);
//! - a window function turns the contents into results: `reduce`, `aggregate`
//!   (an [`AggregateFunction`]), a [`ProcessWindowFunction`], or an incremental
//!   one followed by a ProcessWindowFunction ([`function`]);
//! - optionally an [`Evictor`] that removes elements before or after the
//!   function runs ([`evictors`]); the window then keeps all its elements;
//! - an allowed lateness: how long after its end an event-time window keeps its
//!   state, so that late elements update it (a "late firing"); later elements
//!   are dropped and counted, or sent to a side output.
//!
//! ```
//! use brook_runtime::window::{TimeWindow, TumblingEventTimeWindows, WindowAssigner, WindowAssignerContext};
//! use std::time::Duration;
//!
//! let assigner = TumblingEventTimeWindows::of(Duration::from_secs(5));
//! let clock = || 0;
//! let mut windows = Vec::new();
//! WindowAssigner::<&str>::assign_windows(&assigner, &"click", 7_300, &WindowAssignerContext::new(&clock), &mut windows);
//! assert_eq!(windows, vec![TimeWindow::new(5_000, 10_000)]);
//! ```
//!
//! docs/design/windows.md describes the operator's invariants, its state layout,
//! merging, lateness, and where Brook differs from Flink.

mod assigner;
pub mod assigners;
mod evicting_function;
mod evictor;
pub mod evictors;
pub mod function;
mod internal_function;
mod merging_window_set;
mod state_store;
mod trigger;
pub mod triggers;
#[allow(clippy::module_inception)]
mod window;

pub use assigner::{Slicing, WindowAssigner, WindowAssignerContext};
pub use assigners::{
    DynamicEventTimeSessionWindows, DynamicProcessingTimeSessionWindows, EventTimeSessionWindows, GlobalWindows,
    ProcessingTimeSessionWindows, SlidingEventTimeWindows, SlidingProcessingTimeWindows, TumblingEventTimeWindows,
    TumblingProcessingTimeWindows,
};
pub use evicting_function::{AggregateApply, EvictingWindowFunction, ReduceApply};
pub use evictor::{Evicting, Evictor, EvictorContext, MaybeEvictor, NoEvictor};
pub use evictors::{CountEvictor, DeltaEvictor, TimeEvictor};
pub use function::{
    AggregateFunction, AllWindowProcess, PassThrough, ProcessAllWindowFunction, ProcessWindowContext,
    ProcessWindowFunction, WindowElements,
};
pub use internal_function::{
    AggregatingWindowFunction, InternalWindowFunction, ListWindowFunction, ReducingWindowFunction,
};
pub use merging_window_set::{MergingWindowSet, WindowMerge};
pub use state_store::StateStore;
pub use trigger::{OnMergeContext, Trigger, TriggerContext, TriggerResult, TriggerTimers};
pub use triggers::{
    ContinuousEventTimeTrigger, ContinuousProcessingTimeTrigger, CountTrigger, DeltaTrigger, EndOfStreamTrigger,
    EventTimeTrigger, NeverTrigger, ProcessingTimeTrigger, PurgingTrigger,
};
pub use window::{GlobalWindow, TimeWindow, Window};
