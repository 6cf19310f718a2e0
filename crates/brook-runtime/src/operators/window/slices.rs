//! Slicing (docs/design/windows.md, "Slicing"): the state of event-time
//! sliding windows whose size is a multiple of the slide, under the default
//! trigger, without allowed lateness, with a `reduce` or an `aggregate` whose
//! accumulators copy. Each element goes into one accumulator — its key's
//! slice `[s, s + slide)` — instead of `size / slide` windows; a window is the
//! combination of its slices when the watermark passes its end.
//!
//! Invariants:
//! - a key's slices are ordered by start, and a slice is kept while a window
//!   containing it has not fired (`start + size - 1 > last firing`);
//! - a key has exactly one current timer, `KeySlices::timer`: the max
//!   timestamp of its next window that contains a slice and has not fired; the
//!   queue may hold stale entries (an earlier timer replaced it), which firing
//!   skips because they are not the key's current timer;
//! - an element is added only if one of its windows is not late
//!   (`max_timestamp > watermark`); the windows of its slice that are late
//!   have fired already and never fire again, so adding to the slice changes
//!   exactly the windows the unsliced operator would have changed.

use crate::window::{Slicing, TimeWindow};
use brook_types::Timestamp;
use hashbrown::hash_map::RawEntryMut;
use std::collections::{BTreeMap, VecDeque};
use std::hash::Hash;

/// One key's slices and its current timer.
pub(super) struct KeySlices<Acc> {
    /// The max timestamp of the key's next window to fire.
    pub timer: Timestamp,
    /// `(slice start, contents)`, ordered by start.
    pub slices: VecDeque<(Timestamp, Acc)>,
}

/// The sliced windows of an operator instance.
pub(super) struct Slicer<K, W, Acc> {
    pub spec: Slicing<W>,
    pub keys: hashbrown::HashMap<K, KeySlices<Acc>, foldhash::fast::RandomState>,
    /// Keys by timer time, in registration order.
    queue: BTreeMap<Timestamp, VecDeque<K>>,
    /// The size of the last drained queue (keys' windows end together).
    capacity_hint: usize,
}

/// Where an element goes.
pub(super) enum Placement {
    /// Into the slice starting at `start`; its first window not late has max timestamp `fire`.
    Slice { start: Timestamp, fire: Timestamp },
    /// Every window of the element is late.
    Late,
}

impl<K: Clone + Hash + Eq, W, Acc> Slicer<K, W, Acc> {
    pub fn new(spec: Slicing<W>) -> Self {
        Self { spec, keys: Default::default(), queue: BTreeMap::new(), capacity_hint: 0 }
    }

    /// The slice of an element at `timestamp`, given the watermark.
    #[inline]
    pub fn place(&self, timestamp: Timestamp, watermark: Timestamp) -> Placement {
        let Slicing { size, slide, offset, .. } = self.spec;
        let start = TimeWindow::window_start_with_offset(timestamp, offset, slide);
        // The slice's windows end at start + slide, …, start + size.
        let last = start.saturating_add(size - 1);
        if last <= watermark {
            return Placement::Late;
        }
        let first = start.saturating_add(slide - 1);
        let fire = if first > watermark { first } else { first + ((watermark - first) / slide + 1) * slide };
        Placement::Slice { start, fire }
    }

    /// Adds to the slice at `start` of `key` — `add(Some(contents))` adds to
    /// existing contents and returns `None`, `add(None)` returns new ones —
    /// and makes sure the key's timer is no later than `fire`.
    #[inline]
    pub fn add(
        &mut self,
        key: &K,
        start: Timestamp,
        fire: Timestamp,
        add: impl FnOnce(Option<&mut Acc>) -> Option<Acc>,
    ) {
        let (ks, new_timer) = match self.keys.raw_entry_mut().from_key(key) {
            RawEntryMut::Occupied(o) => {
                let ks = o.into_mut();
                let earlier = fire < ks.timer;
                if earlier {
                    ks.timer = fire;
                }
                (ks, earlier)
            }
            RawEntryMut::Vacant(v) => {
                let ks = KeySlices { timer: fire, slices: VecDeque::with_capacity(4) };
                (v.insert(key.clone(), ks).1, true)
            }
        };
        // Event time mostly moves forward: the slice is the last or near it.
        let slices = &mut ks.slices;
        let mut at = slices.len();
        while at > 0 && slices[at - 1].0 > start {
            at -= 1;
        }
        if at > 0 && slices[at - 1].0 == start {
            add(Some(&mut slices[at - 1].1));
        } else if let Some(contents) = add(None) {
            slices.insert(at, (start, contents));
        }
        if new_timer {
            self.enqueue(key.clone(), fire);
        }
    }

    pub fn enqueue(&mut self, key: K, time: Timestamp) {
        let hint = self.capacity_hint;
        self.queue.entry(time).or_insert_with(|| VecDeque::with_capacity(hint)).push_back(key);
    }

    /// The next current timer at or before `until`: (time, key).
    pub fn pop(&mut self, until: Timestamp) -> Option<(Timestamp, K)> {
        loop {
            let mut first = self.queue.first_entry()?;
            let time = *first.key();
            if time > until {
                return None;
            }
            match first.get_mut().pop_front() {
                Some(key) => {
                    if self.keys.get(&key).is_some_and(|ks| ks.timer == time) {
                        return Some((time, key));
                    }
                }
                None => {
                    self.capacity_hint = first.remove().capacity().min(1 << 16);
                }
            }
        }
    }

    /// After the window with max timestamp `time` of `key` fired: drops the
    /// slices no later window contains and moves the key's timer to its next
    /// window with a slice (or removes the key).
    pub fn advance(&mut self, key: K, time: Timestamp) {
        let Slicing { size, slide, .. } = self.spec;
        let Some(ks) = self.keys.get_mut(&key) else { return };
        while ks.slices.front().is_some_and(|(start, _)| start.saturating_add(size - 1) <= time) {
            ks.slices.pop_front();
        }
        match ks.slices.front() {
            None => {
                self.keys.remove(&key);
            }
            Some(&(start, _)) => {
                let next = time.saturating_add(slide).max(start.saturating_add(slide - 1));
                ks.timer = next;
                self.enqueue(key, next);
            }
        }
    }

    /// The number of slices (for tests).
    pub fn num_slices(&self) -> usize {
        self.keys.values().map(|ks| ks.slices.len()).sum()
    }
}
