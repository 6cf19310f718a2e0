//! Slicing (docs/design/windows.md, "Slicing"): the state of event-time
//! sliding windows whose size is a multiple of the slide, under the default
//! trigger, without allowed lateness, with a `reduce` or an `aggregate` whose
//! accumulators copy. Each element goes into one accumulator — its key's
//! slice `[s, s + slide)` — instead of `size / slide` windows; a window is the
//! combination of its slices when the watermark passes its end.
//!
//! Layout: slices are kept by start, all keys of one start together (a
//! *column*, keys in arrival order), not by key. An element touches the column
//! of its time only — the newest one, mostly — so the state an element needs
//! stays in cache however many slices pile up behind a lagging watermark.
//!
//! Invariants:
//! - columns are ordered by start; a column is kept while a window containing
//!   it has not fired (`start + size - 1 > fired_through`) and dropped whole
//!   when its last window fires;
//! - every window whose max timestamp is at most `fired_through` has fired (or
//!   had no slice); windows fire in the order of their max timestamp;
//! - an element is added only if one of its windows is not late
//!   (`max_timestamp > watermark`); the windows of its slice that are late
//!   have fired already and never fire again, so adding to the slice changes
//!   exactly the windows the unsliced operator would have changed;
//! - after a restore, `restored` holds the keys whose windows before some time
//!   fired before the checkpoint although their slices are still here (a
//!   slice of a sliding window outlives its first windows); those windows do
//!   not fire again for those keys.

use crate::window::{Slicing, TimeWindow};
use brook_types::Timestamp;
use indexmap::IndexMap;
use std::collections::VecDeque;
use std::hash::Hash;

type Keyed<K, Acc> = IndexMap<K, Acc, foldhash::fast::RandomState>;

/// The slices of all keys that start at `start`.
struct Column<K, Acc> {
    start: Timestamp,
    /// Keys in the order of their first element in the slice.
    slices: Keyed<K, Acc>,
}

/// The sliced windows of an operator instance.
pub(super) struct Slicer<K, W, Acc> {
    pub spec: Slicing<W>,
    /// Ordered by start.
    columns: VecDeque<Column<K, Acc>>,
    /// The column of the last element (elements of a batch mostly share one).
    hint: usize,
    /// Every window with a max timestamp up to this has fired.
    fired_through: Timestamp,
    /// After a restore: windows of these keys with a max timestamp below the
    /// value fired before the checkpoint.
    restored: hashbrown::HashMap<K, Timestamp, foldhash::fast::RandomState>,
    /// Reused by the firing of a window of several slices.
    combined: Keyed<K, Acc>,
}

/// Where an element goes.
pub(super) enum Placement {
    /// Into the slice starting at `start`.
    Slice { start: Timestamp },
    /// Every window of the element is late.
    Late,
}

impl<K: Clone + Hash + Eq, W, Acc> Slicer<K, W, Acc> {
    pub fn new(spec: Slicing<W>) -> Self {
        Self {
            spec,
            columns: VecDeque::new(),
            hint: 0,
            fired_through: Timestamp::MIN,
            restored: Default::default(),
            combined: Default::default(),
        }
    }

    /// The slice of an element at `timestamp`, given the watermark.
    #[inline]
    pub fn place(&self, timestamp: Timestamp, watermark: Timestamp) -> Placement {
        let Slicing { size, slide, offset, .. } = self.spec;
        let start = TimeWindow::window_start_with_offset(timestamp, offset, slide);
        // The slice's windows end at start + slide, …, start + size.
        if start.saturating_add(size - 1) <= watermark {
            return Placement::Late;
        }
        Placement::Slice { start }
    }

    /// Adds to `key`'s slice at `start` — `add(Some(contents))` adds to
    /// existing contents and returns `None`, `add(None)` returns new ones.
    #[inline]
    pub fn add(&mut self, key: &K, start: Timestamp, add: impl FnOnce(Option<&mut Acc>) -> Option<Acc>) {
        let at = self.column(start);
        let slices = &mut self.columns[at].slices;
        match slices.get_mut(key) {
            Some(contents) => {
                add(Some(contents));
            }
            None => {
                if let Some(contents) = add(None) {
                    slices.insert(key.clone(), contents);
                }
            }
        }
    }

    /// The index of the column at `start`, created if there is none.
    #[inline]
    fn column(&mut self, start: Timestamp) -> usize {
        let columns = &mut self.columns;
        if columns.get(self.hint).is_some_and(|c| c.start == start) {
            return self.hint;
        }
        let len = columns.len();
        let at = match (columns.front(), columns.back()) {
            (Some(first), Some(last)) if start <= last.start && start >= first.start => {
                // Columns start `slide` apart, so the one at `start` is at index
                // `(start − first) / slide` or, where slices were skipped, before it.
                let guess = usize::try_from((start - first.start) / self.spec.slide).unwrap_or(len);
                let mut at = guess.saturating_add(1).min(len);
                while at > 0 && columns[at - 1].start > start {
                    at -= 1;
                }
                at
            }
            (Some(first), _) if start < first.start => 0,
            _ => len,
        };
        self.hint = if at > 0 && columns[at - 1].start == start {
            at - 1
        } else {
            // Sized like the newest column: keys mostly come back slice after slice.
            let capacity = columns.back().map_or(0, |c| c.slices.len());
            let slices = Keyed::with_capacity_and_hasher(capacity, Default::default());
            columns.insert(at, Column { start, slices });
            at
        };
        self.hint
    }

    /// Fires the next window with a max timestamp of at most `watermark`: its
    /// combined contents, by key, into `out` (empty before), and returns its
    /// max timestamp. `combine(target, slice)` merges a copy of `slice` into
    /// `Some(target)` and returns `None`, or returns a copy for `None`. `None`
    /// when every window up to `watermark` has fired.
    pub fn fire_next(
        &mut self,
        watermark: Timestamp,
        out: &mut Vec<(K, Acc)>,
        mut combine: impl FnMut(Option<&mut Acc>, &Acc) -> Option<Acc>,
    ) -> Option<Timestamp> {
        let Slicing { size, slide, .. } = self.spec;
        loop {
            let Some(front) = self.columns.front() else {
                return self.fired_up_to(watermark);
            };
            // The first window of the front slice that has not fired.
            let first = front.start.saturating_add(slide - 1);
            let time = next_end(first, self.fired_through, slide);
            if time > watermark {
                return self.fired_up_to(watermark);
            }
            // The window's slices are the columns up to `time`; the front one,
            // when this is its last window, is moved instead of copied.
            let expires = |start: Timestamp| start.saturating_add(size - 1) <= time;
            if size == slide {
                let column = self.columns.pop_front().expect("a front column");
                out.extend(column.slices);
            } else {
                let combined = &mut self.combined;
                for (i, column) in self.columns.iter_mut().take_while(|c| c.start <= time).enumerate() {
                    if i == 0 && expires(column.start) {
                        combined.extend(column.slices.drain(..));
                        continue;
                    }
                    for (key, slice) in &column.slices {
                        match combined.get_mut(key) {
                            Some(target) => {
                                combine(Some(target), slice);
                            }
                            None => {
                                if let Some(copy) = combine(None, slice) {
                                    combined.insert(key.clone(), copy);
                                }
                            }
                        }
                    }
                }
                out.extend(combined.drain(..));
                while self.columns.front().is_some_and(|c| expires(c.start)) {
                    self.columns.pop_front();
                }
            }
            self.hint = 0;
            self.fired_through = time;
            if !self.restored.is_empty() {
                out.retain(|(key, _)| self.restored.get(key).is_none_or(|&before| time >= before));
            }
            if !out.is_empty() {
                return Some(time);
            }
        }
    }

    fn fired_up_to(&mut self, watermark: Timestamp) -> Option<Timestamp> {
        self.fired_through = self.fired_through.max(watermark);
        if !self.restored.is_empty() {
            let fired_through = self.fired_through;
            self.restored.retain(|_, before| *before > fired_through);
        }
        None
    }

    /// Every key's slices, ordered by start, with the max timestamp of the
    /// key's next window to fire (what a snapshot holds).
    pub fn by_key(&self) -> Vec<(&K, Timestamp, Vec<(Timestamp, &Acc)>)> {
        let Slicing { slide, .. } = self.spec;
        let mut keys: IndexMap<&K, Vec<(Timestamp, &Acc)>, foldhash::fast::RandomState> = IndexMap::default();
        for column in &self.columns {
            for (key, slice) in &column.slices {
                keys.entry(key).or_default().push((column.start, slice));
            }
        }
        keys.into_iter()
            .map(|(key, slices)| {
                let first = slices[0].0.saturating_add(slide - 1);
                let mut next = next_end(first, self.fired_through, slide);
                if let Some(&before) = self.restored.get(key) {
                    next = next.max(before);
                }
                (key, next, slices)
            })
            .collect()
    }

    /// Restores `key`'s slices, whose windows before `next` (the max timestamp
    /// of its next window to fire) fired before the snapshot.
    pub fn restore(&mut self, key: K, next: Timestamp, slices: Vec<(Timestamp, Acc)>) {
        let Slicing { slide, .. } = self.spec;
        let Some(&(first, _)) = slices.first() else { return };
        if first.saturating_add(slide - 1) < next {
            let before = self.restored.entry(key.clone()).or_insert(next);
            *before = (*before).max(next);
        }
        for (start, slice) in slices {
            let at = self.column(start);
            self.columns[at].slices.insert(key.clone(), slice);
        }
    }

    /// The number of slices (for tests).
    pub fn num_slices(&self) -> usize {
        self.columns.iter().map(|c| c.slices.len()).sum()
    }

    /// The number of keys with slices (for tests).
    pub fn num_keys(&self) -> usize {
        let keys: std::collections::HashSet<&K> = self.columns.iter().flat_map(|c| c.slices.keys()).collect();
        keys.len()
    }
}

/// The first window end (max timestamp) after `fired_through` on the grid of
/// `first`, `first` at the earliest.
fn next_end(first: Timestamp, fired_through: Timestamp, slide: i64) -> Timestamp {
    if first > fired_through {
        return first;
    }
    let steps = (fired_through.saturating_sub(first) / slide).saturating_add(1);
    first.saturating_add(steps.saturating_mul(slide))
}
