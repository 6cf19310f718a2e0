use crate::window::{OnMergeContext, Trigger, TriggerContext, TriggerResult, Window};
use brook_types::Timestamp;

/// Fires every `max_count` elements of a window (Flink's `CountTrigger`); the
/// count restarts after each firing. The contents are not purged: wrap it in a
/// [`crate::window::PurgingTrigger`] for tumbling counts.
#[derive(Clone, Copy, Debug)]
pub struct CountTrigger {
    max_count: u64,
}

impl CountTrigger {
    pub fn of(max_count: u64) -> Self {
        Self { max_count }
    }
}

impl<T, W: Window> Trigger<T, W> for CountTrigger {
    /// Elements since the last firing.
    type State = u64;

    fn on_element(&self, _: &T, _: Timestamp, _: &W, ctx: &mut TriggerContext<'_, W, u64>) -> TriggerResult {
        let count = ctx.state();
        *count += 1;
        if *count >= self.max_count {
            ctx.clear_state();
            TriggerResult::Fire
        } else {
            TriggerResult::Continue
        }
    }

    fn on_event_time(&self, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, u64>) -> TriggerResult {
        TriggerResult::Continue
    }

    fn on_processing_time(&self, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, u64>) -> TriggerResult {
        TriggerResult::Continue
    }

    fn can_merge(&self) -> bool {
        true
    }

    /// The merged window counts the elements of all merged windows; it fires at
    /// its next element if that reaches `max_count`.
    fn on_merge(&self, _: &W, ctx: &mut OnMergeContext<'_, W, u64>) {
        let merged = ctx.take_merged_states();
        if !merged.is_empty() {
            *ctx.state() += merged.iter().sum::<u64>();
        }
    }

    fn clear(&self, _: &W, ctx: &mut TriggerContext<'_, W, u64>) {
        ctx.clear_state();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::GlobalWindow;
    use crate::window::triggers::test_support::Timers;

    #[test]
    fn fires_every_n_elements_and_merges_counts() {
        let t = CountTrigger::of(3);
        let w = GlobalWindow;
        let mut timers = Timers::default();
        let mut s = None;
        let mut fire = |s: &mut Option<u64>| Trigger::<i32, _>::on_element(&t, &0, 0, &w, &mut timers.ctx(&w, 0, s));
        let results: Vec<_> = (0..7).map(|_| fire(&mut s)).collect();
        use TriggerResult::{Continue as C, Fire as F};
        assert_eq!(results, vec![C, C, F, C, C, F, C]);
        assert_eq!(s, Some(1));
        let mut target = None;
        Trigger::<i32, _>::on_merge(&t, &w, &mut timers.merge_ctx(&w, 0, &mut target, vec![1, 1]));
        assert_eq!(target, Some(2));
        assert_eq!(Trigger::<i32, _>::on_element(&t, &0, 0, &w, &mut timers.ctx(&w, 0, &mut target)), F);
    }
}
