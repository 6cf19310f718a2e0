//! Value, reducing and aggregating state: one value per (key, namespace).

use super::table::{Entries, ErasedTable, KeyRef, Namespace, RestoredEntry, StateKey, Table, TableMeta};
use crate::descriptor::{AggregateFn, ReduceFn};
use crate::error::{EntryPart, Result};
use crate::registry::RegisteredState;
use crate::snapshot::{KeyedSnapshotWriter, SnapshotStateId};
use crate::ttl::{TtlPolicy, TtlTimeProvider};
use brook_types::Data;
use std::sync::Arc;

/// One value per (key, namespace), with per-entry TTL timestamps.
pub(crate) struct ValueTable<K, N, V> {
    meta: TableMeta,
    entries: Entries<K, N, V>,
    /// `stamps[i]` is entry `i`'s last write (or read); empty without a TTL.
    stamps: Vec<i64>,
    /// Where incremental cleanup resumes.
    cursor: usize,
    /// An expired value that a read removed and still returns
    /// (`ReturnExpiredIfNotCleanedUp`).
    expired: Option<V>,
}

impl<K: StateKey, N: Namespace, V: Data> ValueTable<K, N, V> {
    pub fn new(meta: TableMeta) -> Self {
        Self { meta, entries: Entries::default(), stamps: Vec::new(), cursor: 0, expired: None }
    }

    fn remove_index(&mut self, i: usize) -> V {
        let (_, value) = self.entries.swap_remove_index(i).expect("index in bounds");
        if self.meta.ttl.is_some() {
            self.stamps.swap_remove(i);
        }
        value
    }

    /// With a TTL: the time of this access, after incremental cleanup.
    #[inline]
    fn begin_access(&mut self, clock: &dyn TtlTimeProvider) -> Option<(TtlPolicy, i64)> {
        let ttl = self.meta.ttl?;
        let now = clock.current_timestamp();
        self.cleanup(ttl, now, ttl.incremental);
        Some((ttl, now))
    }

    fn cleanup(&mut self, ttl: TtlPolicy, now: i64, steps: usize) {
        for _ in 0..steps {
            if self.entries.is_empty() {
                self.cursor = 0;
                return;
            }
            if self.cursor >= self.entries.len() {
                self.cursor = 0;
            }
            if ttl.expired(self.stamps[self.cursor], now) {
                // The last entry moves into the cursor's place and is checked next.
                self.remove_index(self.cursor);
            } else {
                self.cursor += 1;
            }
        }
    }

    pub fn get(&mut self, key: &K, namespace: &N, clock: &dyn TtlTimeProvider) -> Option<&V> {
        let Some((ttl, now)) = self.begin_access(clock) else {
            return self.entries.get(&KeyRef(key, namespace));
        };
        let i = self.entries.get_index_of(&KeyRef(key, namespace))?;
        if ttl.expired(self.stamps[i], now) {
            let value = self.remove_index(i);
            return if ttl.return_expired { Some(self.expired.insert(value)) } else { None };
        }
        if ttl.update_on_read {
            self.stamps[i] = now;
        }
        Some(&self.entries[i])
    }

    pub fn put(&mut self, key: &K, namespace: &N, value: V, clock: &dyn TtlTimeProvider) {
        let now = self.begin_access(clock).map(|(_, now)| now);
        match self.entries.get_full_mut(&KeyRef(key, namespace)) {
            Some((i, _, slot)) => {
                *slot = value;
                if let Some(now) = now {
                    self.stamps[i] = now;
                }
            }
            None => {
                self.entries.insert((key.clone(), namespace.clone()), value);
                if let Some(now) = now {
                    self.stamps.push(now);
                }
            }
        }
    }

    /// Read-modify-write: `update` the visible value, or one `create` makes if
    /// there is none (an expired value counts as none unless expired values are
    /// visible, as in Flink's TTL reduce and aggregate functions).
    pub fn write_with(
        &mut self,
        key: &K,
        namespace: &N,
        clock: &dyn TtlTimeProvider,
        create: impl FnOnce() -> V,
        update: impl FnOnce(&mut V),
    ) {
        let ttl_now = self.begin_access(clock);
        match self.entries.get_full_mut(&KeyRef(key, namespace)) {
            Some((i, _, slot)) => {
                if let Some((ttl, now)) = ttl_now {
                    if ttl.expired(self.stamps[i], now) && !ttl.return_expired {
                        *slot = create();
                    }
                    self.stamps[i] = now;
                }
                update(slot);
            }
            None => {
                let mut value = create();
                update(&mut value);
                self.entries.insert((key.clone(), namespace.clone()), value);
                if let Some((_, now)) = ttl_now {
                    self.stamps.push(now);
                }
            }
        }
    }

    pub fn remove(&mut self, key: &K, namespace: &N, clock: &dyn TtlTimeProvider) {
        self.begin_access(clock);
        if let Some((i, _, _)) = self.entries.swap_remove_full(&KeyRef(key, namespace))
            && self.meta.ttl.is_some()
        {
            self.stamps.swap_remove(i);
        }
    }
}

impl<K: StateKey, N: Namespace, V: Data> ErasedTable<K> for ValueTable<K, N, V> {
    fn meta(&self) -> &TableMeta {
        &self.meta
    }

    fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter, id: SnapshotStateId, now: i64) -> Result<()> {
        for (i, ((key, namespace), value)) in self.entries.iter().enumerate() {
            match self.meta.ttl {
                None => writer.entry(id, key, namespace, value)?,
                Some(ttl) => {
                    if ttl.snapshot_cleanup && ttl.expired(self.stamps[i], now) {
                        continue;
                    }
                    writer.entry(id, key, namespace, &(value, self.stamps[i]))?;
                }
            }
        }
        Ok(())
    }

    fn restore_entry(&mut self, entry: RestoredEntry<'_>, now: i64) -> Result<()> {
        let key: K = self.meta.decode(EntryPart::Key, entry.key, entry.written_type)?;
        let namespace: N = self.meta.decode(EntryPart::Namespace, entry.namespace, entry.written_type)?;
        let (value, stamp) = self.meta.decode_stamped::<V>(entry.value, entry.stamped, entry.written_type, now)?;
        let (i, old) = self.entries.insert_full((key, namespace), value);
        if self.meta.ttl.is_some() {
            if old.is_some() {
                self.stamps[i] = stamp;
            } else {
                self.stamps.push(stamp);
            }
        }
        Ok(())
    }

    fn cleanup_steps(&mut self, steps: usize, now: i64) {
        if let Some(ttl) = self.meta.ttl {
            self.cleanup(ttl, now, steps);
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

impl<K: StateKey, N: Namespace, V: Data> Table<K> for ValueTable<K, N, V> {
    fn create(state: &RegisteredState, operator: &Arc<str>) -> Self {
        Self::new(TableMeta::new(state, operator))
    }
}

/// A value state of the current key and namespace (Flink's `ValueState`).
pub struct ValueStateRef<'a, K, N, V> {
    pub(crate) table: &'a mut ValueTable<K, N, V>,
    pub(crate) key: &'a K,
    pub(crate) namespace: &'a N,
    pub(crate) clock: &'a dyn TtlTimeProvider,
}

impl<K: StateKey, N: Namespace, V: Data> ValueStateRef<'_, K, N, V> {
    /// The value, if set (and not expired).
    pub fn value(&mut self) -> Option<&V> {
        self.table.get(self.key, self.namespace, self.clock)
    }

    pub fn update(&mut self, value: V) {
        self.table.put(self.key, self.namespace, value, self.clock);
    }

    pub fn clear(&mut self) {
        self.table.remove(self.key, self.namespace, self.clock);
    }
}

/// A reducing state's slot. Empty only inside `add`, while the reduce function
/// runs; encoded as the value itself.
#[derive(Clone)]
pub(crate) struct Reduced<T>(Option<T>);

impl<T: serde::Serialize> serde::Serialize for Reduced<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.as_ref().expect("a reducing state's slot is empty only during add").serialize(s)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Reduced<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        T::deserialize(d).map(|t| Reduced(Some(t)))
    }
}

/// Reducing state: a value table and the reduce function.
pub(crate) struct ReducingTable<K, N, T> {
    values: ValueTable<K, N, Reduced<T>>,
    reduce: ReduceFn<T>,
}

impl<K: StateKey, N: Namespace, T: Data> ErasedTable<K> for ReducingTable<K, N, T> {
    fn meta(&self) -> &TableMeta {
        self.values.meta()
    }
    fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter, id: SnapshotStateId, now: i64) -> Result<()> {
        self.values.write_snapshot(writer, id, now)
    }
    fn restore_entry(&mut self, entry: RestoredEntry<'_>, now: i64) -> Result<()> {
        self.values.restore_entry(entry, now)
    }
    fn cleanup_steps(&mut self, steps: usize, now: i64) {
        self.values.cleanup_steps(steps, now);
    }
    fn len(&self) -> usize {
        self.values.len()
    }
}

impl<K: StateKey, N: Namespace, T: Data> Table<K> for ReducingTable<K, N, T> {
    fn create(state: &RegisteredState, operator: &Arc<str>) -> Self {
        let reduce = state
            .function
            .as_ref()
            .and_then(|f| f.downcast_ref::<ReduceFn<T>>())
            .expect("a reducing state registers its reduce function with the handle's type")
            .clone();
        Self { values: ValueTable::new(TableMeta::new(state, operator)), reduce }
    }
}

/// A reducing state of the current key and namespace (Flink's `ReducingState`).
pub struct ReducingStateRef<'a, K, N, T> {
    pub(crate) table: &'a mut ReducingTable<K, N, T>,
    pub(crate) key: &'a K,
    pub(crate) namespace: &'a N,
    pub(crate) clock: &'a dyn TtlTimeProvider,
}

impl<K: StateKey, N: Namespace, T: Data> ReducingStateRef<'_, K, N, T> {
    /// The reduced value, if any value was added.
    pub fn get(&mut self) -> Option<&T> {
        self.table.values.get(self.key, self.namespace, self.clock).and_then(|r| r.0.as_ref())
    }

    /// Reduces `value` into the state.
    pub fn add(&mut self, value: T) {
        let reduce = &self.table.reduce;
        self.table.values.write_with(
            self.key,
            self.namespace,
            self.clock,
            || Reduced(None),
            |slot| {
                slot.0 = Some(match slot.0.take() {
                    None => value,
                    Some(acc) => reduce(acc, value),
                })
            },
        );
    }

    pub fn clear(&mut self) {
        self.table.values.remove(self.key, self.namespace, self.clock);
    }
}

/// Aggregating state: a table of accumulators and the aggregate function.
pub(crate) struct AggregatingTable<K, N, IN, ACC, OUT> {
    accumulators: ValueTable<K, N, ACC>,
    function: AggregateFn<IN, ACC, OUT>,
}

impl<K: StateKey, N: Namespace, IN: 'static, ACC: Data, OUT: 'static> ErasedTable<K>
    for AggregatingTable<K, N, IN, ACC, OUT>
{
    fn meta(&self) -> &TableMeta {
        self.accumulators.meta()
    }
    fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter, id: SnapshotStateId, now: i64) -> Result<()> {
        self.accumulators.write_snapshot(writer, id, now)
    }
    fn restore_entry(&mut self, entry: RestoredEntry<'_>, now: i64) -> Result<()> {
        self.accumulators.restore_entry(entry, now)
    }
    fn cleanup_steps(&mut self, steps: usize, now: i64) {
        self.accumulators.cleanup_steps(steps, now);
    }
    fn len(&self) -> usize {
        self.accumulators.len()
    }
}

impl<K: StateKey, N: Namespace, IN: 'static, ACC: Data, OUT: 'static> Table<K>
    for AggregatingTable<K, N, IN, ACC, OUT>
{
    fn create(state: &RegisteredState, operator: &Arc<str>) -> Self {
        let function = state
            .function
            .as_ref()
            .and_then(|f| f.downcast_ref::<AggregateFn<IN, ACC, OUT>>())
            .expect("an aggregating state registers its function with the handle's types")
            .clone();
        Self { accumulators: ValueTable::new(TableMeta::new(state, operator)), function }
    }
}

/// An aggregating state of the current key and namespace (Flink's `AggregatingState`).
pub struct AggregatingStateRef<'a, K, N, IN, ACC, OUT> {
    pub(crate) table: &'a mut AggregatingTable<K, N, IN, ACC, OUT>,
    pub(crate) key: &'a K,
    pub(crate) namespace: &'a N,
    pub(crate) clock: &'a dyn TtlTimeProvider,
}

impl<K: StateKey, N: Namespace, IN: 'static, ACC: Data, OUT: 'static> AggregatingStateRef<'_, K, N, IN, ACC, OUT> {
    /// The aggregate's result, if any value was added.
    pub fn get(&mut self) -> Option<OUT> {
        let function = &self.table.function;
        self.table.accumulators.get(self.key, self.namespace, self.clock).map(|acc| function.get_result(acc))
    }

    /// Aggregates `value` into the accumulator.
    pub fn add(&mut self, value: IN) {
        let function = &self.table.function;
        self.table.accumulators.write_with(
            self.key,
            self.namespace,
            self.clock,
            || function.create_accumulator(),
            |acc| function.add(acc, value),
        );
    }

    pub fn clear(&mut self) {
        self.table.accumulators.remove(self.key, self.namespace, self.clock);
    }
}
