use crate::window::assigners::millis;
use crate::window::{ProcessingTimeTrigger, TimeWindow, WindowAssigner, WindowAssignerContext};
use brook_types::Timestamp;
use std::marker::PhantomData;
use std::time::Duration;

/// Processing-time sessions (Flink's `ProcessingTimeSessionWindows`): each
/// element opens `[now, now + gap)` of the task's clock; overlapping windows of
/// a key merge.
#[derive(Clone, Copy, Debug)]
pub struct ProcessingTimeSessionWindows {
    gap: i64,
}

impl ProcessingTimeSessionWindows {
    /// Panics unless `gap > 0` (Flink's check).
    pub fn with_gap(gap: Duration) -> Self {
        let gap = millis(gap);
        assert!(gap > 0, "ProcessingTimeSessionWindows parameters must satisfy 0 < size");
        Self { gap }
    }

    /// Sessions whose gap `extractor` reads from each element.
    pub fn with_dynamic_gap<T, F>(extractor: F) -> DynamicProcessingTimeSessionWindows<T, F>
    where
        F: Fn(&T) -> Duration + Clone + Send + Sync + 'static,
    {
        DynamicProcessingTimeSessionWindows { extractor, _type: PhantomData }
    }
}

impl<T> WindowAssigner<T> for ProcessingTimeSessionWindows {
    type Window = TimeWindow;
    type DefaultTrigger = ProcessingTimeTrigger;

    fn assign_windows(&self, _: &T, _: Timestamp, ctx: &WindowAssignerContext<'_>, windows: &mut Vec<TimeWindow>) {
        let now = ctx.current_processing_time();
        windows.push(TimeWindow::new(now, now.saturating_add(self.gap)));
    }

    fn default_trigger(&self) -> ProcessingTimeTrigger {
        ProcessingTimeTrigger
    }

    fn is_event_time(&self) -> bool {
        false
    }

    fn is_merging(&self) -> bool {
        true
    }

    fn merge_windows(&self, windows: &[TimeWindow], merges: &mut Vec<(TimeWindow, Vec<TimeWindow>)>) {
        TimeWindow::merge_windows(windows, merges);
    }

    fn describe(&self) -> String {
        format!("ProcessingTimeSessionWindows({})", self.gap)
    }
}

/// Processing-time sessions with a gap per element (Flink's
/// `DynamicProcessingTimeSessionWindows`).
pub struct DynamicProcessingTimeSessionWindows<T, F> {
    extractor: F,
    _type: PhantomData<fn(&T)>,
}

impl<T, F: Clone> Clone for DynamicProcessingTimeSessionWindows<T, F> {
    fn clone(&self) -> Self {
        Self { extractor: self.extractor.clone(), _type: PhantomData }
    }
}

impl<T, F> std::fmt::Debug for DynamicProcessingTimeSessionWindows<T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DynamicProcessingTimeSessionWindows()")
    }
}

impl<T, F> WindowAssigner<T> for DynamicProcessingTimeSessionWindows<T, F>
where
    T: 'static,
    F: Fn(&T) -> Duration + Clone + Send + Sync + 'static,
{
    type Window = TimeWindow;
    type DefaultTrigger = ProcessingTimeTrigger;

    fn assign_windows(
        &self,
        element: &T,
        _: Timestamp,
        ctx: &WindowAssignerContext<'_>,
        windows: &mut Vec<TimeWindow>,
    ) {
        let gap = millis((self.extractor)(element));
        assert!(gap > 0, "Dynamic gap must satisfy 0 < gap");
        let now = ctx.current_processing_time();
        windows.push(TimeWindow::new(now, now.saturating_add(gap)));
    }

    fn default_trigger(&self) -> ProcessingTimeTrigger {
        ProcessingTimeTrigger
    }

    fn is_event_time(&self) -> bool {
        false
    }

    fn is_merging(&self) -> bool {
        true
    }

    fn merge_windows(&self, windows: &[TimeWindow], merges: &mut Vec<(TimeWindow, Vec<TimeWindow>)>) {
        TimeWindow::merge_windows(windows, merges);
    }

    fn describe(&self) -> String {
        "DynamicProcessingTimeSessionWindows()".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::assigners::assign;

    #[test]
    fn opens_a_window_at_the_clock() {
        let a = ProcessingTimeSessionWindows::with_gap(Duration::from_millis(10));
        assert_eq!(assign(&a, &(), 7, 1000), vec![TimeWindow::new(1000, 1010)]);
        let d = ProcessingTimeSessionWindows::with_dynamic_gap(|v: &u64| Duration::from_millis(*v));
        assert_eq!(assign(&d, &3, 7, 1000), vec![TimeWindow::new(1000, 1003)]);
    }
}
