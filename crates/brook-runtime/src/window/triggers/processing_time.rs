use crate::window::{OnMergeContext, Trigger, TriggerContext, TriggerResult, Window};
use brook_types::Timestamp;

/// Fires once the task's clock passes the window's end (Flink's
/// `ProcessingTimeTrigger`).
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessingTimeTrigger;

impl ProcessingTimeTrigger {
    pub fn create() -> Self {
        ProcessingTimeTrigger
    }
}

impl<T, W: Window> Trigger<T, W> for ProcessingTimeTrigger {
    type State = ();

    fn on_element(&self, _: &T, _: Timestamp, window: &W, ctx: &mut TriggerContext<'_, W, ()>) -> TriggerResult {
        ctx.register_processing_time_timer(window.max_timestamp());
        TriggerResult::Continue
    }

    fn on_event_time(&self, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, ()>) -> TriggerResult {
        TriggerResult::Continue
    }

    fn on_processing_time(&self, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, ()>) -> TriggerResult {
        TriggerResult::Fire
    }

    fn can_merge(&self) -> bool {
        true
    }

    fn on_merge(&self, window: &W, ctx: &mut OnMergeContext<'_, W, ()>) {
        let max = window.max_timestamp();
        if max > ctx.current_processing_time() {
            ctx.register_processing_time_timer(max);
        }
    }

    fn clear(&self, window: &W, ctx: &mut TriggerContext<'_, W, ()>) {
        ctx.delete_processing_time_timer(window.max_timestamp());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::TimeWindow;
    use crate::window::triggers::test_support::{Kind, Timers};

    #[test]
    fn fires_on_its_processing_time_timer() {
        let t = ProcessingTimeTrigger;
        let w = TimeWindow::new(100, 200);
        let mut timers = Timers { now: 150, ..Default::default() };
        let mut s = None;
        assert_eq!(
            Trigger::<i32, _>::on_element(&t, &1, 0, &w, &mut timers.ctx(&w, 0, &mut s)),
            TriggerResult::Continue
        );
        assert_eq!(timers.list(), vec![(Kind::Processing, w, 199)]);
        assert_eq!(
            Trigger::<i32, _>::on_processing_time(&t, 199, &w, &mut timers.ctx(&w, 0, &mut s)),
            TriggerResult::Fire
        );
        Trigger::<i32, _>::clear(&t, &w, &mut timers.ctx(&w, 0, &mut s));
        assert!(timers.list().is_empty());
        timers.now = 199;
        Trigger::<i32, _>::on_merge(&t, &w, &mut timers.merge_ctx(&w, 0, &mut s, vec![]));
        assert!(timers.list().is_empty(), "the clock is at the window end already");
    }
}
