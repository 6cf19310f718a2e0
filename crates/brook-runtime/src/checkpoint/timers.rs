//! The timers of a keyed process operator, snapshotted by key group.
//!
//! [`InternalTimerService`] has no way to list its timers, so this wrapper keeps
//! the set of live timers beside it: every registration, deletion and firing goes
//! through here. The snapshot writes one entry per timer into the operator's keyed
//! snapshot (states `_timers/event-time` and `_timers/processing-time`, kind
//! `Timers`, value the time). Once the timer service can iterate its timers, the
//! shadow set goes away and the format stays.

use super::SnapshotError;
use crate::processing_time::ProcessingTimeService;
use crate::timer::{InternalTimerService, Timer};
use brook_state::{KeyedSnapshotReader, KeyedSnapshotWriter, StateKey, StateKind};
use brook_types::Timestamp;
use brook_types::key_group::KeyGroupRange;
use std::collections::HashSet;

/// Snapshot state name of event-time timers.
pub const EVENT_TIME_TIMERS: &str = "_timers/event-time";
/// Snapshot state name of processing-time timers.
pub const PROCESSING_TIME_TIMERS: &str = "_timers/processing-time";

type TimerSet<K> = HashSet<(K, Timestamp), foldhash::fast::RandomState>;

/// A keyed operator's timers (void namespace) that can be snapshotted.
pub struct CheckpointedTimers<K> {
    service: InternalTimerService<K, ()>,
    event_time: TimerSet<K>,
    processing_time: TimerSet<K>,
}

impl<K: StateKey> CheckpointedTimers<K> {
    pub fn new(clock: ProcessingTimeService) -> Self {
        Self {
            service: InternalTimerService::new(clock),
            event_time: TimerSet::default(),
            processing_time: TimerSet::default(),
        }
    }

    pub fn current_watermark(&self) -> Timestamp {
        self.service.current_watermark()
    }

    pub fn current_processing_time(&self) -> Timestamp {
        self.service.current_processing_time()
    }

    pub fn register_event_time_timer(&mut self, key: &K, time: Timestamp) {
        self.service.register_event_time_timer(key, &(), time);
        self.event_time.insert((key.clone(), time));
    }

    pub fn register_processing_time_timer(&mut self, key: &K, time: Timestamp) {
        self.service.register_processing_time_timer(key, &(), time);
        self.processing_time.insert((key.clone(), time));
    }

    pub fn delete_event_time_timer(&mut self, key: &K, time: Timestamp) {
        self.service.delete_event_time_timer(key, &(), time);
        self.event_time.remove(&(key.clone(), time));
    }

    pub fn delete_processing_time_timer(&mut self, key: &K, time: Timestamp) {
        self.service.delete_processing_time_timer(key, &(), time);
        self.processing_time.remove(&(key.clone(), time));
    }

    pub fn advance_watermark(&mut self, watermark: Timestamp) {
        self.service.advance_watermark(watermark);
    }

    pub fn pop_event_time_timer(&mut self) -> Option<Timer<K, ()>> {
        let timer = self.service.pop_event_time_timer()?;
        self.event_time.remove(&(timer.key.clone(), timer.timestamp));
        Some(timer)
    }

    pub fn pop_processing_time_timer(&mut self, now: Timestamp) -> Option<Timer<K, ()>> {
        let timer = self.service.pop_processing_time_timer(now)?;
        self.processing_time.remove(&(timer.key.clone(), timer.timestamp));
        Some(timer)
    }

    pub fn num_event_time_timers(&self) -> usize {
        self.event_time.len()
    }

    pub fn num_processing_time_timers(&self) -> usize {
        self.processing_time.len()
    }

    /// Writes every timer into `writer`, in the key group of its key.
    pub fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter) -> brook_state::Result<()> {
        for (name, timers) in [(EVENT_TIME_TIMERS, &self.event_time), (PROCESSING_TIME_TIMERS, &self.processing_time)] {
            let id = writer.begin_state(name, StateKind::Timers)?;
            // Sorted, so that a snapshot of the same timers is the same bytes.
            let mut sorted: Vec<&(K, Timestamp)> = timers.iter().collect();
            sorted.sort_by_key(|(_, time)| *time);
            for (key, time) in sorted {
                writer.entry(id, key, &(), time)?;
            }
        }
        Ok(())
    }

    /// Registers the timers of `range`'s key groups found in `snapshots`.
    pub fn restore<B: AsRef<[u8]>>(&mut self, snapshots: &[B], range: KeyGroupRange) -> Result<(), SnapshotError> {
        for snapshot in snapshots {
            let reader = KeyedSnapshotReader::new(snapshot.as_ref())?;
            let domain: Vec<Option<bool>> = reader
                .states()
                .iter()
                .map(|s| match s.name.as_str() {
                    EVENT_TIME_TIMERS => Some(true),
                    PROCESSING_TIME_TIMERS => Some(false),
                    _ => None,
                })
                .collect();
            if domain.iter().all(Option::is_none) {
                continue;
            }
            for entry in reader.entries(range) {
                let entry = entry?;
                let Some(event_time) = domain[entry.state.index()] else { continue };
                let undecodable = |e: bincode::Error| {
                    SnapshotError::Failed(format!(
                        "a timer of the snapshot does not decode as key type {}: {e}",
                        std::any::type_name::<K>()
                    ))
                };
                let key: K = entry.decode_key().map_err(undecodable)?;
                let time: Timestamp = entry.decode_value().map_err(undecodable)?;
                if event_time {
                    self.register_event_time_timer(&key, time);
                } else {
                    self.register_processing_time_timer(&key, time);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_restore_by_key_group_at_another_parallelism() {
        let mut timers = CheckpointedTimers::<String>::new(ProcessingTimeService::new());
        let keys: Vec<String> = (0..20).map(|i| format!("key-{i}")).collect();
        for (i, key) in keys.iter().enumerate() {
            timers.register_event_time_timer(key, 100 + i as i64);
            timers.register_processing_time_timer(key, 5_000);
        }
        timers.delete_event_time_timer(&keys[0], 100);
        timers.advance_watermark(101);
        assert_eq!(timers.pop_event_time_timer().map(|t| t.key), Some(keys[1].clone()), "fired: not snapshotted");
        let mut writer = KeyedSnapshotWriter::new(128, KeyGroupRange::for_operator_index(128, 1, 0));
        timers.write_snapshot(&mut writer).unwrap();
        let snapshot = writer.finish();

        // Two subtasks each restore their own key groups; together they hold every timer.
        let (mut event_time, mut processing_time) = (Vec::new(), 0);
        for subtask in 0..2 {
            let mut half = CheckpointedTimers::<String>::new(ProcessingTimeService::new());
            half.restore(&[&snapshot.bytes], KeyGroupRange::for_operator_index(128, 2, subtask)).unwrap();
            assert!(half.num_processing_time_timers() < 20, "subtask {subtask} restored only its key groups");
            processing_time += half.num_processing_time_timers();
            half.advance_watermark(i64::MAX);
            while let Some(t) = half.pop_event_time_timer() {
                event_time.push((t.key, t.timestamp));
            }
        }
        assert_eq!(processing_time, 20);
        event_time.sort();
        let mut expected: Vec<(String, i64)> =
            keys.iter().enumerate().skip(2).map(|(i, k)| (k.clone(), 100 + i as i64)).collect();
        expected.sort();
        assert_eq!(event_time, expected);
    }
}
