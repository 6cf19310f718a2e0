use crate::window::triggers::interval_millis;
use crate::window::{OnMergeContext, Trigger, TriggerContext, TriggerResult, Window};
use brook_types::Timestamp;
use std::time::Duration;

/// Fires every `interval` of processing time while the window has elements,
/// capped at the window's end (Flink's `ContinuousProcessingTimeTrigger`). The
/// first firing is aligned to the interval: `now - now % interval + interval`.
#[derive(Clone, Copy, Debug)]
pub struct ContinuousProcessingTimeTrigger {
    interval: i64,
}

impl ContinuousProcessingTimeTrigger {
    pub fn of(interval: Duration) -> Self {
        Self { interval: interval_millis(interval, "ContinuousProcessingTimeTrigger") }
    }

    fn register_next_fire_timestamp<W: Window>(
        &self,
        time: Timestamp,
        window: &W,
        ctx: &mut TriggerContext<'_, W, Timestamp>,
    ) {
        let next = time.saturating_add(self.interval).min(window.max_timestamp());
        let state = ctx.state_if_present().map_or(next, |&s| s.min(next));
        *ctx.state() = state;
        ctx.register_processing_time_timer(next);
    }
}

impl<T, W: Window> Trigger<T, W> for ContinuousProcessingTimeTrigger {
    /// The next firing time (Flink's "fire-time" state, a minimum).
    type State = Timestamp;

    fn on_element(&self, _: &T, _: Timestamp, window: &W, ctx: &mut TriggerContext<'_, W, Timestamp>) -> TriggerResult {
        let now = ctx.current_processing_time();
        if ctx.state_if_present().is_none() {
            self.register_next_fire_timestamp(now - now % self.interval, window, ctx);
        }
        TriggerResult::Continue
    }

    fn on_event_time(&self, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, Timestamp>) -> TriggerResult {
        TriggerResult::Continue
    }

    fn on_processing_time(
        &self,
        time: Timestamp,
        window: &W,
        ctx: &mut TriggerContext<'_, W, Timestamp>,
    ) -> TriggerResult {
        if ctx.state_if_present() == Some(&time) {
            ctx.clear_state();
            self.register_next_fire_timestamp(time, window, ctx);
            return TriggerResult::Fire;
        }
        TriggerResult::Continue
    }

    fn can_merge(&self) -> bool {
        true
    }

    fn on_merge(&self, _: &W, ctx: &mut OnMergeContext<'_, W, Timestamp>) {
        if let Some(next) = super::merge_earliest_fire_time(ctx) {
            ctx.register_processing_time_timer(next);
        }
    }

    fn clear(&self, _: &W, ctx: &mut TriggerContext<'_, W, Timestamp>) {
        if let Some(&next) = ctx.state_if_present() {
            ctx.delete_processing_time_timer(next);
            ctx.clear_state();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::TimeWindow;
    use crate::window::triggers::test_support::{Kind, Timers};

    #[test]
    fn fires_at_aligned_processing_time_intervals() {
        let t = ContinuousProcessingTimeTrigger::of(Duration::from_millis(10));
        let w = TimeWindow::new(0, 25);
        let mut timers = Timers { now: 3, ..Default::default() };
        let mut s = None;
        Trigger::<i32, _>::on_element(&t, &0, 0, &w, &mut timers.ctx(&w, 0, &mut s));
        assert_eq!(s, Some(10));
        assert_eq!(timers.list(), vec![(Kind::Processing, w, 10)]);
        let r = Trigger::<i32, _>::on_processing_time(&t, 10, &w, &mut timers.ctx(&w, 0, &mut s));
        assert_eq!(r, TriggerResult::Fire);
        let r = Trigger::<i32, _>::on_processing_time(&t, 20, &w, &mut timers.ctx(&w, 0, &mut s));
        assert_eq!(r, TriggerResult::Fire);
        assert_eq!(s, Some(24), "capped at the window's max timestamp");
        let r = Trigger::<i32, _>::on_processing_time(&t, 23, &w, &mut timers.ctx(&w, 0, &mut s));
        assert_eq!(r, TriggerResult::Continue);
    }
}
