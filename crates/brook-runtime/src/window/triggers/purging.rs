use crate::window::{OnMergeContext, Trigger, TriggerContext, TriggerResult, Window};
use brook_types::Timestamp;

/// Turns every FIRE of its nested trigger into FIRE_AND_PURGE (Flink's
/// `PurgingTrigger`): each firing sees only the elements since the last one.
#[derive(Clone, Copy, Debug)]
pub struct PurgingTrigger<Tr> {
    nested: Tr,
}

impl<Tr> PurgingTrigger<Tr> {
    pub fn of(nested: Tr) -> Self {
        Self { nested }
    }

    pub fn nested(&self) -> &Tr {
        &self.nested
    }
}

#[inline]
fn purging(r: TriggerResult) -> TriggerResult {
    if r.is_fire() { TriggerResult::FireAndPurge } else { r }
}

impl<T, W: Window, Tr: Trigger<T, W>> Trigger<T, W> for PurgingTrigger<Tr> {
    type State = Tr::State;

    fn on_element(&self, e: &T, ts: Timestamp, w: &W, ctx: &mut TriggerContext<'_, W, Tr::State>) -> TriggerResult {
        purging(self.nested.on_element(e, ts, w, ctx))
    }

    fn on_event_time(&self, time: Timestamp, w: &W, ctx: &mut TriggerContext<'_, W, Tr::State>) -> TriggerResult {
        purging(self.nested.on_event_time(time, w, ctx))
    }

    fn on_processing_time(&self, time: Timestamp, w: &W, ctx: &mut TriggerContext<'_, W, Tr::State>) -> TriggerResult {
        purging(self.nested.on_processing_time(time, w, ctx))
    }

    fn can_merge(&self) -> bool {
        self.nested.can_merge()
    }

    fn on_merge(&self, w: &W, ctx: &mut OnMergeContext<'_, W, Tr::State>) {
        self.nested.on_merge(w, ctx)
    }

    fn clear(&self, w: &W, ctx: &mut TriggerContext<'_, W, Tr::State>) {
        self.nested.clear(w, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::triggers::test_support::Timers;
    use crate::window::{CountTrigger, GlobalWindow};

    #[test]
    fn fire_becomes_fire_and_purge() {
        let t = PurgingTrigger::of(CountTrigger::of(2));
        let w = GlobalWindow;
        let mut timers = Timers::default();
        let mut s = None;
        let mut next = || Trigger::<i32, _>::on_element(&t, &0, 0, &w, &mut timers.ctx(&w, 0, &mut s));
        assert_eq!(next(), TriggerResult::Continue);
        assert_eq!(next(), TriggerResult::FireAndPurge);
        assert!(Trigger::<i32, GlobalWindow>::can_merge(&t));
    }
}
