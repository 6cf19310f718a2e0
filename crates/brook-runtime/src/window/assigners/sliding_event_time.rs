use crate::window::assigner::Slicing;
use crate::window::assigners::{check_has_timestamp, millis};
use crate::window::{EventTimeTrigger, TimeWindow, WindowAssigner, WindowAssignerContext};
use brook_types::Timestamp;
use std::time::Duration;

/// Event-time windows of `size` starting every `slide` (Flink's
/// `SlidingEventTimeWindows`). An element belongs to every window whose range
/// contains its timestamp — `size / slide` of them when `slide` divides `size` —
/// assigned latest window first, as Flink does.
#[derive(Clone, Copy, Debug)]
pub struct SlidingEventTimeWindows {
    size: i64,
    slide: i64,
    offset: i64,
}

impl SlidingEventTimeWindows {
    pub fn of(size: Duration, slide: Duration) -> Self {
        Self::of_with_offset(size, slide, 0)
    }

    /// Panics unless `|offset_ms| < slide` and `size > 0` (Flink's check).
    pub fn of_with_offset(size: Duration, slide: Duration, offset_ms: i64) -> Self {
        let (size, slide) = (millis(size), millis(slide));
        assert!(
            offset_ms.abs() < slide && size > 0,
            "SlidingEventTimeWindows parameters must satisfy abs(offset) < slide and size > 0"
        );
        Self { size, slide, offset: offset_ms }
    }
}

/// Flink's loop: from the last window start down, while the window still contains `t`.
#[inline]
pub(crate) fn sliding_windows(t: Timestamp, size: i64, slide: i64, offset: i64, windows: &mut Vec<TimeWindow>) {
    let last_start = TimeWindow::window_start_with_offset(t, offset, slide);
    let mut start = last_start;
    while start > t - size {
        windows.push(TimeWindow::new(start, start + size));
        start -= slide;
    }
}

impl<T> WindowAssigner<T> for SlidingEventTimeWindows {
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
        sliding_windows(timestamp, self.size, self.slide, self.offset, windows);
    }

    fn default_trigger(&self) -> EventTimeTrigger {
        EventTimeTrigger
    }

    fn is_event_time(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("SlidingEventTimeWindows({}, {})", self.size, self.slide)
    }

    fn slicing(&self) -> Option<Slicing<TimeWindow>> {
        (self.slide > 0 && self.size % self.slide == 0).then_some(Slicing {
            size: self.size,
            slide: self.slide,
            offset: self.offset,
            window: TimeWindow::new,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::assigners::assign;
    use proptest::prelude::*;

    #[test]
    fn assigns_every_window_containing_the_timestamp_latest_first() {
        let a = SlidingEventTimeWindows::of(Duration::from_millis(10), Duration::from_millis(5));
        assert_eq!(assign(&a, &(), 7, 0), vec![TimeWindow::new(5, 15), TimeWindow::new(0, 10)]);
        assert_eq!(assign(&a, &(), 10, 0), vec![TimeWindow::new(10, 20), TimeWindow::new(5, 15)]);
        // slide larger than size: gaps between windows
        let gappy = SlidingEventTimeWindows::of(Duration::from_millis(3), Duration::from_millis(5));
        assert_eq!(assign(&gappy, &(), 4, 0), Vec::<TimeWindow>::new());
        assert_eq!(assign(&gappy, &(), 6, 0), vec![TimeWindow::new(5, 8)]);
        assert_eq!(assign(&gappy, &(), 12, 0), vec![TimeWindow::new(10, 13)]);
        let shifted = SlidingEventTimeWindows::of_with_offset(Duration::from_millis(10), Duration::from_millis(5), 2);
        assert_eq!(assign(&shifted, &(), 7, 0), vec![TimeWindow::new(7, 17), TimeWindow::new(2, 12)]);
    }

    #[test]
    #[should_panic(expected = "abs(offset) < slide and size > 0")]
    fn rejects_an_offset_of_a_whole_slide() {
        SlidingEventTimeWindows::of_with_offset(Duration::from_millis(10), Duration::from_millis(5), 5);
    }

    proptest! {
        /// Against a brute-force model: exactly the windows `[s, s + size)` with
        /// `s ≡ offset (mod slide)` that contain `t`.
        #[test]
        fn windows_are_exactly_those_containing_the_timestamp(
            t in -500i64..500, size in 1i64..40, slide in 1i64..20, off in 0i64..20,
        ) {
            let offset = off % slide;
            let a = SlidingEventTimeWindows::of_with_offset(Duration::from_millis(size as u64), Duration::from_millis(slide as u64), offset);
            let mut got = assign(&a, &(), t, 0);
            got.sort();
            let mut model: Vec<TimeWindow> = (t - size - slide..=t + slide)
                .filter(|s| (s - offset).rem_euclid(slide) == 0 && *s <= t && t < s + size)
                .map(|s| TimeWindow::new(s, s + size))
                .collect();
            model.sort();
            prop_assert_eq!(got, model);
        }
    }
}
