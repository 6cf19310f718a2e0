//! The windows of a non-merging assigner: one *pane* per (key, window), and
//! the timers of panes.
//!
//! Invariants (docs/design/windows.md, "State layout"):
//! - a key's panes are ordered by the windows' max timestamps;
//! - a pane's timer set is the truth about which timers it has; the timer
//!   queues hold (key, window) per time and may hold stale entries (a timer
//!   deleted, or deleted and registered again), which firing skips because
//!   the pane no longer has that timer;
//! - a pane lives while it has contents, trigger state, per-window state or
//!   timers, so a timer always finds its pane.

use crate::processing_time::ProcessingTimeService;
use crate::timer::TimeDomain;
use crate::window::{StateStore, Window};
use brook_types::Timestamp;
use hashbrown::hash_map::RawEntryMut;
use std::collections::{BTreeMap, VecDeque};
use std::hash::Hash;

/// Everything about one (key, window).
pub(super) struct Pane<Acc, TS> {
    /// The window's contents (`None` after a purge).
    pub contents: Option<Acc>,
    /// The trigger's state.
    pub trigger_state: Option<TS>,
    /// ProcessWindowFunction per-window state.
    pub window_state: Option<Box<StateStore>>,
    /// The timers registered for this pane.
    pub timers: PaneTimerSet,
}

impl<Acc, TS> Pane<Acc, TS> {
    pub fn new() -> Self {
        Self { contents: None, trigger_state: None, window_state: None, timers: PaneTimerSet::default() }
    }

    /// A pane without state and timers is dropped.
    pub fn is_empty(&self) -> bool {
        self.contents.is_none() && self.trigger_state.is_none() && self.window_state.is_none() && self.timers.is_empty()
    }
}

/// The timers of one pane: two inline (a trigger's timer and the cleanup
/// timer are the common case), more spilled to the heap. Packed, because a
/// pane's size is what the window operator's speed depends on.
#[derive(Default)]
pub(super) struct PaneTimerSet {
    times: [Timestamp; 2],
    /// Per inline slot: 0 = free, else the domain's tag.
    tags: [u8; 2],
    /// Boxed so that a pane pays one pointer, not a `Vec`, for the rare spill.
    #[allow(clippy::box_collection)]
    spilled: Option<Box<Vec<(u8, Timestamp)>>>,
}

/// Inline slot tags: 0 = free.
fn tag(domain: TimeDomain) -> u8 {
    match domain {
        TimeDomain::EventTime => 1,
        TimeDomain::ProcessingTime => 2,
    }
}

fn domain_of_tag(tag: u8) -> TimeDomain {
    if tag == 1 { TimeDomain::EventTime } else { TimeDomain::ProcessingTime }
}

impl PaneTimerSet {
    #[inline]
    fn inline_slot(&self, tag: u8, time: Timestamp) -> Option<usize> {
        (0..2).find(|&i| self.tags[i] == tag && self.times[i] == time)
    }

    #[inline]
    pub fn contains(&self, domain: TimeDomain, time: Timestamp) -> bool {
        let tag = tag(domain);
        self.inline_slot(tag, time).is_some() || self.spilled.as_ref().is_some_and(|s| s.contains(&(tag, time)))
    }

    /// Adds a timer; false if the pane had it.
    #[inline]
    pub fn insert(&mut self, domain: TimeDomain, time: Timestamp) -> bool {
        if self.contains(domain, time) {
            return false;
        }
        let tag = tag(domain);
        match (0..2).find(|&i| self.tags[i] == 0) {
            Some(i) => (self.tags[i], self.times[i]) = (tag, time),
            None => self.spilled.get_or_insert_with(Box::default).push((tag, time)),
        }
        true
    }

    /// Removes a timer; false if the pane did not have it.
    pub fn remove(&mut self, domain: TimeDomain, time: Timestamp) -> bool {
        let tag = tag(domain);
        if let Some(i) = self.inline_slot(tag, time) {
            self.tags[i] = 0;
            return true;
        }
        if let Some(spilled) = &mut self.spilled
            && let Some(at) = spilled.iter().position(|s| *s == (tag, time))
        {
            spilled.swap_remove(at);
            if spilled.is_empty() {
                self.spilled = None;
            }
            return true;
        }
        false
    }

    pub fn is_empty(&self) -> bool {
        self.tags == [0, 0] && self.spilled.is_none()
    }

    /// Every timer of the pane.
    pub fn iter(&self) -> impl Iterator<Item = (TimeDomain, Timestamp)> + '_ {
        let inline = (0..2).filter(|&i| self.tags[i] != 0).map(|i| (self.tags[i], self.times[i]));
        let spilled = self.spilled.iter().flat_map(|s| s.iter().copied());
        inline.chain(spilled).map(|(tag, time)| (domain_of_tag(tag), time))
    }

    pub fn len(&self) -> usize {
        self.tags.iter().filter(|&&t| t != 0).count() + self.spilled.as_ref().map_or(0, |s| s.len())
    }
}

/// The timers of all panes, by time, in registration order.
pub(super) struct PaneTimerQueues<K, W> {
    event_time: BTreeMap<Timestamp, VecDeque<(K, W)>>,
    processing_time: BTreeMap<Timestamp, VecDeque<(K, W)>>,
    clock: ProcessingTimeService,
    /// The size of the last drained queue: windows of one size end together,
    /// so the next time's queue is likely as long.
    capacity_hint: usize,
}

impl<K: Clone, W: Clone> PaneTimerQueues<K, W> {
    pub fn new(clock: ProcessingTimeService) -> Self {
        Self { event_time: BTreeMap::new(), processing_time: BTreeMap::new(), clock, capacity_hint: 0 }
    }

    /// Registers a timer of (`key`, `window`) in `set`, and queues it if it is new.
    pub fn register(&mut self, set: &mut PaneTimerSet, key: &K, window: &W, domain: TimeDomain, time: Timestamp) {
        if !set.insert(domain, time) {
            return;
        }
        let queues = match domain {
            TimeDomain::EventTime => &mut self.event_time,
            TimeDomain::ProcessingTime => {
                self.clock.register(time);
                &mut self.processing_time
            }
        };
        let hint = self.capacity_hint;
        queues.entry(time).or_insert_with(|| VecDeque::with_capacity(hint)).push_back((key.clone(), window.clone()));
    }

    /// The next queued (time, key, window) at or before `until`; the caller
    /// checks the pane still has the timer.
    pub fn pop(&mut self, domain: TimeDomain, until: Timestamp) -> Option<(Timestamp, K, W)> {
        let queues = match domain {
            TimeDomain::EventTime => &mut self.event_time,
            TimeDomain::ProcessingTime => &mut self.processing_time,
        };
        loop {
            let mut first = queues.first_entry()?;
            let time = *first.key();
            if time > until {
                return None;
            }
            match first.get_mut().pop_front() {
                Some((key, window)) => return Some((time, key, window)),
                None => {
                    self.capacity_hint = first.remove().capacity().min(1 << 16);
                }
            }
        }
    }
}

/// The panes of one key, ordered by the windows' max timestamps. A key has
/// a handful of live windows (more while the watermark lags), and event time
/// mostly moves forward: an element's windows are found scanning from the
/// back, a firing timer's window scanning from the front, both over
/// contiguous memory instead of one hash probe (and cache miss) per window.
pub(super) type KeyPanes<W, Acc, TS> = VecDeque<(W, Pane<Acc, TS>)>;

pub(super) type Panes<K, W, Acc, TS> = hashbrown::HashMap<K, KeyPanes<W, Acc, TS>, foldhash::fast::RandomState>;

/// The panes of `key`, created if absent, without cloning the key to look.
pub(super) fn key_panes_mut<'m, K: Clone + Hash + Eq, W, Acc, TS>(
    panes: &'m mut Panes<K, W, Acc, TS>,
    key: &K,
) -> &'m mut KeyPanes<W, Acc, TS> {
    match panes.raw_entry_mut().from_key(key) {
        RawEntryMut::Occupied(o) => o.into_mut(),
        RawEntryMut::Vacant(v) => v.insert(key.clone(), VecDeque::new()).1,
    }
}

/// The index of `window`'s pane, created (in order) if absent.
pub(super) fn pane_index<W: Window, Acc, TS>(key_panes: &mut KeyPanes<W, Acc, TS>, window: &W) -> usize {
    let n = key_panes.len();
    pane_index_before(key_panes, window, n)
}

/// [`pane_index`] for a window known to end before the pane at `end` (an
/// element's next sliding window, whose predecessor's pane is at `end`), or
/// anywhere if `end` is the number of panes.
pub(super) fn pane_index_before<W: Window, Acc, TS>(
    key_panes: &mut KeyPanes<W, Acc, TS>,
    window: &W,
    end: usize,
) -> usize {
    let time = window.max_timestamp();
    let n = end;
    // Where the panes ending at `time` begin: usually among the last few,
    // else found by binary search.
    const TAIL: usize = 8;
    let mut start = n;
    loop {
        if start == 0 {
            break;
        }
        if start + TAIL == n {
            start = key_panes.partition_point(|(w, _)| w.max_timestamp() < time);
            break;
        }
        let w = &key_panes[start - 1].0;
        let t = w.max_timestamp();
        if t < time {
            break;
        }
        if t == time && w == window {
            return start - 1;
        }
        start -= 1;
    }
    let mut at = start;
    while at < key_panes.len() && key_panes[at].0.max_timestamp() == time {
        if key_panes[at].0 == *window {
            return at;
        }
        at += 1;
    }
    key_panes.insert(start, (window.clone(), Pane::new()));
    start
}

/// The index of `window`'s pane, if it has one.
pub(super) fn find_pane<W: Window, Acc, TS>(key_panes: &KeyPanes<W, Acc, TS>, window: &W) -> Option<usize> {
    let time = window.max_timestamp();
    key_panes.iter().take_while(|(w, _)| w.max_timestamp() <= time).position(|(w, _)| w == window)
}

/// Removes the pane at `at` (usually the first: the oldest window fires first).
pub(super) fn remove_pane<W, Acc, TS>(key_panes: &mut KeyPanes<W, Acc, TS>, at: usize) {
    if at == 0 {
        key_panes.pop_front();
    } else {
        key_panes.remove(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::TimeWindow;

    #[test]
    fn a_pane_timer_set_holds_each_timer_once_and_spills_past_two() {
        let mut s = PaneTimerSet::default();
        assert!(s.insert(TimeDomain::EventTime, 9));
        assert!(!s.insert(TimeDomain::EventTime, 9));
        assert!(s.insert(TimeDomain::ProcessingTime, 9));
        assert!(s.insert(TimeDomain::EventTime, 19));
        assert_eq!(s.len(), 3);
        assert!(s.contains(TimeDomain::EventTime, 19));
        assert!(s.remove(TimeDomain::EventTime, 9));
        assert!(!s.remove(TimeDomain::EventTime, 9));
        assert!(s.remove(TimeDomain::EventTime, 19));
        assert!(s.remove(TimeDomain::ProcessingTime, 9));
        assert!(s.is_empty());
    }

    #[test]
    fn panes_stay_ordered_by_window_end_whatever_the_arrival_order() {
        let mut kp: KeyPanes<TimeWindow, (), ()> = VecDeque::new();
        let starts = [50, 10, 30, 10, 70, 0, 60, 20, 40, 30, 80, 90, 100, 5];
        for s in starts {
            let w = TimeWindow::new(s, s + 10);
            let at = pane_index(&mut kp, &w);
            assert_eq!(kp[at].0, w);
        }
        let got: Vec<i64> = kp.iter().map(|(w, _)| w.start).collect();
        assert_eq!(got, vec![0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        assert_eq!(find_pane(&kp, &TimeWindow::new(40, 50)), Some(5));
        // An element's sliding windows, latest first, each searched before the last.
        let mut end = kp.len();
        for s in [115, 105, 95, 85] {
            let w = TimeWindow::new(s, s + 20);
            end = pane_index_before(&mut kp, &w, end);
            assert_eq!(kp[end].0, w);
        }
        let got: Vec<i64> = kp.iter().map(|(w, _)| w.start).collect();
        // ordered by window end: [90, 100) ends before [85, 105)
        assert_eq!(got, vec![0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 85, 100, 95, 105, 115]);
        assert_eq!(find_pane(&kp, &TimeWindow::new(45, 55)), None);
    }
}
