//! Keyed timers: per key and namespace, event time and processing time.
//!
//! Invariants (docs/design/event-time.md):
//! - a timer is identified by (time domain, key, namespace, time); registering it
//!   again is a no-op, so it fires once;
//! - timers fire in timestamp order, ties in registration order;
//! - an event-time timer at `t` fires when the watermark reaches `t`; one that a
//!   firing timer registers at or before the same watermark fires in the same
//!   advance (as in Flink's `InternalTimerServiceImpl`);
//! - a processing-time timer registers its time with the task's
//!   [`ProcessingTimeService`], which calls back when the clock reaches it.

use crate::processing_time::ProcessingTimeService;
use brook_types::Timestamp;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::Hash;

/// Which clock a timer follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeDomain {
    EventTime,
    ProcessingTime,
}

/// A timer that fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timer<K, N> {
    pub timestamp: Timestamp,
    pub key: K,
    pub namespace: N,
}

/// Timers of one domain, ordered by (time, registration sequence).
///
/// Timers are grouped by time: a window operator has many timers but few
/// distinct times (one per window end), so registering a new timer is a push
/// onto its time's queue rather than an insert into one big ordered map. The
/// index is the truth: a deleted timer stays in its queue as a stale entry
/// (its sequence number no longer matches the index) and is skipped when its
/// time comes; a queue whose stale entries outnumber its live ones is compacted.
struct TimerQueue<K, N> {
    buckets: BTreeMap<Timestamp, Bucket<K, N>>,
    index: HashMap<(K, N, Timestamp), u64, foldhash::fast::RandomState>,
    next_seq: u64,
}

/// The timers of one time, in registration order (some possibly stale).
struct Bucket<K, N> {
    entries: VecDeque<(K, N, u64)>,
    live: usize,
}

impl<K: Clone + Hash + Eq, N: Clone + Hash + Eq> TimerQueue<K, N> {
    fn new() -> Self {
        Self { buckets: BTreeMap::new(), index: HashMap::default(), next_seq: 0 }
    }

    /// Adds a timer; false if it already existed.
    fn add(&mut self, key: &K, namespace: &N, time: Timestamp) -> bool {
        let seq = self.next_seq;
        match self.index.entry((key.clone(), namespace.clone(), time)) {
            Entry::Occupied(_) => return false,
            Entry::Vacant(v) => {
                v.insert(seq);
            }
        }
        self.next_seq += 1;
        let bucket = self.buckets.entry(time).or_insert_with(|| Bucket { entries: VecDeque::new(), live: 0 });
        bucket.entries.push_back((key.clone(), namespace.clone(), seq));
        bucket.live += 1;
        true
    }

    fn delete(&mut self, key: &K, namespace: &N, time: Timestamp) {
        if self.index.remove(&(key.clone(), namespace.clone(), time)).is_none() {
            return;
        }
        let bucket = self.buckets.get_mut(&time).expect("an indexed timer has a bucket");
        bucket.live -= 1;
        if bucket.live == 0 {
            self.buckets.remove(&time);
        } else if bucket.entries.len() > 2 * bucket.live + 16 {
            let index = &self.index;
            bucket.entries.retain(|(k, n, seq)| index.get(&(k.clone(), n.clone(), time)) == Some(seq));
        }
    }

    /// Removes and returns the earliest timer at or before `time`.
    fn pop_until(&mut self, time: Timestamp) -> Option<Timer<K, N>> {
        loop {
            let mut first = self.buckets.first_entry()?;
            let ts = *first.key();
            if ts > time {
                return None;
            }
            let bucket = first.get_mut();
            let Some((key, namespace, seq)) = bucket.entries.pop_front() else {
                first.remove();
                continue;
            };
            let id = (key, namespace, ts);
            match self.index.remove_entry(&id) {
                Some((_, s)) if s == seq => {}
                Some((id, s)) => {
                    // deleted and registered again later: that entry is further back
                    self.index.insert(id, s);
                    continue;
                }
                None => continue, // deleted
            }
            bucket.live -= 1;
            if bucket.live == 0 {
                first.remove();
            }
            let (key, namespace, _) = id;
            return Some(Timer { timestamp: ts, key, namespace });
        }
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    /// Every timer, in firing order.
    fn iter(&self) -> impl Iterator<Item = (&K, &N, Timestamp)> {
        let mut timers: Vec<(u64, (&K, &N, Timestamp))> =
            self.index.iter().map(|((k, n, t), seq)| (*seq, (k, n, *t))).collect();
        timers.sort_unstable_by_key(|&(seq, (_, _, t))| (t, seq));
        timers.into_iter().map(|(_, timer)| timer)
    }
}

/// The timers of one keyed operator instance (Flink's `InternalTimerService`).
pub struct InternalTimerService<K, N> {
    event_time: TimerQueue<K, N>,
    processing_time: TimerQueue<K, N>,
    clock: ProcessingTimeService,
    watermark: Timestamp,
}

impl<K: Clone + Hash + Eq, N: Clone + Hash + Eq> InternalTimerService<K, N> {
    pub fn new(clock: ProcessingTimeService) -> Self {
        Self { event_time: TimerQueue::new(), processing_time: TimerQueue::new(), clock, watermark: i64::MIN }
    }

    /// The operator's event time (the last watermark it advanced to).
    pub fn current_watermark(&self) -> Timestamp {
        self.watermark
    }

    pub fn current_processing_time(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn register_event_time_timer(&mut self, key: &K, namespace: &N, time: Timestamp) {
        self.event_time.add(key, namespace, time);
    }

    pub fn delete_event_time_timer(&mut self, key: &K, namespace: &N, time: Timestamp) {
        self.event_time.delete(key, namespace, time);
    }

    pub fn register_processing_time_timer(&mut self, key: &K, namespace: &N, time: Timestamp) {
        if self.processing_time.add(key, namespace, time) {
            self.clock.register(time);
        }
    }

    /// A deleted processing-time timer leaves its deadline with the task's clock;
    /// the wake-up then finds nothing due, which is harmless.
    pub fn delete_processing_time_timer(&mut self, key: &K, namespace: &N, time: Timestamp) {
        self.processing_time.delete(key, namespace, time);
    }

    /// Sets the event time; the caller then drains [`Self::pop_event_time_timer`].
    pub fn advance_watermark(&mut self, watermark: Timestamp) {
        self.watermark = self.watermark.max(watermark);
    }

    /// The next event-time timer due at the current watermark.
    pub fn pop_event_time_timer(&mut self) -> Option<Timer<K, N>> {
        self.event_time.pop_until(self.watermark)
    }

    /// The next processing-time timer due at `now`.
    pub fn pop_processing_time_timer(&mut self, now: Timestamp) -> Option<Timer<K, N>> {
        self.processing_time.pop_until(now)
    }

    /// Every registered timer of `domain`, in firing order (for checkpoints).
    pub fn timers(&self, domain: TimeDomain) -> impl Iterator<Item = (&K, &N, Timestamp)> {
        match domain {
            TimeDomain::EventTime => self.event_time.iter(),
            TimeDomain::ProcessingTime => self.processing_time.iter(),
        }
    }

    pub fn num_event_time_timers(&self) -> usize {
        self.event_time.len()
    }

    pub fn num_processing_time_timers(&self) -> usize {
        self.processing_time.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn service() -> InternalTimerService<String, ()> {
        InternalTimerService::new(ProcessingTimeService::new())
    }

    #[test]
    fn timers_fire_once_in_order_at_the_watermark() {
        let mut s = service();
        let (a, b) = ("a".to_string(), "b".to_string());
        s.register_event_time_timer(&a, &(), 20);
        s.register_event_time_timer(&b, &(), 10);
        s.register_event_time_timer(&a, &(), 20); // duplicate
        s.register_event_time_timer(&b, &(), 30);
        s.delete_event_time_timer(&b, &(), 30);
        assert_eq!(s.num_event_time_timers(), 2);
        s.advance_watermark(15);
        assert_eq!(s.pop_event_time_timer().map(|t| (t.timestamp, t.key)), Some((10, b.clone())));
        assert_eq!(s.pop_event_time_timer(), None);
        s.advance_watermark(25);
        assert_eq!(s.pop_event_time_timer().map(|t| (t.timestamp, t.key)), Some((20, a.clone())));
        assert_eq!(s.pop_event_time_timer(), None);
    }

    #[test]
    fn processing_time_timers_ask_the_clock_for_a_wake_up() {
        let clock = ProcessingTimeService::new();
        let mut s: InternalTimerService<i64, ()> = InternalTimerService::new(clock.clone());
        s.register_processing_time_timer(&1, &(), 500);
        s.register_processing_time_timer(&1, &(), 500);
        assert_eq!(clock.next_deadline(), Some(500));
        assert!(clock.take_due(500));
        assert_eq!(clock.next_deadline(), None, "a duplicate timer asks for no second wake-up");
        assert_eq!(s.pop_processing_time_timer(499), None);
        assert_eq!(s.pop_processing_time_timer(500).map(|t| t.timestamp), Some(500));
    }

    proptest! {
        /// Against a model: every distinct registered (key, time) that was not
        /// deleted fires exactly once, in (time, first registration) order.
        #[test]
        fn fires_each_distinct_timer_once_in_order(
            ops in proptest::collection::vec((0u8..4, 0i64..50, any::<bool>()), 0..200),
            watermark in 0i64..60,
        ) {
            let mut s: InternalTimerService<u8, ()> = InternalTimerService::new(ProcessingTimeService::new());
            let mut model: Vec<(i64, u8)> = Vec::new();
            for (key, time, delete) in ops {
                if delete {
                    s.delete_event_time_timer(&key, &(), time);
                    model.retain(|&(t, k)| !(t == time && k == key));
                } else {
                    s.register_event_time_timer(&key, &(), time);
                    if !model.contains(&(time, key)) {
                        model.push((time, key));
                    }
                }
            }
            s.advance_watermark(watermark);
            let mut fired = Vec::new();
            while let Some(t) = s.pop_event_time_timer() {
                fired.push((t.timestamp, t.key));
            }
            let mut expected: Vec<(i64, u8)> = model.iter().copied().filter(|&(t, _)| t <= watermark).collect();
            expected.sort_by_key(|&(t, _)| t); // stable: registration order within a time
            prop_assert_eq!(fired, expected);
            prop_assert_eq!(s.num_event_time_timers(), model.iter().filter(|&&(t, _)| t > watermark).count());
        }
    }
}
