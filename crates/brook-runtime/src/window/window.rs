//! Windows: the finite slices of a keyed stream that a window operator evaluates.

use brook_types::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::hash::Hash;

/// A window: a namespace for a key's window contents, trigger state and timers.
pub trait Window:
    Clone + Eq + Hash + Debug + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static
{
    /// The largest timestamp that still belongs to the window. Results of the
    /// window carry it as their timestamp, and event-time triggers fire when the
    /// watermark reaches it.
    fn max_timestamp(&self) -> Timestamp;
}

/// A time interval `[start, end)` (Flink's `TimeWindow`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimeWindow {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl TimeWindow {
    pub fn new(start: Timestamp, end: Timestamp) -> Self {
        Self { start, end }
    }

    /// Whether the two windows overlap or touch (`[0, 5)` and `[5, 10)` do): the
    /// condition for session windows to merge.
    pub fn intersects(&self, other: &TimeWindow) -> bool {
        self.start <= other.end && self.end >= other.start
    }

    /// The smallest window containing both.
    pub fn cover(&self, other: &TimeWindow) -> TimeWindow {
        TimeWindow::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The start of the window of size `window_size`, aligned to `offset`, that
    /// contains `timestamp` — Flink's `TimeWindow.getWindowStartWithOffset`,
    /// correct for negative timestamps too.
    pub fn window_start_with_offset(timestamp: Timestamp, offset: i64, window_size: i64) -> Timestamp {
        let remainder = (timestamp - offset) % window_size;
        if remainder < 0 { timestamp - (remainder + window_size) } else { timestamp - remainder }
    }

    /// Flink's `TimeWindow.mergeWindows`: sorts `windows` by start and groups
    /// overlapping (or touching) ones; reports each group of two or more distinct
    /// windows with the window covering it.
    pub fn merge_windows(windows: &[TimeWindow], merges: &mut Vec<(TimeWindow, Vec<TimeWindow>)>) {
        let mut sorted = windows.to_vec();
        sorted.sort_by_key(|w| w.start);
        let mut current: Option<(TimeWindow, Vec<TimeWindow>)> = None;
        for candidate in sorted {
            match &mut current {
                Some((cover, members)) if cover.intersects(&candidate) => {
                    *cover = cover.cover(&candidate);
                    if !members.contains(&candidate) {
                        members.push(candidate);
                    }
                }
                _ => {
                    if let Some(done) = current.take().filter(|(_, m)| m.len() > 1) {
                        merges.push(done);
                    }
                    current = Some((candidate, vec![candidate]));
                }
            }
        }
        if let Some(done) = current.filter(|(_, m)| m.len() > 1) {
            merges.push(done);
        }
    }
}

impl Window for TimeWindow {
    /// `end - 1`: the end is exclusive.
    #[inline]
    fn max_timestamp(&self) -> Timestamp {
        self.end - 1
    }
}

/// The one window of [`crate::window::GlobalWindows`], holding all of a key's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GlobalWindow;

impl Window for GlobalWindow {
    /// The end of time: a global window never ends by time.
    fn max_timestamp(&self) -> Timestamp {
        i64::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn window_start_matches_flink_for_offsets_and_negative_timestamps() {
        assert_eq!(TimeWindow::window_start_with_offset(7, 0, 5), 5);
        assert_eq!(TimeWindow::window_start_with_offset(5, 0, 5), 5);
        assert_eq!(TimeWindow::window_start_with_offset(4, 0, 5), 0);
        assert_eq!(TimeWindow::window_start_with_offset(-1, 0, 5), -5);
        assert_eq!(TimeWindow::window_start_with_offset(-5, 0, 5), -5);
        assert_eq!(TimeWindow::window_start_with_offset(7, 2, 5), 7);
        assert_eq!(TimeWindow::window_start_with_offset(6, 2, 5), 2);
        assert_eq!(TimeWindow::window_start_with_offset(1, 2, 5), -3);
        assert_eq!(TimeWindow::window_start_with_offset(6, -2, 5), 3);
    }

    #[test]
    fn touching_windows_intersect_and_merge() {
        let (a, b, c) = (TimeWindow::new(0, 5), TimeWindow::new(5, 10), TimeWindow::new(11, 12));
        assert!(a.intersects(&b) && b.intersects(&a));
        assert!(!b.intersects(&c));
        assert_eq!(a.cover(&c), TimeWindow::new(0, 12));
        let mut merges = Vec::new();
        TimeWindow::merge_windows(&[c, b, a, TimeWindow::new(11, 11)], &mut merges);
        assert_eq!(
            merges,
            vec![(TimeWindow::new(0, 10), vec![a, b]), (TimeWindow::new(11, 12), vec![c, TimeWindow::new(11, 11)])]
        );
        merges.clear();
        TimeWindow::merge_windows(&[a, a], &mut merges);
        assert!(merges.is_empty(), "one distinct window is no merge");
    }

    proptest! {
        #[test]
        fn window_start_contains_the_timestamp(ts in -1_000_000i64..1_000_000, size in 1i64..1000, off in -999i64..1000) {
            let offset = off % size;
            let start = TimeWindow::window_start_with_offset(ts, offset, size);
            prop_assert!(start <= ts && ts < start + size);
            prop_assert_eq!((start - offset).rem_euclid(size), 0);
        }
    }
}
