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

    /// Without a TTL: the entry's index and value. Indexes stay valid until an
    /// entry is removed (TTL cleanup removes entries, so tables with a TTL do not
    /// hand them out).
    #[inline]
    pub fn get_indexed(&self, key: &K, namespace: &N) -> Option<(usize, &V)> {
        debug_assert!(self.meta.ttl.is_none());
        self.entries.get_full(&KeyRef(key, namespace)).map(|(i, _, v)| (i, v))
    }

    /// Without a TTL: replaces entry `i`'s value (from [`Self::get_indexed`]).
    #[inline]
    pub fn set_at(&mut self, i: usize, value: V) {
        debug_assert!(self.meta.ttl.is_none());
        *self.entries.get_index_mut(i).expect("index from get_indexed").1 = value;
    }

    pub fn has_ttl(&self) -> bool {
        self.meta.ttl.is_some()
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

    /// Sets the value; returns the entry's index.
    pub fn put(&mut self, key: &K, namespace: &N, value: V, clock: &dyn TtlTimeProvider) -> usize {
        let now = self.begin_access(clock).map(|(_, now)| now);
        match self.entries.get_full_mut(&KeyRef(key, namespace)) {
            Some((i, _, slot)) => {
                *slot = value;
                if let Some(now) = now {
                    self.stamps[i] = now;
                }
                i
            }
            None => {
                let (i, _) = self.entries.insert_full((key.clone(), namespace.clone()), value);
                if let Some(now) = now {
                    self.stamps.push(now);
                }
                i
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
///
/// Without a TTL, `update` after `value` on the same reference reuses the entry
/// `value` found: a read-modify-write is one hash lookup.
pub(crate) struct HeapValueRef<'a, K, N, V> {
    pub(crate) table: &'a mut ValueTable<K, N, V>,
    pub(crate) key: &'a K,
    pub(crate) namespace: &'a N,
    pub(crate) clock: &'a dyn TtlTimeProvider,
    /// The entry of (key, namespace) found by `value` (tables without a TTL only:
    /// nothing else can remove entries while this reference lives).
    pub(crate) found: Option<usize>,
}

impl<'a, K: StateKey, N: Namespace, V: Data> HeapValueRef<'a, K, N, V> {
    pub(crate) fn new(
        table: &'a mut ValueTable<K, N, V>,
        key: &'a K,
        namespace: &'a N,
        clock: &'a dyn TtlTimeProvider,
    ) -> Self {
        Self { table, key, namespace, clock, found: None }
    }

    /// The value, if set (and not expired).
    #[inline]
    pub fn value(&mut self) -> Option<&V> {
        if self.table.has_ttl() {
            return self.table.get(self.key, self.namespace, self.clock);
        }
        let (i, value) = self.table.get_indexed(self.key, self.namespace)?;
        self.found = Some(i);
        Some(value)
    }

    #[inline]
    pub fn update(&mut self, value: V) {
        match self.found {
            Some(i) => self.table.set_at(i, value),
            None => {
                let i = self.table.put(self.key, self.namespace, value, self.clock);
                if !self.table.has_ttl() {
                    self.found = Some(i);
                }
            }
        }
    }

    pub fn clear(&mut self) {
        self.found = None;
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
pub(crate) struct HeapReducingRef<'a, K, N, T> {
    pub(crate) table: &'a mut ReducingTable<K, N, T>,
    pub(crate) key: &'a K,
    pub(crate) namespace: &'a N,
    pub(crate) clock: &'a dyn TtlTimeProvider,
}

impl<K: StateKey, N: Namespace, T: Data> HeapReducingRef<'_, K, N, T> {
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
pub(crate) struct HeapAggregatingRef<'a, K, N, IN, ACC, OUT> {
    pub(crate) table: &'a mut AggregatingTable<K, N, IN, ACC, OUT>,
    pub(crate) key: &'a K,
    pub(crate) namespace: &'a N,
    pub(crate) clock: &'a dyn TtlTimeProvider,
}

impl<K: StateKey, N: Namespace, IN: 'static, ACC: Data, OUT: 'static> HeapAggregatingRef<'_, K, N, IN, ACC, OUT> {
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
