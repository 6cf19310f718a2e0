//! The timers of a keyed process operator, snapshotted by key group.
//!
//! The snapshot writes one entry per timer, listed by the timer service in
//! firing order, into the operator's keyed snapshot (states `_timers/event-time`
//! and `_timers/processing-time`, kind `Timers`, value the time).

use super::SnapshotError;
use crate::processing_time::ProcessingTimeService;
use crate::timer::{InternalTimerService, TimeDomain, Timer};
use brook_state::{KeyedSnapshotReader, KeyedSnapshotWriter, StateKey, StateKind};
use brook_types::Timestamp;
use brook_types::key_group::KeyGroupRange;

/// Snapshot state name of event-time timers.
pub const EVENT_TIME_TIMERS: &str = "_timers/event-time";
/// Snapshot state name of processing-time timers.
pub const PROCESSING_TIME_TIMERS: &str = "_timers/processing-time";

/// A keyed operator's timers (void namespace) that can be snapshotted.
pub struct CheckpointedTimers<K> {
    service: InternalTimerService<K, ()>,
}

impl<K: StateKey> CheckpointedTimers<K> {
    pub fn new(clock: ProcessingTimeService) -> Self {
        Self { service: InternalTimerService::new(clock) }
    }

    pub fn current_watermark(&self) -> Timestamp {
        self.service.current_watermark()
    }

    pub fn current_processing_time(&self) -> Timestamp {
        self.service.current_processing_time()
    }

    pub fn register_event_time_timer(&mut self, key: &K, time: Timestamp) {
        self.service.register_event_time_timer(key, &(), time);
    }

    pub fn register_processing_time_timer(&mut self, key: &K, time: Timestamp) {
        self.service.register_processing_time_timer(key, &(), time);
    }

    pub fn delete_event_time_timer(&mut self, key: &K, time: Timestamp) {
        self.service.delete_event_time_timer(key, &(), time);
    }

    pub fn delete_processing_time_timer(&mut self, key: &K, time: Timestamp) {
        self.service.delete_processing_time_timer(key, &(), time);
    }

    pub fn advance_watermark(&mut self, watermark: Timestamp) {
        self.service.advance_watermark(watermark);
    }

    pub fn pop_event_time_timer(&mut self) -> Option<Timer<K, ()>> {
        self.service.pop_event_time_timer()
    }

    pub fn pop_processing_time_timer(&mut self, now: Timestamp) -> Option<Timer<K, ()>> {
        self.service.pop_processing_time_timer(now)
    }

    pub fn num_event_time_timers(&self) -> usize {
        self.service.num_event_time_timers()
    }

    pub fn num_processing_time_timers(&self) -> usize {
        self.service.num_processing_time_timers()
    }

    /// Writes every timer into `writer`, in the key group of its key.
    pub fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter) -> brook_state::Result<()> {
        for (name, domain) in
            [(EVENT_TIME_TIMERS, TimeDomain::EventTime), (PROCESSING_TIME_TIMERS, TimeDomain::ProcessingTime)]
        {
            let id = writer.begin_state(name, StateKind::Timers)?;
            // In firing order.
            for (key, _, time) in self.service.timers(domain) {
                writer.entry(id, key, &(), &time)?;
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
