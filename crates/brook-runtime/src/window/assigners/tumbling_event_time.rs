use crate::window::assigner::Slicing;
use crate::window::assigners::{check_has_timestamp, millis};
use crate::window::{EventTimeTrigger, TimeWindow, WindowAssigner, WindowAssignerContext};
use brook_types::Timestamp;
use std::time::Duration;

/// Fixed-size, non-overlapping event-time windows `[start, start + size)` with
/// `start ≡ offset (mod size)` (Flink's `TumblingEventTimeWindows`). An offset
/// shifts the alignment, e.g. `-8 h` for days in UTC+8.
#[derive(Clone, Copy, Debug)]
pub struct TumblingEventTimeWindows {
    size: i64,
    offset: i64,
}

impl TumblingEventTimeWindows {
    pub fn of(size: Duration) -> Self {
        Self::of_with_offset(size, 0)
    }

    /// Panics unless `|offset_ms| < size` (Flink's check).
    pub fn of_with_offset(size: Duration, offset_ms: i64) -> Self {
        let size = millis(size);
        assert!(offset_ms.abs() < size, "TumblingEventTimeWindows parameters must satisfy abs(offset) < size");
        Self { size, offset: offset_ms }
    }

    pub fn size(&self) -> i64 {
        self.size
    }
}

impl<T> WindowAssigner<T> for TumblingEventTimeWindows {
    type Window = TimeWindow;
    type DefaultTrigger = EventTimeTrigger;

    #[inline]
    fn assign_windows(
        &self,
        _: &T,
        timestamp: Timestamp,
        _: &WindowAssignerContext<'_>,
        windows: &mut Vec<TimeWindow>,
    ) {
        check_has_timestamp(timestamp);
        let start = TimeWindow::window_start_with_offset(timestamp, self.offset, self.size);
        windows.push(TimeWindow::new(start, start + self.size));
    }

    fn default_trigger(&self) -> EventTimeTrigger {
        EventTimeTrigger
    }

    fn is_event_time(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("TumblingEventTimeWindows({})", self.size)
    }

    /// One slice per window: slicing spares the trigger and timer bookkeeping per element.
    fn slicing(&self) -> Option<Slicing<TimeWindow>> {
        Some(Slicing { size: self.size, slide: self.size, offset: self.offset, window: TimeWindow::new })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::assigners::assign;

    #[test]
    fn assigns_one_aligned_window() {
        let a = TumblingEventTimeWindows::of(Duration::from_millis(5000));
        assert_eq!(assign(&a, &(), 0, 0), vec![TimeWindow::new(0, 5000)]);
        assert_eq!(assign(&a, &(), 4999, 0), vec![TimeWindow::new(0, 5000)]);
        assert_eq!(assign(&a, &(), 5000, 0), vec![TimeWindow::new(5000, 10000)]);
        assert_eq!(assign(&a, &(), -1, 0), vec![TimeWindow::new(-5000, 0)]);
        let shifted = TumblingEventTimeWindows::of_with_offset(Duration::from_millis(5000), 100);
        assert_eq!(assign(&shifted, &(), 99, 0), vec![TimeWindow::new(-4900, 100)]);
        assert_eq!(assign(&shifted, &(), 100, 0), vec![TimeWindow::new(100, 5100)]);
    }

    #[test]
    #[should_panic(expected = "abs(offset) < size")]
    fn rejects_an_offset_of_a_whole_size() {
        TumblingEventTimeWindows::of_with_offset(Duration::from_millis(10), -10);
    }

    #[test]
    #[should_panic(expected = "record has no timestamp")]
    fn rejects_records_without_timestamps() {
        assign(&TumblingEventTimeWindows::of(Duration::from_millis(10)), &(), brook_types::NO_TIMESTAMP, 0);
    }
}
