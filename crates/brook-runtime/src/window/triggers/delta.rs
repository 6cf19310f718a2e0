use crate::window::{Trigger, TriggerContext, TriggerResult, Window};
use brook_types::Timestamp;
use std::marker::PhantomData;

/// Fires when an element's distance from the element of the last firing (at
/// first, the window's first element) exceeds `threshold` (Flink's
/// `DeltaTrigger`); that element becomes the new reference. Cannot be used
/// with merging windows.
pub struct DeltaTrigger<T, D> {
    delta: D,
    threshold: f64,
    _type: PhantomData<fn(&T)>,
}

impl<T, D: Clone> Clone for DeltaTrigger<T, D> {
    fn clone(&self) -> Self {
        Self { delta: self.delta.clone(), threshold: self.threshold, _type: PhantomData }
    }
}

impl<T, D> std::fmt::Debug for DeltaTrigger<T, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeltaTrigger(threshold={})", self.threshold)
    }
}

impl<T, D> DeltaTrigger<T, D>
where
    D: Fn(&T, &T) -> f64,
{
    /// `delta(old, new)` measures the distance between two elements.
    pub fn of(threshold: f64, delta: D) -> Self {
        Self { delta, threshold, _type: PhantomData }
    }
}

impl<T, W, D> Trigger<T, W> for DeltaTrigger<T, D>
where
    T: brook_types::Data,
    W: Window,
    D: Fn(&T, &T) -> f64 + Clone + Send + Sync + 'static,
{
    /// The reference element.
    type State = Option<T>;

    fn on_element(
        &self,
        element: &T,
        _: Timestamp,
        _: &W,
        ctx: &mut TriggerContext<'_, W, Option<T>>,
    ) -> TriggerResult {
        let last = ctx.state();
        match last {
            None => {
                *last = Some(element.clone());
                TriggerResult::Continue
            }
            Some(reference) if (self.delta)(reference, element) > self.threshold => {
                *last = Some(element.clone());
                TriggerResult::Fire
            }
            Some(_) => TriggerResult::Continue,
        }
    }

    fn on_event_time(&self, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, Option<T>>) -> TriggerResult {
        TriggerResult::Continue
    }

    fn on_processing_time(&self, _: Timestamp, _: &W, _: &mut TriggerContext<'_, W, Option<T>>) -> TriggerResult {
        TriggerResult::Continue
    }

    fn clear(&self, _: &W, ctx: &mut TriggerContext<'_, W, Option<T>>) {
        ctx.clear_state();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::GlobalWindow;
    use crate::window::triggers::test_support::Timers;

    #[test]
    fn fires_when_the_delta_exceeds_the_threshold() {
        let t = DeltaTrigger::of(5.0, |a: &i32, b: &i32| f64::from(b - a));
        let w = GlobalWindow;
        let mut timers = Timers::default();
        let mut s = None;
        let results: Vec<_> =
            [1, 3, 6, 7, 12, 13].iter().map(|v| t.on_element(v, 0, &w, &mut timers.ctx(&w, 0, &mut s))).collect();
        use TriggerResult::{Continue as C, Fire as F};
        // reference 1: 6 is 5 away (not more), 7 is 6 → fire, reference 7: 13 is 6 → fire
        assert_eq!(results, vec![C, C, C, F, C, F]);
        assert!(!Trigger::<i32, GlobalWindow>::can_merge(&t));
    }
}
