use crate::checkpoint::{SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::{RuntimeContext, RuntimeMode};
use crate::key_selector::KeySelector;
use crate::output::{OneInputOperator, Output};
use brook_state::{KeyedSnapshotReader, KeyedSnapshotWriter, StateKind};
use brook_types::key_group::KeyGroupRange;
use brook_types::{Batch, Data, NO_TIMESTAMP, StreamRecord, Timestamp};
use std::collections::HashMap;

/// Snapshot state name of the per-key accumulated values: `(value, timestamp)` per key.
pub const REDUCE_VALUES_STATE: &str = "_reduce/values";

/// Rolling `reduce` on a keyed stream (also `sum`, `min`, `max`, `min_by`, `max_by`).
///
/// STREAMING emits the new accumulated value after every record; BATCH emits each
/// key's final value once, at end of input, as Flink does on bounded input — in the
/// order the keys were first seen, so that a run is repeatable.
///
/// Checkpoints write each key's accumulated value and timestamp into the keyed
/// snapshot by key group (state `_reduce/values`, kind internal), so a restore at
/// any parallelism reads only its own key groups.
pub struct KeyedReduceOperator<T, S: KeySelector<T>, RF> {
    key_selector: S,
    reduce: RF,
    mode: RuntimeMode,
    max_parallelism: usize,
    key_groups: KeyGroupRange,
    /// Key → slot in `values`.
    index: HashMap<S::Key, usize, foldhash::fast::RandomState>,
    values: Vec<(Option<T>, Timestamp)>,
}

impl<T, S: KeySelector<T>, RF> KeyedReduceOperator<T, S, RF> {
    /// The operator of subtask `runtime.subtask_index`, owning its key groups.
    pub fn new(key_selector: S, reduce: RF, runtime: &RuntimeContext) -> Self {
        Self {
            key_selector,
            reduce,
            mode: runtime.runtime_mode,
            max_parallelism: runtime.max_parallelism,
            key_groups: KeyGroupRange::for_operator_index(
                runtime.max_parallelism,
                runtime.parallelism,
                runtime.subtask_index,
            ),
            index: HashMap::default(),
            values: Vec::new(),
        }
    }

    fn slot(&mut self, key: S::Key) -> usize {
        let values = &mut self.values;
        *self.index.entry(key).or_insert_with(|| {
            values.push((None, NO_TIMESTAMP));
            values.len() - 1
        })
    }
}

impl<T, S, RF> OneInputOperator<T, T> for KeyedReduceOperator<T, S, RF>
where
    T: Data,
    S: KeySelector<T>,
    RF: FnMut(T, T) -> T + Send,
{
    fn process_batch(&mut self, batch: Batch<T>, out: &mut dyn Output<T>) {
        let emit = self.mode != RuntimeMode::Batch;
        let mut results = if emit { Vec::with_capacity(batch.len()) } else { Vec::new() };
        for r in batch {
            let index = &mut self.index;
            // Look up by the borrowed key; clone it only for a new key.
            let slot = match self.key_selector.with_key(&r.value, |k| index.get(k).copied()) {
                Some(slot) => slot,
                None => {
                    let key = self.key_selector.key(&r.value);
                    self.slot(key)
                }
            };
            let entry = &mut self.values[slot];
            let next = match entry.0.take() {
                None => r.value,
                Some(acc) => (self.reduce)(acc, r.value),
            };
            if emit {
                results.push(StreamRecord { value: next.clone(), timestamp: r.timestamp });
            }
            *entry = (Some(next), r.timestamp);
        }
        if !results.is_empty() {
            out.collect(results);
        }
    }

    fn finish(&mut self, out: &mut dyn Output<T>) {
        if self.mode == RuntimeMode::Batch {
            let finals: Batch<T> = std::mem::take(&mut self.values)
                .into_iter()
                .filter_map(|(v, ts)| v.map(|value| StreamRecord { value, timestamp: ts }))
                .collect();
            if !finals.is_empty() {
                out.collect(finals);
            }
        }
    }

    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        let mut writer = KeyedSnapshotWriter::new(self.max_parallelism, self.key_groups);
        let state = writer.begin_state(REDUCE_VALUES_STATE, StateKind::Internal)?;
        for (key, &slot) in &self.index {
            if let (Some(value), timestamp) = &self.values[slot] {
                writer.entry(state, key, &(), &(value, *timestamp))?;
            }
        }
        ctx.set_keyed_state(writer.finish());
        Ok(())
    }

    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        for snapshot in ctx.keyed_state() {
            let reader = KeyedSnapshotReader::new(&snapshot.bytes)?;
            let Some(state) = reader.state(REDUCE_VALUES_STATE) else { continue };
            for entry in reader.entries(self.key_groups) {
                let entry = entry?;
                if entry.state != state {
                    continue;
                }
                let undecodable = |e: bincode::Error| {
                    SnapshotError::Failed(format!(
                        "a value of the keyed reduce does not decode as ({}, {}): {e}; the key or record type \
                         changed since the checkpoint",
                        std::any::type_name::<S::Key>(),
                        std::any::type_name::<T>()
                    ))
                };
                let key: S::Key = entry.decode_key().map_err(undecodable)?;
                let (value, timestamp): (T, Timestamp) = entry.decode_value().map_err(undecodable)?;
                let slot = self.slot(key);
                self.values[slot] = (Some(value), timestamp);
            }
        }
        Ok(())
    }
}
