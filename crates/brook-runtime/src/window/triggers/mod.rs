//! The built-in triggers, one per file, each with Flink's semantics.
//!
//! | trigger | fires | default of |
//! |---|---|---|
//! | [`EventTimeTrigger`] | when the watermark passes the window's end; at once for a late element | event-time assigners |
//! | [`ProcessingTimeTrigger`] | when the clock passes the window's end | processing-time assigners |
//! | [`NeverTrigger`] | never | `GlobalWindows::create()` |
//! | [`EndOfStreamTrigger`] | at the end of input (`Watermark::MAX`) | `GlobalWindows::create_with_end_of_stream_trigger()` |
//! | [`CountTrigger`] | every `n` elements | `count_window` |
//! | [`PurgingTrigger`] | as its nested trigger, purging on every firing | |
//! | [`ContinuousEventTimeTrigger`] | every interval of event time, and at the window's end | |
//! | [`ContinuousProcessingTimeTrigger`] | every interval of processing time, and at the window's end | |
//! | [`DeltaTrigger`] | when an element differs from the last firing's element by more than a threshold | |

mod continuous_event_time;
mod continuous_processing_time;
mod count;
mod delta;
mod end_of_stream;
mod event_time;
mod never;
mod processing_time;
mod purging;

pub use continuous_event_time::ContinuousEventTimeTrigger;
pub use continuous_processing_time::ContinuousProcessingTimeTrigger;
pub use count::CountTrigger;
pub use delta::DeltaTrigger;
pub use end_of_stream::EndOfStreamTrigger;
pub use event_time::EventTimeTrigger;
pub use never::NeverTrigger;
pub use processing_time::ProcessingTimeTrigger;
pub use purging::PurgingTrigger;

use std::time::Duration;

/// Milliseconds of a positive duration, as Flink's triggers take them.
pub(crate) fn interval_millis(interval: Duration, what: &str) -> i64 {
    let millis = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    assert!(millis > 0, "{what}: the interval must be at least 1 ms, got {interval:?}");
    millis
}

/// The continuous triggers' merge rule: the merged window fires next at the
/// earliest pending fire time of the windows it absorbed (and its own). Returns
/// that time, for the caller to register a timer on its clock.
pub(crate) fn merge_earliest_fire_time<W>(
    ctx: &mut crate::window::OnMergeContext<'_, W, brook_types::Timestamp>,
) -> Option<brook_types::Timestamp> {
    if let Some(min) = ctx.take_merged_states().into_iter().min() {
        let next = ctx.state_if_present().map_or(min, |&s| s.min(min));
        *ctx.state() = next;
    }
    ctx.state_if_present().copied()
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A trigger harness: timers recorded in a set, a settable clock and watermark.

    use crate::window::{OnMergeContext, TriggerContext, TriggerTimers};
    use brook_types::Timestamp;
    use std::collections::BTreeSet;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    pub enum Kind {
        Event,
        Processing,
    }

    /// Registered timers as (domain, window, time).
    pub struct Timers<W: Ord> {
        pub now: Timestamp,
        pub set: BTreeSet<(Kind, W, Timestamp)>,
    }

    impl<W: Ord> Default for Timers<W> {
        fn default() -> Self {
            Self { now: 0, set: BTreeSet::new() }
        }
    }

    impl<W: Ord + Clone> TriggerTimers<W> for Timers<W> {
        fn current_processing_time(&self) -> Timestamp {
            self.now
        }
        fn register_event_time_timer(&mut self, window: &W, time: Timestamp) {
            self.set.insert((Kind::Event, window.clone(), time));
        }
        fn register_processing_time_timer(&mut self, window: &W, time: Timestamp) {
            self.set.insert((Kind::Processing, window.clone(), time));
        }
        fn delete_event_time_timer(&mut self, window: &W, time: Timestamp) {
            self.set.remove(&(Kind::Event, window.clone(), time));
        }
        fn delete_processing_time_timer(&mut self, window: &W, time: Timestamp) {
            self.set.remove(&(Kind::Processing, window.clone(), time));
        }
    }

    impl<W: Ord + Clone> Timers<W> {
        pub fn ctx<'a, S>(
            &'a mut self,
            window: &'a W,
            watermark: Timestamp,
            state: &'a mut Option<S>,
        ) -> TriggerContext<'a, W, S> {
            TriggerContext::new(window, self, watermark, state)
        }

        pub fn merge_ctx<'a, S>(
            &'a mut self,
            window: &'a W,
            watermark: Timestamp,
            state: &'a mut Option<S>,
            merged: Vec<S>,
        ) -> OnMergeContext<'a, W, S> {
            OnMergeContext::new(TriggerContext::new(window, self, watermark, state), merged)
        }

        pub fn list(&self) -> Vec<(Kind, W, Timestamp)> {
            self.set.iter().cloned().collect()
        }
    }
}
