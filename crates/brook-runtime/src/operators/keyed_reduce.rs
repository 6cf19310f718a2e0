use crate::functions::RuntimeMode;
use crate::key_selector::KeySelector;
use crate::output::{OneInputOperator, Output};
use brook_types::{Batch, NO_TIMESTAMP, StreamRecord, Timestamp};
use std::collections::HashMap;

/// Rolling `reduce` on a keyed stream (also `sum`, `min`, `max`, `min_by`, `max_by`).
///
/// STREAMING emits the new accumulated value after every record; BATCH emits each
/// key's final value once, at end of input, as Flink does on bounded input — in the
/// order the keys were first seen, so that a run is repeatable.
pub struct KeyedReduceOperator<T, S: KeySelector<T>, RF> {
    key_selector: S,
    reduce: RF,
    mode: RuntimeMode,
    /// Key → slot in `values`.
    index: HashMap<S::Key, usize, foldhash::fast::RandomState>,
    values: Vec<(Option<T>, Timestamp)>,
}

impl<T, S: KeySelector<T>, RF> KeyedReduceOperator<T, S, RF> {
    pub fn new(key_selector: S, reduce: RF, mode: RuntimeMode) -> Self {
        Self { key_selector, reduce, mode, index: HashMap::default(), values: Vec::new() }
    }
}

impl<T, S, RF> OneInputOperator<T, T> for KeyedReduceOperator<T, S, RF>
where
    T: Clone + Send,
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
                    let slot = self.values.len();
                    index.insert(self.key_selector.key(&r.value), slot);
                    self.values.push((None, NO_TIMESTAMP));
                    slot
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
}
