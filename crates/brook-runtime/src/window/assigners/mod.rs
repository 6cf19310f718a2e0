//! The built-in window assigners, one family per file, each with Flink's
//! semantics and parameter checks.
//!
//! | assigner | windows | time |
//! |---|---|---|
//! | [`TumblingEventTimeWindows`] / [`TumblingProcessingTimeWindows`] | fixed size, aligned to the epoch plus an offset, not overlapping | event / processing |
//! | [`SlidingEventTimeWindows`] / [`SlidingProcessingTimeWindows`] | fixed size, starting every `slide` (an element is in `size / slide` windows) | event / processing |
//! | [`EventTimeSessionWindows`] / [`ProcessingTimeSessionWindows`] | from an element to `gap` after it, merged while they overlap; `with_dynamic_gap` takes the gap from the element | event / processing |
//! | [`GlobalWindows`] | one window per key, needing a trigger of its own | none |

mod event_time_session;
mod global;
mod processing_time_session;
mod sliding_event_time;
mod sliding_processing_time;
mod tumbling_event_time;
mod tumbling_processing_time;

pub use event_time_session::{DynamicEventTimeSessionWindows, EventTimeSessionWindows};
pub use global::GlobalWindows;
pub use processing_time_session::{DynamicProcessingTimeSessionWindows, ProcessingTimeSessionWindows};
pub use sliding_event_time::SlidingEventTimeWindows;
pub use sliding_processing_time::SlidingProcessingTimeWindows;
pub use tumbling_event_time::TumblingEventTimeWindows;
pub use tumbling_processing_time::TumblingProcessingTimeWindows;

use brook_types::NO_TIMESTAMP;
use std::time::Duration;

/// Milliseconds of a duration (saturating).
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An event-time assigner got a record without a timestamp: Flink's message.
pub(crate) fn check_has_timestamp(timestamp: i64) {
    if timestamp == NO_TIMESTAMP {
        panic!(
            "record has no timestamp (Long.MIN_VALUE marker): event-time windows need timestamps; \
             did you forget to call assign_timestamps_and_watermarks(..) or to emit with collect_with_timestamp?"
        );
    }
}

#[cfg(test)]
pub(crate) fn assign<T, A: crate::window::WindowAssigner<T>>(a: &A, element: &T, ts: i64, now: i64) -> Vec<A::Window> {
    let clock = move || now;
    let ctx = crate::window::WindowAssignerContext::new(&clock);
    let mut out = Vec::new();
    a.assign_windows(element, ts, &ctx, &mut out);
    out
}
