//! The keyed state backend an operator holds: one enum over the backends, so that
//! operators and user functions are written once for all of them.
//!
//! Two variants: [`HashMapStateBackend`] (always) and `RocksDbStateBackend`
//! (feature `rocksdb`). The state references ([`ValueStateRef`], …) are enums over
//! the two backends' references, so user code names neither. See
//! `docs/design/state.md`.

use crate::descriptor::StateDescriptor;
use crate::error::Result;
use crate::handle::{AggregatingState, ListState, MapState, ReducingState, ValueState};
use crate::heap::{HashMapStateBackend, Namespace, StateKey};
use crate::registry::KeyedStateRegistry;
#[cfg(feature = "rocksdb")]
use crate::rocksdb::RocksDbStateBackend;
use crate::snapshot::{KeyedSnapshotWriter, KeyedStateSnapshot};
use crate::state_ref::{AggregatingStateRef, ListStateRef, MapStateRef, ReducingStateRef, ValueStateRef};
use brook_types::Data;
use brook_types::key_group::KeyGroupRange;
use std::hash::Hash;

/// The keyed state of one operator subtask (`state.backend.type`).
#[derive(Debug)]
pub enum KeyedStateBackend<K> {
    /// `hashmap`: typed, in memory.
    HashMap(HashMapStateBackend<K>),
    /// `rocksdb`: serialized, in an embedded RocksDB per operator subtask.
    #[cfg(feature = "rocksdb")]
    RocksDb(RocksDbStateBackend<K>),
}

/// Calls the same method on whichever backend `$value` is.
macro_rules! dispatch {
    ($value:expr, $b:ident => $call:expr) => {
        match $value {
            KeyedStateBackend::HashMap($b) => $call,
            #[cfg(feature = "rocksdb")]
            KeyedStateBackend::RocksDb($b) => $call,
        }
    };
}

impl<K: StateKey> From<HashMapStateBackend<K>> for KeyedStateBackend<K> {
    fn from(backend: HashMapStateBackend<K>) -> Self {
        KeyedStateBackend::HashMap(backend)
    }
}

#[cfg(feature = "rocksdb")]
impl<K: StateKey> From<RocksDbStateBackend<K>> for KeyedStateBackend<K> {
    fn from(backend: RocksDbStateBackend<K>) -> Self {
        KeyedStateBackend::RocksDb(backend)
    }
}

impl<K: StateKey> KeyedStateBackend<K> {
    /// The RocksDB backend, if this is one (for its incremental checkpoints).
    #[cfg(feature = "rocksdb")]
    pub fn as_rocksdb_mut(&mut self) -> Option<&mut RocksDbStateBackend<K>> {
        match self {
            KeyedStateBackend::RocksDb(b) => Some(b),
            KeyedStateBackend::HashMap(_) => None,
        }
    }

    /// `hashmap` or `rocksdb`, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            KeyedStateBackend::HashMap(_) => "hashmap",
            #[cfg(feature = "rocksdb")]
            KeyedStateBackend::RocksDb(_) => "rocksdb",
        }
    }

    pub fn max_parallelism(&self) -> usize {
        dispatch!(self, b => b.max_parallelism())
    }

    pub fn key_group_range(&self) -> KeyGroupRange {
        dispatch!(self, b => b.key_group_range())
    }

    pub fn register<D: StateDescriptor>(&mut self, descriptor: &D) -> Result<D::Handle> {
        dispatch!(self, b => b.register(descriptor))
    }

    /// The number of (key, namespace) entries of state `name`, for tests and
    /// metrics (the RocksDB backend scans the state).
    pub fn entry_count(&self, name: &str) -> usize {
        dispatch!(self, b => b.entry_count(name))
    }

    pub fn registry_mut(&mut self) -> &mut KeyedStateRegistry {
        dispatch!(self, b => b.registry_mut())
    }

    #[inline]
    pub fn value_state<'a, V: Data, N: Namespace>(
        &'a mut self,
        handle: &ValueState<V>,
        key: &'a K,
        namespace: &'a N,
    ) -> ValueStateRef<'a, K, N, V> {
        dispatch!(self, b => b.value_state(handle, key, namespace))
    }

    #[inline]
    pub fn list_state<'a, T: Data, N: Namespace>(
        &'a mut self,
        handle: &ListState<T>,
        key: &'a K,
        namespace: &'a N,
    ) -> ListStateRef<'a, K, N, T> {
        dispatch!(self, b => b.list_state(handle, key, namespace))
    }

    #[inline]
    pub fn map_state<'a, UK: Data + Hash + Eq, UV: Data, N: Namespace>(
        &'a mut self,
        handle: &MapState<UK, UV>,
        key: &'a K,
        namespace: &'a N,
    ) -> MapStateRef<'a, K, N, UK, UV> {
        dispatch!(self, b => b.map_state(handle, key, namespace))
    }

    #[inline]
    pub fn reducing_state<'a, T: Data, N: Namespace>(
        &'a mut self,
        handle: &ReducingState<T>,
        key: &'a K,
        namespace: &'a N,
    ) -> ReducingStateRef<'a, K, N, T> {
        dispatch!(self, b => b.reducing_state(handle, key, namespace))
    }

    #[inline]
    pub fn aggregating_state<'a, IN: 'static, ACC: Data, OUT: 'static, N: Namespace>(
        &'a mut self,
        handle: &AggregatingState<IN, ACC, OUT>,
        key: &'a K,
        namespace: &'a N,
    ) -> AggregatingStateRef<'a, K, N, IN, ACC, OUT> {
        dispatch!(self, b => b.aggregating_state(handle, key, namespace))
    }

    /// Per-record TTL cleanup; call once per batch with its length.
    #[inline]
    pub fn on_records(&mut self, records: usize) {
        dispatch!(self, b => b.on_records(records))
    }

    pub fn snapshot(&self) -> Result<KeyedStateSnapshot> {
        dispatch!(self, b => b.snapshot())
    }

    pub fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter) -> Result<()> {
        dispatch!(self, b => b.write_snapshot(writer))
    }

    pub fn restore<B: AsRef<[u8]>>(&mut self, snapshots: &[B]) -> Result<()> {
        dispatch!(self, b => b.restore(snapshots))
    }
}
