use crate::functions::RuntimeMode;
use crate::output::{OneInputOperator, Output};
use brook_types::{Batch, NO_TIMESTAMP, StreamRecord, Timestamp};
use std::collections::HashMap;
use std::hash::Hash;

/// Rolling `reduce` on a keyed stream (also `sum`, `min`, `max`, `min_by`, `max_by`).
///
/// STREAMING emits the new accumulated value after every record; BATCH emits each
/// key's final value once, at end of input, as Flink does on bounded input — in the
/// order the keys were first seen, so that a run is repeatable.
pub struct KeyedReduceOperator<K, T, KF, RF> {
    key_selector: KF,
    reduce: RF,
    mode: RuntimeMode,
    /// Key → slot in `values`.
    index: HashMap<K, usize, foldhash::fast::RandomState>,
    values: Vec<(Option<T>, Timestamp)>,
}

impl<K, T, KF, RF> KeyedReduceOperator<K, T, KF, RF> {
    pub fn new(key_selector: KF, reduce: RF, mode: RuntimeMode) -> Self {
        Self { key_selector, reduce, mode, index: HashMap::default(), values: Vec::new() }
    }
}

impl<K, T, KF, RF> OneInputOperator<T, T> for KeyedReduceOperator<K, T, KF, RF>
where
    K: Hash + Eq + Send,
    T: Clone + Send,
    KF: Fn(&T) -> K + Send,
    RF: FnMut(T, T) -> T + Send,
{
    fn process_batch(&mut self, batch: Batch<T>, out: &mut dyn Output<T>) {
        let emit = self.mode != RuntimeMode::Batch;
        let mut results = if emit { Vec::with_capacity(batch.len()) } else { Vec::new() };
        for r in batch {
            let key = (self.key_selector)(&r.value);
            let next_slot = self.values.len();
            let slot = *self.index.entry(key).or_insert(next_slot);
            if slot == next_slot {
                self.values.push((None, NO_TIMESTAMP));
            }
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
}
