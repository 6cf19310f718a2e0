//! List state: a list of elements per (key, namespace), each element with its own
//! TTL timestamp.

use super::table::{
    Entries, ErasedTable, KeyRef, Namespace, RestoredEntry, StampedSeq, StateKey, Table, TableMeta, any_expired,
};
use crate::error::{EntryPart, Result};
use crate::registry::RegisteredState;
use crate::snapshot::{KeyedSnapshotWriter, SnapshotStateId};
use crate::ttl::{TtlPolicy, TtlTimeProvider};
use brook_types::Data;
use std::sync::Arc;

/// The elements of one (key, namespace); `stamps` is parallel to `items` with a
/// TTL and empty without. Never empty while stored.
#[derive(Clone)]
pub(crate) struct ListValue<T> {
    items: Vec<T>,
    stamps: Vec<i64>,
}

impl<T: Clone> ListValue<T> {
    fn retain_live(&mut self, ttl: TtlPolicy, now: i64) {
        let mut i = 0;
        // Keep order: elements are appended in time order and read in that order.
        let stamps = &mut self.stamps;
        self.items.retain(|_| {
            let live = !ttl.expired(stamps[i], now);
            i += 1;
            live
        });
        stamps.retain(|&s| !ttl.expired(s, now));
    }
}

pub(crate) struct ListTable<K, N, T> {
    meta: TableMeta,
    entries: Entries<K, N, ListValue<T>>,
    cursor: usize,
    /// The elements a read returned together with expired ones
    /// (`ReturnExpiredIfNotCleanedUp`).
    expired: Option<Vec<T>>,
}

impl<K: StateKey, N: Namespace, T: Data> ListTable<K, N, T> {
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
            let list = &mut self.entries[self.cursor];
            if any_expired(ttl, &list.stamps, now) {
                list.retain_live(ttl, now);
                if list.items.is_empty() {
                    self.entries.swap_remove_index(self.cursor);
                    continue;
                }
            }
            self.cursor += 1;
        }
    }

    pub fn get(&mut self, key: &K, namespace: &N, clock: &dyn TtlTimeProvider) -> &[T] {
        let Some((ttl, now)) = self.begin_access(clock) else {
            return self.entries.get(&KeyRef(key, namespace)).map_or(&[], |l| &l.items);
        };
        let Some(i) = self.entries.get_index_of(&KeyRef(key, namespace)) else {
            return &[];
        };
        let list = &mut self.entries[i];
        if any_expired(ttl, &list.stamps, now) {
            if ttl.return_expired {
                // This read still sees every element; only the live ones stay.
                let mut live = ListValue { items: Vec::new(), stamps: Vec::new() };
                for (item, &stamp) in list.items.iter().zip(&list.stamps) {
                    if !ttl.expired(stamp, now) {
                        live.items.push(item.clone());
                        live.stamps.push(if ttl.update_on_read { now } else { stamp });
                    }
                }
                let all = std::mem::replace(list, live);
                if self.entries[i].items.is_empty() {
                    self.entries.swap_remove_index(i);
                }
                return self.expired.insert(all.items);
            }
            list.retain_live(ttl, now);
            if list.items.is_empty() {
                self.entries.swap_remove_index(i);
                return &[];
            }
        }
        let list = &mut self.entries[i];
        if ttl.update_on_read {
            list.stamps.fill(now);
        }
        &list.items
    }

    pub fn add_all(
        &mut self,
        key: &K,
        namespace: &N,
        values: impl IntoIterator<Item = T>,
        clock: &dyn TtlTimeProvider,
    ) {
        let now = self.begin_access(clock).map(|(_, now)| now);
        let mut values = values.into_iter().peekable();
        if values.peek().is_none() {
            return;
        }
        let list = match self.entries.get_index_of(&KeyRef(key, namespace)) {
            Some(i) => &mut self.entries[i],
            None => {
                let (i, _) = self
                    .entries
                    .insert_full((key.clone(), namespace.clone()), ListValue { items: Vec::new(), stamps: Vec::new() });
                &mut self.entries[i]
            }
        };
        for value in values {
            list.items.push(value);
            if let Some(now) = now {
                list.stamps.push(now);
            }
        }
    }

    pub fn add(&mut self, key: &K, namespace: &N, value: T, clock: &dyn TtlTimeProvider) {
        let now = self.begin_access(clock).map(|(_, now)| now);
        match self.entries.get_mut(&KeyRef(key, namespace)) {
            Some(list) => {
                list.items.push(value);
                if let Some(now) = now {
                    list.stamps.push(now);
                }
            }
            None => {
                let stamps = now.map_or_else(Vec::new, |now| vec![now]);
                self.entries.insert((key.clone(), namespace.clone()), ListValue { items: vec![value], stamps });
            }
        }
    }

    pub fn update(&mut self, key: &K, namespace: &N, values: Vec<T>, clock: &dyn TtlTimeProvider) {
        if values.is_empty() {
            self.remove(key, namespace, clock);
            return;
        }
        let now = self.begin_access(clock).map(|(_, now)| now);
        let stamps = now.map_or_else(Vec::new, |now| vec![now; values.len()]);
        let list = ListValue { items: values, stamps };
        match self.entries.get_mut(&KeyRef(key, namespace)) {
            Some(slot) => *slot = list,
            None => {
                self.entries.insert((key.clone(), namespace.clone()), list);
            }
        }
    }

    pub fn remove(&mut self, key: &K, namespace: &N, clock: &dyn TtlTimeProvider) {
        self.begin_access(clock);
        self.entries.swap_remove(&KeyRef(key, namespace));
    }
}

impl<K: StateKey, N: Namespace, T: Data> ErasedTable<K> for ListTable<K, N, T> {
    fn meta(&self) -> &TableMeta {
        &self.meta
    }

    fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter, id: SnapshotStateId, now: i64) -> Result<()> {
        for ((key, namespace), list) in &self.entries {
            match self.meta.ttl {
                None => writer.entry(id, key, namespace, &list.items)?,
                Some(ttl) => {
                    let drop_expired = ttl.snapshot_cleanup.then_some((ttl, now));
                    if drop_expired.is_some() && list.stamps.iter().all(|&s| ttl.expired(s, now)) {
                        continue;
                    }
                    let seq = StampedSeq { items: list.items.iter(), stamps: Some(&list.stamps), drop_expired };
                    writer.entry(id, key, namespace, &seq)?;
                }
            }
        }
        Ok(())
    }

    fn restore_entry(&mut self, entry: RestoredEntry<'_>, now: i64) -> Result<()> {
        let key: K = self.meta.decode(EntryPart::Key, entry.key, entry.written_type)?;
        let namespace: N = self.meta.decode(EntryPart::Namespace, entry.namespace, entry.written_type)?;
        let (items, stamps): (Vec<T>, Vec<i64>) = if entry.stamped {
            self.meta.decode::<Vec<(T, i64)>>(EntryPart::Value, entry.value, entry.written_type)?.into_iter().unzip()
        } else {
            let items: Vec<T> = self.meta.decode(EntryPart::Value, entry.value, entry.written_type)?;
            let stamps = vec![now; items.len()];
            (items, stamps)
        };
        if items.is_empty() {
            return Ok(());
        }
        let stamps = if self.meta.ttl.is_some() { stamps } else { Vec::new() };
        self.entries.insert((key, namespace), ListValue { items, stamps });
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

impl<K: StateKey, N: Namespace, T: Data> Table<K> for ListTable<K, N, T> {
    fn create(state: &RegisteredState, operator: &Arc<str>) -> Self {
        Self { meta: TableMeta::new(state, operator), entries: Entries::default(), cursor: 0, expired: None }
    }
}

/// A list state of the current key and namespace (Flink's `ListState`).
pub(crate) struct HeapListRef<'a, K, N, T> {
    pub(crate) table: &'a mut ListTable<K, N, T>,
    pub(crate) key: &'a K,
    pub(crate) namespace: &'a N,
    pub(crate) clock: &'a dyn TtlTimeProvider,
}

impl<K: StateKey, N: Namespace, T: Data> HeapListRef<'_, K, N, T> {
    /// The elements in the order they were added (empty if none).
    pub fn get(&mut self) -> &[T] {
        self.table.get(self.key, self.namespace, self.clock)
    }

    pub fn add(&mut self, value: T) {
        self.table.add(self.key, self.namespace, value, self.clock);
    }

    pub fn add_all(&mut self, values: impl IntoIterator<Item = T>) {
        self.table.add_all(self.key, self.namespace, values, self.clock);
    }

    /// Replaces the elements; an empty list clears the state.
    pub fn update(&mut self, values: Vec<T>) {
        self.table.update(self.key, self.namespace, values, self.clock);
    }

    pub fn clear(&mut self) {
        self.table.remove(self.key, self.namespace, self.clock);
    }
}
