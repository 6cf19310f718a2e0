use crate::window::assigners::millis;
use crate::window::{ProcessingTimeTrigger, TimeWindow, WindowAssigner, WindowAssignerContext};
use brook_types::Timestamp;
use std::time::Duration;

/// Fixed-size, non-overlapping windows of the task's clock (Flink's
/// `TumblingProcessingTimeWindows`): an element goes to the window containing
/// the time it is processed at.
#[derive(Clone, Copy, Debug)]
pub struct TumblingProcessingTimeWindows {
    size: i64,
    offset: i64,
}

impl TumblingProcessingTimeWindows {
    pub fn of(size: Duration) -> Self {
        Self::of_with_offset(size, 0)
    }

    /// Panics unless `|offset_ms| < size` (Flink's check).
    pub fn of_with_offset(size: Duration, offset_ms: i64) -> Self {
        let size = millis(size);
        assert!(offset_ms.abs() < size, "TumblingProcessingTimeWindows parameters must satisfy abs(offset) < size");
        Self { size, offset: offset_ms }
    }
}

impl<T> WindowAssigner<T> for TumblingProcessingTimeWindows {
    type Window = TimeWindow;
    type DefaultTrigger = ProcessingTimeTrigger;

    fn assign_windows(&self, _: &T, _: Timestamp, ctx: &WindowAssignerContext<'_>, windows: &mut Vec<TimeWindow>) {
        let now = ctx.current_processing_time();
        let start = TimeWindow::window_start_with_offset(now, self.offset, self.size);
        windows.push(TimeWindow::new(start, start + self.size));
    }

    fn default_trigger(&self) -> ProcessingTimeTrigger {
        ProcessingTimeTrigger
    }

    fn is_event_time(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!("TumblingProcessingTimeWindows({})", self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::assigners::assign;

    #[test]
    fn assigns_by_the_clock_not_the_timestamp() {
        let a = TumblingProcessingTimeWindows::of(Duration::from_millis(100));
        assert_eq!(assign(&a, &(), 5, 1234), vec![TimeWindow::new(1200, 1300)]);
        assert_eq!(assign(&a, &(), brook_types::NO_TIMESTAMP, 1299), vec![TimeWindow::new(1200, 1300)]);
    }
}
