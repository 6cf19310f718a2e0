use crate::window::assigners::millis;
use crate::window::assigners::sliding_event_time::sliding_windows;
use crate::window::{ProcessingTimeTrigger, TimeWindow, WindowAssigner, WindowAssignerContext};
use brook_types::Timestamp;
use std::time::Duration;

/// Windows of `size` starting every `slide` of the task's clock (Flink's
/// `SlidingProcessingTimeWindows`).
#[derive(Clone, Copy, Debug)]
pub struct SlidingProcessingTimeWindows {
    size: i64,
    slide: i64,
    offset: i64,
}

impl SlidingProcessingTimeWindows {
    pub fn of(size: Duration, slide: Duration) -> Self {
        Self::of_with_offset(size, slide, 0)
    }

    /// Panics unless `|offset_ms| < slide` and `size > 0` (Flink's check).
    pub fn of_with_offset(size: Duration, slide: Duration, offset_ms: i64) -> Self {
        let (size, slide) = (millis(size), millis(slide));
        assert!(
            offset_ms.abs() < slide && size > 0,
            "SlidingProcessingTimeWindows parameters must satisfy abs(offset) < slide and size > 0"
        );
        Self { size, slide, offset: offset_ms }
    }
}

impl<T> WindowAssigner<T> for SlidingProcessingTimeWindows {
    type Window = TimeWindow;
    type DefaultTrigger = ProcessingTimeTrigger;

    fn assign_windows(&self, _: &T, _: Timestamp, ctx: &WindowAssignerContext<'_>, windows: &mut Vec<TimeWindow>) {
        sliding_windows(ctx.current_processing_time(), self.size, self.slide, self.offset, windows);
    }

    fn default_trigger(&self) -> ProcessingTimeTrigger {
        ProcessingTimeTrigger
    }

    fn is_event_time(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!("SlidingProcessingTimeWindows({}, {})", self.size, self.slide)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::assigners::assign;

    #[test]
    fn assigns_by_the_clock() {
        let a = SlidingProcessingTimeWindows::of(Duration::from_millis(100), Duration::from_millis(50));
        assert_eq!(assign(&a, &(), 0, 1234), vec![TimeWindow::new(1200, 1300), TimeWindow::new(1150, 1250)]);
    }
}
