use crate::window::{OnMergeContext, Trigger, TriggerContext, TriggerResult, Window};
use brook_types::Timestamp;

/// Fires once the watermark passes the window's end (Flink's `EventTimeTrigger`),
/// and at once for an element that arrives after that (a late firing, within
/// the allowed lateness).
#[derive(Clone, Copy, Debug, Default)]
pub struct EventTimeTrigger;

impl EventTimeTrigger {
    pub fn create() -> Self {
        EventTimeTrigger
    }
}

impl<T, W: Window> Trigger<T, W> for EventTimeTrigger {
    type State = ();

    #[inline]
    fn on_element(&self, _: &T, _: Timestamp, window: &W, ctx: &mut TriggerContext<'_, W, ()>) -> TriggerResult {
        if window.max_timestamp() <= ctx.current_watermark() {
            // the watermark is already past the window: fire immediately
            TriggerResult::Fire
        } else {
            ctx.register_event_time_timer(window.max_timestamp());
            TriggerResult::Continue
        }
    }

    #[inline]
    fn on_event_time(&self, time: Timestamp, window: &W, _: &mut TriggerContext<'_, W, ()>) -> TriggerResult {
        if time == window.max_timestamp() { TriggerResult::Fire } else { TriggerResult::Continue }
    }

    fn on_processing_time(&self, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, ()>) -> TriggerResult {
        TriggerResult::Continue
    }

    fn is_event_time_trigger(&self) -> bool {
        true
    }

    fn can_merge(&self) -> bool {
        true
    }

    fn on_merge(&self, window: &W, ctx: &mut OnMergeContext<'_, W, ()>) {
        // Only register a timer if the watermark is not yet past the end of the
        // merged window; otherwise the cleanup timer handles it (Flink).
        let max = window.max_timestamp();
        if max > ctx.current_watermark() {
            ctx.register_event_time_timer(max);
        }
    }

    fn clear(&self, window: &W, ctx: &mut TriggerContext<'_, W, ()>) {
        ctx.delete_event_time_timer(window.max_timestamp());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::TimeWindow;
    use crate::window::triggers::test_support::{Kind, Timers};

    #[test]
    fn registers_at_the_window_end_and_fires_there_or_at_once_when_late() {
        let t = EventTimeTrigger;
        let w = TimeWindow::new(0, 10);
        let mut timers = Timers::default();
        let mut s = None;
        let r = Trigger::<i32, _>::on_element(&t, &1, 3, &w, &mut timers.ctx(&w, 5, &mut s));
        assert_eq!(r, TriggerResult::Continue);
        assert_eq!(timers.list(), vec![(Kind::Event, w, 9)]);
        assert_eq!(
            Trigger::<i32, _>::on_event_time(&t, 8, &w, &mut timers.ctx(&w, 8, &mut s)),
            TriggerResult::Continue
        );
        assert_eq!(Trigger::<i32, _>::on_event_time(&t, 9, &w, &mut timers.ctx(&w, 9, &mut s)), TriggerResult::Fire);
        let r = Trigger::<i32, _>::on_element(&t, &1, 3, &w, &mut timers.ctx(&w, 9, &mut s));
        assert_eq!(r, TriggerResult::Fire, "late element within the allowed lateness");
        Trigger::<i32, _>::clear(&t, &w, &mut timers.ctx(&w, 9, &mut s));
        assert!(timers.list().is_empty());
    }

    #[test]
    fn on_merge_registers_only_a_future_window_end() {
        let t = EventTimeTrigger;
        let w = TimeWindow::new(0, 10);
        let mut timers = Timers::default();
        let mut s = None;
        Trigger::<i32, _>::on_merge(&t, &w, &mut timers.merge_ctx(&w, 9, &mut s, vec![]));
        assert!(timers.list().is_empty());
        Trigger::<i32, _>::on_merge(&t, &w, &mut timers.merge_ctx(&w, 8, &mut s, vec![]));
        assert_eq!(timers.list(), vec![(Kind::Event, w, 9)]);
    }
}
