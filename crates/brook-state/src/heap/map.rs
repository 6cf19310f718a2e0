//! Map state: a map of user keys to values per (key, namespace), each entry with
//! its own TTL timestamp.

use super::table::{
    Entries, ErasedTable, FoldHash, KeyRef, Namespace, RestoredEntry, StampedSeq, StateKey, Table, TableMeta,
    any_expired,
};
use crate::error::{EntryPart, Result};
use crate::registry::RegisteredState;
use crate::snapshot::{KeyedSnapshotWriter, SnapshotStateId};
use crate::ttl::{TtlPolicy, TtlTimeProvider};
use brook_types::Data;
use indexmap::IndexMap;
use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::Arc;

pub(crate) type UserMap<UK, UV> = IndexMap<UK, UV, FoldHash>;

/// The entries of one (key, namespace); `stamps` is parallel to `map` with a TTL
/// and empty without. Never empty while stored.
pub(crate) struct MapValue<UK, UV> {
    map: UserMap<UK, UV>,
    stamps: Vec<i64>,
}

impl<UK: Data + Hash + Eq, UV: Data> MapValue<UK, UV> {
    fn empty() -> Self {
        Self { map: UserMap::default(), stamps: Vec::new() }
    }

    fn retain_live(&mut self, ttl: TtlPolicy, now: i64) {
        let mut j = 0;
        while j < self.map.len() {
            if ttl.expired(self.stamps[j], now) {
                self.map.swap_remove_index(j);
                self.stamps.swap_remove(j);
            } else {
                j += 1;
            }
        }
    }
}

pub(crate) struct MapTable<K, N, UK, UV> {
    meta: TableMeta,
    entries: Entries<K, N, MapValue<UK, UV>>,
    cursor: usize,
    /// What a read returned together with expired entries (`ReturnExpiredIfNotCleanedUp`).
    expired_map: Option<UserMap<UK, UV>>,
    expired_value: Option<UV>,
}

impl<K: StateKey, N: Namespace, UK: Data + Hash + Eq, UV: Data> MapTable<K, N, UK, UV> {
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
            let value = &mut self.entries[self.cursor];
            if any_expired(ttl, &value.stamps, now) {
                value.retain_live(ttl, now);
                if value.map.is_empty() {
                    self.entries.swap_remove_index(self.cursor);
                    continue;
                }
            }
            self.cursor += 1;
        }
    }

    /// The user map of (key, namespace) as a read sees it, applying TTL.
    fn view(&mut self, key: &K, namespace: &N, clock: &dyn TtlTimeProvider) -> Option<&UserMap<UK, UV>> {
        let Some((ttl, now)) = self.begin_access(clock) else {
            return self.entries.get(&KeyRef(key, namespace)).map(|v| &v.map);
        };
        let i = self.entries.get_index_of(&KeyRef(key, namespace))?;
        let value = &mut self.entries[i];
        if any_expired(ttl, &value.stamps, now) {
            if ttl.return_expired {
                let mut live = MapValue::empty();
                for ((k, v), &stamp) in value.map.iter().zip(&value.stamps) {
                    if !ttl.expired(stamp, now) {
                        live.map.insert(k.clone(), v.clone());
                        live.stamps.push(if ttl.update_on_read { now } else { stamp });
                    }
                }
                let all = std::mem::replace(value, live);
                if self.entries[i].map.is_empty() {
                    self.entries.swap_remove_index(i);
                }
                return Some(self.expired_map.insert(all.map));
            }
            value.retain_live(ttl, now);
            if value.map.is_empty() {
                self.entries.swap_remove_index(i);
                return None;
            }
        }
        let value = &mut self.entries[i];
        if ttl.update_on_read {
            value.stamps.fill(now);
        }
        Some(&value.map)
    }

    fn get<Q>(&mut self, key: &K, namespace: &N, user_key: &Q, clock: &dyn TtlTimeProvider) -> Option<&UV>
    where
        UK: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let Some((ttl, now)) = self.begin_access(clock) else {
            return self.entries.get(&KeyRef(key, namespace))?.map.get(user_key);
        };
        let i = self.entries.get_index_of(&KeyRef(key, namespace))?;
        let value = &mut self.entries[i];
        let j = value.map.get_index_of(user_key)?;
        if ttl.expired(value.stamps[j], now) {
            let (_, v) = value.map.swap_remove_index(j).expect("index in bounds");
            value.stamps.swap_remove(j);
            if value.map.is_empty() {
                self.entries.swap_remove_index(i);
            }
            return if ttl.return_expired { Some(self.expired_value.insert(v)) } else { None };
        }
        if ttl.update_on_read {
            value.stamps[j] = now;
        }
        Some(&self.entries[i].map[j])
    }

    fn put(&mut self, key: &K, namespace: &N, user_key: UK, user_value: UV, clock: &dyn TtlTimeProvider) {
        let now = self.begin_access(clock).map(|(_, now)| now);
        let value = match self.entries.get_index_of(&KeyRef(key, namespace)) {
            Some(i) => &mut self.entries[i],
            None => {
                let (i, _) = self.entries.insert_full((key.clone(), namespace.clone()), MapValue::empty());
                &mut self.entries[i]
            }
        };
        let (j, old) = value.map.insert_full(user_key, user_value);
        if let Some(now) = now {
            if old.is_some() {
                value.stamps[j] = now;
            } else {
                value.stamps.push(now);
            }
        }
    }

    fn remove<Q>(&mut self, key: &K, namespace: &N, user_key: &Q, clock: &dyn TtlTimeProvider) -> Option<UV>
    where
        UK: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let ttl_now = self.begin_access(clock);
        let i = self.entries.get_index_of(&KeyRef(key, namespace))?;
        let value = &mut self.entries[i];
        let (j, _, removed) = value.map.swap_remove_full(user_key)?;
        let visible = match ttl_now {
            Some((ttl, now)) => {
                let stamp = value.stamps.swap_remove(j);
                ttl.return_expired || !ttl.expired(stamp, now)
            }
            None => true,
        };
        if value.map.is_empty() {
            self.entries.swap_remove_index(i);
        }
        visible.then_some(removed)
    }

    fn clear(&mut self, key: &K, namespace: &N, clock: &dyn TtlTimeProvider) {
        self.begin_access(clock);
        self.entries.swap_remove(&KeyRef(key, namespace));
    }
}

impl<K: StateKey, N: Namespace, UK: Data + Hash + Eq, UV: Data> ErasedTable<K> for MapTable<K, N, UK, UV> {
    fn meta(&self) -> &TableMeta {
        &self.meta
    }

    fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter, id: SnapshotStateId, now: i64) -> Result<()> {
        for ((key, namespace), value) in &self.entries {
            let (stamps, drop_expired) = match self.meta.ttl {
                None => (None, None),
                Some(ttl) => {
                    let drop_expired = ttl.snapshot_cleanup.then_some((ttl, now));
                    if drop_expired.is_some() && value.stamps.iter().all(|&s| ttl.expired(s, now)) {
                        continue;
                    }
                    (Some(value.stamps.as_slice()), drop_expired)
                }
            };
            writer.entry(id, key, namespace, &StampedSeq { items: value.map.iter(), stamps, drop_expired })?;
        }
        Ok(())
    }

    fn restore_entry(&mut self, entry: RestoredEntry<'_>, now: i64) -> Result<()> {
        let key: K = self.meta.decode(EntryPart::Key, entry.key, entry.written_type)?;
        let namespace: N = self.meta.decode(EntryPart::Namespace, entry.namespace, entry.written_type)?;
        let pairs: Vec<(UK, UV, i64)> = if entry.stamped {
            self.meta.decode(EntryPart::Value, entry.value, entry.written_type)?
        } else {
            let pairs: Vec<(UK, UV)> = self.meta.decode(EntryPart::Value, entry.value, entry.written_type)?;
            pairs.into_iter().map(|(k, v)| (k, v, now)).collect()
        };
        let mut value = MapValue::empty();
        for (k, v, stamp) in pairs {
            let (j, old) = value.map.insert_full(k, v);
            if self.meta.ttl.is_some() {
                if old.is_some() {
                    value.stamps[j] = stamp;
                } else {
                    value.stamps.push(stamp);
                }
            }
        }
        if !value.map.is_empty() {
            self.entries.insert((key, namespace), value);
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

impl<K: StateKey, N: Namespace, UK: Data + Hash + Eq, UV: Data> Table<K> for MapTable<K, N, UK, UV> {
    fn create(state: &RegisteredState, operator: &Arc<str>) -> Self {
        Self {
            meta: TableMeta::new(state, operator),
            entries: Entries::default(),
            cursor: 0,
            expired_map: None,
            expired_value: None,
        }
    }
}

/// A map state of the current key and namespace (Flink's `MapState`).
pub(crate) struct HeapMapRef<'a, K, N, UK, UV> {
    pub(crate) table: &'a mut MapTable<K, N, UK, UV>,
    pub(crate) key: &'a K,
    pub(crate) namespace: &'a N,
    pub(crate) clock: &'a dyn TtlTimeProvider,
}

impl<K: StateKey, N: Namespace, UK: Data + Hash + Eq, UV: Data> HeapMapRef<'_, K, N, UK, UV> {
    pub fn get<Q>(&mut self, user_key: &Q) -> Option<&UV>
    where
        UK: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.table.get(self.key, self.namespace, user_key, self.clock)
    }

    pub fn put(&mut self, user_key: UK, value: UV) {
        self.table.put(self.key, self.namespace, user_key, value, self.clock);
    }

    /// Removes `user_key`'s entry and returns its value if it was visible.
    pub fn remove<Q>(&mut self, user_key: &Q) -> Option<UV>
    where
        UK: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.table.remove(self.key, self.namespace, user_key, self.clock)
    }

    /// The user map as a read sees it (applying TTL), in insertion order.
    pub fn view(&mut self) -> Option<&UserMap<UK, UV>> {
        self.table.view(self.key, self.namespace, self.clock)
    }

    pub fn is_empty(&mut self) -> bool {
        self.table.view(self.key, self.namespace, self.clock).is_none_or(|m| m.is_empty())
    }

    pub fn clear(&mut self) {
        self.table.clear(self.key, self.namespace, self.clock);
    }
}
