use crate::window::triggers::interval_millis;
use crate::window::{OnMergeContext, Trigger, TriggerContext, TriggerResult, Window};
use brook_types::Timestamp;
use std::time::Duration;

/// Fires every `interval` of event time while the window is open, and when the
/// watermark passes its end (Flink's `ContinuousEventTimeTrigger`).
///
/// The first firing time is aligned to the interval: for an element at `t`, the
/// next multiple of `interval` after `t - t % interval`, capped at the window's
/// max timestamp. After each interval firing the next one is registered
/// `interval` later. The contents are not purged.
#[derive(Clone, Copy, Debug)]
pub struct ContinuousEventTimeTrigger {
    interval: i64,
}

impl ContinuousEventTimeTrigger {
    pub fn of(interval: Duration) -> Self {
        Self { interval: interval_millis(interval, "ContinuousEventTimeTrigger") }
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
        ctx.register_event_time_timer(next);
    }
}

impl<T, W: Window> Trigger<T, W> for ContinuousEventTimeTrigger {
    /// The next interval firing time (Flink's "fire-time" state, a minimum).
    type State = Timestamp;

    fn on_element(
        &self,
        _: &T,
        timestamp: Timestamp,
        window: &W,
        ctx: &mut TriggerContext<'_, W, Timestamp>,
    ) -> TriggerResult {
        if window.max_timestamp() <= ctx.current_watermark() {
            // the watermark is already past the window: fire immediately
            return TriggerResult::Fire;
        }
        ctx.register_event_time_timer(window.max_timestamp());
        if ctx.state_if_present().is_none() {
            self.register_next_fire_timestamp(timestamp - timestamp % self.interval, window, ctx);
        }
        TriggerResult::Continue
    }

    fn on_event_time(&self, time: Timestamp, window: &W, ctx: &mut TriggerContext<'_, W, Timestamp>) -> TriggerResult {
        if time == window.max_timestamp() {
            return TriggerResult::Fire;
        }
        if ctx.state_if_present() == Some(&time) {
            ctx.clear_state();
            self.register_next_fire_timestamp(time, window, ctx);
            return TriggerResult::Fire;
        }
        TriggerResult::Continue
    }

    fn on_processing_time(&self, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, Timestamp>) -> TriggerResult {
        TriggerResult::Continue
    }

    fn can_merge(&self) -> bool {
        true
    }

    fn on_merge(&self, _: &W, ctx: &mut OnMergeContext<'_, W, Timestamp>) {
        if let Some(next) = super::merge_earliest_fire_time(ctx) {
            ctx.register_event_time_timer(next);
        }
    }

    /// Deletes the interval timer; the timer at the window's end stays (Flink).
    fn clear(&self, _: &W, ctx: &mut TriggerContext<'_, W, Timestamp>) {
        if let Some(&next) = ctx.state_if_present() {
            ctx.delete_event_time_timer(next);
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
    fn fires_at_aligned_intervals_and_at_the_window_end() {
        let t = ContinuousEventTimeTrigger::of(Duration::from_millis(4));
        let w = TimeWindow::new(0, 10);
        let mut timers = Timers::default();
        let mut s = None;
        let r = Trigger::<i32, _>::on_element(&t, &0, 5, &w, &mut timers.ctx(&w, i64::MIN, &mut s));
        assert_eq!(r, TriggerResult::Continue);
        // 5 - 5 % 4 = 4, next = 8
        assert_eq!(s, Some(8));
        assert_eq!(timers.list(), vec![(Kind::Event, w, 8), (Kind::Event, w, 9)]);
        Trigger::<i32, _>::on_element(&t, &0, 1, &w, &mut timers.ctx(&w, i64::MIN, &mut s));
        assert_eq!(s, Some(8), "set once per window");
        let r = Trigger::<i32, _>::on_event_time(&t, 8, &w, &mut timers.ctx(&w, 8, &mut s));
        assert_eq!(r, TriggerResult::Fire);
        assert_eq!(s, Some(9), "the next firing is capped at the window's max timestamp");
        let r = Trigger::<i32, _>::on_event_time(&t, 9, &w, &mut timers.ctx(&w, 9, &mut s));
        assert_eq!(r, TriggerResult::Fire);
        Trigger::<i32, _>::clear(&t, &w, &mut timers.ctx(&w, 9, &mut s));
        assert_eq!(s, None);
    }

    #[test]
    fn on_merge_keeps_the_earliest_firing_time() {
        let t = ContinuousEventTimeTrigger::of(Duration::from_millis(4));
        let w = TimeWindow::new(0, 20);
        let mut timers = Timers::default();
        let mut s = None;
        Trigger::<i32, _>::on_merge(&t, &w, &mut timers.merge_ctx(&w, 0, &mut s, vec![12, 8]));
        assert_eq!(s, Some(8));
        assert_eq!(timers.list(), vec![(Kind::Event, w, 8)]);
    }
}
