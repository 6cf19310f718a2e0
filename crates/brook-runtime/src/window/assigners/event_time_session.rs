use crate::window::assigners::millis;
use crate::window::{EventTimeTrigger, TimeWindow, WindowAssigner, WindowAssignerContext};
use brook_types::Timestamp;
use std::marker::PhantomData;
use std::time::Duration;

/// Event-time sessions (Flink's `EventTimeSessionWindows`): each element opens
/// the window `[t, t + gap)`; windows of a key that overlap or touch merge, so a
/// session ends once no element arrived for `gap`.
#[derive(Clone, Copy, Debug)]
pub struct EventTimeSessionWindows {
    gap: i64,
}

impl EventTimeSessionWindows {
    /// Panics unless `gap > 0` (Flink's check).
    pub fn with_gap(gap: Duration) -> Self {
        let gap = millis(gap);
        assert!(gap > 0, "EventTimeSessionWindows parameters must satisfy 0 < size");
        Self { gap }
    }

    /// Sessions whose gap `extractor` reads from each element.
    pub fn with_dynamic_gap<T, F>(extractor: F) -> DynamicEventTimeSessionWindows<T, F>
    where
        F: Fn(&T) -> Duration + Clone + Send + Sync + 'static,
    {
        DynamicEventTimeSessionWindows { extractor, _type: PhantomData }
    }
}

impl<T> WindowAssigner<T> for EventTimeSessionWindows {
    type Window = TimeWindow;
    type DefaultTrigger = EventTimeTrigger;

    fn assign_windows(
        &self,
        _: &T,
        timestamp: Timestamp,
        _: &WindowAssignerContext<'_>,
        windows: &mut Vec<TimeWindow>,
    ) {
        windows.push(TimeWindow::new(timestamp, timestamp.saturating_add(self.gap)));
    }

    fn default_trigger(&self) -> EventTimeTrigger {
        EventTimeTrigger
    }

    fn is_event_time(&self) -> bool {
        true
    }

    fn is_merging(&self) -> bool {
        true
    }

    fn merge_windows(&self, windows: &[TimeWindow], merges: &mut Vec<(TimeWindow, Vec<TimeWindow>)>) {
        TimeWindow::merge_windows(windows, merges);
    }

    fn describe(&self) -> String {
        format!("EventTimeSessionWindows({})", self.gap)
    }
}

/// Event-time sessions with a gap per element (Flink's
/// `DynamicEventTimeSessionWindows`).
pub struct DynamicEventTimeSessionWindows<T, F> {
    extractor: F,
    _type: PhantomData<fn(&T)>,
}

impl<T, F: Clone> Clone for DynamicEventTimeSessionWindows<T, F> {
    fn clone(&self) -> Self {
        Self { extractor: self.extractor.clone(), _type: PhantomData }
    }
}

impl<T, F> std::fmt::Debug for DynamicEventTimeSessionWindows<T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DynamicEventTimeSessionWindows()")
    }
}

impl<T, F> WindowAssigner<T> for DynamicEventTimeSessionWindows<T, F>
where
    T: 'static,
    F: Fn(&T) -> Duration + Clone + Send + Sync + 'static,
{
    type Window = TimeWindow;
    type DefaultTrigger = EventTimeTrigger;

    fn assign_windows(
        &self,
        element: &T,
        timestamp: Timestamp,
        _: &WindowAssignerContext<'_>,
        windows: &mut Vec<TimeWindow>,
    ) {
        let gap = millis((self.extractor)(element));
        assert!(gap > 0, "Dynamic gap must satisfy 0 < gap");
        windows.push(TimeWindow::new(timestamp, timestamp.saturating_add(gap)));
    }

    fn default_trigger(&self) -> EventTimeTrigger {
        EventTimeTrigger
    }

    fn is_event_time(&self) -> bool {
        true
    }

    fn is_merging(&self) -> bool {
        true
    }

    fn merge_windows(&self, windows: &[TimeWindow], merges: &mut Vec<(TimeWindow, Vec<TimeWindow>)>) {
        TimeWindow::merge_windows(windows, merges);
    }

    fn describe(&self) -> String {
        "DynamicEventTimeSessionWindows()".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::assigners::assign;

    #[test]
    fn opens_a_gap_long_window_per_element() {
        let a = EventTimeSessionWindows::with_gap(Duration::from_millis(10));
        assert_eq!(assign(&a, &(), 7, 0), vec![TimeWindow::new(7, 17)]);
        let d = EventTimeSessionWindows::with_dynamic_gap(|v: &u64| Duration::from_millis(*v));
        assert_eq!(assign(&d, &3, 7, 0), vec![TimeWindow::new(7, 10)]);
        assert!(WindowAssigner::<u64>::is_merging(&d));
    }

    #[test]
    #[should_panic(expected = "Dynamic gap must satisfy 0 < gap")]
    fn rejects_a_zero_dynamic_gap() {
        let d = EventTimeSessionWindows::with_dynamic_gap(|v: &u64| Duration::from_millis(*v));
        assign(&d, &0, 7, 0);
    }

    #[test]
    #[should_panic(expected = "0 < size")]
    fn rejects_a_zero_gap() {
        EventTimeSessionWindows::with_gap(Duration::ZERO);
    }
}
