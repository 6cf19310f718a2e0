use crate::window::{OnMergeContext, Trigger, TriggerContext, TriggerResult, Window};
use brook_types::Timestamp;

/// Never fires: the default trigger of `GlobalWindows::create()`, which needs a
/// trigger of its own (Flink's `GlobalWindows.NeverTrigger`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NeverTrigger;

impl<T, W: Window> Trigger<T, W> for NeverTrigger {
    type State = ();

    fn on_element(&self, _: &T, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, ()>) -> TriggerResult {
        TriggerResult::Continue
    }

    fn on_event_time(&self, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, ()>) -> TriggerResult {
        TriggerResult::Continue
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
