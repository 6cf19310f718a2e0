use crate::window::{OnMergeContext, Trigger, TriggerContext, TriggerResult, Window};
use brook_types::Timestamp;

/// Fires when event time reaches the window's max timestamp — for a
/// [`crate::window::GlobalWindow`], the end of input (Flink's
/// `GlobalWindows.EndOfStreamTrigger`).
#[derive(Clone, Copy, Debug, Default)]
pub struct EndOfStreamTrigger;

impl<T, W: Window> Trigger<T, W> for EndOfStreamTrigger {
    type State = ();

    fn on_element(&self, _: &T, _: Timestamp, window: &W, ctx: &mut TriggerContext<'_, W, ()>) -> TriggerResult {
        ctx.register_event_time_timer(window.max_timestamp());
        TriggerResult::Continue
    }

    fn on_event_time(&self, time: Timestamp, window: &W, _: &mut TriggerContext<'_, W, ()>) -> TriggerResult {
        if time == window.max_timestamp() { TriggerResult::Fire } else { TriggerResult::Continue }
    }

    fn on_processing_time(&self, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, ()>) -> TriggerResult {
        TriggerResult::Continue
    }

    fn can_merge(&self) -> bool {
        true
    }

    fn on_merge(&self, _: &W, _: &mut OnMergeContext<'_, W, ()>) {}

    fn clear(&self, _: &W, _: &mut TriggerContext<'_, W, ()>) {}
}
