//! The in-flight windows of one key under a merging assigner (Flink's
//! `MergingWindowSet`).
//!
//! Invariants:
//! - the windows in the set never overlap: every new window is merged eagerly
//!   with all windows it overlaps or touches;
//! - each window maps to a *state window*: the window whose namespace holds the
//!   merged contents. Merging moves no contents between namespaces except into
//!   the state window, so a merge result keeps the state window of the merged
//!   window with the earliest start (Flink keeps that of "any" merged window);
//! - trigger state and timers live in the namespace of the window itself, not
//!   of its state window.

use crate::window::{Window, WindowAssigner};
use std::collections::HashMap;

/// One merge performed by [`MergingWindowSet::add_window`]: what the window
/// operator must then do to triggers, timers and contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowMerge<W> {
    /// The window replacing the merged ones.
    pub result: W,
    /// The in-flight windows merged into `result` (not the new window, which
    /// had no state yet).
    pub merged_windows: Vec<W>,
    /// Where `result`'s contents live.
    pub state_window: W,
    /// The state windows whose contents must move into `state_window`.
    pub merged_state_windows: Vec<W>,
}

/// Window → state window, for the windows of one key.
#[derive(Debug)]
pub struct MergingWindowSet<W> {
    mapping: HashMap<W, W, foldhash::fast::RandomState>,
}

impl<W> Default for MergingWindowSet<W> {
    fn default() -> Self {
        Self { mapping: HashMap::default() }
    }
}

impl<W: Window> MergingWindowSet<W> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The window whose namespace holds `window`'s contents; `None` if `window`
    /// is not in flight (already cleaned up, or merged away).
    pub fn state_window(&self, window: &W) -> Option<&W> {
        self.mapping.get(window)
    }

    /// Removes a window that was cleaned up or dropped as late.
    pub fn retire_window(&mut self, window: &W) {
        self.mapping.remove(window).unwrap_or_else(|| panic!("window {window:?} is not in the in-flight window set"));
    }

    pub fn is_empty(&self) -> bool {
        self.mapping.is_empty()
    }

    pub fn len(&self) -> usize {
        self.mapping.len()
    }

    /// Window → state window pairs, for checkpoints.
    pub fn mappings(&self) -> impl Iterator<Item = (&W, &W)> {
        self.mapping.iter()
    }

    /// Puts back a pair that [`Self::mappings`] returned (restore).
    pub fn restore_mapping(&mut self, window: W, state_window: W) {
        self.mapping.insert(window, state_window);
    }

    /// Adds `new_window`, merging it with the in-flight windows as `assigner`
    /// says; returns the window the new element belongs to (the merge result,
    /// or `new_window` itself) and appends the merges the operator must apply.
    pub fn add_window<T, A>(&mut self, assigner: &A, new_window: W, merges: &mut Vec<WindowMerge<W>>) -> W
    where
        A: WindowAssigner<T, Window = W>,
    {
        if self.mapping.contains_key(&new_window) {
            // Already in flight: nothing can merge. (Flink re-maps the window to
            // itself here, which loses a state window that differs from it.)
            return new_window;
        }
        let mut windows: Vec<W> = self.mapping.keys().cloned().collect();
        windows.push(new_window.clone());
        let mut groups = Vec::new();
        assigner.merge_windows(&windows, &mut groups);

        let mut result_window = new_window.clone();
        let mut merged_new_window = false;
        for (merge_result, mut merged_windows) in groups {
            if let Some(i) = merged_windows.iter().position(|w| *w == new_window) {
                merged_windows.remove(i);
                merged_new_window = true;
                result_window = merge_result.clone();
            }
            let state_window = self
                .mapping
                .get(&merged_windows[0])
                .expect("a merge group has an in-flight window besides the new one")
                .clone();
            let mut merged_state_windows = Vec::with_capacity(merged_windows.len());
            for w in &merged_windows {
                if let Some(s) = self.mapping.remove(w)
                    && s != state_window
                {
                    merged_state_windows.push(s);
                }
            }
            self.mapping.insert(merge_result.clone(), state_window.clone());
            // A pre-existing window merged only into itself (the new window fell
            // inside it) needs no merge.
            if !(merged_windows.len() == 1 && merged_windows[0] == merge_result) {
                merges.push(WindowMerge { result: merge_result, merged_windows, state_window, merged_state_windows });
            }
        }
        if !merged_new_window {
            self.mapping.insert(new_window.clone(), new_window);
        }
        result_window
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::{EventTimeSessionWindows, TimeWindow};
    use std::time::Duration;

    fn sessions() -> EventTimeSessionWindows {
        EventTimeSessionWindows::with_gap(Duration::from_millis(10))
    }

    fn add(set: &mut MergingWindowSet<TimeWindow>, start: i64) -> (TimeWindow, Vec<WindowMerge<TimeWindow>>) {
        let mut merges = Vec::new();
        let w = set.add_window::<(), _>(&sessions(), TimeWindow::new(start, start + 10), &mut merges);
        (w, merges)
    }

    #[test]
    fn separate_windows_stay_their_own_state_windows() {
        let mut set = MergingWindowSet::new();
        assert_eq!(add(&mut set, 0), (TimeWindow::new(0, 10), vec![]));
        assert_eq!(add(&mut set, 20), (TimeWindow::new(20, 30), vec![]));
        assert_eq!(set.state_window(&TimeWindow::new(20, 30)), Some(&TimeWindow::new(20, 30)));
        assert_eq!(add(&mut set, 0), (TimeWindow::new(0, 10), vec![]), "the same window again");
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn an_extending_window_merges_and_keeps_the_old_state_window() {
        let mut set = MergingWindowSet::new();
        add(&mut set, 0);
        let (w, merges) = add(&mut set, 5);
        assert_eq!(w, TimeWindow::new(0, 15));
        assert_eq!(
            merges,
            vec![WindowMerge {
                result: TimeWindow::new(0, 15),
                merged_windows: vec![TimeWindow::new(0, 10)],
                state_window: TimeWindow::new(0, 10),
                merged_state_windows: vec![],
            }]
        );
        assert_eq!(set.state_window(&TimeWindow::new(0, 15)), Some(&TimeWindow::new(0, 10)));
        assert_eq!(set.state_window(&TimeWindow::new(0, 10)), None);
        // Inside the merged window: no merge at all.
        assert_eq!(add(&mut set, 3), (TimeWindow::new(0, 15), vec![]));
    }

    #[test]
    fn a_bridging_window_merges_two_sessions_into_the_earliest_state_window() {
        let mut set = MergingWindowSet::new();
        add(&mut set, 0); // [0, 10)
        add(&mut set, 18); // [18, 28)
        let (w, merges) = add(&mut set, 9); // [9, 19) touches both
        assert_eq!(w, TimeWindow::new(0, 28));
        assert_eq!(
            merges,
            vec![WindowMerge {
                result: TimeWindow::new(0, 28),
                merged_windows: vec![TimeWindow::new(0, 10), TimeWindow::new(18, 28)],
                state_window: TimeWindow::new(0, 10),
                merged_state_windows: vec![TimeWindow::new(18, 28)],
            }]
        );
        assert_eq!(set.len(), 1);
        set.retire_window(&TimeWindow::new(0, 28));
        assert!(set.is_empty());
    }

    #[test]
    #[should_panic(expected = "not in the in-flight window set")]
    fn retiring_an_unknown_window_is_a_broken_invariant() {
        MergingWindowSet::<TimeWindow>::new().retire_window(&TimeWindow::new(0, 1));
    }
}
