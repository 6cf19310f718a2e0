//! The hash-map state backend (`state.backend.type: hashmap`): keyed state of one
//! operator subtask, stored typed in memory.
//!
//! Every state is a table of its own, created the first time its handle is used
//! (when the key, namespace and value types are all known) and kept in a vector
//! indexed by the handle's [`StateId`]. An access is: index the vector, check the
//! table's type (one `TypeId` comparison), one hash lookup of `(key, namespace)`
//! by reference. Nothing is serialized, cloned or allocated to read.
//!
//! Restored entries stay encoded, per state name, until their state's table is
//! created; a snapshot taken before that writes them back unchanged.

mod list;
mod map;
pub(crate) mod table;
mod value;

pub(crate) use list::HeapListRef;
pub(crate) use map::HeapMapRef;
pub use table::{Namespace, StateKey};
pub(crate) use value::{HeapAggregatingRef, HeapReducingRef, HeapValueRef};

use crate::descriptor::{StateDescriptor, StateKind};
use crate::error::{Result, StateError};
use crate::handle::{AggregatingState, ListState, MapState, ReducingState, StateId, ValueState};
use crate::registry::KeyedStateRegistry;
use crate::snapshot::{KeyedSnapshotReader, KeyedSnapshotWriter, KeyedStateSnapshot, SnapshotStateInfo};
use crate::state_ref::{AggregatingStateRef, ListStateRef, MapStateRef, ReducingStateRef, ValueStateRef};
use crate::ttl::{SystemTtlTimeProvider, TtlTimeProvider};
use brook_types::Data;
use brook_types::key_group::KeyGroupRange;
use list::ListTable;
use map::MapTable;
use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::hash::Hash;
use std::sync::Arc;
use table::{ErasedTable, RestoredEntry, Table};
use value::{AggregatingTable, ReducingTable, ValueTable};

/// A created table and what its accesses check.
struct TableSlot<K> {
    table: Box<dyn ErasedTable<K>>,
    table_type: TypeId,
    namespace_type: &'static str,
    /// Entries to check per processed record (`run_cleanup_for_every_record`).
    per_record_cleanup: usize,
}

/// A restored state whose table does not exist yet.
struct RestoredState {
    kind: StateKind,
    ttl_timestamps: bool,
    type_name: String,
    /// When it was restored: values restored without a TTL timestamp into a
    /// state with a TTL are stamped with this time.
    restored_at: i64,
    entries: Vec<PendingEntry>,
}

/// One restored entry: `key ‖ namespace ‖ value` in one allocation.
struct PendingEntry {
    key_group: u32,
    key_len: u32,
    namespace_len: u32,
    bytes: Box<[u8]>,
}

impl PendingEntry {
    fn parts(&self) -> (&[u8], &[u8], &[u8]) {
        let (key, rest) = self.bytes.split_at(self.key_len as usize);
        let (namespace, value) = rest.split_at(self.namespace_len as usize);
        (key, namespace, value)
    }
}

/// Keyed state of one operator subtask, in memory.
///
/// ```
/// use brook_state::{HashMapStateBackend, ValueStateDescriptor};
/// use brook_types::key_group::KeyGroupRange;
///
/// let mut backend = HashMapStateBackend::<String>::new(128, KeyGroupRange::for_operator_index(128, 1, 0));
/// let count = backend.register(&ValueStateDescriptor::<u64>::new("count")).unwrap();
/// let key = "alice".to_string();
/// let mut state = backend.value_state(&count, &key, &());
/// let next = state.value().copied().unwrap_or(0) + 1;
/// state.update(next);
/// assert_eq!(backend.value_state(&count, &key, &()).value(), Some(&1));
/// ```
pub struct HashMapStateBackend<K> {
    operator: Arc<str>,
    max_parallelism: usize,
    key_group_range: KeyGroupRange,
    registry: KeyedStateRegistry,
    tables: Vec<Option<TableSlot<K>>>,
    restored: BTreeMap<String, RestoredState>,
    clock: Arc<dyn TtlTimeProvider>,
    /// Whether some table cleans up for every record.
    per_record_cleanup: bool,
}

impl<K> std::fmt::Debug for HashMapStateBackend<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashMapStateBackend")
            .field("operator", &self.operator)
            .field("max_parallelism", &self.max_parallelism)
            .field("key_group_range", &self.key_group_range)
            .field("registry", &self.registry)
            .field("restored", &self.restored.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn panic_on<T>(result: Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

impl<K: StateKey> HashMapStateBackend<K> {
    /// The backend of the subtask that owns `key_group_range` of `max_parallelism`
    /// key groups, with the wall clock for TTL.
    pub fn new(max_parallelism: usize, key_group_range: KeyGroupRange) -> Self {
        let operator: Arc<str> = Arc::from("unnamed operator");
        Self {
            registry: KeyedStateRegistry::new(&operator),
            operator,
            max_parallelism,
            key_group_range,
            tables: Vec::new(),
            restored: BTreeMap::new(),
            clock: Arc::new(SystemTtlTimeProvider),
            per_record_cleanup: false,
        }
    }

    /// Names the operator in messages. Call before registering states.
    pub fn with_operator_name(mut self, name: &str) -> Self {
        self.operator = Arc::from(name);
        if self.registry.is_empty() {
            self.registry = KeyedStateRegistry::new(name);
        }
        self
    }

    /// The clock TTL reads (processing time).
    pub fn with_ttl_time_provider(mut self, clock: Arc<dyn TtlTimeProvider>) -> Self {
        self.clock = clock;
        self
    }

    pub fn max_parallelism(&self) -> usize {
        self.max_parallelism
    }

    pub fn key_group_range(&self) -> KeyGroupRange {
        self.key_group_range
    }

    /// Registers a state (or returns the one registered under its name).
    pub fn register<D: StateDescriptor>(&mut self, descriptor: &D) -> Result<D::Handle> {
        self.registry.register(descriptor)
    }

    /// The registry, for registration through a context that does not know the
    /// key type (the runtime's `RuntimeContext::get_state`).
    pub fn registry_mut(&mut self) -> &mut KeyedStateRegistry {
        &mut self.registry
    }

    pub fn registry(&self) -> &KeyedStateRegistry {
        &self.registry
    }

    /// The number of (key, namespace) entries of state `name` (restored ones
    /// included), for tests and metrics.
    pub fn entry_count(&self, name: &str) -> usize {
        if let Some(id) = self.registry.id_of(name)
            && let Some(Some(slot)) = self.tables.get(id.index())
        {
            return slot.table.len();
        }
        self.restored.get(name).map_or(0, |r| r.entries.len())
    }

    #[inline]
    fn table<T: Table<K>, N: 'static, H: 'static>(&mut self, id: StateId) -> (&mut T, &dyn TtlTimeProvider) {
        let index = id.index();
        if !matches!(self.tables.get(index), Some(Some(_))) {
            self.create_table::<T, N, H>(id);
        }
        let slot = self.tables[index].as_ref().expect("created above");
        if slot.table_type != TypeId::of::<T>() {
            self.wrong_table::<N>(id, slot.namespace_type);
        }
        let table: &mut dyn Any = self.tables[index].as_mut().expect("created above").table.as_mut();
        (table.downcast_mut::<T>().expect("type checked above"), &*self.clock)
    }

    #[cold]
    #[inline(never)]
    fn wrong_table<N>(&self, id: StateId, namespace_type: &str) -> ! {
        let name = self.registry.get(id).map_or("?", |s| &*s.name);
        let requested = std::any::type_name::<N>();
        if requested != namespace_type {
            panic!(
                "state '{name}' of operator '{}' is used with namespace type {requested} but was first used \
                 with {namespace_type}; a state has one namespace type",
                self.operator
            )
        }
        panic!(
            "a handle of state '{name}' of operator '{}' has other types than the state; handles belong to \
             the operator that registered them",
            self.operator
        )
    }

    #[cold]
    #[inline(never)]
    fn create_table<T: Table<K>, N: 'static, H: 'static>(&mut self, id: StateId) {
        let Some(state) = self.registry.get(id) else {
            panic!(
                "operator '{}' used a state handle it did not register ({id:?}); obtain handles in open() \
                 with RuntimeContext::get_state (a handle's Default is unregistered)",
                self.operator
            )
        };
        if state.handle_type != TypeId::of::<H>() {
            panic!(
                "a handle of state '{}' of operator '{}' has other types than the state ({}); handles belong \
                 to the operator that registered them",
                state.name,
                self.operator,
                std::any::type_name::<H>()
            )
        }
        let mut table = T::create(state, &self.operator);
        let name = state.name.to_string();
        if let Some(restored) = self.restored.remove(&name) {
            panic_on(self.load(&mut table, &restored));
        }
        let per_record_cleanup = table.meta().ttl.filter(|t| t.every_record).map_or(0, |t| t.incremental);
        self.per_record_cleanup |= per_record_cleanup > 0;
        if self.tables.len() <= id.index() {
            self.tables.resize_with(id.index() + 1, || None);
        }
        self.tables[id.index()] = Some(TableSlot {
            table: Box::new(table),
            table_type: TypeId::of::<T>(),
            namespace_type: std::any::type_name::<N>(),
            per_record_cleanup,
        });
    }

    /// Decodes restored entries into a new table.
    fn load(&self, table: &mut dyn ErasedTable<K>, restored: &RestoredState) -> Result<()> {
        let meta = table.meta();
        if meta.kind != restored.kind {
            return Err(StateError::RestoredKindMismatch {
                operator: self.operator.to_string(),
                name: meta.name.to_string(),
                restored: restored.kind,
                registered: meta.kind,
            });
        }
        for entry in &restored.entries {
            let (key, namespace, value) = entry.parts();
            table.restore_entry(
                RestoredEntry {
                    key,
                    namespace,
                    value,
                    stamped: restored.ttl_timestamps,
                    written_type: &restored.type_name,
                },
                restored.restored_at,
            )?;
        }
        Ok(())
    }

    /// Value state of `key` in `namespace`.
    #[inline]
    pub fn value_state<'a, V: Data, N: Namespace>(
        &'a mut self,
        handle: &ValueState<V>,
        key: &'a K,
        namespace: &'a N,
    ) -> ValueStateRef<'a, K, N, V> {
        let (table, clock) = self.table::<ValueTable<K, N, V>, N, ValueState<V>>(handle.id());
        ValueStateRef::heap(HeapValueRef::new(table, key, namespace, clock))
    }

    /// List state of `key` in `namespace`.
    #[inline]
    pub fn list_state<'a, T: Data, N: Namespace>(
        &'a mut self,
        handle: &ListState<T>,
        key: &'a K,
        namespace: &'a N,
    ) -> ListStateRef<'a, K, N, T> {
        let (table, clock) = self.table::<ListTable<K, N, T>, N, ListState<T>>(handle.id());
        ListStateRef::heap(HeapListRef { table, key, namespace, clock })
    }

    /// Map state of `key` in `namespace`.
    #[inline]
    pub fn map_state<'a, UK: Data + Hash + Eq, UV: Data, N: Namespace>(
        &'a mut self,
        handle: &MapState<UK, UV>,
        key: &'a K,
        namespace: &'a N,
    ) -> MapStateRef<'a, K, N, UK, UV> {
        let (table, clock) = self.table::<MapTable<K, N, UK, UV>, N, MapState<UK, UV>>(handle.id());
        MapStateRef::heap(HeapMapRef { table, key, namespace, clock })
    }

    /// Reducing state of `key` in `namespace`.
    #[inline]
    pub fn reducing_state<'a, T: Data, N: Namespace>(
        &'a mut self,
        handle: &ReducingState<T>,
        key: &'a K,
        namespace: &'a N,
    ) -> ReducingStateRef<'a, K, N, T> {
        let (table, clock) = self.table::<ReducingTable<K, N, T>, N, ReducingState<T>>(handle.id());
        ReducingStateRef::heap(HeapReducingRef { table, key, namespace, clock })
    }

    /// Aggregating state of `key` in `namespace`.
    #[inline]
    pub fn aggregating_state<'a, IN: 'static, ACC: Data, OUT: 'static, N: Namespace>(
        &'a mut self,
        handle: &AggregatingState<IN, ACC, OUT>,
        key: &'a K,
        namespace: &'a N,
    ) -> AggregatingStateRef<'a, K, N, IN, ACC, OUT> {
        let (table, clock) =
            self.table::<AggregatingTable<K, N, IN, ACC, OUT>, N, AggregatingState<IN, ACC, OUT>>(handle.id());
        AggregatingStateRef::heap(HeapAggregatingRef { table, key, namespace, clock })
    }

    /// Runs per-record incremental TTL cleanup for `records` processed records
    /// (states with `run_cleanup_for_every_record`); a no-op otherwise.
    #[inline]
    pub fn on_records(&mut self, records: usize) {
        if self.per_record_cleanup {
            let now = self.clock.current_timestamp();
            for slot in self.tables.iter_mut().flatten() {
                if slot.per_record_cleanup > 0 {
                    slot.table.cleanup_steps(slot.per_record_cleanup.saturating_mul(records), now);
                }
            }
        }
    }

    /// A full snapshot of every state, in the canonical format.
    pub fn snapshot(&self) -> Result<KeyedStateSnapshot> {
        let mut writer = KeyedSnapshotWriter::new(self.max_parallelism, self.key_group_range);
        self.write_snapshot(&mut writer)?;
        Ok(writer.finish())
    }

    /// Writes every state into `writer` (which an operator may also use for its
    /// timers); states are written in registration order, then restored states no
    /// one registered, unchanged. Expired entries are left out of states with
    /// full-snapshot cleanup.
    pub fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter) -> Result<()> {
        let now = self.clock.current_timestamp();
        for (index, state) in self.registry.states().iter().enumerate() {
            if let Some(Some(slot)) = self.tables.get(index) {
                let id = writer.begin_state_with(slot.table.meta().snapshot_info())?;
                slot.table.write_snapshot(writer, id, now)?;
            } else if !self.restored.contains_key(&*state.name) {
                writer.begin_state_with(
                    SnapshotStateInfo::new(&state.name, state.kind)
                        .with_type_name(state.type_name)
                        .with_ttl_timestamps(state.ttl.is_some()),
                )?;
            }
        }
        for (name, restored) in &self.restored {
            let id = writer.begin_state_with(
                SnapshotStateInfo::new(name, restored.kind)
                    .with_type_name(&restored.type_name)
                    .with_ttl_timestamps(restored.ttl_timestamps),
            )?;
            for entry in &restored.entries {
                let (key, namespace, value) = entry.parts();
                writer.raw_entry(id, entry.key_group as usize, key, namespace, value)?;
            }
        }
        Ok(())
    }

    /// Restores the entries of this backend's key groups from the snapshots of any
    /// number of old subtasks (of any parallelism, with the same max parallelism).
    /// States of kinds the backend does not hold (timers, internal) are skipped:
    /// their operators read them with a [`KeyedSnapshotReader`].
    pub fn restore<B: AsRef<[u8]>>(&mut self, snapshots: &[B]) -> Result<()> {
        let now = self.clock.current_timestamp();
        for snapshot in snapshots {
            let reader = KeyedSnapshotReader::new(snapshot.as_ref())?;
            if reader.max_parallelism() != self.max_parallelism {
                return Err(StateError::MaxParallelismMismatch {
                    operator: self.operator.to_string(),
                    snapshot: reader.max_parallelism(),
                    current: self.max_parallelism,
                });
            }
            // Where each of the snapshot's states goes: a created table or the pending entries.
            let mut targets: Vec<Option<Option<usize>>> = Vec::with_capacity(reader.states().len());
            for info in reader.states() {
                if !info.kind.is_backend_state() {
                    targets.push(None);
                    continue;
                }
                let created = self
                    .registry
                    .id_of(&info.name)
                    .map(StateId::index)
                    .filter(|&i| matches!(self.tables.get(i), Some(Some(_))));
                if let Some(i) = created {
                    let meta = self.tables[i].as_ref().expect("checked").table.meta();
                    if meta.kind != info.kind {
                        return Err(StateError::RestoredKindMismatch {
                            operator: self.operator.to_string(),
                            name: info.name.clone(),
                            restored: info.kind,
                            registered: meta.kind,
                        });
                    }
                } else {
                    let pending = self.restored.entry(info.name.clone()).or_insert_with(|| RestoredState {
                        kind: info.kind,
                        ttl_timestamps: info.ttl_timestamps,
                        type_name: info.type_name.clone(),
                        restored_at: now,
                        entries: Vec::new(),
                    });
                    if pending.kind != info.kind || pending.ttl_timestamps != info.ttl_timestamps {
                        return Err(StateError::RestoredKindMismatch {
                            operator: self.operator.to_string(),
                            name: info.name.clone(),
                            restored: info.kind,
                            registered: pending.kind,
                        });
                    }
                }
                targets.push(Some(created));
            }
            for entry in reader.entries(self.key_group_range) {
                let entry = entry?;
                let info = &reader.states()[entry.state.index()];
                match targets[entry.state.index()] {
                    None => {}
                    Some(Some(i)) => {
                        let slot = self.tables[i].as_mut().expect("checked above");
                        slot.table.restore_entry(
                            RestoredEntry {
                                key: entry.key,
                                namespace: entry.namespace,
                                value: entry.value,
                                stamped: info.ttl_timestamps,
                                written_type: &info.type_name,
                            },
                            now,
                        )?;
                    }
                    Some(None) => {
                        let mut bytes = Vec::with_capacity(entry.key.len() + entry.namespace.len() + entry.value.len());
                        bytes.extend_from_slice(entry.key);
                        bytes.extend_from_slice(entry.namespace);
                        bytes.extend_from_slice(entry.value);
                        self.restored.get_mut(&info.name).expect("inserted above").entries.push(PendingEntry {
                            key_group: entry.key_group as u32,
                            key_len: entry.key.len() as u32,
                            namespace_len: entry.namespace.len() as u32,
                            bytes: bytes.into_boxed_slice(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::{ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor};

    fn backend() -> HashMapStateBackend<String> {
        HashMapStateBackend::new(128, KeyGroupRange::for_operator_index(128, 1, 0)).with_operator_name("Counter")
    }

    #[test]
    fn state_is_per_key_and_namespace() {
        let mut b = backend();
        let count = b.register(&ValueStateDescriptor::<u64>::new("count")).unwrap();
        let (a, z) = ("a".to_string(), "z".to_string());
        b.value_state(&count, &a, &1u32).update(1);
        b.value_state(&count, &a, &2u32).update(2);
        b.value_state(&count, &z, &1u32).update(3);
        assert_eq!(b.value_state(&count, &a, &1u32).value(), Some(&1));
        assert_eq!(b.value_state(&count, &a, &2u32).value(), Some(&2));
        assert_eq!(b.value_state(&count, &z, &1u32).value(), Some(&3));
        b.value_state(&count, &a, &1u32).clear();
        assert_eq!(b.value_state(&count, &a, &1u32).value(), None);
        assert_eq!(b.entry_count("count"), 2);
    }

    #[test]
    fn lists_and_maps_are_removed_when_empty() {
        let mut b = backend();
        let list = b.register(&ListStateDescriptor::<i32>::new("list")).unwrap();
        let map = b.register(&MapStateDescriptor::<String, i32>::new("map")).unwrap();
        let k = "k".to_string();
        b.list_state(&list, &k, &()).add_all([1, 2]);
        b.list_state(&list, &k, &()).update(vec![]);
        assert!(b.list_state(&list, &k, &()).get().is_empty());
        assert_eq!(b.entry_count("list"), 0);
        let mut m = b.map_state(&map, &k, &());
        m.put("x".into(), 1);
        assert_eq!(m.remove("x"), Some(1));
        assert!(m.is_empty());
        assert_eq!(b.entry_count("map"), 0);
    }

    #[test]
    #[should_panic(expected = "is used with namespace type u8 but was first used with ()")]
    fn a_state_has_one_namespace_type() {
        let mut b = backend();
        let count = b.register(&ValueStateDescriptor::<u64>::new("count")).unwrap();
        let k = "k".to_string();
        b.value_state(&count, &k, &()).update(1);
        b.value_state(&count, &k, &0u8).update(1);
    }

    #[test]
    #[should_panic(expected = "obtain handles in open() with RuntimeContext::get_state")]
    fn an_unregistered_handle_says_where_to_register() {
        let mut b = backend();
        let k = "k".to_string();
        b.value_state(&ValueState::<u64>::default(), &k, &()).update(1);
    }
}
